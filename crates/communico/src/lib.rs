//! A client for the Communico Client API (`https://api.communico.co/v3/...`): events and
//! their registrants, event types, age groups, locations, rooms and reservations.
//!
//! - [`Client`] authenticates with the client-credentials grant (HTTP Basic over the raw
//!   `key:secret`, as Communico expects), caches the token with `auth-core`'s
//!   [`CachingProvider`](auth_core::token_cache::CachingProvider), replays a request once
//!   on `401`, and sends everything through `auth-core`'s retry layer ([`RetryPolicy`]:
//!   `429`, `502`-`504` and connection failures, honouring `Retry-After`). It is generic
//!   over any [`HttpTransport`](auth_core::HttpTransport); the `reqwest` feature (on by
//!   default) supplies one when none is given.
//! - [`Client::events`] returns an [`EventStream`] that pages through every match holding
//!   one page at a time.
//! - Query builders ([`EventQuery`], [`ReservationQuery`]) cover every documented
//!   parameter and encode values exactly once; dates are checked before anything is sent.
//! - Models ([`Event`], [`Reservation`], …) use the API's member names, keep the naive
//!   local date-times as [`jiff::civil::DateTime`], keep `null` apart from `""` and from
//!   absent, keep HTML as sent, and keep every member they do not model in `extra`, so a
//!   round trip keeps every member and value; only the JSON types of leniently read
//!   values are normalised (`"8890"` is written back as `8890`, `"true"` as `true`).
//!
//! The API's quirks this crate handles are described where they are handled, citing the
//! fact sheet the crate follows (sections such as "reference §4.9").

mod client;
mod envelope;
mod error;
mod event;
mod lookup;
mod paging;
mod query;
mod repair;
mod reserve;
mod stream;
mod wire;

pub use client::{Client, ClientBuilder, DEFAULT_BASE_URL, DEFAULT_TIMEOUT};
pub use envelope::Page;
pub use error::Error;
pub use event::{Event, Registrant, RegistrationState};
pub use lookup::{AgeGroup, EventType, Location};
pub use query::{
    EventField, EventQuery, MAX_PAGE_SIZE, ReservationQuery, SortOrder, Visibility, date,
};
pub use reserve::{Reservation, ReservationStatus, Room};
pub use stream::EventStream;
pub use wire::{LocalDateTime, parse_local_datetime};

// Re-exported so callers need not depend on these crates to name their types.
pub use auth_core::ClientSecret;
pub use auth_core::retry::RetryPolicy;
pub use jiff;
