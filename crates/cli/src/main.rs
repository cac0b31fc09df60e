//! `attend`: Communico events and Attendium sessions from the shell.
//!
//! Thin glue: the library crates do the work; this binary parses the command line, picks
//! the HTTP stack, starts the embedded sandbox when asked, writes the chosen format to
//! stdout, and turns every failure into one sentence on stderr and a documented exit code.

// stderr is this tool's channel for messages to the person (data goes to stdout).
#![allow(clippy::print_stderr)]

mod attendium_cmd;
mod cli;
mod communico_cmd;
mod embedded;
mod exit;
mod filters;
mod ics;
mod output;
mod sandbox_event_cmd;
mod serve;
mod store;
mod sync_cmd;
mod transport;
mod tz;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use crate::cli::{Cli, Command, SandboxCommand};
use crate::exit::{Failure, Kind};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            return report(&Failure::new(
                Kind::Unexpected,
                format!("cannot start: {e}"),
            ));
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        // `attend ... | head`: the reader has what it wanted.
        Err(failure) if failure.is_broken_pipe() => ExitCode::SUCCESS,
        Err(failure) => report(&failure),
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let deadline = Duration::from_secs(cli.timeout);
    match cli.command {
        Command::Communico(args) => {
            communico_cmd::run(args, transport::build(cli.http, deadline)?, cli.sandbox).await
        }
        Command::Attendium(args) => {
            attendium_cmd::run(args, transport::build(cli.http, deadline)?, cli.sandbox).await
        }
        Command::Sandbox(args) => match args.command {
            SandboxCommand::Serve(args) => serve::run(args).await,
            SandboxCommand::Event(args) => {
                sandbox_event_cmd::run(args, transport::build(cli.http, deadline)?).await
            }
        },
    }
}

/// Prints the failure as one line on stderr and gives its exit code.
fn report(failure: &Failure) -> ExitCode {
    let color = std::io::stderr().is_terminal() && output::colors_allowed();
    let prefix = if color {
        "\x1b[1;31merror:\x1b[0m"
    } else {
        "error:"
    };
    eprintln!("attend: {prefix} {failure}");
    ExitCode::from(failure.kind.code())
}

/// This workspace's crates: `-v` turns up their logs before anyone else's.
const OUR_TARGETS: &[&str] = &[
    "attend",
    "attendium",
    "auth_core",
    "auth_loopback",
    "communico",
    "http_common",
    "communico_sync",
    "http_hyper",
    "http_reqwest",
    "sandbox",
];

/// Connection-pool and frame chatter of the HTTP stack: one line per checkout, idle
/// connection and frame says nothing a person debugging a request needs, and buries what
/// does. Capped at these levels even with `-vvv`.
const POOL_INTERNALS: &[(&str, tracing::level_filters::LevelFilter)] = &[
    ("hyper_util::client::legacy::pool", LevelFilter::INFO),
    ("hyper_util::client::legacy::connect", LevelFilter::DEBUG),
    ("hyper::proto", LevelFilter::DEBUG),
    ("h2", LevelFilter::INFO),
    ("reqwest::connect", LevelFilter::INFO),
    ("rustls", LevelFilter::DEBUG),
    ("mio", LevelFilter::INFO),
    ("tokio", LevelFilter::INFO),
    ("runtime", LevelFilter::INFO),
];

use tracing::level_filters::LevelFilter;

/// Warnings always (a retry is one: it is said on stderr); `-v` debug from this
/// workspace (each request's method, host, path, status, duration and attempt), `-vv`
/// trace from it and info from the libraries under it, `-vvv` everything but the HTTP
/// stack's pool internals ([`POOL_INTERNALS`]). On stderr, colored only on a terminal.
fn init_tracing(verbose: u8) {
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let (ours, others) = match verbose {
        0 => (LevelFilter::WARN, LevelFilter::WARN),
        1 => (LevelFilter::DEBUG, LevelFilter::WARN),
        2 => (LevelFilter::TRACE, LevelFilter::INFO),
        _ => (LevelFilter::TRACE, LevelFilter::TRACE),
    };
    let filter = POOL_INTERNALS
        .iter()
        .fold(Targets::new().with_default(others), |f, (target, cap)| {
            f.with_target(*target, (*cap).min(others))
        });
    let filter = OUR_TARGETS
        .iter()
        .fold(filter, |f, target| f.with_target(*target, ours));
    let color = std::io::stderr().is_terminal() && output::colors_allowed();
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(output::LogLine::new)
        .with_ansi(color)
        .with_target(verbose > 0)
        .without_time();
    // Only fails if a subscriber is already set, which nothing here does.
    let _ = tracing_subscriber::registry()
        .with(layer)
        .with(filter)
        .try_init();
}
