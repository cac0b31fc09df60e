//! The mirror file: opening and migrating it, and one sync as one transaction.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use communico::{Client, Event, EventQuery, LocalDateTime};
use futures_util::{Stream, StreamExt};
use jiff::civil::Date;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, params};

use crate::change::{Change, ChangeKind, Modified, Stored, classify};
use crate::error::Error;
use crate::schema::{self, State};

/// How long a sync waits for another sync's write lock on the same file by default.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest wait for the file's lock that SQLite can take: `i32::MAX` milliseconds
/// (about 24.8 days). [`OpenOptions::lock_timeout`] clamps to it.
pub const MAX_LOCK_TIMEOUT: Duration = Duration::from_millis(i32::MAX as u64);

/// How many listed events are compared and written at a time. Statements are prepared
/// once a batch; the listing itself is consumed one page at a time.
const BATCH: usize = 256;

/// The days a sync covers: events whose `eventStart` date lies in `from..=to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    from: Date,
    to: Date,
}

impl Window {
    /// The days `from` to `to`, both included.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `to` is before `from`.
    ///
    /// ```
    /// use communico_sync::Window;
    /// use communico::jiff::civil::date;
    /// let w = Window::new(date(2025, 11, 1), date(2025, 11, 30))?;
    /// assert_eq!(w.to_string(), "2025-11-01..2025-11-30");
    /// assert!(Window::new(date(2025, 11, 2), date(2025, 11, 1)).is_err());
    /// # Ok::<(), communico_sync::Error>(())
    /// ```
    pub fn new(from: Date, to: Date) -> Result<Window, Error> {
        if to < from {
            return Err(Error::InvalidArgument {
                reason: format!("the window's last day {to} is before its first day {from}"),
            });
        }
        Ok(Window { from, to })
    }

    /// The first day.
    pub fn from(&self) -> Date {
        self.from
    }

    /// The last day, included.
    pub fn to(&self) -> Date {
        self.to
    }

    /// The bounds of `event_start` text (`YYYY-MM-DD HH:MM:SS`) in the window:
    /// `from <= start < to~`. `~` sorts after every character the layout uses, so every
    /// time of the last day is below it and the next day is not.
    fn start_bounds(&self) -> (String, String) {
        (self.from.to_string(), format!("{}~", self.to))
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.from, self.to)
    }
}

/// How many removals a sync may apply, as a share of the events the mirror held in the
/// window before the run.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum RemovalLimit {
    /// At most this percentage (0-100) of the window's events; more removes nothing and
    /// fails with [`Error::TooManyRemovals`].
    Percent(f64),
    /// Any number: a listing that lost every event empties the window.
    Unlimited,
}

impl RemovalLimit {
    /// The default: 20 %.
    pub const DEFAULT: RemovalLimit = RemovalLimit::Percent(20.0);

    /// A limit of `percent` of the window's events.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] unless `0 <= percent <= 100`.
    ///
    /// ```
    /// use communico_sync::RemovalLimit;
    /// assert!(RemovalLimit::percent(5.0).is_ok());
    /// assert!(RemovalLimit::percent(120.0).is_err());
    /// ```
    pub fn percent(percent: f64) -> Result<RemovalLimit, Error> {
        if !(0.0..=100.0).contains(&percent) {
            return Err(Error::InvalidArgument {
                reason: format!(
                    "the removal limit must be a percentage from 0 to 100, not {percent}"
                ),
            });
        }
        Ok(RemovalLimit::Percent(percent))
    }

    /// Whether removing `removals` of `present` events goes beyond the limit.
    fn exceeded(self, removals: u64, present: u64) -> Option<f64> {
        match self {
            RemovalLimit::Unlimited => None,
            RemovalLimit::Percent(limit) => {
                if removals == 0 {
                    return None;
                }
                let share = removals as f64 * 100.0 / present.max(1) as f64;
                (share > limit).then_some(share)
            }
        }
    }
}

impl Default for RemovalLimit {
    fn default() -> Self {
        RemovalLimit::DEFAULT
    }
}

/// What a sync may do.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SyncOptions {
    /// The removal guard (default 20 %).
    pub removal_limit: RemovalLimit,
}

impl SyncOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the removal guard.
    #[must_use]
    pub fn removal_limit(mut self, limit: RemovalLimit) -> Self {
        self.removal_limit = limit;
        self
    }
}

/// What one committed sync did: its counts, and the id under which its changes are
/// recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncReport {
    /// `syncs.sync_id`: pass it to [`Mirror::for_each_change`] for the change feed.
    pub sync_id: i64,
    /// The synced window.
    pub window: Window,
    /// Distinct events in the listing.
    pub listed: u64,
    /// Events new to the mirror.
    pub added: u64,
    /// Events changed in another way.
    pub updated: u64,
    /// Events newly canceled.
    pub canceled: u64,
    /// Events newly rescheduled.
    pub rescheduled: u64,
    /// Events of the window missing from the listing.
    pub removed: u64,
    /// Removed events that came back.
    pub restored: u64,
    /// Events listed exactly as the mirror held them.
    pub unchanged: u64,
    /// Listed events that were left out because they have no usable `eventId` (none,
    /// or one above 2^63 - 1); each is logged as a warning.
    pub without_id: u64,
    /// Events listed a second time in the same listing (ignored after the first).
    pub repeated: u64,
}

impl SyncReport {
    fn new(sync_id: i64, window: Window) -> Self {
        SyncReport {
            sync_id,
            window,
            listed: 0,
            added: 0,
            updated: 0,
            canceled: 0,
            rescheduled: 0,
            removed: 0,
            restored: 0,
            unchanged: 0,
            without_id: 0,
            repeated: 0,
        }
    }

    /// How many changes of `kind` the sync made.
    pub fn count(&self, kind: ChangeKind) -> u64 {
        match kind {
            ChangeKind::Added => self.added,
            ChangeKind::Updated => self.updated,
            ChangeKind::Canceled => self.canceled,
            ChangeKind::Rescheduled => self.rescheduled,
            ChangeKind::Removed => self.removed,
            ChangeKind::Restored => self.restored,
        }
    }

    fn bump(&mut self, kind: ChangeKind) {
        let slot = match kind {
            ChangeKind::Added => &mut self.added,
            ChangeKind::Updated => &mut self.updated,
            ChangeKind::Canceled => &mut self.canceled,
            ChangeKind::Rescheduled => &mut self.rescheduled,
            ChangeKind::Removed => &mut self.removed,
            ChangeKind::Restored => &mut self.restored,
        };
        *slot += 1;
    }

    /// Every change made (all kinds, not `unchanged`).
    pub fn changes(&self) -> u64 {
        ChangeKind::ALL.into_iter().map(|k| self.count(k)).sum()
    }
}

impl fmt::Display for SyncReport {
    /// The summary line:
    /// `574 events in 2025-11-01..2025-11-30: 4 added, 5 updated, 3 canceled, 0 rescheduled, 2 removed, 0 restored, 560 unchanged`
    /// (the first number counts the listed events and the removed ones).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} events in {}: {} added, {} updated, {} canceled, {} rescheduled, {} removed, {} restored, {} unchanged",
            self.changes() + self.unchanged,
            self.window,
            self.added,
            self.updated,
            self.canceled,
            self.rescheduled,
            self.removed,
            self.restored,
            self.unchanged
        )
    }
}

/// One event as the mirror holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MirroredEvent {
    /// `eventId`.
    pub event_id: u64,
    /// The event's JSON text.
    pub raw: String,
    /// `eventStart` as `YYYY-MM-DD HH:MM:SS` (library-local wall time).
    pub event_start: Option<String>,
    /// `eventEnd`, likewise.
    pub event_end: Option<String>,
    /// `modified` as listed.
    pub modified: Option<String>,
    /// When a sync first listed it (RFC 3339, UTC).
    pub first_seen: String,
    /// When a sync last listed it.
    pub last_seen: String,
    /// When a sync last recorded a change of it.
    pub last_changed: String,
    /// When a sync marked it removed; `None` while present.
    pub removed_at: Option<String>,
}

/// Opens a mirror with settings other than the defaults.
#[derive(Debug, Clone)]
#[must_use]
pub struct OpenOptions {
    lock_timeout: Duration,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
        }
    }
}

impl OpenOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// How long a sync (or a migration) waits for another connection's write lock on
    /// the file before failing with [`Error::Locked`] (default [`DEFAULT_LOCK_TIMEOUT`]).
    /// It is SQLite's busy timeout: the wait is spent retrying the lock, not sleeping
    /// once. SQLite counts it in milliseconds in an `int`, so anything longer than
    /// [`MAX_LOCK_TIMEOUT`] (about 24.8 days) waits that long.
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout.min(MAX_LOCK_TIMEOUT);
        self
    }

    /// Opens the mirror at `path`, creating the file when it is missing and migrating
    /// an older schema forward.
    ///
    /// # Errors
    /// [`Error::Storage`] (cannot create or read the file), [`Error::NotAMirror`],
    /// [`Error::NewerSchema`], [`Error::Locked`] (a migration waited too long).
    pub fn open(self, path: impl AsRef<Path>) -> Result<Mirror, Error> {
        let path = path.as_ref().to_owned();
        let storage = |e| Error::storage(&path, e);
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(storage)?;
        // Clamped again: a `Duration` past SQLite's `int` of milliseconds panics in rusqlite.
        conn.busy_timeout(self.lock_timeout.min(MAX_LOCK_TIMEOUT))
            .map_err(storage)?;
        let not_a_mirror = |e: rusqlite::Error| match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => Error::NotAMirror {
                path: path.clone(),
                reason: "it is not an SQLite database".into(),
            },
            _ => Error::storage(&path, e),
        };
        let state = schema::state(&conn).map_err(not_a_mirror)?;
        let mut mirror = Mirror {
            conn,
            path: path.clone(),
            lock_timeout: self.lock_timeout,
        };
        match state {
            State::Current => {}
            State::Newer(found) => {
                return Err(Error::NewerSchema {
                    path,
                    found,
                    supported: schema::LATEST,
                });
            }
            State::Foreign(reason) => return Err(Error::NotAMirror { path, reason }),
            State::Older(_) => mirror.migrate()?,
        }
        // WAL: readers (a website reading the mirror) never wait for a sync, and a sync
        // never waits for them. FULL: the commit is on disk when the sync returns.
        mirror
            .conn
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;")
            .map_err(|e| mirror.fail(e))?;
        Ok(mirror)
    }
}

/// A mirror of a library's events in an SQLite file.
///
/// ```no_run
/// use communico::{jiff::civil::date, Client, EventQuery};
/// use communico_sync::{Mirror, SyncOptions, Window};
///
/// # async fn run(client: Client) -> Result<(), communico_sync::Error> {
/// let mut mirror = Mirror::open("events.sqlite")?;
/// let window = Window::new(date(2025, 11, 1), date(2025, 11, 30))?;
/// let report = mirror
///     .sync(&client, window, EventQuery::new(), &SyncOptions::new())
///     .await?;
/// eprintln!("{report}");
/// mirror.for_each_change(report.sync_id, |change| {
///     println!("{}", change.to_json_line());
///     Ok(())
/// })?;
/// # Ok(())
/// # }
/// ```
pub struct Mirror {
    conn: Connection,
    path: PathBuf,
    lock_timeout: Duration,
}

impl fmt::Debug for Mirror {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mirror")
            .field("path", &self.path)
            .field("lock_timeout", &self.lock_timeout)
            .finish_non_exhaustive()
    }
}

impl Mirror {
    /// Opens (or creates) the mirror at `path` with the default [`OpenOptions`].
    ///
    /// # Errors
    /// As [`OpenOptions::open`].
    pub fn open(path: impl AsRef<Path>) -> Result<Mirror, Error> {
        OpenOptions::new().open(path)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's schema version (`PRAGMA user_version`).
    ///
    /// # Errors
    /// [`Error::Storage`].
    pub fn schema_version(&self) -> Result<i64, Error> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.fail(e))
    }

    fn fail(&self, error: rusqlite::Error) -> Error {
        fail(&self.path, self.lock_timeout, error)
    }

    fn migrate(&mut self) -> Result<(), Error> {
        let (path, lock_timeout) = (&self.path, self.lock_timeout);
        let storage = |e| fail(path, lock_timeout, e);
        let tx = Write::begin(&mut self.conn, path, lock_timeout)?;
        // Read again under the lock: another program may have migrated meanwhile.
        match schema::state(tx.conn).map_err(storage)? {
            State::Older(version) => schema::migrate(tx.conn, version).map_err(storage)?,
            State::Current => {}
            State::Newer(found) => {
                return Err(Error::NewerSchema {
                    path: path.clone(),
                    found,
                    supported: schema::LATEST,
                });
            }
            State::Foreign(reason) => {
                return Err(Error::NotAMirror {
                    path: path.clone(),
                    reason,
                });
            }
        }
        tx.commit()
    }

    /// Lists `window` with `client` (the `query`'s filters, its dates replaced by the
    /// window's), compares every event with the mirror and applies every change in one
    /// transaction. See [`sync_listing`](Mirror::sync_listing) for the guarantees.
    ///
    /// # Errors
    /// As [`sync_listing`](Mirror::sync_listing); a query the client refuses is
    /// [`Error::Listing`].
    pub async fn sync(
        &mut self,
        client: &Client,
        window: Window,
        query: EventQuery,
        options: &SyncOptions,
    ) -> Result<SyncReport, Error> {
        let query = query.start_date(window.from).end_date(window.to);
        let scope = listing_scope(&query);
        let listing = client.events(query).map_err(|source| Error::Listing {
            received: 0,
            source,
        })?;
        self.sync_listing(window, &scope, listing, options).await
    }

    /// Applies a complete listing of `window` (any stream of events, such as
    /// [`communico::EventStream`]) to the mirror, in one transaction.
    ///
    /// - The write lock is taken first (`BEGIN IMMEDIATE`): a second sync on the same
    ///   file waits up to the lock timeout, then fails with [`Error::Locked`]. Readers
    ///   are never blocked (WAL).
    /// - Each listed event is compared with the mirror's copy as JSON (every member and
    ///   value) and classified (see [`ChangeKind`]); events are stored as the client
    ///   serializes them, which keeps every member the API sent.
    /// - When the stream ends, events of the window that the mirror holds under the same
    ///   `scope` (the listing's filters) or a narrower one (more filters, so fewer events)
    ///   and that were not listed are removed, unless that is more than
    ///   `options.removal_limit` allows.
    /// - Nothing is written unless the whole listing arrived and every check passed:
    ///   a listing that fails, a guard that trips, a dropped future or a killed process
    ///   leave the mirror exactly as it was (SQLite's atomic commit).
    ///
    /// `scope` names the listing's filters; events last listed under broader or other
    /// filters are never removed by this listing. [`sync`](Mirror::sync) derives it from the query.
    ///
    /// SQLite works on the calling thread: the lock wait (SQLite's busy handler) and the
    /// writes block it between the listing's pages (a batch of 256 events at a time, a
    /// few milliseconds). On a multi-threaded runtime that is harmless; on a
    /// current-thread runtime, other tasks wait while another sync holds the lock.
    ///
    /// # Errors
    /// [`Error::Locked`], [`Error::Listing`], [`Error::TooManyRemovals`],
    /// [`Error::Storage`].
    pub async fn sync_listing<S>(
        &mut self,
        window: Window,
        scope: &str,
        mut listing: S,
        options: &SyncOptions,
    ) -> Result<SyncReport, Error>
    where
        S: Stream<Item = Result<Event, communico::Error>> + Unpin,
    {
        let started = now();
        let path = self.path.clone();
        let lock_timeout = self.lock_timeout;
        let storage = |e| fail(&path, lock_timeout, e);
        let tx = Write::begin(&mut self.conn, &path, lock_timeout)?;
        let (from, to) = (window.from.to_string(), window.to.to_string());
        tx.conn
            .execute(
                "INSERT INTO syncs (window_from, window_to, scope, started, finished)
                 VALUES (?1, ?2, ?3, ?4, ?4)",
                params![from, to, scope, started],
            )
            .map_err(storage)?;
        let sync_id = tx.conn.last_insert_rowid();
        let (low, high) = window.start_bounds();
        let present = within(tx.conn, None, scope, [&low, &high, &to])
            .map_err(storage)?
            .len() as u64;
        let mut report = SyncReport::new(sync_id, window);
        let context = Context {
            sync_id,
            scope,
            now: &started,
        };
        let mut batch = Vec::with_capacity(BATCH);
        let mut received: u64 = 0;
        loop {
            match listing.next().await {
                Some(Ok(event)) => {
                    received += 1;
                    batch.push(event);
                    if batch.len() == BATCH {
                        apply(tx.conn, &context, &mut batch, &mut report).map_err(storage)?;
                    }
                }
                Some(Err(source)) => return Err(Error::Listing { received, source }),
                None => break,
            }
        }
        apply(tx.conn, &context, &mut batch, &mut report).map_err(storage)?;

        let missing = within(tx.conn, Some(sync_id), scope, [&low, &high, &to]).map_err(storage)?;
        let would_remove = missing.len() as u64;
        if let Some(share) = options.removal_limit.exceeded(would_remove, present) {
            let limit_percent = match options.removal_limit {
                RemovalLimit::Percent(p) => p,
                RemovalLimit::Unlimited => 100.0,
            };
            return Err(Error::TooManyRemovals {
                window: window.to_string(),
                would_remove,
                present,
                share,
                limit_percent,
            });
        }
        remove(tx.conn, &context, &missing).map_err(storage)?;
        report.removed = would_remove;
        tx.conn
            .execute(
                "UPDATE syncs SET finished = ?2, listed = ?3, added = ?4, updated = ?5,
                   canceled = ?6, rescheduled = ?7, removed = ?8, restored = ?9,
                   unchanged = ?10
                 WHERE sync_id = ?1",
                params![
                    sync_id,
                    now(),
                    sql_count(report.listed),
                    sql_count(report.added),
                    sql_count(report.updated),
                    sql_count(report.canceled),
                    sql_count(report.rescheduled),
                    sql_count(report.removed),
                    sql_count(report.restored),
                    sql_count(report.unchanged)
                ],
            )
            .map_err(storage)?;
        tx.commit()?;
        Ok(report)
    }

    /// Calls `f` with each change a sync recorded, in order, reading them from the
    /// `changes` table one at a time; returns how many there were.
    ///
    /// # Errors
    /// [`Error::Storage`]; [`Error::Output`] with the error `f` returned (the remaining
    /// changes are not read).
    pub fn for_each_change(
        &self,
        sync_id: i64,
        mut f: impl FnMut(&Change) -> io::Result<()>,
    ) -> Result<u64, Error> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT seq, sync_id, at, change, event_id, event FROM changes
                 WHERE sync_id = ?1 ORDER BY seq",
            )
            .map_err(|e| self.fail(e))?;
        let mut rows = statement.query([sync_id]).map_err(|e| self.fail(e))?;
        let mut count = 0;
        while let Some(row) = rows.next().map_err(|e| self.fail(e))? {
            let change = change_of(row).map_err(|e| self.fail(e))?;
            f(&change).map_err(|source| Error::Output { source })?;
            count += 1;
        }
        Ok(count)
    }

    /// One event as the mirror holds it (present or removed).
    ///
    /// # Errors
    /// [`Error::Storage`].
    pub fn event(&self, event_id: u64) -> Result<Option<MirroredEvent>, Error> {
        let Ok(id) = i64::try_from(event_id) else {
            return Ok(None);
        };
        self.conn
            .query_row(
                &format!("SELECT {EVENT_COLUMNS} FROM events WHERE event_id = ?1"),
                [id],
                mirrored_event,
            )
            .optional()
            .map_err(|e| self.fail(e))
    }

    /// The events present (not removed) in `window`, by start time then id: those whose
    /// start lies in it, and those without a start that were last listed by a sync of a
    /// window inside it.
    ///
    /// # Errors
    /// [`Error::Storage`].
    pub fn present_events(&self, window: Window) -> Result<Vec<MirroredEvent>, Error> {
        let (low, high) = window.start_bounds();
        let mut statement = self
            .conn
            .prepare(&format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE {IN_WINDOW}
                 ORDER BY event_start, event_id"
            ))
            .map_err(|e| self.fail(e))?;
        statement
            .query_map([low, high, window.to.to_string()], mirrored_event)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.fail(e))
    }
}

/// The present events of a window, with `?1` the first day, `?2` the start bound after
/// the last day ([`Window::start_bounds`]) and `?3` the last day. An event without a
/// start (the API sends `null` times for some) belongs to the window of the sync that
/// last listed it: the server put it on a day of that window.
const IN_WINDOW: &str = "removed_at IS NULL AND (
    (event_start >= ?1 AND event_start < ?2)
    OR (event_start IS NULL AND EXISTS (
        SELECT 1 FROM syncs WHERE syncs.sync_id = events.last_sync
          AND syncs.window_from >= ?1 AND syncs.window_to <= ?3)))";

const EVENT_COLUMNS: &str = "event_id, raw, event_start, event_end, modified, first_seen, \
                             last_seen, last_changed, removed_at";

fn mirrored_event(row: &rusqlite::Row<'_>) -> rusqlite::Result<MirroredEvent> {
    Ok(MirroredEvent {
        event_id: row.get::<_, i64>(0)? as u64,
        raw: row.get(1)?,
        event_start: row.get(2)?,
        event_end: row.get(3)?,
        modified: row.get(4)?,
        first_seen: row.get(5)?,
        last_seen: row.get(6)?,
        last_changed: row.get(7)?,
        removed_at: row.get(8)?,
    })
}

fn change_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<Change> {
    let name: String = row.get(3)?;
    // The table's CHECK constraint admits only these names.
    let kind = ChangeKind::parse(&name).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            3,
            rusqlite::types::Type::Text,
            format!("unknown change `{name}`").into(),
        )
    })?;
    Ok(Change {
        seq: row.get(0)?,
        sync_id: row.get(1)?,
        at: row.get(2)?,
        kind,
        event_id: row.get::<_, i64>(4)? as u64,
        event: row.get(5)?,
    })
}

/// A busy database is another writer holding the lock for longer than the timeout.
fn fail(path: &Path, lock_timeout: Duration, error: rusqlite::Error) -> Error {
    match error.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Error::Locked {
            path: path.to_owned(),
            waited: lock_timeout,
        },
        _ => Error::storage(path, error),
    }
}

/// A count as SQLite's signed integer (counts of events never come near 2^63).
fn sql_count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The current time, RFC 3339 in UTC to the millisecond.
fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// The *scope* [`Mirror::sync`] records for a listing made with `query`: its filters as
/// a query string with the parameters sorted, leaving out the dates (the window), the
/// paging and the requested fields (which change what is sent about an event, not which
/// events are listed). Pass it to [`Mirror::sync_listing`] for a listing made with the
/// query.
///
/// ```
/// use communico::EventQuery;
/// use communico_sync::listing_scope;
/// let a = listing_scope(&EventQuery::new().types(["Storytime"]).location_ids([416]));
/// let b = listing_scope(&EventQuery::new().location_ids([416]).types(["Storytime"]));
/// assert_eq!(a, b);
/// assert_ne!(a, listing_scope(&EventQuery::new()));
/// ```
pub fn listing_scope(query: &EventQuery) -> String {
    let Ok(query_string) = query.to_query_string(0, 1) else {
        return String::new();
    };
    let mut parts: Vec<&str> = query_string
        .split('&')
        .filter(|part| {
            let name = part.split('=').next().unwrap_or("");
            !matches!(
                name,
                "startDate" | "endDate" | "start" | "limit" | "fields" | ""
            )
        })
        .collect();
    parts.sort_unstable();
    parts.join("&")
}

/// An open write transaction (`BEGIN IMMEDIATE`), rolled back unless committed, also
/// when a sync's future is dropped half-way.
struct Write<'c> {
    conn: &'c mut Connection,
    path: &'c Path,
    lock_timeout: Duration,
    committed: bool,
}

impl<'c> Write<'c> {
    fn begin(
        conn: &'c mut Connection,
        path: &'c Path,
        lock_timeout: Duration,
    ) -> Result<Self, Error> {
        let started = Instant::now();
        conn.execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| match fail(path, lock_timeout, e) {
                Error::Locked { path, .. } => Error::Locked {
                    path,
                    waited: started.elapsed(),
                },
                other => other,
            })?;
        Ok(Write {
            conn,
            path,
            lock_timeout,
            committed: false,
        })
    }

    fn commit(mut self) -> Result<(), Error> {
        self.conn
            .execute_batch("COMMIT")
            .map_err(|e| fail(self.path, self.lock_timeout, e))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Write<'_> {
    fn drop(&mut self) {
        if !self.committed && !self.conn.is_autocommit() {
            // A failed rollback leaves the transaction to SQLite, which rolls it back
            // when the connection closes or the next process opens the file.
            if let Err(error) = self.conn.execute_batch("ROLLBACK") {
                tracing::warn!(%error, path = %self.path.display(), "rolling back a sync failed");
            }
        }
    }
}

/// What every write of one sync shares.
struct Context<'a> {
    sync_id: i64,
    scope: &'a str,
    now: &'a str,
}

/// Compares and writes a batch of listed events, emptying `batch`.
fn apply(
    conn: &Connection,
    cx: &Context<'_>,
    batch: &mut Vec<Event>,
    report: &mut SyncReport,
) -> rusqlite::Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let mut select = conn.prepare(
        "SELECT raw, modified, removed_at IS NOT NULL, last_sync FROM events WHERE event_id = ?1",
    )?;
    let mut insert = conn.prepare(
        "INSERT INTO events (event_id, raw, event_start, event_end, modified, scope,
                             first_seen, last_seen, last_changed, removed_at, last_sync)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?7, NULL, ?8)",
    )?;
    let mut touch = conn.prepare(
        "UPDATE events SET last_seen = ?2, last_sync = ?3, scope = ?4 WHERE event_id = ?1",
    )?;
    let mut rewrite = conn.prepare(
        "UPDATE events SET raw = ?2, event_start = ?3, event_end = ?4, modified = ?5,
                           scope = ?6, last_seen = ?7, last_changed = ?7, removed_at = NULL,
                           last_sync = ?8
         WHERE event_id = ?1",
    )?;
    let mut record = conn.prepare(
        "INSERT INTO changes (sync_id, at, change, event_id, event) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for event in batch.drain(..) {
        let Some(id) = event.event_id.and_then(|id| i64::try_from(id).ok()) else {
            tracing::warn!(title = ?event.title, event_id = ?event.event_id, "a listed event without a usable eventId was left out");
            report.without_id += 1;
            continue;
        };
        let old = select
            .query_row([id], |r| {
                Ok((
                    Stored {
                        raw: r.get(0)?,
                        modified: r.get(1)?,
                        removed: r.get(2)?,
                    },
                    r.get::<_, i64>(3)?,
                ))
            })
            .optional()?;
        if let Some((_, last_sync)) = &old
            && *last_sync == cx.sync_id
        {
            tracing::warn!(
                event_id = id,
                "an event was listed twice; the first copy is kept"
            );
            report.repeated += 1;
            continue;
        }
        report.listed += 1;
        let value = match serde_json::to_value(&event) {
            Ok(value) => value,
            // Serializing an event builds a map with string keys only: unreachable, but
            // an event that cannot be stored is left out rather than stored damaged.
            Err(error) => {
                tracing::warn!(event_id = id, %error, "an event could not be encoded and was left out");
                report.without_id += 1;
                report.listed -= 1;
                continue;
            }
        };
        let modified = Modified::of(event.modified.as_deref());
        let Some(kind) = classify(old.as_ref().map(|(s, _)| s), &value, modified) else {
            touch.execute(params![id, cx.now, cx.sync_id, cx.scope])?;
            report.unchanged += 1;
            continue;
        };
        let raw = value.to_string();
        let start = event.event_start.map(|t| LocalDateTime(t).to_string());
        let end = event.event_end.map(|t| LocalDateTime(t).to_string());
        // A new row, or the stored one rewritten: the same values either way.
        let write = if old.is_none() {
            &mut insert
        } else {
            &mut rewrite
        };
        write.execute(params![
            id,
            raw,
            start,
            end,
            event.modified,
            cx.scope,
            cx.now,
            cx.sync_id
        ])?;
        record.execute(params![cx.sync_id, cx.now, kind.as_str(), id, raw])?;
        report.bump(kind);
    }
    Ok(())
}

/// The present events of the window that a complete listing under `scope` must contain:
/// those last listed under `scope` or under narrower filters ([`covers`]). With
/// `not_listed_by`, only those that sync did not list.
fn within(
    conn: &Connection,
    not_listed_by: Option<i64>,
    scope: &str,
    [low, high, to]: [&str; 3],
) -> rusqlite::Result<Vec<i64>> {
    let mut statement = conn.prepare(&format!(
        "SELECT event_id, scope FROM events
         WHERE {IN_WINDOW} AND (?4 IS NULL OR last_sync <> ?4)
         ORDER BY event_id"
    ))?;
    let rows = statement.query_map(params![low, high, to, not_listed_by], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut ids = Vec::new();
    for row in rows {
        let (id, held_under) = row?;
        if covers(scope, &held_under) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// Whether a complete listing under the filters `listing` lists every event that one
/// under `held` lists: each of `listing`'s filters is also one of `held`'s, so `held` is
/// the same or narrower. The order asked for changes no membership and is left out.
/// Filters spelled differently (another case, another list order) do not cover each
/// other: the mirror then keeps the event rather than guess.
fn covers(listing: &str, held: &str) -> bool {
    let filters = |scope: &str| -> Vec<String> {
        scope
            .split('&')
            .filter(|part| {
                let name = part.split('=').next().unwrap_or("");
                !matches!(name, "sortBy" | "sortOrder" | "")
            })
            .map(str::to_owned)
            .collect()
    };
    let held = filters(held);
    filters(listing).iter().all(|filter| held.contains(filter))
}

fn remove(conn: &Connection, cx: &Context<'_>, ids: &[i64]) -> rusqlite::Result<()> {
    let mut mark =
        conn.prepare("UPDATE events SET removed_at = ?2, last_changed = ?2 WHERE event_id = ?1")?;
    let mut record = conn.prepare(
        "INSERT INTO changes (sync_id, at, change, event_id, event) VALUES (?1, ?2, 'removed', ?3, NULL)",
    )?;
    for id in ids {
        mark.execute(params![id, cx.now])?;
        record.execute(params![cx.sync_id, cx.now, id])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    /// Compiled, not run: a sync can be spawned on a multi-threaded runtime.
    #[allow(dead_code)]
    fn syncs_are_send(mirror: &mut Mirror, client: &Client) {
        fn send<T: Send>(_: T) {}
        let window = Window::new(date(2025, 1, 1), date(2025, 1, 2)).unwrap();
        send(mirror.sync(client, window, EventQuery::new(), &SyncOptions::new()));
    }

    #[test]
    fn a_listing_covers_its_own_filters_and_narrower_ones() {
        let all = "status=published";
        let storytime = "status=published&types=Storytime";
        let branch = "locationId=416&status=published&types=Storytime";
        assert!(covers(all, all));
        assert!(covers(all, storytime));
        assert!(covers(all, branch));
        assert!(covers(storytime, branch));
        assert!(covers("", all));
        assert!(!covers(storytime, all));
        assert!(!covers(branch, storytime));
        assert!(!covers("status=published&types=storytime", storytime));
        assert!(covers("sortBy=eventStart&status=published", storytime));
    }

    #[test]
    fn a_lock_timeout_longer_than_sqlite_can_count_is_clamped_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        for timeout in [
            Duration::MAX,
            Duration::from_secs(2_147_484),
            MAX_LOCK_TIMEOUT,
        ] {
            let options = OpenOptions::new().lock_timeout(timeout);
            assert_eq!(options.lock_timeout, MAX_LOCK_TIMEOUT);
            options.open(dir.path().join("mirror.sqlite")).unwrap();
        }
    }

    #[test]
    fn the_window_bounds_take_every_time_of_the_last_day_and_nothing_after() {
        let w = Window::new(date(2025, 11, 1), date(2025, 11, 30)).unwrap();
        let (low, high) = w.start_bounds();
        let inside = ["2025-11-01 00:00:00", "2025-11-30 23:59:59"];
        let outside = ["2025-10-31 23:59:59", "2025-12-01 00:00:00"];
        for t in inside {
            assert!(t >= low.as_str() && t < high.as_str(), "{t}");
        }
        for t in outside {
            assert!(!(t >= low.as_str() && t < high.as_str()), "{t}");
        }
    }

    #[test]
    fn the_guard_allows_up_to_its_share() {
        let limit = RemovalLimit::DEFAULT;
        assert_eq!(limit.exceeded(0, 0), None);
        assert_eq!(limit.exceeded(2, 10), None);
        assert_eq!(limit.exceeded(3, 10), Some(30.0));
        assert_eq!(RemovalLimit::Unlimited.exceeded(10, 10), None);
        assert_eq!(RemovalLimit::Percent(0.0).exceeded(1, 1000), Some(0.1));
    }

    #[test]
    fn the_scope_is_the_filters_in_a_stable_order() {
        let a = EventQuery::new()
            .types(["Storytime"])
            .location_ids([416])
            .start_date(date(2025, 1, 1))
            .end_date(date(2025, 1, 2));
        let b = EventQuery::new()
            .location_ids([416])
            .types(["Storytime"])
            .start_date(date(2025, 2, 1))
            .end_date(date(2025, 2, 2))
            .fields([communico::EventField::Ages]);
        assert_eq!(listing_scope(&a), listing_scope(&b));
        assert!(
            listing_scope(&a).contains("types=Storytime"),
            "{}",
            listing_scope(&a)
        );
        assert_ne!(listing_scope(&a), listing_scope(&EventQuery::new()));
    }

    #[test]
    fn summary_line_has_the_documented_shape() {
        let mut r = SyncReport::new(
            1,
            Window::new(date(2025, 11, 1), date(2025, 11, 30)).unwrap(),
        );
        (r.added, r.updated, r.canceled, r.removed, r.unchanged) = (4, 5, 3, 2, 560);
        assert_eq!(
            r.to_string(),
            "574 events in 2025-11-01..2025-11-30: 4 added, 5 updated, 3 canceled, 0 rescheduled, 2 removed, 0 restored, 560 unchanged"
        );
    }
}
