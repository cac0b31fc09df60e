//! Typed query builders for the list endpoints (reference §1a, §1b).
//!
//! Lists are sent comma-joined (`types=A,B`), the long-standing form: repeating a key
//! makes the API fail on some endpoints (reference §4.9). Every value is percent-encoded
//! exactly once, so names such as `Adults (18+)` or `Art/Crafts/Hobbies` arrive intact
//! (§4.10); a comma inside a name is encoded too, so it cannot split the list.

use std::fmt::Write as _;

use jiff::civil::Date;

use crate::Error;
use crate::reserve::ReservationStatus;
use crate::wire::{IsoDate, parse_date};

/// The largest page the client asks for. The server caps `limit` silently (one client
/// reports a maximum of 250; reference §1a, §4.7), so pages stay at or under 200.
pub const MAX_PAGE_SIZE: u32 = 200;

/// Parses a `YYYY-MM-DD` date for a query, rejecting impossible dates such as
/// `2016-11-31` (which the vendor's documentation itself uses).
///
/// ```
/// assert!(communico::date("2024-02-29").is_ok());
/// assert!(communico::date("2016-11-31").is_err());
/// assert!(communico::date("2023-06-5").is_err());
/// ```
pub fn date(text: &str) -> Result<Date, Error> {
    parse_date(text.trim()).ok_or_else(|| {
        Error::invalid_query(format!(
            "`{}` is not a valid YYYY-MM-DD date",
            auth_core::response::snippet(text.as_bytes())
        ))
    })
}

/// Refuses a date window that ends before it starts (either end may be open).
fn check_window(start: Option<Date>, end: Option<Date>) -> Result<(), Error> {
    match (start, end) {
        (Some(start), Some(end)) if end < start => Err(Error::invalid_query(format!(
            "the end date {} is before the start date {}",
            IsoDate(end),
            IsoDate(start)
        ))),
        _ => Ok(()),
    }
}

/// Appends `value` percent-encoded: everything but RFC 3986 unreserved characters.
pub(crate) fn encode_into(out: &mut String, value: &str) {
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            // ok: writing to a String cannot fail.
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// A query string under construction.
#[derive(Default)]
pub(crate) struct QueryString(String);

impl QueryString {
    pub(crate) fn pair(&mut self, key: &str, value: &str) -> &mut Self {
        if !self.0.is_empty() {
            self.0.push('&');
        }
        self.0.push_str(key);
        self.0.push('=');
        encode_into(&mut self.0, value);
        self
    }

    pub(crate) fn list<I, S>(&mut self, key: &str, values: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut values = values.into_iter().peekable();
        if values.peek().is_none() {
            return self;
        }
        if !self.0.is_empty() {
            self.0.push('&');
        }
        self.0.push_str(key);
        self.0.push('=');
        for (i, value) in values.enumerate() {
            if i > 0 {
                self.0.push(',');
            }
            encode_into(&mut self.0, value.as_ref());
        }
        self
    }

    pub(crate) fn opt<T: ToString>(&mut self, key: &str, value: Option<T>) -> &mut Self {
        if let Some(v) = value {
            self.pair(key, &v.to_string());
        }
        self
    }

    pub(crate) fn finish(self) -> String {
        self.0
    }
}

/// An optional event member to ask for in `fields` (reference §2b: "many are optional
/// and aren't returned unless asked for").
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventField {
    /// `ages`.
    Ages,
    /// `types`.
    Types,
    /// `eventType`.
    EventType,
    /// `eventImage`.
    EventImage,
    /// `featuredImage`.
    FeaturedImage,
    /// `eventRegistrationUrl`.
    EventRegistrationUrl,
    /// `registration`.
    Registration,
    /// `thirdPartyRegistration`.
    ThirdPartyRegistration,
    /// `waitlist`.
    Waitlist,
    /// `maxAttendees`.
    MaxAttendees,
    /// `totalRegistrants`.
    TotalRegistrants,
    /// `totalWaitlist`.
    TotalWaitlist,
    /// `maxWaitlist`.
    MaxWaitlist,
    /// `registrationOpens`.
    RegistrationOpens,
    /// `registrationCloses`.
    RegistrationCloses,
    /// `privateEvent`.
    PrivateEvent,
    /// `searchTags`.
    SearchTags,
    /// `reportingCategory`.
    ReportingCategory,
    /// `setupTime`.
    SetupTime,
    /// `breakdownTime`.
    BreakdownTime,
    /// `eventContact`.
    EventContact,
    /// `customQuestions`.
    CustomQuestions,
    /// `venueType`.
    VenueType,
    /// `externalVenueName`.
    ExternalVenueName,
    /// `externalVenueDescription`.
    ExternalVenueDescription,
    /// `externalVenueRoom`.
    ExternalVenueRoom,
    /// Any other member name, sent as given.
    Other(String),
}

impl EventField {
    /// What [`Event::registration_state`](crate::Event::registration_state) needs.
    pub const REGISTRATION: &'static [EventField] = &[
        EventField::Registration,
        EventField::ThirdPartyRegistration,
        EventField::EventRegistrationUrl,
        EventField::Waitlist,
        EventField::MaxAttendees,
        EventField::TotalRegistrants,
        EventField::TotalWaitlist,
        EventField::MaxWaitlist,
    ];

    /// Every optional member this crate knows.
    pub const ALL: &'static [EventField] = &[
        EventField::Ages,
        EventField::Types,
        EventField::EventType,
        EventField::EventImage,
        EventField::FeaturedImage,
        EventField::EventRegistrationUrl,
        EventField::Registration,
        EventField::ThirdPartyRegistration,
        EventField::Waitlist,
        EventField::MaxAttendees,
        EventField::TotalRegistrants,
        EventField::TotalWaitlist,
        EventField::MaxWaitlist,
        EventField::RegistrationOpens,
        EventField::RegistrationCloses,
        EventField::PrivateEvent,
        EventField::SearchTags,
        EventField::ReportingCategory,
        EventField::SetupTime,
        EventField::BreakdownTime,
        EventField::EventContact,
        EventField::CustomQuestions,
        EventField::VenueType,
        EventField::ExternalVenueName,
        EventField::ExternalVenueDescription,
        EventField::ExternalVenueRoom,
    ];

    /// The member's name in the API.
    pub fn as_str(&self) -> &str {
        match self {
            EventField::Ages => "ages",
            EventField::Types => "types",
            EventField::EventType => "eventType",
            EventField::EventImage => "eventImage",
            EventField::FeaturedImage => "featuredImage",
            EventField::EventRegistrationUrl => "eventRegistrationUrl",
            EventField::Registration => "registration",
            EventField::ThirdPartyRegistration => "thirdPartyRegistration",
            EventField::Waitlist => "waitlist",
            EventField::MaxAttendees => "maxAttendees",
            EventField::TotalRegistrants => "totalRegistrants",
            EventField::TotalWaitlist => "totalWaitlist",
            EventField::MaxWaitlist => "maxWaitlist",
            EventField::RegistrationOpens => "registrationOpens",
            EventField::RegistrationCloses => "registrationCloses",
            EventField::PrivateEvent => "privateEvent",
            EventField::SearchTags => "searchTags",
            EventField::ReportingCategory => "reportingCategory",
            EventField::SetupTime => "setupTime",
            EventField::BreakdownTime => "breakdownTime",
            EventField::EventContact => "eventContact",
            EventField::CustomQuestions => "customQuestions",
            EventField::VenueType => "venueType",
            EventField::ExternalVenueName => "externalVenueName",
            EventField::ExternalVenueDescription => "externalVenueDescription",
            EventField::ExternalVenueRoom => "externalVenueRoom",
            EventField::Other(name) => name,
        }
    }

    /// The field named `name` (the API's spelling); unknown names become
    /// [`EventField::Other`].
    pub fn parse(name: &str) -> EventField {
        EventField::ALL
            .iter()
            .find(|f| f.as_str() == name)
            .cloned()
            .unwrap_or_else(|| EventField::Other(name.to_owned()))
    }
}

/// A sort direction (`sortOrder`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SortOrder {
    /// `ascending`.
    Ascending,
    /// `descending`.
    Descending,
}

impl SortOrder {
    fn as_str(self) -> &'static str {
        match self {
            SortOrder::Ascending => "ascending",
            SortOrder::Descending => "descending",
        }
    }
}

/// Whether private events are included (`privateEvents`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Visibility {
    /// `privateEvents=false`: public events only.
    PublicOnly,
    /// `privateEvents=true`: private events too.
    IncludePrivate,
}

/// The query of `/v3/attend/events`.
///
/// Dates are checked when the query is used, before anything is sent: an end before the
/// start is an [`Error::InvalidQuery`]. `limit` is the page size; the stream pages through
/// every match whatever it is.
///
/// ```
/// use communico::{date, EventField, EventQuery, SortOrder};
///
/// let query = EventQuery::new()
///     .start_date(date("2024-05-01")?)
///     .end_date(date("2024-05-31")?)
///     .types(["Storytime", "Art/Crafts/Hobbies"])
///     .ages(["Adults (18+)"])
///     .location_ids([416, 434])
///     .fields([EventField::Ages, EventField::Types])
///     .sort("eventStart", SortOrder::Ascending);
/// assert_eq!(
///     query.to_query_string(0, 200)?,
///     "startDate=2024-05-01&endDate=2024-05-31&start=0&limit=200&status=published&fields=ages,types\
///      &types=Storytime,Art%2FCrafts%2FHobbies&ages=Adults%20%2818%2B%29&locationId=416,434\
///      &sortBy=eventStart&sortOrder=ascending"
/// );
/// # Ok::<(), communico::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct EventQuery {
    start_date: Option<Date>,
    end_date: Option<Date>,
    start: u64,
    limit: u32,
    status: Option<String>,
    visibility: Option<Visibility>,
    staff_only: Option<bool>,
    fields: Vec<EventField>,
    types: Vec<String>,
    ages: Vec<String>,
    location_ids: Vec<u64>,
    term: Option<String>,
    search_tags: Vec<String>,
    sort: Option<(String, SortOrder)>,
}

impl Default for EventQuery {
    fn default() -> Self {
        Self::new()
    }
}

impl EventQuery {
    /// Published events, pages of [`MAX_PAGE_SIZE`], no other filter.
    pub fn new() -> Self {
        Self {
            start_date: None,
            end_date: None,
            start: 0,
            limit: MAX_PAGE_SIZE,
            status: Some("published".into()),
            visibility: None,
            staff_only: None,
            fields: Vec::new(),
            types: Vec::new(),
            ages: Vec::new(),
            location_ids: Vec::new(),
            term: None,
            search_tags: Vec::new(),
            sort: None,
        }
    }

    /// `startDate`: the first day of the window.
    pub fn start_date(mut self, date: Date) -> Self {
        self.start_date = Some(date);
        self
    }

    /// `endDate`: the last day of the window.
    pub fn end_date(mut self, date: Date) -> Self {
        self.end_date = Some(date);
        self
    }

    /// `start`: the offset of the first event wanted (default 0).
    pub fn start(mut self, offset: u64) -> Self {
        self.start = offset;
        self
    }

    /// `limit`: the page size, at most [`MAX_PAGE_SIZE`] (larger values are lowered).
    pub fn limit(mut self, page_size: u32) -> Self {
        self.limit = page_size.min(MAX_PAGE_SIZE);
        self
    }

    /// `status` (default `published`); `None` leaves it out.
    pub fn status(mut self, status: Option<&str>) -> Self {
        self.status = status.map(str::to_owned);
        self
    }

    /// `privateEvents`.
    pub fn visibility(mut self, visibility: Visibility) -> Self {
        self.visibility = Some(visibility);
        self
    }

    /// `staffOnly`.
    pub fn staff_only(mut self, staff_only: bool) -> Self {
        self.staff_only = Some(staff_only);
        self
    }

    /// `fields`: optional members to include (added to those already asked for).
    pub fn fields<I: IntoIterator<Item = EventField>>(mut self, fields: I) -> Self {
        for field in fields {
            if !self.fields.contains(&field) {
                self.fields.push(field);
            }
        }
        self
    }

    /// `types`: event-type names (not ids).
    pub fn types<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.types.extend(names.into_iter().map(Into::into));
        self
    }

    /// `ages`: age-group names.
    pub fn ages<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.ages.extend(names.into_iter().map(Into::into));
        self
    }

    /// `locationId`: one or many branch ids.
    pub fn location_ids<I: IntoIterator<Item = u64>>(mut self, ids: I) -> Self {
        self.location_ids.extend(ids);
        self
    }

    /// `term`: keyword search.
    pub fn term(mut self, term: impl Into<String>) -> Self {
        self.term = Some(term.into());
        self
    }

    /// `searchTags`: tags, such as `#NJMakersDay` (the `#` is encoded).
    pub fn search_tags<I: IntoIterator<Item = S>, S: Into<String>>(mut self, tags: I) -> Self {
        self.search_tags.extend(tags.into_iter().map(Into::into));
        self
    }

    /// `sortBy` and `sortOrder`, for example `eventStart` ascending or `eventLastUpdated`
    /// descending. The API's default order is unspecified.
    pub fn sort(mut self, by: impl Into<String>, order: SortOrder) -> Self {
        self.sort = Some((by.into(), order));
        self
    }

    /// The page size in use.
    pub fn page_size(&self) -> u32 {
        self.limit
    }

    /// This query, sorted by `eventStart` ascending unless it names an order: a listing
    /// read page by page needs an order that holds between requests, and the API's
    /// default order is unspecified (reference §4.12; AS-3 asks for this one).
    pub(crate) fn with_stable_order(self) -> Self {
        if self.sort.is_some() {
            self
        } else {
            self.sort("eventStart", SortOrder::Ascending)
        }
    }

    /// The offset of the first event wanted.
    pub fn first_offset(&self) -> u64 {
        self.start
    }

    /// The optional fields asked for.
    pub fn requested_fields(&self) -> &[EventField] {
        &self.fields
    }

    /// Checks the query without sending it: the window must not end before it starts,
    /// and the page size must not be zero.
    pub fn validate(&self) -> Result<(), Error> {
        check_window(self.start_date, self.end_date)?;
        if self.limit == 0 {
            return Err(Error::invalid_query("the page size must be at least 1"));
        }
        Ok(())
    }

    /// The query string for the page at `start` of size `limit`, after [`validate`].
    ///
    /// [`validate`]: EventQuery::validate
    pub fn to_query_string(&self, start: u64, limit: u32) -> Result<String, Error> {
        self.validate()?;
        let mut q = QueryString::default();
        q.opt("startDate", self.start_date.map(IsoDate))
            .opt("endDate", self.end_date.map(IsoDate))
            .pair("start", &start.to_string())
            .pair("limit", &limit.to_string())
            .opt("status", self.status.as_deref())
            .opt(
                "privateEvents",
                self.visibility.map(|v| v == Visibility::IncludePrivate),
            )
            .opt("staffOnly", self.staff_only)
            .list("fields", self.fields.iter().map(EventField::as_str))
            .list("types", &self.types)
            .list("ages", &self.ages)
            .list("locationId", self.location_ids.iter().map(u64::to_string))
            .opt("term", self.term.as_deref())
            .list("searchTags", &self.search_tags);
        if let Some((by, order)) = &self.sort {
            q.pair("sortBy", by).pair("sortOrder", order.as_str());
        }
        Ok(q.finish())
    }
}

/// The query of `/v3/reserve/reservations`.
///
/// The API takes one `status` per request (repeating the key makes it fail, reference
/// §1b), so [`Client::reservations`](crate::Client::reservations) makes one call per
/// status and merges the results.
///
/// ```
/// use communico::{date, ReservationQuery, ReservationStatus};
///
/// let query = ReservationQuery::new()
///     .location_id(416)
///     .start_date(date("2024-05-01")?)
///     .end_date(date("2024-05-31")?)
///     .statuses([ReservationStatus::Approved, ReservationStatus::Pending])
///     .fields(["roomName", "contactName"]);
/// assert_eq!(query.statuses_to_query().len(), 2);
/// # Ok::<(), communico::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[must_use]
pub struct ReservationQuery {
    start_date: Option<Date>,
    end_date: Option<Date>,
    statuses: Vec<ReservationStatus>,
    location_id: Option<u64>,
    room_id: Option<u64>,
    fields: Vec<String>,
    sort: Option<(String, SortOrder)>,
}

impl ReservationQuery {
    /// Every reservation, in every status the API returns by default.
    pub fn new() -> Self {
        Self::default()
    }

    /// `startDate`.
    pub fn start_date(mut self, date: Date) -> Self {
        self.start_date = Some(date);
        self
    }

    /// `endDate`.
    pub fn end_date(mut self, date: Date) -> Self {
        self.end_date = Some(date);
        self
    }

    /// The statuses wanted; one request is made for each.
    pub fn statuses<I: IntoIterator<Item = ReservationStatus>>(mut self, statuses: I) -> Self {
        for status in statuses {
            if !self.statuses.contains(&status) {
                self.statuses.push(status);
            }
        }
        self
    }

    /// `locationId`.
    pub fn location_id(mut self, id: u64) -> Self {
        self.location_id = Some(id);
        self
    }

    /// `roomId`.
    pub fn room_id(mut self, id: u64) -> Self {
        self.room_id = Some(id);
        self
    }

    /// `fields`: members to include, by their API names (for example `contactName`).
    pub fn fields<I: IntoIterator<Item = S>, S: Into<String>>(mut self, fields: I) -> Self {
        for field in fields {
            let field = field.into();
            if !self.fields.contains(&field) {
                self.fields.push(field);
            }
        }
        self
    }

    /// `sortBy` and `sortOrder`.
    pub fn sort(mut self, by: impl Into<String>, order: SortOrder) -> Self {
        self.sort = Some((by.into(), order));
        self
    }

    /// The statuses to send, one request each: `[None]` when no status was given.
    pub fn statuses_to_query(&self) -> Vec<Option<&ReservationStatus>> {
        if self.statuses.is_empty() {
            vec![None]
        } else {
            self.statuses.iter().map(Some).collect()
        }
    }

    /// Checks the dates.
    pub fn validate(&self) -> Result<(), Error> {
        check_window(self.start_date, self.end_date)
    }

    /// The query string for one status and one page.
    pub fn to_query_string(
        &self,
        status: Option<&ReservationStatus>,
        start: u64,
        limit: u32,
    ) -> Result<String, Error> {
        self.validate()?;
        Ok(self.build_query_string(status, start, limit))
    }

    /// The query string for one status and one page, for a query already validated:
    /// building it cannot fail, so a client paging through many pages checks once.
    pub(crate) fn build_query_string(
        &self,
        status: Option<&ReservationStatus>,
        start: u64,
        limit: u32,
    ) -> String {
        let mut q = QueryString::default();
        q.opt("startDate", self.start_date.map(IsoDate))
            .opt("endDate", self.end_date.map(IsoDate))
            .pair("start", &start.to_string())
            .pair("limit", &limit.to_string())
            .opt("status", status.map(ReservationStatus::as_str))
            .opt("locationId", self.location_id)
            .opt("roomId", self.room_id)
            .list("fields", &self.fields);
        if let Some((by, order)) = &self.sort {
            q.pair("sortBy", by).pair("sortOrder", order.as_str());
        }
        q.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_is_exact_and_once() {
        let cases = [
            ("Adults (18+)", "Adults%20%2818%2B%29"),
            ("Art/Crafts/Hobbies", "Art%2FCrafts%2FHobbies"),
            ("#NJMakersDay", "%23NJMakersDay"),
            ("%23already", "%2523already"),
            ("a,b", "a%2Cb"),
            ("café & co", "caf%C3%A9%20%26%20co"),
            (
                "Young Children (0-5)\r\n",
                "Young%20Children%20%280-5%29%0D%0A",
            ),
            ("A-Z_a.z~0", "A-Z_a.z~0"),
        ];
        for (raw, want) in cases {
            let mut out = String::new();
            encode_into(&mut out, raw);
            assert_eq!(out, want, "{raw}");
        }
    }

    #[test]
    fn end_before_start_is_refused() {
        let q = EventQuery::new()
            .start_date(date("2024-05-10").unwrap())
            .end_date(date("2024-05-09").unwrap());
        assert!(matches!(q.validate(), Err(Error::InvalidQuery { .. })));
        assert!(q.to_query_string(0, 10).is_err());
        let same_day = EventQuery::new()
            .start_date(date("2024-05-10").unwrap())
            .end_date(date("2024-05-10").unwrap());
        assert!(same_day.validate().is_ok());
        let r = ReservationQuery::new()
            .start_date(date("2024-05-10").unwrap())
            .end_date(date("2024-04-10").unwrap());
        assert!(r.validate().is_err());
    }

    #[test]
    fn impossible_dates_are_refused() {
        for bad in [
            "2016-11-31",
            "2025-11-31",
            "2023-02-29",
            "2023-06-5",
            "tomorrow",
            "",
        ] {
            assert!(
                matches!(date(bad), Err(Error::InvalidQuery { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn minimal_and_full_event_queries() {
        assert_eq!(
            EventQuery::new()
                .status(None)
                .to_query_string(400, 200)
                .unwrap(),
            "start=400&limit=200"
        );
        let q = EventQuery::new()
            .limit(5000)
            .visibility(Visibility::IncludePrivate)
            .staff_only(false)
            .term("lego club")
            .search_tags(["#NJMakersDay", "Lunar New Year"])
            .fields([
                EventField::Ages,
                EventField::Ages,
                EventField::parse("eventRegistrationUrl"),
            ]);
        assert_eq!(q.page_size(), MAX_PAGE_SIZE);
        assert_eq!(
            q.to_query_string(0, q.page_size()).unwrap(),
            "start=0&limit=200&status=published&privateEvents=true&staffOnly=false\
             &fields=ages,eventRegistrationUrl&term=lego%20club&searchTags=%23NJMakersDay,Lunar%20New%20Year"
        );
        assert!(EventQuery::new().limit(0).validate().is_err());
    }

    #[test]
    fn reservation_query_strings_carry_one_status() {
        let q = ReservationQuery::new()
            .statuses([
                ReservationStatus::Approved,
                ReservationStatus::Pending,
                ReservationStatus::Approved,
            ])
            .location_id(416)
            .fields(["roomName", "contactName"]);
        let statuses = q.statuses_to_query();
        assert_eq!(statuses.len(), 2);
        assert_eq!(
            q.to_query_string(statuses[1], 0, 200).unwrap(),
            "start=0&limit=200&status=pending&locationId=416&fields=roomName,contactName"
        );
        assert_eq!(ReservationQuery::new().statuses_to_query(), vec![None]);
        // What the client sends page by page, once the query is validated.
        assert_eq!(
            q.build_query_string(statuses[0], 400, 200),
            q.to_query_string(statuses[0], 400, 200).unwrap()
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn every_value_is_encoded_exactly_once(value in any::<String>()) {
                let mut encoded = String::new();
                encode_into(&mut encoded, &value);
                prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
                let decoded: Vec<(String, String)> =
                    url::form_urlencoded::parse(format!("k={encoded}").as_bytes()).into_owned().collect();
                prop_assert_eq!(&decoded[0].1, &value);
            }

            #[test]
            fn list_items_never_split_or_merge(items in prop::collection::vec("[ -~]{1,12}", 1..5)) {
                let mut q = QueryString::default();
                q.list("types", &items);
                let text = q.finish();
                let value = text.strip_prefix("types=").unwrap_or_default();
                let decoded: Vec<String> = value
                    .split(',')
                    .map(|part| {
                        url::form_urlencoded::parse(format!("k={part}").as_bytes())
                            .next()
                            .map(|(_, v)| v.into_owned())
                            .unwrap_or_default()
                    })
                    .collect();
                prop_assert_eq!(decoded, items);
            }
        }
    }
}
