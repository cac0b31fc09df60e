//! Changing the Communico data set while it is served: what the mutation methods of
//! [`CommunicoSandbox`](super::CommunicoSandbox) take and how they fail.

use jiff::civil::DateTime;

/// The members of an event that [`add_event`](super::CommunicoSandbox::add_event) sets
/// and [`update_event`](super::CommunicoSandbox::update_event) lets a test change.
///
/// Times are the API's library-local wall times (reference §3, `eventStart`).
///
/// ```
/// use sandbox::communico::EventEdit;
/// use jiff::civil::date;
///
/// let edit = EventEdit::new(
///     "Chess Club",
///     date(2024, 5, 2).at(17, 0, 0, 0),
///     date(2024, 5, 2).at(18, 30, 0, 0),
/// )
/// .location_id(416);
/// assert_eq!(edit.location_id, 416);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventEdit {
    /// `title`.
    pub title: String,
    /// `subTitle` (`""` for none).
    pub sub_title: String,
    /// `eventStart`; its date decides the days the event is listed under.
    pub start: DateTime,
    /// `eventEnd`.
    pub end: DateTime,
    /// `locationId`: one of the sandbox's locations (`415`..=`434`).
    pub location_id: u64,
}

impl EventEdit {
    /// An event at the first location (`415`, "Main") with no subtitle.
    pub fn new(title: impl Into<String>, start: DateTime, end: DateTime) -> Self {
        Self {
            title: title.into(),
            sub_title: String::new(),
            start,
            end,
            location_id: 415,
        }
    }

    /// Sets `subTitle`.
    #[must_use]
    pub fn sub_title(mut self, sub_title: impl Into<String>) -> Self {
        self.sub_title = sub_title.into();
        self
    }

    /// Sets `locationId`.
    #[must_use]
    pub fn location_id(mut self, location_id: u64) -> Self {
        self.location_id = location_id;
        self
    }
}

/// Why a change to the data set was refused; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    /// No event has this id (never existed, or deleted).
    #[error("no event {0} in the sandbox's data set")]
    UnknownEvent(u64),
    /// The `locationId` is not one of the sandbox's locations (`415`..=`434`).
    #[error("no location {0} in the sandbox's data set (locations are 415..=434)")]
    UnknownLocation(u64),
    /// `eventEnd` is before `eventStart`.
    #[error("the event would end ({end}) before it starts ({start})")]
    EndBeforeStart {
        /// The start asked for.
        start: DateTime,
        /// The end asked for.
        end: DateTime,
    },
}
