//! Walking an error's chain of causes, including the errors that `io::Error`s wrap.
//!
//! HTTP stacks report a failure as a stack of wrappers: the client's error, around the
//! connector's, around an `io::Error`, around the TLS library's. Classifying a failure
//! means finding the one layer that says what happened (a rejected certificate, a reset
//! connection), and [`std::error::Error::source`] alone does not reach it:
//! `io::Error::source` returns the *source of* the error it wraps, skipping the wrapped
//! error itself, and TLS connectors (tokio-rustls among them) report a rejected
//! certificate exactly that way, an `io::Error` around the TLS error, sometimes two deep.
//! [`causes`] visits the wrapped error instead, so nothing in the chain is skipped.
//!
//! ```
//! use std::io;
//! use http_common::error_chain;
//!
//! #[derive(Debug, thiserror::Error)]
//! #[error("the handshake failed")]
//! struct Handshake;
//!
//! // As a TLS connector reports it: an io::Error around the TLS library's error.
//! let err = io::Error::new(io::ErrorKind::InvalidData, Handshake);
//! assert!(error_chain::find_cause::<Handshake>(&err).is_some());
//! // `source` alone never reaches it.
//! assert!(std::error::Error::source(&err).is_none());
//! ```

use std::error::Error as StdError;
use std::io;

/// `err` followed by each of its causes, outermost first.
///
/// Where an error is an [`io::Error`] wrapping another error, the wrapped error comes
/// next (then its own sources), rather than what `io::Error::source` would give, which
/// skips it.
pub fn causes<'a>(
    err: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(err), |&current| {
        match current
            .downcast_ref::<io::Error>()
            .and_then(io::Error::get_ref)
        {
            Some(wrapped) => Some(wrapped as &(dyn StdError + 'static)),
            None => current.source(),
        }
    })
}

/// The first error of type `E` among [`causes`] of `err`, `err` included.
pub fn find_cause<'a, E: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a E> {
    causes(err).find_map(|cause| cause.downcast_ref::<E>())
}

/// The last of the [`causes`] of `err` (`err` itself when it has none): usually the most
/// specific description ("Connection refused", "invalid peer certificate:
/// UnknownIssuer"), where the wrappers above it ("client error (Connect)", "tcp connect
/// error") add nothing a reader can use.
pub fn innermost_cause<'a>(err: &'a (dyn StdError + 'static)) -> &'a (dyn StdError + 'static) {
    causes(err).last().unwrap_or(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wrapper error that adds nothing, like an HTTP client's "tcp connect error".
    #[derive(Debug, thiserror::Error)]
    #[error("wrapper adds nothing")]
    struct Wrapper(#[source] Box<dyn StdError + Send + Sync>);

    /// Stands for a TLS library's "the certificate was rejected".
    #[derive(Debug, thiserror::Error)]
    #[error("invalid peer certificate: UnknownIssuer")]
    struct CertificateRejected;

    /// An error type that appears nowhere in the chains below.
    #[derive(Debug, thiserror::Error)]
    #[error("absent")]
    struct Absent;

    #[test]
    fn causes_look_inside_nested_io_errors() {
        // Two io::Errors deep under a wrapper, as a TLS connector reports a certificate.
        let nested = Wrapper(Box::new(io::Error::other(io::Error::new(
            io::ErrorKind::InvalidData,
            CertificateRejected,
        ))));
        assert!(find_cause::<CertificateRejected>(&nested).is_some());
        let plain = Wrapper(Box::new(io::Error::from(io::ErrorKind::ConnectionRefused)));
        assert!(find_cause::<CertificateRejected>(&plain).is_none());
        assert!(causes(&plain).any(|cause| {
            cause
                .downcast_ref::<io::Error>()
                .is_some_and(|io| io.kind() == io::ErrorKind::ConnectionRefused)
        }));
    }

    #[test]
    fn causes_visit_every_layer_once_in_order() {
        let nested = Wrapper(Box::new(io::Error::new(
            io::ErrorKind::InvalidData,
            Wrapper(Box::new(CertificateRejected)),
        )));
        let shown: Vec<String> = causes(&nested).map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "wrapper adds nothing",
                // The io::Error shows the error it wraps.
                "wrapper adds nothing",
                "wrapper adds nothing",
                "invalid peer certificate: UnknownIssuer",
            ]
        );
    }

    #[test]
    fn the_innermost_cause_is_found_inside_io_errors() {
        let nested = Wrapper(Box::new(io::Error::other(Wrapper(Box::new(
            io::Error::from(io::ErrorKind::ConnectionRefused),
        )))));
        assert_eq!(innermost_cause(&nested).to_string(), "connection refused");
        assert!(find_cause::<Wrapper>(&nested).is_some());
        assert!(find_cause::<Absent>(&nested).is_none());
    }

    #[test]
    fn an_error_without_causes_is_its_own_innermost_cause() {
        let alone = io::Error::from(io::ErrorKind::TimedOut);
        assert_eq!(causes(&alone).count(), 1);
        assert_eq!(innermost_cause(&alone).to_string(), "timed out");
    }
}
