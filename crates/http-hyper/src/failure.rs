//! How hyper's and hyper-util's errors become [`TransportError`]s.
//!
//! The rules, shared in spirit with every auth-core transport:
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
//! - messages name the origin (`scheme://host:port`) and the innermost cause only: never
//!   the path, the query string, user info, a header or a body, which may carry
//!   credentials.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use auth_core::transport::{TransportError, TransportErrorKind};
use http::Uri;

use crate::connect::ConnectTimedOut;

/// The part of a URL that is safe to show: scheme, host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin(String);

impl Origin {
    /// The origin of `uri`, without user info, path or query.
    pub(crate) fn of(uri: &Uri) -> Self {
        let scheme = uri.scheme_str().unwrap_or("http");
        let host = uri.host().unwrap_or("");
        match uri.port_u16() {
            Some(port) => Origin(format!("{scheme}://{host}:{port}")),
            None => Origin(format!("{scheme}://{host}")),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

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
    origin: &Origin,
    err: hyper_util::client::legacy::Error,
) -> TransportError {
    let stage = if err.is_connect() {
        Stage::Connect
    } else {
        Stage::Exchange
    };
    describe(origin, stage, &err).with_source(err)
}

/// A failure while reading the response body.
pub(crate) fn body_error(origin: &Origin, err: hyper::Error) -> TransportError {
    describe(origin, Stage::Body, &err).with_source(err)
}

/// The whole exchange took longer than `after`.
pub(crate) fn total_timeout(origin: &Origin, after: Duration) -> TransportError {
    TransportError::new(
        TransportErrorKind::Timeout,
        format!("{origin}: no complete response within {after:?}"),
    )
}

/// The kind and message for `err` at `stage`, without the source attached.
pub(crate) fn describe(
    origin: &Origin,
    stage: Stage,
    err: &(dyn StdError + 'static),
) -> TransportError {
    let cause = innermost(err);
    if stage == Stage::Connect {
        let message = match find::<ConnectTimedOut>(err) {
            Some(timed_out) => format!("{origin}: {timed_out}"),
            None => format!("{origin}: {cause}"),
        };
        return TransportError::new(TransportErrorKind::Connect, message)
            .with_retryable(!has_certificate_error(err));
    }
    let during = match stage {
        Stage::Body => "while reading the response body",
        _ => "before a complete response head",
    };
    match find::<hyper::Error>(err) {
        Some(h) if h.is_timeout() => TransportError::new(
            TransportErrorKind::Timeout,
            format!("{origin}: timed out {during}"),
        ),
        Some(h) if h.is_incomplete_message() => TransportError::new(
            TransportErrorKind::Other,
            format!("{origin}: the connection closed {during}"),
        )
        .with_retryable(true),
        Some(h) if h.is_parse() => TransportError::new(
            TransportErrorKind::Other,
            format!("{origin}: the response is not valid HTTP: {cause}"),
        ),
        Some(h) if h.is_user() => TransportError::new(
            TransportErrorKind::InvalidRequest,
            format!("{origin}: the request cannot be sent: {cause}"),
        ),
        _ => TransportError::new(
            TransportErrorKind::Other,
            format!("{origin}: failed {during}: {cause}"),
        )
        .with_retryable(is_broken_connection(err)),
    }
}

/// Whether the TLS handshake failed on the server's certificate (unknown issuer, expired,
/// wrong name, none presented).
fn has_certificate_error(err: &(dyn StdError + 'static)) -> bool {
    causes(err).any(|cause| {
        matches!(
            cause.downcast_ref::<rustls::Error>(),
            Some(rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented)
        )
    })
}

/// Whether the connection broke under the exchange: hyper saw it close or be cancelled,
/// or the socket was reset, aborted or ended early.
fn is_broken_connection(err: &(dyn StdError + 'static)) -> bool {
    causes(err).any(|cause| {
        if let Some(h) = cause.downcast_ref::<hyper::Error>() {
            return h.is_incomplete_message() || h.is_canceled() || h.is_closed();
        }
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| {
            matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::UnexpectedEof
            )
        })
    })
}

/// `err` and its causes, looking inside `io::Error`s: `io::Error::source` skips the error
/// it wraps (tokio-rustls reports a rejected certificate as an `io::Error` around a
/// `rustls::Error`), so the wrapped error is visited instead.
fn causes<'a>(
    err: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(err), |&current| {
        match current
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            Some(wrapped) => Some(wrapped as &(dyn StdError + 'static)),
            None => current.source(),
        }
    })
}

/// The first error of type `E` among `err`'s causes, `err` included.
fn find<'a, E: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a E> {
    causes(err).find_map(|cause| cause.downcast_ref::<E>())
}

/// The last of `err`'s causes: the most specific description ("Connection refused",
/// "invalid peer certificate: UnknownIssuer"). The wrappers above it ("client error
/// (Connect)", "tcp connect error") add nothing a reader can use.
fn innermost<'a>(err: &'a (dyn StdError + 'static)) -> &'a (dyn StdError + 'static) {
    causes(err).last().unwrap_or(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wrapper error, like hyper-util's "tcp connect error".
    #[derive(Debug)]
    struct Wrapper(Box<dyn StdError + Send + Sync>);

    impl fmt::Display for Wrapper {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("wrapper adds nothing")
        }
    }

    impl StdError for Wrapper {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&*self.0)
        }
    }

    fn origin() -> Origin {
        Origin::of(&Uri::from_static("https://api.example.test:8443/token?x=1"))
    }

    #[test]
    fn origin_keeps_only_scheme_host_and_port() {
        let cases = [
            (
                "https://api.example.test/token?secret=s3cr3t",
                "https://api.example.test",
            ),
            ("http://127.0.0.1:8080/a/b?c=d#e", "http://127.0.0.1:8080"),
            (
                "https://user:s3cr3t@example.test:444/p",
                "https://example.test:444",
            ),
            ("http://[::1]:9000/?code=s3cr3t", "http://[::1]:9000"),
        ];
        for (uri, expected) in cases {
            let origin = Origin::of(&uri.parse::<Uri>().unwrap());
            assert_eq!(origin.to_string(), expected, "{uri}");
        }
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
    fn the_innermost_cause_is_found_inside_io_errors() {
        let nested = Wrapper(Box::new(std::io::Error::other(Wrapper(Box::new(
            std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
        )))));
        assert_eq!(innermost(&nested).to_string(), "connection refused");
        assert!(find::<Wrapper>(&nested).is_some());
        assert!(find::<ConnectTimedOut>(&nested).is_none());
    }

    #[test]
    fn the_total_timeout_is_a_retryable_timeout() {
        let err = total_timeout(&origin(), Duration::from_millis(250));
        assert_eq!(err.kind(), TransportErrorKind::Timeout);
        assert!(err.is_retryable());
        assert_eq!(
            err.to_string(),
            "timed out: https://api.example.test:8443: no complete response within 250ms"
        );
    }

    #[test]
    fn messages_never_contain_the_path_or_query() {
        let secret_uri = Uri::from_static("https://example.test/cb?code=s3cr3t&state=s3cr3t");
        let cause = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        for stage in [Stage::Connect, Stage::Exchange, Stage::Body] {
            let err = describe(&Origin::of(&secret_uri), stage, &cause);
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("s3cr3t"), "{shown}");
            assert!(!shown.contains("/cb"), "{shown}");
        }
    }
}
