//! The command line: every subcommand, flag and environment variable, as clap reads them.

use clap::{Args, Parser, Subcommand, ValueEnum};
use jiff::civil::Date;

use crate::exit::EXIT_CODES_HELP;

/// Communico events and Attendium sessions from the shell.
///
/// Data goes to stdout, messages to stderr. With `--sandbox` every command runs against an
/// embedded sandbox started in this process: no account and no network needed.
#[derive(Debug, Parser)]
#[command(
    name = "attend",
    version,
    about,
    after_help = EXIT_CODES_HELP,
    propagate_version = true,
    max_term_width = 100
)]
pub(crate) struct Cli {
    /// Start the embedded sandbox on 127.0.0.1 and point every client at it with its demo
    /// credentials. Its Communico data set starts on --from (today otherwise) and holds a
    /// year of events, 30 a day, the same for the same --from.
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub(crate) sandbox: bool,

    /// Log what happens to stderr (-v: debug, with each request's method, host, path,
    /// status, duration and attempt; -vv: trace, and info from the libraries underneath;
    /// -vvv: everything from every library but connection-pool internals).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = GLOBAL)]
    pub(crate) verbose: u8,

    /// The HTTP stack to use.
    #[arg(long, global = true, value_enum, default_value_t = HttpBackend::Reqwest, env = "ATTEND_HTTP", help_heading = GLOBAL)]
    pub(crate) http: HttpBackend,

    /// The most time one request may take, in seconds, with all its retries: each
    /// attempt gets a share of what is left, and each retry is said on stderr.
    #[arg(long, global = true, env = "ATTEND_TIMEOUT", value_name = "SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=86_400), help_heading = GLOBAL)]
    pub(crate) timeout: u64,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The help heading of the options every command takes.
const GLOBAL: &str = "Global options";

/// The HTTP stacks `--http` chooses from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum HttpBackend {
    /// reqwest (the default).
    Reqwest,
    /// hyper with hyper-util's pooled client.
    Hyper,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// The Communico Client API: events, registrants, lookups, rooms and reservations.
    #[command(after_help = COMMUNICO_HELP)]
    Communico(CommunicoArgs),
    /// Attendium: log in with the browser, call its GraphQL API, print tokens for scripts.
    #[command(after_help = ATTENDIUM_HELP)]
    Attendium(AttendiumArgs),
    /// Run the sandbox for other programs.
    Sandbox(SandboxArgs),
}

const COMMUNICO_HELP: &str = "\
Environment:
  COMMUNICO_CLIENT_KEY     the client key (not needed with --sandbox)
  COMMUNICO_CLIENT_SECRET  the client secret (not needed with --sandbox; never printed)
  COMMUNICO_BASE_URL       the API's base URL (default https://api.communico.co)
  ATTEND_TZ                the library's time zone, as --tz (default: the system's, from TZ)
  ATTEND_STORE             keep the token between runs: a directory or redis://host:port/db";

const ATTENDIUM_HELP: &str = "\
Environment:
  ATTENDIUM_ISSUER   the authorization server (default https://api.attendium.com)
  ATTENDIUM_API_URL  the GraphQL endpoint (default: <issuer>/graphql)
  ATTEND_STORE       where sessions are kept, one per issuer: a directory or
                     redis://host:port/db (default: the user's config directory)";

#[derive(Debug, Args)]
pub(crate) struct CommunicoArgs {
    /// The API's base URL.
    #[arg(long, global = true, env = "COMMUNICO_BASE_URL", value_name = "URL")]
    pub(crate) base_url: Option<String>,
    /// Share the access token between runs until it expires: a directory, or
    /// redis://host:port/db to share it between machines (default: not kept).
    #[arg(long, global = true, env = "ATTEND_STORE", value_name = "DIR|URL", value_parser = crate::store::parse)]
    pub(crate) store: Option<crate::store::StoreSpec>,

    /// The library's time zone, an IANA name such as America/Chicago [default: the
    /// system's]. today, tomorrow and +N count in it, and ics output names it (TZID, with
    /// a VTIMEZONE) so calendars elsewhere show events at the right hour.
    #[arg(long, global = true, env = "ATTEND_TZ", value_name = "NAME")]
    pub(crate) tz: Option<String>,

    #[command(subcommand)]
    pub(crate) command: CommunicoCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum CommunicoCommand {
    /// Events between two dates, every page of them, streamed as they arrive.
    Events(EventsArgs),
    /// One event.
    Event(EventArgs),
    /// The registrants of an event.
    Registrants(IdArgs),
    /// The event types (filter events by these names with --type).
    Types(ListArgs),
    /// The age groups (filter events by these names with --age).
    Ages(ListArgs),
    /// The branches (filter events by these ids with --location-id).
    Locations(ListArgs),
    /// The bookable rooms.
    Rooms(ListArgs),
    /// Room reservations (one request series per --status).
    Reservations(ReservationsArgs),
    /// Keep an SQLite mirror of a window of events in step, and report what changed.
    Sync(crate::sync_cmd::SyncArgs),
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Columns as wide as their content within the terminal; long text wraps. For people.
    Table,
    /// One JSON array, every member the API sent, under the API's names.
    Json,
    /// One JSON object a line, written as pages arrive.
    Ndjson,
    /// RFC 4180 CSV (CRLF line ends) with a header line; cells a spreadsheet would run
    /// as formulas get a leading ' (see --csv-raw).
    Csv,
    /// An iCalendar file (RFC 5545) that calendar apps import (events only).
    Ics,
}

#[derive(Debug, Args)]
pub(crate) struct OutputArgs {
    /// Output format [default: table on a terminal, ndjson otherwise].
    #[arg(long, short = 'o', value_enum)]
    pub(crate) format: Option<Format>,
    /// With --format csv, write cells starting with =, +, -, @, tab or CR as they are,
    /// without the leading ' that stops spreadsheets running them as formulas (OWASP CSV
    /// injection). Control characters are replaced either way.
    #[arg(long)]
    pub(crate) csv_raw: bool,
}

/// The window and filters of an events listing, shared by `events` and `sync`.
#[derive(Debug, Args)]
pub(crate) struct EventFilters {
    /// The first day: YYYY-MM-DD, today, tomorrow, or +N (days from today, in the --tz
    /// zone).
    #[arg(long, value_parser = parse_day, value_name = "DATE")]
    pub(crate) from: Day,
    /// The last day, included: YYYY-MM-DD, today, tomorrow, or +N.
    #[arg(long, value_parser = parse_day, value_name = "DATE")]
    pub(crate) to: Day,
    /// Only at this branch (repeat for several).
    #[arg(long = "location-id", value_name = "ID")]
    pub(crate) location_ids: Vec<u64>,
    /// Only of this event type, by name (repeat for several).
    #[arg(long = "type", value_name = "NAME")]
    pub(crate) types: Vec<String>,
    /// Only for this age group, by name (repeat for several).
    #[arg(long = "age", value_name = "NAME")]
    pub(crate) ages: Vec<String>,
    /// Only with this search tag (repeat for several).
    #[arg(long = "tag", value_name = "TAG")]
    pub(crate) tags: Vec<String>,
    /// Keyword search.
    #[arg(long, value_name = "TEXT")]
    pub(crate) term: Option<String>,
    /// The event status to ask for.
    #[arg(long, value_name = "S", default_value = "published")]
    pub(crate) status: String,
    /// Include private events.
    #[arg(long)]
    pub(crate) private: bool,
}

impl EventFilters {
    /// `query` with these filters (not the window: its days depend on the time zone).
    pub(crate) fn apply(&self, query: communico::EventQuery) -> communico::EventQuery {
        let mut query = query
            .status(Some(self.status.as_str()))
            .location_ids(self.location_ids.iter().copied())
            .types(self.types.iter().cloned())
            .ages(self.ages.iter().cloned())
            .search_tags(self.tags.iter().cloned());
        if let Some(term) = &self.term {
            query = query.term(term.clone());
        }
        if self.private {
            query = query.visibility(communico::Visibility::IncludePrivate);
        }
        query
    }
}

#[derive(Debug, Args)]
pub(crate) struct EventsArgs {
    #[command(flatten)]
    pub(crate) filters: EventFilters,
    /// Optional members to include (comma-separated API names, e.g. ages,types,registration;
    /// `all` for every one this tool knows).
    #[arg(long, value_delimiter = ',', value_name = "F,...")]
    pub(crate) fields: Vec<String>,
    /// Leave out canceled events, and rescheduled ones (their replacement is listed).
    #[arg(long)]
    pub(crate) hide_canceled: bool,
    /// Stop after this many events.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) limit: Option<u64>,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

#[derive(Debug, Args)]
pub(crate) struct EventArgs {
    /// The event's id.
    pub(crate) id: u64,
    /// Optional members to include (comma-separated API names; `all` for every known one).
    #[arg(long, value_delimiter = ',', value_name = "F,...")]
    pub(crate) fields: Vec<String>,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

#[derive(Debug, Args)]
pub(crate) struct IdArgs {
    /// The event's id.
    pub(crate) id: u64,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ReservationsArgs {
    /// The first day: YYYY-MM-DD, today, tomorrow, or +N (days from today, in the --tz
    /// zone).
    #[arg(long, value_parser = parse_day, value_name = "DATE")]
    pub(crate) from: Option<Day>,
    /// The last day, included: YYYY-MM-DD, today, tomorrow, or +N.
    #[arg(long, value_parser = parse_day, value_name = "DATE")]
    pub(crate) to: Option<Day>,
    /// Only at this branch.
    #[arg(long = "location-id", value_name = "ID")]
    pub(crate) location_id: Option<u64>,
    /// Only in this room.
    #[arg(long = "room-id", value_name = "ID")]
    pub(crate) room_id: Option<u64>,
    /// Only in this status: approved, pending, declined (repeat for several).
    #[arg(long, value_name = "S")]
    pub(crate) status: Vec<String>,
    /// Members to include (comma-separated API names, e.g. contactName).
    #[arg(long, value_delimiter = ',', value_name = "F,...")]
    pub(crate) fields: Vec<String>,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

#[derive(Debug, Args)]
pub(crate) struct AttendiumArgs {
    /// The authorization server.
    #[arg(long, global = true, env = "ATTENDIUM_ISSUER", value_name = "URL")]
    pub(crate) issuer: Option<String>,
    /// The GraphQL endpoint.
    #[arg(long, global = true, env = "ATTENDIUM_API_URL", value_name = "URL")]
    pub(crate) api_url: Option<String>,
    /// Where sessions are kept, one per issuer: a directory, or redis://host:port/db to
    /// share them between machines (with --sandbox, sessions live in memory).
    #[arg(long, global = true, env = "ATTEND_STORE", value_name = "DIR|URL", value_parser = crate::store::parse)]
    pub(crate) store: Option<crate::store::StoreSpec>,

    #[command(subcommand)]
    pub(crate) command: AttendiumCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AttendiumCommand {
    /// Log in with the browser; the session is stored for later commands.
    Login(LoginArgs),
    /// Who the session belongs to (logs in first with --sandbox).
    Whoami,
    /// Run a GraphQL query from a file (or - for stdin) and print the JSON answer.
    Query(QueryArgs),
    /// Print a valid access token (refreshed if needed), for scripts.
    Token,
    /// Revoke the session at the server and forget it here.
    Logout,
}

#[derive(Debug, Args)]
pub(crate) struct LoginArgs {
    /// Print the URL only; do not open a browser.
    #[arg(long)]
    pub(crate) no_browser: bool,
    /// The loopback port to listen on for the browser's return [default: any free port].
    #[arg(long, value_name = "N")]
    pub(crate) port: Option<u16>,
    /// A scope to ask for (repeat for several).
    #[arg(long, value_name = "S")]
    pub(crate) scope: Vec<String>,
    /// The redirect URI's host: 127.0.0.1, ::1, or localhost for servers that accept only
    /// that name (then both 127.0.0.1 and ::1 listen, as the browser may use either).
    #[arg(long, value_enum, value_name = "HOST", default_value_t = RedirectHost::Ipv4)]
    pub(crate) redirect_host: RedirectHost,
    /// How long to wait for the browser to come back, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub(crate) browser_timeout: u64,
}

/// Where the browser comes back to after a login.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RedirectHost {
    /// http://127.0.0.1:PORT/callback
    #[value(name = "127.0.0.1")]
    Ipv4,
    /// http://[::1]:PORT/callback
    #[value(name = "::1")]
    Ipv6,
    /// http://localhost:PORT/callback, served on both families
    Localhost,
}

#[derive(Debug, Args)]
pub(crate) struct QueryArgs {
    /// The file holding the query, or - for stdin.
    pub(crate) file: String,
    /// A variable: NAME=JSON (e.g. first=10, name="\"Ann\""); a value that is not JSON is
    /// taken as a string.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub(crate) vars: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct SandboxArgs {
    #[command(subcommand)]
    pub(crate) command: SandboxCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SandboxCommand {
    /// Serve the sandbox until Ctrl-C, printing its URLs and demo credentials.
    Serve(ServeArgs),
    /// Add, edit, cancel, reschedule or delete events of a running `sandbox serve`.
    Event(crate::sandbox_event_cmd::SandboxEventArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The port to listen on (127.0.0.1) [default: any free port].
    #[arg(long, value_name = "N")]
    pub(crate) port: Option<u16>,
    /// How many Communico events the data set holds (at most 1000000).
    #[arg(long, value_name = "N", default_value_t = 2000,
          value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub(crate) events: u32,
    /// The day of the first event: YYYY-MM-DD, today, tomorrow, or +N [default: today].
    #[arg(long, value_parser = parse_date, value_name = "DATE")]
    pub(crate) from: Option<Date>,
}

/// A `YYYY-MM-DD` date that exists (`2016-11-31` does not), or `today`, `tomorrow`, or
/// `+N` (N days from today), the presets library sites use.
pub(crate) fn parse_date(text: &str) -> Result<Date, String> {
    date_from(text, crate::embedded::today())
}

fn date_from(text: &str, today: Date) -> Result<Date, String> {
    parse_day(text)?.on(today)
}

/// A day as given: a date, or a number of days from today, which depends on the time
/// zone (`--tz`) and so is counted once the zone is known ([`Day::on`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Day {
    /// `YYYY-MM-DD`.
    Date(Date),
    /// `today` (0), `tomorrow` (1), `+N`: days from today.
    FromToday(i32),
}

impl Day {
    /// The date, counting from `today`.
    pub(crate) fn on(self, today: Date) -> Result<Date, String> {
        match self {
            Day::Date(date) => Ok(date),
            Day::FromToday(days) => jiff::Span::new()
                .try_days(days)
                .ok()
                .and_then(|span| today.checked_add(span).ok())
                .ok_or_else(|| format!("{days} days from {today} is not a date")),
        }
    }
}

/// `YYYY-MM-DD`, `today`, `tomorrow` or `+N`.
pub(crate) fn parse_day(text: &str) -> Result<Day, String> {
    let bad = || format!("`{text}` is not a date: use YYYY-MM-DD, today, tomorrow or +N");
    // Checked here too, so an impossible count is refused while parsing.
    let days = |n: i32| {
        jiff::Span::new()
            .try_days(n)
            .map(|_| Day::FromToday(n))
            .map_err(|_| bad())
    };
    match text.trim() {
        "today" => days(0),
        "tomorrow" => days(1),
        relative if relative.starts_with('+') => days(relative[1..].parse().map_err(|_| bad())?),
        absolute => communico::date(absolute).map(Day::Date).map_err(|_| bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_options_have_their_own_heading_in_every_help() {
        let mut cli = Cli::command();
        // Global options reach the subcommands when the command is built.
        cli.build();
        for path in [
            &[][..],
            &["communico", "events"][..],
            &["attendium", "login"][..],
        ] {
            let mut command = &mut cli;
            for name in path {
                command = command.find_subcommand_mut(name).unwrap();
            }
            let help = command.render_help().to_string();
            let heading = help
                .find("Global options:")
                .unwrap_or_else(|| panic!("no heading in {path:?}:\n{help}"));
            let (before, after) = help.split_at(heading);
            for flag in ["--sandbox ", "-v, --verbose", "--http ", "--timeout "] {
                let listed =
                    |text: &str| text.lines().any(|line| line.trim_start().starts_with(flag));
                assert!(
                    listed(after) && !listed(before),
                    "{flag} not under the heading in {path:?}:\n{help}"
                );
            }
        }
    }

    #[test]
    fn date_help_names_every_accepted_form() {
        let help = Cli::command().render_long_help().to_string();
        let mut cli = Cli::command();
        let mut check = |path: &[&str]| {
            let mut command = &mut cli;
            for name in path {
                command = command.find_subcommand_mut(name).unwrap();
            }
            let help = command.render_help().to_string();
            assert!(!help.contains("(YYYY-MM-DD)"), "{path:?}:\n{help}");
            assert!(help.contains("tomorrow"), "{path:?}:\n{help}");
        };
        check(&["communico", "reservations"]);
        check(&["communico", "events"]);
        check(&["sandbox", "serve"]);
        assert!(help.contains("libraries"), "{help}");
    }

    #[test]
    fn dates_must_exist() {
        assert!(parse_date("2024-02-29").is_ok());
        for bad in [
            "2016-11-31",
            "2023-02-29",
            "2024-13-01",
            "yesterday",
            "",
            "+",
            "+x",
            "+99999999",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn date_presets_count_from_today() {
        let today = jiff::civil::date(2026, 12, 31);
        let cases = [
            ("today", jiff::civil::date(2026, 12, 31)),
            ("tomorrow", jiff::civil::date(2027, 1, 1)),
            ("+7", jiff::civil::date(2027, 1, 7)),
            ("+0", today),
            ("2026-02-03", jiff::civil::date(2026, 2, 3)),
        ];
        for (text, want) in cases {
            assert_eq!(date_from(text, today), Ok(want), "{text}");
        }
    }
}
