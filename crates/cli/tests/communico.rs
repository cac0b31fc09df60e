//! `attend communico ...` end to end against the sandbox: every subcommand, every format,
//! and the failures a person meets (bad dates, bad credentials, a dead server, HTML).

// Test helpers outside #[test] functions unwrap too: a failure is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use common::{CommunicoServer, attend, closed_port, html_server, ndjson};
use communico::{EventField, EventQuery, date};
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;
use sandbox::communico::CommunicoConfig;
use serde_json::Value;

const FROM: &str = "2024-05-02";
const TO: &str = "2024-05-09";

/// 400 events from 2024-05-01, 30 a day: the window above spans two pages.
fn server() -> CommunicoServer {
    CommunicoServer::start(CommunicoConfig::default().events(400))
}

fn window_query() -> EventQuery {
    EventQuery::new()
        .start_date(date(FROM).unwrap())
        .end_date(date(TO).unwrap())
}

fn stdout_of(cmd: &mut assert_cmd::Command) -> Vec<u8> {
    cmd.assert().success().get_output().stdout.clone()
}

#[test]
fn events_json_is_every_event_with_every_member_the_api_sent() {
    let s = server();
    let out = stdout_of(s.attend().args([
        "communico",
        "events",
        "--from",
        FROM,
        "--to",
        TO,
        "--format",
        "json",
        "--fields",
        "ages,types,registration,maxAttendees",
    ]));
    let got: Vec<Value> = serde_json::from_slice(&out).unwrap();
    let want = s.expected_events(window_query().fields([
        EventField::Ages,
        EventField::Types,
        EventField::Registration,
        EventField::MaxAttendees,
    ]));
    assert!(want.len() > 200, "the window should span pages");
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        // Field by field, so a difference names the member.
        let (g, w) = (g.as_object().unwrap(), w.as_object().unwrap());
        assert_eq!(g.keys().collect::<Vec<_>>(), w.keys().collect::<Vec<_>>());
        for (key, value) in w {
            assert_eq!(&g[key], value, "member {key} of event {}", w["eventId"]);
        }
        assert!(g.contains_key("ages") && g.contains_key("types"));
    }
    let ids: Vec<u64> = got.iter().map(|e| e["eventId"].as_u64().unwrap()).collect();
    let sandbox_ids = s
        .communico()
        .published_event_ids(date(FROM).unwrap(), date(TO).unwrap());
    assert_eq!(ids, sandbox_ids);
}

#[test]
fn events_ndjson_is_one_event_a_line_equal_to_the_api_data() {
    let s = server();
    let out = stdout_of(s.attend().args([
        "communico",
        "events",
        "--from",
        FROM,
        "--to",
        TO,
        "--format",
        "ndjson",
    ]));
    assert_eq!(ndjson(&out), s.expected_events(window_query()));
}

#[test]
fn the_default_format_off_a_terminal_is_ndjson() {
    let s = server();
    let out = stdout_of(
        s.attend()
            .args(["communico", "events", "--from", FROM, "--to", FROM]),
    );
    let events = ndjson(&out);
    assert!(!events.is_empty());
    assert!(events.iter().all(|e| e["eventId"].is_u64()));
}

#[test]
fn events_csv_parses_back_with_one_row_per_event() {
    let s = server();
    let out = stdout_of(s.attend().args([
        "communico",
        "events",
        "--from",
        FROM,
        "--to",
        TO,
        "--format",
        "csv",
        "--fields",
        "ages",
    ]));
    let want = s.expected_events(window_query().fields([EventField::Ages]));
    let mut reader = csv::Reader::from_reader(out.as_slice());
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (id, title, start, ages) = (
        column("eventId"),
        column("title"),
        column("eventStart"),
        column("ages"),
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), want.len());
    for (row, event) in rows.iter().zip(&want) {
        assert_eq!(row[id], event["eventId"].to_string());
        assert_eq!(&row[title], event["title"].as_str().unwrap_or(""));
        assert_eq!(&row[start], event["eventStart"].as_str().unwrap_or(""));
        let want_ages: Vec<&str> = event["ages"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        assert_eq!(row[ages], want_ages.join("; "));
    }
}

#[test]
fn events_ics_is_a_calendar_an_icalendar_parser_reads() {
    let s = server();
    let out = stdout_of(s.attend().args([
        "communico",
        "events",
        "--from",
        FROM,
        "--to",
        TO,
        "--format",
        "ics",
    ]));
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("\r\n"), "lines end in CRLF");
    assert!(
        text.split("\r\n").all(|l| l.len() <= 75),
        "lines are folded at 75 octets"
    );
    let mut calendars = ical::IcalParser::new(text.as_bytes());
    let calendar = calendars.next().unwrap().unwrap();
    assert!(calendars.next().is_none());
    let want: Vec<Value> = s
        .expected_events(window_query())
        .into_iter()
        .filter(|e| e["eventStart"].is_string())
        .collect();
    assert_eq!(calendar.events.len(), want.len());
    let prop = |e: &ical::parser::ical::component::IcalEvent, name: &str| {
        e.properties
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.value.clone())
    };
    let mut uids = std::collections::HashSet::new();
    for (vevent, event) in calendar.events.iter().zip(&want) {
        let uid = prop(vevent, "UID").unwrap();
        assert!(uid.contains(&event["eventId"].to_string()));
        assert!(uids.insert(uid), "UIDs are unique");
        assert!(prop(vevent, "DTSTAMP").unwrap().ends_with('Z'));
        assert_eq!(
            unescape(&prop(vevent, "SUMMARY").unwrap_or_default()),
            event["title"].as_str().unwrap_or("")
        );
        let start = event["eventStart"]
            .as_str()
            .unwrap()
            .replace(['-', ':'], "");
        let dtstart = prop(vevent, "DTSTART").unwrap();
        assert!(
            start.replace(' ', "T").starts_with(&dtstart) || start.starts_with(&dtstart),
            "{dtstart} vs {start}"
        );
        // Rescheduled events no longer happen at this time (their replacement is listed).
        let off = event["modified"] == "canceled" || event["modified"] == "rescheduled";
        assert_eq!(prop(vevent, "STATUS").unwrap() == "CANCELLED", off);
    }
}

/// RFC 5545 §3.3.11 TEXT unescaping (the parser leaves values escaped).
fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn events_table_has_a_header_and_a_row_per_event() {
    let s = server();
    // Colors allowed (no NO_COLOR), yet stdout is a pipe: none may be used.
    let out = stdout_of(s.attend().env_remove("NO_COLOR").args([
        "communico",
        "events",
        "--from",
        FROM,
        "--to",
        FROM,
        "--format",
        "table",
    ]));
    let text = String::from_utf8(out).unwrap();
    let want = s.expected_events(
        EventQuery::new()
            .start_date(date(FROM).unwrap())
            .end_date(date(FROM).unwrap()),
    );
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("ID") && lines[0].contains("TITLE"));
    assert_eq!(lines.len(), want.len() + 1);
    assert!(!text.contains('\u{1b}'), "no colors off a terminal");
    for (line, event) in lines[1..].iter().zip(&want) {
        assert!(line.starts_with(&event["eventId"].to_string()));
    }
}

#[test]
fn hide_canceled_leaves_out_canceled_and_rescheduled_events() {
    let s = server();
    let all = ndjson(&stdout_of(s.attend().args([
        "communico",
        "events",
        "--from",
        FROM,
        "--to",
        TO,
        "--format",
        "ndjson",
    ])));
    let shown = ndjson(&stdout_of(s.attend().args([
        "communico",
        "events",
        "--from",
        FROM,
        "--to",
        TO,
        "--format",
        "ndjson",
        "--hide-canceled",
    ])));
    let modified = |e: &Value| e["modified"] == "canceled" || e["modified"] == "rescheduled";
    let kept: Vec<Value> = all.iter().filter(|e| !modified(e)).cloned().collect();
    assert!(kept.len() < all.len(), "the data set has canceled events");
    assert_eq!(shown, kept);
}

#[test]
fn limit_stops_after_that_many_events() {
    let s = server();
    let out = ndjson(&stdout_of(s.attend().args([
        "communico",
        "events",
        "--from",
        FROM,
        "--to",
        TO,
        "--limit",
        "5",
    ])));
    assert_eq!(out, s.expected_events(window_query())[..5].to_vec());
}

#[test]
fn the_hyper_backend_gives_the_same_output() {
    let s = server();
    let args = [
        "communico",
        "events",
        "--from",
        FROM,
        "--to",
        TO,
        "--format",
        "json",
    ];
    let reqwest = stdout_of(s.attend().args(args));
    let hyper = stdout_of(s.attend().args(["--http", "hyper"]).args(args));
    assert_eq!(reqwest, hyper);
}

#[test]
fn the_embedded_sandbox_serves_the_main_command() {
    let out = stdout_of(attend().args([
        "--sandbox",
        "communico",
        "events",
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-31",
        "--format",
        "ndjson",
    ]));
    let events = ndjson(&out);
    // The documented data set: a year of events, 30 a day, from --from.
    let s = CommunicoServer::start(
        CommunicoConfig::default()
            .first_day(date("2026-12-01").unwrap())
            .events_per_day(30)
            .events(365 * 30),
    );
    let ids: Vec<u64> = events
        .iter()
        .map(|e| e["eventId"].as_u64().unwrap())
        .collect();
    assert_eq!(
        ids,
        s.communico()
            .published_event_ids(date("2026-12-01").unwrap(), date("2026-12-31").unwrap())
    );
    assert!(events.len() > 500);
}

#[test]
fn one_event_in_json_is_the_object_with_the_fields_asked_for() {
    let s = server();
    let id = s
        .communico()
        .published_event_ids(date(FROM).unwrap(), date(FROM).unwrap())[0];
    let out = stdout_of(s.attend().args([
        "communico",
        "event",
        &id.to_string(),
        "--fields",
        "types",
        "--format",
        "json",
    ]));
    let event: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(event["eventId"], id);
    assert!(event["types"].is_array());
}

#[test]
fn a_missing_event_is_an_api_error() {
    let s = server();
    s.attend()
        .args(["communico", "event", "999999999"])
        .assert()
        .code(4)
        .stderr(contains("not found"));
}

#[test]
fn lookup_lists_print_in_every_list_format() {
    let s = server();
    let types = ndjson(&stdout_of(s.attend().args([
        "communico",
        "types",
        "--format",
        "ndjson",
    ])));
    assert!(
        types
            .iter()
            .any(|t| t["name"] == "Storytime" || t == "Storytime")
    );
    let ages: Vec<Value> = serde_json::from_slice(&stdout_of(s.attend().args([
        "communico",
        "ages",
        "-o",
        "json",
    ])))
    .unwrap();
    assert!(
        ages.iter()
            .any(|a| a == "Adults (18+)" || a["name"] == "Adults (18+)")
    );
    let locations = stdout_of(
        s.attend()
            .args(["communico", "locations", "--format", "csv"]),
    );
    let mut reader = csv::Reader::from_reader(locations.as_slice());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["id", "name"]
    );
    let names: Vec<String> = reader.records().map(|r| r.unwrap()[1].to_owned()).collect();
    assert!(names.contains(&"West Toledo".to_owned()));
    let rooms = String::from_utf8(stdout_of(s.attend().args([
        "communico",
        "rooms",
        "--format",
        "table",
    ])))
    .unwrap();
    assert!(rooms.lines().next().unwrap().contains("roomId"));
    assert!(rooms.lines().count() > 1);
}

#[test]
fn registrants_and_reservations_list() {
    let s = server();
    let c = s.communico();
    let client = communico::Client::builder()
        .base_url(c.base_url())
        .credentials(c.key(), communico::ClientSecret::new(c.secret()))
        .build()
        .unwrap();
    // The first event with registrants, and what the library client gets for it.
    let (id, want) = s.rt.block_on(async {
        for id in c.published_event_ids(date(FROM).unwrap(), date(TO).unwrap()) {
            let list = client.registrants(id).await.unwrap();
            if !list.is_empty() {
                return (id, serde_json::to_value(list).unwrap());
            }
        }
        panic!("no event with registrants in the data set")
    });
    let out = stdout_of(s.attend().args([
        "communico",
        "registrants",
        &id.to_string(),
        "--format",
        "json",
    ]));
    let registrants: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(registrants, want);
    let out = stdout_of(s.attend().args([
        "communico",
        "reservations",
        "--from",
        FROM,
        "--to",
        TO,
        "--status",
        "approved",
        "--status",
        "pending",
        "--format",
        "ndjson",
    ]));
    let reservations = ndjson(&out);
    assert!(!reservations.is_empty());
    assert!(
        reservations
            .iter()
            .all(|r| r["status"] == "approved" || r["status"] == "pending")
    );
}

#[test]
fn ics_is_refused_for_lists() {
    let s = server();
    s.attend()
        .args(["communico", "types", "--format", "ics"])
        .assert()
        .code(2)
        .stderr(contains("events only"));
    // Refused before connecting: a dead server makes no difference.
    for list in ["types", "ages", "locations", "rooms", "reservations"] {
        attend()
            .env("COMMUNICO_CLIENT_KEY", "k")
            .env("COMMUNICO_CLIENT_SECRET", "s")
            .env(
                "COMMUNICO_BASE_URL",
                format!("http://127.0.0.1:{}", closed_port()),
            )
            .args(["communico", list, "--format", "ics"])
            .assert()
            .code(2)
            .stderr(contains("events only"));
    }
}

#[test]
fn impossible_dates_are_usage_errors_sent_nowhere() {
    let s = server();
    s.attend()
        .args([
            "communico",
            "events",
            "--from",
            "2016-11-31",
            "--to",
            "2016-12-01",
        ])
        .assert()
        .code(2)
        .stderr(contains("2016-11-31"));
    s.attend()
        .args([
            "communico",
            "events",
            "--from",
            "2024-05-09",
            "--to",
            "2024-05-01",
        ])
        .assert()
        .code(2)
        .stderr(contains("before the start date"));
    assert_eq!(s.communico().token_requests(), 0, "nothing was sent");
}

#[test]
fn refused_credentials_are_an_authentication_error_that_does_not_show_the_secret() {
    let s = server();
    let secret = "wrong-secret-d6f1c2a9";
    s.attend()
        .env("COMMUNICO_CLIENT_SECRET", secret)
        .args(["-vv", "communico", "events", "--from", FROM, "--to", TO])
        .assert()
        .code(3)
        .stderr(contains("COMMUNICO_CLIENT_SECRET"))
        .stderr(contains(secret).not())
        .stdout(contains(secret).not());
}

#[test]
fn missing_credentials_say_what_to_set() {
    attend()
        .args(["communico", "--base-url", "http://127.0.0.1:9", "types"])
        .assert()
        .code(2)
        .stderr(contains("COMMUNICO_CLIENT_KEY"))
        .stderr(contains("--sandbox"));
}

#[test]
fn a_dead_server_is_a_network_error() {
    let base = format!("http://127.0.0.1:{}", closed_port());
    let assert = attend()
        .env("COMMUNICO_CLIENT_KEY", "k")
        .env("COMMUNICO_CLIENT_SECRET", "s")
        .args(["communico", "--base-url", &base, "types"])
        .assert()
        .code(5)
        .stderr(contains(base.as_str()));
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    // One sentence, after a line for each retry.
    assert_eq!(
        stderr
            .trim_end()
            .lines()
            .filter(|l| !l.contains("trying again"))
            .count(),
        1,
        "one sentence: {stderr}"
    );
    assert!(!stderr.contains("panicked"));
}

#[test]
fn a_server_answering_html_is_an_api_error() {
    let rt = common::runtime();
    let base = html_server(&rt);
    attend()
        .env("COMMUNICO_CLIENT_KEY", "k")
        .env("COMMUNICO_CLIENT_SECRET", "s")
        .args([
            "communico",
            "--base-url",
            &base,
            "events",
            "--from",
            FROM,
            "--to",
            TO,
        ])
        .assert()
        .code(4)
        .stderr(contains("--base-url"))
        .stderr(contains("panicked").not());
}

#[test]
fn a_plain_http_base_url_off_loopback_is_refused() {
    attend()
        .env("COMMUNICO_CLIENT_KEY", "k")
        .env("COMMUNICO_CLIENT_SECRET", "s")
        .args([
            "communico",
            "--base-url",
            "http://api.communico.co",
            "types",
        ])
        .assert()
        .code(2)
        .stderr(contains("https"));
}

#[test]
fn help_documents_the_exit_codes() {
    attend()
        .arg("--help")
        .assert()
        .success()
        .stdout(contains("Exit codes:"))
        .stdout(contains("5  network"));
    attend().assert().code(2);
}

#[test]
fn verbose_logs_go_to_stderr_and_data_stays_clean_on_stdout() {
    let s = server();
    let out = s
        .attend()
        .args([
            "-v",
            "communico",
            "events",
            "--from",
            FROM,
            "--to",
            FROM,
            "--format",
            "ndjson",
        ])
        .assert()
        .success();
    let output = out.get_output();
    assert!(String::from_utf8_lossy(&output.stderr).contains("events written"));
    // Every stdout line is still an event.
    assert!(!ndjson(&output.stdout).is_empty());
    assert!(!String::from_utf8_lossy(&output.stderr).contains(s.communico().secret()));
}

#[test]
fn no_progress_bar_or_other_noise_on_stderr_off_a_terminal() {
    let s = server();
    let out = s
        .attend()
        .args([
            "communico",
            "events",
            "--from",
            FROM,
            "--to",
            TO,
            "--format",
            "csv",
        ])
        .assert()
        .success();
    assert!(out.get_output().stderr.is_empty());
}

#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(assert_cmd::cargo::cargo_bin!("attend"))
        .args([
            "--sandbox",
            "communico",
            "events",
            "--from",
            "2026-01-01",
            "--to",
            "2026-12-31",
            "--format",
            "ndjson",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with('{'));
    // The reader is gone (as with `| head -1`): stdout is closed.
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{:?}", output.status);
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn one_event_as_json_to_a_closed_stdout_ends_quietly() {
    let s = server();
    let id = s
        .communico()
        .published_event_ids(date(FROM).unwrap(), date(FROM).unwrap())[0];
    let c = s.communico();
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin!("attend"));
    cmd.args(["communico", "event", &id.to_string(), "--format", "json"])
        .env("COMMUNICO_BASE_URL", c.base_url())
        .env("COMMUNICO_CLIENT_KEY", c.key())
        .env("COMMUNICO_CLIENT_SECRET", c.secret());
    let output = common::with_stdout_closed(cmd);
    assert!(
        output.status.success(),
        "{:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn one_event_as_a_table_is_a_member_per_line_and_as_ics_one_vevent() {
    let s = server();
    let id = s
        .communico()
        .published_event_ids(date(FROM).unwrap(), date(FROM).unwrap())[0];
    let table = String::from_utf8(stdout_of(s.attend().args([
        "communico",
        "event",
        &id.to_string(),
        "--format",
        "table",
    ])))
    .unwrap();
    let id_line = table.lines().find(|l| l.starts_with("eventId")).unwrap();
    assert!(id_line.ends_with(&id.to_string()));
    assert!(table.lines().any(|l| l.starts_with("title")));
    let ics = String::from_utf8(stdout_of(s.attend().args([
        "communico",
        "event",
        &id.to_string(),
        "--format",
        "ics",
    ])))
    .unwrap();
    let calendar = ical::IcalParser::new(ics.as_bytes())
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(calendar.events.len(), 1);
}

#[test]
fn a_limit_of_zero_is_a_usage_error() {
    attend()
        .args([
            "--sandbox",
            "communico",
            "events",
            "--from",
            "today",
            "--to",
            "+1",
            "--limit",
            "0",
        ])
        .assert()
        .code(2);
}

/// The peak memory of `attend --sandbox communico events` over `from..=to` in `format`,
/// read from `/proc` once `lines` events have come out, while the process is still
/// streaming.
#[cfg(target_os = "linux")]
fn peak_kib_after(format: &str, from: &str, to: &str, lines: usize) -> u64 {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(assert_cmd::cargo::cargo_bin!("attend"))
        .args([
            "--sandbox",
            "communico",
            "events",
            "--from",
            from,
            "--to",
            to,
        ])
        .args(["--format", format])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    for _ in 0..lines {
        line.clear();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "output ended early"
        );
    }
    // The process now waits on the full pipe: its peak so far is what streaming cost.
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let peak = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{format}: the process ended before its peak was read"));
    drop(reader);
    let _ = child.kill();
    let _ = child.wait();
    peak
}

#[cfg(target_os = "linux")]
#[test]
fn a_year_of_events_streams_in_the_memory_of_a_month() {
    // Both runs hold the same year-long sandbox data set; only the window differs
    // (about 900 events against about 10,500).
    // The table holds a block of rows to lay them out: a month is one block, a year
    // several, never the whole year.
    // Each is read while the process still has more to write than the pipe holds (64 KiB):
    // a month's table is one line an event, so it is read early; the table is laid out
    // before its first line is written, so its peak is already reached then.
    for (format, month_lines) in [("json", 800), ("table", 20)] {
        let month = peak_kib_after(format, "2026-01-01", "2026-01-31", month_lines);
        let year = peak_kib_after(format, "2026-01-01", "2026-12-31", 10_000);
        assert!(
            year <= month + 4 * 1024,
            "{format}: a year peaked at {year} KiB, a month at {month} KiB"
        );
    }
}

#[test]
fn unknown_status_and_field_names_are_warned_about_on_stderr() {
    let s = server();
    s.attend()
        .args([
            "communico",
            "reservations",
            "--status",
            "aproved",
            "--format",
            "ndjson",
        ])
        .assert()
        .stderr(contains("warning").and(contains("`aproved`")));
    s.attend()
        .args([
            "communico",
            "events",
            "--from",
            FROM,
            "--to",
            FROM,
            "--fields",
            "agez",
            "--format",
            "ndjson",
        ])
        .assert()
        .stderr(contains("warning").and(contains("`agez`")));
}
