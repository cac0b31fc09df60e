//! The deterministic data set: compact records generated from a seed, rendered to the
//! API's JSON only for the page being answered, so 100,000 events cost a few megabytes.
//!
//! The mix follows the reference's sample shapes (§6): canceled (E6), rescheduled (E7),
//! all-day (E8), multi-day (E9), external venue with HTML (E10), private staff events
//! (E11), images present or null (E12), sparse strings and nulls (E13), names with
//! special characters (E14), HTML descriptions and tags (E15), null times (E16), and
//! every registration state (E3, E4, E5).

use jiff::civil::{Date, DateTime, Time};
use serde_json::{Map, Value, json};

pub(crate) const LOCATIONS: &[(u64, &str)] = &[
    (415, "Main"),
    (416, "Birmingham"),
    (417, "Heatherdowns"),
    (418, "Holland"),
    (419, "Kent"),
    (420, "Lagrange"),
    (421, "Locke"),
    (422, "Maumee"),
    (423, "Mott"),
    (424, "Oregon"),
    (425, "Point Place"),
    (426, "Reynolds Corners"),
    (427, "Sanger"),
    (428, "South"),
    (429, "Sylvania"),
    (430, "Toledo Heights"),
    (431, "Washington"),
    (432, "Waterville"),
    (433, "King Road"),
    (434, "West Toledo"),
];

pub(crate) const TYPES: &[&str] = &[
    "Family Program",
    "Bus Trips",
    "Storytime",
    "Book Groups",
    "Computers/Technology",
    "Art/Crafts/Hobbies",
    "Lectures & Discussions",
    "Music",
];

pub(crate) const AGES: &[&str] = &[
    "Young Children (0-5)",
    "Kids (6-10)",
    "Teens (11-17)",
    "Adults (18+)",
    "All Ages",
];

const TITLES: &[(&str, &str)] = &[
    ("Storytime", ""),
    ("Reading Club", "Seasons Library reading club"),
    ("Knitting Club", "Needlechat"),
    ("Lego Club", ""),
    ("Tech Help", "One-on-one"),
    ("Book Group: \"The Overstory\"", ""),
    ("Bus Trip to the Art Museum", "Sign-up required"),
    ("Teen Gaming", ""),
    ("Résumé Workshop", "Jobs & careers"),
    ("Music in the Stacks", ""),
    ("Maker Day", "#NJMakersDay"),
    ("Lunar New Year Celebration", ""),
];

/// A member's value, computed only if the member was asked for.
type LazyValue<'a> = Box<dyn Fn() -> Value + 'a>;

/// What kind of special case an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Special {
    None,
    Canceled,
    Rescheduled,
    AllDay,
    MultiDay,
    External,
    Private,
    NullTimes,
    Draft,
}

/// How registration works for an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Registration {
    DropIn,
    Open,
    Full,
    Waitlist,
    ThirdParty,
}

/// One event, compactly.
#[derive(Debug, Clone)]
pub(crate) struct EventRec {
    pub(crate) id: u64,
    pub(crate) recurring_id: u64,
    pub(crate) day: Date,
    pub(crate) start: DateTime,
    pub(crate) end: DateTime,
    pub(crate) special: Special,
    pub(crate) new_event_id: Option<u64>,
    pub(crate) location: u8,
    pub(crate) room: Option<u64>,
    pub(crate) title: u8,
    pub(crate) types: u8,
    pub(crate) ages: u8,
    pub(crate) ages_null: bool,
    pub(crate) registration: Registration,
    pub(crate) max_attendees: u32,
    pub(crate) registrants: u32,
    pub(crate) image: bool,
    pub(crate) updated: DateTime,
    /// `modified`: `""`, `"canceled"` or `"rescheduled"` (reference §3, E6, E7).
    pub(crate) modified: &'static str,
    /// A title set through the mutation API, replacing the generated one.
    pub(crate) title_text: Option<Box<str>>,
    /// A subtitle set through the mutation API, replacing the generated one.
    pub(crate) sub_title_text: Option<Box<str>>,
}

/// One reservation, compactly.
#[derive(Debug, Clone)]
pub(crate) struct ReservationRec {
    pub(crate) id: u64,
    pub(crate) room: u64,
    pub(crate) location: u8,
    pub(crate) event: Option<u64>,
    pub(crate) start: DateTime,
    pub(crate) end: DateTime,
    pub(crate) status: &'static str,
    pub(crate) title: u8,
}

/// The whole data set.
#[derive(Debug)]
pub(crate) struct DataSet {
    /// Ordered by day, then as inserted (generated events by id).
    pub(crate) events: Vec<EventRec>,
    pub(crate) reservations: Vec<ReservationRec>,
    /// Bumped by every change, so that cached query results of an older state are not
    /// served.
    pub(crate) generation: u64,
    /// The next id to give an added event.
    pub(crate) next_id: u64,
}

/// SplitMix64: a tiny, good-enough deterministic mixer.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(crate) fn rooms_of(location: u8) -> [u64; 2] {
    let base = 5000 + u64::from(location) * 10;
    [base + 1, base + 2]
}

pub(crate) fn room_name(room: u64) -> &'static str {
    if room % 10 == 1 {
        "Meeting Room A"
    } else {
        "Community Room"
    }
}

pub(crate) fn first_event_id() -> u64 {
    100_000
}

fn at(day: Date, hour: i8, minute: i8) -> DateTime {
    day.to_datetime(Time::new(hour, minute, 0, 0).unwrap_or(Time::midnight()))
}

fn add_days(day: Date, days: i64) -> Date {
    day.checked_add(jiff::Span::new().days(days)).unwrap_or(day)
}

fn add_minutes(t: DateTime, minutes: i64) -> DateTime {
    t.checked_add(jiff::Span::new().minutes(minutes))
        .unwrap_or(t)
}

impl DataSet {
    pub(crate) fn generate(count: usize, first_day: Date, per_day: u32, seed: u64) -> DataSet {
        let per_day = u64::from(per_day.max(1));
        let mut events = Vec::with_capacity(count);
        for i in 0..count as u64 {
            let h = mix(seed ^ i.wrapping_mul(0x2545_F491_4F6C_DD1D));
            let day = add_days(first_day, (i / per_day) as i64);
            let id = first_event_id() + i;
            let special = match (h >> 16) % 100 {
                0..=2 => Special::Canceled,
                3..=4 => Special::Rescheduled,
                5..=7 => Special::AllDay,
                8..=9 => Special::MultiDay,
                10..=11 => Special::External,
                12..=13 => Special::Private,
                14 => Special::NullTimes,
                15 => Special::Draft,
                _ => Special::None,
            };
            let hour = 9 + (h % 11) as i8;
            let minute = [0, 15, 30, 45][((h >> 8) % 4) as usize];
            let start = at(day, hour, minute);
            let (start, end) = match special {
                Special::AllDay => (at(day, 0, 0), at(day, 23, 59)),
                Special::MultiDay => (at(day, 10, 0), at(add_days(day, 4), 16, 0)),
                _ => (start, add_minutes(start, 30 + 15 * ((h >> 12) % 7) as i64)),
            };
            let location = ((h >> 24) % LOCATIONS.len() as u64) as u8;
            let room = match special {
                Special::AllDay | Special::External => None,
                _ if (h >> 29).is_multiple_of(7) => None,
                _ => Some(rooms_of(location)[((h >> 31) % 2) as usize]),
            };
            let registration = match (h >> 33) % 5 {
                0 => Registration::DropIn,
                1 => Registration::Open,
                2 => Registration::Full,
                3 => Registration::Waitlist,
                _ => Registration::ThirdParty,
            };
            let max_attendees = match registration {
                Registration::DropIn | Registration::ThirdParty => 0,
                _ => 10 + ((h >> 37) % 4) as u32 * 5,
            };
            let registrants = match registration {
                Registration::Open => ((h >> 40) % u64::from(max_attendees.max(1))) as u32,
                Registration::Full | Registration::Waitlist => max_attendees,
                _ => 0,
            };
            let types = {
                let a = 1u8 << ((h >> 43) % TYPES.len() as u64);
                let b = if (h >> 47).is_multiple_of(3) {
                    1u8 << ((h >> 49) % TYPES.len() as u64)
                } else {
                    0
                };
                a | b
            };
            let ages = {
                let a = 1u8 << ((h >> 52) % AGES.len() as u64);
                let b = if (h >> 55).is_multiple_of(3) {
                    1u8 << ((h >> 57) % AGES.len() as u64)
                } else {
                    0
                };
                a | b
            };
            let new_event_id = (special == Special::Rescheduled)
                .then(|| id + per_day)
                .filter(|n| *n < first_event_id() + count as u64);
            events.push(EventRec {
                id,
                recurring_id: 3000 + (h >> 3) % 997,
                day,
                start,
                end,
                special,
                new_event_id,
                location,
                room,
                title: ((h >> 59) % TITLES.len() as u64) as u8,
                types,
                ages,
                ages_null: (h >> 61).is_multiple_of(8),
                registration,
                max_attendees,
                registrants,
                image: (h >> 62).is_multiple_of(2),
                updated: add_minutes(at(add_days(first_day, -30), 9, 0), (i % 40_000) as i64 * 7),
                modified: match special {
                    Special::Canceled => "canceled",
                    Special::Rescheduled => "rescheduled",
                    _ => "",
                },
                title_text: None,
                sub_title_text: None,
            });
        }
        let mut reservations = Vec::new();
        for e in events.iter().filter(|e| e.id.is_multiple_of(3)) {
            let Some(room) = e.room else { continue };
            let h = mix(seed ^ e.id ^ 0xABCD);
            reservations.push(ReservationRec {
                id: 900_000 + e.id,
                room,
                location: e.location,
                event: (!h.is_multiple_of(4)).then_some(e.id),
                start: e.start,
                end: e.end,
                status: match (h >> 8) % 10 {
                    0..=6 => "approved",
                    7..=8 => "pending",
                    _ => "declined",
                },
                title: e.title,
            });
        }
        DataSet {
            events,
            reservations,
            generation: 0,
            next_id: first_event_id() + count as u64,
        }
    }
}

/// The members of an event that the mutation API sets.
pub(crate) struct Fields<'a> {
    pub(crate) title: &'a str,
    pub(crate) sub_title: &'a str,
    pub(crate) start: DateTime,
    pub(crate) end: DateTime,
    pub(crate) location: u8,
}

/// The index in [`LOCATIONS`] of a `locationId`.
pub(crate) fn location_index(location_id: u64) -> Option<u8> {
    LOCATIONS
        .iter()
        .position(|(id, _)| *id == location_id)
        .and_then(|i| u8::try_from(i).ok())
}

impl DataSet {
    /// Where the event `id` is stored.
    pub(crate) fn position(&self, id: u64) -> Option<usize> {
        // Until events are inserted or removed, a generated event sits at its id's offset.
        let guess = id
            .checked_sub(first_event_id())
            .and_then(|i| usize::try_from(i).ok());
        if let Some(i) = guess.filter(|&i| self.events.get(i).is_some_and(|e| e.id == id)) {
            return Some(i);
        }
        self.events.iter().position(|e| e.id == id)
    }

    pub(crate) fn get(&self, id: u64) -> Option<&EventRec> {
        self.position(id).map(|i| &self.events[i])
    }

    /// The latest `eventLastUpdated`, one second on from every earlier one and not
    /// before `now`.
    fn next_update(&self, now: DateTime) -> DateTime {
        let latest = self.events.iter().map(|e| e.updated).max();
        match latest {
            Some(latest) if latest >= now => latest
                .checked_add(jiff::Span::new().seconds(1))
                .unwrap_or(latest),
            _ => now,
        }
    }

    /// Stores `rec` after every event of its day (or at `at`, when that keeps the days in
    /// order), and returns its position.
    fn insert(&mut self, rec: EventRec, at: Option<usize>) -> usize {
        let fits = |i: usize| {
            i <= self.events.len()
                && (i == 0 || self.events[i - 1].day <= rec.day)
                && self.events.get(i).is_none_or(|e| e.day >= rec.day)
        };
        let at = match at.filter(|&i| fits(i)) {
            Some(i) => i,
            None => self.events.partition_point(|e| e.day <= rec.day),
        };
        self.events.insert(at, rec);
        self.generation += 1;
        at
    }

    /// Adds a plain published, drop-in event and returns its id. `at` asks for a storage
    /// position (the default order); it is used when it keeps the days in order.
    pub(crate) fn add(&mut self, fields: &Fields<'_>, now: DateTime, at: Option<usize>) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let rec = EventRec {
            id,
            recurring_id: 3000 + id % 997,
            day: fields.start.date(),
            start: fields.start,
            end: fields.end,
            special: Special::None,
            new_event_id: None,
            location: fields.location,
            room: Some(rooms_of(fields.location)[0]),
            title: 0,
            types: 1,
            ages: 1 << (AGES.len() - 1),
            ages_null: false,
            registration: Registration::DropIn,
            max_attendees: 0,
            registrants: 0,
            image: false,
            updated: self.next_update(now),
            modified: "",
            title_text: Some(fields.title.into()),
            sub_title_text: Some(fields.sub_title.into()),
        };
        self.insert(rec, at);
        id
    }

    /// Applies `fields` to the event at `position`, moving it when its day changes.
    pub(crate) fn update(&mut self, position: usize, fields: &Fields<'_>, now: DateTime) {
        let updated = self.next_update(now);
        let mut rec = self.events.remove(position);
        if rec.title() != fields.title {
            rec.title_text = Some(fields.title.into());
        }
        if rec.sub_title() != fields.sub_title {
            rec.sub_title_text = Some(fields.sub_title.into());
        }
        if rec.start != fields.start || rec.end != fields.end {
            if rec.special == Special::NullTimes {
                rec.special = Special::None;
            }
            rec.start = fields.start;
            rec.end = fields.end;
        }
        if rec.location != fields.location {
            rec.location = fields.location;
            rec.room = rec.room.map(|_| rooms_of(fields.location)[0]);
        }
        // Same day: same place; another day: after the events already on it.
        let keep = (rec.day == fields.start.date()).then_some(position);
        rec.day = fields.start.date();
        rec.updated = updated;
        self.insert(rec, keep);
    }

    /// Marks the event at `position` canceled.
    pub(crate) fn cancel(&mut self, position: usize, now: DateTime) {
        let updated = self.next_update(now);
        let rec = &mut self.events[position];
        rec.modified = "canceled";
        rec.updated = updated;
        self.generation += 1;
    }

    /// Marks the event at `position` rescheduled to a copy at `start`..`end`, which is
    /// added with the same `recurringId` (reference E7); returns the copy's id.
    pub(crate) fn reschedule(
        &mut self,
        position: usize,
        start: DateTime,
        end: DateTime,
        now: DateTime,
    ) -> u64 {
        let updated = self.next_update(now);
        let id = self.next_id;
        self.next_id += 1;
        let original = &mut self.events[position];
        original.modified = "rescheduled";
        original.new_event_id = Some(id);
        original.updated = updated;
        let mut copy = original.clone();
        copy.id = id;
        copy.modified = "";
        copy.new_event_id = None;
        copy.special = match copy.special {
            Special::Canceled | Special::Rescheduled | Special::NullTimes => Special::None,
            other => other,
        };
        copy.day = start.date();
        copy.start = start;
        copy.end = end;
        copy.registrants = 0;
        self.insert(copy, None);
        id
    }

    /// Removes the event at `position` (its reservations stay, as a deleted event's
    /// room bookings would).
    pub(crate) fn remove(&mut self, position: usize) -> EventRec {
        self.generation += 1;
        self.events.remove(position)
    }
}

pub(crate) fn fmt_datetime(t: DateTime) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

pub(crate) fn fmt_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

fn names(mask: u8, all: &[&str]) -> Vec<Value> {
    all.iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, n)| Value::from(*n))
        .collect()
}

impl EventRec {
    pub(crate) fn title(&self) -> &str {
        self.title_text
            .as_deref()
            .unwrap_or(TITLES[usize::from(self.title)].0)
    }

    pub(crate) fn sub_title(&self) -> &str {
        self.sub_title_text
            .as_deref()
            .unwrap_or(TITLES[usize::from(self.title)].1)
    }

    pub(crate) fn short_description(&self) -> String {
        format!(
            "{} at {}",
            self.title(),
            LOCATIONS[usize::from(self.location)].1
        )
    }

    pub(crate) fn is_private(&self) -> bool {
        self.special == Special::Private
    }

    pub(crate) fn status(&self) -> &'static str {
        if self.special == Special::Draft {
            "draft"
        } else {
            "published"
        }
    }

    pub(crate) fn location_id(&self) -> u64 {
        LOCATIONS[usize::from(self.location)].0
    }

    pub(crate) fn type_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        TYPES
            .iter()
            .enumerate()
            .filter(|(i, _)| self.types & (1 << i) != 0)
            .map(|(_, n)| *n)
    }

    pub(crate) fn age_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        AGES.iter()
            .enumerate()
            .filter(|(i, _)| !self.ages_null && self.ages & (1 << i) != 0)
            .map(|(_, n)| *n)
    }

    pub(crate) fn search_tags(&self) -> Vec<&str> {
        if self.is_private() {
            vec!["StaffTraining"]
        } else if self.sub_title().starts_with('#') {
            vec!["#NJMakersDay"]
        } else if self.title().starts_with("Lunar") {
            vec!["Lunar New Year"]
        } else {
            Vec::new()
        }
    }

    /// The default members, then the optional ones named in `fields`.
    pub(crate) fn render(&self, fields: &dyn Fn(&str) -> bool) -> Value {
        let mut m = Map::new();
        let (loc_id, loc_name) = LOCATIONS[usize::from(self.location)];
        let null_times = self.special == Special::NullTimes;
        m.insert("eventId".into(), json!(self.id));
        m.insert("recurringId".into(), json!(self.recurring_id));
        m.insert("status".into(), json!(self.status()));
        m.insert("modified".into(), json!(self.modified));
        m.insert("newEventId".into(), json!(self.new_event_id));
        m.insert(
            "title".into(),
            json!(if self.is_private() {
                "Staff Training"
            } else {
                self.title()
            }),
        );
        m.insert("subTitle".into(), json!(self.sub_title()));
        m.insert("shortDescription".into(), json!(self.short_description()));
        m.insert(
            "description".into(),
            json!(format!(
                "<p>Join us for <strong>{}</strong> at the {} branch &amp; bring a friend.</p>\n<ul><li>Free</li><li>All welcome</li></ul>",
                self.title().replace('&', "&amp;").replace('"', "&quot;"),
                loc_name
            )),
        );
        let time = |t: DateTime| {
            if null_times {
                Value::Null
            } else {
                Value::from(fmt_datetime(t))
            }
        };
        m.insert("eventStart".into(), time(self.start));
        m.insert("eventEnd".into(), time(self.end));
        m.insert("locationId".into(), json!(loc_id));
        m.insert("locationName".into(), json!(loc_name));
        m.insert("roomId".into(), json!(self.room));
        m.insert("roomName".into(), json!(self.room.map(room_name)));
        m.insert("eventLastUpdated".into(), json!(fmt_datetime(self.updated)));

        let reg = self.registration;
        let optional: [(&str, LazyValue<'_>); 26] = [
            (
                "ages",
                Box::new(|| {
                    if self.ages_null {
                        Value::Null
                    } else {
                        Value::Array(names(self.ages, AGES))
                    }
                }),
            ),
            ("types", Box::new(|| Value::Array(names(self.types, TYPES)))),
            (
                "eventType",
                Box::new(|| {
                    if self.ages_null {
                        Value::Null
                    } else {
                        json!(self.type_names().next())
                    }
                }),
            ),
            (
                "eventImage",
                Box::new(|| {
                    if self.image {
                        json!(format!(
                            "https://cdn.example.org/images/events/sandbox/{}.jpg",
                            self.id
                        ))
                    } else {
                        Value::Null
                    }
                }),
            ),
            (
                "featuredImage",
                Box::new(|| {
                    if self.image && self.id.is_multiple_of(2) {
                        json!(format!(
                            "https://cdn.example.org/images/featured/{}.png",
                            self.id
                        ))
                    } else {
                        Value::Null
                    }
                }),
            ),
            (
                "eventRegistrationUrl",
                Box::new(|| match reg {
                    Registration::ThirdParty => {
                        json!(format!("https://example.org/signup/{}", self.id))
                    }
                    Registration::DropIn => Value::Null,
                    _ => json!(""),
                }),
            ),
            (
                "registration",
                Box::new(|| json!(reg != Registration::DropIn)),
            ),
            (
                "thirdPartyRegistration",
                Box::new(|| json!(reg == Registration::ThirdParty)),
            ),
            (
                "waitlist",
                Box::new(|| json!(reg == Registration::Waitlist)),
            ),
            ("maxAttendees", Box::new(|| json!(self.max_attendees))),
            ("totalRegistrants", Box::new(|| json!(self.registrants))),
            (
                "totalWaitlist",
                Box::new(|| json!(if reg == Registration::Waitlist { 3 } else { 0 })),
            ),
            (
                "maxWaitlist",
                Box::new(|| json!(if reg == Registration::Waitlist { 10 } else { 0 })),
            ),
            (
                "registrationOpens",
                Box::new(|| {
                    if reg == Registration::DropIn {
                        Value::Null
                    } else {
                        json!(fmt_datetime(at(add_days(self.day, -14), 9, 0)))
                    }
                }),
            ),
            (
                "registrationCloses",
                Box::new(|| {
                    if reg == Registration::DropIn {
                        Value::Null
                    } else {
                        json!(fmt_datetime(self.start))
                    }
                }),
            ),
            ("privateEvent", Box::new(|| json!(self.is_private()))),
            ("searchTags", Box::new(|| json!(self.search_tags()))),
            ("reportingCategory", Box::new(|| json!("Programs"))),
            ("setupTime", Box::new(|| json!(15))),
            ("breakdownTime", Box::new(|| json!(10))),
            ("eventContact", Box::new(|| Value::Null)),
            ("customQuestions", Box::new(|| json!([]))),
            (
                "venueType",
                Box::new(|| {
                    json!(if self.special == Special::External {
                        "External"
                    } else {
                        "Library"
                    })
                }),
            ),
            (
                "externalVenueName",
                Box::new(|| {
                    json!(if self.special == Special::External {
                        "City Park Pavilion"
                    } else {
                        ""
                    })
                }),
            ),
            (
                "externalVenueDescription",
                Box::new(|| {
                    json!(if self.special == Special::External {
                        "<p>Meet at the north lot &amp; follow signs</p>"
                    } else {
                        ""
                    })
                }),
            ),
            ("externalVenueRoom", Box::new(|| json!(""))),
        ];
        for (name, value) in optional {
            if fields(name) {
                m.insert(name.into(), value());
            }
        }
        Value::Object(m)
    }
}

impl ReservationRec {
    /// Default members, then the optional ones named in `fields`.
    pub(crate) fn render(&self, fields: &dyn Fn(&str) -> bool) -> Value {
        let (loc_id, loc_name) = LOCATIONS[usize::from(self.location)];
        let mut m = Map::new();
        m.insert("reservationId".into(), json!(self.id));
        m.insert("roomId".into(), json!(self.room));
        m.insert("roomName".into(), json!(room_name(self.room)));
        m.insert(
            "displayName".into(),
            json!(TITLES[usize::from(self.title)].0),
        );
        m.insert("startTime".into(), json!(fmt_datetime(self.start)));
        m.insert("endTime".into(), json!(fmt_datetime(self.end)));
        m.insert("locationId".into(), json!(loc_id));
        m.insert("locationName".into(), json!(loc_name));
        m.insert("status".into(), json!(self.status));
        m.insert(
            "type".into(),
            json!(if self.event.is_some() {
                "Event"
            } else {
                "Staff"
            }),
        );
        if let Some(event) = self.event {
            m.insert("eventId".into(), json!(event));
        }
        let optional: [(&str, Value); 10] = [
            ("contactName", json!("Pat Doe")),
            ("contactPhone", json!("419-555-0100")),
            ("contactEmail", json!("pat@example.org")),
            ("setupTime", json!(15)),
            ("breakdownTime", json!(10)),
            (
                "groupName",
                json!(if self.event.is_some() { "" } else { "Staff" }),
            ),
            ("expectedAttendees", json!(12)),
            ("patronNotes", Value::Null),
            ("eventNotes", json!("<p>Chairs in rows</p>")),
            ("layout", json!("Theater")),
        ];
        for (name, value) in optional {
            if fields(name) {
                m.insert(name.into(), value);
            }
        }
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_varied() {
        let day = Date::new(2024, 5, 1).unwrap_or_default();
        let a = DataSet::generate(2000, day, 30, 7);
        let b = DataSet::generate(2000, day, 30, 7);
        assert_eq!(a.events.len(), 2000);
        assert!(
            a.events
                .iter()
                .zip(&b.events)
                .all(|(x, y)| x.id == y.id && x.start == y.start && x.special == y.special)
        );
        for special in [
            Special::Canceled,
            Special::Rescheduled,
            Special::AllDay,
            Special::MultiDay,
            Special::External,
            Special::Private,
            Special::NullTimes,
            Special::None,
        ] {
            assert!(a.events.iter().any(|e| e.special == special), "{special:?}");
        }
        for reg in [
            Registration::DropIn,
            Registration::Open,
            Registration::Full,
            Registration::Waitlist,
            Registration::ThirdParty,
        ] {
            assert!(a.events.iter().any(|e| e.registration == reg), "{reg:?}");
        }
        assert!(!a.reservations.is_empty());
        let all_day = a
            .events
            .iter()
            .find(|e| e.special == Special::AllDay)
            .map(|e| e.render(&|_| true));
        let all_day = all_day.unwrap_or_default();
        assert!(
            all_day["eventStart"]
                .as_str()
                .unwrap_or_default()
                .ends_with("00:00:00")
        );
        assert!(
            all_day["eventEnd"]
                .as_str()
                .unwrap_or_default()
                .ends_with("23:59:00")
        );
        assert!(all_day["roomName"].is_null());
    }

    #[test]
    fn optional_fields_only_when_asked() {
        let day = Date::new(2024, 5, 1).unwrap_or_default();
        let set = DataSet::generate(10, day, 30, 1);
        let plain = set.events[0].render(&|_| false);
        assert!(plain.get("ages").is_none() && plain.get("registration").is_none());
        assert!(plain.get("eventLastUpdated").is_some());
        let with = set.events[0].render(&|f| f == "registration");
        assert!(with.get("registration").is_some() && with.get("ages").is_none());
    }
}
