//! Events (`/v3/attend/events`) and their registrants.

use jiff::civil::{DateTime, Time};

use crate::wire::api_object;

api_object! {
    /// One event, as `/v3/attend/events` and `/v3/attend/events/{id}` return it
    /// (reference §2b).
    ///
    /// Every member is optional: the default members are usually present, the optional ones
    /// only when named in [`EventQuery::fields`](crate::EventQuery::fields). Date-times are
    /// the library's naive local wall time, kept as [`jiff::civil::DateTime`] and never
    /// shifted to UTC. HTML members (`description`, `externalVenueDescription`) are kept
    /// exactly as sent. Members this crate does not model, and values of an unexpected
    /// type, are kept in `extra`, so serializing an event keeps every member and value;
    /// a value read leniently is written in its expected JSON type (`"eventId": "8890"`
    /// comes back as `"eventId": 8890`).
    ///
    /// ```
    /// let event: communico::Event = serde_json::from_str(r#"{
    ///     "eventId": 8890, "title": "Reading Club", "modified": "canceled",
    ///     "eventStart": "2016-11-10 09:00:00", "roomName": null, "mystery": [1]
    /// }"#)?;
    /// assert_eq!(event.event_id, Some(8890));
    /// assert!(event.is_canceled());
    /// assert_eq!(event.event_start.map(|t| t.hour()), Some(9));
    /// assert!(event.was_null("roomName"));
    /// assert_eq!(event.extra["mystery"], serde_json::json!([1]));
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub struct Event {
        /// `eventId`.
        "eventId" => event_id: u64,
        /// `recurringId`: shared by the events of one series.
        "recurringId" => recurring_id: u64,
        /// `status`: `published` for public events.
        "status" => status: String,
        /// `modified`: `""`, `canceled` or `rescheduled`. See [`Event::is_canceled`].
        "modified" => modified: String,
        /// `newEventId`: the replacement of a rescheduled event.
        "newEventId" => new_event_id: u64,
        /// `title`.
        "title" => title: String,
        /// `subTitle`, often `""`.
        "subTitle" => sub_title: String,
        /// `shortDescription`: plain text.
        "shortDescription" => short_description: String,
        /// `description`: HTML, as sent.
        "description" => description: String,
        /// `eventStart`: local wall time.
        "eventStart" => event_start: DateTime,
        /// `eventEnd`: local wall time.
        "eventEnd" => event_end: DateTime,
        /// `locationId`.
        "locationId" => location_id: u64,
        /// `locationName`.
        "locationName" => location_name: String,
        /// `roomId`.
        "roomId" => room_id: u64,
        /// `roomName` (`null`, not `""`, when there is none).
        "roomName" => room_name: String,
        /// `eventLastUpdated`: local wall time.
        "eventLastUpdated" => event_last_updated: DateTime,
        /// `ages` (optional field): age-group names.
        "ages" => ages: Vec<String>,
        /// `types` (optional field): event-type names.
        "types" => types: Vec<String>,
        /// `eventType` (optional field).
        "eventType" => event_type: String,
        /// `eventImage` (optional field): an absolute URL.
        "eventImage" => event_image: String,
        /// `featuredImage` (optional field): an absolute URL, preferred over `eventImage`.
        "featuredImage" => featured_image: String,
        /// `eventRegistrationUrl` (optional field): may be `null` or `""`.
        "eventRegistrationUrl" => event_registration_url: String,
        /// `registration` (optional field): whether registration is required.
        "registration" => registration: bool,
        /// `thirdPartyRegistration` (optional field).
        "thirdPartyRegistration" => third_party_registration: bool,
        /// `waitlist` (optional field): whether a waitlist is offered.
        "waitlist" => waitlist: bool,
        /// `maxAttendees` (optional field); `0` means no limit.
        "maxAttendees" => max_attendees: u64,
        /// `totalRegistrants` (optional field).
        "totalRegistrants" => total_registrants: u64,
        /// `totalWaitlist` (optional field).
        "totalWaitlist" => total_waitlist: u64,
        /// `maxWaitlist` (optional field); `0` means no limit.
        "maxWaitlist" => max_waitlist: u64,
        /// `registrationOpens` (optional field).
        "registrationOpens" => registration_opens: DateTime,
        /// `registrationCloses` (optional field).
        "registrationCloses" => registration_closes: DateTime,
        /// `privateEvent` (optional field).
        "privateEvent" => private_event: bool,
        /// `searchTags` (optional field).
        "searchTags" => search_tags: Vec<String>,
        /// `setupTime` (optional field): minutes.
        "setupTime" => setup_time: u64,
        /// `breakdownTime` (optional field): minutes.
        "breakdownTime" => breakdown_time: u64,
        /// `venueType` (optional field).
        "venueType" => venue_type: String,
        /// `externalVenueName` (optional field).
        "externalVenueName" => external_venue_name: String,
        /// `externalVenueDescription` (optional field): HTML, as sent.
        "externalVenueDescription" => external_venue_description: String,
        /// `externalVenueRoom` (optional field).
        "externalVenueRoom" => external_venue_room: String,
    }
}

/// The registration state of an event, as library sites show it (reference §4.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistrationState<'a> {
    /// The registration fields were not asked for (`registration` is absent).
    Unknown,
    /// Drop in: no registration.
    NotRequired,
    /// Registration happens elsewhere; the URL, if one was given and non-empty.
    ThirdParty {
        /// `eventRegistrationUrl`.
        url: Option<&'a str>,
    },
    /// Registration is open; `spots_left` is `None` when there is no attendee limit.
    Open {
        /// Places left, when the event has a limit.
        spots_left: Option<u64>,
    },
    /// Every place is taken but the waitlist has room ("Full – join waitlist").
    Waitlist,
    /// Every place (and the waitlist, if any) is taken.
    Full,
}

impl Event {
    /// Whether the event was canceled (`modified` is `canceled`; the API spells it with
    /// one `l`, the British spelling is accepted too). Canceled events stay in results.
    pub fn is_canceled(&self) -> bool {
        self.modified.as_deref().is_some_and(|m| {
            m.trim().eq_ignore_ascii_case("canceled") || m.trim().eq_ignore_ascii_case("cancelled")
        })
    }

    /// Whether the event was rescheduled (`modified` is `rescheduled`); the new one is
    /// [`new_event_id`](Event::new_event_id).
    pub fn is_rescheduled(&self) -> bool {
        self.modified
            .as_deref()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("rescheduled"))
    }

    /// Whether the event lasts all day: it starts at `00:00:00` and ends at `23:59:00`
    /// (or `23:59:59`) of the same day, the API's convention.
    pub fn is_all_day(&self) -> bool {
        match (self.event_start, self.event_end) {
            (Some(start), Some(end)) => {
                start.date() == end.date()
                    && start.time() == Time::midnight()
                    && end.hour() == 23
                    && end.minute() == 59
            }
            _ => false,
        }
    }

    /// Whether the event ends on a later day than it starts.
    pub fn is_multi_day(&self) -> bool {
        matches!((self.event_start, self.event_end), (Some(s), Some(e)) if e.date() > s.date())
    }

    /// The image to show: `featuredImage`, else `eventImage`, ignoring empty strings.
    pub fn image(&self) -> Option<&str> {
        [&self.featured_image, &self.event_image]
            .into_iter()
            .filter_map(|s| s.as_deref())
            .find(|s| !s.trim().is_empty())
    }

    /// Places left, when the event takes registrations and has a limit.
    pub fn spots_left(&self) -> Option<u64> {
        match self.registration_state() {
            RegistrationState::Open { spots_left } => spots_left,
            RegistrationState::Waitlist | RegistrationState::Full => Some(0),
            _ => None,
        }
    }

    /// The registration state, from `registration`, `thirdPartyRegistration`,
    /// `maxAttendees`, `totalRegistrants`, `waitlist`, `totalWaitlist` and `maxWaitlist`
    /// (ask for them with [`EventField::REGISTRATION`](crate::EventField::REGISTRATION)).
    ///
    /// ```
    /// use communico::{Event, RegistrationState};
    /// let e: Event = serde_json::from_str(r#"{"registration":true,"maxAttendees":12,"totalRegistrants":8,"waitlist":false}"#)?;
    /// assert_eq!(e.registration_state(), RegistrationState::Open { spots_left: Some(4) });
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn registration_state(&self) -> RegistrationState<'_> {
        match self.registration {
            None => return RegistrationState::Unknown,
            Some(false) => return RegistrationState::NotRequired,
            Some(true) => {}
        }
        if self.third_party_registration == Some(true) {
            return RegistrationState::ThirdParty {
                url: self
                    .event_registration_url
                    .as_deref()
                    .filter(|u| !u.trim().is_empty()),
            };
        }
        let max = self.max_attendees.unwrap_or(0);
        if max == 0 {
            return RegistrationState::Open { spots_left: None };
        }
        let taken = self.total_registrants.unwrap_or(0);
        if taken < max {
            return RegistrationState::Open {
                spots_left: Some(max - taken),
            };
        }
        let waitlist_has_room = self.waitlist == Some(true)
            && match self.max_waitlist.unwrap_or(0) {
                0 => true,
                cap => self.total_waitlist.unwrap_or(0) < cap,
            };
        if waitlist_has_room {
            RegistrationState::Waitlist
        } else {
            RegistrationState::Full
        }
    }
}

api_object! {
    /// One registrant of an event (`/v3/attend/events/{id}/registrants`, reference §2c).
    /// Only `librarycard` is known; everything else is kept in `extra`.
    pub struct Registrant {
        /// `librarycard`: may be `null` or `""`.
        "librarycard" => library_card: String,
    }
}

impl crate::paging::Listed for Event {
    fn id(&self) -> Option<u64> {
        self.event_id
    }
}

impl crate::paging::Listed for Registrant {
    // A library card may be empty or `null` for several registrants: compared by content.
    fn id(&self) -> Option<u64> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(value: serde_json::Value) -> Event {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn leniently_read_values_are_written_back_in_their_expected_type() {
        let e = event(json!({"eventId": "8890", "registration": "true", "title": 7}));
        assert_eq!(e.event_id, Some(8890));
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            // The number title has no string reading: kept as sent.
            json!({"eventId": 8890, "registration": true, "title": 7})
        );
    }

    #[test]
    fn round_trip_keeps_nulls_absences_raw_values_and_html() {
        let doc = json!({
            "eventId": 8890, "recurringId": 3565, "status": "published", "modified": "",
            "newEventId": null, "title": "Reading Club", "subTitle": "",
            "description": "<p>Do you love to knit&hellip;</p>",
            "eventStart": "2016-11-10 09:00:00", "eventEnd": "2016-11-10 10:00:00",
            "roomName": null, "eventImage": null, "maxAttendees": "",
            "registration": true, "customQuestions": [{"q": "Name?"}],
            "eventLastUpdated": "0000-00-00 00:00:00"
        });
        let e = event(doc.clone());
        assert_eq!(e.sub_title.as_deref(), Some(""));
        assert_eq!(e.room_name, None);
        assert!(e.was_null("roomName") && !e.was_null("roomId"));
        assert_eq!(e.max_attendees, None);
        assert_eq!(e.extra["maxAttendees"], json!(""));
        assert_eq!(e.event_last_updated, None);
        assert_eq!(serde_json::to_value(&e).unwrap(), doc);
    }

    #[test]
    fn lenient_types_are_normalised() {
        let e =
            event(json!({"eventId": "9967180", "registration": "true", "privateEvent": "false"}));
        assert_eq!(e.event_id, Some(9_967_180));
        assert_eq!(e.registration, Some(true));
        assert_eq!(e.private_event, Some(false));
    }

    #[test]
    fn modified_states() {
        assert!(event(json!({"modified": "canceled"})).is_canceled());
        assert!(event(json!({"modified": "Cancelled"})).is_canceled());
        assert!(event(json!({"modified": "rescheduled"})).is_rescheduled());
        let plain = event(json!({"modified": ""}));
        assert!(!plain.is_canceled() && !plain.is_rescheduled());
    }

    #[test]
    fn all_day_and_multi_day() {
        let all_day =
            event(json!({"eventStart": "2024-05-18 00:00:00", "eventEnd": "2024-05-18 23:59:00"}));
        assert!(all_day.is_all_day() && !all_day.is_multi_day());
        let multi =
            event(json!({"eventStart": "2024-06-03 10:00:00", "eventEnd": "2024-06-07 16:00:00"}));
        assert!(!multi.is_all_day() && multi.is_multi_day());
        assert!(!event(json!({"eventStart": null})).is_all_day());
    }

    #[test]
    fn registration_states_from_reference_samples() {
        let cases = [
            (json!({}), RegistrationState::Unknown),
            (
                json!({"registration": false}),
                RegistrationState::NotRequired,
            ),
            // E3: full, waitlist open.
            (
                json!({"registration": true, "maxAttendees": 20, "totalRegistrants": 20, "waitlist": true, "totalWaitlist": 3, "maxWaitlist": 10, "thirdPartyRegistration": false}),
                RegistrationState::Waitlist,
            ),
            // Waitlist full too.
            (
                json!({"registration": true, "maxAttendees": 20, "totalRegistrants": 20, "waitlist": true, "totalWaitlist": 10, "maxWaitlist": 10}),
                RegistrationState::Full,
            ),
            (
                json!({"registration": true, "maxAttendees": 20, "totalRegistrants": 21, "waitlist": false}),
                RegistrationState::Full,
            ),
            // E4: four spots left.
            (
                json!({"registration": true, "maxAttendees": 12, "totalRegistrants": 8, "waitlist": false}),
                RegistrationState::Open {
                    spots_left: Some(4),
                },
            ),
            (
                json!({"registration": true, "maxAttendees": 0}),
                RegistrationState::Open { spots_left: None },
            ),
            // E5: third party.
            (
                json!({"registration": true, "thirdPartyRegistration": true, "eventRegistrationUrl": "https://example.org/signup"}),
                RegistrationState::ThirdParty {
                    url: Some("https://example.org/signup"),
                },
            ),
            (
                json!({"registration": "true", "thirdPartyRegistration": "true", "eventRegistrationUrl": ""}),
                RegistrationState::ThirdParty { url: None },
            ),
        ];
        for (doc, want) in cases {
            let e = event(doc.clone());
            assert_eq!(e.registration_state(), want, "{doc}");
        }
    }

    #[test]
    fn image_prefers_featured_and_skips_empty() {
        assert_eq!(
            event(json!({"featuredImage": "", "eventImage": "https://x/a.jpg"})).image(),
            Some("https://x/a.jpg")
        );
        assert_eq!(
            event(json!({"featuredImage": "https://x/f.jpg", "eventImage": "https://x/a.jpg"}))
                .image(),
            Some("https://x/f.jpg")
        );
        assert_eq!(
            event(json!({"featuredImage": null, "eventImage": null})).image(),
            None
        );
    }

    #[test]
    fn registrants_keep_unknown_members() {
        let r: Registrant =
            serde_json::from_value(json!({"librarycard": "", "firstName": "A"})).unwrap();
        assert_eq!(r.library_card.as_deref(), Some(""));
        assert_eq!(r.extra["firstName"], json!("A"));
    }
}
