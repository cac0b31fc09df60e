//! Turning reqwest's errors into [`TransportError`]s that say what happened and whether a
//! retry can help, without leaking credentials.
//!
//! reqwest's own `Display` appends the full request URL, query string included, and a
//! query string may carry a code or a token. Messages here are built from scratch by
//! auth-core's [`RequestLabel`]: the request's method, origin and path, then the causes
//! reported by the layers under reqwest (hyper, the connector, the OS, rustls), which
//! describe sockets and protocols, not requests; the label scrubs the request's query
//! string, user info and longer header values from every message as a second line of
//! defence. Whether a retry can help follows auth-core's shared
//! [rules](auth_core::transport::failure); this module only recognises the error types of
//! the stack under reqwest for them.

use std::error::Error as StdError;
use std::time::Duration;

use auth_core::transport::error_chain;
use auth_core::transport::failure::BackendErrors;
use auth_core::transport::{RequestLabel, TransportError, TransportErrorKind};

/// The error types of the stack under reqwest, as the shared retry rules need them
/// recognised.
struct Stack;

impl BackendErrors for Stack {
    fn is_certificate_rejection(&self, cause: &(dyn StdError + 'static)) -> bool {
        matches!(
            cause.downcast_ref::<rustls::Error>(),
            Some(rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented)
        )
    }

    fn is_connection_closed(&self, cause: &(dyn StdError + 'static)) -> bool {
        cause.downcast_ref::<hyper::Error>().is_some_and(|hyper| {
            hyper.is_incomplete_message() || hyper.is_canceled() || hyper.is_closed()
        })
    }
}

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
        label.failure(kind, causes(&err), &err, &Stack)
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

/// No Tokio runtime is running on this thread.
pub(crate) fn no_runtime(label: &RequestLabel) -> TransportError {
    label
        .error(
            TransportErrorKind::Other,
            "the reqwest transport must run inside a Tokio runtime",
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
    use std::io;

    use auth_core::transport::failure;

    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] io::Error);

    #[test]
    fn a_certificate_rejection_is_recognised_inside_nested_io_errors() {
        let nested = Outer(io::Error::other(io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        )));
        assert!(failure::is_certificate_rejected(&nested, &Stack));
        assert!(!failure::is_retryable(
            TransportErrorKind::Connect,
            &nested,
            &Stack
        ));
        let plain = Outer(io::Error::from(io::ErrorKind::ConnectionRefused));
        assert!(!failure::is_certificate_rejected(&plain, &Stack));
        assert!(failure::is_retryable(
            TransportErrorKind::Connect,
            &plain,
            &Stack
        ));
        // Other handshake failures may pass on another try.
        let handshake = Outer(io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::DecryptError,
        ));
        assert!(!failure::is_certificate_rejected(&handshake, &Stack));
    }

    #[test]
    fn redirect_followed_and_no_runtime_are_not_retryable() {
        let request = http::Request::post("http://127.0.0.1/t")
            .body(bytes::Bytes::new())
            .unwrap();
        let label = RequestLabel::of(&request);
        for error in [redirect_followed(&label), no_runtime(&label)] {
            assert_eq!(error.kind(), TransportErrorKind::Other);
            assert!(!error.is_retryable(), "{error}");
        }
    }
}
