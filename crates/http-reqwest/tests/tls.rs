//! HTTPS against a local rustls server whose certificate is issued by a private test CA:
//! trusted once the CA is added with `add_root_certificates_pem`, refused otherwise.
//!
//! The fixtures in `tests/fixtures/` are test-only: a P-256 CA (`ca.pem`, its key thrown
//! away) and a server certificate for `127.0.0.1` and `localhost` (`server.pem`,
//! `server.key.pem`), valid from 2000 to 2100, made with `openssl ca` (`-startdate`,
//! `-enddate`) so that no machine's clock is outside their validity.

// `allow-unwrap-in-tests` covers `#[test]` functions only, not the server below.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use auth_core::HttpTransport;
use auth_core::transport::TransportErrorKind;
use bytes::Bytes;
use http_reqwest::ReqwestTransport;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

const CA: &[u8] = include_bytes!("fixtures/ca.pem");
const SERVER_CERT: &[u8] = include_bytes!("fixtures/server.pem");
const SERVER_KEY: &[u8] = include_bytes!("fixtures/server.key.pem");

/// An HTTPS server on 127.0.0.1 answering every request with `200 OK` and `secure`, on a
/// thread of its own with blocking rustls (no TLS dependency beyond the one the crate has).
struct TlsServer {
    addr: SocketAddr,
    answered: Arc<AtomicUsize>,
}

impl TlsServer {
    fn start() -> TlsServer {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(SERVER_CERT)
            .collect::<Result<_, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_slice(SERVER_KEY).unwrap();
        let config = Arc::new(
            rustls::ServerConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let answered = Arc::new(AtomicUsize::new(0));
        let counter = answered.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                // A client that rejects the certificate hangs up mid-handshake; never let
                // a silent one block the next connection for long.
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let connection = rustls::ServerConnection::new(config.clone()).unwrap();
                let mut tls = rustls::StreamOwned::new(connection, stream);
                if read_head(&mut tls).is_some() {
                    let answer =
                        b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\nconnection: close\r\n\r\nsecure";
                    if tls.write_all(answer).and_then(|()| tls.flush()).is_ok() {
                        counter.fetch_add(1, Ordering::SeqCst);
                    }
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                }
            }
        });
        TlsServer { addr, answered }
    }

    fn url(&self) -> String {
        format!("https://{}/secure?token=SECRET-tls-token", self.addr)
    }
}

/// Reads up to the end of a request head, or `None` if the handshake or the read failed.
fn read_head(stream: &mut impl Read) -> Option<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    Some(())
}

fn get(url: &str) -> auth_core::HttpRequest {
    http::Request::get(url).body(Bytes::new()).unwrap()
}

#[tokio::test]
async fn a_server_certified_by_an_added_root_is_trusted() {
    let server = TlsServer::start();
    let transport = ReqwestTransport::builder()
        .add_root_certificates_pem(CA)
        .build()
        .unwrap();

    let answer = transport.send(get(&server.url())).await.unwrap();

    assert_eq!(answer.status(), 200);
    assert_eq!(answer.body(), "secure");
    assert_eq!(server.answered.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_unknown_issuer_is_a_connect_error_that_a_retry_will_not_fix() {
    let server = TlsServer::start();

    let err = ReqwestTransport::new()
        .unwrap()
        .send(get(&server.url()))
        .await
        .unwrap_err();

    assert_eq!(err.kind(), TransportErrorKind::Connect, "{err}");
    assert!(!err.is_retryable(), "{err}");
    assert!(!format!("{err} {err:?}").contains("SECRET"), "{err}");
    assert_eq!(server.answered.load(Ordering::SeqCst), 0);
}

#[test]
fn a_server_certificate_is_accepted_as_a_root_but_a_private_key_is_not() {
    // A leaf can be pinned as a root (rustls accepts it as a trust anchor); a PEM with no
    // certificate in it is refused.
    assert!(
        ReqwestTransport::builder()
            .add_root_certificates_pem(SERVER_CERT)
            .build()
            .is_ok()
    );
    let err = ReqwestTransport::builder()
        .add_root_certificates_pem(SERVER_KEY)
        .build()
        .unwrap_err();
    assert!(
        matches!(err, http_reqwest::Error::InvalidRootCertificate { .. }),
        "{err:?}"
    );
}
