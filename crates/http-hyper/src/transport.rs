//! [`HyperTransport`] and its builder.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::transport::{
    HttpRequest, HttpResponse, HttpTransport, TransportError, TransportErrorKind, TransportSettings,
};
use bytes::Bytes;
use http::header::{HeaderValue, PROXY_AUTHORIZATION, USER_AGENT};
use http_body_util::{BodyExt, Full};
use http_common::{Exchange, LimitedBody, ProxyEnv, RequestLabel, user_agent};
use hyper::body::{Body, Incoming};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;
use rustls_platform_verifier::Verifier;
use tower_http::decompression::{Decompression, DecompressionBody};
use tower_service::Service;

use crate::Error;
use crate::connect::ConnectTimeout;
use crate::failure;
use crate::proxy::{self, Proxies, ProxyConnector};

type Connector = ConnectTimeout<HttpsConnector<ProxyConnector>>;

/// An [`HttpTransport`] on hyper 1 and hyper-util's pooled client, with rustls.
///
/// Cloning is cheap and clones share the connection pool. Requests must be sent from
/// within a Tokio runtime with its time and I/O drivers enabled. Outside any runtime,
/// `send` returns an error of kind [`TransportErrorKind::Other`] instead of panicking;
/// in a runtime without those drivers, Tokio panics (see the crate documentation).
///
/// ```
/// use std::time::Duration;
/// use auth_core::transport::TransportSettings;
/// use http_hyper::HyperTransport;
///
/// let transport = HyperTransport::builder()
///     .settings(TransportSettings::default().with_timeout(Duration::from_secs(10)))
///     .build()?;
/// assert_eq!(transport.settings().timeout, Duration::from_secs(10));
/// # Ok::<(), http_hyper::Error>(())
/// ```
#[derive(Clone)]
pub struct HyperTransport {
    client: Client<Connector, Full<Bytes>>,
    settings: TransportSettings,
    user_agent: HeaderValue,
    proxies: Proxies,
}

impl HyperTransport {
    /// A builder to choose settings, user agent and TLS roots.
    pub fn builder() -> HyperTransportBuilder {
        HyperTransportBuilder::default()
    }

    /// A transport with the default [`TransportSettings`], the platform's root
    /// certificates and the default user agent: `HyperTransport::builder().build()`.
    ///
    /// # Errors
    ///
    /// [`Error::TlsSetup`] when the platform has no usable root certificates.
    pub fn new() -> Result<Self, Error> {
        Self::builder().build()
    }

    /// The settings requests fall back to when their [`RequestOptions`] leave a limit
    /// unset.
    ///
    /// [`RequestOptions`]: auth_core::transport::RequestOptions
    pub fn settings(&self) -> &TransportSettings {
        &self.settings
    }

    /// The `User-Agent` sent with requests that have none of their own.
    pub fn user_agent(&self) -> &str {
        // ok: the builder only accepts user agents that are visible ASCII, so this never
        // falls back.
        self.user_agent.to_str().unwrap_or_default()
    }

    /// Checks the URL, adds the user agent and converts the body for hyper.
    fn prepare(&self, request: HttpRequest) -> Result<http::Request<Full<Bytes>>, TransportError> {
        match request.uri().scheme_str() {
            Some("http" | "https") => {}
            // The scheme and URL are not repeated: a malformed URL may hold anything.
            _ => {
                return Err(TransportError::new(
                    TransportErrorKind::InvalidRequest,
                    "the URL must be absolute with an http or https scheme",
                ));
            }
        }
        if request.uri().host().is_none_or(str::is_empty) {
            return Err(TransportError::new(
                TransportErrorKind::InvalidRequest,
                "the URL has no host",
            ));
        }
        match (request.version(), request.uri().scheme_str()) {
            (http::Version::HTTP_10 | http::Version::HTTP_11, _) => {}
            // HTTP/2 needs TLS with ALPN here: cleartext h2 (prior knowledge) is not spoken.
            (http::Version::HTTP_2, Some("https")) => {}
            (version, _) => {
                return Err(TransportError::new(
                    TransportErrorKind::InvalidRequest,
                    format!(
                        "{version:?} is not supported for this URL (HTTP/1.x, or HTTP/2 over https)"
                    ),
                ));
            }
        }
        let (mut parts, body) = request.into_parts();
        // The caller's own User-Agent wins, as with reqwest's default headers.
        parts
            .headers
            .entry(USER_AGENT)
            .or_insert_with(|| self.user_agent.clone());
        if let Some(auth) = self.proxies.forward_auth(&parts.uri) {
            parts.headers.entry(PROXY_AUTHORIZATION).or_insert(auth);
        }
        Ok(http::Request::from_parts(parts, Full::new(body)))
    }

    /// Sends the request and collects the decoded body under the cap, with no timeout of
    /// its own.
    async fn exchange(
        &self,
        label: &RequestLabel,
        request: http::Request<Full<Bytes>>,
        max_body_bytes: usize,
    ) -> Result<HttpResponse, TransportError> {
        // Asks for gzip, deflate and br (unless the request names its own codings) and
        // decodes those; any other coding is left, Content-Encoding and all, for
        // `LimitedBody::start` to refuse.
        let mut client = Decompression::new(&self.client);
        std::future::poll_fn(|cx| client.poll_ready(cx))
            .await
            .map_err(|err| failure::request_error(label, err))?;
        let response = client
            .call(request)
            .await
            .map_err(|err| failure::request_error(label, err))?;
        let (parts, body) = response.into_parts();
        let body = collect(label, &parts.headers, body, max_body_bytes).await?;
        Ok(http::Response::from_parts(parts, body))
    }
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransport")
            .field("settings", &self.settings)
            .field("user_agent", &self.user_agent)
            .field("proxies", &self.proxies)
            .finish_non_exhaustive()
    }
}

/// Reads the decoded `body` frame by frame into a [`LimitedBody`], refusing it as soon as
/// it passes `limit`, and at once when its declared length already does.
async fn collect(
    label: &RequestLabel,
    headers: &http::HeaderMap,
    mut body: DecompressionBody<Incoming>,
    limit: usize,
) -> Result<Bytes, TransportError> {
    // hyper derives the exact size from Content-Length, and knows that a response to HEAD,
    // a 204 or a 304 has no body whatever its Content-Length says: use its view, not the
    // header's. A body being decoded has no exact size.
    let declared = body.size_hint().exact();
    let mut collected = LimitedBody::start(label, limit, headers, declared)?;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|err| failure::body_error(label, err))?;
        // Trailers are dropped: nothing in OAuth or the APIs we call uses them.
        if let Ok(data) = frame.into_data() {
            collected.push(&data)?;
        }
    }
    // Dropping `body` early (on an error above) closes the connection instead of
    // returning it to the pool, so an unread oversized body is never drained.
    Ok(collected.finish())
}

#[async_trait]
impl HttpTransport for HyperTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        // Messages name only the origin: see `failure`.
        let label = RequestLabel::origin_of(&request);
        let exchange = Exchange::begin(&request, &label, env!("CARGO_PKG_NAME"))?;
        let (timeout, max_body_bytes) = self.settings.limits_for(&request);
        let outcome = match self.prepare(request) {
            // One deadline over everything: connecting, sending, the response head and
            // the whole body. hyper itself has no total timeout.
            Ok(request) => {
                tokio::time::timeout(timeout, self.exchange(&label, request, max_body_bytes))
                    .await
                    .unwrap_or_else(|_elapsed| Err(label.timed_out(timeout)))
            }
            Err(err) => Err(err),
        };
        exchange.finish(outcome)
    }
}

/// Builds a [`HyperTransport`].
///
/// ```
/// use std::time::Duration;
/// use http_hyper::HyperTransport;
///
/// let transport = HyperTransport::builder()
///     .timeout(Duration::from_secs(20))
///     .connect_timeout(Duration::from_secs(5))
///     .max_body_bytes(1 << 20)
///     .user_agent("my-tool/1.0")
///     .build()?;
/// assert_eq!(transport.user_agent(), "my-tool/1.0");
/// # Ok::<(), http_hyper::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct HyperTransportBuilder {
    settings: TransportSettings,
    user_agent: Option<String>,
    extra_roots: Vec<CertificateDer<'static>>,
    tls_config: Option<rustls::ClientConfig>,
    /// `None`: read from the environment when building.
    proxies: Option<Proxies>,
}

impl HyperTransportBuilder {
    /// Replaces all limits at once.
    #[must_use]
    pub fn settings(mut self, settings: TransportSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The default total time for a request, body included.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.settings = self.settings.with_timeout(timeout);
        self
    }

    /// The time allowed to establish a connection, TLS handshake included.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.settings = self.settings.with_connect_timeout(timeout);
        self
    }

    /// The default cap on a response body.
    #[must_use]
    pub fn max_body_bytes(mut self, max: usize) -> Self {
        self.settings = self.settings.with_max_body_bytes(max);
        self
    }

    /// Replaces the default user agent (`http-hyper/<version> auth-core/<version>`).
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Trusts `root` in addition to the platform's roots (a company CA, a test CA).
    #[must_use]
    pub fn add_root_certificate(mut self, root: CertificateDer<'static>) -> Self {
        self.extra_roots.push(root);
        self
    }

    /// Uses `config` as is for TLS (its own roots, verifier, client certificate) instead of
    /// the platform verifier. Its ALPN protocols are replaced by `h2` and `http/1.1`.
    #[must_use]
    pub fn tls_config(mut self, config: rustls::ClientConfig) -> Self {
        self.tls_config = Some(config);
        self
    }

    /// Ignores the proxy environment variables: every request connects directly.
    #[must_use]
    pub fn no_proxy(mut self) -> Self {
        self.proxies = Some(Proxies::default());
        self
    }

    /// Uses exactly these proxy rules instead of the environment's.
    #[cfg(test)]
    pub(crate) fn proxy_matcher(
        mut self,
        matcher: hyper_util::client::proxy::matcher::Matcher,
    ) -> Self {
        self.proxies = Some(Proxies::new(Some(matcher)));
        self
    }

    /// Builds the transport. Never panics, and needs no runtime.
    ///
    /// # Errors
    ///
    /// [`Error::TlsSetup`] when no TLS configuration can be made (no platform roots and
    /// no extra roots, or an unparsable extra root); [`Error::InvalidUserAgent`] when the
    /// user agent is not a valid header value.
    pub fn build(self) -> Result<HyperTransport, Error> {
        let user_agent = match self.user_agent {
            Some(custom) => HeaderValue::from_str(&custom).map_err(|_| Error::InvalidUserAgent)?,
            None => HeaderValue::from_str(&user_agent(
                env!("CARGO_PKG_NAME"),
                env!("CARGO_PKG_VERSION"),
            ))
            .map_err(|_| Error::InvalidUserAgent)?,
        };
        // `to_str` in `HyperTransport::user_agent` relies on this.
        if user_agent.to_str().is_err() {
            return Err(Error::InvalidUserAgent);
        }
        let tls = match self.tls_config {
            Some(config) => config,
            None => platform_tls_config(self.extra_roots)?,
        };

        let mut http = HttpConnector::new();
        // The TLS connector below decides which schemes are allowed.
        http.enforce_http(false);
        // Token requests and API calls are small request/response pairs: Nagle's delay
        // only adds latency.
        http.set_nodelay(true);
        let proxies = self
            .proxies
            .unwrap_or_else(|| Proxies::new(proxy::matcher(&ProxyEnv::from_process_env())));
        let https = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            // Plain http stays possible: auth-core refuses credentials over http except
            // to loopback, and local test servers speak plain http.
            .https_or_http()
            .enable_http1()
            // HTTP/2 only where the server offers it through ALPN; plain http stays 1.1.
            .enable_http2()
            .wrap_connector(ProxyConnector::new(http, proxies.clone()));
        let connector = ConnectTimeout::new(https, self.settings.connect_timeout);

        let client = Client::builder(TokioExecutor::new())
            .timer(TokioTimer::new())
            // Without a timer the pool never evicts idle connections on its own.
            .pool_timer(TokioTimer::new())
            .build(connector);
        Ok(HyperTransport {
            client,
            settings: self.settings,
            user_agent,
            proxies,
        })
    }
}

/// rustls with the ring provider and the platform's certificate verifier.
///
/// The provider is passed explicitly rather than installed process-wide: this transport
/// then works whatever default another library installed (or failed to), and never
/// changes global state.
fn platform_tls_config(
    extra_roots: Vec<CertificateDer<'static>>,
) -> Result<rustls::ClientConfig, Error> {
    let provider: Arc<CryptoProvider> = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = if extra_roots.is_empty() {
        Verifier::new(provider.clone())
    } else {
        Verifier::new_with_extra_roots(extra_roots, provider.clone())
    }
    .map_err(Error::TlsSetup)?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(Error::TlsSetup)?
        .dangerous() // ok: not dangerous, this is the platform's own verification.
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_user_agent_names_this_crate_and_auth_core() {
        let transport = HyperTransport::new().unwrap();
        let agent = transport.user_agent();
        assert!(
            agent.starts_with(&format!("http-hyper/{} ", env!("CARGO_PKG_VERSION"))),
            "{agent}"
        );
        assert!(agent.contains(" auth-core/"), "{agent}");
    }

    #[test]
    fn a_user_agent_with_a_line_break_is_refused() {
        for bad in ["tool/1.0\r\nx-injected: 1", "tool\0", "caf\u{e9}/1"] {
            let err = HyperTransport::builder()
                .user_agent(bad)
                .build()
                .unwrap_err();
            assert!(matches!(err, Error::InvalidUserAgent), "{bad:?}: {err:?}");
        }
    }

    #[test]
    fn an_unparsable_extra_root_is_a_tls_setup_error() {
        let garbage = CertificateDer::from(b"not a certificate".to_vec());
        let err = HyperTransport::builder()
            .add_root_certificate(garbage)
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::TlsSetup(_)), "{err:?}");
    }

    #[test]
    fn builder_limits_reach_the_transport() {
        let transport = HyperTransport::builder()
            .timeout(Duration::from_secs(7))
            .connect_timeout(Duration::from_secs(3))
            .max_body_bytes(1234)
            .build()
            .unwrap();
        assert_eq!(
            *transport.settings(),
            TransportSettings::default()
                .with_timeout(Duration::from_secs(7))
                .with_connect_timeout(Duration::from_secs(3))
                .with_max_body_bytes(1234)
        );
        let shown = format!("{transport:?}");
        assert!(
            shown.contains("HyperTransport") && shown.contains("1234"),
            "{shown}"
        );
    }

    #[tokio::test]
    async fn http_versions_that_cannot_be_spoken_are_refused_before_sending() {
        let transport = HyperTransport::new().unwrap();
        let cases = [
            ("http://127.0.0.1:9/", http::Version::HTTP_09),
            ("http://127.0.0.1:9/", http::Version::HTTP_2),
            ("https://127.0.0.1:9/", http::Version::HTTP_3),
        ];
        for (url, version) in cases {
            let request = http::Request::get(url)
                .version(version)
                .body(Bytes::new())
                .unwrap();
            let err = transport.send(request).await.unwrap_err();
            assert_eq!(
                err.kind(),
                TransportErrorKind::InvalidRequest,
                "{version:?}"
            );
        }
    }

    #[tokio::test]
    async fn urls_that_are_not_absolute_http_are_refused_before_sending() {
        let transport = HyperTransport::new().unwrap();
        for url in [
            "/relative",
            "ftp://example.test/file",
            "mailto:someone@example.test",
        ] {
            let request = http::Request::get(url).body(Bytes::new()).unwrap();
            let err = transport.send(request).await.unwrap_err();
            assert_eq!(err.kind(), TransportErrorKind::InvalidRequest, "{url}");
            assert!(!err.is_retryable(), "{url}");
            assert!(!err.to_string().contains("example.test"), "{url}: {err}");
        }
    }
}
