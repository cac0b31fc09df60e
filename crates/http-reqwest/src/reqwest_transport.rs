//! [`ReqwestTransport`] and its builder.

use std::fmt;

use async_trait::async_trait;
use auth_core::transport::{
    HttpRequest, HttpResponse, HttpTransport, TransportError, TransportSettings,
};
use http::HeaderValue;
use http_common::{Exchange, LimitedBody, ProxyEnv, RequestLabel, user_agent};

use crate::Error;
use crate::error_mapping;

/// An [`HttpTransport`] on a [`reqwest::Client`], with rustls and the *ring* crypto
/// provider.
///
/// - **Redirects are never followed**: a `3xx` comes back as a response, `Location` and
///   all, so credentials are never carried to another host by the transport.
/// - **Timeouts**: a connect timeout ([`TransportSettings::connect_timeout`]) and a total
///   timeout covering connecting, sending and reading the whole body
///   ([`RequestOptions::timeout`](auth_core::transport::RequestOptions::timeout), else
///   [`TransportSettings::timeout`]).
/// - **Body cap**: a declared `Content-Length` over the cap is refused before any of the
///   body is read; otherwise the body is collected chunk by chunk and refused as soon as
///   it passes the cap, so an oversized body is never held in memory.
/// - **Content codings**: sends `Accept-Encoding: gzip, deflate, br` (unless the request
///   sets its own) and decodes those codings; the cap applies to the decoded body. Any
///   other `Content-Encoding` is refused with
///   [`TransportErrorKind::UnsupportedContentEncoding`](auth_core::TransportErrorKind).
/// - **User agent**: `http-reqwest/<version> auth-core/<version>` unless overridden.
/// - Statuses are not errors: a `201`, `404` or `500` is a response.
/// - Errors are [`TransportError`]s whose messages name the method, origin and path, never
///   the query string, headers or body.
///
/// It does **not** decide which URLs may carry credentials: plain `http://` to a remote
/// host is refused by `auth-core` before a request reaches any transport
/// ([`auth_core::secure_url::ensure_secure`]). Given such a request directly, this
/// transport sends it.
///
/// Requests must be sent from inside a Tokio runtime with I/O and time enabled (reqwest
/// is built on Tokio). Outside any runtime, [`send`](HttpTransport::send) returns an
/// error; inside a runtime built without those drivers, Tokio panics at the first
/// socket or timer (a runtime cannot be asked beforehand which drivers it has).
///
/// ```no_run
/// use auth_core::HttpTransport;
/// use http_reqwest::ReqwestTransport;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let transport = ReqwestTransport::new()?;
/// let request = http::Request::get("https://auth.example.com/.well-known/oauth-authorization-server")
///     .body(bytes::Bytes::new())?;
/// let response = transport.send(request).await?;
/// println!("{} ({} bytes)", response.status(), response.body().len());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    settings: TransportSettings,
}

impl fmt::Debug for ReqwestTransport {
    // reqwest's `Client` prints its default headers, which a caller's own client may use
    // for credentials: leave it out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReqwestTransport")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl ReqwestTransport {
    /// A transport with the default [`TransportSettings`], the system's trust store and
    /// this crate's user agent.
    ///
    /// ```
    /// let transport = http_reqwest::ReqwestTransport::new()?;
    /// # Ok::<(), http_reqwest::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::ClientSetup`] if the TLS stack cannot be set up.
    pub fn new() -> Result<Self, Error> {
        Self::builder().build()
    }

    /// A builder for a transport with other settings, extra root certificates or another
    /// user agent.
    pub fn builder() -> ReqwestTransportBuilder {
        ReqwestTransportBuilder::default()
    }

    /// Wraps a client the caller built, to share its connection pool, proxy or TLS
    /// configuration.
    ///
    /// `settings` still applies: every request gets the total timeout and body cap from
    /// it (or from its [`RequestOptions`](auth_core::transport::RequestOptions)), which
    /// override the client's own total timeout. What was fixed when the client was built
    /// stays as the caller chose: connect timeout, user agent, default headers, TLS roots
    /// and proxies (reqwest's defaults send even loopback requests through `HTTP_PROXY`,
    /// which clients from [`ReqwestTransport::builder`] never do).
    ///
    /// **Redirects are then the caller's responsibility.** reqwest follows redirects
    /// inside [`reqwest::Client::execute`], before any response reaches this transport,
    /// and a client's redirect policy can be neither changed nor inspected afterwards.
    /// Unless the client was built with [`reqwest::redirect::Policy::none()`] (or a policy
    /// that never follows), a redirect has been followed before this transport could see
    /// it. When it leads to another scheme, host or port, reqwest drops `Authorization`,
    /// `Cookie` and `Proxy-Authorization`, but keeps every other header (an API key in a
    /// custom header goes along), and a `307` or `308` re-sends the body, which for a
    /// token request can hold the client secret or an authorization code.
    ///
    /// What this transport does about it: it compares the URL reqwest answered from with
    /// the one requested and, if they differ, returns a [`TransportError`] (not
    /// retryable) instead of the response, so the caller never acts on an answer from
    /// elsewhere. It cannot unsend what the client already sent.
    ///
    /// ```
    /// use auth_core::transport::TransportSettings;
    /// use http_reqwest::ReqwestTransport;
    ///
    /// // Building a reqwest client needs a rustls crypto provider installed first.
    /// http_reqwest::install_crypto_provider();
    /// let client = reqwest::Client::builder()
    ///     .redirect(reqwest::redirect::Policy::none())
    ///     .build()?;
    /// let transport = ReqwestTransport::from_client(client, TransportSettings::default());
    /// # Ok::<(), reqwest::Error>(())
    /// ```
    pub fn from_client(client: reqwest::Client, settings: TransportSettings) -> Self {
        Self { client, settings }
    }

    /// The settings requests are sent with.
    pub fn settings(&self) -> &TransportSettings {
        &self.settings
    }

    /// The underlying client, to send other requests through the same connection pool.
    /// Requests sent on it directly get none of this transport's guarantees except those
    /// built into the client (no redirects, connect timeout, user agent).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

#[async_trait]
impl HttpTransport for ReqwestTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let label = RequestLabel::of(&request);
        // reqwest panics when polled outside Tokio; a typed error is kinder.
        let exchange = Exchange::begin(&request, &label, env!("CARGO_PKG_NAME"))?;
        exchange.finish(self.exchange(&label, request).await)
    }
}

impl ReqwestTransport {
    /// Sends `request` and collects its decoded body under the cap.
    async fn exchange(
        &self,
        label: &RequestLabel,
        request: HttpRequest,
    ) -> Result<HttpResponse, TransportError> {
        let (timeout, max_body_bytes) = self.settings.limits_for(&request);

        let mut outgoing = reqwest::Request::try_from(request)
            .map_err(|err| error_mapping::map(label, err, timeout))?;
        // reqwest's request timeout runs from the start of the connection to the end of
        // the body (it is carried into the response body), which is the total timeout
        // the transport contract asks for.
        *outgoing.timeout_mut() = Some(timeout);
        let requested_url = outgoing.url().clone();

        let mut response = self
            .client
            .execute(outgoing)
            .await
            .map_err(|err| error_mapping::map(label, err, timeout))?;
        if !same_resource(&requested_url, response.url()) {
            return Err(error_mapping::redirect_followed(label));
        }

        // `content_length` is the body's declared size, not the header: for a `HEAD`
        // answer or a `304` it is 0 whatever `Content-Length` says, and for a body reqwest
        // decodes it is unknown (the cap applies to the decoded bytes).
        let declared = response.content_length();
        let status = response.status();
        let version = response.version();
        let headers = std::mem::take(response.headers_mut());
        let mut body = LimitedBody::start(label, max_body_bytes, &headers, declared)?;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|err| error_mapping::map(label, err, timeout))?
        {
            body.push(&chunk)?;
        }

        let mut answer = http::Response::new(body.finish());
        *answer.status_mut() = status;
        *answer.version_mut() = version;
        *answer.headers_mut() = headers;
        Ok(answer)
    }
}

/// Whether the response came from the URL requested. A client that follows redirects
/// reports the last URL it fetched; compared on the parts a redirect changes, as the URL
/// goes through `http::Uri` and back inside reqwest.
fn same_resource(requested: &reqwest::Url, answered: &reqwest::Url) -> bool {
    requested.scheme() == answered.scheme()
        && requested.host_str() == answered.host_str()
        && requested.port_or_known_default() == answered.port_or_known_default()
        && requested.path() == answered.path()
        && requested.query() == answered.query()
}

/// Builds a [`ReqwestTransport`].
///
/// ```
/// use std::time::Duration;
/// use auth_core::transport::TransportSettings;
/// use http_reqwest::ReqwestTransport;
///
/// let transport = ReqwestTransport::builder()
///     .settings(
///         TransportSettings::default()
///             .with_timeout(Duration::from_secs(10))
///             .with_max_body_bytes(1 << 20),
///     )
///     .user_agent("attendance-sync/2.1")
///     .build()?;
/// # Ok::<(), http_reqwest::Error>(())
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct ReqwestTransportBuilder {
    settings: TransportSettings,
    root_certificates_pem: Vec<Vec<u8>>,
    user_agent: Option<String>,
}

impl fmt::Debug for ReqwestTransportBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReqwestTransportBuilder")
            .field("settings", &self.settings)
            .field(
                "root_certificate_bundles",
                &self.root_certificates_pem.len(),
            )
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

impl ReqwestTransportBuilder {
    /// Timeouts and body cap; [`TransportSettings::default`] unless set.
    pub fn settings(mut self, settings: TransportSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Trusts the certificates in `pem` (one or more `-----BEGIN CERTIFICATE-----`
    /// blocks) as roots, in addition to the system's trust store: for a private CA or a
    /// test server. May be called more than once.
    pub fn add_root_certificates_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates_pem.push(pem.into());
        self
    }

    /// Sends `user_agent` instead of `http-reqwest/<version> auth-core/<version>`.
    /// A request's own `User-Agent` header still wins.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Builds the transport.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUserAgent`], [`Error::InvalidRootCertificate`], or
    /// [`Error::ClientSetup`] if the TLS stack or the system's trust store cannot be set
    /// up.
    pub fn build(self) -> Result<ReqwestTransport, Error> {
        self.build_with_env(|name| std::env::var(name).ok())
    }

    /// [`build`](Self::build), reading environment variables through `var`.
    fn build_with_env(
        self,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<ReqwestTransport, Error> {
        crate::install_crypto_provider();

        let user_agent = self
            .user_agent
            .unwrap_or_else(|| user_agent(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION")));
        let user_agent = HeaderValue::try_from(user_agent).map_err(|_| Error::InvalidUserAgent)?;

        let mut roots = Vec::new();
        for pem in &self.root_certificates_pem {
            roots.extend(parse_root_certificates(pem)?);
        }

        let proxies = crate::proxy_env::proxies(&ProxyEnv::from_lookup(var));
        let builder = if proxies.is_empty() {
            // Also keeps reqwest from reading the environment a second time.
            reqwest::Client::builder().no_proxy()
        } else {
            // Setting any proxy turns reqwest's own reading of the environment off.
            proxies
                .into_iter()
                .fold(reqwest::Client::builder(), reqwest::ClientBuilder::proxy)
        };
        let client = builder
            // A redirect must never carry credentials elsewhere: 3xx goes to the caller.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.settings.connect_timeout)
            // Per-request timeouts are set on every request; this covers requests sent
            // through `ReqwestTransport::client` directly.
            .timeout(self.settings.timeout)
            .user_agent(user_agent)
            .tls_certs_merge(roots)
            .build()
            .map_err(|err| Error::ClientSetup {
                reason: chain_text(&err.without_url()),
            })?;
        Ok(ReqwestTransport {
            client,
            settings: self.settings,
        })
    }
}

/// The certificates in a PEM bundle, each checked to be usable as a trust anchor, so a
/// bad one is reported as such rather than as a failure to set up TLS.
fn parse_root_certificates(pem: &[u8]) -> Result<Vec<reqwest::Certificate>, Error> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    let invalid = |reason: String| Error::InvalidRootCertificate { reason };
    let mut certificates = Vec::new();
    for der in CertificateDer::pem_slice_iter(pem) {
        let der = der.map_err(|err| invalid(format!("unreadable PEM: {err}")))?;
        rustls::RootCertStore::empty()
            .add(der.clone())
            .map_err(|err| invalid(err.to_string()))?;
        certificates.push(
            reqwest::Certificate::from_der(&der)
                .map_err(|err| invalid(chain_text(&err.without_url())))?,
        );
    }
    if certificates.is_empty() {
        return Err(invalid("no PEM certificate found".to_owned()));
    }
    Ok(certificates)
}

/// An error and its causes, joined with `: `.
fn chain_text(err: &(dyn std::error::Error + 'static)) -> String {
    std::iter::successors(Some(err), |&err| err.source())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_resource_compares_what_a_redirect_changes() {
        let url = |s: &str| reqwest::Url::parse(s).unwrap();
        let base = url("https://a.example/p?q=1");
        assert!(same_resource(&base, &url("https://a.example:443/p?q=1")));
        for other in [
            "http://a.example/p?q=1",
            "https://b.example/p?q=1",
            "https://a.example:8443/p?q=1",
            "https://a.example/other?q=1",
            "https://a.example/p?q=2",
            "https://a.example/p",
        ] {
            assert!(!same_resource(&base, &url(other)), "{other}");
        }
    }

    #[test]
    fn builder_refuses_a_user_agent_with_a_line_break() {
        let err = ReqwestTransport::builder()
            .user_agent("tool/1\r\nX-Injected: yes")
            .build()
            .unwrap_err();
        assert_eq!(err, Error::InvalidUserAgent);
    }

    #[test]
    fn builder_refuses_pem_without_a_usable_certificate() {
        for pem in [
            &b""[..],
            b"not a certificate",
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            // A certificate block whose content is not a certificate.
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            // Not base64 at all.
            b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
        ] {
            let err = ReqwestTransport::builder()
                .add_root_certificates_pem(pem)
                .build()
                .unwrap_err();
            assert!(
                matches!(err, Error::InvalidRootCertificate { .. }),
                "{pem:?}: {err:?}"
            );
        }
    }

    /// A server on 127.0.0.1 that records each request line and answers `200` with `name`.
    async fn recording_server(
        name: &'static str,
    ) -> (
        std::net::SocketAddr,
        std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    ) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let line = head.lines().next().unwrap_or_default().to_owned();
                record.lock().unwrap().push(line);
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{name}",
                    name.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            }
        });
        (addr, seen)
    }

    #[tokio::test]
    async fn an_environment_proxy_is_used_for_remote_hosts_but_never_for_loopback() {
        let (origin, origin_seen) = recording_server("origin").await;
        let (proxy, proxy_seen) = recording_server("proxy").await;
        let proxy_url = format!("http://{proxy}");
        let transport = ReqwestTransport::builder()
            .build_with_env(|name| (name == "HTTP_PROXY").then(|| proxy_url.clone()))
            .unwrap();
        let send = |url: String| {
            let transport = transport.clone();
            async move {
                let request = http::Request::get(url).body(bytes::Bytes::new()).unwrap();
                transport.send(request).await.unwrap()
            }
        };

        let direct = send(format!("http://{origin}/token?code=c")).await;
        let via_name = send(format!("http://localhost:{}/token", origin.port())).await;
        // `.invalid` never resolves (RFC 6761): only the proxy can answer this one, and
        // no lookup is made because the proxy is asked instead.
        let remote = send("http://auth.example.invalid/token".to_owned()).await;

        assert_eq!(direct.body(), "origin");
        assert_eq!(via_name.body(), "origin");
        assert_eq!(remote.body(), "proxy");
        assert_eq!(
            *origin_seen.lock().unwrap(),
            ["GET /token?code=c HTTP/1.1", "GET /token HTTP/1.1"]
        );
        assert_eq!(
            *proxy_seen.lock().unwrap(),
            ["GET http://auth.example.invalid/token HTTP/1.1"]
        );
    }

    #[test]
    fn debug_shows_settings_only() {
        let transport = ReqwestTransport::new().unwrap();
        let debug = format!("{transport:?}");
        assert!(
            debug.starts_with("ReqwestTransport { settings: TransportSettings"),
            "{debug}"
        );
    }
}
