//! Writing results in each format.
//!
//! Events stream: json, ndjson, csv and ics write each event as it comes and keep nothing
//! but the current row, so a year of events costs no more memory than a page; the CSV
//! header is known before the first event (the default members plus `--fields`). The
//! event table is laid out by its content, so it holds rows until it can measure them:
//! a block of at most [`TABLE_BLOCK_ROWS`]. The lookup lists are small and arrive whole;
//! their table and CSV columns are every member seen, in first-seen order.
//!
//! Nothing written passes a control character to a terminal: tables replace them with
//! spaces, CSV with U+FFFD (keeping line breaks and tabs), JSON escapes them, and
//! iCalendar drops them (RFC 5545 §3.1 allows none in TEXT).

use std::io::{self, IsTerminal, Write};
use std::sync::{Mutex, PoisonError};

use communico::Event;
use indicatif::ProgressBar;
use jiff::civil::Date;
use serde_json::{Map, Value};

use crate::cli::Format;
use crate::exit::Failure;
use crate::ics::IcsWriter;
use crate::tz::Zone;

/// Where results go and how they look there.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Terminal {
    /// The width to fit tables in; `None` when stdout is not a terminal (no truncation).
    pub(crate) width: Option<usize>,
    /// Whether to use colors on stdout.
    pub(crate) color: bool,
}

impl Terminal {
    /// Looks at stdout and `NO_COLOR`.
    pub(crate) fn detect() -> Self {
        let is_tty = io::stdout().is_terminal();
        let width = is_tty.then(|| {
            console::Term::stdout()
                .size_checked()
                .map_or(100, |(_, cols)| usize::from(cols))
        });
        Self {
            width,
            color: is_tty && colors_allowed(),
        }
    }

    /// The format to use when none was asked for: a table for people, ndjson for pipes.
    pub(crate) fn default_format(&self) -> Format {
        if self.width.is_some() {
            Format::Table
        } else {
            Format::Ndjson
        }
    }

    fn header(&self, text: &str) -> String {
        if self.color {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// The progress bar on stderr, if one is drawn: log lines are written with it out of the way.
static PROGRESS_BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Sets (or, with `None`, forgets) the progress bar that log lines must not overwrite.
pub(crate) fn set_progress_bar(bar: Option<ProgressBar>) {
    // A poisoned lock still holds a usable value: a bar, or none.
    *PROGRESS_BAR.lock().unwrap_or_else(PoisonError::into_inner) = bar;
}

/// Whether a progress bar is set.
#[cfg(test)]
pub(crate) fn progress_bar_is_set() -> bool {
    PROGRESS_BAR
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .is_some()
}

/// One log line for stderr, written when dropped (the log formatter takes one writer
/// per event): with the progress bar out of the way, and redrawn after it.
pub(crate) struct LogLine(Vec<u8>);

impl LogLine {
    /// An empty line; `Fn() -> LogLine` is the log formatter's writer.
    pub(crate) fn new() -> Self {
        Self(Vec::new())
    }
}

impl Write for LogLine {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        let write = || {
            // Nowhere to report a failed log write.
            let _ = io::stderr().lock().write_all(&self.0);
        };
        // Cloned out so the lock is not held while drawing.
        let bar = PROGRESS_BAR
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }
}

/// `NO_COLOR` set to anything non-empty turns colors off (no-color.org).
pub(crate) fn colors_allowed() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The event members CSV always has, in this order; `--fields` adds columns after them.
const EVENT_CSV_COLUMNS: &[&str] = &[
    "eventId",
    "title",
    "subTitle",
    "eventStart",
    "eventEnd",
    "locationId",
    "locationName",
    "roomId",
    "roomName",
    "status",
    "modified",
    "newEventId",
    "recurringId",
    "shortDescription",
    "description",
    "eventLastUpdated",
];

/// How CSV cells that a spreadsheet would run as formulas are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CsvCells {
    /// A cell starting with `=`, `+`, `-`, `@`, tab or CR gets a leading `'` (OWASP,
    /// "CSV Injection"), so spreadsheets show it as text instead of running it.
    Neutralised,
    /// Values as the API sent them (`--csv-raw`).
    Raw,
}

/// What the event formats need besides the events.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EventOutput<'a> {
    /// Where the output goes and how wide it is.
    pub(crate) term: Terminal,
    /// The optional members asked for (CSV columns).
    pub(crate) fields: &'a [String],
    /// The API's host, for iCalendar UIDs.
    pub(crate) uid_domain: &'a str,
    /// How CSV writes formula-like cells.
    pub(crate) csv: CsvCells,
    /// The library's zone, if known: iCalendar `TZID`s and `VTIMEZONE`.
    pub(crate) zone: Option<&'a Zone>,
    /// The days asked for (first, last), which the `VTIMEZONE` covers.
    pub(crate) days: (Date, Date),
}

/// Rows of the event table laid out together: enough for a month of a busy library at
/// once, while a year streams in blocks of this size instead of being held whole.
const TABLE_BLOCK_ROWS: usize = 2000;

/// Writes events in one format, one at a time.
pub(crate) enum EventWriter<W: Write> {
    /// `[`, then one event a line, then `]`.
    Json { out: W, first: bool },
    /// One event a line.
    Ndjson { out: W },
    /// A header, then a row per event.
    Csv {
        out: Box<csv::Writer<W>>,
        columns: Vec<String>,
        cells: CsvCells,
    },
    /// Columns laid out by content (see [`TABLE_BLOCK_ROWS`]).
    Table {
        out: W,
        term: Terminal,
        rows: Vec<Vec<String>>,
        blocks: u64,
    },
    /// One VCALENDAR.
    Ics(IcsWriter<W>),
}

impl<W: Write> EventWriter<W> {
    /// Starts the output (header, opening bracket).
    pub(crate) fn begin(format: Format, mut out: W, options: EventOutput<'_>) -> io::Result<Self> {
        Ok(match format {
            Format::Json => {
                out.write_all(b"[")?;
                EventWriter::Json { out, first: true }
            }
            Format::Ndjson => EventWriter::Ndjson { out },
            Format::Csv => {
                let mut columns: Vec<String> =
                    EVENT_CSV_COLUMNS.iter().map(|c| (*c).to_owned()).collect();
                for f in options.fields {
                    if !columns.contains(f) {
                        columns.push(f.clone());
                    }
                }
                let mut out = csv_writer(out);
                out.write_record(columns.iter().map(|c| csv_cell(c, options.csv)))
                    .map_err(csv_io)?;
                EventWriter::Csv {
                    out: Box::new(out),
                    columns,
                    cells: options.csv,
                }
            }
            Format::Table => EventWriter::Table {
                out,
                term: options.term,
                rows: Vec::new(),
                blocks: 0,
            },
            Format::Ics => EventWriter::Ics(IcsWriter::begin(
                out,
                options.uid_domain,
                jiff::Timestamp::now(),
                "Communico events",
                options.zone,
                options.days,
            )?),
        })
    }

    /// Writes one event.
    pub(crate) fn event(&mut self, event: &Event) -> io::Result<()> {
        match self {
            EventWriter::Json { out, first } => {
                out.write_all(if *first { b"\n" } else { b",\n" })?;
                *first = false;
                write_json(out, event, false)
            }
            EventWriter::Ndjson { out } => {
                write_json(out, event, false)?;
                out.write_all(b"\n")
            }
            EventWriter::Csv {
                out,
                columns,
                cells,
            } => {
                let value = serde_json::to_value(event).map_err(json_io)?;
                let object = value.as_object();
                let row = columns.iter().map(|c| {
                    let text = object.and_then(|o| o.get(c)).map_or_else(String::new, cell);
                    csv_cell(&text, *cells)
                });
                out.write_record(row).map_err(csv_io)
            }
            EventWriter::Table {
                out,
                term,
                rows,
                blocks,
            } => {
                rows.push(event_row(event));
                if rows.len() >= TABLE_BLOCK_ROWS {
                    write_event_table(out, *term, rows)?;
                    *blocks += 1;
                }
                Ok(())
            }
            EventWriter::Ics(w) => w.event(event),
        }
    }

    /// Pushes what was written so far to the output (between pages).
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        match self {
            EventWriter::Json { out, .. }
            | EventWriter::Ndjson { out }
            | EventWriter::Table { out, .. } => out.flush(),
            EventWriter::Csv { out, .. } => out.flush(),
            EventWriter::Ics(w) => w.get_mut().flush(),
        }
    }

    /// Ends the output (the closing `]`, `END:VCALENDAR`, the last table rows) and hands
    /// back the writer, flushed, with how many events could not be written (iCalendar
    /// needs a start) and how many were left out as repeats (iCalendar writes an id once).
    pub(crate) fn finish(self) -> io::Result<(W, LeftOut)> {
        let (mut out, left_out) = match self {
            EventWriter::Json { mut out, first } => {
                out.write_all(if first { b"]\n" } else { b"\n]\n" })?;
                (out, LeftOut::default())
            }
            EventWriter::Ndjson { out } => (out, LeftOut::default()),
            EventWriter::Table {
                mut out,
                term,
                mut rows,
                blocks,
            } => {
                // An empty listing still shows its header; a last block only if it has rows.
                if !rows.is_empty() || blocks == 0 {
                    write_event_table(&mut out, term, &mut rows)?;
                }
                (out, LeftOut::default())
            }
            EventWriter::Csv { out, .. } => {
                let out = out
                    .into_inner()
                    .map_err(|e| io::Error::new(e.error().kind(), e.error().to_string()))?;
                (out, LeftOut::default())
            }
            EventWriter::Ics(w) => {
                let left_out = LeftOut {
                    no_start: w.skipped(),
                    repeated: w.repeated(),
                };
                (w.finish()?, left_out)
            }
        };
        out.flush()?;
        Ok((out, left_out))
    }
}

/// Events a format could not or need not write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LeftOut {
    /// Without a start (iCalendar needs one).
    pub(crate) no_start: u64,
    /// An id already written (iCalendar writes each once).
    pub(crate) repeated: u64,
}

impl LeftOut {
    /// How many in all.
    pub(crate) fn total(self) -> u64 {
        self.no_start.saturating_add(self.repeated)
    }
}

/// The event table's header.
const EVENT_COLUMNS: [&str; 5] = ["ID", "START", "END", "LOCATION", "TITLE"];

/// The columns that are never wrapped or cut: id, start and end.
const EVENT_WHOLE_COLUMNS: &[usize] = &[0, 1, 2];

/// One event as table cells: `2026-12-01 09:30`, then `10:30` (or a date and time when
/// the event ends another day); the place is `branch / room`.
fn event_row(event: &Event) -> Vec<String> {
    let id = event.event_id.map(|i| i.to_string()).unwrap_or_default();
    let start = event.event_start.map(short_datetime).unwrap_or_default();
    let end = match (event.event_start, event.event_end) {
        (Some(s), Some(e)) if s.date() == e.date() => e.strftime("%H:%M").to_string(),
        (_, Some(e)) => short_datetime(e),
        _ => String::new(),
    };
    let place = match (event.location_name.as_deref(), event.room_name.as_deref()) {
        (Some(l), Some(r)) if !r.is_empty() => format!("{l} / {r}"),
        (Some(l), _) => l.to_owned(),
        (None, Some(r)) => r.to_owned(),
        (None, None) => String::new(),
    };
    let mut title = event.title.clone().unwrap_or_default();
    if event.is_canceled() {
        title.insert_str(0, "[canceled] ");
    } else if event.is_rescheduled() {
        title.insert_str(0, "[rescheduled] ");
    }
    [id, start, end, place, title]
        .iter()
        .map(|c| sanitize(c))
        .collect()
}

/// Writes the rows held so far as one table, and forgets them.
fn write_event_table<W: Write>(
    out: &mut W,
    term: Terminal,
    rows: &mut Vec<Vec<String>>,
) -> io::Result<()> {
    let header: Vec<String> = EVENT_COLUMNS.iter().map(|c| (*c).to_owned()).collect();
    let text = render_table(term, &header, std::mem::take(rows), EVENT_WHOLE_COLUMNS);
    out.write_all(text.as_bytes())
}

/// Lays out a table with comfy-table: on a terminal, as wide as the terminal allows,
/// each column as wide as its content needs, long cells wrapped at word boundaries
/// (never cut); the `whole` columns are never wrapped. Off a terminal, nothing wraps.
/// Cells must already be free of control characters ([`sanitize`]).
fn render_table(
    term: Terminal,
    header: &[String],
    rows: Vec<Vec<String>>,
    whole: &[usize],
) -> String {
    use comfy_table::{ColumnConstraint, ContentArrangement, Table, presets};
    let mut table = Table::new();
    table.load_style(presets::NOTHING);
    table.set_header(header.to_vec());
    match term.width {
        Some(width) => {
            table.set_content_arrangement(ContentArrangement::Dynamic);
            table.set_width(u16::try_from(width).unwrap_or(u16::MAX));
        }
        None => {
            table.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
    table.add_rows(rows);
    let last = header.len().saturating_sub(1);
    for (i, column) in table.column_iter_mut().enumerate() {
        // Two spaces between columns, none at the edges.
        let left = u16::from(i > 0);
        let right = u16::from(i < last);
        column.set_padding((left, right));
        if whole.contains(&i) {
            column.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
    let mut text = String::new();
    for (n, line) in table.lines().enumerate() {
        let line = line.trim_end();
        if n == 0 {
            text.push_str(&term.header(line));
        } else {
            text.push_str(line);
        }
        text.push('\n');
    }
    text
}

/// Server text made safe for a terminal: every control character (newlines, tabs, and
/// ESC, which starts the sequences that recolour or rewrite the screen, and the C1
/// controls such as CSI, U+009B) becomes a space, and so does every bidirectional
/// embedding, override or isolate (U+202A-U+202E, U+2066-U+2069), which would reorder the
/// rest of the row as it is shown ("Trojan Source", CVE-2021-42574).
pub(crate) fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || is_bidi_control(c) {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// A bidirectional formatting character that changes how the text after it is ordered.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A CSV cell: line breaks and tabs kept (they are data, and quoted by the writer),
/// every other control character, which a terminal would act on (`ESC`, `BEL`, a lone
/// CR, C1 controls), replaced by U+FFFD so the loss shows; then, unless raw, a `'` before
/// a leading `=`, `+`, `-`, `@`, tab or CR (OWASP, "CSV Injection").
pub(crate) fn csv_cell(text: &str, cells: CsvCells) -> String {
    let mut clean = String::with_capacity(text.len() + 1);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\t' | '\n' => clean.push(c),
            // CRLF is one line break.
            '\r' if chars.peek() == Some(&'\n') => {}
            c if c.is_control() => clean.push('\u{FFFD}'),
            c => clean.push(c),
        }
    }
    if cells == CsvCells::Neutralised && clean.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        clean.insert(0, '\'');
    }
    clean
}

/// A CSV writer with RFC 4180 line ends (CRLF).
fn csv_writer<W: Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out)
}

/// Writes `value` as JSON with DEL and the C1 controls (U+007F-U+009F) escaped as
/// `\u00XX` too: serde_json escapes only U+0000-U+001F, and a terminal acts on C1
/// controls (U+009B is CSI). The escape is lossless: they can occur only inside strings.
pub(crate) fn write_json<W: Write + ?Sized, T: serde::Serialize + ?Sized>(
    out: &mut W,
    value: &T,
    pretty: bool,
) -> io::Result<()> {
    let text = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    }
    .map_err(json_io)?;
    let mut rest = text.as_str();
    while let Some(at) = rest.find(|c: char| ('\u{7f}'..='\u{9f}').contains(&c)) {
        out.write_all(&rest.as_bytes()[..at])?;
        // `find` stopped at that character, so there is one; the default is never used.
        let c = rest[at..].chars().next().unwrap_or('\u{7f}');
        write!(out, "\\u{:04x}", u32::from(c))?;
        rest = &rest[at + c.len_utf8()..];
    }
    out.write_all(rest.as_bytes())
}

fn short_datetime(t: jiff::civil::DateTime) -> String {
    t.strftime("%Y-%m-%d %H:%M").to_string()
}

/// A JSON value as one CSV or table cell: strings as they are, lists joined by `; `,
/// `null` empty, objects as compact JSON.
pub(crate) fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join("; "),
        Value::Object(_) => value.to_string(),
    }
}

/// Writes a whole list (types, ages, locations, rooms, reservations, registrants).
pub(crate) fn write_records<W: Write>(
    format: Format,
    mut out: W,
    term: Terminal,
    cells: CsvCells,
    records: &[Value],
) -> Result<(), Failure> {
    match format {
        Format::Json => {
            write_json(&mut out, records, true)?;
            out.write_all(b"\n")?;
        }
        Format::Ndjson => {
            for record in records {
                write_json(&mut out, record, false)?;
                out.write_all(b"\n")?;
            }
        }
        Format::Csv => {
            let columns = columns_of(records);
            let mut w = csv_writer(&mut out);
            w.write_record(columns.iter().map(|c| csv_cell(c, cells)))
                .map_err(csv_io)?;
            for record in records {
                w.write_record(columns.iter().map(|c| csv_cell(&member(record, c), cells)))
                    .map_err(csv_io)?;
            }
            w.flush()?;
        }
        Format::Table => write_table(&mut out, term, records)?,
        Format::Ics => return Err(ics_is_for_events()),
    }
    out.flush()?;
    Ok(())
}

/// `--format ics` asked of a list that is not events.
pub(crate) fn ics_is_for_events() -> Failure {
    Failure::usage("--format ics is for events only").next("use table, json, ndjson or csv here")
}

/// One member of a record as a cell; a bare string record (an age group) is its `name`.
fn member(record: &Value, column: &str) -> String {
    match record {
        Value::Object(o) => o.get(column).map_or_else(String::new, cell),
        Value::String(s) if column == "name" => s.clone(),
        _ => String::new(),
    }
}

/// Every member name in the records, in first-seen order.
fn columns_of(records: &[Value]) -> Vec<String> {
    let mut columns: Vec<String> = Vec::new();
    for record in records {
        match record {
            Value::Object(o) => {
                for key in o.keys() {
                    if !columns.contains(key) {
                        columns.push(key.clone());
                    }
                }
            }
            _ => {
                if !columns.iter().any(|c| c == "name") {
                    columns.push("name".into());
                }
            }
        }
    }
    columns
}

/// A table of whole records, a column per member (see [`render_table`]).
fn write_table<W: Write>(out: &mut W, term: Terminal, records: &[Value]) -> io::Result<()> {
    let columns = columns_of(records);
    if columns.is_empty() {
        return Ok(());
    }
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| columns.iter().map(|c| sanitize(&member(r, c))).collect())
        .collect();
    let header: Vec<String> = columns.iter().map(|c| sanitize(c)).collect();
    out.write_all(render_table(term, &header, rows, &[]).as_bytes())
}

/// One record, for people: a `member  value` line per member, long values wrapped to
/// the terminal.
pub(crate) fn write_vertical<W: Write>(
    out: &mut W,
    term: Terminal,
    record: &Map<String, Value>,
) -> io::Result<()> {
    use comfy_table::{ColumnConstraint, ContentArrangement, Table, presets};
    let mut table = Table::new();
    table.load_style(presets::NOTHING);
    if let Some(width) = term.width {
        table.set_content_arrangement(ContentArrangement::Dynamic);
        table.set_width(u16::try_from(width).unwrap_or(u16::MAX));
    }
    for (key, value) in record {
        table.add_row(vec![sanitize(key), sanitize(&cell(value))]);
    }
    for (i, column) in table.column_iter_mut().enumerate() {
        if i == 0 {
            column.set_padding((0, 1));
            column.set_constraint(ColumnConstraint::ContentWidth);
        } else {
            column.set_padding((1, 0));
        }
    }
    for line in table.lines() {
        let line = line.trim_end();
        // The member name in bold: it is the first cell, up to the padding after it
        // (names are the API's, without spaces); a wrapped value's line has none.
        match line.split_once(' ') {
            Some((name, value)) if term.color && !name.is_empty() => {
                writeln!(out, "{} {value}", term.header(name))?;
            }
            _ => writeln!(out, "{line}")?,
        }
    }
    out.flush()
}

fn json_io(error: serde_json::Error) -> io::Error {
    match error.io_error_kind() {
        Some(kind) => io::Error::new(kind, error),
        None => io::Error::other(error),
    }
}

fn csv_io(error: csv::Error) -> io::Error {
    match error.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_overrides_never_reorder_a_table_row() {
        assert_eq!(
            sanitize("Story\u{202E}emit\u{2066}x\u{2069} \u{1b}[2J"),
            "Story emit x   [2J"
        );
        assert_eq!(sanitize("Árbol — ñ"), "Árbol — ñ");
    }
    use serde_json::json;

    fn event(v: Value) -> Event {
        serde_json::from_value(v).unwrap()
    }

    fn options(width: Option<usize>) -> EventOutput<'static> {
        EventOutput {
            term: Terminal {
                width,
                color: false,
            },
            fields: &[],
            uid_domain: "x.example",
            csv: CsvCells::Neutralised,
            zone: None,
            days: (
                jiff::civil::date(2026, 12, 1),
                jiff::civil::date(2026, 12, 31),
            ),
        }
    }

    fn written_with(format: Format, events: &[Event], options: EventOutput<'_>) -> String {
        let mut w = EventWriter::begin(format, Vec::new(), options).unwrap();
        for e in events {
            w.event(e).unwrap();
        }
        let (bytes, _) = w.finish().unwrap();
        String::from_utf8(bytes).unwrap()
    }

    fn written(format: Format, events: &[Event], fields: &[String]) -> String {
        written_with(
            format,
            events,
            EventOutput {
                fields,
                ..options(None)
            },
        )
    }

    #[test]
    fn json_is_one_array_keeping_every_member() {
        let events = [
            event(json!({"eventId": 1, "title": "A", "mystery": [1, 2]})),
            event(json!({"eventId": 2, "roomName": null})),
        ];
        let text = written(Format::Json, &events, &[]);
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            back,
            json!([{"eventId": 1, "title": "A", "mystery": [1, 2]}, {"eventId": 2, "roomName": null}])
        );
        let empty: Value = serde_json::from_str(&written(Format::Json, &[], &[])).unwrap();
        assert_eq!(empty, json!([]));
    }

    #[test]
    fn ndjson_is_one_object_a_line() {
        let events = [event(json!({"eventId": 1})), event(json!({"eventId": 2}))];
        let text = written(Format::Ndjson, &events, &[]);
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines, vec![json!({"eventId": 1}), json!({"eventId": 2})]);
    }

    #[test]
    fn json_escapes_every_control_character_losslessly() {
        let title = "a\u{1b}]0;x\u{7}b\u{9b}2Jc\u{7f}d é";
        let events = [event(json!({"eventId": 1, "title": title}))];
        for format in [Format::Json, Format::Ndjson] {
            let text = written(format, &events, &[]);
            assert!(
                !text.chars().any(|c| c.is_control() && c != '\n'),
                "{text:?}"
            );
            let back: Value = if format == Format::Json {
                serde_json::from_str::<Value>(&text).unwrap()[0].clone()
            } else {
                serde_json::from_str(text.trim_end()).unwrap()
            };
            assert_eq!(back["title"], title);
        }
    }

    #[test]
    fn csv_has_the_default_columns_then_the_fields_asked_for() {
        let events = [event(json!({
            "eventId": 7, "title": "Knit, purl \"and\" chat", "ages": ["Adults (18+)", "Teens (11-17)"],
            "roomName": null
        }))];
        let text = written(Format::Csv, &events, &["ages".into()]);
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let headers = reader.headers().unwrap().clone();
        assert_eq!(&headers[0], "eventId");
        assert_eq!(headers.iter().next_back(), Some("ages"));
        let row = reader.records().next().unwrap().unwrap();
        assert_eq!(&row[1], "Knit, purl \"and\" chat");
        assert_eq!(row.iter().next_back(), Some("Adults (18+); Teens (11-17)"));
    }

    #[test]
    fn csv_lines_end_in_crlf() {
        let events = [event(json!({"eventId": 7, "title": "two\nlines"}))];
        let text = written(Format::Csv, &events, &[]);
        // Two records, each ending in CRLF; the line break inside the quoted title stays.
        assert!(text.ends_with("\r\n"));
        assert_eq!(text.matches("\r\n").count(), 2, "{text:?}");
        assert!(text.contains("\"two\nlines\""), "{text:?}");
    }

    #[test]
    fn csv_cells_are_neutralised_per_owasp_unless_raw() {
        let cases = [
            (
                "=HYPERLINK(\"x\")",
                "'=HYPERLINK(\"x\")",
                "=HYPERLINK(\"x\")",
            ),
            ("+1", "'+1", "+1"),
            ("-2+3", "'-2+3", "-2+3"),
            ("@SUM(A1)", "'@SUM(A1)", "@SUM(A1)"),
            ("\tcmd", "'\tcmd", "\tcmd"),
            ("Storytime", "Storytime", "Storytime"),
            (
                "a\u{1b}]0;t\u{7}b",
                "a\u{fffd}]0;t\u{fffd}b",
                "a\u{fffd}]0;t\u{fffd}b",
            ),
            ("x\u{1b}[2J", "x\u{fffd}[2J", "x\u{fffd}[2J"),
            ("cr\rlf\r\nend", "cr\u{fffd}lf\nend", "cr\u{fffd}lf\nend"),
        ];
        for (input, neutralised, raw) in cases {
            assert_eq!(
                csv_cell(input, CsvCells::Neutralised),
                neutralised,
                "{input:?}"
            );
            assert_eq!(csv_cell(input, CsvCells::Raw), raw, "{input:?}");
        }
    }

    #[test]
    fn the_event_table_wraps_titles_and_never_cuts_times() {
        let long = "Bus Trip to the Art Museum with a guided tour of the new wing and lunch";
        let events = [event(json!({
            "eventId": 5, "title": long,
            "eventStart": "2026-12-01 09:00:00", "eventEnd": "2026-12-01 19:45:00",
            "locationName": "West Toledo", "roomName": "Meeting Room A", "modified": "canceled"
        }))];
        let text = written_with(Format::Table, &events, options(Some(80)));
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines.iter().all(|l| console::measure_text_width(l) <= 80),
            "{text}"
        );
        assert!(lines.len() > 2, "the title wraps: {text}");
        assert!(
            lines[1].contains("2026-12-01 09:00") && lines[1].contains("19:45"),
            "{text}"
        );
        // Every word of the title and the place is there: wrapped, not cut.
        let words: Vec<&str> = lines.iter().flat_map(|l| l.split_whitespace()).collect();
        for word in long
            .split_whitespace()
            .chain(["West", "Toledo", "Meeting", "[canceled]"])
        {
            assert!(words.contains(&word), "{word} missing in\n{text}");
        }
        assert!(!text.contains('…'));
        // Off a terminal, one line a row.
        let text = written_with(Format::Table, &events, options(None));
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.lines().nth(1).unwrap().ends_with(long));
    }

    #[test]
    fn an_empty_event_table_is_its_header() {
        let text = written_with(Format::Table, &[], options(Some(80)));
        assert_eq!(text.lines().count(), 1);
        assert!(text.starts_with("ID"));
    }

    #[test]
    fn control_characters_in_server_text_become_spaces() {
        let title = "Red \x1b[31malert\nsecond line\u{9b}2J";
        let no_control = |text: &str| !text.chars().any(char::is_control);
        assert_eq!(sanitize(title), "Red  [31malert second line 2J");
        for width in [None, Some(80)] {
            let events = [event(json!({
                "eventId": 5, "title": title, "locationName": "Main\x1b[2J"
            }))];
            let text = written_with(Format::Table, &events, options(width));
            assert!(text.lines().all(no_control), "{text:?}");
        }
        let term = Terminal {
            width: None,
            color: false,
        };
        let records = [json!({"title": title})];
        let mut table = Vec::new();
        write_table(&mut table, term, &records).unwrap();
        let table = String::from_utf8(table).unwrap();
        assert!(table.lines().all(no_control), "{table:?}");
        assert_eq!(table.lines().count(), 2, "{table:?}");
        for width in [None, Some(80)] {
            let term = Terminal {
                width,
                color: false,
            };
            let mut vertical = Vec::new();
            let Value::Object(record) = json!({"title": title, "key\x1b]0;x": 1}) else {
                unreachable!()
            };
            write_vertical(&mut vertical, term, &record).unwrap();
            let vertical = String::from_utf8(vertical).unwrap();
            assert!(vertical.lines().all(no_control), "{vertical:?}");
            assert_eq!(vertical.lines().count(), 2, "{vertical:?}");
        }
    }

    #[test]
    fn lists_of_bare_strings_and_objects_share_columns() {
        let records = vec![json!("Adults (18+)"), json!({"name": "Kids", "id": 3})];
        assert_eq!(
            columns_of(&records),
            vec!["name".to_owned(), "id".to_owned()]
        );
        assert_eq!(member(&records[0], "name"), "Adults (18+)");
        assert_eq!(member(&records[1], "id"), "3");
    }
}
