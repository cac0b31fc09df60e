//! Streaming 100,000 events from the sandbox: the client's [`EventStream`] over reqwest and
//! over hyper, against a hand-written loop of plain reqwest + serde_json over the same
//! pages (the same order, `sortBy=eventStart`), in the same run. The stream's pages
//! overlap by two events and every `eventId` is remembered (exactly-once listings); on
//! this unchanging listing that is the whole of its extra work.
//!
//! A second sandbox serves the same events gzip-compressed and chunked. Those variants run
//! when the transports decode `Content-Encoding: gzip`; a build whose transports do not
//! says so and skips them.
//!
//! The sandbox runs in a child process (this binary, re-executed), so that memory
//! figures are the client's alone. Time is measured by criterion; peak memory is measured once per contender and
//! window size before criterion starts, and printed.
//!
//! Run with `cargo bench -p communico --bench event_stream`.

#![allow(missing_docs, clippy::print_stdout, clippy::unwrap_used)]

use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use communico::{Client, ClientSecret, EventQuery, Visibility};
use criterion::Criterion;
use futures_util::TryStreamExt;
use serde::Deserialize;

// ---- Peak memory, from the kernel ------------------------------------------------
//
// The workspace forbids `unsafe`, so there is no counting allocator: each measurement
// runs in a fresh process of this binary, which resets its resident-set high-water mark
// (`/proc/self/clear_refs`) once warmed up and reads `VmHWM` after streaming.

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

/// CPU time this thread has used, in nanoseconds (`/proc/thread-self/schedstat`). The
/// client runs on a current-thread runtime, so this is the client's own work, much less
/// disturbed by other load on the machine than wall time.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Runs `f` and returns its result with the growth of the resident set's peak, in KiB.
fn peak_growth_kib<T>(f: impl FnOnce() -> T) -> (T, Option<u64>) {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let base = status_kib("VmRSS:");
    let out = f();
    let peak = status_kib("VmHWM:");
    (out, peak.zip(base).map(|(p, b)| p.saturating_sub(b)))
}

// ---- The sandbox, in a child process ---------------------------------------------

const EVENTS: usize = 100_000;
const CHILD_ENV: &str = "COMMUNICO_BENCH_SANDBOX";
const MEASURE_ENV: &str = "COMMUNICO_BENCH_MEASURE";

fn run_sandbox_child(gzip: bool) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let sandbox = sandbox::Sandbox::communico_only(
            sandbox::communico::CommunicoConfig::default()
                .events(EVENTS)
                .success_status(200),
        )
        .await
        .unwrap();
        let api = sandbox.communico().unwrap();
        if gzip {
            api.arm(sandbox::communico::Quirk::Gzip);
        }
        println!(
            "{} {} {} {}",
            api.base_url(),
            api.key(),
            api.secret(),
            api.last_day()
        );
        std::io::stdout().flush().unwrap();
        // Serve until the parent closes our stdin; each line it sends asks for the body
        // bytes sent so far.
        let api = api.clone();
        tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {
                println!("{}", api.data_bytes_sent());
                std::io::stdout().flush().unwrap();
                line.clear();
            }
        })
        .await
        .unwrap();
        drop(sandbox);
    });
}

struct Server {
    child: Option<Child>,
    reader: Option<BufReader<std::process::ChildStdout>>,
    base_url: String,
    key: String,
    secret: String,
    last_day: String,
}

fn start_server(gzip: bool) -> Server {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env(CHILD_ENV, if gzip { "gzip" } else { "plain" })
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    reader.read_line(&mut line).unwrap();
    let mut parts = line.split_whitespace().map(str::to_owned);
    Server {
        base_url: parts.next().unwrap(),
        key: parts.next().unwrap(),
        secret: parts.next().unwrap(),
        last_day: parts.next().unwrap(),
        child: Some(child),
        reader: Some(reader),
    }
}

impl Server {
    /// The body bytes the sandbox has put on the wire so far.
    fn bytes_sent(&mut self) -> u64 {
        let child = self.child.as_mut().unwrap();
        writeln!(child.stdin.as_mut().unwrap()).unwrap();
        let mut line = String::new();
        self.reader.as_mut().unwrap().read_line(&mut line).unwrap();
        line.trim().parse().unwrap()
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

// ---- The two contenders ----------------------------------------------------------

fn query(last_day: &str) -> EventQuery {
    EventQuery::new()
        .start_date(communico::date("2024-05-01").unwrap())
        .end_date(communico::date(last_day).unwrap())
        .status(None)
        .visibility(Visibility::IncludePrivate)
}

async fn with_client(client: &Client, last_day: &str) -> (usize, u64) {
    try_with_client(client, last_day).await.unwrap()
}

async fn try_with_client(
    client: &Client,
    last_day: &str,
) -> Result<(usize, u64), communico::Error> {
    let mut stream = client.events(query(last_day))?;
    let (mut count, mut sum) = (0usize, 0u64);
    while let Some(event) = stream.try_next().await? {
        count += 1;
        sum = sum.wrapping_add(event.event_id.unwrap_or(0));
        black_box(&event);
    }
    assert_eq!(
        (stream.passes(), stream.shifts()),
        (1, 0),
        "the listing did not change"
    );
    Ok((count, sum))
}

/// What a careful hand-written client deserializes: the default members, typed.
#[derive(Deserialize)]
#[allow(dead_code, non_snake_case)]
struct HandEvent {
    eventId: u64,
    recurringId: Option<u64>,
    status: Option<String>,
    modified: Option<String>,
    newEventId: Option<u64>,
    title: Option<String>,
    subTitle: Option<String>,
    shortDescription: Option<String>,
    description: Option<String>,
    eventStart: Option<String>,
    eventEnd: Option<String>,
    locationId: Option<u64>,
    locationName: Option<String>,
    roomId: Option<u64>,
    roomName: Option<String>,
    eventLastUpdated: Option<String>,
}

#[derive(Deserialize)]
struct HandData {
    total: u64,
    entries: Vec<HandEvent>,
}

#[derive(Deserialize)]
struct HandEnvelope {
    data: HandData,
}

#[derive(Deserialize)]
struct HandToken {
    access_token: String,
}

async fn by_hand(http: &reqwest::Client, server: &Server, last_day: &str) -> (usize, u64) {
    try_by_hand(http, server, last_day).await.unwrap()
}

async fn try_by_hand(
    http: &reqwest::Client,
    server: &Server,
    last_day: &str,
) -> Result<(usize, u64), reqwest::Error> {
    let token: HandToken = http
        .post(format!("{}/v3/token", server.base_url))
        .basic_auth(&server.key, Some(&server.secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?
        .json()
        .await?;
    let (mut count, mut sum, mut start) = (0usize, 0u64, 0u64);
    loop {
        let url = format!(
            "{}/v3/attend/events?startDate=2024-05-01&endDate={last_day}&start={start}&limit=200&privateEvents=true&sortBy=eventStart&sortOrder=ascending",
            server.base_url
        );
        let page: HandEnvelope = http
            .get(url)
            .bearer_auth(&token.access_token)
            .send()
            .await?
            .json()
            .await?;
        let n = page.data.entries.len() as u64;
        for event in page.data.entries {
            count += 1;
            sum = sum.wrapping_add(event.eventId);
            black_box(&event);
        }
        start += n;
        if n == 0 || start >= page.data.total {
            break;
        }
    }
    Ok((count, sum))
}

/// In a child process: stream once with one contender and print the peak growth.
fn run_measure_child(spec: &str) {
    let mut parts = spec.split_whitespace().map(str::to_owned);
    let contender = parts.next().unwrap();
    let last_day = parts.next().unwrap();
    let server = Server {
        child: None,
        reader: None,
        base_url: parts.next().unwrap(),
        key: parts.next().unwrap(),
        secret: parts.next().unwrap(),
        last_day: last_day.clone(),
    };
    http_reqwest::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (client, over_hyper, http) = contenders(&server);
    // Warm up on a one-day window: connection, token, parser code paths.
    let warm = "2024-05-01";
    let (n, peak) = if contender == "communico" || contender == "communico-hyper" {
        let client = if contender == "communico" {
            &client
        } else {
            &over_hyper
        };
        runtime.block_on(with_client(client, warm));
        peak_growth_kib(|| runtime.block_on(with_client(client, &last_day)).0)
    } else {
        runtime.block_on(by_hand(&http, &server, warm));
        peak_growth_kib(|| runtime.block_on(by_hand(&http, &server, &last_day)).0)
    };
    println!("{n} {}", peak.map_or(-1, |p| p as i64));
}

/// The client over reqwest, the client over hyper, and plain reqwest for the loop by hand.
fn contenders(server: &Server) -> (Client, Client, reqwest::Client) {
    let client = Client::builder()
        .base_url(&server.base_url)
        .credentials(&server.key, ClientSecret::new(&server.secret))
        .transport(http_reqwest::ReqwestTransport::new().unwrap())
        .build()
        .unwrap();
    let over_hyper = Client::builder()
        .base_url(&server.base_url)
        .credentials(&server.key, ClientSecret::new(&server.secret))
        .transport(http_hyper::HyperTransport::new().unwrap())
        .build()
        .unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    (client, over_hyper, http)
}

fn measure(server: &Server, contender: &str, last_day: &str) -> (usize, i64) {
    let spec = format!(
        "{contender} {last_day} {} {} {}",
        server.base_url, server.key, server.secret
    );
    let out = Command::new(std::env::current_exe().unwrap())
        .env(MEASURE_ENV, spec)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.split_whitespace();
    (
        parts.next().and_then(|n| n.parse().ok()).unwrap_or(0),
        parts.next().and_then(|n| n.parse().ok()).unwrap_or(-1),
    )
}

fn main() {
    if let Some(kind) = std::env::var_os(CHILD_ENV) {
        run_sandbox_child(kind == "gzip");
        return;
    }
    if let Ok(spec) = std::env::var(MEASURE_ENV) {
        run_measure_child(&spec);
        return;
    }
    http_reqwest::install_crypto_provider();
    let mut server = start_server(false);
    let mut gzip_server = start_server(true);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (client, over_hyper, http) = contenders(&server);

    // Warm every connection and check that all contenders see the same events.
    let all = runtime.block_on(with_client(&client, &server.last_day));
    let hand = runtime.block_on(by_hand(&http, &server, &server.last_day));
    assert_eq!(all, hand, "both loops must see the same events");
    let hyper = runtime.block_on(with_client(&over_hyper, &server.last_day));
    assert_eq!(all, hyper, "both backends must see the same events");
    assert_eq!(all.0, EVENTS);

    // Peak memory, each in a fresh process: a tenth of the events, then all of them.
    let tenth_last_day = {
        let first = communico::date("2024-05-01").unwrap();
        let days = (EVENTS / 10 / 30) as i64 - 1;
        let d = first.checked_add(jiff::Span::new().days(days)).unwrap();
        communico::LocalDateTime(d.to_datetime(jiff::civil::Time::midnight())).to_string()[..10]
            .to_owned()
    };
    println!("peak resident-set growth while streaming (client process only):");
    for last_day in [tenth_last_day.as_str(), server.last_day.as_str()] {
        for contender in ["communico", "communico-hyper", "hand-written"] {
            let (n, kib) = measure(&server, contender, last_day);
            println!(
                "  {contender:>15}: {n:>6} events, peak growth {:.2} MiB",
                kib as f64 / 1024.0
            );
        }
    }

    // Alternating passes, outside criterion: both contenders see the same machine load.
    // Wall time, and the CPU time of the client's thread.
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let (mut ours_cpu, mut theirs_cpu) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        let (t, cpu) = (Instant::now(), thread_cpu_ns());
        runtime.block_on(with_client(&client, &server.last_day));
        ours.push(t.elapsed());
        ours_cpu.push(thread_cpu_ns() - cpu);
        let (t, cpu) = (Instant::now(), thread_cpu_ns());
        runtime.block_on(by_hand(&http, &server, &server.last_day));
        theirs.push(t.elapsed());
        theirs_cpu.push(thread_cpu_ns() - cpu);
    }
    for v in [&mut ours_cpu, &mut theirs_cpu] {
        v.sort_unstable();
    }
    ours.sort();
    theirs.sort();
    println!(
        "alternating passes, median of 7: communico {:?}, hand-written {:?}, ratio {:.3}",
        ours[3],
        theirs[3],
        ours[3].as_secs_f64() / theirs[3].as_secs_f64()
    );
    println!(
        "client-thread CPU per pass, median of 7: communico {:.1} ms, hand-written {:.1} ms, ratio {:.3}",
        ours_cpu[3] as f64 / 1e6,
        theirs_cpu[3] as f64 / 1e6,
        ours_cpu[3] as f64 / theirs_cpu[3].max(1) as f64
    );

    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(15))
        .configure_from_args();
    let mut group = c.benchmark_group("stream_100k_events");
    group.bench_function("communico_event_stream", |b| {
        b.iter(|| runtime.block_on(with_client(&client, &server.last_day)))
    });
    group.bench_function("communico_event_stream_over_hyper", |b| {
        b.iter(|| runtime.block_on(with_client(&over_hyper, &server.last_day)))
    });
    group.bench_function("hand_written_reqwest_serde_json", |b| {
        b.iter(|| runtime.block_on(by_hand(&http, &server, &server.last_day)))
    });
    group.finish();

    // The same events gzip-compressed: bytes on the wire per listing, then time.
    let before = server.bytes_sent();
    runtime.block_on(with_client(&client, &server.last_day));
    let plain_bytes = server.bytes_sent() - before;
    // Clients of the gzip server (the token and base URL are the server's own).
    let (client, over_hyper, _) = contenders(&gzip_server);
    let before = gzip_server.bytes_sent();
    let gzip = runtime.block_on(try_with_client(&client, &gzip_server.last_day));
    let gzip_bytes = gzip_server.bytes_sent() - before;
    match gzip {
        Err(error) => {
            println!("gzip variants skipped: this build's transports do not decode gzip ({error})")
        }
        Ok(seen) => {
            assert_eq!(seen, all, "gzip must not change what is seen");
            println!(
                "bytes on the wire per listing: plain {:.1} MiB, gzip {:.1} MiB ({:.1}%)",
                plain_bytes as f64 / 1048576.0,
                gzip_bytes as f64 / 1048576.0,
                100.0 * gzip_bytes as f64 / plain_bytes.max(1) as f64
            );
            let hand_gzip = runtime
                .block_on(try_by_hand(&http, &gzip_server, &gzip_server.last_day))
                .is_ok();
            let mut group = c.benchmark_group("stream_100k_events_gzip");
            group.bench_function("communico_event_stream", |b| {
                b.iter(|| runtime.block_on(with_client(&client, &gzip_server.last_day)))
            });
            group.bench_function("communico_event_stream_over_hyper", |b| {
                b.iter(|| runtime.block_on(with_client(&over_hyper, &gzip_server.last_day)))
            });
            if hand_gzip {
                group.bench_function("hand_written_reqwest_serde_json", |b| {
                    b.iter(|| runtime.block_on(by_hand(&http, &gzip_server, &gzip_server.last_day)))
                });
            } else {
                println!("hand-written gzip variant skipped: its reqwest does not decode gzip");
            }
            group.finish();
        }
    }
    c.final_summary();
}
