//! `attend communico ...`: builds the query, streams the answer into the chosen format.

use std::io::{self, IsTerminal, Write};
use std::sync::Arc;

use auth_core::{ClientSecret, HttpTransport};
use communico::{Client, Event, EventField, EventQuery, ReservationQuery, ReservationStatus};
use futures_util::TryStreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use jiff::civil::Date;
use serde::Serialize;
use serde_json::Value;

use crate::cli::{
    CommunicoArgs, CommunicoCommand, Day, EventsArgs, Format, OutputArgs, ReservationsArgs,
};
use crate::embedded;
use crate::exit::Failure;
use crate::filters;
use crate::output::{
    self, CsvCells, EventOutput, EventWriter, Terminal, ics_is_for_events, write_records,
    write_vertical,
};
use crate::tz::{self, Zone};

/// Where the client points and with which credentials.
struct Target {
    client: Client,
    base: String,
}

/// Runs one `communico` subcommand.
pub(crate) async fn run(
    args: CommunicoArgs,
    transport: Arc<dyn HttpTransport>,
    use_sandbox: bool,
) -> Result<(), Failure> {
    // Before any connection: a list cannot be a calendar.
    let list_format = match &args.command {
        CommunicoCommand::Registrants(r) => r.output.format,
        CommunicoCommand::Types(l)
        | CommunicoCommand::Ages(l)
        | CommunicoCommand::Locations(l)
        | CommunicoCommand::Rooms(l) => l.output.format,
        CommunicoCommand::Reservations(r) => r.output.format,
        _ => None,
    };
    if list_format == Some(Format::Ics) {
        return Err(ics_is_for_events());
    }
    // Names the API may know though this tool does not: asked for, with a warning.
    let unknown = match &args.command {
        CommunicoCommand::Events(e) => unknown_fields(&e.fields),
        CommunicoCommand::Event(e) => unknown_fields(&e.fields),
        CommunicoCommand::Reservations(r) => unknown_statuses(&r.status),
        _ => Vec::new(),
    };
    for warning in unknown {
        eprintln!("attend: warning: {warning}");
    }
    // The library's zone: what today is, and what ics output names. Asked for only by
    // the commands that use it, so a bad ATTEND_TZ does not stop `types`.
    let zone = match &args.command {
        CommunicoCommand::Events(_)
        | CommunicoCommand::Event(_)
        | CommunicoCommand::Sync(_)
        | CommunicoCommand::Reservations(_) => Zone::resolve(args.tz.as_deref())?,
        _ => None,
    };
    let today = tz::today_in(zone.as_ref());
    let days = match &args.command {
        CommunicoCommand::Events(e) => Some((
            day(e.filters.from, today, "--from")?,
            day(e.filters.to, today, "--to")?,
        )),
        CommunicoCommand::Sync(s) => Some((
            day(s.filters.from, today, "--from")?,
            day(s.filters.to, today, "--to")?,
        )),
        _ => None,
    };
    // The embedded sandbox lives as long as the command.
    let sandbox = if use_sandbox {
        let first_day = match (&args.command, days) {
            (_, Some((from, _))) => from,
            (CommunicoCommand::Reservations(r), _) => {
                r.from.map_or(Ok(today), |d| day(d, today, "--from"))?
            }
            _ => today,
        };
        Some(
            embedded::start(embedded::Services {
                communico: Some(embedded::communico_config(first_day)),
                ..embedded::Services::default()
            })
            .await?,
        )
    } else {
        None
    };
    let target = match sandbox.as_ref().and_then(|s| s.communico()) {
        Some(c) => connect(c.base_url(), c.key(), c.secret(), transport)?,
        None => {
            let base = args
                .base_url
                .clone()
                .unwrap_or_else(|| communico::DEFAULT_BASE_URL.to_owned());
            let (key, secret) = credentials_from_env()?;
            match &args.store {
                Some(store) => {
                    let tokens = store.communico_tokens(&base, &key, &secret, transport.clone())?;
                    connect_with(&base, transport, tokens)?
                }
                None => connect(&base, &key, &secret, transport)?,
            }
        }
    };
    let term = Terminal::detect();
    let fail = |e: communico::Error| Failure::communico(e, &target.base);
    match args.command {
        CommunicoCommand::Events(e) => {
            // Set above for every events command.
            let days = days.unwrap_or((today, today));
            events(&target, e, days, zone.as_ref(), term).await
        }
        CommunicoCommand::Event(e) => {
            let fields = event_fields(&e.fields);
            let event = target.client.event(e.id, &fields).await.map_err(fail)?;
            let format = e.output.format.unwrap_or_else(|| term.default_format());
            let shown = Shown {
                term,
                csv: csv_cells(&e.output),
                zone: zone.as_ref(),
                today,
            };
            one_event(&event, format, shown, &fields, &target.base)
        }
        CommunicoCommand::Registrants(r) => {
            let list = target.client.registrants(r.id).await.map_err(fail)?;
            list_out(&r.output, term, &list)
        }
        CommunicoCommand::Types(l) => {
            let list = target.client.event_types().await.map_err(fail)?;
            list_out(&l.output, term, &list)
        }
        CommunicoCommand::Ages(l) => {
            let list = target.client.age_groups().await.map_err(fail)?;
            list_out(&l.output, term, &list)
        }
        CommunicoCommand::Locations(l) => {
            let list = target.client.locations().await.map_err(fail)?;
            list_out(&l.output, term, &list)
        }
        CommunicoCommand::Rooms(l) => {
            let list = target.client.rooms().await.map_err(fail)?;
            list_out(&l.output, term, &list)
        }
        CommunicoCommand::Sync(s) => {
            // `days` is resolved for every sync above.
            let window = days.ok_or_else(|| Failure::usage("sync needs --from and --to"))?;
            let sandbox = if use_sandbox {
                crate::sync_cmd::Sandbox::Embedded
            } else {
                crate::sync_cmd::Sandbox::None
            };
            crate::sync_cmd::run(target.client, &target.base, s, window, sandbox).await
        }
        CommunicoCommand::Reservations(r) => {
            let query = reservation_query(&r, today)?;
            let list = target.client.reservations(&query).await.map_err(fail)?;
            list_out(&r.output, term, &list)
        }
    }
}

/// A `--from`/`--to` day as a date, counted from `today` in the library's zone.
fn day(day: Day, today: Date, option: &str) -> Result<Date, Failure> {
    day.on(today)
        .map_err(|e| Failure::usage(format!("{option}: {e}")).next("give a nearer date"))
}

/// `--csv-raw`, or the OWASP neutralisation.
fn csv_cells(output: &OutputArgs) -> CsvCells {
    if output.csv_raw {
        CsvCells::Raw
    } else {
        CsvCells::Neutralised
    }
}

/// How one event is shown, besides its format.
struct Shown<'a> {
    term: Terminal,
    csv: CsvCells,
    zone: Option<&'a Zone>,
    today: Date,
}

/// One event: a member per line for people, the object itself in JSON, else as in a
/// listing (a one-row CSV, a one-event calendar).
fn one_event(
    event: &Event,
    format: Format,
    shown: Shown<'_>,
    fields: &[EventField],
    base: &str,
) -> Result<(), Failure> {
    match format {
        Format::Table => {
            let value = serde_json::to_value(event).map_err(unexpected)?;
            let empty = serde_json::Map::new();
            let object = value.as_object().unwrap_or(&empty);
            write_vertical(&mut io::stdout().lock(), shown.term, object)?;
        }
        Format::Json => {
            let mut out = io::stdout().lock();
            // Through io::Error, so a closed stdout is a broken pipe like anywhere else.
            output::write_json(&mut out, event, true)?;
            out.write_all(b"\n")?;
            out.flush()?;
        }
        other => {
            let out = io::BufWriter::new(io::stdout().lock());
            let first = event.event_start.map_or(shown.today, |s| s.date());
            let last = event.event_end.map_or(first, |e| e.date()).max(first);
            let names = field_names(fields);
            let domain = uid_domain(base);
            let options = EventOutput {
                term: shown.term,
                fields: &names,
                uid_domain: &domain,
                csv: shown.csv,
                zone: shown.zone,
                days: (first, last),
            };
            let mut w = EventWriter::begin(other, out, options)?;
            w.event(event)?;
            w.finish()?;
        }
    }
    Ok(())
}

fn connect(
    base: &str,
    key: &str,
    secret: &str,
    transport: Arc<dyn HttpTransport>,
) -> Result<Target, Failure> {
    let client = Client::builder()
        .base_url(base)
        .credentials(key, ClientSecret::new(secret))
        .shared_transport(transport)
        // The transport is already under the tool's retry layer, with --timeout.
        .no_retry()
        .build()
        .map_err(|e| Failure::communico(e, base))?;
    Ok(Target {
        base: client.base_url().to_owned(),
        client,
    })
}

/// A client whose tokens come from `tokens` (a shared store's).
fn connect_with(
    base: &str,
    transport: Arc<dyn HttpTransport>,
    tokens: Arc<dyn auth_core::TokenProvider>,
) -> Result<Target, Failure> {
    let client = Client::builder()
        .base_url(base)
        .token_provider(tokens)
        .shared_transport(transport)
        .build()
        .map_err(|e| Failure::communico(e, base))?;
    Ok(Target {
        base: client.base_url().to_owned(),
        client,
    })
}

fn credentials_from_env() -> Result<(String, String), Failure> {
    let read = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    match (
        read("COMMUNICO_CLIENT_KEY"),
        read("COMMUNICO_CLIENT_SECRET"),
    ) {
        (Some(key), Some(secret)) => Ok((key, secret)),
        (key, _) => {
            let missing = if key.is_none() {
                "COMMUNICO_CLIENT_KEY"
            } else {
                "COMMUNICO_CLIENT_SECRET"
            };
            Err(Failure::usage(format!("{missing} is not set"))
                .next("set COMMUNICO_CLIENT_KEY and COMMUNICO_CLIENT_SECRET, or try --sandbox"))
        }
    }
}

/// The host part of the base URL, for iCalendar UIDs.
fn uid_domain(base: &str) -> String {
    url::Url::parse(base)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "communico".to_owned())
}

fn unexpected(error: impl std::fmt::Display) -> Failure {
    Failure::new(crate::exit::Kind::Unexpected, error.to_string())
}

fn list_out<T: Serialize>(output: &OutputArgs, term: Terminal, list: &[T]) -> Result<(), Failure> {
    let records: Vec<Value> = list
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<_, _>>()
        .map_err(unexpected)?;
    let format = output.format.unwrap_or_else(|| term.default_format());
    write_records(
        format,
        io::BufWriter::new(io::stdout().lock()),
        term,
        csv_cells(output),
        &records,
    )
}

fn event_query(args: &EventsArgs, (from, to): (Date, Date)) -> EventQuery {
    args.filters.apply(
        EventQuery::new()
            .start_date(from)
            .end_date(to)
            .fields(event_fields(&args.fields)),
    )
}

/// The `--fields` names as fields; `all` stands for every field the library knows.
fn event_fields(names: &[String]) -> Vec<EventField> {
    let mut fields = Vec::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        if name == "all" {
            fields.extend(EventField::ALL.iter().cloned());
        } else {
            fields.push(EventField::parse(name));
        }
    }
    fields
}

/// A warning for each `--fields` name this tool does not know (a typo, most likely).
fn unknown_fields(names: &[String]) -> Vec<String> {
    event_fields(names)
        .into_iter()
        .filter_map(|f| match f {
            EventField::Other(name) => Some(format!(
                "--fields `{name}` is not a field this tool knows; asking the API for it anyway"
            )),
            _ => None,
        })
        .collect()
}

/// A warning for each `--status` that is not approved, pending or declined.
fn unknown_statuses(statuses: &[String]) -> Vec<String> {
    statuses
        .iter()
        .filter(|s| matches!(reservation_status(s), ReservationStatus::Other(_)))
        .map(|s| {
            let closest = filters::closest(s, ["approved", "pending", "declined"]);
            let hint = if closest.is_empty() {
                String::new()
            } else {
                format!(" (did you mean {}?)", filters::quoted_list(&closest))
            };
            format!(
                "--status `{s}` is not approved, pending or declined{hint}; asking the API for it anyway"
            )
        })
        .collect()
}

fn reservation_status(status: &str) -> ReservationStatus {
    match status.to_ascii_lowercase().as_str() {
        "approved" => ReservationStatus::Approved,
        "pending" => ReservationStatus::Pending,
        "declined" => ReservationStatus::Declined,
        _ => ReservationStatus::Other(status.to_owned()),
    }
}

/// The CSV columns `--fields` adds, in the API's spelling.
fn field_names(fields: &[EventField]) -> Vec<String> {
    fields.iter().map(|f| f.as_str().to_owned()).collect()
}

fn reservation_query(args: &ReservationsArgs, today: Date) -> Result<ReservationQuery, Failure> {
    let mut query = ReservationQuery::new()
        .statuses(args.status.iter().map(|s| reservation_status(s)))
        .fields(args.fields.iter().cloned());
    if let Some(d) = args.from {
        query = query.start_date(day(d, today, "--from")?);
    }
    if let Some(d) = args.to {
        query = query.end_date(day(d, today, "--to")?);
    }
    if let Some(id) = args.location_id {
        query = query.location_id(id);
    }
    if let Some(id) = args.room_id {
        query = query.room_id(id);
    }
    Ok(query)
}

/// Why an events listing stopped before its end.
enum Stop {
    /// Ctrl-C (SIGINT), or SIGTERM.
    Interrupted(Signal),
    /// A page could not be had.
    Failed(Failure),
}

/// A signal that asks the listing to stop.
#[derive(Debug, Clone, Copy)]
enum Signal {
    /// Ctrl-C (SIGINT).
    Interrupt,
    /// SIGTERM: what `timeout`, `kill`, systemd and cron send.
    Terminate,
}

impl Signal {
    /// 128 + the signal's number, as shells report a process that the signal ended.
    fn exit_code(self) -> i32 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Signal::Interrupt => "interrupted (Ctrl-C)",
            Signal::Terminate => "terminated (SIGTERM)",
        }
    }
}

/// The first Ctrl-C or (on Unix) SIGTERM.
async fn stop_signal() -> std::io::Result<Signal> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        tokio::select! {
            _ = interrupt.recv() => Ok(Signal::Interrupt),
            _ = terminate.recv() => Ok(Signal::Terminate),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.map(|()| Signal::Interrupt)
    }
}

async fn events(
    target: &Target,
    args: EventsArgs,
    days: (Date, Date),
    zone: Option<&Zone>,
    term: Terminal,
) -> Result<(), Failure> {
    let fail = |e: communico::Error| Failure::communico(e, &target.base);
    let mut stream = target
        .client
        .events(event_query(&args, days))
        .map_err(fail)?;
    for warning in filters::event_filter_warnings(&target.client, &args.filters).await {
        eprintln!("attend: warning: {warning}");
    }
    let format = args.output.format.unwrap_or_else(|| term.default_format());
    let fields = field_names(&event_fields(&args.fields));
    let domain = uid_domain(&target.base);
    let progress = Progress::new();
    let out = PagedStdout::new(progress.bar.clone());
    let options = EventOutput {
        term,
        fields: &fields,
        uid_domain: &domain,
        csv: csv_cells(&args.output),
        zone,
        days,
    };
    let mut writer = EventWriter::begin(format, out, options)?;
    let mut written: u64 = 0;
    let mut hidden: u64 = 0;
    // Ctrl-C or SIGTERM closes the output instead of cutting it off mid-document.
    let interrupt = stop_signal();
    tokio::pin!(interrupt);
    let mut watching = true;
    let stopped = loop {
        let next = tokio::select! {
            biased;
            signal = &mut interrupt, if watching => match signal {
                Ok(signal) => break Some(Stop::Interrupted(signal)),
                Err(e) => {
                    // No handler: Ctrl-C ends the process as it always did.
                    tracing::debug!(error = %e, "cannot watch for Ctrl-C");
                    watching = false;
                    continue;
                }
            },
            next = stream.try_next() => next,
        };
        let event = match next {
            Ok(Some(event)) => event,
            Ok(None) => break None,
            Err(e) => break Some(Stop::Failed(fail(e))),
        };
        // Events handed out so far: the bar moves event by event, not page by page.
        let handed_out = stream
            .received()
            .saturating_sub(stream.buffered_len() as u64);
        progress.update(handed_out, stream.total());
        if args.hide_canceled && (event.is_canceled() || event.is_rescheduled()) {
            hidden += 1;
        } else {
            writer.event(&event)?;
            written += 1;
        }
        if args.limit.is_some_and(|limit| written >= limit) {
            break None;
        }
        if stream.buffered_len() == 0 {
            // End of a page: show it before the next one is asked for.
            writer.flush()?;
        }
    };
    // Closing `]`, `END:VCALENDAR`: what was written stays a valid document however
    // the listing ended.
    let finished = writer.finish();
    drop(progress);
    tracing::debug!(written, hidden, "events written");
    let mended = stream.invalid_text_count();
    if mended > 0 {
        eprintln!("attend: {mended} event(s) had invalid text, shown as \u{FFFD}.");
    }
    let Some(stop) = stopped else {
        let (_, left_out) = finished?;
        if left_out.no_start > 0 {
            eprintln!(
                "attend: {} event(s) without a start time were left out of the calendar.",
                left_out.no_start
            );
        }
        if left_out.repeated > 0 {
            tracing::debug!(left_out.repeated, "event ids seen twice, written once");
        }
        return Ok(());
    };
    let (written, closed) = match &finished {
        Ok((_, left_out)) => (
            written.saturating_sub(left_out.total()),
            "the output was closed and is valid as far as it goes".to_owned(),
        ),
        Err(e) => (written, format!("the output could not be closed: {e}")),
    };
    match stop {
        Stop::Interrupted(signal) => {
            eprintln!(
                "attend: {} after {written} event(s); {closed}.",
                signal.describe()
            );
            std::process::exit(signal.exit_code());
        }
        Stop::Failed(failure) => {
            eprintln!("attend: stopped after {written} event(s) by the error below; {closed}.");
            Err(failure)
        }
    }
}

/// A progress bar on stderr, drawn only when stderr is a terminal. Log lines are written
/// with it out of the way; dropping it (at the end, or when the stream fails) clears it.
struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    fn new() -> Self {
        if !io::stderr().is_terminal() {
            return Self { bar: None };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{bar:30} {pos}/{len} events {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        Self::with_bar(bar)
    }

    fn with_bar(bar: ProgressBar) -> Self {
        output::set_progress_bar(Some(bar.clone()));
        Self { bar: Some(bar) }
    }

    fn update(&self, received: u64, total: Option<u64>) {
        if let Some(bar) = &self.bar {
            if let Some(total) = total {
                bar.set_length(total);
            }
            bar.set_position(received);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            output::set_progress_bar(None);
            bar.finish_and_clear();
        }
    }
}

/// Stdout that holds what is written until [`Write::flush`] (once a page), then writes
/// it with the progress bar out of the way. Memory: one page of output.
struct PagedStdout {
    buf: Vec<u8>,
    bar: Option<ProgressBar>,
}

impl PagedStdout {
    fn new(bar: Option<ProgressBar>) -> Self {
        Self {
            buf: Vec::with_capacity(64 * 1024),
            bar,
        }
    }

    fn write_out(&mut self) -> io::Result<()> {
        let buf = &self.buf;
        let write = || {
            let mut out = io::stdout().lock();
            out.write_all(buf)?;
            out.flush()
        };
        match &self.bar {
            Some(bar) => bar.suspend(write)?,
            None => write()?,
        }
        self.buf.clear();
        Ok(())
    }
}

impl Write for PagedStdout {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        // A page is bounded, but a caller that never flushes must not grow memory.
        if self.buf.len() > 4 * 1024 * 1024 {
            self.write_out()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.write_out()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_bar_is_cleared_however_the_command_ends() {
        let bar = ProgressBar::hidden();
        let progress = Progress::with_bar(bar.clone());
        assert!(output::progress_bar_is_set());
        // As when `?` leaves `events` early on a failed page.
        drop(progress);
        assert!(bar.is_finished());
        assert!(!output::progress_bar_is_set());
    }

    #[test]
    fn all_stands_for_every_known_field() {
        let fields = event_fields(&["ages".into(), "all".into(), " ".into()]);
        assert_eq!(fields[0], EventField::Ages);
        assert_eq!(fields.len(), 1 + EventField::ALL.len());
        assert_eq!(field_names(&fields[..1]), ["ages"]);
    }

    #[test]
    fn unknown_field_and_status_names_are_warned_about() {
        let fields = unknown_fields(&["ages".into(), "all".into(), "agez".into()]);
        assert_eq!(fields.len(), 1, "{fields:?}");
        assert!(fields[0].contains("`agez`"));
        let statuses = unknown_statuses(&["Approved".into(), "pending".into(), "aproved".into()]);
        assert_eq!(statuses.len(), 1, "{statuses:?}");
        assert!(statuses[0].contains("`aproved`"));
        assert!(
            statuses[0].contains("did you mean `approved`?"),
            "{statuses:?}"
        );
    }

    #[test]
    fn uid_domains_come_from_the_base_url() {
        assert_eq!(uid_domain("https://api.communico.co"), "api.communico.co");
        assert_eq!(uid_domain("http://127.0.0.1:8080/communico"), "127.0.0.1");
        assert_eq!(uid_domain("nonsense"), "communico");
    }

    #[test]
    fn event_arguments_become_the_query() {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from([
            "attend",
            "communico",
            "events",
            "--from",
            "2026-12-01",
            "--to",
            "2026-12-31",
            "--location-id",
            "416",
            "--location-id",
            "434",
            "--type",
            "Storytime",
            "--age",
            "Adults (18+)",
            "--term",
            "knit",
            "--fields",
            "ages,types",
            "--private",
        ])
        .unwrap();
        let crate::cli::Command::Communico(c) = cli.command else {
            panic!("parsed as another command")
        };
        let CommunicoCommand::Events(e) = c.command else {
            panic!("parsed as another subcommand")
        };
        let today = jiff::civil::date(2026, 11, 30);
        let days = (
            e.filters.from.on(today).unwrap(),
            e.filters.to.on(today).unwrap(),
        );
        let qs = event_query(&e, days).to_query_string(0, 200).unwrap();
        for part in [
            "startDate=2026-12-01",
            "endDate=2026-12-31",
            "locationId=416,434",
            "types=Storytime",
            "ages=Adults%20%2818%2B%29",
            "term=knit",
            "fields=ages,types",
            "privateEvents=true",
        ] {
            assert!(qs.contains(part), "{part} missing in {qs}");
        }
    }
}
