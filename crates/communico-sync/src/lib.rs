//! A local SQLite mirror of a Communico library's events, kept in step with the API one
//! transaction a run, with an exact change feed.
//!
//! A [`Mirror`] is one SQLite file (SQLite is compiled in: no system library needed).
//! [`Mirror::sync`] lists a window of days once with a [`communico::Client`], compares
//! every event with the mirror's copy and applies the differences in one transaction,
//! recording each as a [`Change`]: `added`, `updated`, `canceled`, `rescheduled`,
//! `removed` or `restored` ([`ChangeKind`]). [`Mirror::for_each_change`] reads a sync's
//! changes back as the change feed, one JSON object a line
//! ([`Change::to_json_line`]).
//!
//! # What can go wrong, and what the mirror does
//! - **A listing that fails part-way changes nothing**: the transaction is rolled back,
//!   and no event is marked removed from an incomplete listing ([`Error::Listing`]).
//! - **A killed process** leaves the file as it was before the run or as it is after it:
//!   SQLite's atomic commit, with the write-ahead log and `synchronous = FULL`.
//! - **Mass removals**: a complete listing that would remove more than a share of the
//!   window's events (20 % by default, [`RemovalLimit`]) removes nothing and fails with
//!   [`Error::TooManyRemovals`].
//! - **Two syncs on one file**: each takes SQLite's write lock first (`BEGIN IMMEDIATE`);
//!   the second waits up to the lock timeout ([`OpenOptions::lock_timeout`], 30 s by
//!   default, SQLite's busy timeout) and then fails with [`Error::Locked`]. Readers are
//!   never blocked.
//!
//! # Classification
//! Events are compared as JSON values, every member and value the client kept (the
//! order of members does not matter). An event the mirror has never held is `added`;
//! one the mirror had marked removed is `restored`; a change of the API's `modified`
//! member to `canceled` or `rescheduled` (with `newEventId` naming the replacement) is
//! `canceled` or `rescheduled`; any other difference is `updated`; no difference is
//! unchanged. An event whose `eventStart` lies in the window, that the mirror holds
//! under the same filters (the *scope*), and that a complete listing no longer contains
//! is `removed`.
//!
//! The stored JSON is the [`communico::Event`] as the client serializes it, which keeps
//! every member the API sent (unknown ones too) with its value; the only normalisation is
//! the JSON type of a leniently read value (`"eventId": "8890"` is stored as `8890`), so
//! a server that flips a number between string and number does not cause updates.
//!
//! # Schema (version 2, in `PRAGMA user_version`)
//! ```sql
//! CREATE TABLE events (
//!     event_id     INTEGER PRIMARY KEY,   -- eventId
//!     raw          TEXT NOT NULL,         -- the event's JSON, every member kept
//!     event_start  TEXT,                  -- 'YYYY-MM-DD HH:MM:SS', library-local time
//!     event_end    TEXT,                  -- likewise
//!     modified     TEXT,                  -- '', 'canceled', 'rescheduled'
//!     first_seen   TEXT NOT NULL,         -- RFC 3339 UTC: the sync that added it
//!     last_seen    TEXT NOT NULL,         -- the last sync that listed it
//!     last_changed TEXT NOT NULL,         -- the last sync that recorded a change
//!     removed_at   TEXT,                  -- NULL while present
//!     last_sync    INTEGER NOT NULL REFERENCES syncs (sync_id),
//!     scope        TEXT NOT NULL DEFAULT '' -- the filters of the listing that last saw it
//! );
//! CREATE TABLE changes (                  -- the change feed, as --changes writes it
//!     seq      INTEGER PRIMARY KEY AUTOINCREMENT,
//!     sync_id  INTEGER NOT NULL REFERENCES syncs (sync_id),
//!     at       TEXT NOT NULL,             -- RFC 3339 UTC
//!     change   TEXT NOT NULL,             -- added|updated|canceled|rescheduled|removed|restored
//!     event_id INTEGER NOT NULL,
//!     event    TEXT                       -- the event's JSON; NULL for removed
//! );
//! CREATE TABLE syncs (                    -- one row per committed sync
//!     sync_id INTEGER PRIMARY KEY, window_from TEXT NOT NULL, window_to TEXT NOT NULL,
//!     started TEXT NOT NULL, finished TEXT NOT NULL,
//!     listed INTEGER, added INTEGER, updated INTEGER, canceled INTEGER,
//!     rescheduled INTEGER, removed INTEGER, restored INTEGER, unchanged INTEGER,
//!     scope TEXT NOT NULL DEFAULT ''
//! );
//! ```
//! Opening a file of an older version migrates it forward in one transaction; a file of
//! a newer version is refused ([`Error::NewerSchema`]). Only committed syncs leave rows:
//! a failed sync leaves none. Programs may read the file at any time (it is in WAL
//! mode); only this crate should write it.
//!
//! This crate is the only one in the workspace that speaks SQL, and it names no HTTP
//! stack: the [`communico::Client`] it is given brings its transport.

mod change;
mod error;
mod mirror;
mod schema;

pub use change::{Change, ChangeKind};
pub use error::Error;
pub use mirror::{
    DEFAULT_LOCK_TIMEOUT, MAX_LOCK_TIMEOUT, Mirror, MirroredEvent, OpenOptions, RemovalLimit,
    SyncOptions, SyncReport, Window, listing_scope,
};

/// The schema version this crate writes (`PRAGMA user_version` of an up-to-date mirror).
pub const SCHEMA_VERSION: i64 = schema::LATEST;

#[doc(hidden)]
/// The statements that take an empty file to each schema version, for tests that build
/// a mirror of an older version.
pub fn migration_steps() -> &'static [&'static str] {
    schema::MIGRATIONS
}
