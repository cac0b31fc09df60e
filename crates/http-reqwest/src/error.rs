//! The one error type of this crate: setting up a transport can fail; sending through one
//! fails with [`auth_core::TransportError`] instead.

/// Why a [`ReqwestTransport`](crate::ReqwestTransport) could not be built.
///
/// Sending a request never returns this type: a failed exchange is an
/// [`auth_core::TransportError`], as the [`HttpTransport`](auth_core::HttpTransport) trait
/// requires.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A root certificate given to the builder is unusable: fix or remove it.
    #[error("invalid root certificate: {reason}")]
    InvalidRootCertificate {
        /// What is wrong with it.
        reason: String,
    },
    /// The user agent given to the builder is not a valid header value (it holds a control
    /// character or a line break): choose another.
    #[error("the user agent is not a valid HTTP header value")]
    InvalidUserAgent,
    /// The HTTP client could not be set up, typically because the TLS configuration or the
    /// system's certificate store could not be loaded. Check the machine's TLS setup.
    #[error("could not set up the HTTP client: {reason}")]
    ClientSetup {
        /// What failed, as reported by the HTTP stack.
        reason: String,
    },
}
