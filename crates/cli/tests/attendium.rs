//! `attend attendium ...` end to end: a login completed by following the printed URL as
//! a browser would, tokens refreshed after expiry, GraphQL calls, logout, and the
//! self-completing flow of `--sandbox`.

// Test helpers outside #[test] functions unwrap too: a failure is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;
use std::time::Duration;

use common::{AttendiumServer, attend, closed_port};
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;
use sandbox::attendium::{AttendiumConfig, DEFAULT_USER_ID};
use serde_json::Value;

/// Logs in to `server` with `--no-browser`, playing the browser.
fn login(server: &AttendiumServer, store: &std::path::Path) {
    common::login(server.server.issuer(), store);
}

fn attendium(server: &AttendiumServer, store: &std::path::Path) -> assert_cmd::Command {
    let mut cmd = attend();
    cmd.arg("attendium")
        .env("ATTENDIUM_ISSUER", server.server.issuer())
        .env("ATTEND_STORE", store);
    cmd
}

fn token(server: &AttendiumServer, store: &std::path::Path) -> String {
    let out = attendium(server, store).arg("token").assert().success();
    String::from_utf8(out.get_output().stdout.clone())
        .unwrap()
        .trim()
        .to_owned()
}

#[test]
fn login_with_no_browser_then_token_whoami_query_and_logout() {
    let server = AttendiumServer::start(AttendiumConfig::new());
    let store = tempfile::tempdir().unwrap();
    login(&server, store.path());
    assert_eq!(server.server.registrations(), 1);

    // The session persists: another process prints the same valid token.
    let first = token(&server, store.path());
    assert!(server.server.access_token_active(&first));
    assert_eq!(token(&server, store.path()), first);
    assert_eq!(server.server.refreshes(), 0);

    attendium(&server, store.path())
        .arg("whoami")
        .assert()
        .success()
        .stdout(contains(DEFAULT_USER_ID))
        .stderr(contains(first.as_str()).not());

    let answer = attendium(&server, store.path())
        .args(["query", "-"])
        .write_stdin("query { me { id } }")
        .assert()
        .success();
    let answer: Value = serde_json::from_slice(&answer.get_output().stdout).unwrap();
    assert_eq!(answer["me"]["id"], DEFAULT_USER_ID);

    attendium(&server, store.path())
        .arg("logout")
        .assert()
        .success()
        .stderr(contains("revoked"));
    assert!(!server.server.access_token_active(&first));
    attendium(&server, store.path())
        .arg("token")
        .assert()
        .code(3)
        .stderr(contains("attend attendium login"));
}

#[test]
fn token_after_expiry_is_refreshed() {
    let server = AttendiumServer::start(AttendiumConfig::new());
    let store = tempfile::tempdir().unwrap();
    login(&server, store.path());
    let first = token(&server, store.path());

    // Make the stored access token expired, as it is an hour later.
    let issuer = url::Url::parse(server.server.issuer()).unwrap();
    let path = attendium::session::session_file(store.path(), &issuer);
    let mut session: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    session["expires_at"] = Value::from(1_000_000_000u64);
    std::fs::write(&path, serde_json::to_vec(&session).unwrap()).unwrap();

    let second = token(&server, store.path());
    assert_ne!(second, first);
    assert_eq!(server.server.refreshes(), 1);
    assert!(server.server.access_token_active(&second));
    // The refreshed session was stored: no second refresh.
    assert_eq!(token(&server, store.path()), second);
    assert_eq!(server.server.refreshes(), 1);
}

#[test]
fn not_logged_in_is_an_authentication_error() {
    let server = AttendiumServer::start(AttendiumConfig::new());
    let store = tempfile::tempdir().unwrap();
    attendium(&server, store.path())
        .arg("whoami")
        .assert()
        .code(3)
        .stderr(contains("attend attendium login"));
}

#[test]
fn a_dead_issuer_is_a_network_error() {
    let store = tempfile::tempdir().unwrap();
    attend()
        .args([
            "attendium",
            "login",
            "--no-browser",
            "--browser-timeout",
            "5",
        ])
        .arg("--issuer")
        .arg(format!("http://127.0.0.1:{}", closed_port()))
        .arg("--store")
        .arg(store.path())
        .timeout(Duration::from_secs(60))
        .assert()
        .code(5);
}

#[test]
fn with_the_sandbox_login_completes_by_itself() {
    attend()
        .args(["--sandbox", "attendium", "login", "--no-browser"])
        .timeout(Duration::from_secs(60))
        .assert()
        .success()
        .stderr(contains("Logged in"));
}

#[test]
fn with_the_sandbox_whoami_logs_in_first() {
    attend()
        .args(["--sandbox", "attendium", "whoami"])
        .timeout(Duration::from_secs(60))
        .assert()
        .success()
        .stdout(contains(DEFAULT_USER_ID));
}

#[test]
fn with_the_sandbox_token_prints_a_token_and_nothing_else() {
    let out = attend()
        .args(["-vv", "--sandbox", "attendium", "token"])
        .timeout(Duration::from_secs(60))
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert_eq!(stdout.lines().count(), 1);
    assert!(stdout.trim().len() >= 16);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        !stderr.contains(stdout.trim()),
        "the token is printed on stdout only"
    );
    // No URL either: nobody needs to open it, and it carries the login's state.
    assert!(!stderr.contains("state="), "{stderr}");
}

#[test]
fn query_variables_must_be_name_equals_value() {
    attend()
        .args(["--sandbox", "attendium", "query", "-", "--var", "oops"])
        .write_stdin("query { me { id } }")
        .assert()
        .code(2)
        .stderr(contains("NAME=VALUE"));
}

#[test]
fn whoami_works_over_the_hyper_backend_too() {
    attend()
        .args(["--http", "hyper", "--sandbox", "attendium", "whoami"])
        .timeout(Duration::from_secs(60))
        .assert()
        .success()
        .stdout(contains(DEFAULT_USER_ID));
}

#[test]
fn an_unreadable_query_file_is_an_io_error() {
    attend()
        .args([
            "--sandbox",
            "attendium",
            "query",
            "/nonexistent/query.graphql",
        ])
        .assert()
        .code(6)
        .stderr(contains("/nonexistent/query.graphql"));
}

#[test]
fn a_store_that_is_not_a_directory_is_an_io_error() {
    let file = tempfile::NamedTempFile::new().unwrap();
    attend()
        .args([
            "attendium",
            "token",
            "--issuer",
            "http://127.0.0.1:9",
            "--store",
        ])
        .arg(file.path())
        .assert()
        .code(6);
}

#[test]
fn graphql_failures_are_api_errors_with_what_to_do() {
    use sandbox::attendium::{FaultTimes, GraphqlFault};
    let server = AttendiumServer::start(AttendiumConfig::new());
    let store = tempfile::tempdir().unwrap();
    login(&server, store.path());
    let cases = [
        (GraphqlFault::BadGatewayHtml, "HTML"),
        (GraphqlFault::Errors, "query"),
        (GraphqlFault::PartialData, "partial"),
    ];
    for (fault, said) in cases {
        // A 502 is retried (queries may be sent again): only a lasting one is reported.
        let times = if fault == GraphqlFault::BadGatewayHtml {
            FaultTimes::Always
        } else {
            FaultTimes::Once
        };
        server.server.inject_graphql_fault(fault, times);
        let command = if fault == GraphqlFault::PartialData {
            "query"
        } else {
            "whoami"
        };
        let mut cmd = attendium(&server, store.path());
        cmd.arg(command);
        if command == "query" {
            cmd.arg("-").write_stdin("query { me { id } }");
        }
        cmd.assert()
            .code(4)
            .stderr(contains(said))
            .stderr(contains("panicked").not());
        server.server.clear_faults();
    }
}

#[test]
fn the_sandbox_never_touches_the_stored_session() {
    let store = tempfile::tempdir().unwrap();
    attend()
        .env("ATTEND_STORE", store.path())
        .args(["--sandbox", "attendium", "login"])
        .timeout(Duration::from_secs(60))
        .assert()
        .success();
    assert_eq!(std::fs::read_dir(store.path()).unwrap().count(), 0);
}

#[test]
fn a_query_answer_to_a_closed_stdout_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let query = dir.path().join("me.graphql");
    std::fs::write(&query, "query { me { id } }").unwrap();
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("attend"));
    cmd.args(["--sandbox", "attendium", "query"]).arg(&query);
    let output = common::with_stdout_closed(cmd);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{:?}: {stderr}", output.status);
    assert!(!stderr.contains("error"), "{stderr}");
}
