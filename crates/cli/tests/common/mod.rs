//! What the end-to-end tests share: sandboxes on a background runtime, and the binary
//! with a clean environment.

// Each test binary uses some of these; a failure in them is the test failing.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::net::TcpListener as StdListener;
use std::sync::Arc;

use assert_cmd::Command;
use sandbox::Sandbox;
use sandbox::attendium::{Attendium, AttendiumConfig};
use sandbox::communico::CommunicoConfig;
use serde_json::Value;
use tokio::runtime::Runtime;

/// A runtime that keeps serving while the test blocks on the binary.
pub fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// The binary, with no Communico, Attendium or color settings inherited from the
/// environment of whoever runs the tests.
pub fn attend() -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("attend"));
    for var in [
        "COMMUNICO_CLIENT_KEY",
        "COMMUNICO_CLIENT_SECRET",
        "COMMUNICO_BASE_URL",
        "ATTENDIUM_ISSUER",
        "ATTENDIUM_API_URL",
        "ATTEND_STORE",
        "ATTEND_HTTP",
        "RUST_LOG",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("NO_COLOR", "1");
    cmd
}

/// A Communico sandbox and the environment pointing the binary at it.
pub struct CommunicoServer {
    pub rt: Runtime,
    pub sandbox: Sandbox,
}

impl CommunicoServer {
    pub fn start(config: CommunicoConfig) -> Self {
        let rt = runtime();
        let sandbox = rt
            .block_on(Sandbox::builder().communico(config).start())
            .unwrap();
        Self { rt, sandbox }
    }

    pub fn communico(&self) -> &sandbox::communico::CommunicoSandbox {
        self.sandbox.communico().unwrap()
    }

    /// `attend communico ...` against this sandbox with its credentials.
    pub fn attend(&self) -> Command {
        let c = self.communico();
        let mut cmd = attend();
        cmd.env("COMMUNICO_BASE_URL", c.base_url())
            .env("COMMUNICO_CLIENT_KEY", c.key())
            .env("COMMUNICO_CLIENT_SECRET", c.secret());
        cmd
    }

    /// What a library client gets for the same events query: the expected output.
    pub fn expected_events(&self, query: communico::EventQuery) -> Vec<Value> {
        use futures_util::TryStreamExt;
        let c = self.communico();
        let client = communico::Client::builder()
            .base_url(c.base_url())
            .credentials(c.key(), communico::ClientSecret::new(c.secret()))
            .build()
            .unwrap();
        self.rt.block_on(async {
            let events: Vec<communico::Event> =
                client.events(query).unwrap().try_collect().await.unwrap();
            events
                .iter()
                .map(|e| serde_json::to_value(e).unwrap())
                .collect()
        })
    }
}

/// An Attendium sandbox (its issuer has a path: `{base}/attendium`).
pub struct AttendiumServer {
    pub rt: Runtime,
    pub sandbox: Sandbox,
    pub server: Attendium,
}

impl AttendiumServer {
    pub fn start(config: AttendiumConfig) -> Self {
        let rt = runtime();
        let sandbox = rt
            .block_on(Sandbox::builder().attendium(config).start())
            .unwrap();
        let server = sandbox.attendium().unwrap().clone();
        Self {
            rt,
            sandbox,
            server,
        }
    }
}

/// A port nothing listens on.
pub fn closed_port() -> u16 {
    let listener = StdListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A server that answers every request with an HTML page, as a misconfigured proxy does.
pub fn html_server(rt: &Runtime) -> String {
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let _ = socket.read(&mut buf).await;
                let body = "<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1></body></html>";
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

/// Parses ndjson output.
pub fn ndjson(stdout: &[u8]) -> Vec<Value> {
    std::str::from_utf8(stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The transport the tests use to play the browser.
pub fn transport() -> Arc<dyn auth_core::HttpTransport> {
    Arc::new(http_reqwest::ReqwestTransport::new().unwrap())
}

/// Logs in to `issuer` with `--no-browser` and `--store`, playing the browser: reads the
/// URL from stderr, asks for it, and follows the redirect to the loopback listener.
pub fn login(issuer: &str, store: &std::path::Path) {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("attend"))
        .args([
            "attendium",
            "login",
            "--no-browser",
            "--browser-timeout",
            "60",
        ])
        .arg("--issuer")
        .arg(issuer)
        .arg("--store")
        .arg(store)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let url = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "no URL was printed"
        );
        if let Some(start) = line.find("http") {
            let candidate = line[start..].trim();
            if candidate.contains("/authorize") {
                break candidate.to_owned();
            }
        }
    };
    let url = url::Url::parse(&url).unwrap();
    runtime()
        .block_on(sandbox::attendium::follow_authorization(
            transport().as_ref(),
            &url,
        ))
        .unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "login failed: {rest}");
    assert!(rest.contains("Logged in"), "{rest}");
}

/// Runs `cmd` with its stdout closed before it writes anything (as `| head -0` would).
pub fn with_stdout_closed(mut cmd: std::process::Command) -> std::process::Output {
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}
