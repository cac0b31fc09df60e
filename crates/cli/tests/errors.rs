//! Failures end to end, as a person meets them: a server that never answers (the
//! `--timeout` deadline, retries said on stderr), errors that name the option or file at
//! fault, Attendium answers that are the server's state rather than the query's, and
//! what `-v` and `-vvv` show.

// Test helpers outside #[test] functions unwrap too: a failure is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{AttendiumServer, attend, closed_port};
use predicates::str::contains;
use sandbox::attendium::{AttendiumConfig, DEFAULT_USER_ID, FaultTimes, GraphqlFault, HttpFault};

/// A server that accepts connections (the kernel does, into the backlog) and never
/// answers. Kept alive by the caller.
fn silent_server() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs `cmd` and returns its output and how long it took.
fn timed(mut cmd: assert_cmd::Command) -> (std::process::Output, Duration) {
    let start = Instant::now();
    let output = cmd.timeout(Duration::from_secs(120)).output().unwrap();
    (output, start.elapsed())
}

/// The deadline's checks: ended in time, network exit code, each retry said, and the
/// message names --timeout.
fn assert_ends_within(output: &std::process::Output, took: Duration, deadline_secs: u64) {
    let stderr = stderr_of(output);
    // The deadline, plus the start-up of the binary and the backoff waits' rounding.
    assert!(
        took < Duration::from_secs(deadline_secs + 5),
        "took {took:?}: {stderr}"
    );
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("--timeout"), "{stderr}");
    assert!(stderr.contains("deadline (3 attempts)"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "no answer in {} s, trying again in",
            deadline_secs / 3
        )),
        "{stderr}"
    );
    assert!(stderr.contains("(2 of 3)"), "{stderr}");
    assert!(stderr.contains("(3 of 3)"), "{stderr}");
}

#[test]
fn a_communico_server_that_never_answers_ends_within_the_timeout_naming_it() {
    let (_listener, url) = silent_server();
    let mut cmd = attend();
    cmd.env("COMMUNICO_BASE_URL", &url)
        .env("COMMUNICO_CLIENT_KEY", "key")
        .env("COMMUNICO_CLIENT_SECRET", "secret-value")
        .args(["communico", "--timeout", "6", "types"]);
    let (output, took) = timed(cmd);
    assert_ends_within(&output, took, 6);
    assert!(!stderr_of(&output).contains("secret-value"));
}

#[test]
fn an_attendium_server_that_never_answers_ends_within_the_timeout_from_the_environment() {
    for backend in ["reqwest", "hyper"] {
        let (_listener, url) = silent_server();
        let store = tempfile::tempdir().unwrap();
        let mut cmd = attend();
        cmd.env("ATTEND_TIMEOUT", "3")
            .args(["--http", backend, "attendium", "login", "--no-browser"])
            .args(["--issuer", &url, "--store"])
            .arg(store.path());
        let (output, took) = timed(cmd);
        assert_ends_within(&output, took, 3);
        let stderr = stderr_of(&output);
        assert!(stderr.contains(&url), "{backend}: {stderr}");
    }
}

#[test]
fn the_timeout_is_described_in_the_help() {
    attend()
        .arg("--help")
        .assert()
        .success()
        .stdout(contains("--timeout <SECS>"))
        .stdout(contains("retries"));
    attend()
        .args(["communico", "types", "--timeout", "0"])
        .assert()
        .code(2);
}

/// An Attendium sandbox with a logged-in session in `store`.
fn logged_in() -> (AttendiumServer, tempfile::TempDir) {
    let server = AttendiumServer::start(AttendiumConfig::new());
    let store = tempfile::tempdir().unwrap();
    common::login(server.server.issuer(), store.path());
    (server, store)
}

fn attendium(server: &AttendiumServer, store: &std::path::Path) -> assert_cmd::Command {
    let mut cmd = attend();
    cmd.arg("attendium")
        .env("ATTENDIUM_ISSUER", server.server.issuer())
        .env("ATTEND_STORE", store);
    cmd
}

#[test]
fn errors_about_the_api_url_name_api_url_not_the_issuer() {
    let (server, store) = logged_in();
    let dead = format!("http://127.0.0.1:{}/graphql", closed_port());
    let output = attendium(&server, store.path())
        .args(["whoami", "--api-url", &dead])
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("--api-url"), "{stderr}");
    assert!(stderr.contains(&dead), "{stderr}");
    assert!(!stderr.contains("--issuer"), "{stderr}");

    // Credentials refused to a plain-HTTP remote endpoint: a usage error about --api-url.
    let output = attendium(&server, store.path())
        .args(["whoami", "--api-url", "http://api.example.com/graphql"])
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--api-url"), "{stderr}");
    assert!(!stderr.contains("--issuer"), "{stderr}");

    // A dead issuer, by contrast, names --issuer.
    let output = attend()
        .args(["attendium", "login", "--no-browser", "--issuer"])
        .arg(format!("http://127.0.0.1:{}", closed_port()))
        .arg("--store")
        .arg(store.path())
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("--issuer"), "{stderr}");
}

#[test]
fn an_unusable_store_names_its_file_and_the_store_option() {
    let (server, store) = logged_in();
    // The session's lock file's place is taken by a directory: no lock can be created
    // there, even for root. (A fresh token is read without the lock, so `whoami` still
    // works; logging out must take it.)
    let session = std::fs::read_dir(store.path().join("sessions"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.extension().is_some_and(|ext| ext == "json"))
        .expect("the login saved a session file");
    let mut lock = session.into_os_string();
    lock.push(".lock");
    let lock = std::path::PathBuf::from(lock);
    let _ = std::fs::remove_file(&lock);
    std::fs::create_dir(&lock).unwrap();
    let command = "logout";
    let output = attendium(&server, store.path())
        .arg(command)
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(6), "{command}: {stderr}");
    assert!(
        stderr.contains(&lock.display().to_string()),
        "{command}: {stderr}"
    );
    assert!(stderr.contains("--store"), "{command}: {stderr}");
    assert!(!stderr.contains("--issuer"), "{command}: {stderr}");

    // A store path that cannot be a directory names the directory.
    let file = tempfile::NamedTempFile::new().unwrap();
    let output = attendium(&server, file.path())
        .arg("token")
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(6), "{stderr}");
    assert!(
        stderr.contains(&file.path().display().to_string()),
        "{stderr}"
    );
    assert!(stderr.contains("--store"), "{stderr}");
}

#[test]
fn a_busy_graphql_server_is_reported_as_its_state_after_the_retries() {
    let (server, store) = logged_in();
    for (name, arm) in [
        (
            "503 with errors",
            Box::new(|s: &AttendiumServer| {
                s.server
                    .inject_http_fault(HttpFault::GraphqlUnavailable, FaultTimes::Always)
            }) as Box<dyn Fn(&AttendiumServer)>,
        ),
        (
            "429 with errors",
            Box::new(|s: &AttendiumServer| {
                s.server
                    .inject_graphql_fault(GraphqlFault::TooManyRequests, FaultTimes::Always)
            }),
        ),
    ] {
        server.server.clear_faults();
        server.server.reset_counters();
        arm(&server);
        let output = attendium(&server, store.path())
            .arg("whoami")
            .output()
            .unwrap();
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(4), "{name}: {stderr}");
        assert!(stderr.contains("try again later"), "{name}: {stderr}");
        assert!(
            stderr.contains("cannot serve requests now"),
            "{name}: {stderr}"
        );
        assert!(!stderr.contains("fix the query"), "{name}: {stderr}");
        assert!(
            stderr.contains("trying again in 1 s (2 of 3)"),
            "{name}: {stderr}"
        );
        assert_eq!(
            server.server.counters().requests_to("/attendium/graphql"),
            3,
            "{name}"
        );
    }

    // Once only: the retry gets the answer.
    server.server.clear_faults();
    server
        .server
        .inject_http_fault(HttpFault::GraphqlUnavailable, FaultTimes::Once);
    attendium(&server, store.path())
        .arg("whoami")
        .assert()
        .success()
        .stdout(contains(DEFAULT_USER_ID))
        .stderr(contains("(2 of 3)"));
}

#[test]
fn unauthenticated_in_a_200_answer_refreshes_and_replays_once() {
    let (server, store) = logged_in();
    assert_eq!(server.server.refreshes(), 0);
    server
        .server
        .inject_http_fault(HttpFault::GraphqlUnauthenticated, FaultTimes::Once);
    attendium(&server, store.path())
        .arg("whoami")
        .assert()
        .success()
        .stdout(contains(DEFAULT_USER_ID));
    assert_eq!(server.server.refreshes(), 1);

    // Every time: log in again, after exactly one replay.
    server.server.reset_counters();
    server
        .server
        .inject_http_fault(HttpFault::GraphqlUnauthenticated, FaultTimes::Always);
    attendium(&server, store.path())
        .arg("whoami")
        .assert()
        .code(3)
        .stderr(contains("attend attendium login"));
    assert_eq!(
        server.server.counters().requests_to("/attendium/graphql"),
        2
    );
}

#[test]
fn verbose_shows_each_request_without_its_query_and_vvv_leaves_out_pool_internals() {
    let events = |verbosity: &str| {
        let output = attend()
            .args([
                verbosity,
                "--sandbox",
                "communico",
                "events",
                "--from",
                "2024-05-02",
                "--to",
                "2024-05-02",
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr_of(&output));
        stderr_of(&output)
    };
    let stderr = events("-v");
    let requests: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("attempt=1 attempts=3"))
        .collect();
    assert!(
        requests
            .iter()
            .any(|l| l.contains("POST 127.0.0.1/communico/v3/token status=200 duration_ms=")),
        "{stderr}"
    );
    assert!(
        requests
            .iter()
            .any(|l| l.contains("GET 127.0.0.1/communico/v3/attend/events status=2")),
        "{stderr}"
    );
    for line in &requests {
        assert!(!line.contains('?'), "a query string in {line}");
        assert!(!line.contains("startDate"), "a query string in {line}");
    }
    assert!(!stderr.to_lowercase().contains("authorization"), "{stderr}");
    assert!(!stderr.contains("bearer"), "{stderr}");

    let stderr = events("-vvv");
    assert!(stderr.contains("attempt=1 attempts=3"), "{stderr}");
    for chatter in ["hyper_util::client::legacy::pool", "h2::", "checkout"] {
        assert!(!stderr.contains(chatter), "{chatter} in:\n{stderr}");
    }
}

#[test]
fn the_default_verbosity_shows_retries_and_nothing_else() {
    let (server, store) = logged_in();
    server
        .server
        .inject_http_fault(HttpFault::GraphqlUnavailable, FaultTimes::Once);
    let output = attendium(&server, store.path())
        .arg("whoami")
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(
        lines[0].contains(
            "the server answered HTTP 503 Service Unavailable, trying again in 1 s (2 of 3)"
        ),
        "{stderr}"
    );
    assert!(lines[1].contains("logged in to"), "{stderr}");
    assert!(!stderr.contains("attempt="), "{stderr}");
}

#[test]
fn https_to_a_plain_http_port_says_the_server_speaks_no_tls_and_suggests_http() {
    let server = common::CommunicoServer::start(sandbox::communico::CommunicoConfig::default());
    let plain = server.communico().base_url().to_owned();
    let tls = plain.replacen("http://", "https://", 1);
    let origin = plain.trim_end_matches("/communico").to_owned();
    for backend in ["reqwest", "hyper"] {
        let output = server
            .attend()
            .env("COMMUNICO_BASE_URL", &tls)
            .args(["--http", backend, "communico", "types"])
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(5), "{backend}: {stderr}");
        assert!(stderr.contains("does not speak TLS"), "{backend}: {stderr}");
        assert!(stderr.contains(&origin), "{backend}: {stderr}");
        assert!(stderr.contains("http://"), "{backend}: {stderr}");
        assert!(
            !stderr.contains("InvalidContentType"),
            "{backend}: {stderr}"
        );
        // Not a connection failure worth retrying: said once, at once.
        assert!(!stderr.contains("trying again"), "{backend}: {stderr}");
        assert!(
            !stderr.contains(server.communico().secret()),
            "{backend}: {stderr}"
        );
    }
}

#[test]
fn a_logout_the_issuer_cannot_hear_says_the_session_was_removed_here_only() {
    let (server, store) = logged_in();
    let issuer = server.server.issuer().to_owned();
    drop(server);
    let output = attend()
        .args(["attendium", "--timeout", "3", "logout"])
        .env("ATTENDIUM_ISSUER", &issuer)
        .env("ATTEND_STORE", store.path())
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("logged out here"), "{stderr}");
    assert!(stderr.contains("could not revoke the session"), "{stderr}");
    assert!(stderr.contains("stays valid at the server"), "{stderr}");
    assert!(!stderr.contains("then try again"), "{stderr}");
    // And it is true: the session is gone here.
    let again = attend()
        .args(["attendium", "logout"])
        .env("ATTENDIUM_ISSUER", &issuer)
        .env("ATTEND_STORE", store.path())
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", stderr_of(&again));
    assert!(stderr_of(&again).contains("Not logged in"));
}
