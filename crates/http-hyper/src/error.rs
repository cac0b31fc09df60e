//! The one error this crate returns: building a [`HyperTransport`](crate::HyperTransport)
//! failed. Errors of a request are [`auth_core::TransportError`]s.

/// Why a [`HyperTransport`](crate::HyperTransport) could not be built.
///
/// Building never panics: a machine without usable root certificates or a bad setting
/// gives one of these instead.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The TLS client configuration could not be built. On Linux and the BSDs this usually
    /// means the system has no CA bundle (install `ca-certificates`), or an extra root
    /// certificate could not be parsed. Add the roots you trust with
    /// [`HyperTransportBuilder::add_root_certificate`](crate::HyperTransportBuilder::add_root_certificate)
    /// or pass a complete configuration with
    /// [`HyperTransportBuilder::tls_config`](crate::HyperTransportBuilder::tls_config).
    #[error("could not set up TLS: {0}")]
    TlsSetup(#[source] rustls::Error),
    /// The user agent given to the builder is not a valid HTTP header value (it contains a
    /// control character or a line break). Pass visible ASCII.
    #[error("the user agent is not a valid HTTP header value")]
    InvalidUserAgent,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_failed() {
        let tls = Error::TlsSetup(rustls::Error::General("no roots".into()));
        assert_eq!(
            tls.to_string(),
            "could not set up TLS: unexpected error: no roots"
        );
        assert!(std::error::Error::source(&tls).is_some());
        assert_eq!(
            Error::InvalidUserAgent.to_string(),
            "the user agent is not a valid HTTP header value"
        );
    }
}
