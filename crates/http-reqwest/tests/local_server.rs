//! `ReqwestTransport` against a real HTTP/1.1 server on 127.0.0.1: round trips, redirects
//! returned and not followed, timeouts, refused connections, the body cap, the user agent,
//! and error messages that never show a secret.

// `allow-unwrap-in-tests` covers `#[test]` functions only, not the helpers and the server
// of this test crate; a failed unwrap here is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::error::Error as StdError;
use std::time::Duration;

use auth_core::HttpTransport;
use auth_core::transport::{
    HttpRequest, RequestOptions, TransportError, TransportErrorKind, TransportSettings,
};
use bytes::Bytes;
use http_reqwest::ReqwestTransport;
use support::{Reply, Server, chunk, response};

/// A timeout short enough for a test and long enough for loopback on a busy machine.
const SHORT: Duration = Duration::from_millis(500);

fn transport() -> ReqwestTransport {
    ReqwestTransport::new().unwrap()
}

fn get(url: &str) -> HttpRequest {
    http::Request::get(url).body(Bytes::new()).unwrap()
}

fn with_options(mut request: HttpRequest, options: RequestOptions) -> HttpRequest {
    options.apply(&mut request);
    request
}

/// A port nothing listens on: bound, then released.
async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    port
}

#[tokio::test]
async fn get_round_trip_carries_method_target_headers_and_returns_status_headers_body() {
    let server = Server::start(|_| {
        Reply::Raw(response(
            "200 OK",
            &[("content-type", "application/json"), ("x-reply", "yes")],
            br#"{"ok":true}"#,
        ))
    })
    .await;
    let request = http::Request::get(server.url("/events?page=2"))
        .header("accept", "application/json")
        .header("x-request-id", "r-42")
        .body(Bytes::new())
        .unwrap();

    let answer = transport().send(request).await.unwrap();

    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["x-reply"], "yes");
    assert_eq!(answer.headers()["content-type"], "application/json");
    assert_eq!(answer.body(), &br#"{"ok":true}"#[..]);
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].target, "/events?page=2");
    assert_eq!(seen[0].header("accept"), Some("application/json"));
    assert_eq!(seen[0].header("x-request-id"), Some("r-42"));
    assert!(seen[0].body.is_empty());
}

#[tokio::test]
async fn post_round_trip_sends_the_body_and_passes_201_through() {
    let server = Server::start(|seen| {
        // Echo the body back so the test sees both directions.
        Reply::Raw(response(
            "201 Created",
            &[("location", "/things/7")],
            &seen.body,
        ))
    })
    .await;
    let body = "grant_type=client_credentials&scope=read%20write";
    let request = http::Request::post(server.url("/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Bytes::from(body))
        .unwrap();

    let answer = transport().send(request).await.unwrap();

    assert_eq!(answer.status(), 201);
    assert_eq!(answer.headers()["location"], "/things/7");
    assert_eq!(answer.body(), body.as_bytes());
    let seen = server.seen();
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].target, "/oauth/token");
    assert_eq!(
        seen[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(seen[0].header("content-length"), Some("48"));
    assert_eq!(seen[0].body, body.as_bytes());
}

#[tokio::test]
async fn error_statuses_are_responses_not_transport_errors() {
    let cases: [(&str, u16, &[u8]); 5] = [
        ("400 Bad Request", 400, br#"{"error":"invalid_grant"}"#),
        ("401 Unauthorized", 401, b""),
        ("404 Not Found", 404, b"<html>nope</html>"),
        ("500 Internal Server Error", 500, b"boom"),
        ("503 Service Unavailable", 503, b""),
    ];
    for (status_line, status, body) in cases {
        let server = Server::start(move |_| Reply::Raw(response(status_line, &[], body))).await;
        let answer = transport().send(get(&server.url("/"))).await.unwrap();
        assert_eq!(answer.status(), status, "{status_line}");
        assert_eq!(answer.body(), body, "{status_line}");
    }
}

#[tokio::test]
async fn redirects_are_returned_with_their_location_and_never_followed() {
    let target = Server::start(|_| Reply::Raw(response("200 OK", &[], b"stolen"))).await;
    let stolen = target.url("/collect");
    for status_line in [
        "301 Moved Permanently",
        "302 Found",
        "303 See Other",
        "307 Temporary Redirect",
        "308 Permanent Redirect",
    ] {
        let location = stolen.clone();
        let server = Server::start(move |_| {
            Reply::Raw(response(status_line, &[("location", &location)], b""))
        })
        .await;
        let request = http::Request::post(server.url("/oauth/token"))
            .header("authorization", "Basic Y2xpZW50OnNlY3JldA==")
            .body(Bytes::from_static(b"client_secret=s3cr3t"))
            .unwrap();

        let answer = transport().send(request).await.unwrap();

        assert_eq!(answer.status().as_str(), &status_line[..3]);
        assert_eq!(answer.headers()["location"], stolen.as_str());
    }
    assert!(
        target.seen().is_empty(),
        "the redirect target was contacted"
    );
}

#[tokio::test]
async fn a_wrapped_client_without_redirects_returns_the_302() {
    let target = Server::start(|_| Reply::Raw(response("200 OK", &[], b"elsewhere"))).await;
    let location = target.url("/elsewhere");
    let server =
        Server::start(move |_| Reply::Raw(response("302 Found", &[("location", &location)], b"")))
            .await;
    http_reqwest::install_crypto_provider();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let transport = ReqwestTransport::from_client(client, TransportSettings::default());

    let answer = transport.send(get(&server.url("/start"))).await.unwrap();

    assert_eq!(answer.status(), 302);
    assert!(target.seen().is_empty());
}

#[tokio::test]
async fn a_wrapped_client_that_follows_redirects_gives_an_error_not_the_other_answer() {
    let target = Server::start(|_| Reply::Raw(response("200 OK", &[], b"elsewhere"))).await;
    let location = target.url("/elsewhere");
    let server =
        Server::start(move |_| Reply::Raw(response("302 Found", &[("location", &location)], b"")))
            .await;
    http_reqwest::install_crypto_provider();
    // reqwest's default policy follows up to 10 redirects.
    let client = reqwest::Client::builder().build().unwrap();
    let transport = ReqwestTransport::from_client(client, TransportSettings::default());

    let err = transport
        .send(get(&server.url("/start")))
        .await
        .unwrap_err();

    assert_eq!(err.kind(), TransportErrorKind::Other);
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("Policy::none"), "{err}");
    // The client had already followed it before the transport saw anything: this is why
    // `from_client` documents redirects as the caller's responsibility.
    assert_eq!(target.seen().len(), 1);
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_with_a_retryable_timeout() {
    let server = Server::start(|_| Reply::ThenHang(Vec::new())).await;
    let request = with_options(
        get(&server.url("/slow")),
        RequestOptions::default().with_timeout(SHORT),
    );

    let err = transport().send(request).await.unwrap_err();

    assert_eq!(err.kind(), TransportErrorKind::Timeout, "{err}");
    assert!(err.is_retryable());
    assert_eq!(server.seen().len(), 1, "the request reached the server");
}

#[tokio::test]
async fn the_settings_timeout_applies_when_the_request_sets_none() {
    let server = Server::start(|_| Reply::ThenHang(Vec::new())).await;
    let transport = ReqwestTransport::builder()
        .settings(TransportSettings::default().with_timeout(SHORT))
        .build()
        .unwrap();

    let err = transport.send(get(&server.url("/slow"))).await.unwrap_err();

    assert_eq!(err.kind(), TransportErrorKind::Timeout, "{err}");
}

#[tokio::test]
async fn the_total_timeout_covers_a_body_that_stalls() {
    // Headers arrive at once; the body promises 100 bytes and stops after 10.
    let server = Server::start(|_| {
        Reply::ThenHang(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789".to_vec())
    })
    .await;
    let request = with_options(
        get(&server.url("/")),
        RequestOptions::default().with_timeout(SHORT),
    );

    let err = transport().send(request).await.unwrap_err();

    assert_eq!(err.kind(), TransportErrorKind::Timeout, "{err}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_refused_connection_is_a_retryable_connect_error() {
    let port = closed_port().await;

    let err = transport()
        .send(get(&format!("http://127.0.0.1:{port}/token")))
        .await
        .unwrap_err();

    assert_eq!(err.kind(), TransportErrorKind::Connect, "{err}");
    assert!(err.is_retryable());
    assert!(err.is_connect());
}

#[tokio::test]
async fn a_declared_content_length_over_the_cap_is_refused_before_reading_the_body() {
    // The body is announced but never sent: only refusing on the header can answer
    // before the (long) timeout.
    let server = Server::start(|_| {
        Reply::ThenHang(b"HTTP/1.1 200 OK\r\ncontent-length: 1000000\r\n\r\n".to_vec())
    })
    .await;
    let request = with_options(
        get(&server.url("/")),
        RequestOptions::default()
            .with_max_body_bytes(1024)
            .with_timeout(Duration::from_secs(3600)),
    );

    let err = transport().send(request).await.unwrap_err();

    assert_eq!(err.kind(), TransportErrorKind::BodyTooLarge, "{err}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn an_endless_chunked_body_is_refused_once_past_the_cap() {
    let server = Server::start(|_| Reply::Endless {
        head: b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec(),
        chunk: chunk(&[b'x'; 512]),
    })
    .await;
    let transport = ReqwestTransport::builder()
        .settings(
            TransportSettings::default()
                .with_max_body_bytes(64 * 1024)
                .with_timeout(Duration::from_secs(3600)),
        )
        .build()
        .unwrap();

    let err = transport.send(get(&server.url("/"))).await.unwrap_err();

    assert_eq!(err.kind(), TransportErrorKind::BodyTooLarge, "{err}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_body_exactly_at_the_cap_is_accepted_with_either_framing() {
    let body = vec![b'y'; 1024];
    let framed_by_length = response("200 OK", &[], &body);
    let mut chunked =
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n".to_vec();
    chunked.extend(chunk(&body[..1000]));
    chunked.extend(chunk(&body[1000..]));
    chunked.extend_from_slice(b"0\r\n\r\n");
    for raw in [framed_by_length, chunked] {
        let server = Server::start(move |_| Reply::Raw(raw.clone())).await;
        let request = with_options(
            get(&server.url("/")),
            RequestOptions::default().with_max_body_bytes(1024),
        );
        let answer = transport().send(request).await.unwrap();
        assert_eq!(answer.body().len(), 1024);
    }
}

#[tokio::test]
async fn a_chunked_body_one_byte_over_the_cap_is_refused() {
    let mut raw =
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n".to_vec();
    raw.extend(chunk(&[b'z'; 1024]));
    raw.extend(chunk(b"!"));
    raw.extend_from_slice(b"0\r\n\r\n");
    let server = Server::start(move |_| Reply::Raw(raw.clone())).await;
    let request = with_options(
        get(&server.url("/")),
        RequestOptions::default().with_max_body_bytes(1024),
    );

    let err = transport().send(request).await.unwrap_err();

    assert_eq!(err.kind(), TransportErrorKind::BodyTooLarge, "{err}");
}

#[tokio::test]
async fn a_head_answer_with_a_large_content_length_is_not_too_large() {
    // A HEAD answer declares the size of what GET would return, and has no body.
    let server = Server::start(|_| {
        Reply::Raw(
            b"HTTP/1.1 200 OK\r\ncontent-length: 50000000\r\nconnection: close\r\n\r\n".to_vec(),
        )
    })
    .await;
    let request = with_options(
        http::Request::head(server.url("/big"))
            .body(Bytes::new())
            .unwrap(),
        RequestOptions::default().with_max_body_bytes(1024),
    );

    let answer = transport().send(request).await.unwrap();

    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["content-length"], "50000000");
    assert!(answer.body().is_empty());
}

#[tokio::test]
async fn the_user_agent_names_this_crate_unless_overridden() {
    let server = Server::start(|_| Reply::Raw(response("204 No Content", &[], b""))).await;
    let expected = http_common::user_agent("http-reqwest", env!("CARGO_PKG_VERSION"));
    assert!(expected.starts_with("http-reqwest/"));

    transport().send(get(&server.url("/a"))).await.unwrap();
    ReqwestTransport::builder()
        .user_agent("attendance-sync/2.1")
        .build()
        .unwrap()
        .send(get(&server.url("/b")))
        .await
        .unwrap();
    let own = http::Request::get(server.url("/c"))
        .header("user-agent", "per-request/1")
        .body(Bytes::new())
        .unwrap();
    transport().send(own).await.unwrap();

    let agents: Vec<_> = server
        .seen()
        .iter()
        .map(|seen| {
            (
                seen.target.clone(),
                seen.header("user-agent").map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        agents,
        [
            ("/a".to_owned(), Some(expected)),
            ("/b".to_owned(), Some("attendance-sync/2.1".to_owned())),
            ("/c".to_owned(), Some("per-request/1".to_owned())),
        ]
    );
}

#[tokio::test]
async fn a_connection_closed_without_an_answer_is_a_retryable_other_error() {
    let server = Server::start(|_| Reply::Close).await;

    let err = transport().send(get(&server.url("/"))).await.unwrap_err();

    assert_eq!(err.kind(), TransportErrorKind::Other, "{err}");
    assert!(err.is_retryable(), "{err}");
}

#[tokio::test]
async fn a_garbage_answer_is_an_other_error_that_a_retry_will_not_fix() {
    let server = Server::start(|_| Reply::Raw(b"SSH-2.0-OpenSSH_9.6\r\n\r\n".to_vec())).await;

    let err = transport().send(get(&server.url("/"))).await.unwrap_err();

    assert_eq!(err.kind(), TransportErrorKind::Other, "{err}");
    assert!(!err.is_retryable(), "{err}");
}

#[tokio::test]
async fn a_request_without_scheme_and_host_is_an_invalid_request() {
    let err = transport().send(get("/oauth/token")).await.unwrap_err();

    assert_eq!(err.kind(), TransportErrorKind::InvalidRequest, "{err}");
    assert!(!err.is_retryable());
}

/// Display and Debug of the error and of everything in its source chain.
fn everything_printed(err: &TransportError) -> String {
    let mut printed = format!("{err}\n{err:?}\n{err:#?}\n");
    let mut source = err.source();
    while let Some(cause) = source {
        printed.push_str(&format!("{cause}\n{cause:?}\n"));
        source = cause.source();
    }
    printed
}

#[tokio::test]
async fn no_error_shows_the_query_string_or_headers() {
    const QUERY: &str = "code=SECRET-code-4711&state=SECRET-state-0815";
    const BEARER: &str = "Bearer SECRET-token-1234";
    let hanging = Server::start(|_| Reply::ThenHang(Vec::new())).await;
    let too_big = Server::start(|_| {
        Reply::ThenHang(b"HTTP/1.1 200 OK\r\ncontent-length: 999999\r\n\r\n".to_vec())
    })
    .await;
    let closing = Server::start(|_| Reply::Close).await;
    let garbage = Server::start(|_| Reply::Raw(b"nonsense\r\n\r\n".to_vec())).await;
    let refused = format!("http://127.0.0.1:{}/cb", closed_port().await);

    let urls = [
        refused,
        hanging.url("/cb"),
        too_big.url("/cb"),
        closing.url("/cb"),
        garbage.url("/cb"),
        // Userinfo and a bad port: rejected while building the request.
        "http://user:SECRET-password@127.0.0.1:99999/cb".to_owned(),
    ];
    for url in urls {
        let request = http::Request::get(format!("{url}?{QUERY}"))
            .header("authorization", BEARER)
            .body(Bytes::new());
        let request = match request {
            Ok(request) => request,
            // `http` itself refuses the URI: nothing to send, nothing to leak.
            Err(_) => continue,
        };
        let request = with_options(
            request,
            RequestOptions::default()
                .with_timeout(SHORT)
                .with_max_body_bytes(10),
        );

        let err = transport().send(request).await.unwrap_err();

        let printed = everything_printed(&err);
        assert!(!printed.contains("SECRET"), "{url}: {printed}");
        assert!(
            printed.contains("/cb"),
            "the message should still say where: {printed}"
        );
    }
}

#[test]
fn the_transport_is_usable_as_a_shared_trait_object() {
    let shared: std::sync::Arc<dyn HttpTransport> = std::sync::Arc::new(transport());
    let debug = format!("{:?}", ReqwestTransport::new().unwrap());
    assert!(debug.contains("max_body_bytes"), "{debug}");
    drop(shared);
}
