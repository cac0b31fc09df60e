//! iCalendar (RFC 5545) output, written by hand: the format is small, and doing it here
//! keeps chrono (which the icalendar crate needs) out of the binary. The rules that matter
//! for calendar apps to import the file:
//!
//! - lines end in CRLF (§3.1) and are folded at 75 octets, never inside a UTF-8 sequence,
//!   continuation lines starting with one space (§3.1);
//! - TEXT values escape `\`, `;`, `,` and newlines (§3.3.11);
//! - the API's times are the library's naive local wall times, so they are written as
//!   floating times (§3.3.5 form #1, no `Z`, no `TZID`): the calendar shows them at the
//!   same clock time, which is what the library means; all-day events are `DATE` values
//!   with an exclusive end (§3.6.1);
//! - `DTSTAMP` is UTC (§3.8.7.2) and `UID` is globally unique and stable across exports,
//!   so re-importing updates events instead of duplicating them (§3.8.4.7).

use std::io::{self, Write};

use communico::Event;
use jiff::civil::{Date, DateTime};

/// The longest a content line may be, in octets, without its CRLF (§3.1).
const MAX_LINE_OCTETS: usize = 75;

/// Writes one calendar, event by event.
pub(crate) struct IcsWriter<W: Write> {
    out: W,
    stamp: String,
    uid_domain: String,
    skipped: u64,
}

impl<W: Write> IcsWriter<W> {
    /// Starts the calendar. `uid_domain` makes the `UID`s unique to the API they came
    /// from (the base URL's host); `now` is the export time, for `DTSTAMP`.
    pub(crate) fn begin(
        mut out: W,
        uid_domain: &str,
        now: jiff::Timestamp,
        name: &str,
    ) -> io::Result<Self> {
        for line in [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//attend-rs//attend//EN",
            "CALSCALE:GREGORIAN",
            "METHOD:PUBLISH",
        ] {
            content_line(&mut out, line)?;
        }
        content_line(&mut out, &format!("X-WR-CALNAME:{}", escape_text(name)))?;
        Ok(Self {
            out,
            stamp: now.strftime("%Y%m%dT%H%M%SZ").to_string(),
            uid_domain: uid_domain.to_owned(),
            skipped: 0,
        })
    }

    /// Writes one event; events without an id or a start cannot be a `VEVENT` and are
    /// counted in [`IcsWriter::skipped`] instead.
    pub(crate) fn event(&mut self, event: &Event) -> io::Result<()> {
        let (Some(id), Some(start)) = (event.event_id, event.event_start) else {
            self.skipped += 1;
            return Ok(());
        };
        let out = &mut self.out;
        content_line(out, "BEGIN:VEVENT")?;
        content_line(
            out,
            &format!("UID:communico-event-{id}@{}", self.uid_domain),
        )?;
        content_line(out, &format!("DTSTAMP:{}", self.stamp))?;
        // The API's all-day convention: 00:00 to 23:59, possibly over several days.
        let all_day_until = event.event_end.filter(|end| {
            start.time() == jiff::civil::Time::midnight()
                && end.hour() == 23
                && end.minute() == 59
                && end.date() >= start.date()
        });
        if let Some(last) = all_day_until {
            content_line(
                out,
                &format!("DTSTART;VALUE=DATE:{}", ics_date(start.date())),
            )?;
            // DTEND of a DATE event is exclusive: the day after the last day.
            if let Ok(after) = last.date().tomorrow() {
                content_line(out, &format!("DTEND;VALUE=DATE:{}", ics_date(after)))?;
            }
        } else {
            content_line(out, &format!("DTSTART:{}", ics_datetime(start)))?;
            if let Some(end) = event.event_end.filter(|end| *end >= start) {
                content_line(out, &format!("DTEND:{}", ics_datetime(end)))?;
            }
        }
        let title = event.title.as_deref().unwrap_or("");
        content_line(out, &format!("SUMMARY:{}", escape_text(title)))?;
        let description = event
            .short_description
            .as_deref()
            .filter(|d| !d.trim().is_empty())
            .map(str::to_owned)
            .or_else(|| event.description.as_deref().map(strip_html))
            .filter(|d| !d.trim().is_empty());
        if let Some(description) = description {
            content_line(out, &format!("DESCRIPTION:{}", escape_text(&description)))?;
        }
        let place: Vec<&str> = [event.room_name.as_deref(), event.location_name.as_deref()]
            .into_iter()
            .flatten()
            .filter(|s| !s.trim().is_empty())
            .collect();
        if !place.is_empty() {
            content_line(out, &format!("LOCATION:{}", escape_text(&place.join(", "))))?;
        }
        if let Some(types) = event.types.as_ref().filter(|t| !t.is_empty()) {
            // CATEGORIES is a list: each item escaped, items joined by unescaped commas.
            let items: Vec<String> = types.iter().map(|t| escape_text(t)).collect();
            content_line(out, &format!("CATEGORIES:{}", items.join(",")))?;
        }
        if let Some(url) = event
            .event_registration_url
            .as_deref()
            .and_then(registration_url)
        {
            content_line(out, &format!("URL:{url}"))?;
        }
        // A rescheduled event no longer happens at this time: the API lists its
        // replacement as another event, so this one is cancelled too.
        let status = if event.is_canceled() || event.is_rescheduled() {
            "CANCELLED"
        } else {
            "CONFIRMED"
        };
        content_line(out, &format!("STATUS:{status}"))?;
        content_line(out, "END:VEVENT")
    }

    /// How many events could not be written (no id or no start).
    pub(crate) fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Ends the calendar and hands back the writer.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        content_line(&mut self.out, "END:VCALENDAR")?;
        Ok(self.out)
    }

    /// The writer, to flush between pages.
    pub(crate) fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }
}

fn ics_date(date: Date) -> String {
    format!("{:04}{:02}{:02}", date.year(), date.month(), date.day())
}

fn ics_datetime(t: DateTime) -> String {
    format!(
        "{}T{:02}{:02}{:02}",
        ics_date(t.date()),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The registration URL as a `URL` value (a URI, §3.8.4.6, not escaped TEXT): only an
/// http(s) URL that parses and holds no control characters, which would break the line.
fn registration_url(url: &str) -> Option<&str> {
    if url.chars().any(char::is_control) {
        return None;
    }
    let parsed = url::Url::parse(url).ok()?;
    matches!(parsed.scheme(), "http" | "https").then_some(url)
}

/// Escapes a TEXT value (§3.3.11). Carriage returns are dropped: a CRLF becomes `\n`.
pub(crate) fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            // Other control characters are not allowed in TEXT (§3.1, CONTROL).
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// Writes `line` folded at 75 octets, ending in CRLF (§3.1).
pub(crate) fn content_line<W: Write + ?Sized>(out: &mut W, line: &str) -> io::Result<()> {
    let mut rest = line;
    let mut limit = MAX_LINE_OCTETS;
    loop {
        if rest.len() <= limit {
            out.write_all(rest.as_bytes())?;
            return out.write_all(b"\r\n");
        }
        let mut cut = limit;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.write_all(&rest.as_bytes()[..cut])?;
        out.write_all(b"\r\n ")?;
        rest = &rest[cut..];
        // The leading space of a continuation line counts toward its 75 octets.
        limit = MAX_LINE_OCTETS - 1;
    }
}

/// Text of an HTML description: tags dropped, the common entities decoded, whitespace
/// runs collapsed. Good enough for a calendar's notes; the HTML itself is in `json`.
fn strip_html(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' if in_tag => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let decoded = text
        .replace("&nbsp;", " ")
        .replace("&hellip;", "…")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(line: &str) -> String {
        let mut out = Vec::new();
        content_line(&mut out, line).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn text_escaping_follows_rfc_5545() {
        let cases = [
            ("plain", "plain"),
            ("a,b;c", "a\\,b\\;c"),
            ("back\\slash", "back\\\\slash"),
            ("two\r\nlines\nthree", "two\\nlines\\nthree"),
            ("bell\u{7}", "bell"),
        ];
        for (input, want) in cases {
            assert_eq!(escape_text(input), want, "{input:?}");
        }
    }

    #[test]
    fn registration_urls_must_parse_and_hold_no_control_characters() {
        let cases = [
            ("https://library.example/register?a=1&b=2", true),
            ("http://library.example/", true),
            ("https://library.example/\r\nX-EVIL:1", false),
            ("https://library.example/\x1b[31m", false),
            ("https://", false),
            ("javascript:alert(1)", false),
            ("not a url", false),
        ];
        for (input, kept) in cases {
            assert_eq!(registration_url(input).is_some(), kept, "{input:?}");
        }
    }

    #[test]
    fn control_characters_never_reach_a_content_line() {
        for title in ["red \x1b[31mtitle", "two\nlines", "cr\rlf"] {
            let escaped = escape_text(title);
            assert!(
                !escaped.chars().any(|c| c.is_control()),
                "{title:?} gave {escaped:?}"
            );
        }
    }

    #[test]
    fn rescheduled_and_canceled_events_are_cancelled() {
        let now = jiff::Timestamp::from_second(1_800_000_000).unwrap();
        for (modified, want) in [
            ("canceled", "STATUS:CANCELLED"),
            ("rescheduled", "STATUS:CANCELLED"),
            ("", "STATUS:CONFIRMED"),
        ] {
            let event: Event = serde_json::from_value(serde_json::json!({
                "eventId": 1, "eventStart": "2026-12-01 09:30:00", "modified": modified
            }))
            .unwrap();
            let mut w = IcsWriter::begin(Vec::new(), "example.org", now, "Events").unwrap();
            w.event(&event).unwrap();
            let text = String::from_utf8(w.finish().unwrap()).unwrap();
            assert!(
                text.contains(&format!("{want}\r\n")),
                "{modified:?}: {text}"
            );
        }
    }

    #[test]
    fn short_lines_are_not_folded() {
        assert_eq!(folded("SUMMARY:Storytime"), "SUMMARY:Storytime\r\n");
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let line = format!("DESCRIPTION:{}", "Résumé workshop é ".repeat(20));
        let out = folded(&line);
        for physical in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(
                physical.len() <= 75,
                "{} octets: {physical:?}",
                physical.len()
            );
        }
        // Unfolding (§3.1: remove CRLF followed by one space) gives the line back.
        assert_eq!(out.replace("\r\n ", ""), format!("{line}\r\n"));
    }

    #[test]
    fn html_is_reduced_to_text() {
        assert_eq!(
            strip_html("<p>Do you love to knit&hellip;</p><p>Tea &amp; cake</p>"),
            "Do you love to knit… Tea & cake"
        );
    }

    #[test]
    fn events_become_vevents_with_floating_times_and_all_day_dates() {
        let timed: Event = serde_json::from_str(
            r#"{"eventId": 1, "title": "Reading, Club; \"x\"", "eventStart": "2026-12-01 09:30:00",
                "eventEnd": "2026-12-01 10:30:00", "locationName": "Main", "roomName": "Room A",
                "modified": "canceled"}"#,
        )
        .unwrap();
        let all_day: Event = serde_json::from_str(
            r#"{"eventId": 2, "title": "Closed", "eventStart": "2026-12-25 00:00:00",
                "eventEnd": "2026-12-25 23:59:00"}"#,
        )
        .unwrap();
        let no_start: Event =
            serde_json::from_str(r#"{"eventId": 3, "eventStart": null}"#).unwrap();
        let now = jiff::Timestamp::from_second(1_800_000_000).unwrap();
        let mut w = IcsWriter::begin(Vec::new(), "example.org", now, "Events").unwrap();
        for e in [&timed, &all_day, &no_start] {
            w.event(e).unwrap();
        }
        assert_eq!(w.skipped(), 1);
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        for want in [
            "UID:communico-event-1@example.org\r\n",
            "DTSTART:20261201T093000\r\n",
            "DTEND:20261201T103000\r\n",
            "SUMMARY:Reading\\, Club\\; \"x\"\r\n",
            "LOCATION:Room A\\, Main\r\n",
            "STATUS:CANCELLED\r\n",
            "STATUS:CONFIRMED\r\n",
            "DTSTART;VALUE=DATE:20261225\r\n",
            "DTEND;VALUE=DATE:20261226\r\n",
            "DTSTAMP:20270115T080000Z\r\n",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        assert!(text.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(text.ends_with("END:VCALENDAR\r\n"));
        assert_eq!(text.matches("BEGIN:VEVENT").count(), 2);
    }
}
