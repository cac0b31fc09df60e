//! iCalendar (RFC 5545) output, written by hand: the format is small, and doing it here
//! keeps chrono (which the icalendar crate needs) out of the binary. The rules that matter
//! for calendar apps to import the file:
//!
//! - lines end in CRLF (§3.1) and are folded at 75 octets, never inside a UTF-8 sequence,
//!   continuation lines starting with one space (§3.1);
//! - TEXT values escape `\`, `;`, `,` and newlines (§3.3.11);
//! - the API's times are the library's naive local wall times. With the library's zone
//!   known (`--tz`, or the system's), they are written with `TZID` (§3.2.19, §3.3.5 form
//!   #3) and the file holds a `VTIMEZONE` for that zone (§3.6.5), generated from the tz
//!   database's transitions over the days asked for, so a calendar in another zone shows
//!   each event at the right hour. With no zone known they stay floating (form #1).
//!   All-day events are `DATE` values with an exclusive end (§3.6.1);
//! - `DTEND` is written only when it is after `DTSTART` (§3.6.1: "MUST be later");
//! - `DTSTAMP` and `LAST-MODIFIED` are UTC (§3.8.7.2, §3.8.7.3); `UID` is globally unique
//!   and stable across exports, and `SEQUENCE` (§3.8.7.4) grows with `eventLastUpdated`
//!   and with a cancellation, so re-importing a file applies edits and cancellations
//!   instead of duplicating or ignoring them (§3.8.4.7, RFC 5546 §2.1.4);
//! - an event id seen twice (pages that shifted while being read) gives one `VEVENT`.

use std::collections::HashSet;
use std::io::{self, Write};

use communico::Event;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{Offset, TimeZone};
use jiff::{SignedDuration, Span, Timestamp};

use crate::tz::Zone;

/// The longest a content line may be, in octets, without its CRLF (§3.1).
const MAX_LINE_OCTETS: usize = 75;

/// Writes one calendar, event by event.
pub(crate) struct IcsWriter<W: Write> {
    out: W,
    stamp: String,
    uid_domain: String,
    zone: Option<Zone>,
    seen: HashSet<u64>,
    skipped: u64,
    repeated: u64,
}

impl<W: Write> IcsWriter<W> {
    /// Starts the calendar. `uid_domain` makes the `UID`s unique to the API they came
    /// from (the base URL's host); `now` is the export time, for `DTSTAMP`; `zone` the
    /// library's zone, if known, whose `VTIMEZONE` covers `days` (first, last).
    pub(crate) fn begin(
        mut out: W,
        uid_domain: &str,
        now: Timestamp,
        name: &str,
        zone: Option<&Zone>,
        days: (Date, Date),
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
        if let Some(zone) = zone {
            content_line(
                &mut out,
                &format!("X-WR-TIMEZONE:{}", escape_text(zone.name())),
            )?;
            write_vtimezone(&mut out, zone, days)?;
        }
        Ok(Self {
            out,
            stamp: utc(now),
            uid_domain: uid_domain.to_owned(),
            zone: zone.cloned(),
            seen: HashSet::new(),
            skipped: 0,
            repeated: 0,
        })
    }

    /// Writes one event; events without an id or a start cannot be a `VEVENT` and are
    /// counted in [`IcsWriter::skipped`] instead, and an id already written is left out
    /// (counted in [`IcsWriter::repeated`]).
    pub(crate) fn event(&mut self, event: &Event) -> io::Result<()> {
        let (Some(id), Some(start)) = (event.event_id, event.event_start) else {
            self.skipped += 1;
            return Ok(());
        };
        if !self.seen.insert(id) {
            self.repeated += 1;
            return Ok(());
        }
        let tzid = self
            .zone
            .as_ref()
            .map(|z| format!(";TZID={}", param_value(z.name())))
            .unwrap_or_default();
        let out = &mut self.out;
        content_line(out, "BEGIN:VEVENT")?;
        content_line(
            out,
            &format!("UID:communico-event-{id}@{}", self.uid_domain),
        )?;
        content_line(out, &format!("DTSTAMP:{}", self.stamp))?;
        // The API's all-day convention: 00:00 to 23:59, possibly over several days.
        let all_day_until = event.event_end.filter(|end| {
            start.time() == Time::midnight()
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
            content_line(out, &format!("DTSTART{tzid}:{}", ics_datetime(start)))?;
            // §3.6.1: DTEND must be later than DTSTART; without it the event is the
            // instant DTSTART.
            if let Some(end) = event.event_end.filter(|end| *end > start) {
                content_line(out, &format!("DTEND{tzid}:{}", ics_datetime(end)))?;
            }
        }
        if let Some(updated) = event.event_last_updated {
            content_line(out, &format!("SEQUENCE:{}", sequence(updated, event)))?;
            // LAST-MODIFIED is UTC: only with the zone the wall time is in.
            if let Some(zone) = &self.zone
                && let Ok(at) = zone.tz().to_ambiguous_timestamp(updated).compatible()
            {
                content_line(out, &format!("LAST-MODIFIED:{}", utc(at)))?;
            }
        } else {
            content_line(out, &format!("SEQUENCE:{}", u8::from(cancelled(event))))?;
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
        let status = if cancelled(event) {
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

    /// How many events were left out because their id was already written.
    pub(crate) fn repeated(&self) -> u64 {
        self.repeated
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

/// A rescheduled event no longer happens at this time: the API lists its replacement as
/// another event, so this one is cancelled too.
fn cancelled(event: &Event) -> bool {
    event.is_canceled() || event.is_rescheduled()
}

/// The revision number (§3.8.7.4): twice the minutes from 2000-01-01 00:00 to
/// `eventLastUpdated` (wall time: the same whatever `--tz` says), plus one for a
/// cancelled event, so a cancellation is a newer revision even when the API did not move
/// `eventLastUpdated`. Within an INTEGER (§3.3.8) until the year 4000.
fn sequence(updated: DateTime, event: &Event) -> i32 {
    let epoch = jiff::civil::date(2000, 1, 1).to_datetime(Time::midnight());
    let minutes = updated.duration_since(epoch).as_secs().max(0) / 60;
    let value = minutes
        .saturating_mul(2)
        .saturating_add(i64::from(cancelled(event)));
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// A UTC DATE-TIME (§3.3.5 form #2).
fn utc(at: Timestamp) -> String {
    at.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// A parameter value (§3.2): quoted when it holds `:`, `;` or `,`; `"` and control
/// characters, which no parameter value may hold, dropped.
fn param_value(text: &str) -> String {
    let clean: String = text
        .chars()
        .filter(|c| *c != '"' && !c.is_control())
        .collect();
    if clean.contains([':', ';', ',']) {
        format!("\"{clean}\"")
    } else {
        clean
    }
}

/// A UTC offset (§3.3.14): `+HHMM`, or `+HHMMSS` when it has seconds.
fn utc_offset(offset: Offset) -> String {
    let total = offset.seconds();
    let sign = if total < 0 { '-' } else { '+' };
    let total = total.unsigned_abs();
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if s == 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}{s:02}")
    }
}

/// The `VTIMEZONE` of `zone` (§3.6.5) for events on `days`: the observance in effect two
/// days before the first day (events the API lists may start a little earlier), then
/// one `STANDARD` or `DAYLIGHT` per transition until a year after the last day (events
/// may end later; a year covers every multi-day event the API lists). Each observance
/// has one onset: `DTSTART` is the local time of the transition in the offset before it
/// (`TZOFFSETFROM`), as §3.6.5 defines. A zone without transitions (UTC) is one
/// `STANDARD`.
fn write_vtimezone<W: Write + ?Sized>(
    out: &mut W,
    zone: &Zone,
    days: (Date, Date),
) -> io::Result<()> {
    let tz = zone.tz();
    let at_midnight_utc = |day: Date, shift: i64| {
        day.checked_add(Span::new().days(shift))
            .unwrap_or(day)
            .to_zoned(TimeZone::UTC)
            .map_or(Timestamp::UNIX_EPOCH, |z| z.timestamp())
    };
    let from = at_midnight_utc(days.0, -2);
    let until = at_midnight_utc(days.1, 366);
    let second = SignedDuration::from_secs(1);
    let mut onsets: Vec<(Timestamp, Offset, bool, String)> = Vec::new();
    // The transition in effect at `from` (one at exactly `from` included).
    if let Some(t) = tz
        .preceding(from.checked_add(second).unwrap_or(from))
        .next()
    {
        onsets.push((
            t.timestamp(),
            t.offset(),
            t.dst().is_dst(),
            t.abbreviation().to_owned(),
        ));
    }
    for t in tz.following(from).take_while(|t| t.timestamp() <= until) {
        onsets.push((
            t.timestamp(),
            t.offset(),
            t.dst().is_dst(),
            t.abbreviation().to_owned(),
        ));
    }
    content_line(out, "BEGIN:VTIMEZONE")?;
    content_line(out, &format!("TZID:{}", zone.name()))?;
    if onsets.is_empty() {
        let info = tz.to_offset_info(from);
        let (offset, dst, abbreviation) = (info.offset(), info.dst(), info.abbreviation());
        let kind = if dst.is_dst() { "DAYLIGHT" } else { "STANDARD" };
        content_line(out, &format!("BEGIN:{kind}"))?;
        content_line(out, "DTSTART:19700101T000000")?;
        content_line(out, &format!("TZOFFSETFROM:{}", utc_offset(offset)))?;
        content_line(out, &format!("TZOFFSETTO:{}", utc_offset(offset)))?;
        content_line(out, &format!("TZNAME:{}", escape_text(abbreviation)))?;
        content_line(out, &format!("END:{kind}"))?;
    }
    for (at, to, dst, abbreviation) in onsets {
        let before = tz.to_offset(at.checked_sub(second).unwrap_or(at));
        let onset = before.to_datetime(at);
        let kind = if dst { "DAYLIGHT" } else { "STANDARD" };
        content_line(out, &format!("BEGIN:{kind}"))?;
        content_line(out, &format!("DTSTART:{}", ics_datetime(onset)))?;
        content_line(out, &format!("TZOFFSETFROM:{}", utc_offset(before)))?;
        content_line(out, &format!("TZOFFSETTO:{}", utc_offset(to)))?;
        if !abbreviation.is_empty() {
            content_line(out, &format!("TZNAME:{}", escape_text(&abbreviation)))?;
        }
        content_line(out, &format!("END:{kind}"))?;
    }
    content_line(out, "END:VTIMEZONE")
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

    const DAYS: (Date, Date) = (
        jiff::civil::date(2026, 12, 1),
        jiff::civil::date(2026, 12, 31),
    );

    fn calendar(zone: Option<&Zone>, days: (Date, Date), events: &[serde_json::Value]) -> String {
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let mut w = IcsWriter::begin(Vec::new(), "example.org", now, "Events", zone, days).unwrap();
        for e in events {
            w.event(&serde_json::from_value(e.clone()).unwrap())
                .unwrap();
        }
        String::from_utf8(w.finish().unwrap()).unwrap()
    }

    #[test]
    fn with_a_zone_times_name_it_and_the_file_defines_it() {
        let zone = Zone::named("America/New_York").unwrap();
        let text = calendar(
            Some(&zone),
            (
                jiff::civil::date(2026, 3, 1),
                jiff::civil::date(2026, 3, 31),
            ),
            &[serde_json::json!({
                "eventId": 1, "eventStart": "2026-03-09 09:30:00", "eventEnd": "2026-03-09 10:30:00",
                "eventLastUpdated": "2026-02-01 08:00:00"
            })],
        );
        for want in [
            "BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\n",
            // In effect on March 1: EST since November 2025.
            "BEGIN:STANDARD\r\nDTSTART:20251102T020000\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nTZNAME:EST\r\n",
            // The change to EDT on March 8, 2026, at 02:00 local (standard) time.
            "BEGIN:DAYLIGHT\r\nDTSTART:20260308T020000\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nTZNAME:EDT\r\n",
            "DTSTART;TZID=America/New_York:20260309T093000\r\n",
            "DTEND;TZID=America/New_York:20260309T103000\r\n",
            // 08:00 EST is 13:00 UTC.
            "LAST-MODIFIED:20260201T130000Z\r\n",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        assert!(text.find("END:VTIMEZONE").unwrap() < text.find("BEGIN:VEVENT").unwrap());
    }

    #[test]
    fn a_zone_without_transitions_is_one_standard_observance() {
        let zone = Zone::named("UTC").unwrap();
        let text = calendar(Some(&zone), DAYS, &[]);
        assert_eq!(text.matches("BEGIN:STANDARD").count(), 1, "{text}");
        assert!(
            text.contains("TZOFFSETFROM:+0000\r\nTZOFFSETTO:+0000\r\n"),
            "{text}"
        );
        assert!(!text.contains("DAYLIGHT"));
    }

    #[test]
    fn offsets_with_seconds_keep_them() {
        assert_eq!(
            utc_offset(Offset::from_seconds(-(4 * 3600 + 56 * 60 + 2)).unwrap()),
            "-045602"
        );
        assert_eq!(
            utc_offset(Offset::from_seconds(5 * 3600 + 30 * 60).unwrap()),
            "+0530"
        );
    }

    #[test]
    fn an_end_equal_to_the_start_is_left_out() {
        let text = calendar(
            None,
            DAYS,
            &[serde_json::json!({
                "eventId": 1, "eventStart": "2026-12-01 09:30:00", "eventEnd": "2026-12-01 09:30:00"
            })],
        );
        assert!(text.contains("DTSTART:20261201T093000\r\n"));
        assert!(!text.contains("DTEND"), "{text}");
    }

    #[test]
    fn a_repeated_event_id_gives_one_vevent() {
        let event = serde_json::json!({"eventId": 9, "eventStart": "2026-12-01 09:30:00"});
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let mut w = IcsWriter::begin(Vec::new(), "example.org", now, "Events", None, DAYS).unwrap();
        for _ in 0..3 {
            w.event(&serde_json::from_value(event.clone()).unwrap())
                .unwrap();
        }
        assert_eq!(w.repeated(), 2);
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        assert_eq!(text.matches("BEGIN:VEVENT").count(), 1);
    }

    #[test]
    fn sequence_grows_with_edits_and_cancellation() {
        let at = |updated: &str, modified: &str| {
            let event: Event = serde_json::from_value(serde_json::json!({
                "eventId": 1, "eventStart": "2026-12-01 09:30:00",
                "eventLastUpdated": updated, "modified": modified
            }))
            .unwrap();
            sequence(event.event_last_updated.unwrap(), &event)
        };
        let first = at("2026-11-01 10:00:00", "");
        let cancelled = at("2026-11-01 10:00:00", "canceled");
        let edited = at("2026-11-01 10:01:00", "");
        assert!(
            first < cancelled && cancelled < edited,
            "{first} {cancelled} {edited}"
        );
        assert!(at("3999-12-31 23:59:00", "canceled") < i32::MAX);
    }

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
            let mut w =
                IcsWriter::begin(Vec::new(), "example.org", now, "Events", None, DAYS).unwrap();
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
        let mut w = IcsWriter::begin(Vec::new(), "example.org", now, "Events", None, DAYS).unwrap();
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
