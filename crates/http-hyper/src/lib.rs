//! An [`auth_core`] HTTP transport written directly on hyper 1.
//!
//! [`HyperTransport`] implements [`HttpTransport`](auth_core::transport::HttpTransport)
//! with hyper-util's pooled client (`hyper_util::client::legacy::Client`) and rustls. It
//! shares no code with `http-reqwest` (what both need is in `http-common`); both honour
//! the same contract, which the workspace's transport conformance tests run against each
//! of them:
//!
//! - **Redirects are never followed.** hyper has no redirect logic at all: a `3xx` comes
//!   back as the response, `Location` header included, so credentials are never carried
//!   to another host.
//! - **Timeouts.** The connect timeout
//!   ([`TransportSettings::connect_timeout`](auth_core::transport::TransportSettings))
//!   bounds DNS, TCP and the TLS handshake together. The total timeout (the request's
//!   [`RequestOptions::timeout`](auth_core::transport::RequestOptions), else the
//!   settings') bounds the whole exchange, the response body included, so a server that
//!   stalls mid-body cannot hold a caller.
//! - **Body cap.** A declared `Content-Length` over the cap is refused before any of the
//!   body is read; a chunked body is refused as soon as it passes the cap. Either way the
//!   error is [`TransportErrorKind::BodyTooLarge`](auth_core::TransportErrorKind) and the
//!   connection is closed rather than drained.
//! - **Content codings.** Requests ask for `gzip, deflate, br` (unless they set their own
//!   `Accept-Encoding`) and those codings are decoded with tower-http's decompression
//!   layer, the one reqwest uses; the cap applies to the decoded body, so a small body
//!   that inflates past it is refused without being inflated whole. Any other
//!   `Content-Encoding` is refused with
//!   [`UnsupportedContentEncoding`](auth_core::TransportErrorKind::UnsupportedContentEncoding),
//!   naming it.
//! - **TLS spoken or not.** An `https://` request to a port that answers in plain HTTP is
//!   [`NotTls`](auth_core::TransportErrorKind::NotTls), not retryable, and for a loopback
//!   host the message suggests the `http://` URL.
//! - **Typed errors.** DNS, TCP, TLS and connect-timeout failures are
//!   [`Connect`](auth_core::TransportErrorKind::Connect) (retryable: nothing reached the
//!   server; except a rejected server certificate, which asking again does not fix), the
//!   total timeout is [`Timeout`](auth_core::TransportErrorKind::Timeout) (retryable), a
//!   connection that broke mid-exchange is [`Other`](auth_core::TransportErrorKind::Other)
//!   and retryable (a fresh connection may succeed; whether it is *safe* to resend is the
//!   request's idempotency), an answer that is not HTTP is `Other` and not retryable.
//!   Messages name only `scheme://host:port` and the cause, never a path, query string,
//!   header or body.
//! - **User agent** `http-hyper/<version> auth-core/<version>` unless the request or the
//!   builder sets another.
//!
//! # Proxies
//!
//! Like `http-reqwest`, the transport uses the proxies named by `HTTPS_PROXY`,
//! `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (upper or lower case), read once when it is
//! built, except that loopback (`127.0.0.0/8`, `::1`, `localhost`) always goes direct: a
//! request allowed over plain http because it never leaves the machine must not be handed
//! to a proxy. `https://` goes through a `CONNECT` tunnel, so TLS stays end to end. Only
//! `http://` proxies are supported. [`HyperTransportBuilder::no_proxy`] turns this off.
//!
//! # TLS
//!
//! rustls with the *ring* provider (no cmake, no C toolchain beyond `cc`), passed to
//! rustls explicitly, so nothing is installed process-wide and another library's choice
//! of default provider does not matter. Certificates are checked by
//! `rustls-platform-verifier`: the operating system's trust store and verifier (on Linux,
//! the system CA bundle). Extra roots can be added with
//! [`HyperTransportBuilder::add_root_certificate`]; a complete `rustls::ClientConfig` can
//! replace all of it with [`HyperTransportBuilder::tls_config`]. TLS 1.2 and 1.3; HTTP/2 is
//! used when the server offers it through ALPN, HTTP/1.1 otherwise (plain `http://` is
//! always HTTP/1.1).
//!
//! # Runtime
//!
//! Building needs no runtime; sending needs Tokio (hyper-util spawns the connection tasks
//! on it) with its I/O and time drivers enabled (`enable_all()`, as `#[tokio::main]`
//! does). Outside any Tokio runtime `send` returns an error instead of panicking; inside
//! a runtime built without those drivers, Tokio itself panics at the first socket or
//! timer, and there is no way to ask a runtime beforehand whether it has them.
//!
//! ```no_run
//! use auth_core::transport::HttpTransport;
//! use http_hyper::HyperTransport;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let transport = HyperTransport::new()?;
//! let request = http::Request::get("https://example.com/")
//!     .body(bytes::Bytes::new())?;
//! let response = transport.send(request).await?;
//! println!("{}", response.status());
//! # Ok(())
//! # }
//! ```

mod connect;
mod error;
mod failure;
mod proxy;
mod transport;

pub use error::Error;
pub use transport::{HyperTransport, HyperTransportBuilder};
