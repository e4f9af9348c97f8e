//! Who may open a session: the single user configured with `weft serve --auth`.
//!
//! Owns: the [`Credentials`] type, parsing `USER:PASSWORD` and checking a client's Bolt
//! [`Auth`] against it. Promises to the backend: a mismatch of any kind (wrong scheme,
//! user or password) is the same `Neo.ClientError.Security.Unauthorized` failure, the
//! comparison takes the same time whichever byte differs, and the password never reaches
//! a log through `{:?}`. Without credentials configured the server accepts anyone; that
//! decision belongs to the caller, which simply has no [`Credentials`] to check.

use std::fmt;
use std::str::FromStr;

use subtle::ConstantTimeEq;
use weft_bolt::{Auth, BackendError};

/// The status code Neo4j sends for failed authentication.
pub const UNAUTHORIZED: &str = "Neo.ClientError.Security.Unauthorized";

/// The one user and password the server accepts.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    user: String,
    password: String,
}

/// Why a `USER:PASSWORD` argument is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    #[error("expected USER:PASSWORD, with a colon between the user and the password")]
    MissingColon,
    #[error("the user name before the colon is empty; write USER:PASSWORD")]
    EmptyUser,
}

impl Credentials {
    /// Credentials for `user` with `password`.
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials {
            user: user.into(),
            password: password.into(),
        }
    }

    /// The user name (never secret).
    pub fn user(&self) -> &str {
        &self.user
    }

    /// Accepts `auth` only with the `basic` scheme and this user and password.
    pub fn verify(&self, auth: &Auth) -> Result<(), BackendError> {
        let principal = auth.principal.as_deref().unwrap_or_default();
        let password = auth.credentials.as_deref().unwrap_or_default();
        // `&` rather than `&&`: both comparisons always run.
        let matches =
            self.user.as_bytes().ct_eq(principal.as_bytes()) & self.password.as_bytes().ct_eq(password.as_bytes());
        if auth.scheme == "basic" && bool::from(matches) {
            Ok(())
        } else {
            Err(BackendError::new(
                UNAUTHORIZED,
                "The client is unauthorized due to authentication failure: use the basic scheme with the user and password the server was started with (--auth)",
            ))
        }
    }
}

impl FromStr for Credentials {
    type Err = CredentialsError;

    /// Splits at the first colon, so the password may contain colons.
    fn from_str(text: &str) -> Result<Credentials, CredentialsError> {
        let (user, password) = text.split_once(':').ok_or(CredentialsError::MissingColon)?;
        if user.is_empty() {
            return Err(CredentialsError::EmptyUser);
        }
        Ok(Credentials::new(user, password))
    }
}

/// The password never reaches logs through `{:?}`.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user: &str, password: &str) -> Auth {
        Auth {
            scheme: "basic".into(),
            principal: Some(user.into()),
            credentials: Some(password.into()),
        }
    }

    #[test]
    fn parses_user_and_password_with_colons() {
        let credentials: Credentials = "neo4j:pa:ss".parse().expect("valid");
        assert_eq!(credentials, Credentials::new("neo4j", "pa:ss"));
        assert_eq!("nocolon".parse::<Credentials>(), Err(CredentialsError::MissingColon));
        assert_eq!(":pw".parse::<Credentials>(), Err(CredentialsError::EmptyUser));
    }

    #[test]
    fn verifies_scheme_user_and_password() {
        let credentials = Credentials::new("neo4j", "secret");
        assert!(credentials.verify(&basic("neo4j", "secret")).is_ok());
        assert!(credentials.verify(&basic("neo4j", "secreT")).is_err());
        assert!(credentials.verify(&basic("neo4", "secret")).is_err());
        let none = Auth {
            scheme: "none".into(),
            principal: None,
            credentials: None,
        };
        let error = credentials.verify(&none).expect_err("scheme none is refused");
        assert_eq!(error.code, UNAUTHORIZED);
        assert!(!format!("{credentials:?}").contains("secret"));
    }
}
