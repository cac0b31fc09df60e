//! `attend communico events` output for people, end to end: the table on a real
//! pseudo-terminal, `today` in the library's time zone, iCalendar checked by an
//! independent validator, CSV and every format fed hostile server text, output closed
//! cleanly on Ctrl-C and on a failure mid-stream, and filters that match nothing.

// Test helpers outside #[test] functions unwrap too: a failure is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{CommunicoServer, attend};
use communico::{EventQuery, date};
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;
use sandbox::communico::{CommunicoConfig, Fault};
use serde_json::{Value, json};

fn stdout_of(cmd: &mut assert_cmd::Command) -> Vec<u8> {
    cmd.assert().success().get_output().stdout.clone()
}

/// Runs `attend` on a pseudo-terminal of `columns` columns through util-linux `script`
/// (Debian's bsdutils, an essential package), stderr to a file; gives the screen text
/// with the terminal's CRLF turned back into LF.
fn on_a_terminal(columns: u16, args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    let command = format!(
        "stty cols {columns} rows 50 && exec \"$ATTEND\" {} 2>\"$ERRORS\"",
        quoted.join(" ")
    );
    let output = Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .env("ATTEND", assert_cmd::cargo::cargo_bin!("attend"))
        .env("ERRORS", dir.path().join("stderr"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("util-linux `script` runs (Debian: bsdutils)");
    let errors = std::fs::read_to_string(dir.path().join("stderr")).unwrap_or_default();
    assert!(output.status.success(), "{:?}: {errors}", output.status);
    String::from_utf8(output.stdout)
        .unwrap()
        .replace("\r\n", "\n")
}

/// The event table as rows: the header's column starts, then for each event its id and
/// its cells, continuation lines joined back (a wrapped cell continues below itself).
fn table_rows(screen: &str) -> Vec<(String, Vec<String>)> {
    let mut lines = screen.lines();
    let header = lines.next().unwrap();
    let starts: Vec<usize> = ["ID", "START", "END", "LOCATION", "TITLE"]
        .iter()
        .map(|h| {
            header
                .find(h)
                .unwrap_or_else(|| panic!("{h} in {header:?}"))
        })
        .collect();
    let cell = |line: &str, i: usize| -> String {
        let from = starts[i].min(line.len());
        let to = starts
            .get(i + 1)
            .map_or(line.len(), |s| (*s).min(line.len()));
        line[from..to].trim().to_owned()
    };
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    for line in lines {
        if line.starts_with(' ') {
            let (_, cells) = rows.last_mut().unwrap();
            for (i, c) in cells.iter_mut().enumerate() {
                let more = cell(line, i);
                if !more.is_empty() {
                    c.push(' ');
                    c.push_str(&more);
                }
            }
        } else {
            let cells: Vec<String> = (0..starts.len()).map(|i| cell(line, i)).collect();
            rows.push((cells[0].clone(), cells));
        }
    }
    rows
}

#[test]
fn the_table_on_an_80_and_a_200_column_terminal_wraps_never_cuts_and_fills_the_width() {
    let args = [
        "--sandbox",
        "communico",
        "events",
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-01",
    ];
    // What the table must show, from the same data set.
    let s = CommunicoServer::start(
        CommunicoConfig::default()
            .first_day(date("2026-12-01").unwrap())
            .events_per_day(30)
            .events(365 * 30),
    );
    let want = s.expected_events(
        EventQuery::new()
            .start_date(date("2026-12-01").unwrap())
            .end_date(date("2026-12-01").unwrap()),
    );
    let widths =
        |screen: &str| -> Vec<usize> { screen.lines().map(|l| l.chars().count()).collect() };
    for columns in [80_usize, 200] {
        let screen = on_a_terminal(u16::try_from(columns).unwrap(), &args);
        assert!(!screen.contains('…'), "nothing is cut:\n{screen}");
        let used = widths(&screen).into_iter().max().unwrap();
        assert!(used <= columns, "{used} > {columns}:\n{screen}");
        let rows = table_rows(&screen);
        assert_eq!(rows.len(), want.len(), "{screen}");
        for ((id, cells), event) in rows.iter().zip(&want) {
            assert_eq!(id, &event["eventId"].to_string());
            let start = event["eventStart"].as_str().unwrap();
            let end = event["eventEnd"].as_str().unwrap();
            assert_eq!(cells[1], start[..16], "{screen}");
            assert_eq!(cells[2], end[11..16], "{screen}");
            let place = match event["roomName"].as_str() {
                Some(room) => format!("{} / {room}", event["locationName"].as_str().unwrap()),
                None => event["locationName"].as_str().unwrap().to_owned(),
            };
            assert_eq!(cells[3], place, "{screen}");
            let title = event["title"].as_str().unwrap();
            assert!(
                cells[4].ends_with(title),
                "{:?} vs {title:?}\n{screen}",
                cells[4]
            );
        }
        // The END column holds HH:MM, not a column of blanks.
        let header = screen.lines().next().unwrap();
        assert!(
            header.find("LOCATION").unwrap() - header.find("END").unwrap() <= 7,
            "{header}"
        );
        if columns == 80 {
            // Long places and titles wrap, and the table uses the terminal's width.
            assert!(screen.lines().count() > rows.len() + 1, "{screen}");
            assert!(used >= 76, "uses {used} of 80:\n{screen}");
        } else {
            // Room for everything: one line a row, no place or title cut (the old
            // layout cut `West Toledo / Meeting…` here), no padding to fill the width.
            assert_eq!(screen.lines().count(), rows.len() + 1, "{screen}");
        }
    }
}

/// Today in `zone`, before and after running `f` (a run may straddle midnight there).
fn today_around(zone: &str, f: impl FnOnce() -> Vec<u8>) -> (Vec<jiff::civil::Date>, Vec<u8>) {
    let today = || jiff::Timestamp::now().in_tz(zone).unwrap().date();
    let before = today();
    let out = f();
    (vec![before, today()], out)
}

fn event_days(ndjson: &[u8]) -> Vec<jiff::civil::Date> {
    common::ndjson(ndjson)
        .iter()
        .map(|e| date(&e["eventStart"].as_str().unwrap()[..10]).unwrap())
        .collect()
}

#[test]
fn today_is_the_system_zones_unless_tz_names_the_librarys() {
    let run = |envs: &[(&str, &str)], extra: &[&str]| {
        let mut cmd = attend();
        cmd.env_remove("ATTEND_TZ");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.args([
            "--sandbox",
            "communico",
            "events",
            "--from",
            "today",
            "--to",
            "today",
        ])
        .args(["--format", "ndjson", "--limit", "5"])
        .args(extra);
        stdout_of(&mut cmd)
    };
    // UTC+14 and UTC-11: never the same date, and never UTC's on both.
    let (east_days, east) = today_around("Pacific/Kiritimati", || {
        run(&[("TZ", "Pacific/Kiritimati")], &[])
    });
    let (west_days, west) = today_around("Pacific/Pago_Pago", || {
        run(
            &[("TZ", "Pacific/Kiritimati")],
            &["--tz", "Pacific/Pago_Pago"],
        )
    });
    let (env_days, by_env) = today_around("Pacific/Pago_Pago", || {
        run(
            &[
                ("TZ", "Pacific/Kiritimati"),
                ("ATTEND_TZ", "Pacific/Pago_Pago"),
            ],
            &[],
        )
    });
    for (days, out) in [
        (&east_days, &east),
        (&west_days, &west),
        (&env_days, &by_env),
    ] {
        let got = event_days(out);
        assert!(!got.is_empty());
        assert!(
            got.iter().all(|d| days.contains(d)),
            "{got:?} not in {days:?}"
        );
    }
    assert_ne!(event_days(&east)[0], event_days(&west)[0]);
}

#[test]
fn an_unknown_tz_is_a_usage_error_naming_the_closest_zones() {
    attend()
        .args([
            "--sandbox",
            "communico",
            "events",
            "--from",
            "today",
            "--to",
            "today",
        ])
        .args(["--tz", "America/Chicgo"])
        .assert()
        .code(2)
        .stderr(contains("--tz").and(contains("`America/Chicago`")));
}

/// Checks an iCalendar text with `tests/ics_check.py` (the `icalendar` package).
fn validated(ics: &[u8]) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ics_check.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs (.ci/run installs it with the icalendar package)");
    child.stdin.take().unwrap().write_all(ics).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the validator failed (is `icalendar` installed? `python3 -m pip install icalendar`, \
         as .ci/run does): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        report["problems"],
        json!([]),
        "{}",
        String::from_utf8_lossy(ics)
    );
    report
}

/// A wall time of the API in `zone`, as the validator writes UTC instants.
fn utc_of(wall: &str, zone: &str) -> String {
    let civil: jiff::civil::DateTime = wall.replace(' ', "T").parse().unwrap();
    civil
        .in_tz(zone)
        .unwrap()
        .timestamp()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[test]
fn ics_names_the_zone_with_a_vtimezone_an_independent_validator_accepts() {
    // Ten days over the start of daylight saving time in the US (2026-03-08).
    let s = CommunicoServer::start(
        CommunicoConfig::default()
            .first_day(date("2026-03-03").unwrap())
            .events(300),
    );
    let (from, to) = ("2026-03-03", "2026-03-12");
    let want: Vec<Value> = s
        .expected_events(
            EventQuery::new()
                .start_date(date(from).unwrap())
                .end_date(date(to).unwrap()),
        )
        .into_iter()
        .filter(|e| e["eventStart"].is_string())
        .collect();
    for (how, zone) in [("--tz", "America/Chicago"), ("TZ", "Europe/Berlin")] {
        let mut cmd = s.attend();
        cmd.env_remove("ATTEND_TZ").args([
            "communico",
            "events",
            "--from",
            from,
            "--to",
            to,
            "--format",
            "ics",
        ]);
        if how == "TZ" {
            cmd.env("TZ", zone);
        } else {
            cmd.env("TZ", "Asia/Tokyo").args(["--tz", zone]);
        }
        let report = validated(&stdout_of(&mut cmd));
        assert_eq!(report["zones"], json!([zone]));
        let events = report["events"].as_array().unwrap();
        assert_eq!(events.len(), want.len());
        for (got, event) in events.iter().zip(&want) {
            let start = event["eventStart"].as_str().unwrap();
            assert!(
                got["uid"]
                    .as_str()
                    .unwrap()
                    .contains(&event["eventId"].to_string())
            );
            let end = event["eventEnd"].as_str().unwrap_or("");
            if start.ends_with("00:00:00") && end.ends_with("23:59:00") {
                // All day: a DATE, in no zone.
                assert_eq!(got["start"], start[..10], "{event}");
                assert_eq!(got["tzid"], Value::Null);
            } else {
                assert_eq!(got["tzid"], zone);
                // The validator's instant, through the file's VTIMEZONE, is jiff's
                // through the tz database.
                assert_eq!(got["start"], utc_of(start, zone), "{event}");
                if end > start {
                    assert_eq!(got["end"], utc_of(end, zone), "{event}");
                } else {
                    assert_eq!(got["end"], Value::Null, "{event}");
                }
            }
            let updated = event["eventLastUpdated"].as_str().unwrap();
            assert_eq!(got["last_modified"], utc_of(updated, zone));
            assert!(got["sequence"].as_u64().unwrap() > 0);
            let off = event["modified"] == "canceled" || event["modified"] == "rescheduled";
            assert_eq!(got["status"] == "CANCELLED", off);
        }
    }
    // One event alone is a valid calendar too.
    let id = want[0]["eventId"].to_string();
    let one = stdout_of(
        s.attend()
            .args(["communico", "event", &id, "--format", "ics"])
            .args(["--tz", "America/Chicago"]),
    );
    let report = validated(&one);
    assert_eq!(report["events"].as_array().unwrap().len(), 1);
}

/// A Communico stand-in that answers a token and then `events` with these entries, to
/// serve what the sandbox never would (hostile titles, a repeated id).
fn hostile_server(rt: &tokio::runtime::Runtime, entries: Value) -> String {
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let count = entries.as_array().map_or(0, Vec::len);
    let events = json!({"status": "success", "code": 200,
        "data": {"total": count, "start": 0, "limit": 200, "entries": entries}})
    .to_string();
    rt.spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let events = events.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                // The whole request, body included: closing on unread data resets the
                // connection before the client reads the answer.
                let complete = |r: &[u8]| {
                    let Some(end) = r.windows(4).position(|w| w == b"\r\n\r\n") else {
                        return false;
                    };
                    let head = String::from_utf8_lossy(&r[..end]).to_ascii_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    r.len() >= end + 4 + length
                };
                while !complete(&request) {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&request).into_owned();
                let body = if head.starts_with("POST /v3/token") {
                    r#"{"access_token":"t0k3n","token_type":"Bearer","expires_in":3600}"#
                        .to_owned()
                } else if head.starts_with("GET /v3/attend/events") {
                    events
                } else {
                    r#"{"status":"success","code":200,"data":{"total":0,"start":0,"entries":[]}}"#
                        .to_owned()
                };
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

/// Titles that retitle the terminal, clear it, or run as spreadsheet formulas; one event
/// ends when it starts; one id comes twice.
fn hostile_events() -> Value {
    json!([
        {"eventId": 1, "title": "\u{1b}]0;pwned\u{7}Storytime \u{1b}[2J",
         "eventStart": "2026-12-01 10:00:00", "eventEnd": "2026-12-01 11:00:00",
         "locationName": "=HYPERLINK(\"http://evil.example\",\"Main\")",
         "eventLastUpdated": "2026-11-01 09:00:00"},
        {"eventId": 2, "title": "+cmd|' /C calc'!A0", "subTitle": "@SUM(1+1)",
         "eventStart": "2026-12-01 12:00:00", "eventEnd": "2026-12-01 12:00:00",
         "shortDescription": "-2+3\r\nline two \u{9b}2J", "locationName": "Main"},
        {"eventId": 1, "title": "\u{1b}]0;pwned\u{7}Storytime \u{1b}[2J",
         "eventStart": "2026-12-01 10:00:00", "eventEnd": "2026-12-01 11:00:00",
         "locationName": "Main", "eventLastUpdated": "2026-11-01 09:00:00"}
    ])
}

fn hostile_attend(base: &str) -> assert_cmd::Command {
    let mut cmd = attend();
    cmd.env("COMMUNICO_CLIENT_KEY", "k")
        .env("COMMUNICO_CLIENT_SECRET", "s")
        .env("COMMUNICO_BASE_URL", base)
        .env("TZ", "America/New_York")
        .env_remove("ATTEND_TZ")
        .args([
            "communico",
            "events",
            "--from",
            "2026-12-01",
            "--to",
            "2026-12-01",
        ]);
    cmd
}

/// Whether a terminal would act on something in `bytes`: C0 controls but tab, LF and
/// CR, DEL, and the C1 controls (U+0080-U+009F).
fn holds_terminal_controls(bytes: &[u8]) -> bool {
    String::from_utf8_lossy(bytes)
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

#[test]
fn csv_ends_lines_in_crlf_and_neutralises_formulas_unless_raw() {
    let rt = common::runtime();
    let base = hostile_server(&rt, hostile_events());
    let out = stdout_of(hostile_attend(&base).args(["--format", "csv"]));
    assert!(
        !holds_terminal_controls(&out),
        "{}",
        String::from_utf8_lossy(&out)
    );
    let text = String::from_utf8(out.clone()).unwrap();
    // Every record ends in CRLF; the one line break inside a quoted cell is data.
    assert!(text.ends_with("\r\n"));
    // The header and two records: the repeated id is listed once.
    assert_eq!(text.matches("\r\n").count(), 3, "{text:?}");
    let mut reader = csv::Reader::from_reader(out.as_slice());
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        &rows[0][column("locationName")],
        "'=HYPERLINK(\"http://evil.example\",\"Main\")"
    );
    assert_eq!(&rows[1][column("title")], "'+cmd|' /C calc'!A0");
    assert_eq!(&rows[1][column("subTitle")], "'@SUM(1+1)");
    assert_eq!(
        &rows[1][column("shortDescription")],
        "'-2+3\nline two \u{fffd}2J"
    );
    assert_eq!(
        &rows[0][column("title")],
        "\u{fffd}]0;pwned\u{fffd}Storytime \u{fffd}[2J"
    );

    let raw = stdout_of(hostile_attend(&base).args(["--format", "csv", "--csv-raw"]));
    assert!(!holds_terminal_controls(&raw));
    let mut reader = csv::Reader::from_reader(raw.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(
        &rows[0][column("locationName")],
        "=HYPERLINK(\"http://evil.example\",\"Main\")"
    );
    assert_eq!(&rows[1][column("title")], "+cmd|' /C calc'!A0");
}

#[test]
fn no_format_passes_control_characters_to_a_terminal() {
    let rt = common::runtime();
    let base = hostile_server(&rt, hostile_events());
    for format in ["table", "json", "ndjson", "csv", "ics"] {
        let out = stdout_of(hostile_attend(&base).args(["--format", format]));
        assert!(
            !holds_terminal_controls(&out),
            "{format}: {}",
            String::from_utf8_lossy(&out)
        );
        assert!(
            String::from_utf8_lossy(&out).contains("Storytime"),
            "{format}"
        );
    }
    // JSON keeps the text exactly: the controls are escaped, not dropped.
    let json_out = stdout_of(hostile_attend(&base).args(["--format", "json"]));
    let events: Value = serde_json::from_slice(&json_out).unwrap();
    // The listing hands each event out once: the repeated id is not written again.
    let once: Vec<Value> = hostile_events().as_array().unwrap()[..2].to_vec();
    assert_eq!(events, Value::Array(once));
}

#[test]
fn ics_gives_a_repeated_event_one_vevent_and_an_instant_event_no_dtend() {
    let rt = common::runtime();
    let base = hostile_server(&rt, hostile_events());
    let out = stdout_of(hostile_attend(&base).args(["--format", "ics"]));
    let report = validated(&out);
    let events = report["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{report}");
    let instant = events
        .iter()
        .find(|e| e["uid"].as_str().unwrap().starts_with("communico-event-2@"))
        .unwrap();
    assert_eq!(instant["end"], Value::Null);
    assert_eq!(instant["start"], "2026-12-01T17:00:00Z");
}

/// Runs an events listing that gets its first page at once and the next never (the
/// sandbox holds it for a minute); once the first page is out, `then` acts on the
/// process. Gives stdout, stderr and the exit code.
fn first_page_then(
    format: &str,
    faults: &[(Fault, usize)],
    signal: Option<&str>,
) -> (Vec<u8>, String, Option<i32>) {
    let s = CommunicoServer::start(CommunicoConfig::default().events(2000));
    let c = s.communico();
    c.inject(Fault::Slow(Duration::ZERO), 1);
    for (fault, times) in faults {
        c.inject(fault.clone(), *times);
    }
    let mut child = Command::new(assert_cmd::cargo::cargo_bin!("attend"))
        .args([
            "communico",
            "events",
            "--from",
            "2024-05-01",
            "--to",
            "2024-06-30",
        ])
        .args(["--format", format])
        .env("COMMUNICO_BASE_URL", c.base_url())
        .env("COMMUNICO_CLIENT_KEY", c.key())
        .env("COMMUNICO_CLIENT_SECRET", c.secret())
        .env("NO_COLOR", "1")
        .env("TZ", "America/New_York")
        .env_remove("ATTEND_TZ")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut seen = Vec::new();
    let marker = if format == "ics" {
        "END:VEVENT"
    } else {
        "\"eventId\""
    };
    loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "output ended early"
        );
        seen.extend_from_slice(line.as_bytes());
        if line.contains(marker) {
            break;
        }
    }
    if let Some(signal) = signal {
        // The shell's builtin `kill`: no `kill` executable needed.
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!("kill -{signal} {}", child.id()))
            .status()
            .unwrap();
        assert!(status.success());
    }
    stdout.read_to_end(&mut seen).unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    (seen, stderr, status.code())
}

/// The count in "... after N event(s) ...".
fn count_in(stderr: &str) -> usize {
    let at = stderr.find(" after ").unwrap_or_else(|| panic!("{stderr}"));
    stderr[at + 7..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn ctrl_c_leaves_json_and_ics_closed_and_says_how_many_were_written() {
    let slow = [(Fault::Slow(Duration::from_secs(60)), 3)];
    let (out, stderr, code) = first_page_then("json", &slow, Some("INT"));
    let events: Vec<Value> = serde_json::from_slice(&out)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out)));
    assert!(!events.is_empty());
    assert!(stderr.contains("interrupted (Ctrl-C)"), "{stderr}");
    assert_eq!(count_in(&stderr), events.len());
    assert_eq!(code, Some(130), "{stderr}");

    let (out, stderr, code) = first_page_then("ics", &slow, Some("INT"));
    assert!(String::from_utf8_lossy(&out).ends_with("END:VCALENDAR\r\n"));
    let report = validated(&out);
    assert_eq!(
        count_in(&stderr),
        report["events"].as_array().unwrap().len()
    );
    assert_eq!(code, Some(130), "{stderr}");
}

#[test]
fn sigterm_closes_the_output_too_as_timeout_systemd_and_cron_send_it() {
    let slow = [(Fault::Slow(Duration::from_secs(60)), 3)];
    let (out, stderr, code) = first_page_then("json", &slow, Some("TERM"));
    let events: Vec<Value> = serde_json::from_slice(&out)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out)));
    assert!(!events.is_empty());
    assert!(stderr.contains("terminated (SIGTERM)"), "{stderr}");
    assert_eq!(count_in(&stderr), events.len());
    assert_eq!(code, Some(143), "{stderr}");
}

#[test]
fn a_failure_mid_stream_closes_the_output_and_keeps_its_exit_code() {
    // A truncated JSON page: the API's fault, exit code 4 as for a first page.
    let broken = [(Fault::MalformedJson, 5)];
    let (out, stderr, code) = first_page_then("json", &broken, None);
    let events: Vec<Value> = serde_json::from_slice(&out)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out)));
    assert!(stderr.contains("stopped after"), "{stderr}");
    assert_eq!(count_in(&stderr), events.len());
    assert!(stderr.contains("error:"), "{stderr}");
    assert_eq!(code, Some(4), "{stderr}");

    let (out, stderr, code) = first_page_then("ics", &broken, None);
    let report = validated(&out);
    assert_eq!(
        count_in(&stderr),
        report["events"].as_array().unwrap().len()
    );
    assert_eq!(code, Some(4), "{stderr}");
}

#[test]
fn filters_that_match_nothing_are_warned_about_with_the_closest_names() {
    let s = CommunicoServer::start(CommunicoConfig::default().events(400));
    let args = [
        "communico",
        "events",
        "--from",
        "2024-05-02",
        "--to",
        "2024-05-03",
    ];
    let assert = s
        .attend()
        .args(args)
        .args([
            "--type",
            "NoSuchType",
            "--type",
            "Storytme",
            "--age",
            "Adult (18+)",
        ])
        .args([
            "--location-id",
            "99999",
            "--status",
            "nosuch",
            "--format",
            "ndjson",
        ])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    for want in [
        "--type `NoSuchType` is not an event type",
        "known ones include",
        "--type `Storytme`",
        "did you mean `Storytime`",
        "--age `Adult (18+)`",
        "`Adults (18+)`",
        "--location-id 99999 is not a branch",
        "415 (Main)",
        "--status `nosuch`",
        "`published`",
    ] {
        assert!(stderr.contains(want), "{want:?} missing in\n{stderr}");
    }
    // Known names and ids: not a word.
    s.attend()
        .args(args)
        .args([
            "--type",
            "Storytime",
            "--age",
            "Adults (18+)",
            "--location-id",
            "434",
        ])
        .args(["--format", "ndjson"])
        .assert()
        .success()
        .stderr("");
}

#[test]
fn help_describes_tz_and_the_csv_option() {
    attend()
        .args(["communico", "events", "--help"])
        .assert()
        .success()
        .stdout(
            contains("--tz <NAME>")
                .and(contains("--csv-raw"))
                .and(contains("ATTEND_TZ")),
        );
    attend()
        .args(["communico", "--help"])
        .assert()
        .success()
        .stdout(contains("ATTEND_TZ"));
}
