//! An `auth-core` HTTP transport on [reqwest], with rustls and the *ring* crypto provider.
//!
//! [`ReqwestTransport`] implements [`auth_core::HttpTransport`] with the guarantees every
//! transport gives `auth-core`: redirects are never followed, every request has a connect
//! and a total timeout, response bodies are capped without being buffered first, and error
//! messages never contain a query string, a header or a body. It is the only crate of the
//! workspace that names reqwest. It asks for and decodes gzip, deflate and brotli bodies,
//! capping the decoded size, and refuses any other content coding by name; an `https://`
//! request to a port that speaks plain HTTP is a
//! [`NotTls`](auth_core::TransportErrorKind::NotTls) error that says so.
//!
//! TLS is rustls with *ring*, which builds with no CMake and no system OpenSSL; server
//! certificates are checked against the operating system's trust store
//! (`rustls-platform-verifier`), plus any roots given to
//! [`ReqwestTransportBuilder::add_root_certificates_pem`].
//!
//! Proxies are taken from the environment as reqwest does (`HTTPS_PROXY`, `HTTP_PROXY`,
//! `ALL_PROXY`, `NO_PROXY`), except that requests to a loopback address (`127.0.0.0/8`,
//! `::1`, `localhost`) always go direct: `auth-core` allows plain `http://` only to
//! loopback, which is only safe if the request stays on the machine.
//!
//! ```no_run
//! use std::time::Duration;
//! use auth_core::HttpTransport;
//! use auth_core::transport::{RequestOptions, TransportSettings};
//! use http_reqwest::ReqwestTransport;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let transport = ReqwestTransport::builder()
//!     .settings(TransportSettings::default().with_timeout(Duration::from_secs(15)))
//!     .build()?;
//!
//! let mut request = http::Request::post("https://auth.example.com/oauth/token")
//!     .header("content-type", "application/x-www-form-urlencoded")
//!     .body(bytes::Bytes::from_static(b"grant_type=client_credentials"))?;
//! // This request may take longer than the transport's default.
//! RequestOptions::default()
//!     .with_timeout(Duration::from_secs(60))
//!     .apply(&mut request);
//!
//! let response = transport.send(request).await?;
//! assert!(!response.status().is_redirection() || response.headers().contains_key("location"));
//! # Ok(())
//! # }
//! ```

mod error;
mod error_mapping;
mod proxy_env;
mod reqwest_transport;

pub use error::Error;
pub use reqwest_transport::{ReqwestTransport, ReqwestTransportBuilder};

/// Makes *ring* the process's default rustls crypto provider, unless one is already
/// installed (then that one stays, and is what this crate's clients use).
///
/// reqwest, built without a provider of its own, panics when a client is built before a
/// provider is installed. [`ReqwestTransport::new`] and [`ReqwestTransportBuilder::build`]
/// call this first, so only code that builds a [`reqwest::Client`] itself (for
/// [`ReqwestTransport::from_client`]) needs to call it. Calling it again is harmless.
///
/// ```
/// http_reqwest::install_crypto_provider();
/// let client = reqwest::Client::builder()
///     .redirect(reqwest::redirect::Policy::none())
///     .build()?;
/// # drop(client);
/// # Ok::<(), reqwest::Error>(())
/// ```
pub fn install_crypto_provider() {
    // An error only means a provider is installed already, which is all we need.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
