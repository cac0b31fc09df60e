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
        "timed out waiting for another process to finish refreshing the session (store {path})"
    )]
    SessionLocked {
        /// The store: its lock file or its `redis://` URL and key.
        path: String,
    },
    // GraphQL errors (graphql.rs).
    /// The GraphQL server refused the operation: it returned no data, or (for a typed
    /// operation) data that the errors left too incomplete to fit the generated type. Each
    /// entry of `errors` has the message, path, locations and extensions: fix the
    /// operation or its variables, or ask for access (an `extensions.code` such as
    /// `FORBIDDEN`). Partial data that does fit is not this error: it is a partial
    /// [`Response`](crate::graphql::Response).
    #[error("{}", crate::graphql::errors_summary(.status, .errors))]
    GraphQl {
        /// The HTTP status of the answer (`200`, or `4xx` under GraphQL over HTTP).
        status: http::StatusCode,
        /// The server's `errors`, in its order.
        errors: Vec<crate::graphql::GraphQlError>,
        /// Whatever `data` the server did send (`null` when none), kept so that nothing
        /// it answered is lost.
        data: serde_json::Value,
    },

    /// The GraphQL endpoint answered an HTTP error without a GraphQL body (`404`, `429`,
    /// `503`, ...). Check the endpoint URL; `429` and `5xx` are worth trying again later.
    #[error("the GraphQL endpoint answered HTTP {status}{}{}", crate::graphql::content_type_suffix(.content_type), if .snippet.is_empty() { String::new() } else { format!(": {}", .snippet) })]
    HttpStatus {
        /// The HTTP status.
        status: http::StatusCode,
        /// The declared content type, if any.
        content_type: Option<String>,
        /// The start of the body, credentials masked.
        snippet: String,
    },

    /// The GraphQL endpoint answered an HTML page instead of GraphQL: a proxy or gateway
    /// error page (often `502`/`503` while the service is down) or a login page. Try again
    /// later, or check that the endpoint URL is the API's and not a website's.
    #[error("the GraphQL endpoint answered an HTML page (HTTP {status}{}): {snippet}", crate::graphql::content_type_suffix(.content_type))]
    HtmlPage {
        /// The HTTP status.
        status: http::StatusCode,
        /// The declared content type, if any.
        content_type: Option<String>,
        /// The start of the page, credentials masked.
        snippet: String,
    },

    /// The GraphQL endpoint is busy or down: it answered `429 Too Many Requests`, `502`,
    /// `503` or `504` (with GraphQL `errors` or not). This is the server's state, not a
    /// fault of the operation: try again later, after `retry_after` when given.
    #[error("{}", crate::graphql::try_later_summary(.status, .retry_after, .errors, .snippet))]
    TryLater {
        /// The HTTP status.
        status: http::StatusCode,
        /// The wait the server asked for (`Retry-After` in seconds), if any.
        retry_after: Option<std::time::Duration>,
        /// The server's GraphQL `errors`, if the body held any.
        errors: Vec<crate::graphql::GraphQlError>,
        /// The start of a body that held no GraphQL errors, credentials masked.
        snippet: String,
    },

    /// The GraphQL endpoint gave no complete answer: the connection was refused, the
    /// name did not resolve, TLS failed, or it did not answer in time. Check the endpoint
    /// URL and the network, then try again.
    #[error("no answer from the GraphQL endpoint {endpoint}: {source}")]
    ApiUnreachable {
        /// The endpoint, without query or user info.
        endpoint: String,
        /// The transport's failure, which says whether a retry may help.
        #[source]
        source: auth_core::TransportError,
    },

    /// The endpoint answered success with something that is not a GraphQL response, or
    /// with `data` that does not fit the generated type (the schema in `schemas/` may be
    /// out of date: `cargo xtask schema pull`, then `cargo xtask codegen`).
    #[error("invalid GraphQL response: {reason}")]
    InvalidGraphQlResponse {
        /// What is wrong.
        reason: String,
    },

    /// The operation's variables could not be encoded as JSON. Nothing was sent.
    #[error("the GraphQL variables cannot be encoded as JSON: {reason}")]
    InvalidVariables {
        /// Why.
        reason: String,
    },
}

impl From<auth_core::Error> for Error {
    fn from(err: auth_core::Error) -> Self {
        match err {
            auth_core::Error::LoginRequired { reason } => Error::LoginRequired { reason },
            auth_core::Error::LockTimedOut { store, .. } => Error::SessionLocked { path: store },
            other => Error::Auth(other),
        }
    }
}

impl From<auth_core::TransportError> for Error {
    fn from(err: auth_core::TransportError) -> Self {
        Error::Auth(err.into())
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
