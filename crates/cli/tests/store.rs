//! `--store` / `ATTEND_STORE`: a directory or a Redis URL keeps Communico's token and
//! Attendium's sessions (one per issuer) between runs, on one machine or many.

#![allow(clippy::unwrap_used)]

mod common;

use attend_tests::redis_server::RedisServer;
use common::{AttendiumServer, CommunicoServer, closed_port};
use predicates::str::contains;
use sandbox::attendium::AttendiumConfig;
use sandbox::communico::CommunicoConfig;

fn token(server: &AttendiumServer, store: &str) -> String {
    let out = common::attend()
        .args([
            "attendium",
            "token",
            "--issuer",
            server.server.issuer(),
            "--store",
            store,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn communico_runs_share_one_token_through_redis_or_a_directory() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    for store in [redis.url(0), dir.path().display().to_string()] {
        let server = CommunicoServer::start(CommunicoConfig::default());
        for _ in 0..3 {
            server
                .attend()
                .args(["communico", "--store", &store, "types", "--format", "json"])
                .assert()
                .success();
        }
        assert_eq!(server.communico().token_requests(), 1, "store {store}");
    }
}

#[test]
fn communico_falls_back_to_its_own_token_when_redis_is_down() {
    let server = CommunicoServer::start(CommunicoConfig::default());
    let url = format!("redis://127.0.0.1:{}/0", closed_port());
    server
        .attend()
        .args(["communico", "--store", &url, "types", "--format", "json"])
        .assert()
        .success();
    assert_eq!(server.communico().token_requests(), 1);
}

#[test]
fn an_attendium_session_in_redis_is_shared_by_runs_in_other_directories() {
    let redis = RedisServer::start();
    let server = AttendiumServer::start(AttendiumConfig::new());
    let url = redis.url(0);
    common::login(server.server.issuer(), std::path::Path::new(&url));
    let elsewhere = tempfile::tempdir().unwrap();
    let first = token(&server, &url);
    let again = common::attend()
        .current_dir(elsewhere.path())
        .env("HOME", elsewhere.path())
        .env("ATTEND_STORE", &url)
        .args(["attendium", "token", "--issuer", server.server.issuer()])
        .output()
        .unwrap();
    assert!(again.status.success());
    assert_eq!(String::from_utf8(again.stdout).unwrap().trim(), first);
    assert!(server.server.access_token_active(&first));
}

#[test]
fn an_unreachable_redis_store_is_named_and_the_session_is_kept() {
    let server = AttendiumServer::start(AttendiumConfig::new());
    let url = format!("redis://127.0.0.1:{}/0", closed_port());
    common::attend()
        .args([
            "attendium",
            "token",
            "--issuer",
            server.server.issuer(),
            "--store",
            &url,
        ])
        .assert()
        .failure()
        .stderr(contains(url.as_str()));
    common::attend()
        .args(["attendium", "token", "--store", "https://example.com/x"])
        .assert()
        .failure()
        .stderr(contains("redis://host:port/db"));
}

#[test]
fn logout_touches_only_the_named_issuer_and_a_second_login_keeps_the_first() {
    let store = tempfile::tempdir().unwrap();
    let dir = store.path().display().to_string();
    let (a, b) = (
        AttendiumServer::start(AttendiumConfig::new()),
        AttendiumServer::start(AttendiumConfig::new()),
    );
    common::login(a.server.issuer(), store.path());
    let token_a = token(&a, &dir);
    common::login(b.server.issuer(), store.path());
    assert_eq!(token(&a, &dir), token_a, "the first session was kept");
    common::attend()
        .args([
            "attendium",
            "logout",
            "--issuer",
            b.server.issuer(),
            "--store",
            &dir,
        ])
        .assert()
        .success();
    assert_eq!(token(&a, &dir), token_a, "logging out of b left a alone");
    assert!(a.server.access_token_active(&token_a));
    common::attend()
        .args([
            "attendium",
            "token",
            "--issuer",
            b.server.issuer(),
            "--store",
            &dir,
        ])
        .assert()
        .code(3);
}
