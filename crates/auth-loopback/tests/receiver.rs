//! The receiver against a real client on loopback.

use std::time::Duration;

use auth_loopback::{
    Error, LoopbackConfig, LoopbackHost, LoopbackReceiver, Page, PendingCallback, Verdict,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends one GET and returns the status line and body.
async fn get(addr: &str, target: &str) -> std::io::Result<(String, String)> {
    let mut stream = TcpStream::connect(addr).await?;
    stream
        .write_all(format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let status = response.lines().next().unwrap_or_default().to_owned();
    let body = response
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    Ok((status, body))
}

fn authority(receiver: &LoopbackReceiver) -> String {
    let uri = receiver.redirect_uri();
    format!(
        "{}:{}",
        uri.host_str().expect("a host"),
        uri.port().expect("a port")
    )
}

/// Accepts every callback.
fn any(_: &url::Url) -> Verdict {
    Verdict::Accept
}

/// Accepts the callback whose `state` is `good`, rejecting others with a page.
fn state_is_good(url: &url::Url) -> Verdict {
    if url.query_pairs().any(|(k, v)| k == "state" && v == "good") {
        Verdict::Accept
    } else {
        Verdict::Reject(Page::failure(
            "Not this sign-in",
            "This response does not belong to the sign-in in progress.",
        ))
    }
}

/// Waits for the accepted callback in the background and answers it with `page`.
fn answer_with(
    receiver: LoopbackReceiver,
    accept: fn(&url::Url) -> Verdict,
    page: Page,
) -> tokio::task::JoinHandle<Result<url::Url, Error>> {
    tokio::spawn(async move {
        let callback: PendingCallback = receiver.receive(Duration::from_secs(30), accept).await?;
        let url = callback.url().clone();
        callback.respond(page).await;
        Ok(url)
    })
}

#[tokio::test]
async fn returns_the_callback_after_answering_other_paths_with_404() {
    let receiver = LoopbackReceiver::bind(LoopbackConfig::default())
        .await
        .unwrap();
    let addr = authority(&receiver);
    let waiting = answer_with(receiver, any, Page::success("Signed in", "Close this tab."));

    let (status, _) = get(&addr, "/favicon.ico").await.unwrap();
    assert_eq!(status, "HTTP/1.1 404 Not Found");
    let (status, body) = get(&addr, "/callback?code=abc&state=xyz").await.unwrap();
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.contains("Close this tab."), "{body}");

    let url = waiting.await.unwrap().unwrap();
    assert_eq!(url.path(), "/callback");
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert_eq!(
        pairs,
        [
            ("code".into(), "abc".into()),
            ("state".into(), "xyz".into())
        ]
    );
}

#[tokio::test]
async fn the_browser_is_answered_only_when_the_caller_knows_the_outcome() {
    let receiver = LoopbackReceiver::bind(LoopbackConfig::default())
        .await
        .unwrap();
    let addr = authority(&receiver);
    let waiting = tokio::spawn(receiver.receive(Duration::from_secs(30), any));
    let browser = tokio::spawn(async move { get(&addr, "/callback?code=c&state=s").await });
    let callback = waiting.await.unwrap().unwrap();
    // The caller is still checking: the browser has no answer yet.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!browser.is_finished());
    callback
        .respond(Page::failure(
            "Sign-in refused",
            "The server said: <script>alert(1)</script> & more",
        ))
        .await;
    let (status, body) = browser.await.unwrap().unwrap();
    assert_eq!(status, "HTTP/1.1 400 Bad Request");
    assert!(body.contains("<h1>Sign-in refused</h1>"), "{body}");
    assert!(
        body.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"),
        "{body}"
    );
    assert!(!body.contains("<script>"), "{body}");
    assert!(!body.contains("signed in"), "{body}");
}

#[tokio::test]
async fn callbacks_the_caller_rejects_get_its_page_and_the_wait_goes_on() {
    let receiver = LoopbackReceiver::bind(LoopbackConfig::default())
        .await
        .unwrap();
    let addr = authority(&receiver);
    let waiting = answer_with(receiver, state_is_good, Page::success("Signed in", "Done."));
    for stray in [
        "/callback?code=c&state=forged",
        "/callback?code=c",
        "/callback",
        "/callback?error=access_denied&state=other",
    ] {
        let (status, body) = get(&addr, stray).await.unwrap();
        assert_eq!(status, "HTTP/1.1 400 Bad Request", "{stray}");
        assert!(body.contains("does not belong"), "{stray}: {body}");
    }
    assert!(!waiting.is_finished());
    let (status, body) = get(&addr, "/callback?code=c&state=good").await.unwrap();
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.contains("Done."), "{body}");
    let url = waiting.await.unwrap().unwrap();
    assert!(url.query_pairs().any(|(k, v)| k == "state" && v == "good"));
}

#[tokio::test]
async fn an_unanswered_callback_gets_a_neutral_page() {
    // Dropped without an answer.
    let receiver = LoopbackReceiver::bind(LoopbackConfig::default())
        .await
        .unwrap();
    let addr = authority(&receiver);
    let waiting = tokio::spawn(async move {
        let callback = receiver.receive(Duration::from_secs(30), any).await;
        drop(callback);
    });
    let (status, body) = get(&addr, "/callback?code=c&state=s").await.unwrap();
    waiting.await.unwrap();
    assert_eq!(status, "HTTP/1.1 400 Bad Request");
    assert!(body.contains("the terminal says how it ended"), "{body}");

    // Kept, but answered after the answer timeout.
    let receiver = LoopbackReceiver::bind(
        LoopbackConfig::default().with_answer_timeout(Duration::from_millis(100)),
    )
    .await
    .unwrap();
    let addr = authority(&receiver);
    let waiting = tokio::spawn(receiver.receive(Duration::from_secs(30), any));
    let (status, body) = get(&addr, "/callback?code=c&state=s").await.unwrap();
    assert_eq!(status, "HTTP/1.1 400 Bad Request");
    assert!(body.contains("the terminal says how it ended"), "{body}");
    let late = waiting.await.unwrap().unwrap();
    // Too late: returns at once.
    late.respond(Page::success("Signed in", "too late")).await;
}

#[tokio::test]
async fn an_idle_connection_does_not_block_the_callback() {
    let receiver = LoopbackReceiver::bind(LoopbackConfig::default())
        .await
        .unwrap();
    let addr = authority(&receiver);
    let waiting = answer_with(receiver, any, Page::success("Signed in", "Done."));
    // A speculative connection that never sends anything.
    let _idle = TcpStream::connect(&addr).await.unwrap();
    let (status, _) = get(&addr, "/callback?code=c&state=s").await.unwrap();
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(waiting.await.unwrap().is_ok());
}

#[tokio::test]
async fn the_listener_is_closed_after_the_accepted_callback() {
    let receiver = LoopbackReceiver::bind(LoopbackConfig::default())
        .await
        .unwrap();
    let addr = authority(&receiver);
    let waiting = answer_with(receiver, any, Page::success("Signed in", "Done."));
    get(&addr, "/callback?code=1&state=s").await.unwrap();
    waiting.await.unwrap().unwrap();
    assert!(get(&addr, "/callback?code=2&state=s").await.is_err());
}

#[tokio::test]
async fn times_out_with_a_typed_error() {
    let receiver = LoopbackReceiver::bind(LoopbackConfig::default())
        .await
        .unwrap();
    let err = receiver
        .receive(Duration::from_millis(50), any)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TimedOut(_)));
    assert!(err.to_string().contains("start the login again"));
}

#[tokio::test]
async fn rejects_non_get_and_garbage_and_keeps_waiting() {
    let receiver = LoopbackReceiver::bind(LoopbackConfig::default())
        .await
        .unwrap();
    let addr = authority(&receiver);
    let waiting = answer_with(receiver, any, Page::success("Signed in", "Done."));

    let mut stream = TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(b"POST /callback?code=x HTTP/1.1\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 405"));

    let mut stream = TcpStream::connect(&addr).await.unwrap();
    stream.write_all(b"\x00\x01garbage\r\n\r\n").await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 400"));

    let (status, _) = get(&addr, "/callback?code=c&state=s").await.unwrap();
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(waiting.await.unwrap().is_ok());
}

#[tokio::test]
async fn a_given_port_is_used_and_a_busy_one_is_a_bind_error() {
    let first = LoopbackReceiver::bind(LoopbackConfig::default())
        .await
        .unwrap();
    let port = first.port();
    let err = LoopbackReceiver::bind(LoopbackConfig::default().with_port(port))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Bind { .. }));
    drop(first);
    let again = LoopbackReceiver::bind(LoopbackConfig::default().with_port(port))
        .await
        .unwrap();
    assert_eq!(again.port(), port);
}

/// Whether this machine can listen on `[::1]`.
fn has_ipv6() -> bool {
    std::net::TcpListener::bind("[::1]:0").is_ok()
}

#[tokio::test]
async fn an_ip_literal_listens_on_that_family_only() {
    let receiver = LoopbackReceiver::bind(LoopbackConfig::default())
        .await
        .unwrap();
    assert_eq!(receiver.local_addrs().len(), 1);
    assert!(receiver.local_addrs()[0].is_ipv4());
    if has_ipv6() {
        let port = receiver.port();
        assert!(
            TcpStream::connect(format!("[::1]:{port}")).await.is_err(),
            "an IPv4 redirect URI must not be served on IPv6"
        );
    }
    if !has_ipv6() {
        return;
    }
    let receiver = LoopbackReceiver::bind(LoopbackConfig::default().with_host(LoopbackHost::Ipv6))
        .await
        .unwrap();
    assert_eq!(receiver.redirect_uri().host_str(), Some("[::1]"));
    assert_eq!(receiver.local_addrs().len(), 1);
    let addr = format!("[::1]:{}", receiver.port());
    let waiting = answer_with(receiver, any, Page::success("Signed in", "Done."));
    let (status, _) = get(&addr, "/callback?code=c&state=s").await.unwrap();
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(waiting.await.unwrap().is_ok());
}

#[tokio::test]
async fn a_localhost_redirect_uri_listens_on_both_families() {
    for family in ["127.0.0.1", "[::1]"] {
        let receiver =
            LoopbackReceiver::bind(LoopbackConfig::default().with_host(LoopbackHost::Localhost))
                .await
                .unwrap();
        let uri = receiver.redirect_uri().clone();
        assert_eq!(uri.host_str(), Some("localhost"));
        let port = receiver.port();
        assert_ne!(port, 0);
        let expected = if has_ipv6() { 2 } else { 1 };
        assert_eq!(receiver.local_addrs().len(), expected);
        if family == "[::1]" && !has_ipv6() {
            return;
        }
        let waiting = answer_with(receiver, any, Page::success("Signed in", "Done."));
        let (status, _) = get(&format!("{family}:{port}"), "/callback?code=c&state=s")
            .await
            .unwrap();
        assert_eq!(status, "HTTP/1.1 200 OK", "{family}");
        assert!(waiting.await.unwrap().is_ok(), "{family}");
    }
}
