//! The receiver against a real client on loopback.

use std::time::Duration;

use auth_loopback::{Error, LoopbackConfig, LoopbackHost, LoopbackReceiver};
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

#[tokio::test]
async fn returns_the_callback_after_answering_other_paths_with_404() {
    let receiver = LoopbackReceiver::bind(LoopbackConfig::default())
        .await
        .unwrap();
    let addr = authority(&receiver);
    let waiting = tokio::spawn(receiver.wait(Duration::from_secs(30)));

    let (status, _) = get(&addr, "/favicon.ico").await.unwrap();
    assert_eq!(status, "HTTP/1.1 404 Not Found");
    let (status, body) = get(&addr, "/callback?code=abc&state=xyz").await.unwrap();
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.contains("close this tab"));

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
async fn an_error_callback_is_returned_too_with_a_failure_page() {
    let receiver = LoopbackReceiver::bind(LoopbackConfig::default().with_path("/cb"))
        .await
        .unwrap();
    let addr = authority(&receiver);
    let waiting = tokio::spawn(receiver.wait(Duration::from_secs(30)));
    let (status, body) = get(&addr, "/cb?error=access_denied&state=s").await.unwrap();
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.contains("did not complete"));
    let url = waiting.await.unwrap().unwrap();
    assert!(
        url.query_pairs()
            .any(|(k, v)| k == "error" && v == "access_denied")
    );
}

#[tokio::test]
async fn an_idle_connection_does_not_block_the_callback() {
    let receiver = LoopbackReceiver::bind(LoopbackConfig::default())
        .await
        .unwrap();
    let addr = authority(&receiver);
    let waiting = tokio::spawn(receiver.wait(Duration::from_secs(30)));
    // A speculative connection that never sends anything.
    let _idle = TcpStream::connect(&addr).await.unwrap();
    let (status, _) = get(&addr, "/callback?code=c&state=s").await.unwrap();
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(waiting.await.unwrap().is_ok());
}

#[tokio::test]
async fn the_listener_is_closed_after_the_first_callback() {
    let receiver = LoopbackReceiver::bind(LoopbackConfig::default())
        .await
        .unwrap();
    let addr = authority(&receiver);
    let waiting = tokio::spawn(receiver.wait(Duration::from_secs(30)));
    get(&addr, "/callback?code=1&state=s").await.unwrap();
    waiting.await.unwrap().unwrap();
    assert!(get(&addr, "/callback?code=2&state=s").await.is_err());
}

#[tokio::test]
async fn times_out_with_a_typed_error() {
    let receiver = LoopbackReceiver::bind(LoopbackConfig::default())
        .await
        .unwrap();
    let err = receiver.wait(Duration::from_millis(50)).await.unwrap_err();
    assert!(matches!(err, Error::TimedOut(_)));
    assert!(err.to_string().contains("start the login again"));
}

#[tokio::test]
async fn rejects_non_get_and_garbage_and_keeps_waiting() {
    let receiver = LoopbackReceiver::bind(LoopbackConfig::default())
        .await
        .unwrap();
    let addr = authority(&receiver);
    let waiting = tokio::spawn(receiver.wait(Duration::from_secs(30)));

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

#[tokio::test]
async fn listens_on_ipv6_loopback() {
    let receiver =
        match LoopbackReceiver::bind(LoopbackConfig::default().with_host(LoopbackHost::Ipv6)).await
        {
            Ok(receiver) => receiver,
            // A machine without IPv6 cannot run this; the error must still be the typed one.
            Err(err) => {
                assert!(matches!(err, Error::Bind { .. }));
                return;
            }
        };
    assert_eq!(receiver.redirect_uri().host_str(), Some("[::1]"));
    let addr = format!("[::1]:{}", receiver.port());
    let waiting = tokio::spawn(receiver.wait(Duration::from_secs(30)));
    let (status, _) = get(&addr, "/callback?code=c&state=s").await.unwrap();
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(waiting.await.unwrap().is_ok());
}
