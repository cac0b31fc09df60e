//! The crate's one error type.
//!
//! Variants are named for what the caller can do: fix the query or the configuration
//! ([`Error::InvalidQuery`], [`Error::InvalidConfig`]), check the credentials
//! ([`Error::Auth`], [`Error::Unauthorized`]), try again later ([`Error::Transport`],
//! [`Error::RateLimited`], [`Error::Server`] when [`Error::is_retryable`]), or report a
//! misbehaving server ([`Error::UnexpectedBody`], [`Error::InvalidResponse`]).
//!
//! No variant carries a secret: the client secret and access tokens never reach an error
//! message, and body snippets pass through [`auth_core::response::snippet`], which masks
//! anything that looks like a credential.

use std::time::Duration;

use http::StatusCode;

/// Everything that can go wrong talking to the Communico Client API.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The query cannot be sent: an impossible date (`2016-11-31`), an end before the
    /// start, a page size of zero. Nothing was sent.
    #[error("invalid query: {reason}")]
    InvalidQuery {
        /// What is wrong.
        reason: String,
    },

    /// The client is misconfigured (a base URL that is not `https` or loopback, missing
    /// credentials or transport). Nothing was sent.
    #[error("invalid configuration: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: String,
    },

    /// No access token could be obtained: wrong client key or secret (`invalid_client`),
    /// the token endpoint unreachable or answering nonsense.
    #[error("could not obtain an access token: {0}")]
    Auth(#[source] auth_core::Error),

    /// The API rejected a fresh access token too (`401` twice in a row): the key may lack
    /// access to this endpoint, or was disabled.
    #[error("the API rejected the access token (HTTP {status}) even after fetching a new one")]
    Unauthorized {
        /// The status of the last answer.
        status: StatusCode,
    },

    /// The request got no complete HTTP answer (connection refused, timeout, oversized
    /// body). [`Error::is_retryable`] says whether trying again may help.
    #[error(transparent)]
    Transport(#[from] auth_core::TransportError),

    /// The API asked to slow down (`429`) and the retry layer gave up.
    #[error("rate limited by the API (HTTP 429){}", retry_after_suffix(.retry_after))]
    RateLimited {
        /// How long the server asked to wait, if it said.
        retry_after: Option<Duration>,
    },

    /// The thing asked for does not exist (`404`, or an error envelope with code 404).
    #[error("not found: {what}")]
    NotFound {
        /// What was asked for (path, without the query string).
        what: String,
    },

    /// The API reported an error: an error HTTP status, or a `2xx` answer whose envelope
    /// carries an error `status` or `code`.
    #[error("the API reported an error (HTTP {status}{}){}", code_suffix(.code), message_suffix(.message))]
    Server {
        /// The HTTP status of the answer (possibly `2xx` when only the envelope said so).
        status: StatusCode,
        /// The envelope's `code`, if any.
        code: Option<i64>,
        /// The envelope's message (or `status` text), or a snippet of the body.
        message: String,
    },

    /// The server answered with a redirect (`3xx`). Redirects are never followed, so that
    /// credentials go only where the base URL says; `location` is where it pointed,
    /// without its query or user info. The base URL is probably out of date (an `http`
    /// URL redirected to `https`, or a moved host).
    #[error("the API answered with a redirect (HTTP {status}){}, which is not followed", location_suffix(.location))]
    Redirected {
        /// The HTTP status.
        status: StatusCode,
        /// The `Location` the server named, if any, without query or user info.
        location: Option<String>,
    },

    /// The answer is not the API's: not JSON at all (an HTML error page from a proxy,
    /// plain text, nothing), or JSON with none of the envelope's members. The base URL
    /// may point at something else.
    #[error("the API answered something that is not JSON (HTTP {status}{}){}", ct_suffix(.content_type), message_suffix(.snippet))]
    UnexpectedBody {
        /// The HTTP status.
        status: StatusCode,
        /// The declared `Content-Type`, if any.
        content_type: Option<String>,
        /// The start of the body, credential-like values masked.
        snippet: String,
    },

    /// The listing kept changing while it was read: every one of `passes` passes over it
    /// saw entries shift, appear twice or the `total` change, so entries may be missing
    /// although none was handed out twice. Reading it again later may succeed.
    #[error(
        "the listing kept changing while it was read ({passes} passes, {received} entries \
         received): some may be missing; try again"
    )]
    ListingUnstable {
        /// How many passes were made.
        passes: u32,
        /// How many distinct entries were handed out.
        received: u64,
    },

    /// The answer is the API's envelope but not of the expected shape (a missing `data`, a
    /// page whose `entries` is not a list), JSON cut short, or a listing the API paged
    /// inconsistently. The base URL is right; the answer was not.
    #[error("invalid response from the API (HTTP {status}): {reason}")]
    InvalidResponse {
        /// The HTTP status.
        status: StatusCode,
        /// What did not parse.
        reason: String,
    },
}

fn retry_after_suffix(retry_after: &Option<Duration>) -> String {
    retry_after
        .map(|d| format!(", retry after {}s", d.as_secs()))
        .unwrap_or_default()
}

fn code_suffix(code: &Option<i64>) -> String {
    code.map(|c| format!(", code {c}")).unwrap_or_default()
}

fn ct_suffix(content_type: &Option<String>) -> String {
    content_type
        .as_deref()
        .map(|ct| format!(", {ct}"))
        .unwrap_or_default()
}

fn message_suffix(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

impl Error {
    /// Whether repeating the same call later may succeed: transport failures the
    /// transport marks retryable, rate limiting and `5xx` answers.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport(e) => e.is_retryable(),
            Error::Auth(e) => e.is_retryable(),
            Error::RateLimited { .. } => true,
            Error::Server { status, .. } | Error::UnexpectedBody { status, .. } => {
                status.is_server_error()
            }
            _ => false,
        }
    }

    /// The HTTP status behind this error, when there was an answer.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Unauthorized { status }
            | Error::Server { status, .. }
            | Error::UnexpectedBody { status, .. }
            | Error::InvalidResponse { status, .. } => Some(*status),
            Error::RateLimited { .. } => Some(StatusCode::TOO_MANY_REQUESTS),
            Error::NotFound { .. } => Some(StatusCode::NOT_FOUND),
            Error::Auth(e) => e.status(),
            _ => None,
        }
    }

    pub(crate) fn invalid_query(reason: impl Into<String>) -> Self {
        Error::InvalidQuery {
            reason: reason.into(),
        }
    }

    pub(crate) fn invalid_config(reason: impl Into<String>) -> Self {
        Error::InvalidConfig {
            reason: reason.into(),
        }
    }
}

impl From<auth_core::Error> for Error {
    /// Token-fetch failures, except a bare transport failure, which stays a transport
    /// error so callers retry it the same way wherever it happened.
    fn from(error: auth_core::Error) -> Self {
        match error {
            auth_core::Error::Transport(t) => Error::Transport(t),
            auth_core::Error::InsecureUrl { url } => Error::InvalidConfig {
                reason: format!("refusing to send credentials to {url}: use https"),
            },
            other => Error::Auth(other),
        }
    }
}

fn location_suffix(location: &Option<String>) -> String {
    location
        .as_deref()
        .map(|l| format!(" to {l}"))
        .unwrap_or_default()
}
