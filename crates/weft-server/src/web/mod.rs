//! The web side of `--http-address`: Neo4j's HTTP query API ([`api`]) and the console
//! served at `/` ([`assets`]), with the checks every request of theirs passes.
//!
//! Owns: [`Web`] (what the handlers share), the router of these routes, the same-origin
//! rule, HTTP basic authentication against the server's `--auth` user, and the console's
//! two JSON endpoints (`/console/config`, `/console/cluster`).
//! Promises:
//! - on a loopback listener, a request whose `Host` is not a loopback name or address is
//!   refused with 403 (a DNS re-binding page cannot reach the API);
//! - a request that carries an `Origin` other than the server's own (the `Host` it was
//!   sent to) is refused with 403, unless `--http-allow-origin` names that origin; an
//!   allowed one gets the CORS headers and its preflight an answer;
//! - with `--auth`, every API call and `/console/cluster` needs the user's `Basic`
//!   credentials, checked before the request's body is read (401 otherwise, the same `Neo.ClientError.Security.Unauthorized` Bolt
//!   sends); a request marked `X-Requested-With` gets no `WWW-Authenticate` challenge, so
//!   the console shows its own login form instead of the browser's;
//! - only one database exists: `/db/{name}` with another name is `DatabaseNotFound`.

mod answer;
mod api;
mod assets;
mod results;
mod transactions;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine as _;
use serde_json::json;
use tokio::sync::{watch, Semaphore};
use weft_bolt::{Auth, BackendError};

use crate::auth::Credentials;
use crate::node::Node;

/// The one database's name in `/db/{name}` (what `SHOW DATABASES` lists).
pub const DATABASE: &str = "neo4j";

/// Default of `--http-transaction-timeout`: Neo4j's idle timeout for HTTP transactions.
pub const DEFAULT_TRANSACTION_TIMEOUT: Duration = Duration::from_secs(60);

/// Largest request body taken (statements and their parameters).
const MAX_BODY: usize = 64 << 20;

/// What the web handlers share; cheap to clone.
#[derive(Clone)]
pub struct Web {
    node: Node,
    credentials: Option<Arc<Credentials>>,
    /// The server's worker permits, shared with Bolt.
    workers: Arc<Semaphore>,
    allow_origin: Option<String>,
    /// Listening on a loopback address: only loopback names may be in `Host`.
    loopback: bool,
    transaction_timeout: Duration,
    transactions: Arc<transactions::Transactions>,
}

/// The settings of the web side.
#[derive(Clone, Debug, Default)]
pub struct WebConfig {
    /// An origin (`scheme://host:port`) allowed to call the API from its pages.
    pub allow_origin: Option<String>,
    /// How long an open HTTP transaction may stay unused before it is rolled back.
    pub transaction_timeout: Option<Duration>,
}

impl Web {
    pub fn new(node: Node, credentials: Option<Arc<Credentials>>, workers: Arc<Semaphore>, config: &WebConfig) -> Web {
        Web {
            node,
            credentials,
            workers,
            allow_origin: config.allow_origin.clone(),
            loopback: false,
            transaction_timeout: config.transaction_timeout.unwrap_or(DEFAULT_TRANSACTION_TIMEOUT),
            transactions: Arc::default(),
        }
    }

    /// Tells the rules which address the HTTP listener has (see [`guard`]).
    pub fn listening_on(mut self, address: std::net::SocketAddr) -> Web {
        self.loopback = address.ip().is_loopback();
        self
    }

    /// The API and console routes, behind [`guard`].
    pub fn router(self, stopped: watch::Receiver<bool>) -> Router {
        tokio::spawn(transactions::reap(self.clone(), stopped));
        let guarded = self.clone();
        Router::new()
            .route("/db/{db}/tx/commit", post(api::commit_now))
            .route("/db/{db}/tx", post(api::open))
            .route("/db/{db}/tx/{id}", post(api::run_open).delete(api::roll_back))
            .route("/db/{db}/tx/{id}/commit", post(api::commit_open))
            .route("/console/config", get(config))
            .route("/console/cluster", get(cluster))
            .route("/", get(assets::index))
            .route("/console/{*path}", get(assets::file))
            .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
            .with_state(self)
            .layer(axum::middleware::from_fn_with_state(guarded, guard))
    }

    /// Checks the database name and the credentials of a request; the `Auth` its session
    /// authenticates with.
    fn admit(&self, db: &str, headers: &HeaderMap) -> Result<Auth, Box<Response>> {
        if db != DATABASE {
            let error = BackendError::new(
                "Neo.ClientError.Database.DatabaseNotFound",
                format!("there is no database {db:?}; this server has one, {DATABASE:?}"),
            );
            return Err(Box::new(error_body(StatusCode::NOT_FOUND, &error)));
        }
        self.authenticate(headers)
    }

    fn authenticate(&self, headers: &HeaderMap) -> Result<Auth, Box<Response>> {
        let auth = basic_auth(headers);
        let Some(credentials) = &self.credentials else {
            return Ok(auth);
        };
        match credentials.verify(&auth) {
            Ok(()) => Ok(auth),
            Err(mut error) => {
                if auth.scheme == "none" {
                    error.message = "this server requires a user and password (HTTP basic authentication)".into();
                }
                let mut response = error_body(StatusCode::UNAUTHORIZED, &error);
                if !headers.contains_key("x-requested-with") {
                    response.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static("Basic realm=\"Weft\""),
                    );
                }
                Err(Box::new(response))
            }
        }
    }
}

/// The `Auth` of an `Authorization: Basic` header; scheme `none` without one (or with
/// one that cannot be read, which then fails as wrong credentials would).
fn basic_auth(headers: &HeaderMap) -> Auth {
    let none = Auth {
        scheme: "none".into(),
        principal: None,
        credentials: None,
    };
    let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return none;
    };
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Auth {
            scheme: value.to_ascii_lowercase(),
            ..none
        };
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    match (
        scheme.eq_ignore_ascii_case("basic"),
        decoded.as_deref().and_then(|d| d.split_once(':')),
    ) {
        (true, Some((user, password))) => Auth {
            scheme: "basic".into(),
            principal: Some(user.to_string()),
            credentials: Some(password.to_string()),
        },
        _ => Auth {
            scheme: scheme.to_ascii_lowercase(),
            ..none
        },
    }
}

/// A response whose body is Neo4j's error list with one error.
fn error_body(status: StatusCode, error: &BackendError) -> Response {
    let body = json!({"results": [], "errors": [{"code": error.code, "message": error.message}]});
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// Whether `host` (a `Host` header: name or address, and maybe a port) names this
/// machine's loopback interface.
fn loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The rules every web request passes before its body is read: the `Host` rule, the
/// same-origin rule (see the module docs, and CORS for the allowed origin), and the
/// credentials of the API and the cluster endpoint.
async fn guard(State(web): State<Web>, request: Request, next: Next) -> Response {
    let host = request.headers().get(header::HOST).and_then(|v| v.to_str().ok());
    // A server on loopback is reached by loopback names only: a page that re-binds its
    // own DNS name to 127.0.0.1 sends that name, and is refused.
    if let Some(host) = host.filter(|host| web.loopback && !loopback_host(host)) {
        let error = BackendError::new(
            "Neo.ClientError.Security.Forbidden",
            format!("a request for host {host:?} is refused: this server listens on a loopback address, so only localhost names reach it"),
        );
        return error_body(StatusCode::FORBIDDEN, &error);
    }
    let path = request.uri().path();
    if (path.starts_with("/db/") || path == "/console/cluster") && request.method() != Method::OPTIONS {
        if let Err(refused) = web.authenticate(request.headers()) {
            return *refused;
        }
    }
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let Some(origin) = origin else {
        return next.run(request).await;
    };
    let allowed = web.allow_origin.clone();
    let host = request.headers().get(header::HOST).and_then(|v| v.to_str().ok());
    let own = host.is_some_and(|host| origin == format!("http://{host}") || origin == format!("https://{host}"));
    if own {
        return next.run(request).await;
    }
    if allowed.as_deref() != Some(origin.as_str()) {
        let error = BackendError::new(
            "Neo.ClientError.Security.Forbidden",
            format!(
                "a request from a page of {origin} is refused: only this server's own pages may call it \
                 (start the server with --http-allow-origin {origin} to allow that origin)"
            ),
        );
        return error_body(StatusCode::FORBIDDEN, &error);
    }
    let mut response = if request.method() == Method::OPTIONS {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    }
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, DELETE, OPTIONS"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Authorization, Content-Type, X-Requested-With"),
    );
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Location"),
    );
    response
}

/// `GET /console/config`: what the console needs before its user logs in.
async fn config(State(web): State<Web>) -> Response {
    let body = json!({
        "auth_required": web.credentials.is_some(),
        "version": env!("CARGO_PKG_VERSION"),
        "database": DATABASE,
    });
    ([(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// `GET /console/cluster`: the replication or Raft members as `SHOW REPLICAS` or
/// `SHOW CLUSTER` lists them, and this server's role.
async fn cluster(State(web): State<Web>, headers: HeaderMap) -> Response {
    let auth = match web.authenticate(&headers) {
        Ok(auth) => auth,
        Err(refused) => return *refused,
    };
    const RAFT: &[&str] = &["id", "bolt_address", "role", "lag", "health"];
    const REPLICAS: &[&str] = &["name", "socket_address", "sync_mode", "state", "behind", "last_error"];
    let (mode, role, statement, shown) = if let Some(member) = web.node.raft() {
        let role = member.status().map_or("unknown", |(status, _)| status.role);
        ("raft", role.to_string(), Some("SHOW CLUSTER"), RAFT)
    } else if web
        .node
        .replication()
        .is_some_and(|r| web.node.role() == crate::Role::Replica || !r.replicas().is_empty())
    {
        let role = web.node.role().name().to_string();
        ("replication", role, Some("SHOW REPLICAS"), REPLICAS)
    } else {
        ("single", web.node.role().name().to_string(), None, RAFT)
    };
    let members = match statement {
        None => Ok(serde_json::Value::Null),
        Some(statement) => api::table(&web, auth, statement).await.map(|t| members_view(t, shown)),
    };
    match members {
        Ok(members) => {
            let body = json!({"mode": mode, "role": role, "members": members});
            ([(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
        }
        Err(response) => *response,
    }
}

/// The columns of a members table the cluster view shows, in `shown`'s order; `lag` is
/// how many log entries a member has applied fewer than the furthest one.
fn members_view(table: serde_json::Value, shown: &[&str]) -> serde_json::Value {
    let columns: Vec<&str> = table["columns"]
        .as_array()
        .map(|c| c.iter().filter_map(|c| c.as_str()).collect())
        .unwrap_or_default();
    let rows = table["rows"].as_array().cloned().unwrap_or_default();
    let applied = columns.iter().position(|c| *c == "applied_index");
    let newest = applied.and_then(|at| rows.iter().filter_map(|r| r[at].as_i64()).max());
    let cell = |row: &serde_json::Value, name: &str| match (name, applied, newest) {
        ("lag", Some(at), Some(newest)) => row[at].as_i64().map_or(serde_json::Value::Null, |i| json!(newest - i)),
        _ => columns
            .iter()
            .position(|c| *c == name)
            .map_or(serde_json::Value::Null, |at| row[at].clone()),
    };
    let shown: Vec<&str> = shown
        .iter()
        .copied()
        .filter(|name| columns.contains(name) || (*name == "lag" && applied.is_some()))
        .collect();
    let rows: Vec<serde_json::Value> = rows
        .iter()
        .map(|row| shown.iter().map(|name| cell(row, name)).collect())
        .collect();
    json!({"columns": shown, "rows": rows})
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn the_cluster_view_keeps_its_columns_and_counts_the_lag() {
        let table = json!({
            "columns": ["id", "raft_address", "role", "applied_index", "health"],
            "rows": [[1, "a:1", "leader", 40, "up"], [2, "a:2", "follower", 37, "up"], [3, "a:3", "follower", null, "down"]],
        });
        let view = super::members_view(table, &["id", "role", "applied_index", "lag", "health", "absent"]);
        assert_eq!(view["columns"], json!(["id", "role", "applied_index", "lag", "health"]));
        assert_eq!(view["rows"][1], json!([2, "follower", 37, 3, "up"]));
        assert_eq!(view["rows"][2][3], json!(null));
    }
}
