//! Syncing a year of events (the sandbox's 30 a day, 10,950 events) into a mirror: a
//! first sync into an empty file and an unchanged re-sync, beside streaming the same
//! year to a sink (each event serialized as a JSON line into `io::sink()`, as `attend
//! communico events -o ndjson > /dev/null` does), in the same run.
//!
//! The sandbox runs in a child process (this binary, re-executed), so that memory
//! figures are the syncing process's alone. Peak memory is measured once per scenario,
//! each in a fresh process of this binary: it resets its resident-set high-water mark
//! (`/proc/self/clear_refs`) after warming up and reads `VmHWM` afterwards.
//!
//! Run with `cargo bench -p communico-sync --bench sync`.

#![allow(missing_docs, clippy::print_stdout, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use communico::jiff::civil::{Date, date};
use communico::{Client, ClientSecret, EventQuery};
use communico_sync::{Mirror, SyncOptions, Window};
use criterion::{BatchSize, Criterion};
use futures_util::TryStreamExt;

const FIRST_DAY: Date = date(2025, 1, 1);
const EVENTS: usize = 365 * 30;
const CHILD_ENV: &str = "COMMUNICO_SYNC_BENCH_SANDBOX";
const MEASURE_ENV: &str = "COMMUNICO_SYNC_BENCH_MEASURE";

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Runs `f` and returns its result with the growth of the resident set's peak, in KiB.
fn peak_growth_kib<T>(f: impl FnOnce() -> T) -> (T, Option<u64>) {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let base = status_kib("VmRSS:");
    let out = f();
    let peak = status_kib("VmHWM:");
    (out, peak.zip(base).map(|(p, b)| p.saturating_sub(b)))
}

fn run_sandbox_child() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let sandbox = sandbox::Sandbox::communico_only(
            sandbox::communico::CommunicoConfig::default()
                .events(EVENTS)
                .first_day(FIRST_DAY),
        )
        .await
        .unwrap();
        let api = sandbox.communico().unwrap();
        println!("{} {} {}", api.base_url(), api.key(), api.secret());
        std::io::stdout().flush().unwrap();
        // Serve until the parent closes our stdin.
        tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        })
        .await
        .unwrap();
        drop(sandbox);
    });
}

struct Server {
    child: Option<Child>,
    base_url: String,
    key: String,
    secret: String,
}

fn start_server() -> Server {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env(CHILD_ENV, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let mut parts = line.split_whitespace().map(str::to_owned);
    Server {
        base_url: parts.next().unwrap(),
        key: parts.next().unwrap(),
        secret: parts.next().unwrap(),
        child: Some(child),
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            drop(child.stdin.take());
            let _ = child.wait();
        }
    }
}

fn client(server: &Server) -> Client {
    Client::builder()
        .base_url(&server.base_url)
        .credentials(&server.key, ClientSecret::new(&server.secret))
        .build()
        .unwrap()
}

fn year() -> Window {
    Window::new(FIRST_DAY, date(2025, 12, 31)).unwrap()
}

/// The baseline: the same listing, each event written as a JSON line to a sink.
async fn stream_to_sink(client: &Client, window: Window) -> u64 {
    let query = EventQuery::new()
        .start_date(window.from())
        .end_date(window.to());
    let mut stream = client.events(query).unwrap();
    let mut sink = std::io::sink();
    let mut count = 0;
    while let Some(event) = stream.try_next().await.unwrap() {
        serde_json::to_writer(&mut sink, &event).unwrap();
        sink.write_all(b"\n").unwrap();
        count += 1;
    }
    count
}

async fn sync(client: &Client, path: &Path, window: Window) -> u64 {
    let mut mirror = Mirror::open(path).unwrap();
    let report = mirror
        .sync(client, window, EventQuery::new(), &SyncOptions::new())
        .await
        .unwrap();
    report.listed
}

/// In a child process: run one scenario once and print the event count and peak growth.
fn run_measure_child(spec: &str) {
    let mut parts = spec.split_whitespace().map(str::to_owned);
    let scenario = parts.next().unwrap();
    let server = Server {
        child: None,
        base_url: parts.next().unwrap(),
        key: parts.next().unwrap(),
        secret: parts.next().unwrap(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = client(&server);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mirror.sqlite");
    // Warm up on one day: connection, token, SQLite's code paths.
    let day = Window::new(FIRST_DAY, FIRST_DAY).unwrap();
    let warm = dir.path().join("warm.sqlite");
    runtime.block_on(stream_to_sink(&client, day));
    runtime.block_on(sync(&client, &warm, day));
    let (n, peak) = match scenario.as_str() {
        "stream-to-sink" => peak_growth_kib(|| runtime.block_on(stream_to_sink(&client, year()))),
        "first-sync" => peak_growth_kib(|| runtime.block_on(sync(&client, &path, year()))),
        _ => {
            runtime.block_on(sync(&client, &path, year()));
            peak_growth_kib(|| runtime.block_on(sync(&client, &path, year())))
        }
    };
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!("{n} {} {size}", peak.map_or(-1, |p| p as i64));
}

fn measure(server: &Server, scenario: &str) -> (u64, i64, u64) {
    let spec = format!(
        "{scenario} {} {} {}",
        server.base_url, server.key, server.secret
    );
    let out = Command::new(std::env::current_exe().unwrap())
        .env(MEASURE_ENV, spec)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.split_whitespace();
    let mut next = || {
        parts
            .next()
            .and_then(|n| n.parse::<i64>().ok())
            .unwrap_or(-1)
    };
    (next() as u64, next(), next() as u64)
}

fn main() {
    if std::env::var_os(CHILD_ENV).is_some() {
        run_sandbox_child();
        return;
    }
    if let Ok(spec) = std::env::var(MEASURE_ENV) {
        run_measure_child(&spec);
        return;
    }
    let server = start_server();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = client(&server);
    let dir = tempfile::tempdir().unwrap();
    // `cargo bench` passes --bench; `cargo test --bench` does not, and then each
    // contender runs once on a week (no memory figures), to check that it works.
    let benching = std::env::args().any(|a| a == "--bench");
    let window = if benching {
        year()
    } else {
        Window::new(FIRST_DAY, date(2025, 1, 7)).unwrap()
    };

    // Both contenders see the same events.
    let streamed = runtime.block_on(stream_to_sink(&client, window));
    let synced = runtime.block_on(sync(&client, &dir.path().join("check.sqlite"), window));
    assert_eq!(streamed, synced);

    if benching {
        println!("peak resident-set growth over a year ({streamed} events; syncing process only):");
        for scenario in ["stream-to-sink", "first-sync", "unchanged-resync"] {
            let (n, kib, size) = measure(&server, scenario);
            println!(
                "  {scenario:>16}: {n:>6} events, peak growth {:.2} MiB, mirror file {:.1} MiB",
                kib as f64 / 1024.0,
                size as f64 / (1024.0 * 1024.0)
            );
        }
    }

    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10))
        .configure_from_args();
    let mut group = c.benchmark_group("sync_a_year");
    group.bench_function("stream_to_sink", |b| {
        b.iter(|| runtime.block_on(stream_to_sink(&client, window)))
    });
    group.bench_function("first_sync", |b| {
        b.iter_batched(
            || tempfile::tempdir().unwrap(),
            // The directory is returned, so it is deleted outside the timed part.
            |fresh| {
                runtime.block_on(sync(&client, &fresh.path().join("mirror.sqlite"), window));
                fresh
            },
            BatchSize::PerIteration,
        )
    });
    let resynced = dir.path().join("resync.sqlite");
    runtime.block_on(sync(&client, &resynced, window));
    group.bench_function("unchanged_resync", |b| {
        b.iter(|| runtime.block_on(sync(&client, &resynced, window)))
    });
    group.finish();
    c.final_summary();
}
