//! How hyper's and hyper-util's errors become [`TransportError`]s.
//!
//! The rules, shared in spirit with every auth-core transport:
//! - anything that failed before a connection existed (DNS, TCP, TLS handshake, the
//!   connect timeout) is [`TransportErrorKind::Connect`]: nothing reached the server, so a
//!   retry is safe even for a non-idempotent request;
//! - the total timeout is [`TransportErrorKind::Timeout`]: retryable, but the server may
//!   have acted on the request;
//! - a broken or garbled answer is [`TransportErrorKind::Other`] and not retryable: the
//!   server may have acted, and the retry layer decides from idempotency alone;
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
        return TransportError::new(TransportErrorKind::Connect, message);
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
        ),
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
        ),
    }
}

/// The first error of type `E` in `err`'s source chain, `err` included.
fn find<'a, E: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a E> {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<E>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}

/// The last error of `err`'s source chain: the most specific description ("Connection
/// refused", "invalid peer certificate: UnknownIssuer"). The wrappers above it
/// ("client error (Connect)", "tcp connect error") add nothing a reader can use.
fn innermost<'a>(err: &'a (dyn StdError + 'static)) -> &'a (dyn StdError + 'static) {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current
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
    fn failures_after_connecting_are_not_retryable() {
        let reset = Wrapper(Box::new(std::io::Error::from(
            std::io::ErrorKind::ConnectionReset,
        )));
        for stage in [Stage::Exchange, Stage::Body] {
            let err = describe(&origin(), stage, &reset);
            assert_eq!(err.kind(), TransportErrorKind::Other, "{stage:?}");
            assert!(!err.is_retryable(), "{stage:?}");
            assert!(err.to_string().contains("connection reset"), "{err}");
        }
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
