//! Transport conformance: what every [`HttpTransport`] backend must do, checked the same
//! way for each.
//!
//! [`TestServer`] is a tiny scripted HTTP/1.1 server on `127.0.0.1:0`, written on raw
//! sockets so that it can misbehave on purpose (never answer, stall mid-body, promise a
//! huge body, send garbage). The scenario functions take a factory that builds the
//! transport under test from [`TransportSettings`], so the same checks run against every
//! backend: see `tests/transport_conformance.rs`.
//!
//! Scenarios are test code: they panic (through `assert!` and `expect`) when a transport
//! does not conform.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use auth_core::transport::{
    HttpRequest, HttpResponse, HttpTransport, RequestOptions, TransportError, TransportErrorKind,
    TransportSettings,
};
use bytes::Bytes;
use http::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// A value that must never appear in an error message: it is put in query strings,
/// headers and bodies of requests that fail.
pub const CANARY: &str = "s3cr3t-canary-value";

/// A body cap small enough that the oversized-body scenarios stay cheap.
const SMALL_CAP: usize = 64 * 1024;

/// How long the timeout scenarios allow: short, because the server never answers.
const SHORT_TIMEOUT: Duration = Duration::from_millis(300);

/// The total timeout of the transports built by the scenarios that expect an answer: a
/// non-conforming transport fails the scenario after this long instead of hanging it.
const SAFETY_TIMEOUT: Duration = Duration::from_secs(20);

/// One request as the server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The method, e.g. `POST`.
    pub method: String,
    /// The request target: path and query, e.g. `/echo?a=1`.
    pub target: String,
    /// The header fields in order, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The path, without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of header `name` (case-insensitive), in order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

#[derive(Default)]
struct ServerState {
    requests: Mutex<Vec<RecordedRequest>>,
}

impl ServerState {
    fn record(&self, request: RecordedRequest) {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(request);
    }
}

/// A scripted HTTP/1.1 server on `127.0.0.1`, stopped (with every connection) when
/// dropped.
///
/// It answers by path (the query is ignored):
///
/// | path | answer |
/// |---|---|
/// | `/echo` | 200, the request body, `x-echo-method: <method>` |
/// | `/hello` | 200 `hello` |
/// | `/redirect/<code>` | `<code>` with `Location: http://<this server>/target` |
/// | `/target` | 200 `redirect followed` (must never be hit) |
/// | `/status/<code>` | `<code>` with body `status <code>` |
/// | `/sized/<n>` | 200 with `Content-Length: <n>` and `n` bytes |
/// | `/chunked/<n>` | 200, `n` bytes in 1000-byte chunks |
/// | `/chunked-endless` | 200, 8 KiB chunks until the client goes away |
/// | `/declared-huge` | 200 with `Content-Length: 10000000000`, 16 bytes, then silence |
/// | `/head-huge` | 200 with `Content-Length: 10000000000` and no body (for `HEAD`) |
/// | `/multi-header` | 200 with two `set-cookie` fields |
/// | `/hang` | reads the request, never answers |
/// | `/stall-body` | a head promising 100 bytes, 10 bytes, then silence |
/// | `/truncated` | a head promising 100 bytes, 10 bytes, then closes |
/// | `/garbage` | bytes that are not HTTP, then closes |
/// | `/gzip/<n>`, `/br/<n>`, `/deflate/<n>` | 200, [`pattern`]`(n)` in that content coding |
/// | `/gzip-chunked/<n>` | the same gzip body, chunked |
/// | `/gzip-bomb` | 200, 50 MiB of zeros gzipped (about 50 KiB), chunked |
/// | `/gzip-corrupt` | 200, `Content-Encoding: gzip` over bytes that are not gzip |
/// | `/gzip-no-content` | 204 with `Content-Encoding: gzip` |
/// | `/zstd`, `/x-foo` | 200 in that (undecodable) content coding |
/// | anything else | 404 |
pub struct TestServer {
    addr: SocketAddr,
    state: Arc<ServerState>,
    task: JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // Dropping the accept task drops its JoinSet, which aborts every connection.
        self.task.abort();
    }
}

impl TestServer {
    /// Starts a server on an ephemeral port of `127.0.0.1`.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound.
    pub async fn start() -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let state = Arc::new(ServerState::default());
        let task = tokio::spawn(accept_loop(listener, addr, state.clone()));
        TestServer { addr, state, task }
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// An absolute URL on this server for `path_and_query` (starting with `/`).
    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{}", self.addr, path_and_query)
    }

    /// Every request received so far, in order of arrival.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many requests for `path` arrived.
    pub fn hits(&self, path: &str) -> usize {
        self.requests().iter().filter(|r| r.path() == path).count()
    }

    /// The one request received for `path`.
    ///
    /// # Panics
    ///
    /// When there was not exactly one.
    pub fn only_request_to(&self, path: &str) -> RecordedRequest {
        let mut matching: Vec<_> = self
            .requests()
            .into_iter()
            .filter(|r| r.path() == path)
            .collect();
        assert_eq!(matching.len(), 1, "expected exactly one request to {path}");
        matching.remove(0)
    }
}

async fn accept_loop(listener: TcpListener, addr: SocketAddr, state: Arc<ServerState>) {
    let mut connections = JoinSet::new();
    while let Ok((stream, _)) = listener.accept().await {
        connections.spawn(serve_connection(stream, addr, state.clone()));
        // Reap finished connections so the set does not grow with the test.
        while connections.try_join_next().is_some() {}
    }
}

/// Whether the connection may carry another request after an answer.
enum After {
    KeepAlive,
    Close,
}

async fn serve_connection(mut stream: TcpStream, addr: SocketAddr, state: Arc<ServerState>) {
    let mut buf = Vec::new();
    loop {
        let request = match read_request(&mut stream, &mut buf).await {
            Some(request) => request,
            None => return,
        };
        state.record(request.clone());
        match answer(&mut stream, addr, &request).await {
            Ok(After::KeepAlive) => {}
            Ok(After::Close) | Err(_) => return,
        }
    }
}

/// Reads one request with a `Content-Length` body (or none). `None` on EOF or on
/// anything this little server does not understand.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<RecordedRequest> {
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > 64 * 1024 || stream.read_buf(buf).await.ok()? == 0 {
            return None;
        }
    };
    let head = std::str::from_utf8(&buf[..head_end]).ok()?.to_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let content_length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map_or(Some(0), |(_, v)| v.parse::<usize>().ok())?;
    let body_start = head_end + 4;
    while buf.len() < body_start + content_length {
        if stream.read_buf(buf).await.ok()? == 0 {
            return None;
        }
    }
    let body = buf[body_start..body_start + content_length].to_vec();
    buf.drain(..body_start + content_length);
    Some(RecordedRequest {
        method,
        target,
        headers,
        body,
    })
}

fn head(status: u16, headers: &[(&str, String)]) -> Vec<u8> {
    let reason = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Whatever");
    let mut out = format!("HTTP/1.1 {status} {reason}\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.into_bytes()
}

async fn simple(
    stream: &mut TcpStream,
    status: u16,
    extra: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<After> {
    let mut headers = vec![("content-length", body.len().to_string())];
    headers.extend(extra.iter().cloned());
    let mut out = head(status, &headers);
    out.extend_from_slice(body);
    stream.write_all(&out).await?;
    Ok(After::KeepAlive)
}

async fn answer(
    stream: &mut TcpStream,
    addr: SocketAddr,
    request: &RecordedRequest,
) -> std::io::Result<After> {
    let path = request.path().to_owned();
    let mut segments = path.trim_start_matches('/').splitn(2, '/');
    let first = segments.next().unwrap_or_default();
    let number = segments.next().and_then(|s| s.parse::<u64>().ok());
    match (first, number) {
        ("echo", None) => {
            let method = ("x-echo-method", request.method.clone());
            simple(stream, 200, &[method], &request.body).await
        }
        ("hello", None) => simple(stream, 200, &[], b"hello").await,
        ("redirect", Some(code)) => {
            let location = ("location", format!("http://{addr}/target"));
            let status = u16::try_from(code).unwrap_or(302);
            simple(stream, status, &[location], b"moved").await
        }
        ("target", None) => simple(stream, 200, &[], b"redirect followed").await,
        ("status", Some(code)) => {
            let status = u16::try_from(code).unwrap_or(500);
            simple(stream, status, &[], format!("status {code}").as_bytes()).await
        }
        ("sized", Some(n)) => {
            let body = vec![b'x'; usize::try_from(n).unwrap_or(0)];
            simple(stream, 200, &[], &body).await
        }
        ("chunked", Some(n)) => {
            stream
                .write_all(&head(200, &[("transfer-encoding", "chunked".into())]))
                .await?;
            let mut left = usize::try_from(n).unwrap_or(0);
            while left > 0 {
                let size = left.min(1000);
                write_chunk(stream, &vec![b'y'; size]).await?;
                left -= size;
            }
            stream.write_all(b"0\r\n\r\n").await?;
            Ok(After::KeepAlive)
        }
        ("chunked-endless", None) => {
            stream
                .write_all(&head(200, &[("transfer-encoding", "chunked".into())]))
                .await?;
            let chunk = vec![b'z'; 8 * 1024];
            // Ends when the client closes the connection and a write fails.
            loop {
                write_chunk(stream, &chunk).await?;
            }
        }
        ("declared-huge", None) => {
            let mut out = head(200, &[("content-length", "10000000000".into())]);
            out.extend_from_slice(&[b'h'; 16]);
            stream.write_all(&out).await?;
            std::future::pending::<()>().await;
            Ok(After::Close)
        }
        ("head-huge", None) => {
            // A HEAD response describes the body it would have had, and has none.
            stream
                .write_all(&head(200, &[("content-length", "10000000000".into())]))
                .await?;
            Ok(After::KeepAlive)
        }
        ("multi-header", None) => {
            let cookies = [
                ("set-cookie", "a=1".to_owned()),
                ("set-cookie", "b=2".to_owned()),
            ];
            simple(stream, 200, &cookies, b"cookies").await
        }
        ("hang", None) => {
            std::future::pending::<()>().await;
            Ok(After::Close)
        }
        ("stall-body", None) => {
            let mut out = head(200, &[("content-length", "100".into())]);
            out.extend_from_slice(&[b's'; 10]);
            stream.write_all(&out).await?;
            std::future::pending::<()>().await;
            Ok(After::Close)
        }
        ("truncated", None) => {
            let mut out = head(200, &[("content-length", "100".into())]);
            out.extend_from_slice(&[b't'; 10]);
            stream.write_all(&out).await?;
            stream.shutdown().await?;
            Ok(After::Close)
        }
        ("garbage", None) => {
            stream.write_all(b"THIS IS NOT HTTP\r\n\r\n").await?;
            stream.shutdown().await?;
            Ok(After::Close)
        }
        (coding @ ("gzip" | "br" | "deflate"), Some(n)) => {
            let body = encode(coding, &pattern(usize::try_from(n).unwrap_or(0)));
            simple(
                stream,
                200,
                &[("content-encoding", coding.to_owned())],
                &body,
            )
            .await
        }
        ("gzip-chunked", Some(n)) => {
            let body = encode("gzip", &pattern(usize::try_from(n).unwrap_or(0)));
            chunked(stream, &[("content-encoding", "gzip".into())], &body, 100).await
        }
        ("gzip-bomb", None) => {
            let bomb = gzip_bomb();
            chunked(
                stream,
                &[("content-encoding", "gzip".into())],
                &bomb,
                8 * 1024,
            )
            .await
        }
        ("gzip-corrupt", None) => {
            let coding = ("content-encoding", "gzip".to_owned());
            simple(stream, 200, &[coding], b"this is not a gzip stream at all").await
        }
        ("gzip-no-content", None) => {
            let coding = ("content-encoding", "gzip".to_owned());
            stream.write_all(&head(204, &[coding])).await?;
            Ok(After::KeepAlive)
        }
        (coding @ ("zstd" | "x-foo"), None) => {
            let coding = ("content-encoding", coding.to_owned());
            simple(
                stream,
                200,
                &[coding],
                b"\x28\xb5\x2f\xfd compressed somehow",
            )
            .await
        }
        _ => simple(stream, 404, &[], b"not found").await,
    }
}

/// `body` sent with `Transfer-Encoding: chunked`, `chunk_size` bytes a chunk.
async fn chunked(
    stream: &mut TcpStream,
    extra: &[(&str, String)],
    body: &[u8],
    chunk_size: usize,
) -> std::io::Result<After> {
    let mut headers = vec![("transfer-encoding", "chunked".to_owned())];
    headers.extend(extra.iter().cloned());
    stream.write_all(&head(200, &headers)).await?;
    for chunk in body.chunks(chunk_size) {
        write_chunk(stream, chunk).await?;
    }
    stream.write_all(b"0\r\n\r\n").await?;
    Ok(After::KeepAlive)
}

/// `n` bytes of JSON-like text that compresses well but not trivially.
pub fn pattern(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + 32);
    let mut i = 0u32;
    while out.len() < n {
        out.extend_from_slice(
            format!("{{\"eventId\":{i},\"title\":\"Event {}\"}},", i % 97).as_bytes(),
        );
        i += 1;
    }
    out.truncate(n);
    out
}

/// `body` in the content coding `coding` (`gzip`, `br`, or `deflate`, which HTTP means
/// as zlib: RFC 9110 §8.4.1.2).
fn encode(coding: &str, body: &[u8]) -> Vec<u8> {
    use std::io::Write as _;

    let compression = flate2::Compression::default();
    let written = match coding {
        "gzip" => {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), compression);
            encoder.write_all(body).and_then(|()| encoder.finish())
        }
        "deflate" => {
            let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), compression);
            encoder.write_all(body).and_then(|()| encoder.finish())
        }
        "br" => {
            let mut out = Vec::new();
            {
                let mut encoder = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
                encoder.write_all(body).expect("brotli writes to memory");
            }
            Ok(out)
        }
        other => panic!("no encoder for {other}"),
    };
    written.expect("compression into memory succeeds")
}

/// How much a gzip bomb inflates to: 50 MiB.
pub const GZIP_BOMB_BYTES: usize = 50 * 1024 * 1024;

/// 50 MiB of zeros gzipped: fifty gzip members of 1 MiB of zeros each, back to back
/// (RFC 1952 §2.2 lets a file hold several members, and decoders read them all), so
/// building it costs one compression of 1 MiB.
pub fn gzip_bomb() -> Vec<u8> {
    let member = encode("gzip", &vec![0u8; 1024 * 1024]);
    member.repeat(GZIP_BOMB_BYTES / (1024 * 1024))
}

async fn write_chunk(stream: &mut TcpStream, chunk: &[u8]) -> std::io::Result<()> {
    let mut out = format!("{:x}\r\n", chunk.len()).into_bytes();
    out.extend_from_slice(chunk);
    out.extend_from_slice(b"\r\n");
    stream.write_all(&out).await
}

/// A request with the given method, URL and body.
///
/// # Panics
///
/// When `url` is not a valid URI.
pub fn request(method: Method, url: &str, body: impl Into<Bytes>) -> HttpRequest {
    http::Request::builder()
        .method(method)
        .uri(url)
        .body(body.into())
        .expect("a valid request")
}

/// `request` with `options` attached.
pub fn with_options(mut request: HttpRequest, options: RequestOptions) -> HttpRequest {
    options.apply(&mut request);
    request
}

/// Settings for scenarios that expect an answer: the defaults, with a total timeout that
/// turns a hang into a failure.
pub fn settings() -> TransportSettings {
    TransportSettings::default().with_timeout(SAFETY_TIMEOUT)
}

async fn expect_ok<T: HttpTransport>(transport: &T, request: HttpRequest) -> HttpResponse {
    let what = format!("{} {}", request.method(), request.uri().path());
    match transport.send(request).await {
        Ok(response) => response,
        Err(err) => panic!("{what}: expected a response, got {err:?}"),
    }
}

async fn expect_err<T: HttpTransport>(transport: &T, request: HttpRequest) -> TransportError {
    let what = format!("{} {}", request.method(), request.uri().path());
    match transport.send(request).await {
        Ok(response) => panic!("{what}: expected an error, got {}", response.status()),
        Err(err) => err,
    }
}

/// Everything a user could see of `err`: `Display`, `Debug` and every source's `Display`
/// and `Debug`.
pub fn everything_shown(err: &TransportError) -> String {
    let mut shown = format!("{err}\n{err:?}");
    let mut source = StdError::source(err);
    while let Some(s) = source {
        shown.push_str(&format!("\n{s}\n{s:?}"));
        source = s.source();
    }
    shown
}

/// A port on 127.0.0.1 where nothing listens (bound, then released).
async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    listener
        .local_addr()
        .expect("a bound listener has an address")
    // The listener is dropped here: connections to the port are refused.
}

/// A POST with headers and a body reaches the server intact, and the response's status,
/// headers and body come back intact.
pub async fn round_trip<T: HttpTransport>(make: impl Fn(TransportSettings) -> T) {
    let server = TestServer::start().await;
    let transport = make(settings());
    let body = "grant_type=client_credentials&scope=a%20b";
    let request = http::Request::post(server.url("/echo?tenant=42"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-request-id", "abc-123")
        .header("accept", "application/json")
        .body(Bytes::from(body))
        .expect("a valid request");

    let response = expect_ok(&transport, request).await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.body(), body.as_bytes());
    assert_eq!(
        response
            .headers()
            .get("x-echo-method")
            .and_then(|v| v.to_str().ok()),
        Some("POST")
    );
    let seen = server.only_request_to("/echo");
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.target, "/echo?tenant=42");
    assert_eq!(seen.body, body.as_bytes());
    assert_eq!(seen.header("content-length"), Some("41"));
    assert_eq!(
        seen.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(seen.header("x-request-id"), Some("abc-123"));
    assert_eq!(seen.header("accept"), Some("application/json"));
    assert_eq!(
        seen.header("host"),
        Some(server.addr().to_string().as_str())
    );
}

/// A GET keeps its query string byte for byte and sends no body.
pub async fn get_keeps_the_query_and_sends_no_body<T: HttpTransport>(
    make: impl Fn(TransportSettings) -> T,
) {
    let server = TestServer::start().await;
    let transport = make(settings());
    let target = "/echo?a=1&b=two%20words&c=%C3%A9&empty=";
    let response = expect_ok(&transport, request(Method::GET, &server.url(target), "")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.body().is_empty());
    let seen = server.only_request_to("/echo");
    assert_eq!(seen.method, "GET");
    assert_eq!(seen.target, target);
    assert!(seen.body.is_empty());
}

/// Every redirect status comes back as the response, `Location` intact, and its target
/// is never requested: a redirect must never carry credentials elsewhere.
pub async fn redirects_are_not_followed<T: HttpTransport>(make: impl Fn(TransportSettings) -> T) {
    let server = TestServer::start().await;
    let transport = make(settings());
    for code in [301u16, 302, 303, 307, 308] {
        let url = server.url(&format!("/redirect/{code}"));
        let post = http::Request::post(url)
            .header("authorization", format!("Bearer {CANARY}"))
            .body(Bytes::from_static(b"client_secret=x"))
            .expect("a valid request");
        let response = expect_ok(&transport, post).await;
        assert_eq!(response.status().as_u16(), code);
        assert_eq!(
            response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok()),
            Some(server.url("/target").as_str()),
            "{code}"
        );
        assert_eq!(response.body().as_ref(), b"moved", "{code}");
    }
    assert_eq!(server.hits("/target"), 0, "a redirect was followed");
    assert_eq!(server.requests().len(), 5);
}

/// A request whose answer never comes fails with a retryable `Timeout` after the
/// request's own timeout, even when the transport's default is far longer.
pub async fn request_timeout_gives_a_retryable_timeout<T: HttpTransport>(
    make: impl Fn(TransportSettings) -> T,
) {
    let server = TestServer::start().await;
    let transport = make(settings());
    let request = with_options(
        request(Method::GET, &server.url("/hang"), ""),
        RequestOptions::default().with_timeout(SHORT_TIMEOUT),
    );
    let err = expect_err(&transport, request).await;
    assert_eq!(err.kind(), TransportErrorKind::Timeout, "{err:?}");
    assert!(err.is_retryable(), "{err:?}");
    assert!(!err.is_connect(), "{err:?}");
}

/// The transport's default timeout applies when the request sets none.
pub async fn settings_timeout_applies_by_default<T: HttpTransport>(
    make: impl Fn(TransportSettings) -> T,
) {
    let server = TestServer::start().await;
    let transport = make(TransportSettings::default().with_timeout(SHORT_TIMEOUT));
    let err = expect_err(&transport, request(Method::GET, &server.url("/hang"), "")).await;
    assert_eq!(err.kind(), TransportErrorKind::Timeout, "{err:?}");
    assert!(err.is_retryable(), "{err:?}");
}

/// The total timeout covers the body: a server that sends the head and then stalls
/// cannot hold the caller.
pub async fn timeout_covers_a_stalled_body<T: HttpTransport>(
    make: impl Fn(TransportSettings) -> T,
) {
    let server = TestServer::start().await;
    let transport = make(settings());
    let request = with_options(
        request(Method::GET, &server.url("/stall-body"), ""),
        RequestOptions::default().with_timeout(SHORT_TIMEOUT),
    );
    let err = expect_err(&transport, request).await;
    assert_eq!(err.kind(), TransportErrorKind::Timeout, "{err:?}");
    assert!(err.is_retryable(), "{err:?}");
}

/// A closed port is a retryable `Connect` error: nothing reached a server.
pub async fn closed_port_is_a_retryable_connect_error<T: HttpTransport>(
    make: impl Fn(TransportSettings) -> T,
) {
    let addr = closed_port().await;
    let transport = make(settings());
    let err = expect_err(
        &transport,
        request(Method::POST, &format!("http://{addr}/token"), "x=1"),
    )
    .await;
    assert_eq!(err.kind(), TransportErrorKind::Connect, "{err:?}");
    assert!(err.is_connect(), "{err:?}");
    assert!(err.is_retryable(), "{err:?}");
}

/// A declared `Content-Length` over the cap is refused without reading the body (the
/// server never sends it, so waiting for it would hit the timeout instead), whether the
/// cap comes from the request or from the settings.
pub async fn declared_oversized_body_is_refused<T: HttpTransport>(
    make: impl Fn(TransportSettings) -> T,
) {
    let server = TestServer::start().await;

    let transport = make(settings());
    let capped = with_options(
        request(Method::GET, &server.url("/declared-huge"), ""),
        RequestOptions::default().with_max_body_bytes(SMALL_CAP),
    );
    let err = expect_err(&transport, capped).await;
    assert_eq!(err.kind(), TransportErrorKind::BodyTooLarge, "{err:?}");
    assert!(!err.is_retryable(), "{err:?}");

    let transport = make(settings().with_max_body_bytes(SMALL_CAP));
    let err = expect_err(
        &transport,
        request(Method::GET, &server.url("/declared-huge"), ""),
    )
    .await;
    assert_eq!(err.kind(), TransportErrorKind::BodyTooLarge, "{err:?}");
}

/// A chunked body with no declared length is refused once it passes the cap, even when
/// the server would never stop sending.
pub async fn chunked_oversized_body_is_refused<T: HttpTransport>(
    make: impl Fn(TransportSettings) -> T,
) {
    let server = TestServer::start().await;

    let transport = make(settings());
    let capped = with_options(
        request(Method::GET, &server.url("/chunked-endless"), ""),
        RequestOptions::default().with_max_body_bytes(SMALL_CAP),
    );
    let err = expect_err(&transport, capped).await;
    assert_eq!(err.kind(), TransportErrorKind::BodyTooLarge, "{err:?}");
    assert!(!err.is_retryable(), "{err:?}");

    let transport = make(settings().with_max_body_bytes(SMALL_CAP));
    let url = server.url(&format!("/chunked/{}", SMALL_CAP + 1));
    let err = expect_err(&transport, request(Method::GET, &url, "")).await;
    assert_eq!(err.kind(), TransportErrorKind::BodyTooLarge, "{err:?}");
}

/// A body of exactly the cap is accepted, one byte more is not: with a declared length
/// and chunked alike, and for a gzip body (declared or chunked) counted after decoding.
pub async fn body_at_the_cap_is_accepted<T: HttpTransport>(make: impl Fn(TransportSettings) -> T) {
    let server = TestServer::start().await;
    let transport = make(settings().with_max_body_bytes(SMALL_CAP));
    for kind in ["sized", "chunked", "gzip", "gzip-chunked"] {
        let at_cap = server.url(&format!("/{kind}/{SMALL_CAP}"));
        let response = expect_ok(&transport, request(Method::GET, &at_cap, "")).await;
        assert_eq!(response.body().len(), SMALL_CAP, "{kind}");

        let over = server.url(&format!("/{kind}/{}", SMALL_CAP + 1));
        let err = expect_err(&transport, request(Method::GET, &over, "")).await;
        assert_eq!(
            err.kind(),
            TransportErrorKind::BodyTooLarge,
            "{kind}: {err:?}"
        );
    }
}

/// The response to a `HEAD` has no body whatever its `Content-Length` says, so a huge
/// declared length is not refused.
pub async fn head_response_length_is_not_a_body<T: HttpTransport>(
    make: impl Fn(TransportSettings) -> T,
) {
    let server = TestServer::start().await;
    let transport = make(settings().with_max_body_bytes(SMALL_CAP));
    let response = expect_ok(
        &transport,
        request(Method::HEAD, &server.url("/head-huge"), ""),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.body().is_empty());
    assert_eq!(
        response
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok()),
        Some("10000000000")
    );
}

/// Without a `User-Agent` of its own, a request names the transport crate (and
/// auth-core); a request's own `User-Agent` is sent unchanged.
pub async fn user_agent_names_the_crate<T: HttpTransport>(
    make: impl Fn(TransportSettings) -> T,
    crate_name: &str,
) {
    let server = TestServer::start().await;
    let transport = make(settings());
    expect_ok(&transport, request(Method::GET, &server.url("/hello"), "")).await;
    let seen = server.only_request_to("/hello");
    let agent = seen.header("user-agent").expect("a User-Agent is sent");
    assert!(
        agent.starts_with(&format!("{crate_name}/")),
        "{agent:?} does not name {crate_name}"
    );
    assert!(agent.contains(" auth-core/"), "{agent:?}");

    let own = http::Request::get(server.url("/echo"))
        .header("user-agent", "my-tool/2.0")
        .body(Bytes::new())
        .expect("a valid request");
    expect_ok(&transport, own).await;
    let seen = server.only_request_to("/echo");
    assert_eq!(seen.header_all("user-agent"), ["my-tool/2.0"]);
}

/// Non-2xx statuses are responses, not errors, and keep their bodies.
pub async fn statuses_are_passed_through<T: HttpTransport>(make: impl Fn(TransportSettings) -> T) {
    let server = TestServer::start().await;
    let transport = make(settings());
    for code in [200u16, 201, 204, 400, 401, 404, 429, 500, 503] {
        let url = server.url(&format!("/status/{code}"));
        let response = expect_ok(&transport, request(Method::POST, &url, "x")).await;
        assert_eq!(response.status().as_u16(), code);
        // 204 has no body by definition (RFC 9110 §15.3.5): a conforming client ignores
        // the bytes a misbehaving server sends after it, so only check the others.
        if code != 204 {
            assert_eq!(response.body(), format!("status {code}").as_bytes());
        }
    }
}

/// Repeated response header fields all come back.
pub async fn repeated_response_headers_are_kept<T: HttpTransport>(
    make: impl Fn(TransportSettings) -> T,
) {
    let server = TestServer::start().await;
    let transport = make(settings());
    let response = expect_ok(
        &transport,
        request(Method::GET, &server.url("/multi-header"), ""),
    )
    .await;
    let cookies: Vec<_> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert_eq!(cookies, ["a=1", "b=2"]);
}

/// A body cut short by the server is an error of kind `Other`, never a short body; it is
/// retryable, since a fresh connection may succeed (whether resending is *safe* is the
/// request's idempotency, for the retry layer to judge). An answer that is not HTTP is
/// `Other` too, and not retryable: the same server will answer the same way.
pub async fn broken_answers_are_errors<T: HttpTransport>(make: impl Fn(TransportSettings) -> T) {
    let server = TestServer::start().await;
    let transport = make(settings());
    for (path, retryable) in [("/truncated", true), ("/garbage", false)] {
        let err = expect_err(&transport, request(Method::POST, &server.url(path), "x")).await;
        assert_eq!(err.kind(), TransportErrorKind::Other, "{path}: {err:?}");
        assert_eq!(err.is_retryable(), retryable, "{path}: {err:?}");
        assert!(!err.is_connect(), "{path}: {err:?}");
    }
}

/// A URL that is not absolute `http(s)` is an `InvalidRequest`, not retryable, and
/// nothing is sent.
pub async fn relative_url_is_an_invalid_request<T: HttpTransport>(
    make: impl Fn(TransportSettings) -> T,
) {
    let transport = make(settings());
    let err = expect_err(&transport, request(Method::GET, "/relative/path", "")).await;
    assert_eq!(err.kind(), TransportErrorKind::InvalidRequest, "{err:?}");
    assert!(!err.is_retryable(), "{err:?}");
}

/// No failure shows a secret from the query string, a header or the body: not in
/// `Display`, not in `Debug`, not anywhere in the source chain.
pub async fn errors_never_show_secrets<T: HttpTransport>(make: impl Fn(TransportSettings) -> T) {
    let server = TestServer::start().await;
    let closed = closed_port().await;
    let transport = make(settings().with_max_body_bytes(SMALL_CAP));
    let query = format!("?client_secret={CANARY}&code={CANARY}");
    let urls = [
        format!("http://{closed}/token{query}"),
        server.url(&format!("/hang{query}")),
        server.url(&format!("/stall-body{query}")),
        server.url(&format!("/declared-huge{query}")),
        server.url(&format!("/chunked-endless{query}")),
        server.url(&format!("/truncated{query}")),
        server.url(&format!("/garbage{query}")),
        format!("http://user:{CANARY}@{closed}/token{query}"),
    ];
    for url in urls {
        let mut request = http::Request::post(url.as_str())
            .header("authorization", format!("Bearer {CANARY}"))
            .header("cookie", format!("session={CANARY}"))
            .body(Bytes::from(format!("client_secret={CANARY}")))
            .expect("a valid request");
        RequestOptions::default()
            .with_timeout(SHORT_TIMEOUT)
            .apply(&mut request);
        let err = expect_err(&transport, request).await;
        let shown = everything_shown(&err);
        assert!(
            !shown.contains(CANARY),
            "{url}: a secret appears in the error: {shown}"
        );
    }
}

/// Many concurrent requests through one transport all get their own answer.
pub async fn concurrent_requests_share_one_transport<T: HttpTransport + 'static>(
    make: impl Fn(TransportSettings) -> T,
) {
    let server = TestServer::start().await;
    let transport = Arc::new(make(settings()));
    let mut tasks = JoinSet::new();
    for i in 0..32 {
        let transport = transport.clone();
        let url = server.url("/echo");
        tasks.spawn(async move {
            let body = format!("request {i}");
            let response = expect_ok(&transport, request(Method::POST, &url, body.clone())).await;
            assert_eq!(response.body(), body.as_bytes());
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.expect("a concurrent request panicked");
    }
    assert_eq!(server.hits("/echo"), 32);
}

/// Every request asks for gzip, deflate and br, and answers in those codings come back
/// decoded, with a declared length or chunked, without their `Content-Encoding`.
pub async fn compressed_bodies_are_decoded<T: HttpTransport>(
    make: impl Fn(TransportSettings) -> T,
) {
    let server = TestServer::start().await;
    let transport = make(settings());
    let n = 100_000;
    for path in ["gzip", "gzip-chunked", "br", "deflate"] {
        let url = server.url(&format!("/{path}/{n}"));
        let response = expect_ok(&transport, request(Method::GET, &url, "")).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(
            response.body().as_ref() == pattern(n),
            "{path}: the body is not decoded"
        );
        assert!(
            response.headers().get("content-encoding").is_none(),
            "{path}: a decoded answer keeps no Content-Encoding"
        );
    }
    for seen in server.requests() {
        let accepted = seen.header("accept-encoding").unwrap_or_default();
        let codings: Vec<&str> = accepted.split(',').map(str::trim).collect();
        for coding in ["gzip", "deflate", "br"] {
            assert!(codings.contains(&coding), "{coding} not in {accepted:?}");
        }
    }
}

/// The cap applies to the decoded size: a gzip bomb (50 MiB of zeros in about 50 KiB) is
/// refused once its decoded bytes pass the cap, never inflated whole. (A gzip body of
/// exactly the cap, decoded, is accepted: see [`body_at_the_cap_is_accepted`].)
pub async fn the_cap_applies_to_the_decoded_body<T: HttpTransport>(
    make: impl Fn(TransportSettings) -> T,
) {
    let server = TestServer::start().await;
    let transport = make(settings().with_max_body_bytes(SMALL_CAP));
    let err = expect_err(
        &transport,
        request(Method::GET, &server.url("/gzip-bomb"), ""),
    )
    .await;
    assert_eq!(err.kind(), TransportErrorKind::BodyTooLarge, "{err:?}");
    assert!(!err.is_retryable(), "{err:?}");
}

/// A content coding the client cannot decode is refused with an error naming it, not
/// handed on as if it were the body.
pub async fn undecodable_codings_are_refused_by_name<T: HttpTransport>(
    make: impl Fn(TransportSettings) -> T,
) {
    let server = TestServer::start().await;
    let transport = make(settings());
    for coding in ["zstd", "x-foo"] {
        let url = server.url(&format!("/{coding}"));
        let err = expect_err(&transport, request(Method::GET, &url, "")).await;
        assert_eq!(
            err.kind(),
            TransportErrorKind::UnsupportedContentEncoding,
            "{coding}: {err:?}"
        );
        assert!(!err.is_retryable(), "{err:?}");
        assert!(
            err.to_string().contains(&format!("\"{coding}\"")),
            "the message names the coding: {err}"
        );
    }
}

/// A body that claims gzip but does not decode is an error (`Other`, not retryable), and
/// a `204` that names a coding has an empty body all the same.
pub async fn corrupt_and_empty_coded_bodies<T: HttpTransport>(
    make: impl Fn(TransportSettings) -> T,
) {
    let server = TestServer::start().await;
    let transport = make(settings());
    let url = server.url("/gzip-corrupt");
    let err = expect_err(&transport, request(Method::GET, &url, "")).await;
    assert_eq!(err.kind(), TransportErrorKind::Other, "{err:?}");
    assert!(!err.is_retryable(), "{err:?}");

    let url = server.url("/gzip-no-content");
    let response = expect_ok(&transport, request(Method::GET, &url, "")).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.body().is_empty());
}

/// A port on `127.0.0.1` that speaks plain HTTP/1.1 and answers anything it cannot parse,
/// such as a TLS `ClientHello`, with `400 Bad Request`, as HTTP servers do. The listener
/// stops when the returned task is dropped or aborted.
async fn plain_http_port() -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener
        .local_addr()
        .expect("a bound listener has an address");
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buf = [0u8; 1024];
            // The ClientHello, or whatever comes first.
            let _ = stream.read(&mut buf).await;
            let _ = stream
                .write_all(
                    b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/html\r\n\
                      content-length: 22\r\nconnection: close\r\n\r\n<h1>Bad Request</h1>\r\n",
                )
                .await;
            let _ = stream.shutdown().await;
        }
    });
    (addr, task)
}

/// `https://` to a port that speaks plain HTTP is a `NotTls` error, not retryable, whose
/// message says the server does not speak TLS there and, the host being loopback,
/// suggests the `http://` URL; never "corrupt message".
pub async fn https_to_a_plain_http_port_is_not_tls<T: HttpTransport>(
    make: impl Fn(TransportSettings) -> T,
) {
    let (addr, server) = plain_http_port().await;
    let transport = make(settings());
    let url = format!("https://{addr}/token?code={CANARY}");
    let err = expect_err(&transport, request(Method::POST, &url, "x=1")).await;
    server.abort();
    assert_eq!(err.kind(), TransportErrorKind::NotTls, "{err:?}");
    assert!(!err.is_retryable(), "{err:?}");
    assert!(err.is_connect(), "nothing was sent: {err:?}");
    let shown = err.to_string();
    assert!(shown.contains("does not speak TLS"), "{shown}");
    assert!(
        shown.contains(&format!("use http://{addr}")),
        "a loopback host gets the http:// URL: {shown}"
    );
    assert!(!shown.contains("corrupt"), "{shown}");
    assert!(!everything_shown(&err).contains(CANARY), "{shown}");
}

/// Polls `future` to completion on this thread, with no Tokio runtime anywhere.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Wake, Waker};

    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::park();
    }
}

/// A transport builds without a runtime, and sending outside any Tokio runtime is an
/// error (`Other`, not retryable, naming Tokio), not a panic. Call it from a plain
/// `#[test]`.
pub fn sending_outside_a_runtime_is_an_error<T: HttpTransport>(
    make: impl Fn(TransportSettings) -> T,
) {
    let transport = make(settings());
    let err = block_on(transport.send(request(Method::GET, "http://127.0.0.1:9/", "")))
        .expect_err("no runtime, no request");
    assert_eq!(err.kind(), TransportErrorKind::Other, "{err:?}");
    assert!(!err.is_retryable(), "{err:?}");
    assert!(err.to_string().contains("Tokio runtime"), "{err}");
}

/// Inside a runtime built without its I/O and time drivers, Tokio panics at the first
/// socket or timer, as the transports document (a runtime cannot be asked beforehand).
/// Call it from a `#[test]` that expects a panic with "disabled".
pub fn a_runtime_without_drivers_panics<T: HttpTransport>(make: impl Fn(TransportSettings) -> T) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a bare runtime builds");
    let transport = make(settings());
    let _ = runtime.block_on(transport.send(request(Method::GET, "http://127.0.0.1:9/", "")));
}
