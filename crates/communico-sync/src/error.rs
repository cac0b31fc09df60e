//! The one error type of this crate.

use std::path::PathBuf;
use std::time::Duration;

/// Why opening or syncing a mirror failed. Whenever a sync fails, the mirror is left
/// exactly as it was before the run: its one transaction is rolled back.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The mirror file could not be created, read or written (permissions, a full disk,
    /// a directory that does not exist, a damaged file).
    #[error("cannot use the mirror {}: {source}", path.display())]
    Storage {
        /// The mirror file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },

    /// The file exists but is not an event mirror (another SQLite database, or not a
    /// database at all): choose another path.
    #[error("{} is not an event mirror: {reason}", path.display())]
    NotAMirror {
        /// The file.
        path: PathBuf,
        /// What was found instead.
        reason: String,
    },

    /// The mirror was written by a newer version of this crate (its schema version is
    /// higher than this one knows): upgrade the program.
    #[error(
        "{} has schema version {found}, newer than version {supported} that this program knows; upgrade it",
        path.display()
    )]
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// The file's `PRAGMA user_version`.
        found: i64,
        /// The highest version this crate migrates to.
        supported: i64,
    },

    /// Another sync held the mirror's write lock for longer than the lock timeout: wait
    /// for it to finish, or raise [`OpenOptions::lock_timeout`](crate::OpenOptions::lock_timeout).
    #[error(
        "another sync is writing {} (waited {} s for it); nothing was changed",
        path.display(),
        waited.as_secs_f64()
    )]
    Locked {
        /// The mirror file.
        path: PathBuf,
        /// How long this sync waited for the lock.
        waited: Duration,
    },

    /// The listing failed before it was complete (network, server or authentication
    /// failure); nothing was changed, and running the sync again is safe.
    #[error("the event listing failed after {received} events, so nothing was changed: {source}")]
    Listing {
        /// Events received before the failure.
        received: u64,
        /// The client's error.
        #[source]
        source: communico::Error,
    },

    /// A complete listing would mark more of the window's events removed than the
    /// removal limit allows; nothing was changed. If the events really were removed on
    /// the server, sync again with a higher limit or [`RemovalLimit::Unlimited`](crate::RemovalLimit::Unlimited).
    #[error(
        "the listing of {window} would remove {would_remove} of the {present} events the mirror holds there ({share:.1}%), more than the limit of {limit_percent}%; nothing was changed"
    )]
    TooManyRemovals {
        /// The synced window, `from..to`.
        window: String,
        /// Events the listing no longer contains.
        would_remove: u64,
        /// Events the mirror held in the window before the run.
        present: u64,
        /// `would_remove` as a percentage of `present`.
        share: f64,
        /// The limit, in percent of `present`.
        limit_percent: f64,
    },

    /// The change feed's callback failed (the output it writes to was closed or full);
    /// the sync itself was committed before.
    #[error("cannot write the change feed: {source}")]
    Output {
        /// The callback's error.
        #[source]
        source: std::io::Error,
    },

    /// An argument cannot be used (a window that ends before it starts, a removal
    /// limit outside 0-100 %).
    #[error("{reason}")]
    InvalidArgument {
        /// What is wrong, naming the argument.
        reason: String,
    },
}

impl Error {
    pub(crate) fn storage(path: &std::path::Path, source: rusqlite::Error) -> Self {
        Error::Storage {
            path: path.to_owned(),
            source,
        }
    }
}
