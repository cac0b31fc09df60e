//! How hyper's and hyper-util's errors become [`TransportError`]s.
//!
//! Which failures a retry can help is http-common's shared
//! [rules](http_common::failure), the same for both backends, over the error types of
//! hyper and rustls ([`HyperRustls`]); this module sorts hyper's errors into kinds:
//! - anything that failed before a connection existed (DNS, TCP, TLS handshake, the
//!   connect timeout) is [`TransportErrorKind::Connect`]: nothing reached the server, so a
//!   retry is safe even for a non-idempotent request. It is retryable, except when the
//!   server's certificate was rejected: asking again does not make it valid;
//! - the total timeout is [`TransportErrorKind::Timeout`]: retryable, but the server may
//!   have acted on the request;
//! - a connection that broke under the exchange (closed early, reset) is
//!   [`TransportErrorKind::Other`] and retryable: it is what happens when a server drops an
//!   idle keep-alive connection just as it is reused, and a fresh connection may well
//!   succeed. Whether sending again is *safe* is the request's idempotency, which the
//!   retry layer checks;
//! - a garbled answer (not HTTP) is [`TransportErrorKind::Other`] and not retryable;
//! - a body that does not decode (a corrupt gzip stream) is [`TransportErrorKind::Other`]
//!   and not retryable;
//! - messages name the origin (`scheme://host:port`, an http-common
//!   [`RequestLabel::origin_of`]) and the innermost cause only: never the path, the query
//!   string, user info, a header or a body, which may carry credentials (and the label
//!   scrubs those from the message should a cause repeat them).

use std::error::Error as StdError;
use std::fmt;

use auth_core::{TransportError, TransportErrorKind};
use http_common::error_chain::{find_cause, innermost_cause};
use http_common::{HyperRustls, RequestLabel};

use crate::connect::{BoxError, ConnectTimedOut};

/// Where in the exchange an error happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Establishing the connection (resolve, TCP, TLS).
    Connect,
    /// Sending the request or reading the response head.
    Exchange,
    /// Reading the response body.
    Body,
}

/// A failed `Client::request`.
pub(crate) fn request_error(
    label: &RequestLabel,
    err: hyper_util::client::legacy::Error,
) -> TransportError {
    let stage = if err.is_connect() {
        Stage::Connect
    } else {
        Stage::Exchange
    };
    describe(label, stage, &err).with_source(err)
}

/// A failure while reading or decoding the response body.
pub(crate) fn body_error(label: &RequestLabel, err: BoxError) -> TransportError {
    let err = BodyError(err);
    describe(label, Stage::Body, &err).with_source(err)
}

/// The decoding layer's body error (hyper's, or the decoder's `io::Error`), as an error
/// type of its own so that it can be a [`TransportError`]'s source.
#[derive(Debug)]
struct BodyError(BoxError);

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("reading the response body failed")
    }
}

impl StdError for BodyError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.0)
    }
}

/// The kind and message for `err` at `stage`, without the source attached.
pub(crate) fn describe(
    label: &RequestLabel,
    stage: Stage,
    err: &(dyn StdError + 'static),
) -> TransportError {
    let cause = innermost_cause(err);
    if stage == Stage::Connect {
        let detail = match find_cause::<ConnectTimedOut>(err) {
            Some(timed_out) => timed_out.to_string(),
            None => cause.to_string(),
        };
        return label.failure(TransportErrorKind::Connect, detail, err, &HyperRustls);
    }
    let during = match stage {
        Stage::Body => "while reading the response body",
        _ => "before a complete response head",
    };
    let (kind, detail) = match find_cause::<hyper::Error>(err) {
        Some(h) if h.is_timeout() => (TransportErrorKind::Timeout, format!("timed out {during}")),
        Some(h) if h.is_incomplete_message() => (
            TransportErrorKind::Other,
            format!("the connection closed {during}"),
        ),
        Some(h) if h.is_parse() => (
            TransportErrorKind::Other,
            format!("the response is not valid HTTP: {cause}"),
        ),
        Some(h) if h.is_user() => (
            TransportErrorKind::InvalidRequest,
            format!("the request cannot be sent: {cause}"),
        ),
        _ => (
            TransportErrorKind::Other,
            format!("failed {during}: {cause}"),
        ),
    };
    label.failure(kind, detail, err, &HyperRustls)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A wrapper error, like hyper-util's "tcp connect error".
    #[derive(Debug, thiserror::Error)]
    #[error("wrapper adds nothing")]
    struct Wrapper(#[source] Box<dyn StdError + Send + Sync>);

    /// The label of a request to `uri`, as the transport makes it.
    fn label_of(uri: &str) -> RequestLabel {
        RequestLabel::origin_of(&http::Request::get(uri).body(()).unwrap())
    }

    fn origin() -> RequestLabel {
        label_of("https://api.example.test:8443/token?x=1")
    }

    #[test]
    fn connect_failures_are_retryable_connect_errors_with_the_innermost_cause() {
        let refused = Wrapper(Box::new(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        )));
        let err = describe(&origin(), Stage::Connect, &refused);
        assert_eq!(err.kind(), TransportErrorKind::Connect);
        assert!(err.is_retryable());
        assert!(err.is_connect());
        assert_eq!(
            err.to_string(),
            "could not connect: https://api.example.test:8443: connection refused"
        );
    }

    #[test]
    fn a_connect_timeout_is_a_connect_error_that_says_it_timed_out() {
        let timed_out = Wrapper(Box::new(ConnectTimedOut(Duration::from_secs(3))));
        let err = describe(&origin(), Stage::Connect, &timed_out);
        assert_eq!(err.kind(), TransportErrorKind::Connect);
        assert!(err.is_retryable());
        assert!(
            err.to_string().ends_with("no connection within 3s"),
            "{err}"
        );
    }

    #[test]
    fn a_rejected_certificate_is_a_connect_error_not_worth_retrying() {
        let rejected = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        // As tokio-rustls reports it: an io::Error around the rustls error, under the
        // connector's own wrapper.
        let wrapped = Wrapper(Box::new(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rejected,
        )));
        let err = describe(&origin(), Stage::Connect, &wrapped);
        assert_eq!(err.kind(), TransportErrorKind::Connect);
        assert!(err.is_connect());
        assert!(!err.is_retryable());
        assert!(err.to_string().contains("UnknownIssuer"), "{err}");

        let handshake = Wrapper(Box::new(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::DecryptError,
        )));
        let err = describe(&origin(), Stage::Connect, &handshake);
        assert!(
            err.is_retryable(),
            "only certificate rejections are final: {err}"
        );
    }

    #[test]
    fn a_broken_connection_after_connecting_is_a_retryable_other_error() {
        let cases = [
            (std::io::ErrorKind::ConnectionReset, true),
            (std::io::ErrorKind::ConnectionAborted, true),
            (std::io::ErrorKind::BrokenPipe, true),
            (std::io::ErrorKind::UnexpectedEof, true),
            (std::io::ErrorKind::InvalidData, false),
            (std::io::ErrorKind::PermissionDenied, false),
        ];
        for (io_kind, retryable) in cases {
            let cause = Wrapper(Box::new(std::io::Error::from(io_kind)));
            for stage in [Stage::Exchange, Stage::Body] {
                let err = describe(&origin(), stage, &cause);
                assert_eq!(
                    err.kind(),
                    TransportErrorKind::Other,
                    "{io_kind:?} {stage:?}"
                );
                assert_eq!(err.is_retryable(), retryable, "{io_kind:?} {stage:?}");
            }
        }
    }

    #[test]
    fn the_total_timeout_is_a_retryable_timeout() {
        // As the transport reports it when its deadline passes.
        let err = origin().timed_out(Duration::from_millis(250));
        assert_eq!(err.kind(), TransportErrorKind::Timeout);
        assert!(err.is_retryable());
        assert_eq!(
            err.to_string(),
            "timed out: https://api.example.test:8443: no complete response within 250ms"
        );
    }

    #[test]
    fn messages_never_contain_the_path_or_query() {
        let secret_uri = "https://example.test/cb?code=s3cr3t&state=s3cr3t";
        let cause = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        for stage in [Stage::Connect, Stage::Exchange, Stage::Body] {
            let err = describe(&label_of(secret_uri), stage, &cause);
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("s3cr3t"), "{shown}");
            assert!(!shown.contains("/cb"), "{shown}");
        }
    }
}
