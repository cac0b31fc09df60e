//! `attend attendium login` end to end, with the test playing the browser: the page the
//! browser gets says what the terminal says (signed in, another issuer, a refusal with
//! the server's words, a refused code), stray requests to the callback path are answered
//! and ignored, and a grant without scope is pointed out.

// Test helpers outside #[test] functions unwrap too: a failure is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStderr, Stdio};
use std::time::Duration;

use common::AttendiumServer;
use sandbox::attendium::{
    Approval, AttendiumConfig, CODE_REFUSED_DESCRIPTION, CallbackTampering, FaultTimes, HttpFault,
};
use url::Url;

/// A login running in the background, its authorization URL read from stderr.
struct Login {
    child: Child,
    stderr: BufReader<ChildStderr>,
    url: Url,
    /// What stderr said before the URL.
    before: String,
    _store: tempfile::TempDir,
}

impl Login {
    fn start(server: &AttendiumServer, extra: &[&str]) -> Self {
        let store = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("attend"))
            .args([
                "attendium",
                "login",
                "--no-browser",
                "--browser-timeout",
                "60",
            ])
            .args(extra)
            .arg("--issuer")
            .arg(server.server.issuer())
            .arg("--store")
            .arg(store.path())
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut before = String::new();
        let url = loop {
            let mut line = String::new();
            assert!(
                stderr.read_line(&mut line).unwrap() > 0,
                "no URL was printed: {before}"
            );
            before.push_str(&line);
            if let Some(start) = line.find("http")
                && line[start..].contains("/authorize")
            {
                break Url::parse(line[start..].trim()).unwrap();
            }
        };
        Self {
            child,
            stderr,
            url,
            before,
            _store: store,
        }
    }

    /// The loopback listener's origin, from the authorization URL's redirect URI.
    fn redirect_uri(&self) -> Url {
        let uri = self
            .url
            .query_pairs()
            .find(|(k, _)| k == "redirect_uri")
            .unwrap()
            .1;
        Url::parse(&uri).unwrap()
    }

    /// Waits for the command to end: its exit code and the rest of its stderr.
    fn end(mut self) -> (i32, String) {
        let mut rest = String::new();
        self.stderr.read_to_string(&mut rest).unwrap();
        let status = self.child.wait().unwrap();
        (status.code().unwrap_or(-1), rest)
    }

    fn still_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Login {
    fn drop(&mut self) {
        // A test that failed midway must not leave the process waiting for 60 s.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One GET over plain HTTP to a loopback server, without following redirects: status,
/// `Location`, body. (The listener and the sandbox both answer with a length and close.)
fn get(url: &Url) -> (u16, Option<String>, String) {
    use std::io::Write;
    let host = url.host_str().unwrap();
    let addrs = url.socket_addrs(|| None).unwrap();
    let mut stream = std::net::TcpStream::connect(&addrs[..]).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let target = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let location = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("location")
            .then(|| value.trim().to_owned())
    });
    (status, location, body.to_owned())
}

/// Plays the browser: opens the authorization URL and follows its redirect to the
/// loopback listener; returns the page the listener answered with.
fn browse(url: &Url) -> (u16, String) {
    let (status, location, body) = get(url);
    let location = location.unwrap_or_else(|| panic!("no redirect (HTTP {status}): {body}"));
    let target = url.join(&location).unwrap();
    let (status, _, page) = get(&target);
    (status, page)
}

#[test]
fn the_browser_hears_it_is_signed_in_only_after_the_code_exchange() {
    let server = AttendiumServer::start(AttendiumConfig::new());
    let login = Login::start(&server, &[]);
    let (status, page) = browse(&login.url);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("You are signed in to"), "{page}");
    // The page is sent after the exchange: the session exists by now.
    assert_eq!(server.server.token_requests("authorization_code"), 1);
    let (code, stderr) = login.end();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("Logged in"), "{stderr}");
}

#[test]
fn a_response_from_another_issuer_is_refused_in_the_browser_and_the_terminal() {
    let server = AttendiumServer::start(AttendiumConfig::new());
    server
        .server
        .set_callback_tampering(CallbackTampering::WrongIss("https://evil.example".into()));
    let login = Login::start(&server, &[]);
    let (status, page) = browse(&login.url);
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("Sign-in failed"), "{page}");
    assert!(page.contains("another issuer"), "{page}");
    assert!(!page.contains("signed in"), "{page}");
    // Nothing was exchanged.
    assert_eq!(server.server.token_requests("authorization_code"), 0);
    let (code, stderr) = login.end();
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("another issuer"), "{stderr}");
}

#[test]
fn a_refused_code_shows_the_servers_description_in_the_browser_and_the_terminal() {
    let server = AttendiumServer::start(AttendiumConfig::new());
    server
        .server
        .inject_http_fault(HttpFault::CodeRefused, FaultTimes::Once);
    let login = Login::start(&server, &[]);
    let (_, location, _) = get(&login.url);
    let callback = login.url.join(&location.unwrap()).unwrap();
    let (status, _, page) = get(&callback);
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("Sign-in failed"), "{page}");
    assert!(page.contains("invalid_grant"), "{page}");
    assert!(page.contains(CODE_REFUSED_DESCRIPTION), "{page}");
    let (code, stderr) = login.end();
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains(CODE_REFUSED_DESCRIPTION), "{stderr}");
    // Neither the code nor the state is shown, in the page or the terminal.
    for (name, value) in callback.query_pairs() {
        if name == "code" || name == "state" {
            assert!(!page.contains(value.as_ref()), "{name} in the page: {page}");
            assert!(
                !stderr.contains(value.as_ref()),
                "{name} on stderr: {stderr}"
            );
        }
    }
}

#[test]
fn a_refused_login_shows_the_servers_error_description() {
    let server = AttendiumServer::start(AttendiumConfig::new().approval(Approval::AutoDeny));
    let login = Login::start(&server, &[]);
    let (status, page) = browse(&login.url);
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("access_denied"), "{page}");
    assert!(page.contains("the user denied the request"), "{page}");
    let (code, stderr) = login.end();
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("the user denied the request"), "{stderr}");
}

#[test]
fn stray_callbacks_are_answered_and_ignored_until_the_genuine_one() {
    let server = AttendiumServer::start(AttendiumConfig::new());
    let mut login = Login::start(&server, &[]);
    let callback = login.redirect_uri();
    // A local request with another state, and one with none: error pages, login goes on.
    for query in [Some("code=stray&state=forged"), None] {
        let mut stray = callback.clone();
        stray.set_query(query);
        let (status, _, page) = get(&stray);
        assert_eq!(status, 400, "{page}");
        assert!(page.contains("does not belong"), "{page}");
    }
    // The server's answer carrying a wrong state: the same.
    server
        .server
        .set_callback_tampering(CallbackTampering::WrongState);
    let (status, page) = browse(&login.url);
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("does not belong"), "{page}");
    std::thread::sleep(Duration::from_millis(200));
    assert!(login.still_running(), "a stray callback ended the login");
    // The genuine one still completes it.
    server
        .server
        .set_callback_tampering(CallbackTampering::None);
    let (status, page) = browse(&login.url);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("You are signed in"), "{page}");
    let (code, stderr) = login.end();
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn a_grant_without_scope_says_to_pass_scope() {
    let server = AttendiumServer::start(AttendiumConfig::new());
    server
        .server
        .inject_http_fault(HttpFault::NoScopeGranted, FaultTimes::Always);
    let login = Login::start(&server, &[]);
    let (status, page) = browse(&login.url);
    assert_eq!(status, 200, "{page}");
    let (code, stderr) = login.end();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("granted no scope"), "{stderr}");
    assert!(stderr.contains("--scope"), "{stderr}");

    // A grant whose answer leaves `scope` out is "as asked": no warning.
    server.server.clear_faults();
    let login = Login::start(&server, &[]);
    browse(&login.url);
    let (code, stderr) = login.end();
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("granted no scope"), "{stderr}");
}

#[test]
fn discovery_is_retried_and_the_retry_is_said() {
    use sandbox::attendium::{EndpointFault, OAuthEndpoint};
    let server = AttendiumServer::start(AttendiumConfig::new());
    server.server.inject_endpoint_fault(
        OAuthEndpoint::Metadata,
        EndpointFault::TemporarilyUnavailable,
        FaultTimes::Once,
    );
    let login = Login::start(&server, &[]);
    let before = login.before.clone();
    assert!(before.contains("HTTP 503"), "{before}");
    assert!(before.contains("trying again in"), "{before}");
    assert!(before.contains("(2 of 3)"), "{before}");
    browse(&login.url);
    let (code, stderr) = login.end();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("Logged in"), "{stderr}");
    assert!(
        server
            .server
            .counters()
            .requests
            .iter()
            .filter(|(path, _)| path.contains("well-known"))
            .map(|(_, n)| n)
            .sum::<u64>()
            >= 2
    );
}

#[test]
fn a_localhost_redirect_uri_is_served_on_both_loopback_families() {
    let server = AttendiumServer::start(AttendiumConfig::new());
    let login = Login::start(&server, &["--redirect-host", "localhost"]);
    let callback = login.redirect_uri();
    assert_eq!(callback.host_str(), Some("localhost"));
    // Over IPv6 (where the machine has it): a stray request is answered there.
    if std::net::TcpListener::bind("[::1]:0").is_ok() {
        let mut stray = callback.clone();
        stray.set_host(Some("[::1]")).unwrap();
        stray.set_query(Some("code=c&state=forged"));
        let (status, _, page) = get(&stray);
        assert_eq!(status, 400, "{page}");
        assert!(page.contains("does not belong"), "{page}");
    }
    // Over IPv4: the genuine redirect completes the login.
    let (status, location, body) = get(&login.url);
    assert_eq!(status, 302, "{body}");
    let mut target = login.url.join(&location.unwrap()).unwrap();
    assert_eq!(target.host_str(), Some("localhost"));
    target.set_host(Some("127.0.0.1")).unwrap();
    let (status, _, page) = get(&target);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("You are signed in"), "{page}");
    let (code, stderr) = login.end();
    assert_eq!(code, 0, "{stderr}");
}
