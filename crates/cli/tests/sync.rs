//! `attend communico sync` end to end: the summary line, the change feed, the removal
//! guard's exit code, and a process killed at random points while it writes.

// Test helpers outside #[test] functions unwrap too: a failure is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{CommunicoServer, attend, ndjson};
use communico::jiff::civil::date;
use communico_sync::{Mirror, Window};
use predicates::prelude::*;
use sandbox::communico::{CommunicoConfig, EventEdit};

fn summary(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr)
        .lines()
        .find(|l| l.contains(" events in "))
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn a_sync_on_the_sandbox_adds_every_event_then_finds_nothing_new() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mirror.sqlite");
    let run = || {
        attend()
            .args(["--sandbox", "communico", "sync", "--db"])
            .arg(&db)
            .args([
                "--from",
                "2025-11-01",
                "--to",
                "2025-11-03",
                "--changes",
                "-",
            ])
            .assert()
            .success()
            .get_output()
            .clone()
    };
    let first = run();
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(
        stderr.contains(&format!("attend: mirror {}", db.display())),
        "{stderr}"
    );
    let feed = ndjson(&first.stdout);
    let n = feed.len();
    assert!(n > 60, "{n} changes");
    assert!(feed.iter().all(|line| line["change"] == "added"
        && line["eventId"].is_u64()
        && line["event"]["eventId"] == line["eventId"]));
    assert_eq!(
        summary(&first.stderr),
        format!(
            "{n} events in 2025-11-01..2025-11-03: {n} added, 0 updated, 0 canceled, 0 rescheduled, 0 removed, 0 restored, 0 unchanged"
        )
    );

    let second = run();
    assert!(second.stdout.is_empty());
    assert_eq!(
        summary(&second.stderr),
        format!(
            "{n} events in 2025-11-01..2025-11-03: 0 added, 0 updated, 0 canceled, 0 rescheduled, 0 removed, 0 restored, {n} unchanged"
        )
    );
}

#[test]
fn edits_on_the_server_reach_the_feed_file() {
    let server = CommunicoServer::start(
        CommunicoConfig::default()
            .events(150)
            .first_day(date(2025, 11, 1)),
    );
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mirror.sqlite");
    let feed_file = dir.path().join("changes.ndjson");
    let sync = || {
        server
            .attend()
            .args(["communico", "sync", "--db"])
            .arg(&db)
            .args(["--from", "2025-11-01", "--to", "2025-11-05", "--changes"])
            .arg(&feed_file)
            .assert()
            .success()
    };
    sync();
    let s = server.communico();
    let ids = s.published_event_ids(date(2025, 11, 1), date(2025, 11, 5));
    let added = s
        .add_event(&EventEdit::new(
            "Chess Club",
            date(2025, 11, 2).at(17, 0, 0, 0),
            date(2025, 11, 2).at(18, 0, 0, 0),
        ))
        .unwrap();
    s.update_event(ids[3], |e| e.title = "Knitting Circle".into())
        .unwrap();
    s.cancel_event(ids[4]).unwrap();
    s.delete_event(ids[5]).unwrap();
    sync().stderr(predicate::str::contains(
        "1 added, 1 updated, 1 canceled, 0 rescheduled, 1 removed, 0 restored",
    ));
    let lines = ndjson(&std::fs::read(&feed_file).unwrap());
    let got: BTreeMap<u64, String> = lines
        .iter()
        .map(|l| {
            (
                l["eventId"].as_u64().unwrap(),
                l["change"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: BTreeMap<u64, String> = [
        (added, "added"),
        (ids[3], "updated"),
        (ids[4], "canceled"),
        (ids[5], "removed"),
    ]
    .into_iter()
    .map(|(id, kind)| (id, kind.to_owned()))
    .collect();
    assert_eq!(got, want);
    let removed = lines.iter().find(|l| l["change"] == "removed").unwrap();
    assert!(removed.get("event").is_none(), "{removed}");
    let updated = lines.iter().find(|l| l["change"] == "updated").unwrap();
    assert_eq!(updated["event"]["title"], "Knitting Circle");
}

#[test]
fn the_removal_guard_exits_7_and_changes_nothing_until_allowed() {
    let server = CommunicoServer::start(
        CommunicoConfig::default()
            .events(90)
            .first_day(date(2025, 11, 1)),
    );
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mirror.sqlite");
    let sync = |extra: &[&str]| {
        let mut cmd = server.attend();
        cmd.args(["communico", "sync", "--db"])
            .arg(&db)
            .args(["--from", "2025-11-01", "--to", "2025-11-03"])
            .args(extra);
        cmd.assert()
    };
    sync(&[]).success();
    let s = server.communico();
    let ids = s.published_event_ids(date(2025, 11, 1), date(2025, 11, 3));
    let gone = ids.len() / 3;
    for id in &ids[..gone] {
        s.delete_event(*id).unwrap();
    }
    // A feed file from an earlier run survives a refused one.
    let feed_file = dir.path().join("changes.ndjson");
    std::fs::write(&feed_file, "earlier feed\n").unwrap();
    let refused = sync(&["--changes", feed_file.to_str().unwrap()])
        .code(7)
        .get_output()
        .clone();
    assert_eq!(
        std::fs::read_to_string(&feed_file).unwrap(),
        "earlier feed\n"
    );
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    assert!(stderr.contains("--allow-mass-removal"), "{stderr}");
    assert!(
        stderr.contains(&format!("would remove {gone} of the")),
        "{stderr}"
    );
    // Still refused: nothing was applied the first time.
    sync(&["--max-removals", "25"]).code(7);
    sync(&["--allow-mass-removal"])
        .success()
        .stderr(predicate::str::contains(format!("{gone} removed")));
    sync(&[])
        .success()
        .stderr(predicate::str::contains("0 removed"));
}

/// A small xorshift generator: random kill points, reproducible from the printed seed.
struct Random(u64);

impl Random {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// The number of events present in `window`, and the number of changes of the second
/// sync (none if it did not commit).
fn mirror_state(path: &Path, window: Window) -> (usize, u64) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    drop(conn);
    let mirror = Mirror::open(path).unwrap();
    let present = mirror.present_events(window).unwrap().len();
    let changes = mirror.for_each_change(2, |_| Ok(())).unwrap();
    (present, changes)
}

#[test]
fn a_sync_killed_at_any_point_leaves_the_mirror_before_or_after_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let small = Window::new(date(2025, 11, 1), date(2025, 11, 5)).unwrap();
    let large = Window::new(date(2025, 11, 1), date(2026, 1, 31)).unwrap();
    let sync = |db: &Path, window: Window| {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("attend"));
        cmd.args(["--sandbox", "communico", "sync", "--db"])
            .arg(db)
            .arg("--from")
            .arg(window.from().to_string())
            .arg("--to")
            .arg(window.to().to_string())
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    };
    // The state before: a mirror of the small window.
    let before = dir.path().join("before.sqlite");
    assert!(sync(&before, small).status().unwrap().success());
    let (n_before, _) = mirror_state(&before, large);
    // The state after, and how long an uninterrupted run takes.
    let after = dir.path().join("after.sqlite");
    std::fs::copy(&before, &after).unwrap();
    let started = Instant::now();
    assert!(sync(&after, large).status().unwrap().success());
    let full_run = started.elapsed();
    let (n_after, changes_after) = mirror_state(&after, large);
    assert!(n_after > n_before && changes_after as usize == n_after - n_before);

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut random = Random(seed);
    let span = full_run.as_millis() as u64 + 50;
    let mut outcomes = (0, 0);
    for attempt in 0..8 {
        let db = dir.path().join(format!("killed-{attempt}.sqlite"));
        std::fs::copy(&before, &db).unwrap();
        let delay = Duration::from_millis(random.below(span));
        let mut child = sync(&db, large).spawn().unwrap();
        std::thread::sleep(delay);
        // SIGKILL: no destructor, no rollback, no flush.
        let _ = child.kill();
        child.wait().unwrap();
        let state = mirror_state(&db, large);
        assert!(
            state == (n_before, 0) || state == (n_after, changes_after),
            "seed {seed}, killed after {delay:?}: {state:?}, expected {:?} or {:?}",
            (n_before, 0),
            (n_after, changes_after)
        );
        if state.1 == 0 {
            outcomes.0 += 1;
        } else {
            outcomes.1 += 1;
        }
        // The interrupted mirror syncs normally afterwards.
        if attempt == 0 {
            assert!(sync(&db, large).status().unwrap().success());
            assert_eq!(mirror_state(&db, large).0, n_after);
        }
    }
    eprintln!(
        "seed {seed}: {} kills before the commit, {} after",
        outcomes.0, outcomes.1
    );
}

/// Kills `attend sandbox serve` when the test ends, however it ends.
struct Served(std::process::Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn events_changed_on_a_served_sandbox_reach_the_next_sync() {
    use std::io::{BufRead, BufReader};
    let child = Command::new(assert_cmd::cargo::cargo_bin!("attend"))
        .args(["sandbox", "serve", "--events", "90", "--from", "2025-11-01"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut served = Served(child);
    let mut settings = BTreeMap::new();
    let mut banner = String::new();
    for line in BufReader::new(served.0.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        banner.push_str(&line);
        banner.push('\n');
        if let Some((name, value)) = line.trim().split_once('=') {
            settings.insert(name.to_owned(), value.to_owned());
        }
        if line.contains("ATTENDIUM_API_URL") {
            break;
        }
    }
    assert!(banner.contains("attend sandbox event --url"), "{banner}");
    let env = |cmd: &mut assert_cmd::Command| {
        for name in [
            "COMMUNICO_BASE_URL",
            "COMMUNICO_CLIENT_KEY",
            "COMMUNICO_CLIENT_SECRET",
        ] {
            cmd.env(name, &settings[name]);
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mirror.sqlite");
    let sync = || {
        let mut cmd = attend();
        env(&mut cmd);
        cmd.args(["communico", "sync", "--db"]).arg(&db).args([
            "--from",
            "2025-11-01",
            "--to",
            "2025-11-03",
            "--changes",
            "-",
        ]);
        cmd.assert().success().get_output().clone()
    };
    let first = ndjson(&sync().stdout);
    let ids: Vec<u64> = first
        .iter()
        .filter(|l| l["event"]["modified"] == "")
        .map(|l| l["eventId"].as_u64().unwrap())
        .collect();
    let change = |args: &[&str]| {
        let mut cmd = attend();
        env(&mut cmd);
        cmd.args(["sandbox", "event"]).args(args);
        let out = cmd.assert().success().get_output().clone();
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let added = change(&[
        "add",
        "--title",
        "Chess Club",
        "--start",
        "2025-11-02 17:00",
        "--end",
        "2025-11-02 18:00",
    ])["eventId"]
        .as_u64()
        .unwrap();
    change(&["edit", &ids[0].to_string(), "--title", "Knitting Circle"]);
    change(&["cancel", &ids[1].to_string()]);
    let replacement = change(&[
        "reschedule",
        &ids[2].to_string(),
        "--start",
        "2025-11-03 10:00",
        "--end",
        "2025-11-03 11:00",
    ])["newEventId"]
        .as_u64()
        .unwrap();
    change(&["delete", &ids[3].to_string()]);
    // An unknown event is refused with the sandbox's reason.
    let mut cmd = attend();
    env(&mut cmd);
    cmd.args(["sandbox", "event", "delete", &ids[3].to_string()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("no event {}", ids[3])));

    let second = sync();
    let line = summary(&second.stderr);
    assert!(
        line.contains(": 2 added, 1 updated, 1 canceled, 1 rescheduled, 1 removed, 0 restored, "),
        "{line}"
    );
    let got: BTreeMap<u64, String> = ndjson(&second.stdout)
        .iter()
        .map(|l| {
            (
                l["eventId"].as_u64().unwrap(),
                l["change"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: BTreeMap<u64, String> = [
        (added, "added"),
        (replacement, "added"),
        (ids[0], "updated"),
        (ids[1], "canceled"),
        (ids[2], "rescheduled"),
        (ids[3], "removed"),
    ]
    .into_iter()
    .map(|(id, kind)| (id, kind.to_owned()))
    .collect();
    assert_eq!(got, want);
}

#[test]
fn refused_credentials_change_nothing_and_are_never_printed() {
    let server = CommunicoServer::start(
        CommunicoConfig::default()
            .events(30)
            .first_day(date(2025, 11, 1)),
    );
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mirror.sqlite");
    let secret = "wrong-secret-7f3a9c";
    let out = server
        .attend()
        .env("COMMUNICO_CLIENT_SECRET", secret)
        .args(["-vv", "communico", "sync", "--db"])
        .arg(&db)
        .args(["--from", "2025-11-01", "--to", "2025-11-01"])
        .assert()
        .code(3)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("the mirror was not changed"), "{stderr}");
    assert!(!stderr.contains(secret), "{stderr}");
    let mirror = Mirror::open(&db).unwrap();
    let window = Window::new(date(2025, 11, 1), date(2025, 11, 1)).unwrap();
    assert!(mirror.present_events(window).unwrap().is_empty());
}

#[test]
fn a_change_feed_on_a_closed_stdout_is_a_failure_not_silence() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mirror.sqlite");
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("attend"));
    cmd.args(["--sandbox", "communico", "sync", "--db"])
        .arg(&db)
        .args([
            "--from",
            "2026-12-01",
            "--to",
            "2026-12-02",
            "--changes",
            "-",
        ]);
    let output = common::with_stdout_closed(cmd);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // The mirror is committed, so the next run will not list these changes again: the
    // lost feed must be said, with where the changes stay.
    assert_eq!(output.status.code(), Some(6), "{stderr}");
    assert!(
        stderr.contains("change feed could not be written to standard output"),
        "{stderr}"
    );
    assert!(stderr.contains("`changes` table"), "{stderr}");
    assert!(stderr.contains(" added"), "{stderr}");
}

#[test]
fn a_sandbox_sync_without_db_never_touches_the_real_mirror() {
    let home = tempfile::tempdir().unwrap();
    let output = attend()
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .args([
            "--sandbox",
            "communico",
            "sync",
            "--from",
            "2026-12-01",
            "--to",
            "2026-12-01",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("sandbox-events.sqlite"), "{stderr}");
    assert!(!home.path().join("data/attend/events.sqlite").exists());
}
