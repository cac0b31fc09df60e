//! HTTPS against a local hyper server whose certificate is issued by a private test CA.
//!
//! The fixtures in `tests/fixtures/` are test-only: a P-256 CA (`ca.pem`, its key thrown
//! away) and a server certificate for `127.0.0.1` and `localhost` (`server.pem`,
//! `server.key.pem`), valid from 2000 to 2100 (made with `openssl ca -startdate -enddate`)
//! so that no machine's clock falls outside them.

// `allow-unwrap-in-tests` covers `#[test]` functions only, not the helpers below.
#![allow(clippy::unwrap_used)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use auth_core::transport::{HttpTransport, TransportErrorKind};
use bytes::Bytes;
use http_body_util::{Either, Full};
use http_hyper::HyperTransport;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

const CA: &[u8] = include_bytes!("fixtures/ca.pem");
const SERVER_CERT: &[u8] = include_bytes!("fixtures/server.pem");
const SERVER_KEY: &[u8] = include_bytes!("fixtures/server.key.pem");

/// Put in every URL: it must never show in an error.
const SECRET: &str = "SECRET-tls-token";

fn ca() -> CertificateDer<'static> {
    CertificateDer::from_pem_slice(CA).unwrap()
}

fn ring() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// An HTTPS server on 127.0.0.1 offering the `alpn` protocols, answering every request
/// with its HTTP version (`HTTP/2.0`, `HTTP/1.1`). Counts the requests it answered.
struct TlsServer {
    addr: SocketAddr,
    answered: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TlsServer {
    async fn start(alpn: &[&[u8]]) -> TlsServer {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(SERVER_CERT)
            .collect::<Result<_, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_slice(SERVER_KEY).unwrap();
        let mut config = rustls::ServerConfig::builder_with_provider(ring())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let answered = Arc::new(AtomicUsize::new(0));
        let counter = answered.clone();
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let counter = counter.clone();
                connections.spawn(async move {
                    // A client that rejects the certificate hangs up mid-handshake.
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service =
                        hyper::service::service_fn(move |req: http::Request<Incoming>| {
                            counter.fetch_add(1, Ordering::SeqCst);
                            let body = match req.uri().path() {
                                // 100 KiB with a declared length.
                                "/big-declared" => {
                                    Either::Left(Full::new(Bytes::from(vec![b'd'; 100 * 1024])))
                                }
                                // 100 KiB in 1 KiB data frames, no declared length.
                                "/big-streamed" => Either::Right(Chunks { left: 100 }),
                                _ => Either::Left(Full::new(Bytes::from(format!(
                                    "{:?}",
                                    req.version()
                                )))),
                            };
                            async move { Ok::<_, Infallible>(http::Response::new(body)) }
                        });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        TlsServer {
            addr,
            answered,
            task,
        }
    }

    fn url(&self, host: &str) -> String {
        format!("https://{host}:{}/secure?token={SECRET}", self.addr.port())
    }
}

/// A body of `left` 1 KiB data frames whose length is not known in advance.
struct Chunks {
    left: usize,
}

impl hyper::body::Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Infallible>>> {
        if self.left == 0 {
            return std::task::Poll::Ready(None);
        }
        self.left -= 1;
        let frame = hyper::body::Frame::data(Bytes::from(vec![b'c'; 1024]));
        std::task::Poll::Ready(Some(Ok(frame)))
    }
}

fn get(url: &str) -> auth_core::HttpRequest {
    http::Request::get(url).body(Bytes::new()).unwrap()
}

#[tokio::test]
async fn a_root_added_to_the_builder_is_trusted_and_http2_is_chosen_by_alpn() {
    let server = TlsServer::start(&[b"h2", b"http/1.1"]).await;
    let transport = HyperTransport::builder()
        .add_root_certificate(ca())
        .build()
        .unwrap();

    for host in ["127.0.0.1", "localhost"] {
        let answer = transport.send(get(&server.url(host))).await.unwrap();
        assert_eq!(answer.status(), 200, "{host}");
        assert_eq!(answer.version(), http::Version::HTTP_2, "{host}");
        assert_eq!(answer.body(), "HTTP/2.0", "{host}");
    }
    assert_eq!(server.answered.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_server_offering_only_http1_is_spoken_to_in_http1() {
    let server = TlsServer::start(&[b"http/1.1"]).await;
    let transport = HyperTransport::builder()
        .add_root_certificate(ca())
        .build()
        .unwrap();

    let answer = transport.send(get(&server.url("127.0.0.1"))).await.unwrap();

    assert_eq!(answer.version(), http::Version::HTTP_11);
    assert_eq!(answer.body(), "HTTP/1.1");
}

#[tokio::test]
async fn a_complete_tls_config_replaces_the_platform_verifier() {
    let server = TlsServer::start(&[b"h2", b"http/1.1"]).await;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(ring())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let transport = HyperTransport::builder()
        .tls_config(config)
        .build()
        .unwrap();

    let answer = transport.send(get(&server.url("localhost"))).await.unwrap();

    assert_eq!(answer.status(), 200);
    // The builder sets ALPN on the caller's config too.
    assert_eq!(answer.version(), http::Version::HTTP_2);
}

#[tokio::test]
async fn an_unknown_issuer_is_a_connect_error_that_a_retry_will_not_fix() {
    let server = TlsServer::start(&[b"h2", b"http/1.1"]).await;
    // The platform's roots only: the private test CA is not among them.
    let transport = HyperTransport::new().unwrap();

    let err = transport
        .send(get(&server.url("127.0.0.1")))
        .await
        .unwrap_err();

    assert_eq!(err.kind(), TransportErrorKind::Connect, "{err}");
    assert!(!err.is_retryable(), "{err}");
    assert!(err.to_string().contains("UnknownIssuer"), "{err}");
    assert!(!format!("{err} {err:?}").contains(SECRET), "{err}");
    assert_eq!(server.answered.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_tls_handshake_with_a_plain_http_server_is_a_final_not_tls_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut hello = [0u8; 512];
        let _ = tcp.read(&mut hello).await;
        let _ = tcp
            .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
            .await;
    });
    let transport = HyperTransport::builder()
        .add_root_certificate(ca())
        .build()
        .unwrap();

    let err = transport
        .send(get(&format!("https://{addr}/?token={SECRET}")))
        .await
        .unwrap_err();

    // Asking again gets the same plain-HTTP answer.
    assert_eq!(err.kind(), TransportErrorKind::NotTls, "{err}");
    assert!(!err.is_retryable(), "{err}");
    assert!(err.is_connect(), "{err}");
    assert!(
        err.to_string()
            .ends_with(&format!("for this loopback server use http://{addr}")),
        "{err}"
    );
    assert!(!format!("{err} {err:?}").contains(SECRET), "{err}");
    server.abort();
}

// Paused time: the server accepts TCP and then never answers the ClientHello, so the
// runtime goes idle and the clock jumps straight to the connect timeout.
#[tokio::test(start_paused = true)]
async fn the_connect_timeout_covers_a_stalled_tls_handshake() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        std::future::pending::<()>().await;
        drop(tcp);
    });
    let transport = HyperTransport::builder()
        .add_root_certificate(ca())
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();

    let err = transport
        .send(get(&format!("https://{addr}/")))
        .await
        .unwrap_err();

    assert_eq!(err.kind(), TransportErrorKind::Connect, "{err}");
    assert!(err.is_retryable(), "{err}");
    assert!(
        err.to_string().ends_with("no connection within 2s"),
        "{err}"
    );
    server.abort();
}

#[tokio::test]
async fn the_body_cap_holds_over_http2_declared_or_streamed() {
    let server = TlsServer::start(&[b"h2", b"http/1.1"]).await;
    let capped = HyperTransport::builder()
        .add_root_certificate(ca())
        .max_body_bytes(10 * 1024)
        .build()
        .unwrap();
    let roomy = HyperTransport::builder()
        .add_root_certificate(ca())
        .max_body_bytes(100 * 1024)
        .build()
        .unwrap();

    for path in ["big-declared", "big-streamed"] {
        let url = format!("https://localhost:{}/{path}", server.addr.port());
        let err = capped.send(get(&url)).await.unwrap_err();
        assert_eq!(
            err.kind(),
            TransportErrorKind::BodyTooLarge,
            "{path}: {err}"
        );
        // The error names the server, as every other transport error does.
        let origin = format!("https://localhost:{}: ", server.addr.port());
        assert!(err.to_string().contains(&origin), "{err}");

        let answer = roomy.send(get(&url)).await.unwrap();
        assert_eq!(answer.version(), http::Version::HTTP_2, "{path}");
        assert_eq!(answer.body().len(), 100 * 1024, "{path}");
    }
}
