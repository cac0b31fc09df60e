//! Writing results in each format.
//!
//! Events stream: every format writes each event as it comes and keeps nothing but the
//! current row, so a year of events costs no more memory than a page. The event table has
//! fixed columns sized once from the terminal width (no buffering needed to measure), and
//! the CSV header is known before the first event (the default members plus `--fields`).
//! The lookup lists are small and arrive whole; their table and CSV columns are every
//! member seen, in first-seen order.

use std::io::{self, IsTerminal, Write};
use std::sync::{Mutex, PoisonError};

use communico::Event;
use console::{measure_text_width, truncate_str};
use indicatif::ProgressBar;
use serde_json::{Map, Value};

use crate::cli::Format;
use crate::exit::Failure;
use crate::ics::IcsWriter;

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
    },
    /// Fixed-width columns.
    Table { out: W, layout: TableLayout },
    /// One VCALENDAR.
    Ics(IcsWriter<W>),
}

impl<W: Write> EventWriter<W> {
    /// Starts the output (header, opening bracket). `fields` are the optional members
    /// asked for (CSV columns); `uid_domain` the API's host (iCalendar UIDs).
    pub(crate) fn begin(
        format: Format,
        mut out: W,
        term: Terminal,
        fields: &[String],
        uid_domain: &str,
    ) -> io::Result<Self> {
        Ok(match format {
            Format::Json => {
                out.write_all(b"[")?;
                EventWriter::Json { out, first: true }
            }
            Format::Ndjson => EventWriter::Ndjson { out },
            Format::Csv => {
                let mut columns: Vec<String> =
                    EVENT_CSV_COLUMNS.iter().map(|c| (*c).to_owned()).collect();
                for f in fields {
                    if !columns.contains(f) {
                        columns.push(f.clone());
                    }
                }
                let mut out = csv::Writer::from_writer(out);
                out.write_record(&columns).map_err(csv_io)?;
                EventWriter::Csv {
                    out: Box::new(out),
                    columns,
                }
            }
            Format::Table => {
                let layout = TableLayout::for_width(term.width);
                writeln!(out, "{}", term.header(&layout.header()))?;
                EventWriter::Table { out, layout }
            }
            Format::Ics => EventWriter::Ics(IcsWriter::begin(
                out,
                uid_domain,
                jiff::Timestamp::now(),
                "Communico events",
            )?),
        })
    }

    /// Writes one event.
    pub(crate) fn event(&mut self, event: &Event) -> io::Result<()> {
        match self {
            EventWriter::Json { out, first } => {
                out.write_all(if *first { b"\n" } else { b",\n" })?;
                *first = false;
                serde_json::to_writer(&mut *out, event).map_err(json_io)
            }
            EventWriter::Ndjson { out } => {
                serde_json::to_writer(&mut *out, event).map_err(json_io)?;
                out.write_all(b"\n")
            }
            EventWriter::Csv { out, columns } => {
                let value = serde_json::to_value(event).map_err(json_io)?;
                let object = value.as_object();
                let row = columns
                    .iter()
                    .map(|c| object.and_then(|o| o.get(c)).map_or_else(String::new, cell));
                out.write_record(row).map_err(csv_io)
            }
            EventWriter::Table { out, layout } => writeln!(out, "{}", layout.row(event)),
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

    /// Ends the output and hands back the writer, flushed, with how many events could
    /// not be written (iCalendar needs a start).
    pub(crate) fn finish(self) -> io::Result<(W, u64)> {
        let (mut out, skipped) = match self {
            EventWriter::Json { mut out, first } => {
                out.write_all(if first { b"]\n" } else { b"\n]\n" })?;
                (out, 0)
            }
            EventWriter::Ndjson { out } | EventWriter::Table { out, .. } => (out, 0),
            EventWriter::Csv { out, .. } => {
                let out = out
                    .into_inner()
                    .map_err(|e| io::Error::new(e.error().kind(), e.error().to_string()))?;
                (out, 0)
            }
            EventWriter::Ics(w) => {
                let skipped = w.skipped();
                (w.finish()?, skipped)
            }
        };
        out.flush()?;
        Ok((out, skipped))
    }
}

/// The event table's columns, sized once.
pub(crate) struct TableLayout {
    location: usize,
    /// `None`: no limit (stdout is not a terminal).
    title: Option<usize>,
}

/// `2026-12-01 09:30`, then `10:30` (or a date when the event ends another day).
const WHEN_WIDTH: usize = 16;
const UNTIL_WIDTH: usize = 16;
const ID_WIDTH: usize = 9;

impl TableLayout {
    fn for_width(width: Option<usize>) -> Self {
        match width {
            None => Self {
                location: 20,
                title: None,
            },
            Some(width) => {
                let fixed = WHEN_WIDTH + UNTIL_WIDTH + ID_WIDTH + 4 * 2;
                let rest = width.saturating_sub(fixed).max(20);
                let location = (rest / 3).clamp(8, 22);
                Self {
                    location,
                    title: Some(rest.saturating_sub(location + 2).max(10)),
                }
            }
        }
    }

    fn header(&self) -> String {
        self.line("ID", "START", "END", "LOCATION", "TITLE")
    }

    fn row(&self, event: &Event) -> String {
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
        self.line(&id, &start, &end, &place, &title)
    }

    fn line(&self, id: &str, start: &str, end: &str, place: &str, title: &str) -> String {
        let (id, place, title) = (sanitize(id), sanitize(place), sanitize(title));
        let title = match self.title {
            Some(w) => truncate_str(&title, w, "…").into_owned(),
            None => title,
        };
        format!(
            "{}  {}  {}  {}  {}",
            pad(&id, ID_WIDTH),
            pad(start, WHEN_WIDTH),
            pad(end, UNTIL_WIDTH),
            pad(&truncate_str(&place, self.location, "…"), self.location),
            title
        )
        .trim_end()
        .to_owned()
    }
}

/// Server text made safe for a terminal: every control character (newlines, tabs, and
/// ESC, which starts the sequences that recolour or rewrite the screen) becomes a space.
pub(crate) fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn short_datetime(t: jiff::civil::DateTime) -> String {
    t.strftime("%Y-%m-%d %H:%M").to_string()
}

/// Pads to `width` display columns (names may hold wide or combining characters).
fn pad(text: &str, width: usize) -> String {
    let used = measure_text_width(text);
    let mut out = text.to_owned();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(used)));
    out
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
    records: &[Value],
) -> Result<(), Failure> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, records).map_err(json_io)?;
            out.write_all(b"\n")?;
        }
        Format::Ndjson => {
            for record in records {
                serde_json::to_writer(&mut out, record).map_err(json_io)?;
                out.write_all(b"\n")?;
            }
        }
        Format::Csv => {
            let columns = columns_of(records);
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record(&columns).map_err(csv_io)?;
            for record in records {
                w.write_record(columns.iter().map(|c| member(record, c)))
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

/// A table of whole records: columns as wide as their widest cell, the widest shrunk
/// until the table fits the terminal.
fn write_table<W: Write>(out: &mut W, term: Terminal, records: &[Value]) -> io::Result<()> {
    let columns = columns_of(records);
    if columns.is_empty() {
        return Ok(());
    }
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| columns.iter().map(|c| sanitize(&member(r, c))).collect())
        .collect();
    let columns: Vec<String> = columns.iter().map(|c| sanitize(c)).collect();
    let mut widths: Vec<usize> = columns.iter().map(|c| measure_text_width(c)).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(measure_text_width(cell));
        }
    }
    if let Some(limit) = term.width {
        let gaps = 2 * (columns.len() - 1);
        while widths.iter().sum::<usize>() + gaps > limit {
            let Some((i, widest)) = widths.iter().copied().enumerate().max_by_key(|(_, w)| *w)
            else {
                break;
            };
            if widest <= 6 {
                break;
            }
            widths[i] = widest - 1;
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| pad(&truncate_str(c, *w, "…"), *w))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    writeln!(out, "{}", term.header(&line(&columns)))?;
    for row in &rows {
        writeln!(out, "{}", line(row))?;
    }
    Ok(())
}

/// One record, for people: a `member: value` line per member.
pub(crate) fn write_vertical<W: Write>(
    out: &mut W,
    term: Terminal,
    record: &Map<String, Value>,
) -> io::Result<()> {
    let width = record
        .keys()
        .map(|k| measure_text_width(&sanitize(k)))
        .max()
        .unwrap_or(0);
    for (key, value) in record {
        let text = sanitize(&cell(value));
        let text = match term.width {
            Some(w) => truncate_str(&text, w.saturating_sub(width + 2).max(10), "…").into_owned(),
            None => text,
        };
        writeln!(out, "{}  {text}", term.header(&pad(&sanitize(key), width)))?;
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
    use serde_json::json;

    fn event(v: Value) -> Event {
        serde_json::from_value(v).unwrap()
    }

    fn written(format: Format, events: &[Event], fields: &[String]) -> String {
        let term = Terminal {
            width: None,
            color: false,
        };
        let mut w = EventWriter::begin(format, Vec::new(), term, fields, "x.example").unwrap();
        for e in events {
            w.event(e).unwrap();
        }
        let (bytes, _) = w.finish().unwrap();
        String::from_utf8(bytes).unwrap()
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
    fn table_rows_mark_canceled_events_and_fit_the_width() {
        let layout = TableLayout::for_width(Some(80));
        let row = layout.row(&event(json!({
            "eventId": 5, "title": "A very long title that will not fit in the space left for it at all",
            "eventStart": "2026-12-01 09:00:00", "eventEnd": "2026-12-01 10:00:00",
            "locationName": "Main", "modified": "canceled"
        })));
        assert!(measure_text_width(&row) <= 80, "{row}");
        assert!(
            row.contains("[canceled]") && row.contains("2026-12-01 09:00") && row.contains("10:00")
        );
    }

    #[test]
    fn control_characters_in_server_text_become_spaces() {
        let title = "Red \x1b[31malert\nsecond line";
        let no_control = |text: &str| !text.chars().any(char::is_control);
        assert_eq!(sanitize(title), "Red  [31malert second line");
        for width in [None, Some(80)] {
            let row = TableLayout::for_width(width).row(&event(json!({
                "eventId": 5, "title": title, "locationName": "Main\x1b[2J"
            })));
            assert!(no_control(&row), "{row:?}");
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
