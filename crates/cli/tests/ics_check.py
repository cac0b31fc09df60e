"""Checks an iCalendar file read from stdin against RFC 5545, independently of attend.

Parsing, unfolding, unescaping and time-zone arithmetic are the `icalendar` package's
(PyPI; `.ci/run` installs it); the RFC rules it does not enforce are checked here. Every
time is turned into UTC through the file's own VTIMEZONE (never the system's tz
database), so a wrong VTIMEZONE shows as a wrong instant in the test that reads the
output: a JSON object with `problems` (empty when the file is valid) and one entry per
VEVENT.
"""

import datetime
import json
import sys

import icalendar

MAX_OCTETS = 75


def main():
    raw = sys.stdin.buffer.read()
    problems = []

    # §3.1: CRLF line ends, lines of at most 75 octets, no control characters but HTAB.
    if not raw.endswith(b"\r\n"):
        problems.append("the file does not end in CRLF")
    for number, line in enumerate(raw.split(b"\r\n")[:-1], start=1):
        if len(line) > MAX_OCTETS:
            problems.append(f"line {number} has {len(line)} octets")
        if any((c < 0x20 and c != 0x09) or c == 0x7F for c in line):
            problems.append(f"line {number} holds a control character: {line!r}")

    calendars = icalendar.Calendar.from_ical(raw, multiple=True)
    if len(calendars) != 1:
        problems.append(f"{len(calendars)} VCALENDARs, not one")
    calendar = calendars[0]
    try:
        calendar.validate()
    except Exception as error:  # noqa: BLE001 - every failure is a finding
        problems.append(f"calendar: {error}")
    for component in calendar.walk():
        for error in component.errors:
            problems.append(f"{component.name}: {error}")

    # §3.6.5: each VTIMEZONE and its observances.
    zones = {}
    for vtimezone in calendar.walk("VTIMEZONE"):
        tzid = str(vtimezone.get("TZID", ""))
        if not tzid:
            problems.append("a VTIMEZONE without TZID")
        observances = vtimezone.walk("STANDARD") + vtimezone.walk("DAYLIGHT")
        if not observances:
            problems.append(f"VTIMEZONE {tzid} has no STANDARD or DAYLIGHT")
        for observance in observances:
            for name in ("DTSTART", "TZOFFSETFROM", "TZOFFSETTO"):
                if name not in observance:
                    problems.append(f"VTIMEZONE {tzid}: an observance lacks {name}")
        # Built from the VTIMEZONE itself, never looked up by name.
        zones[tzid] = vtimezone.to_tz(lookup_tzid=False)
    used = set()
    for component in calendar.walk():
        for prop in component.property_items(recursive=False):
            tzid = getattr(prop[1], "params", {}).get("TZID")
            if tzid is not None:
                used.add(str(tzid))
    for tzid in sorted(used):
        if tzid not in zones:
            problems.append(f"TZID {tzid} is used but has no VTIMEZONE")

    def instant(prop, event_uid):
        """A DATE-TIME property as UTC, through the file's VTIMEZONE; a DATE as itself."""
        value = prop.dt
        if isinstance(value, datetime.datetime):
            tzid = prop.params.get("TZID")
            if tzid is not None:
                if tzid not in zones:
                    return None
                value = value.replace(tzinfo=None)
                value = zones[tzid].localize(value) if hasattr(zones[tzid], "localize") else value.replace(tzinfo=zones[tzid])
            elif value.tzinfo is None:
                problems.append(f"{event_uid}: floating time although the file has a zone")
                return value.isoformat()
            return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return value.isoformat()

    events = []
    uids = set()
    for vevent in calendar.walk("VEVENT"):
        uid = str(vevent.get("UID", ""))
        # §3.6.1: UID and DTSTAMP are required, DTSTART too without a METHOD that allows none.
        for name in ("UID", "DTSTAMP", "DTSTART"):
            if name not in vevent:
                problems.append(f"{uid or 'a VEVENT'} lacks {name}")
        if uid in uids:
            problems.append(f"UID {uid} appears twice")
        uids.add(uid)
        if "DTSTART" not in vevent:
            continue
        stamp = vevent.decoded("DTSTAMP")
        if stamp.utcoffset() != datetime.timedelta(0):
            problems.append(f"{uid}: DTSTAMP is not UTC")
        if "LAST-MODIFIED" in vevent and vevent.decoded("LAST-MODIFIED").utcoffset() != datetime.timedelta(0):
            problems.append(f"{uid}: LAST-MODIFIED is not UTC")
        sequence = vevent.get("SEQUENCE")
        if sequence is not None and not (0 <= int(sequence) <= 2**31 - 1):
            problems.append(f"{uid}: SEQUENCE {sequence} is not a non-negative INTEGER")
        start = instant(vevent["DTSTART"], uid)
        end = None
        if "DTEND" in vevent and "DURATION" in vevent:
            problems.append(f"{uid}: both DTEND and DURATION")
        if "DTEND" in vevent:
            end = instant(vevent["DTEND"], uid)
            same_type = type(vevent["DTSTART"].dt) is type(vevent["DTEND"].dt)
            if not same_type:
                problems.append(f"{uid}: DTSTART and DTEND are not of one value type")
            elif start is not None and end is not None and not end > start:
                problems.append(f"{uid}: DTEND {end} is not later than DTSTART {start}")
        events.append(
            {
                "uid": uid,
                "start": start,
                "end": end,
                "tzid": vevent["DTSTART"].params.get("TZID"),
                "status": str(vevent.get("STATUS", "")),
                "sequence": int(sequence) if sequence is not None else None,
                "last_modified": vevent.decoded("LAST-MODIFIED").strftime("%Y-%m-%dT%H:%M:%SZ")
                if "LAST-MODIFIED" in vevent
                else None,
                "summary": str(vevent.get("SUMMARY", "")),
            }
        )

    json.dump({"problems": problems, "zones": sorted(zones), "events": events}, sys.stdout)


if __name__ == "__main__":
    main()
