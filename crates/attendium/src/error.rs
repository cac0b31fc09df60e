//! The crate's one error type.

use std::sync::Arc;

/// Everything that can go wrong talking to Attendium.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An OAuth or transport failure from `auth-core` (network, server refusal,
    /// malformed answer, insecure URL).
    #[error(transparent)]
    Auth(auth_core::Error),

    /// There is no usable session: never logged in, logged out, or the server rejected
    /// the refresh token (expired, revoked, reused). Log in again.
    #[error("not logged in to Attendium{}: log in again", .reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default())]
    LoginRequired {
        /// Why, when known.
        reason: Option<String>,
    },

    /// The browser login did not complete: the callback never came, or the loopback
    /// listener could not be opened. Start the login again (with another `--port` if the
    /// port is taken).
    #[error("the browser login did not complete: {0}")]
    Loopback(#[source] Arc<auth_loopback::Error>),

    /// The authorization server cannot be used for this flow (no registration endpoint,
    /// no PKCE `S256`, no authorization-code grant).
    #[error("the Attendium authorization server cannot be used: {reason}")]
    UnsupportedServer {
        /// What is missing.
        reason: String,
    },

    /// Another process held the session lock for too long.
    #[error(
        "timed out waiting for another process to finish refreshing the session (lock file {path})"
    )]
    SessionLocked {
        /// The lock file.
        path: String,
    },
    // GraphQL errors (graphql.rs).
}

impl From<auth_core::Error> for Error {
    fn from(err: auth_core::Error) -> Self {
        match err {
            auth_core::Error::LoginRequired { reason } => Error::LoginRequired { reason },
            other => Error::Auth(other),
        }
    }
}

impl From<auth_loopback::Error> for Error {
    fn from(err: auth_loopback::Error) -> Self {
        Error::Loopback(Arc::new(err))
    }
}

impl Error {
    /// Whether the user must log in (again) before anything else can work.
    pub fn is_login_required(&self) -> bool {
        matches!(self, Error::LoginRequired { .. })
    }
}
