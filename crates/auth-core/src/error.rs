//! The crate's one error type.
//!
//! Variants are named for what the caller can do about them: fix the configuration
//! ([`Error::InsecureUrl`], [`Error::InvalidConfig`]), try again later
//! ([`Error::Transport`] when [`Error::is_retryable`]), log in again
//! ([`Error::LoginRequired`]), or report a misbehaving server
//! ([`Error::UnexpectedResponse`], [`Error::InvalidResponse`]).
//!
//! No variant ever carries a secret: response snippets are only taken from non-success
//! answers and pass through [`crate::response::snippet`], which masks anything that looks
//! like a credential.

use std::sync::Arc;

use http::StatusCode;

use crate::oauth_error::OAuthError;
use crate::transport::TransportError;

/// Everything that can go wrong in `auth-core`.
///
/// `Error` is `Clone` so that a single failed token fetch can be handed to every caller
/// that was waiting on it (see [`crate::CachingProvider`]).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request never got a complete HTTP answer: connection refused, timeout, an
    /// oversized body. [`Error::is_retryable`] says whether trying again can help.
    #[error(transparent)]
    Transport(#[from] TransportError),

    /// A URL that would carry credentials is not `https` and not a loopback address.
    /// Nothing was sent.
    #[error(
        "refusing to send credentials to {url}: use https (plain http is allowed only to loopback addresses)"
    )]
    InsecureUrl {
        /// The offending URL, without query or fragment.
        url: String,
    },

    /// A URL or setting given to this crate is not usable.
    #[error("invalid configuration: {reason}")]
    InvalidConfig {
        /// What is wrong, in one sentence.
        reason: String,
    },

    /// The authorization server answered with an RFC 6749 §5.2 error body (for example
    /// `invalid_client`: check the client id and secret).
    #[error(transparent)]
    OAuth(#[from] OAuthError),

    /// The stored grant can no longer be used (refresh token expired, revoked or reused):
    /// the user must log in again. The stored session has been cleared where the caller
    /// asked for that.
    #[error("the session has expired or was revoked: log in again{}", .reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default())]
    LoginRequired {
        /// The server's explanation, when it gave one.
        reason: Option<String>,
    },

    /// The server answered something that is not the expected kind of document: an HTML
    /// error page, plain text, an unexpected status.
    #[error("unexpected response (HTTP {status}{}){}", content_type_suffix(.content_type), snippet_suffix(.snippet))]
    UnexpectedResponse {
        /// The HTTP status of the answer.
        status: StatusCode,
        /// The `Content-Type` the server declared, if any.
        content_type: Option<String>,
        /// The start of the body, with anything that looks like a credential masked.
        /// Empty for successful answers, whose bodies may hold tokens.
        snippet: String,
    },

    /// The server answered JSON of the right kind, but a field is missing or has the
    /// wrong type. The message names the field, never its value.
    #[error("invalid response from the server: {reason}")]
    InvalidResponse {
        /// What is wrong, naming the field but never a value.
        reason: String,
    },

    /// The authorization callback cannot be trusted: the `state` does not match, the
    /// issuer (`iss`, RFC 9207) is wrong, or a parameter is missing. Start the login
    /// again.
    #[error("the authorization callback was rejected: {reason}")]
    CallbackRejected {
        /// Why, without the values of `code` or `state`.
        reason: String,
    },

    /// The authorization server's metadata does not describe the issuer the client was
    /// configured with, or lacks an endpoint the flow needs.
    #[error("the authorization server metadata is unusable: {reason}")]
    Discovery {
        /// Why.
        reason: String,
    },

    /// The token store could not be read or written.
    #[error("token store {}: {reason}", .path.as_deref().unwrap_or("(in memory)"))]
    Store {
        /// The file involved, if the store is file-based.
        path: Option<String>,
        /// What went wrong.
        reason: String,
        /// The underlying I/O error, if any.
        #[source]
        source: Option<Arc<std::io::Error>>,
    },

    /// The token store's file exists but does not hold a session this crate wrote. It was
    /// left untouched: move it away or delete it to start afresh.
    #[error(
        "token store {path} is corrupt ({reason}); it was left untouched: remove it to log in afresh"
    )]
    StoreCorrupt {
        /// The file.
        path: String,
        /// What did not parse (never the file's contents).
        reason: String,
    },

    /// The server issued a token of a type this client does not implement (for example
    /// `DPoP` or `MAC`, which need a proof with every request). RFC 6749 §7.1: a client
    /// must not use a token whose type it does not understand, so nothing was sent. Ask
    /// the server for `Bearer` tokens.
    #[error(
        "the server issued a `{token_type}` token; this client sends only `Bearer` tokens (RFC 6750), so nothing was sent"
    )]
    UnsupportedTokenType {
        /// The `token_type` the server sent (printable characters only, at most 40).
        token_type: String,
    },

    /// The token source did not answer within the load timeout: a hung token endpoint or
    /// store. The next call tries again after the back-off; a token still valid is served
    /// meanwhile.
    #[error("no token within {seconds} s (the token source's load timeout)")]
    FetchTimedOut {
        /// The timeout, in seconds.
        seconds: u64,
    },

    /// The shared token store (named by `store`: a directory or a `redis://` URL) cannot
    /// be reached, and the token cannot be obtained safely without it: a rotating
    /// refresh token is never spent without the store's lock, since two holders spending
    /// it would revoke the grant. The stored session was kept; try again when the store
    /// is back.
    #[error(
        "the token store {store} is unavailable ({reason}); the session was kept, try again when it is back"
    )]
    StoreUnavailable {
        /// The store: its file, directory or URL (without password).
        store: String,
        /// What failed.
        reason: String,
    },

    /// Another process held the store's refresh lock for longer than this one waits (the
    /// `lock_timeout`), and stored no new token meanwhile. Try again; if it persists, a
    /// holder is stuck.
    #[error("timed out after {seconds} s waiting for the refresh lock of the token store {store}")]
    LockTimedOut {
        /// The store: its lock file or `redis://` URL.
        store: String,
        /// How long this process waited, in seconds.
        seconds: u64,
    },
}

fn content_type_suffix(content_type: &Option<String>) -> String {
    content_type
        .as_deref()
        .map(|ct| format!(", {ct}"))
        .unwrap_or_default()
}

fn snippet_suffix(snippet: &str) -> String {
    if snippet.is_empty() {
        String::new()
    } else {
        format!(": {snippet}")
    }
}

impl Error {
    /// Whether repeating the same request later may succeed: transient transport
    /// failures, and server errors that RFC 6749 marks as temporary
    /// (`temporarily_unavailable`, `server_error`).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport(e) => e.is_retryable(),
            Error::OAuth(e) => e.is_retryable(),
            Error::UnexpectedResponse { status, .. } => {
                status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS
            }
            Error::FetchTimedOut { .. }
            | Error::StoreUnavailable { .. }
            | Error::LockTimedOut { .. } => true,
            _ => false,
        }
    }

    /// The HTTP status of the answer behind this error, when there was one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::OAuth(e) => e.status,
            Error::UnexpectedResponse { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub(crate) fn invalid_response(reason: impl Into<String>) -> Self {
        Error::InvalidResponse {
            reason: reason.into(),
        }
    }

    pub(crate) fn invalid_config(reason: impl Into<String>) -> Self {
        Error::InvalidConfig {
            reason: reason.into(),
        }
    }

    pub(crate) fn callback(reason: impl Into<String>) -> Self {
        Error::CallbackRejected {
            reason: reason.into(),
        }
    }

    pub(crate) fn discovery(reason: impl Into<String>) -> Self {
        Error::Discovery {
            reason: reason.into(),
        }
    }
}
