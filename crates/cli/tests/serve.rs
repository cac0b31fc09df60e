//! `attend sandbox serve`: other programs (here, the binary itself) use the printed URLs
//! and demo credentials.

// Test helpers outside #[test] functions unwrap too: a failure is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::attend;
use sandbox::attendium::DEFAULT_USER_ID;

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_prints_urls_and_credentials_that_work() {
    let port = common::closed_port();
    let child = Command::new(assert_cmd::cargo::cargo_bin!("attend"))
        .args([
            "sandbox",
            "serve",
            "--events",
            "300",
            "--from",
            "2024-05-01",
        ])
        .args(["--port", &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    let stdout = server.0.stdout.take().unwrap();
    let mut settings = std::collections::HashMap::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some((name, value)) = line.trim().split_once('=') {
            settings.insert(name.to_owned(), value.to_owned());
        }
        if line.contains("ATTENDIUM_API_URL") {
            break;
        }
    }
    for name in [
        "COMMUNICO_BASE_URL",
        "COMMUNICO_CLIENT_KEY",
        "COMMUNICO_CLIENT_SECRET",
        "ATTENDIUM_ISSUER",
        "ATTENDIUM_API_URL",
    ] {
        assert!(settings.contains_key(name), "{name} not printed");
    }
    assert_eq!(
        settings["COMMUNICO_BASE_URL"],
        format!("http://127.0.0.1:{port}/communico")
    );
    assert!(settings["ATTENDIUM_ISSUER"].starts_with(&format!("http://127.0.0.1:{port}/")));
    let out = attend()
        .envs(&settings)
        .args([
            "communico",
            "events",
            "--from",
            "2024-05-01",
            "--to",
            "2024-05-03",
            "--format",
            "ndjson",
        ])
        .assert()
        .success();
    let events = common::ndjson(&out.get_output().stdout);
    assert!(events.len() > 30);

    // A login at the printed issuer, then a GraphQL call at the printed API URL.
    let store = tempfile::tempdir().unwrap();
    common::login(&settings["ATTENDIUM_ISSUER"], store.path());
    attend()
        .envs(&settings)
        .env("ATTEND_STORE", store.path())
        .args(["attendium", "whoami"])
        .assert()
        .success()
        .stdout(predicates::str::contains(DEFAULT_USER_ID));
    drop(server);
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_the_server_cleanly() {
    let child = Command::new(assert_cmd::cargo::cargo_bin!("attend"))
        .args(["sandbox", "serve", "--events", "10"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    let stdout = server.0.stdout.take().unwrap();
    // Wait until it serves (the banner is printed once the port is bound).
    let banner: Vec<String> = BufReader::new(stdout)
        .lines()
        .map(Result::unwrap)
        .take_while(|l| !l.contains("ATTENDIUM_API_URL"))
        .collect();
    assert!(banner.iter().any(|l| l.contains("COMMUNICO_BASE_URL=")));
    // The shell's builtin `kill`: no `kill` executable needed.
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("kill -INT {}", server.0.id()))
        .status()
        .unwrap();
    assert!(status.success());
    let status = server.0.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut server.0.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("Sandbox stopped"), "{stderr}");
}
