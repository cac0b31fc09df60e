//! HTTP proxies from the environment, read by http-common's [`ProxyEnv`] the way curl and
//! reqwest read them (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`, upper or lower
//! case), so that switching the backend does not change which requests go through a
//! proxy. [`ProxyEnv`] adds the same two rules for every backend: loopback (`127.0.0.0/8`,
//! `::1`, `localhost`) always goes direct, since a request allowed over plain http because
//! it never leaves the machine must not be handed to a proxy; and under CGI
//! (`REQUEST_METHOD` set) every proxy variable is ignored (httpoxy, CVE-2016-5385).
//!
//! `https://` destinations go through an HTTP `CONNECT` tunnel (TLS stays end to end);
//! `http://` destinations are sent to the proxy in absolute form. Only `http://` proxy
//! URLs are supported: a request that would use an `https://` or SOCKS proxy fails with a
//! connect error rather than silently going direct.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Uri;
use http_common::ProxyEnv;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower_service::Service;

use crate::connect::BoxError;

/// The proxy rules for `env`: `None` when no proxy is configured, so the common case
/// costs nothing per request.
pub(crate) fn matcher(env: &ProxyEnv) -> Option<Matcher> {
    if env.is_empty() {
        return None;
    }
    // hyper-util's matcher parses the URLs as reqwest does: one that does not parse is
    // ignored, and ALL_PROXY serves a scheme without a usable proxy of its own.
    Some(
        Matcher::builder()
            .all(env.all().unwrap_or_default())
            .http(env.http().unwrap_or_default())
            .https(env.https().unwrap_or_default())
            .no(env.no_proxy())
            .build(),
    )
}

/// The proxy settings a transport uses.
#[derive(Clone, Default)]
pub(crate) struct Proxies(Option<Arc<Matcher>>);

impl fmt::Debug for Proxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The matcher's own Debug shows proxy URLs, which may carry a password.
        f.write_str(if self.0.is_some() {
            "Proxies(configured)"
        } else {
            "Proxies(none)"
        })
    }
}

impl Proxies {
    pub(crate) fn new(matcher: Option<Matcher>) -> Self {
        Proxies(matcher.map(Arc::new))
    }

    /// The `Proxy-Authorization` to add to a request for `uri` sent to a proxy in absolute
    /// form (the tunnel sends its own on `CONNECT`).
    pub(crate) fn forward_auth(&self, uri: &Uri) -> Option<http::HeaderValue> {
        if uri.scheme_str() != Some("http") {
            return None;
        }
        let intercept = self.0.as_ref()?.intercept(uri)?;
        intercept.basic_auth().cloned()
    }
}

/// A proxy URL this connector cannot use (`https://` or SOCKS).
#[derive(Debug)]
pub(crate) struct UnsupportedProxy;

impl fmt::Display for UnsupportedProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the configured proxy is not an http:// proxy, which is all http-hyper supports",
        )
    }
}

impl std::error::Error for UnsupportedProxy {}

/// Connects directly, through a `CONNECT` tunnel, or to the proxy itself, as the
/// destination and the proxy settings say.
#[derive(Clone, Debug)]
pub(crate) struct ProxyConnector {
    http: HttpConnector,
    proxies: Proxies,
}

impl ProxyConnector {
    pub(crate) fn new(http: HttpConnector, proxies: Proxies) -> Self {
        Self { http, proxies }
    }
}

impl Service<Uri> for ProxyConnector {
    type Response = ProxyStream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<ProxyStream, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // Each call clones the (always ready) HttpConnector.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let intercept = self.proxies.0.as_ref().and_then(|m| m.intercept(&dst));
        let mut http = self.http.clone();
        Box::pin(async move {
            let Some(proxy) = intercept else {
                let io = ready_then_call(&mut http, dst).await?;
                return Ok(ProxyStream { io, forward: false });
            };
            if proxy.uri().scheme_str() != Some("http") {
                return Err(Box::new(UnsupportedProxy) as BoxError);
            }
            if dst.scheme_str() == Some("https") {
                let mut tunnel = Tunnel::new(proxy.uri().clone(), http);
                if let Some(auth) = proxy.basic_auth() {
                    tunnel = tunnel.with_auth(auth.clone());
                }
                let io = ready_then_call(&mut tunnel, dst).await?;
                Ok(ProxyStream { io, forward: false })
            } else {
                let io = ready_then_call(&mut http, proxy.uri().clone()).await?;
                Ok(ProxyStream { io, forward: true })
            }
        })
    }
}

async fn ready_then_call<S>(service: &mut S, dst: Uri) -> Result<S::Response, BoxError>
where
    S: Service<Uri>,
    S::Error: Into<BoxError>,
{
    std::future::poll_fn(|cx| service.poll_ready(cx))
        .await
        .map_err(Into::into)?;
    service.call(dst).await.map_err(Into::into)
}

/// A TCP connection that remembers whether it leads to a forwarding proxy, which tells
/// hyper to send requests in absolute form.
#[derive(Debug)]
pub(crate) struct ProxyStream {
    io: TokioIo<TcpStream>,
    forward: bool,
}

impl Connection for ProxyStream {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.forward)
    }
}

impl Read for ProxyStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl Write for ProxyStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;
    use crate::HyperTransport;
    use auth_core::transport::{HttpTransport, TransportErrorKind};
    use bytes::Bytes;
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// Reads a request head (up to the blank line) from `stream`.
    async fn read_head(stream: &mut TcpStream) -> String {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if stream.read(&mut byte).await.unwrap() == 0 {
                break;
            }
            head.push(byte[0]);
        }
        String::from_utf8(head).unwrap()
    }

    /// A proxy on 127.0.0.1 that answers the one request it receives with `answer` and
    /// hands back the request head it saw.
    async fn forwarding_proxy() -> (SocketAddr, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let head = read_head(&mut stream).await;
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 7\r\n\r\nproxied")
                .await
                .unwrap();
            head
        });
        (addr, task)
    }

    #[tokio::test]
    async fn http_requests_go_to_the_proxy_in_absolute_form_with_its_credentials() {
        let (proxy, seen) = forwarding_proxy().await;
        let transport = HyperTransport::builder()
            .proxy_matcher(
                Matcher::builder()
                    .http(format!("http://user:pa55word@{proxy}"))
                    .build(),
            )
            .build()
            .unwrap();
        let request = http::Request::get("http://api.example.test/echo?x=1")
            .body(Bytes::new())
            .unwrap();

        let response = transport.send(request).await.unwrap();

        assert_eq!(response.body(), "proxied");
        let head = seen.await.unwrap();
        assert!(
            head.starts_with("GET http://api.example.test/echo?x=1 HTTP/1.1\r\n"),
            "{head}"
        );
        let lower = head.to_ascii_lowercase();
        assert!(lower.contains("\r\nhost: api.example.test\r\n"), "{head}");
        assert!(
            lower.contains("\r\nproxy-authorization: basic dxnlcjpwytu1d29yza==\r\n"),
            "{head}"
        );
    }

    #[tokio::test]
    async fn https_requests_tunnel_through_the_proxy_with_tls_end_to_end() {
        // The origin: TLS with the test certificate for localhost, one fixed answer.
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(include_bytes!("../tests/fixtures/server.pem"))
                .collect::<Result<_, _>>()
                .unwrap();
        let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(include_bytes!(
            "../tests/fixtures/server.key.pem"
        ))
        .unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let origin = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin_port = origin.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (tcp, _) = origin.accept().await.unwrap();
            let mut tls = acceptor.accept(tcp).await.unwrap();
            let mut buf = vec![0u8; 4096];
            let _ = tls.read(&mut buf).await.unwrap();
            tls.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\ntunneled")
                .await
                .unwrap();
            tls.flush().await.unwrap();
        });

        // The proxy: accepts CONNECT, then pipes bytes both ways to the origin.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = listener.local_addr().unwrap();
        let seen = tokio::spawn(async move {
            let (mut client, _) = listener.accept().await.unwrap();
            let head = read_head(&mut client).await;
            let mut upstream = TcpStream::connect(("127.0.0.1", origin_port))
                .await
                .unwrap();
            client
                .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                .await
                .unwrap();
            tokio::spawn(async move {
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
            head
        });

        let transport = HyperTransport::builder()
            .add_root_certificate(
                CertificateDer::from_pem_slice(include_bytes!("../tests/fixtures/ca.pem")).unwrap(),
            )
            .proxy_matcher(
                Matcher::builder()
                    .https(format!("http://user:pa55word@{proxy}"))
                    .build(),
            )
            .build()
            .unwrap();
        let url = format!("https://localhost:{origin_port}/secret/path?token=s3cr3t");
        let response = transport
            .send(http::Request::get(url).body(Bytes::new()).unwrap())
            .await
            .unwrap();

        assert_eq!(response.body(), "tunneled");
        let head = seen.await.unwrap();
        // The proxy learns the host and port, never the path or query.
        assert!(
            head.starts_with(&format!("CONNECT localhost:{origin_port} HTTP/1.1\r\n")),
            "{head}"
        );
        assert!(
            !head.contains("s3cr3t") && !head.contains("/secret"),
            "{head}"
        );
        assert!(
            head.to_ascii_lowercase()
                .contains("proxy-authorization: basic dxnlcjpwytu1d29yza=="),
            "{head}"
        );
    }

    #[tokio::test]
    async fn an_unreachable_proxy_is_a_retryable_connect_error() {
        let closed = {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            listener.local_addr().unwrap()
        };
        for url in ["http://api.example.test/", "https://api.example.test/"] {
            let transport = HyperTransport::builder()
                .proxy_matcher(Matcher::builder().all(format!("http://{closed}")).build())
                .build()
                .unwrap();
            let err = transport
                .send(http::Request::get(url).body(Bytes::new()).unwrap())
                .await
                .unwrap_err();
            assert_eq!(err.kind(), TransportErrorKind::Connect, "{url}: {err}");
            assert!(err.is_retryable(), "{url}: {err}");
        }
    }

    #[tokio::test]
    async fn a_socks_proxy_is_refused_rather_than_bypassed() {
        let transport = HyperTransport::builder()
            .proxy_matcher(Matcher::builder().all("socks5://127.0.0.1:1").build())
            .build()
            .unwrap();
        let err = transport
            .send(
                http::Request::get("http://api.example.test/")
                    .body(Bytes::new())
                    .unwrap(),
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Connect, "{err}");
        assert!(err.to_string().contains("not an http:// proxy"), "{err}");
    }

    fn proxied(vars: &[(&str, &str)], url: &str) -> Option<String> {
        let matcher = matcher(&ProxyEnv::from_vars(vars.iter().copied()))?;
        matcher
            .intercept(&url.parse::<Uri>().unwrap())
            .map(|i| i.uri().to_string())
    }

    #[test]
    fn proxies_are_read_like_curl_and_reqwest_read_them() {
        let proxy = "http://proxy.internal:3128";
        // (environment, destination, proxy used)
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, Option<&'a str>);
        let cases: &[Case<'_>] = &[
            (&[], "https://api.example.test/", None),
            (
                &[("HTTPS_PROXY", proxy)],
                "https://api.example.test/",
                Some("http://proxy.internal:3128/"),
            ),
            (
                &[("https_proxy", proxy)],
                "https://api.example.test/",
                Some("http://proxy.internal:3128/"),
            ),
            (&[("HTTPS_PROXY", proxy)], "http://api.example.test/", None),
            (
                &[("HTTP_PROXY", proxy)],
                "http://api.example.test/",
                Some("http://proxy.internal:3128/"),
            ),
            (
                &[("ALL_PROXY", proxy)],
                "https://api.example.test/",
                Some("http://proxy.internal:3128/"),
            ),
            (
                &[
                    ("ALL_PROXY", "http://a.internal:1"),
                    ("HTTPS_PROXY", "http://b.internal:2"),
                ],
                "https://x.test/",
                Some("http://b.internal:2/"),
            ),
            (
                &[("HTTPS_PROXY", proxy), ("NO_PROXY", "example.test")],
                "https://api.example.test/",
                None,
            ),
            (
                &[("HTTPS_PROXY", proxy), ("no_proxy", ".example.test")],
                "https://api.example.test/",
                None,
            ),
            (&[("HTTPS_PROXY", " ")], "https://api.example.test/", None),
            // The upper-case variable wins even when blank, as in reqwest.
            (
                &[("HTTPS_PROXY", ""), ("https_proxy", proxy)],
                "https://api.example.test/",
                None,
            ),
            // An unusable HTTP_PROXY leaves http to ALL_PROXY, as in reqwest.
            (
                &[("HTTP_PROXY", "ftp://[bad"), ("ALL_PROXY", proxy)],
                "http://api.example.test/",
                Some("http://proxy.internal:3128/"),
            ),
            // httpoxy: under CGI a request can set HTTP_PROXY through its Proxy header.
            (
                &[("HTTP_PROXY", proxy), ("REQUEST_METHOD", "GET")],
                "http://api.example.test/",
                None,
            ),
        ];
        for (vars, url, expected) in cases {
            assert_eq!(proxied(vars, url).as_deref(), *expected, "{vars:?} {url}");
        }
    }

    #[test]
    fn loopback_always_goes_direct() {
        let vars = [("ALL_PROXY", "http://proxy.internal:3128")];
        for url in [
            "http://127.0.0.1:8080/token",
            "http://127.1.2.3/",
            "http://[::1]:9000/callback",
            "http://localhost:7000/",
            "https://localhost/",
        ] {
            assert_eq!(proxied(&vars, url), None, "{url}");
        }
        assert!(proxied(&vars, "http://10.0.0.1/").is_some());
    }

    #[test]
    fn proxy_credentials_go_only_to_forwarded_http_requests_and_never_into_debug() {
        let vars = [("ALL_PROXY", "http://user:pa55word@proxy.internal:3128")];
        let proxies = Proxies::new(matcher(&ProxyEnv::from_vars(vars)));
        let auth = proxies
            .forward_auth(&Uri::from_static("http://api.example.test/"))
            .unwrap();
        assert_eq!(auth.to_str().unwrap(), "Basic dXNlcjpwYTU1d29yZA==");
        // https goes through a tunnel, which sends the credentials on CONNECT itself.
        assert!(
            proxies
                .forward_auth(&Uri::from_static("https://api.example.test/"))
                .is_none()
        );
        assert!(
            proxies
                .forward_auth(&Uri::from_static("http://127.0.0.1/"))
                .is_none()
        );
        assert_eq!(format!("{proxies:?}"), "Proxies(configured)");
    }
}
