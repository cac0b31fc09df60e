//! `attend communico sync`: keeps an SQLite mirror of a window of events in step with
//! the API (the `communico-sync` crate does the work), writes the change feed, and says
//! what changed in one summary line on stderr.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use communico::{Client, EventField, EventQuery};
use communico_sync::{Error, OpenOptions, RemovalLimit, SyncOptions, Window};
use jiff::civil::Date;

use crate::cli::EventFilters;
use crate::exit::{Failure, Kind};

/// The mirror's file name in the user's data directory.
const DEFAULT_FILE: &str = "events.sqlite";

/// The default mirror of `--sandbox` runs: never the real one, whose event ids the
/// sandbox's could collide with.
const SANDBOX_FILE: &str = "sandbox-events.sqlite";

#[derive(Debug, Args)]
#[command(after_help = SYNC_HELP)]
pub(crate) struct SyncArgs {
    /// The mirror: an SQLite file, created when missing [default: events.sqlite in the
    /// user's data directory; sandbox-events.sqlite with --sandbox].
    #[arg(long, value_name = "PATH")]
    pub(crate) db: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) filters: EventFilters,
    /// Optional members to mirror too (comma-separated API names; `all` for every one
    /// this tool knows). Changing them between runs reports every event as updated.
    #[arg(long, value_delimiter = ',', value_name = "F,...")]
    pub(crate) fields: Vec<String>,
    /// Write each change as one JSON object a line to FILE (`-`: stdout).
    #[arg(long, value_name = "FILE")]
    pub(crate) changes: Option<String>,
    /// Refuse to remove more than PCT percent of the window's events in one run.
    #[arg(long, value_name = "PCT", default_value_t = 20.0, value_parser = parse_percent)]
    pub(crate) max_removals: f64,
    /// Apply removals however many there are (turns the --max-removals guard off).
    #[arg(long, conflicts_with = "max_removals")]
    pub(crate) allow_mass_removal: bool,
    /// How long to wait for another sync of the same file to finish, in seconds (at most
    /// 2147483, SQLite's limit).
    #[arg(long, value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(0..=2_147_483))]
    pub(crate) lock_timeout: u64,
}

const SYNC_HELP: &str = "\
Each run lists the window once, compares every event with the mirror, and applies all
changes in one transaction: a failed listing or an interrupted run changes nothing.
Changes: added, updated, canceled, rescheduled, removed (gone from a complete listing of
the window), restored (came back). A line such as
  574 events in 2025-11-01..2025-11-30: 4 added, 5 updated, 3 canceled, 0 rescheduled, 2 removed, 0 restored, 560 unchanged
goes to stderr. Exit code 7: the removal guard refused the run (nothing was changed).";

fn parse_percent(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("`{text}` is not a percentage"))?;
    RemovalLimit::percent(value)
        .map(|_| value)
        .map_err(|e| e.to_string())
}

/// Where `--changes` goes.
enum FeedOut {
    None,
    Stdout,
    File(PathBuf),
}

/// Runs one sync with `client` (pointed at `base`).
/// Syncs `args`' listing into its mirror; `(from, to)` are its `--from` and `--to`, resolved
/// in the library's time zone.
pub(crate) async fn run(
    client: Client,
    base: &str,
    args: SyncArgs,
    (from, to): (Date, Date),
    sandbox: Sandbox,
) -> Result<(), Failure> {
    let window = Window::new(from, to).map_err(|e| {
        Failure::usage(e.to_string()).next("make --to the same day as --from or later")
    })?;
    let path = match &args.db {
        Some(path) => path.clone(),
        None => default_path(match sandbox {
            Sandbox::Embedded => SANDBOX_FILE,
            Sandbox::None => DEFAULT_FILE,
        })?,
    };
    eprintln!("attend: mirror {}", path.display());
    // The feed file is written only once the sync has committed (a failed run leaves an
    // earlier feed in place), but a directory that does not exist fails at once.
    let feed = match args.changes.as_deref() {
        None => FeedOut::None,
        Some("-") => FeedOut::Stdout,
        Some(file) => {
            let file_path = PathBuf::from(file);
            let dir = file_path.parent().filter(|d| !d.as_os_str().is_empty());
            if let Some(dir) = dir.filter(|d| !d.is_dir()) {
                return Err(Failure::usage(format!(
                    "--changes {file}: the directory {} does not exist",
                    dir.display()
                )));
            }
            FeedOut::File(file_path)
        }
    };
    let limit = if args.allow_mass_removal {
        RemovalLimit::Unlimited
    } else {
        RemovalLimit::percent(args.max_removals).map_err(|e| Failure::usage(e.to_string()))?
    };
    let mut mirror = OpenOptions::new()
        .lock_timeout(Duration::from_secs(args.lock_timeout))
        .open(&path)
        .map_err(|e| sync_failure(e, base))?;
    let report = mirror
        .sync(
            &client,
            window,
            query(&args),
            &SyncOptions::new().removal_limit(limit),
        )
        .await
        .map_err(|e| sync_failure(e, base))?;
    // The mirror is committed: a feed that cannot be written is reported, never taken
    // quietly (not even a closed pipe), since the next run will not list these changes.
    let fed = match &feed {
        FeedOut::None => Ok(()),
        FeedOut::Stdout => {
            let mut out = BufWriter::new(io::stdout().lock());
            write_feed(&mirror, report.sync_id, &mut out)
                .map_err(|_| feed_failure("standard output"))
        }
        FeedOut::File(file_path) => File::create(file_path)
            .map(BufWriter::new)
            .map_err(|_| feed_failure(&file_path.display().to_string()))
            .and_then(|mut out| {
                write_feed(&mirror, report.sync_id, &mut out)
                    .map_err(|_| feed_failure(&file_path.display().to_string()))
            }),
    };
    if report.without_id > 0 {
        eprintln!(
            "attend: warning: {} listed event(s) had no usable eventId and were left out",
            report.without_id
        );
    }
    eprintln!("{report}");
    fed
}

fn write_feed(
    mirror: &communico_sync::Mirror,
    sync_id: i64,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let written = mirror.for_each_change(sync_id, |change| {
        out.write_all(change.to_json_line().as_bytes())?;
        out.write_all(b"\n")
    });
    match written {
        Ok(_) => out.flush().map_err(Failure::from),
        Err(Error::Output { source }) => Err(Failure::from(source)),
        Err(other) => Err(Failure::new(Kind::Io, other.to_string())),
    }
}

fn feed_failure(place: &str) -> Failure {
    Failure::new(
        Kind::Io,
        format!("the sync was applied, but the change feed could not be written to {place}"),
    )
    .next("its changes stay in the mirror's `changes` table")
}

/// Whether the listing comes from the embedded sandbox (`--sandbox`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sandbox {
    /// The real service (or one `COMMUNICO_BASE_URL` names).
    None,
    /// The embedded sandbox: its mirror is kept apart from the real one.
    Embedded,
}

/// `file` in the user's data directory, which is created if needed.
fn default_path(file: &str) -> Result<PathBuf, Failure> {
    let dirs = directories::ProjectDirs::from("", "", "attend").ok_or_else(|| {
        Failure::usage("no home directory to keep the mirror in").next("give --db PATH")
    })?;
    let dir = dirs.data_dir();
    std::fs::create_dir_all(dir).map_err(|e| Failure::io(&dir.display().to_string(), &e))?;
    Ok(dir.join(file))
}

fn query(args: &SyncArgs) -> EventQuery {
    let mut fields = Vec::new();
    for name in args
        .fields
        .iter()
        .map(|n| n.trim())
        .filter(|n| !n.is_empty())
    {
        if name == "all" {
            fields.extend(EventField::ALL.iter().cloned());
        } else {
            fields.push(EventField::parse(name));
        }
    }
    args.filters.apply(EventQuery::new().fields(fields))
}

/// One sentence for each way a sync can fail, by what the person can do about it.
fn sync_failure(error: Error, base: &str) -> Failure {
    match error {
        Error::Listing { source, .. } => {
            eprintln!("attend: the listing did not complete; the mirror was not changed");
            Failure::communico(source, base)
        }
        Error::TooManyRemovals { .. } => Failure::new(Kind::Refused, error.to_string()).next(
            "if the events really were removed, run again with a higher --max-removals or with --allow-mass-removal",
        ),
        Error::Locked { .. } => Failure::new(Kind::Io, error.to_string())
            .next("wait for the other sync to finish, or raise --lock-timeout"),
        Error::NotAMirror { .. } => {
            Failure::usage(error.to_string()).next("give --db a new file or an existing mirror")
        }
        Error::NewerSchema { .. } | Error::InvalidArgument { .. } => {
            Failure::usage(error.to_string())
        }
        other => Failure::new(Kind::Io, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_are_checked() {
        assert_eq!(parse_percent("5"), Ok(5.0));
        assert_eq!(parse_percent("12.5%"), Ok(12.5));
        assert!(parse_percent("120").is_err());
        assert!(parse_percent("lots").is_err());
    }

    #[test]
    fn the_filters_become_the_query() {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from([
            "attend",
            "communico",
            "sync",
            "--from",
            "2026-12-01",
            "--to",
            "2026-12-31",
            "--location-id",
            "416",
            "--type",
            "Storytime",
            "--private",
        ])
        .unwrap();
        let crate::cli::Command::Communico(c) = cli.command else {
            panic!("parsed as another command")
        };
        let crate::cli::CommunicoCommand::Sync(s) = c.command else {
            panic!("parsed as another subcommand")
        };
        assert_eq!(s.max_removals, 20.0);
        let qs = query(&s).to_query_string(0, 200).unwrap();
        for part in [
            "locationId=416",
            "types=Storytime",
            "privateEvents=true",
            "status=published",
        ] {
            assert!(qs.contains(part), "{part} missing in {qs}");
        }
    }

    #[test]
    fn the_removal_guard_has_its_own_exit_code_and_says_how_to_proceed() {
        let failure = sync_failure(
            Error::TooManyRemovals {
                window: "2025-11-01..2025-11-30".into(),
                would_remove: 50,
                present: 100,
                share: 50.0,
                limit_percent: 20.0,
            },
            "http://127.0.0.1:1",
        );
        assert_eq!(failure.kind, Kind::Refused);
        let message = failure.to_string();
        assert!(message.contains("would remove 50 of the 100"), "{message}");
        assert!(message.contains("--allow-mass-removal"), "{message}");
    }
}
