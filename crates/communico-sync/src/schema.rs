//! The mirror's tables and their forward migrations.
//!
//! The schema version is SQLite's `PRAGMA user_version`: `0` for a new file, then the
//! number of the last migration applied. Migrations only ever move forward, each in the
//! same transaction as the version bump, so a file is always at exactly one version.
//! A file whose version is higher than [`LATEST`] was written by a newer program and is
//! refused rather than guessed at.

use rusqlite::Connection;

/// The migrations, in order: `MIGRATIONS[n]` takes a file from version `n` to `n + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // Version 1: the first layout.
    "CREATE TABLE syncs (
        sync_id     INTEGER PRIMARY KEY,
        window_from TEXT NOT NULL,
        window_to   TEXT NOT NULL,
        started     TEXT NOT NULL,
        finished    TEXT NOT NULL,
        listed      INTEGER NOT NULL DEFAULT 0,
        added       INTEGER NOT NULL DEFAULT 0,
        updated     INTEGER NOT NULL DEFAULT 0,
        canceled    INTEGER NOT NULL DEFAULT 0,
        rescheduled INTEGER NOT NULL DEFAULT 0,
        removed     INTEGER NOT NULL DEFAULT 0,
        restored    INTEGER NOT NULL DEFAULT 0,
        unchanged   INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE events (
        event_id     INTEGER PRIMARY KEY,
        raw          TEXT NOT NULL,
        event_start  TEXT,
        event_end    TEXT,
        modified     TEXT,
        first_seen   TEXT NOT NULL,
        last_seen    TEXT NOT NULL,
        last_changed TEXT NOT NULL,
        removed_at   TEXT,
        last_sync    INTEGER NOT NULL REFERENCES syncs (sync_id)
    );
    CREATE INDEX events_by_start ON events (event_start);
    CREATE TABLE changes (
        seq      INTEGER PRIMARY KEY AUTOINCREMENT,
        sync_id  INTEGER NOT NULL REFERENCES syncs (sync_id),
        at       TEXT NOT NULL,
        change   TEXT NOT NULL CHECK (change IN
                     ('added', 'updated', 'canceled', 'rescheduled', 'removed', 'restored')),
        event_id INTEGER NOT NULL,
        event    TEXT
    );
    CREATE INDEX changes_by_sync ON changes (sync_id);",
    // Version 2: the listing's filters (`scope`), so that a listing filtered by type,
    // branch or term removes only events it could have listed.
    "ALTER TABLE syncs ADD COLUMN scope TEXT NOT NULL DEFAULT '';
    ALTER TABLE events ADD COLUMN scope TEXT NOT NULL DEFAULT '';
    DROP INDEX events_by_start;
    CREATE INDEX events_by_scope_and_start ON events (scope, event_start);",
];

/// The version a file has once every migration is applied.
pub(crate) const LATEST: i64 = MIGRATIONS.len() as i64;

/// The tables a mirror has; a version-0 file holding any other table is not a new mirror.
const OUR_TABLES: &[&str] = &["syncs", "events", "changes", "sqlite_sequence"];

/// What [`state`] found in a file.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// At the latest version: nothing to do.
    Current,
    /// At an older version (0: empty).
    Older(i64),
    /// Written by a newer program.
    Newer(i64),
    /// A version-0 file with other tables in it.
    Foreign(String),
}

/// Reads the file's version and, for version 0, whether it is empty.
pub(crate) fn state(conn: &Connection) -> rusqlite::Result<State> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > LATEST {
        return Ok(State::Newer(version));
    }
    if version == LATEST {
        return Ok(State::Current);
    }
    if version == 0 {
        let mut statement =
            conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")?;
        let names = statement
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        if let Some(other) = names.iter().find(|n| !OUR_TABLES.contains(&n.as_str())) {
            return Ok(State::Foreign(format!(
                "it has no schema version and holds a table `{other}`"
            )));
        }
    }
    Ok(State::Older(version))
}

/// Applies the migrations after `from`, and the version bump, inside the caller's
/// transaction.
pub(crate) fn migrate(conn: &Connection, from: i64) -> rusqlite::Result<()> {
    for (index, step) in MIGRATIONS.iter().enumerate().skip(from.max(0) as usize) {
        conn.execute_batch(step)?;
        // The pragma takes no bound parameters; the value is our own integer.
        conn.execute_batch(&format!("PRAGMA user_version = {}", index + 1))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_applies_in_order_and_lands_on_the_latest_version() {
        let conn = Connection::open_in_memory().unwrap();
        assert_eq!(state(&conn).unwrap(), State::Older(0));
        migrate(&conn, 0).unwrap();
        assert_eq!(state(&conn).unwrap(), State::Current);
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, LATEST);
    }

    #[test]
    fn a_database_of_something_else_is_foreign_and_a_newer_one_is_newer() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE recipes (id INTEGER)")
            .unwrap();
        assert!(matches!(state(&conn).unwrap(), State::Foreign(r) if r.contains("recipes")));
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&format!("PRAGMA user_version = {}", LATEST + 1))
            .unwrap();
        assert_eq!(state(&conn).unwrap(), State::Newer(LATEST + 1));
    }
}
