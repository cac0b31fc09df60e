//! Rooms and room reservations (`/v3/reserve/...`).

use std::fmt;

use jiff::civil::DateTime;

use crate::wire::api_object;

api_object! {
    /// A bookable room (`/v3/reserve/rooms`, reference §2g). Rooms carry no
    /// `locationName`: join on `locationId` with [`Location`](crate::Location).
    pub struct Room {
        /// `roomId`.
        "roomId" => room_id: u64,
        /// `name` (not `roomName`).
        "name" => name: String,
        /// `locationId`.
        "locationId" => location_id: u64,
        /// `roomType`.
        "roomType" => room_type: String,
        /// `setupTime`: minutes.
        "setupTime" => setup_time: u64,
        /// `breakdownTime`: minutes.
        "breakdownTime" => breakdown_time: u64,
        /// `staffBookable`.
        "staffBookable" => staff_bookable: bool,
    }
}

api_object! {
    /// A room reservation (`/v3/reserve/reservations`, reference §2h). The contact
    /// members are personal data: ask for them only when needed.
    pub struct Reservation {
        /// `reservationId`.
        "reservationId" => reservation_id: u64,
        /// `roomId`.
        "roomId" => room_id: u64,
        /// `roomName`.
        "roomName" => room_name: String,
        /// `displayName`: the booking's title.
        "displayName" => display_name: String,
        /// `startTime`: local wall time.
        "startTime" => start_time: DateTime,
        /// `endTime`: local wall time.
        "endTime" => end_time: DateTime,
        /// `setupTime`: minutes.
        "setupTime" => setup_time: u64,
        /// `breakdownTime`: minutes.
        "breakdownTime" => breakdown_time: u64,
        /// `contactName`.
        "contactName" => contact_name: String,
        /// `contactPhone`.
        "contactPhone" => contact_phone: String,
        /// `contactEmail`.
        "contactEmail" => contact_email: String,
        /// `locationId`.
        "locationId" => location_id: u64,
        /// `locationName`.
        "locationName" => location_name: String,
        /// `status`: `approved`, `pending` or `declined`.
        "status" => status: String,
        /// `type`: `Event`, `Staff`, … (capitalisation varies between libraries).
        "type" => reservation_type: String,
        /// `eventId`, when the reservation is for an event.
        "eventId" => event_id: u64,
        /// `groupName`.
        "groupName" => group_name: String,
        /// `expectedAttendees`.
        "expectedAttendees" => expected_attendees: u64,
        /// `patronNotes`.
        "patronNotes" => patron_notes: String,
        /// `eventNotes`.
        "eventNotes" => event_notes: String,
        /// `layout`.
        "layout" => layout: String,
    }
}

/// A reservation status to filter on. The API takes one per request: repeating the
/// `status` key makes it fail (reference §1b), so the client makes one call per status.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReservationStatus {
    /// `approved`.
    Approved,
    /// `pending`.
    Pending,
    /// `declined`.
    Declined,
    /// Any other value, sent as given.
    Other(String),
}

impl ReservationStatus {
    /// The value sent in the query.
    pub fn as_str(&self) -> &str {
        match self {
            ReservationStatus::Approved => "approved",
            ReservationStatus::Pending => "pending",
            ReservationStatus::Declined => "declined",
            ReservationStatus::Other(s) => s,
        }
    }
}

impl fmt::Display for ReservationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Reservation {
    /// Whether the reservation is for an event (`type` is `Event`, any capitalisation).
    pub fn is_event(&self) -> bool {
        self.reservation_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("event"))
    }
}

impl crate::paging::Listed for Room {
    fn id(&self) -> Option<u64> {
        self.room_id
    }
}

impl crate::paging::Listed for Reservation {
    fn id(&self) -> Option<u64> {
        self.reservation_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reservation_round_trip_and_type_member() {
        let doc = json!({
            "reservationId": 7, "roomId": "12", "displayName": "Book Club",
            "startTime": "2024-05-01 18:00:00", "endTime": "2024-05-01 19:30:00",
            "status": "approved", "type": "Event", "eventId": 8890, "layout": null
        });
        let r: Reservation = serde_json::from_value(doc).unwrap();
        assert_eq!(r.room_id, Some(12));
        assert!(r.is_event());
        assert_eq!(r.start_time.map(|t| t.minute()), Some(0));
        let back = serde_json::to_value(&r).unwrap();
        assert_eq!(back["roomId"], json!(12));
        assert_eq!(back["layout"], json!(null));
        assert_eq!(back["type"], json!("Event"));
    }

    #[test]
    fn room_uses_name_not_room_name() {
        let room: Room = serde_json::from_value(
            json!({"roomId": 1, "name": "Meeting Room A", "staffBookable": true}),
        )
        .unwrap();
        assert_eq!(room.name.as_deref(), Some("Meeting Room A"));
        assert_eq!(room.staff_bookable, Some(true));
    }
}
