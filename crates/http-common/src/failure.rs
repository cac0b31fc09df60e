//! Which transport failures a retry can help: the rules every HTTP backend applies, so
//! that swapping the backend does not change what the retry layer sees.
//!
//! - [`TransportErrorKind::Connect`]: nothing reached the server, so a retry is safe even
//!   for a request that is not idempotent, and it is retryable, except when the server's
//!   certificate was rejected: asking again does not make it valid.
//! - [`TransportErrorKind::Timeout`]: retryable, though the server may have acted on the
//!   request (the retry layer checks the request's [`Idempotency`]).
//! - [`TransportErrorKind::Other`]: retryable only when the connection broke under the
//!   exchange (closed early, reset, aborted, ended mid-answer). That is what happens when
//!   a server drops an idle keep-alive connection just as it is reused, and a fresh
//!   connection may well succeed; a garbled answer, by contrast, will come back the same.
//! - [`TransportErrorKind::BodyTooLarge`], [`TransportErrorKind::InvalidRequest`],
//!   [`TransportErrorKind::NotTls`] and [`TransportErrorKind::UnsupportedContentEncoding`]:
//!   never retryable, the same request gets the same answer.
//!
//! One connect failure gets a kind of its own: an `https://` request to a port where the
//! server speaks plain HTTP. The server answers the TLS `ClientHello` with an HTTP error
//! page, whose first byte (`H`) is no TLS record type, and the TLS library reports
//! "received corrupt message of type InvalidContentType". [`speaks_no_tls`] recognises
//! it, and [`RequestLabel::failure`](crate::RequestLabel::failure) turns it into a
//! [`TransportErrorKind::NotTls`] that says so.
//!
//! The rules look at every error in the failure's chain ([`causes`], which looks inside
//! `io::Error`s). What only the backend can recognise, its own error types, it answers
//! through [`BackendErrors`].
//!
//! [`Idempotency`]: auth_core::transport::Idempotency
//! [`causes`]: crate::error_chain::causes
//!
//! ```
//! use std::error::Error as StdError;
//! use std::io;
//! use auth_core::transport::TransportErrorKind;
//! use http_common::failure::{self, BackendErrors};
//!
//! /// A backend with no error types of its own to recognise.
//! struct Plain;
//!
//! impl BackendErrors for Plain {
//!     fn is_certificate_rejection(&self, _: &(dyn StdError + 'static)) -> bool {
//!         false
//!     }
//! }
//!
//! let reset = io::Error::from(io::ErrorKind::ConnectionReset);
//! assert!(failure::is_retryable(TransportErrorKind::Other, &reset, &Plain));
//! let garbled = io::Error::from(io::ErrorKind::InvalidData);
//! assert!(!failure::is_retryable(TransportErrorKind::Other, &garbled, &Plain));
//! ```

use std::error::Error as StdError;
use std::io;

use auth_core::TransportErrorKind;

use crate::error_chain::causes;

/// What only a backend can tell about its own error types. Each question is asked of
/// every error in a failure's chain, `io::Error`-wrapped errors included.
pub trait BackendErrors {
    /// Whether `cause` says the TLS handshake failed on the server's certificate (unknown
    /// issuer, expired, wrong name, none presented). Other handshake failures (a protocol
    /// mismatch, a decryption error) are not rejections: they may pass on another try.
    fn is_certificate_rejection(&self, cause: &(dyn StdError + 'static)) -> bool;

    /// Whether `cause` says the connection closed or was cancelled under the exchange
    /// (for hyper: an incomplete message, a closed or cancelled connection). Reset,
    /// aborted, broken-pipe and early-EOF `io::Error`s are recognised without asking.
    fn is_connection_closed(&self, cause: &(dyn StdError + 'static)) -> bool {
        let _ = cause;
        false
    }

    /// Whether `cause` says the server's answer to the TLS handshake was not TLS at all
    /// (typically plain HTTP).
    fn is_not_tls(&self, cause: &(dyn StdError + 'static)) -> bool {
        let _ = cause;
        false
    }
}

impl<B: BackendErrors + ?Sized> BackendErrors for &B {
    fn is_certificate_rejection(&self, cause: &(dyn StdError + 'static)) -> bool {
        (**self).is_certificate_rejection(cause)
    }

    fn is_connection_closed(&self, cause: &(dyn StdError + 'static)) -> bool {
        (**self).is_connection_closed(cause)
    }

    fn is_not_tls(&self, cause: &(dyn StdError + 'static)) -> bool {
        (**self).is_not_tls(cause)
    }
}

/// The error types of the stack both transports run on: hyper for HTTP, rustls for TLS
/// (reqwest reports its connection failures through them too).
///
/// ```
/// use std::io;
/// use auth_core::TransportErrorKind;
/// use http_common::{HyperRustls, failure};
///
/// // As tokio-rustls reports a rejected certificate: inside an io::Error.
/// let rejected = io::Error::new(
///     io::ErrorKind::InvalidData,
///     rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
/// );
/// assert!(!failure::is_retryable(TransportErrorKind::Connect, &rejected, &HyperRustls));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct HyperRustls;

impl BackendErrors for HyperRustls {
    fn is_certificate_rejection(&self, cause: &(dyn StdError + 'static)) -> bool {
        matches!(
            cause.downcast_ref::<rustls::Error>(),
            Some(rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented)
        )
    }

    fn is_connection_closed(&self, cause: &(dyn StdError + 'static)) -> bool {
        cause
            .downcast_ref::<hyper::Error>()
            .is_some_and(|h| h.is_incomplete_message() || h.is_canceled() || h.is_closed())
    }

    fn is_not_tls(&self, cause: &(dyn StdError + 'static)) -> bool {
        // The first byte of the answer is read as a TLS record's content type: an HTTP
        // status line starts with `H` (0x48), which is none.
        matches!(
            cause.downcast_ref::<rustls::Error>(),
            Some(rustls::Error::InvalidMessage(
                rustls::InvalidMessage::InvalidContentType
            ))
        )
    }
}

/// Whether a failure of `kind`, caused by `err`, may succeed when sent again; see the
/// [module documentation](self) for the rules.
pub fn is_retryable(
    kind: TransportErrorKind,
    err: &(dyn StdError + 'static),
    backend: &impl BackendErrors,
) -> bool {
    match kind {
        TransportErrorKind::Connect => {
            !is_certificate_rejected(err, backend) && !speaks_no_tls(err, backend)
        }
        TransportErrorKind::Timeout => true,
        TransportErrorKind::Other => is_broken_connection(err, backend),
        // BodyTooLarge, InvalidRequest, NotTls, UnsupportedContentEncoding, and whatever
        // comes: the same request gets the same answer.
        _ => false,
    }
}

/// Whether anything in `err`'s chain says the server answered the TLS handshake with
/// something that is not TLS, as `backend` recognises it.
pub fn speaks_no_tls(err: &(dyn StdError + 'static), backend: &impl BackendErrors) -> bool {
    causes(err).any(|cause| backend.is_not_tls(cause))
}

/// Whether anything in `err`'s chain is a certificate rejection, as `backend` recognises
/// them.
pub fn is_certificate_rejected(
    err: &(dyn StdError + 'static),
    backend: &impl BackendErrors,
) -> bool {
    causes(err).any(|cause| backend.is_certificate_rejection(cause))
}

/// Whether the connection broke under the exchange: `backend` saw it close or be
/// cancelled, or an `io::Error` in the chain is of a [broken-connection
/// kind](is_broken_connection_kind).
pub fn is_broken_connection(err: &(dyn StdError + 'static), backend: &impl BackendErrors) -> bool {
    causes(err).any(|cause| {
        backend.is_connection_closed(cause)
            || cause
                .downcast_ref::<io::Error>()
                .is_some_and(|io| is_broken_connection_kind(io.kind()))
    })
}

/// Whether an `io::Error` of this kind means the connection broke: reset, aborted, a
/// broken pipe, or the stream ended before the answer did.
pub fn is_broken_connection_kind(kind: io::ErrorKind) -> bool {
    matches!(
        kind,
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stands for a TLS library's certificate error.
    #[derive(Debug, thiserror::Error)]
    #[error("invalid peer certificate: {0}")]
    struct Certificate(&'static str);

    /// Stands for a TLS library's other handshake errors.
    #[derive(Debug, thiserror::Error)]
    #[error("decrypt error")]
    struct Decrypt;

    /// Stands for an HTTP library's "connection closed before message completed".
    #[derive(Debug, thiserror::Error)]
    #[error("connection closed before message completed")]
    struct Incomplete;

    /// Stands for an HTTP library's "invalid HTTP version parsed".
    #[derive(Debug, thiserror::Error)]
    #[error("invalid HTTP version parsed")]
    struct Parse;

    /// A backend that recognises the stand-ins above.
    struct Backend;

    impl BackendErrors for Backend {
        fn is_certificate_rejection(&self, cause: &(dyn StdError + 'static)) -> bool {
            cause.is::<Certificate>()
        }

        fn is_connection_closed(&self, cause: &(dyn StdError + 'static)) -> bool {
            cause.is::<Incomplete>()
        }
    }

    /// A wrapper error, like an HTTP client's "client error (Connect)".
    #[derive(Debug, thiserror::Error)]
    #[error("wrapper adds nothing")]
    struct Wrapper(#[source] Box<dyn StdError + Send + Sync>);

    /// `cause` as a TLS connector reports it: in an io::Error, under a wrapper.
    fn in_io(cause: impl StdError + Send + Sync + 'static) -> Wrapper {
        Wrapper(Box::new(io::Error::new(io::ErrorKind::InvalidData, cause)))
    }

    #[test]
    fn a_connect_failure_is_retryable_unless_the_certificate_was_rejected() {
        let cases: [(Wrapper, bool); 4] = [
            (
                Wrapper(Box::new(io::Error::from(io::ErrorKind::ConnectionRefused))),
                true,
            ),
            (in_io(Certificate("UnknownIssuer")), false),
            // Two io::Errors deep.
            (
                Wrapper(Box::new(io::Error::other(in_io(Certificate("Expired"))))),
                false,
            ),
            // Only certificate rejections are final.
            (in_io(Decrypt), true),
        ];
        for (err, retryable) in cases {
            assert_eq!(
                is_retryable(TransportErrorKind::Connect, &err, &Backend),
                retryable,
                "{:?}",
                innermost(&err)
            );
        }
    }

    fn innermost(err: &Wrapper) -> String {
        crate::error_chain::innermost_cause(err).to_string()
    }

    #[test]
    fn a_broken_connection_after_connecting_is_retryable() {
        let cases = [
            (io::ErrorKind::ConnectionReset, true),
            (io::ErrorKind::ConnectionAborted, true),
            (io::ErrorKind::BrokenPipe, true),
            (io::ErrorKind::UnexpectedEof, true),
            (io::ErrorKind::InvalidData, false),
            (io::ErrorKind::PermissionDenied, false),
            (io::ErrorKind::ConnectionRefused, false),
        ];
        for (io_kind, retryable) in cases {
            let err = Wrapper(Box::new(io::Error::from(io_kind)));
            assert_eq!(
                is_retryable(TransportErrorKind::Other, &err, &Backend),
                retryable,
                "{io_kind:?}"
            );
            assert_eq!(is_broken_connection_kind(io_kind), retryable, "{io_kind:?}");
        }
    }

    #[test]
    fn what_the_backend_recognises_as_closed_is_a_broken_connection() {
        assert!(is_retryable(
            TransportErrorKind::Other,
            &Wrapper(Box::new(Incomplete)),
            &Backend
        ));
        assert!(!is_retryable(
            TransportErrorKind::Other,
            &Wrapper(Box::new(Parse)),
            &Backend
        ));
    }

    #[test]
    fn timeouts_are_retryable_and_oversized_or_invalid_requests_never() {
        let any = Wrapper(Box::new(io::Error::from(io::ErrorKind::ConnectionReset)));
        assert!(is_retryable(TransportErrorKind::Timeout, &any, &Backend));
        assert!(!is_retryable(
            TransportErrorKind::BodyTooLarge,
            &any,
            &Backend
        ));
        assert!(!is_retryable(
            TransportErrorKind::InvalidRequest,
            &any,
            &Backend
        ));
    }

    #[test]
    fn the_default_backend_recognises_no_closed_connection() {
        struct CertificatesOnly;
        impl BackendErrors for CertificatesOnly {
            fn is_certificate_rejection(&self, cause: &(dyn StdError + 'static)) -> bool {
                cause.is::<Certificate>()
            }
        }
        let incomplete = Wrapper(Box::new(Incomplete));
        assert!(!is_broken_connection(&incomplete, &CertificatesOnly));
        assert!(is_broken_connection(&incomplete, &&Backend));
    }

    #[test]
    fn the_stack_s_certificate_rejections_are_final_inside_nested_io_errors() {
        let nested = Wrapper(Box::new(io::Error::other(io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        ))));
        assert!(is_certificate_rejected(&nested, &HyperRustls));
        assert!(!is_retryable(
            TransportErrorKind::Connect,
            &nested,
            &HyperRustls
        ));
        for other in [
            rustls::Error::DecryptError,
            rustls::Error::InvalidMessage(rustls::InvalidMessage::MessageTooShort),
        ] {
            let handshake = Wrapper(Box::new(io::Error::new(io::ErrorKind::InvalidData, other)));
            assert!(!is_certificate_rejected(&handshake, &HyperRustls));
            assert!(!speaks_no_tls(&handshake, &HyperRustls));
            assert!(is_retryable(
                TransportErrorKind::Connect,
                &handshake,
                &HyperRustls
            ));
        }
    }

    #[test]
    fn an_answer_that_is_not_tls_is_recognised_and_final() {
        // As tokio-rustls reports an HTTP answer to a ClientHello.
        let plain_http = Wrapper(Box::new(io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType),
        )));
        assert!(speaks_no_tls(&plain_http, &HyperRustls));
        assert!(!is_retryable(
            TransportErrorKind::Connect,
            &plain_http,
            &HyperRustls
        ));
        assert!(
            !speaks_no_tls(&plain_http, &Backend),
            "the default recognises nothing"
        );
        let refused = Wrapper(Box::new(io::Error::from(io::ErrorKind::ConnectionRefused)));
        assert!(!speaks_no_tls(&refused, &HyperRustls));
    }
}
