//! The proxy's settings: the `weft proxy` flags and the checked configuration made of them.
//!
//! Owns: parsing `--members h:p,h:p,...` and `--auth USER:PASSWORD`, and the defaults.
//! Promises: a [`ProxyConfig`] names at least one member, each once, each as `host:port`.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;
use weft_client::Credentials;

use crate::error::ProxyError;

/// Client connections served at once unless `--max-connections` says otherwise.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// The flags of `weft proxy`. No `Debug`: `--auth` holds a password.
#[derive(Args, Clone)]
pub struct ProxyArgs {
    /// The cluster's members' Bolt addresses, `host:port,host:port,...`; the proxy finds the
    /// leader among them (and a leader outside the list by its advertised address).
    #[arg(long, env = "WEFT_PROXY_MEMBERS", value_name = "HOST:PORT,...")]
    pub members: String,
    /// Address to accept Bolt clients on.
    #[arg(long, env = "WEFT_PROXY_LISTEN", default_value = "127.0.0.1:7680")]
    pub listen: SocketAddr,
    /// Client connections served at once; further clients are turned away until one closes.
    #[arg(long, env = "WEFT_PROXY_MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Seconds between two asks of the members for the leader and their health (`SHOW
    /// CLUSTER`); a refused write or a lost leader also asks at once.
    #[arg(long, env = "WEFT_PROXY_REFRESH", value_name = "SECONDS", default_value_t = 2.0)]
    pub refresh: f64,
    /// Seconds the proxy waits for one answer of a member before it fails the request
    /// (a member that stopped answering); longer than the members' 30 s consistency waits.
    #[arg(
        long,
        env = "WEFT_PROXY_ANSWER_TIMEOUT",
        value_name = "SECONDS",
        default_value_t = 60
    )]
    pub answer_timeout: u64,
    /// The user and password the proxy's own `SHOW CLUSTER` asks log on with, when the
    /// members require authentication; without it, those of the latest client that logged on.
    #[arg(long, env = "WEFT_PROXY_AUTH", value_name = "USER:PASSWORD", hide_env_values = true)]
    pub auth: Option<String>,
}

/// What [`crate::Proxy::start`] needs, checked. No `Debug`: it holds a password.
#[derive(Clone)]
pub struct ProxyConfig {
    /// The members' Bolt addresses, `host:port`, in the order given.
    pub members: Vec<String>,
    pub listen: SocketAddr,
    pub max_connections: usize,
    /// Time between two background refreshes of the leader and the members' health.
    pub refresh: Duration,
    /// Longest wait for one answer of a member.
    pub answer_timeout: Duration,
    /// Credentials of the discovery queries; `None`: the latest client's.
    pub discovery_credentials: Option<Credentials>,
}

impl ProxyConfig {
    /// A configuration with the default settings for `members`, listening on `listen`.
    pub fn new(members: Vec<String>, listen: SocketAddr) -> ProxyConfig {
        ProxyConfig {
            members,
            listen,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            refresh: Duration::from_secs(2),
            answer_timeout: Duration::from_secs(60),
            discovery_credentials: None,
        }
    }
}

impl ProxyArgs {
    /// The checked configuration of these flags.
    pub fn config(&self) -> Result<ProxyConfig, ProxyError> {
        if !(self.refresh.is_finite() && self.refresh > 0.0) {
            return Err(ProxyError::Settings(format!(
                "--refresh must be a positive number of seconds, got {}",
                self.refresh
            )));
        }
        if self.max_connections == 0 || self.answer_timeout == 0 {
            return Err(ProxyError::Settings(
                "--max-connections and --answer-timeout must be at least 1".into(),
            ));
        }
        let discovery_credentials = self.auth.as_deref().map(parse_auth).transpose()?;
        Ok(ProxyConfig {
            members: parse_members(&self.members)?,
            listen: self.listen,
            max_connections: self.max_connections,
            refresh: Duration::from_secs_f64(self.refresh),
            answer_timeout: Duration::from_secs(self.answer_timeout),
            discovery_credentials,
        })
    }
}

/// `host:port,host:port,...` to the list of addresses; a `bolt://` or `neo4j://` prefix
/// is dropped. Every entry needs a host and a port, and none may repeat.
pub fn parse_members(text: &str) -> Result<Vec<String>, ProxyError> {
    let mut members: Vec<String> = Vec::new();
    for entry in text.split(',').map(str::trim) {
        let bare = ["bolt://", "neo4j://"]
            .iter()
            .find_map(|scheme| entry.strip_prefix(scheme))
            .unwrap_or(entry)
            .trim_end_matches('/');
        let wrong = |why: &str| ProxyError::Members(format!("`{entry}` {why}; expected host:port,host:port,..."));
        let Some((host, port)) = bare.rsplit_once(':') else {
            return Err(wrong("names no port"));
        };
        if host.is_empty() {
            return Err(wrong("names no host"));
        }
        if port.parse::<u16>().map_or(true, |port| port == 0) {
            return Err(wrong("has no valid port"));
        }
        if members.iter().any(|known| known == bare) {
            return Err(wrong("is given twice"));
        }
        members.push(bare.to_string());
    }
    Ok(members)
}

/// `USER:PASSWORD` as basic credentials.
fn parse_auth(text: &str) -> Result<Credentials, ProxyError> {
    let (user, password) = text
        .split_once(':')
        .filter(|(user, _)| !user.is_empty())
        .ok_or_else(|| ProxyError::Settings("--auth must be USER:PASSWORD".into()))?;
    Ok(Credentials {
        user: Some(user.to_string()),
        password: Some(password.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_host_port_pairs_in_order() {
        let parsed = parse_members("127.0.0.1:7687, bolt://db2:7688,neo4j://[::1]:7689/").unwrap();
        assert_eq!(parsed, ["127.0.0.1:7687", "db2:7688", "[::1]:7689"]);
    }

    #[test]
    fn members_without_a_port_host_or_with_repeats_are_refused() {
        for wrong in [
            "",
            "db1",
            "db1:",
            ":7687",
            "db1:70000",
            "db1:0",
            "db1:7687,,db2:7687",
            "a:1,a:1",
        ] {
            let refused = parse_members(wrong);
            assert!(
                matches!(refused, Err(ProxyError::Members(_))),
                "{wrong:?} gave {refused:?}"
            );
        }
    }

    #[test]
    fn auth_is_user_colon_password() {
        let credentials = parse_auth("neo:s3:cret").unwrap();
        assert_eq!(credentials.user.as_deref(), Some("neo"));
        assert_eq!(credentials.password.as_deref(), Some("s3:cret"));
        assert!(parse_auth("nopassword").is_err());
        assert!(parse_auth(":x").is_err());
    }
}
