//! Turning reqwest's errors into [`TransportError`]s that say what happened and whether a
//! retry can help, without leaking credentials.
//!
//! reqwest's own `Display` appends the full request URL, query string included, and a
//! query string may carry a code or a token. Messages here are built from scratch by
//! http-common's [`RequestLabel`]: the request's method, origin and path, then the causes
//! reported by the layers under reqwest (hyper, the connector, the OS, rustls), which
//! describe sockets and protocols, not requests; the label scrubs the request's query
//! string, user info and longer header values from every message as a second line of
//! defence. Whether a retry can help, and whether the server speaks TLS at all, follow
//! http-common's shared [rules](http_common::failure) for the hyper and rustls errors
//! under reqwest ([`HyperRustls`]); this module only sorts reqwest's own error kinds.

use std::time::Duration;

use auth_core::{TransportError, TransportErrorKind};
use http_common::{HyperRustls, RequestLabel, error_chain};

/// Maps a reqwest error from building, sending or reading `label`'s request.
pub(crate) fn map(label: &RequestLabel, err: reqwest::Error, timeout: Duration) -> TransportError {
    // The URL goes first: nothing below may print it.
    let err = err.without_url();
    let kind = if err.is_builder() {
        TransportErrorKind::InvalidRequest
    } else if err.is_connect() {
        // Checked before the timeout: a connect timeout is a connect failure, and
        // "nothing reached the server" is the more useful thing to know.
        TransportErrorKind::Connect
    } else if err.is_timeout() {
        TransportErrorKind::Timeout
    } else {
        TransportErrorKind::Other
    };
    let transport_error = if kind == TransportErrorKind::Timeout {
        label.timed_out(timeout)
    } else {
        label.failure(kind, causes(&err), &err, &HyperRustls)
    };
    transport_error.with_source(err)
}

/// The wrapped client followed a redirect on its own; see
/// [`ReqwestTransport::from_client`](crate::ReqwestTransport::from_client).
pub(crate) fn redirect_followed(label: &RequestLabel) -> TransportError {
    label
        .error(
            TransportErrorKind::Other,
            "the reqwest client followed a redirect; build it with \
             reqwest::redirect::Policy::none() so that redirects reach the caller",
        )
        .with_retryable(false)
}

/// The causes under a reqwest error, joined: `tcp connect error: Connection refused`.
///
/// reqwest's own text ("error sending request") says nothing the error kind does not, so
/// it is used only when there is nothing underneath.
fn causes(err: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in error_chain::causes(err).skip(1) {
        let text = cause.to_string();
        // Wrappers often repeat their source's text (an `io::Error` shows the error it
        // wraps); keep it once.
        if !text.is_empty() && parts.last().is_none_or(|last| !last.contains(&text)) {
            parts.push(text);
        }
    }
    if parts.is_empty() {
        err.to_string()
    } else {
        parts.join(": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_followed_redirect_is_not_retryable() {
        let request = http::Request::post("http://127.0.0.1/t")
            .body(bytes::Bytes::new())
            .unwrap();
        let error = redirect_followed(&RequestLabel::of(&request));
        assert_eq!(error.kind(), TransportErrorKind::Other);
        assert!(!error.is_retryable(), "{error}");
    }
}
