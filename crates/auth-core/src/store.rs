//! Where a session outlives the process: [`TokenStore`], with [`MemoryStore`] and
//! [`FileStore`].
//!
//! A store keeps one [`Token`] (with its refresh token, the part worth keeping). This is
//! the only module that serializes secrets, and it does so only through their
//! `secret()` accessors, into a file only the user can read.

use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use secrecy::zeroize::Zeroize;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Error;
use crate::secret::{AccessToken, RefreshToken};
use crate::token::{Token, TokenType};

/// Keeps a session between runs.
///
/// ```
/// use auth_core::store::{MemoryStore, TokenStore};
/// use auth_core::{AccessToken, Token};
///
/// # futures_util::FutureExt::now_or_never(async {
/// let store = MemoryStore::new();
/// assert!(store.load().await?.is_none());
/// store.save(&Token::bearer(AccessToken::new("t"), None)).await?;
/// assert_eq!(store.load().await?.map(|t| t.access_token), Some(AccessToken::new("t")));
/// store.clear().await?;
/// assert!(store.load().await?.is_none());
/// # Ok::<(), auth_core::Error>(())
/// # }).expect("the memory store never waits")?;
/// # Ok::<(), auth_core::Error>(())
/// ```
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// The stored token, or `None` if nothing is stored.
    async fn load(&self) -> Result<Option<Token>, Error>;

    /// Stores `token`, replacing what was there.
    async fn save(&self, token: &Token) -> Result<(), Error>;

    /// Forgets the stored token. Clearing an empty store is not an error.
    async fn clear(&self) -> Result<(), Error>;
}

#[async_trait]
impl<T: TokenStore + ?Sized> TokenStore for Arc<T> {
    async fn load(&self) -> Result<Option<Token>, Error> {
        (**self).load().await
    }
    async fn save(&self, token: &Token) -> Result<(), Error> {
        (**self).save(token).await
    }
    async fn clear(&self) -> Result<(), Error> {
        (**self).clear().await
    }
}

#[async_trait]
impl<T: TokenStore + ?Sized> TokenStore for Box<T> {
    async fn load(&self) -> Result<Option<Token>, Error> {
        (**self).load().await
    }
    async fn save(&self, token: &Token) -> Result<(), Error> {
        (**self).save(token).await
    }
    async fn clear(&self) -> Result<(), Error> {
        (**self).clear().await
    }
}

/// A store in memory, for tests and for processes that should not persist anything.
#[derive(Default)]
pub struct MemoryStore {
    token: Mutex<Option<Token>>,
    locked: Arc<std::sync::atomic::AtomicBool>,
}

/// Releases a [`MemoryStore`]'s lock when its lease is dropped.
struct MemoryLock(Arc<std::sync::atomic::AtomicBool>);

impl Drop for MemoryLock {
    fn drop(&mut self) {
        self.0.store(false, std::sync::atomic::Ordering::Release);
    }
}

/// The lock is a flag shared by the clones of nothing but this store: it orders the
/// refreshes of the providers of one process that share the store through an `Arc`.
#[async_trait]
impl crate::persistent::LockingStore for MemoryStore {
    async fn try_lock(&self) -> Result<Option<crate::persistent::Lease>, Error> {
        use std::sync::atomic::Ordering;
        Ok(self
            .locked
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
            .then(|| {
                crate::persistent::Lease::new(0, "memory")
                    .with_guard(MemoryLock(Arc::clone(&self.locked)))
            }))
    }

    async fn save_locked(
        &self,
        token: &Token,
        _lease: &crate::persistent::Lease,
    ) -> Result<crate::persistent::Saved, Error> {
        *self.slot() = Some(token.clone());
        Ok(crate::persistent::Saved::Written)
    }

    async fn unlock(&self, lease: crate::persistent::Lease) -> Result<(), Error> {
        drop(lease);
        Ok(())
    }

    fn describe(&self) -> String {
        "(in memory)".to_owned()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Token>> {
        // A `Token` is replaced in one assignment, so a poisoned lock still holds a whole one.
        self.token.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("holds_token", &self.slot().is_some())
            .finish()
    }
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn load(&self) -> Result<Option<Token>, Error> {
        Ok(self.slot().clone())
    }
    async fn save(&self, token: &Token) -> Result<(), Error> {
        *self.slot() = Some(token.clone());
        Ok(())
    }
    async fn clear(&self) -> Result<(), Error> {
        *self.slot() = None;
        Ok(())
    }
}

/// The format version this crate writes and reads.
const FORMAT_VERSION: u32 = 1;

/// A session file is a few hundred bytes; anything this large is not one.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// A store in one JSON file.
///
/// The file holds `{"version":1,"access_token":...,"token_type":...,"expires_at":<unix
/// seconds>,"refresh_token":...,"scope":...,"extra":{...}}`. On Unix it is created with
/// mode `0600` (and its directory, if missing, with `0700`). Every save writes a temporary
/// file beside it, syncs it, renames it over the old one and syncs the directory, so a
/// crash or a full disk leaves either the old session or the new one, never half of
/// either.
///
/// A file that does not hold a session this crate wrote is reported as
/// [`Error::StoreCorrupt`] and left as it is: `load` never rewrites or deletes it.
///
/// `FileStore` does small blocking `std::fs` calls (a read or a write of a few hundred
/// bytes, an fsync) inside its async methods. That is brief enough for a token refresh;
/// a server that cannot afford it on its executor threads can wrap the store in its
/// runtime's blocking pool.
///
/// ```
/// use auth_core::store::{FileStore, TokenStore};
/// use auth_core::{AccessToken, RefreshToken, Token};
///
/// # let dir = tempfile::tempdir()?;
/// let store = FileStore::new(dir.path().join("session.json"));
/// # futures_util::FutureExt::now_or_never(async {
/// let token = Token::bearer(AccessToken::new("a"), None)
///     .with_refresh_token(RefreshToken::new("r"));
/// store.save(&token).await?;
/// let loaded = store.load().await?.expect("just saved");
/// assert_eq!(loaded.refresh_token, token.refresh_token);
/// # Ok::<(), auth_core::Error>(())
/// # }).expect("file I/O is blocking")?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct FileStore {
    path: PathBuf,
    lock_path: PathBuf,
    #[cfg(test)]
    fail_before_rename: bool,
}

#[derive(Serialize)]
struct FileOut<'a> {
    version: u32,
    access_token: &'a str,
    token_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    extra: &'a Map<String, Value>,
}

#[derive(Deserialize)]
struct FileVersion {
    version: u32,
}

#[derive(Deserialize)]
struct FileIn {
    access_token: String,
    token_type: String,
    #[serde(default)]
    expires_at: Option<u64>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    extra: Map<String, Value>,
}

impl FileStore {
    /// A store in the file at `path`. Nothing is read or created until used.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let mut lock_path = path.clone().into_os_string();
        lock_path.push(".lock");
        Self {
            path,
            lock_path: lock_path.into(),
            #[cfg(test)]
            fail_before_rename: false,
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Uses `path` as the refresh lock's file instead of the store's path with `.lock`
    /// appended (see [`LockingStore`](crate::persistent::LockingStore)).
    #[must_use]
    pub fn with_lock_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.lock_path = path.into();
        self
    }

    /// The refresh lock's file.
    pub fn lock_path(&self) -> &Path {
        &self.lock_path
    }

    fn try_lock_file(&self) -> Result<Option<fs::File>, Error> {
        let io = |reason: &str, e: io::Error| Error::Store {
            path: Some(self.lock_path.display().to_string()),
            reason: format!("{reason}: {e}"),
            source: Some(Arc::new(e)),
        };
        let dir = match self.lock_path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        create_private_dir(dir).map_err(|e| io("cannot create its directory", e))?;
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.lock_path)
            .map_err(|e| io("the lock file cannot be opened", e))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => Err(io("the lock file cannot be locked", e)),
        }
    }

    fn display_path(&self) -> String {
        self.path.display().to_string()
    }

    fn io_error(&self, reason: &str, source: io::Error) -> Error {
        Error::Store {
            path: Some(self.display_path()),
            reason: format!("{reason}: {source}"),
            source: Some(Arc::new(source)),
        }
    }

    fn corrupt(&self, reason: impl Into<String>) -> Error {
        Error::StoreCorrupt {
            path: self.display_path(),
            reason: reason.into(),
        }
    }

    fn dir(&self) -> &Path {
        match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        }
    }

    fn read(&self) -> Result<Option<Token>, Error> {
        let file = match fs::File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io_error("cannot open", e)),
        };
        let mut bytes = Vec::new();
        let read = file
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| self.io_error("cannot read", e));
        let parsed = read.and_then(|n| {
            if n as u64 > MAX_FILE_BYTES {
                Err(self.corrupt(format!("larger than {MAX_FILE_BYTES} bytes")))
            } else {
                self.parse(&bytes)
            }
        });
        bytes.zeroize();
        parsed.map(Some)
    }

    fn parse(&self, bytes: &[u8]) -> Result<Token, Error> {
        let version: FileVersion =
            serde_json::from_slice(bytes).map_err(|e| self.corrupt(json_reason(&e)))?;
        if version.version != FORMAT_VERSION {
            return Err(self.corrupt(format!(
                "format version {} is not supported (this build reads version {FORMAT_VERSION})",
                version.version
            )));
        }
        let file: FileIn =
            serde_json::from_slice(bytes).map_err(|e| self.corrupt(json_reason(&e)))?;
        if file.access_token.is_empty() {
            return Err(self.corrupt("`access_token` is empty"));
        }
        let expires_at = match file.expires_at {
            None => None,
            Some(secs) => Some(
                SystemTime::UNIX_EPOCH
                    .checked_add(Duration::from_secs(secs))
                    .ok_or_else(|| self.corrupt("`expires_at` is out of range"))?,
            ),
        };
        Ok(Token {
            access_token: AccessToken::new(file.access_token),
            token_type: TokenType::parse(&file.token_type),
            expires_at,
            refresh_token: file.refresh_token.map(RefreshToken::new),
            scope: file.scope,
            extra: file.extra,
        })
    }

    fn write(&self, token: &Token) -> Result<(), Error> {
        let mut json = self.encode(token)?;
        let written = self.write_atomically(&json);
        json.zeroize();
        written
    }

    fn encode(&self, token: &Token) -> Result<Vec<u8>, Error> {
        let out = FileOut {
            version: FORMAT_VERSION,
            access_token: token.access_token.secret(),
            token_type: token.token_type.as_str(),
            // Whole seconds are plenty for expiry; a time before 1970 is long expired.
            expires_at: token.expires_at.map(|at| {
                at.duration_since(SystemTime::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0)
            }),
            refresh_token: token.refresh_token.as_ref().map(|r| r.secret()),
            scope: token.scope.as_deref(),
            extra: &token.extra,
        };
        let mut json = serde_json::to_vec_pretty(&out).map_err(|e| Error::Store {
            path: Some(self.display_path()),
            reason: format!("cannot serialize the token ({})", json_reason(&e)),
            source: None,
        })?;
        json.push(b'\n');
        Ok(json)
    }

    fn write_atomically(&self, contents: &[u8]) -> Result<(), Error> {
        #[cfg(test)]
        let fail_before_rename = self.fail_before_rename;
        #[cfg(not(test))]
        let fail_before_rename = false;
        write_atomically(&self.path, contents, fail_before_rename)
    }
}

/// The bytes [`FileStore`] writes for `token` (its versioned JSON format), for stores
/// that keep a session elsewhere (a database, Redis). They hold the secrets: keep them
/// private, and wipe the buffer when done if you can.
///
/// ```
/// use auth_core::store::{decode_token, encode_token};
/// use auth_core::{AccessToken, Token};
///
/// let bytes = encode_token(&Token::bearer(AccessToken::new("a"), None))?;
/// let token = decode_token(&bytes, "redis://127.0.0.1/0 key s")?;
/// assert_eq!(token.access_token.secret(), "a");
/// # Ok::<(), auth_core::Error>(())
/// ```
///
/// # Errors
/// [`Error::Store`] if the token cannot be serialised (an `extra` member JSON cannot hold).
pub fn encode_token(token: &Token) -> Result<Vec<u8>, Error> {
    FileStore::new("(encoded token)").encode(token)
}

/// Reads what [`encode_token`] wrote. `origin` names where the bytes came from in errors.
///
/// # Errors
/// [`Error::StoreCorrupt`] naming `origin` and what did not parse (never the contents).
pub fn decode_token(bytes: &[u8], origin: &str) -> Result<Token, Error> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Error::StoreCorrupt {
            path: origin.to_owned(),
            reason: format!("larger than {MAX_FILE_BYTES} bytes"),
        });
    }
    FileStore::new(origin).parse(bytes)
}

/// `key` as one file name, for a file store kept per key (an issuer's URL, a base URL):
/// ASCII letters, digits, `-` and `.` as they are, every other byte of its UTF-8 form as
/// `_` and two hexadecimal digits. Distinct keys give distinct names, and no name holds a
/// path separator.
///
/// ```
/// use auth_core::store::file_name_for;
/// assert_eq!(file_name_for("https://as.example/a b"), "https_3a_2f_2fas.example_2fa_20b");
/// assert_eq!(file_name_for("a b/c"), "a_20b_2fc");
/// assert_ne!(file_name_for("a/b"), file_name_for("a_2fb"));
/// ```
pub fn file_name_for(key: &str) -> String {
    let mut name = String::with_capacity(key.len());
    for c in key.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
            name.push(c);
        } else {
            let mut buf = [0u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                name.push('_');
                name.push_str(&format!("{byte:02x}"));
            }
        }
    }
    name
}

/// Writes `contents` to `path` the way [`FileStore`] writes a session: through a
/// temporary file beside it, created readable by its owner only (mode `0600` on Unix, in
/// a `0700` directory if it has to create one), synced, renamed over `path`, and the
/// directory synced. A failure at any step leaves whatever was at `path` intact.
///
/// For other small private files that belong with a session (a cache of registered
/// clients, say).
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// let path = dir.path().join("clients.json");
/// auth_core::store::write_private_file(&path, b"{}")?;
/// assert_eq!(std::fs::read(&path)?, b"{}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_private_file(path: &Path, contents: &[u8]) -> Result<(), Error> {
    write_atomically(path, contents, false)
}

fn write_atomically(path: &Path, contents: &[u8], fail_before_rename: bool) -> Result<(), Error> {
    let io_error = |reason: &str, source: io::Error| Error::Store {
        path: Some(path.display().to_string()),
        reason: format!("{reason}: {source}"),
        source: Some(Arc::new(source)),
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    create_private_dir(dir).map_err(|e| io_error("cannot create its directory", e))?;
    let file_name = path
        .file_name()
        .ok_or_else(|| Error::Store {
            path: Some(path.display().to_string()),
            reason: "the path does not name a file".to_owned(),
            source: None,
        })?
        .to_string_lossy();
    // A random suffix so that two processes saving at once never share a temporary
    // file; `create_new` refuses to follow anything already at that path.
    let suffix = getrandom::u64().unwrap_or_else(|_| u64::from(std::process::id()));
    let tmp = dir.join(format!(".{file_name}.{suffix:016x}.tmp"));
    let result = (|| {
        let mut file =
            create_private_file(&tmp).map_err(|e| io_error("cannot create a temporary file", e))?;
        file.write_all(contents)
            .and_then(|()| file.sync_all())
            .map_err(|e| io_error("cannot write a temporary file", e))?;
        drop(file);
        if fail_before_rename {
            return Err(io_error(
                "injected failure",
                io::Error::other("before rename"),
            ));
        }
        fs::rename(&tmp, path).map_err(|e| io_error("cannot replace the file", e))?;
        sync_dir(dir).map_err(|e| io_error("cannot sync its directory", e))
    })();
    if result.is_err() {
        // Best effort: the temporary file may not even exist.
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[async_trait]
impl TokenStore for FileStore {
    async fn load(&self) -> Result<Option<Token>, Error> {
        self.read()
    }

    async fn save(&self, token: &Token) -> Result<(), Error> {
        self.write(token)
    }

    async fn clear(&self) -> Result<(), Error> {
        match fs::remove_file(&self.path) {
            Ok(()) => {
                sync_dir(self.dir()).map_err(|e| self.io_error("cannot sync its directory", e))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.io_error("cannot remove", e)),
        }
    }
}

/// The lock is an exclusive `flock`-style lock ([`std::fs::File::try_lock`]) on
/// [`lock_path`](FileStore::lock_path), which the operating system releases when the
/// holder exits or dies: processes on one machine (or on a file system with working
/// locks) share a session safely. The lock cannot run out while held, so its fencing
/// number is always `0`.
#[async_trait]
impl crate::persistent::LockingStore for FileStore {
    async fn try_lock(&self) -> Result<Option<crate::persistent::Lease>, Error> {
        Ok(self
            .try_lock_file()?
            .map(|file| crate::persistent::Lease::new(0, "file").with_guard(file)))
    }

    async fn save_locked(
        &self,
        token: &Token,
        _lease: &crate::persistent::Lease,
    ) -> Result<crate::persistent::Saved, Error> {
        self.write(token)?;
        Ok(crate::persistent::Saved::Written)
    }

    async fn unlock(&self, lease: crate::persistent::Lease) -> Result<(), Error> {
        // Closing the file releases the lock.
        drop(lease);
        Ok(())
    }

    fn describe(&self) -> String {
        self.display_path()
    }
}

/// Describes a JSON error by category and position only: serde's own messages may quote
/// the offending value, which could be a token.
fn json_reason(e: &serde_json::Error) -> String {
    let what = match e.classify() {
        serde_json::error::Category::Io => "could not be read",
        serde_json::error::Category::Syntax => "is not valid JSON",
        serde_json::error::Category::Data => "has a missing member or one of the wrong type",
        serde_json::error::Category::Eof => "is truncated",
    };
    format!(
        "the content {what} (line {}, column {})",
        e.line(),
        e.column()
    )
}

#[cfg(unix)]
fn create_private_file(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    // The mode is set at creation, so the secret is never readable by others, not even
    // for the moment a later chmod would leave open.
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_private_file(path: &Path) -> io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

/// Makes a rename or removal durable. Only Unix can open a directory to sync it.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    match fs::File::open(dir).and_then(|d| d.sync_all()) {
        // Some file systems cannot sync a directory; the rename itself has happened.
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::InvalidInput | io::ErrorKind::Unsupported
            ) =>
        {
            Ok(())
        }
        other => other,
    }
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full_token() -> Token {
        let mut extra = Map::new();
        extra.insert("id_token".into(), Value::from("SECRET_ID"));
        extra.insert(
            "nested".into(),
            serde_json::json!({"a": [1, 2, {"b": null}]}),
        );
        Token {
            access_token: AccessToken::new("SECRET_ACCESS"),
            token_type: TokenType::Other("DPoP".into()),
            expires_at: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_900_000_000)),
            refresh_token: Some(RefreshToken::new("SECRET_REFRESH")),
            scope: Some("EVENTS READ".into()),
            extra,
        }
    }

    fn assert_same(a: &Token, b: &Token) {
        assert_eq!(a.access_token, b.access_token);
        assert_eq!(a.token_type, b.token_type);
        assert_eq!(a.expires_at, b.expires_at);
        assert_eq!(a.refresh_token, b.refresh_token);
        assert_eq!(a.scope, b.scope);
        assert_eq!(a.extra, b.extra);
    }

    #[tokio::test]
    async fn file_round_trips_every_field() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path().join("session.json"));
        assert!(store.load().await.unwrap().is_none());
        for token in [
            full_token(),
            Token::bearer(AccessToken::new("only"), None),
            Token::bearer(AccessToken::new("epoch"), Some(SystemTime::UNIX_EPOCH)),
        ] {
            store.save(&token).await.unwrap();
            assert_same(&store.load().await.unwrap().unwrap(), &token);
        }
    }

    #[tokio::test]
    async fn file_format_is_versioned_json_with_unix_seconds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.json");
        FileStore::new(&path).save(&full_token()).await.unwrap();
        let json: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        assert_eq!(json["version"], 1);
        assert_eq!(json["access_token"], "SECRET_ACCESS");
        assert_eq!(json["token_type"], "DPoP");
        assert_eq!(json["expires_at"], 1_900_000_000u64);
        assert_eq!(json["refresh_token"], "SECRET_REFRESH");
        assert_eq!(json["scope"], "EVENTS READ");
        assert_eq!(json["extra"]["id_token"], "SECRET_ID");
    }

    #[tokio::test]
    async fn memory_store_round_trips_and_clears() {
        let store = MemoryStore::new();
        assert!(store.load().await.unwrap().is_none());
        store.save(&full_token()).await.unwrap();
        assert_same(&store.load().await.unwrap().unwrap(), &full_token());
        store.clear().await.unwrap();
        assert!(store.load().await.unwrap().is_none());
        store.clear().await.unwrap();
    }

    #[tokio::test]
    async fn stores_work_through_arc_and_box() {
        let dir = tempfile::tempdir().unwrap();
        let stores: Vec<Box<dyn TokenStore>> = vec![
            Box::new(Arc::new(MemoryStore::new())),
            Box::new(FileStore::new(dir.path().join("s.json"))),
        ];
        for store in stores {
            store.save(&full_token()).await.unwrap();
            assert_same(&store.load().await.unwrap().unwrap(), &full_token());
        }
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn file_is_created_owner_only_even_over_a_permissive_one() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new").join("session.json");
        let store = FileStore::new(&path);
        store.save(&full_token()).await.unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);

        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        store.save(&full_token()).await.unwrap();
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn write_private_file_replaces_atomically_with_owner_only_access() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("clients.json");
        write_private_file(&path, b"first").unwrap();
        write_private_file(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        assert_eq!(
            entries(path.parent().unwrap()),
            vec!["clients.json".to_owned()]
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        // A path that names no file is a typed error, not a panic.
        assert!(matches!(
            write_private_file(Path::new("/"), b"x"),
            Err(Error::Store { .. })
        ));
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[tokio::test]
    async fn a_failed_write_leaves_the_previous_file_intact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.json");
        let mut store = FileStore::new(&path);
        let old = Token::bearer(AccessToken::new("old"), None);
        store.save(&old).await.unwrap();
        let before = fs::read(&path).unwrap();

        store.fail_before_rename = true;
        let err = store.save(&full_token()).await.unwrap_err();
        assert!(matches!(err, Error::Store { .. }), "{err:?}");
        assert_eq!(fs::read(&path).unwrap(), before);
        assert_same(&store.load().await.unwrap().unwrap(), &old);
        // The temporary file was removed.
        assert_eq!(entries(dir.path()), vec!["session.json".to_owned()]);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_read_only_directory_fails_the_save_and_keeps_the_old_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.json");
        let store = FileStore::new(&path);
        let old = Token::bearer(AccessToken::new("old"), None);
        store.save(&old).await.unwrap();
        let before = fs::read(&path).unwrap();

        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o500)).unwrap();
        let probe = dir.path().join("probe");
        let privileged = fs::write(&probe, b"").is_ok();
        let result = store.save(&full_token()).await;
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
        if privileged {
            // Root ignores directory permissions; the injected failure test covers this
            // case instead.
            return;
        }
        assert!(matches!(result, Err(Error::Store { .. })), "{result:?}");
        assert_eq!(fs::read(&path).unwrap(), before);
        assert_same(&store.load().await.unwrap().unwrap(), &old);
    }

    #[tokio::test]
    async fn corrupt_files_are_typed_errors_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.json");
        let store = FileStore::new(&path);
        let cases: &[(&str, &[u8])] = &[
            ("not json", b"SECRET_GARBAGE{"),
            ("truncated", br#"{"version":1,"access_token":"SECRET_A""#),
            ("empty", b""),
            ("wrong version", br#"{"version":2,"access_token":"SECRET_A","token_type":"Bearer"}"#),
            ("no version", br#"{"access_token":"SECRET_A","token_type":"Bearer"}"#),
            ("missing token", br#"{"version":1,"token_type":"Bearer"}"#),
            ("empty token", br#"{"version":1,"access_token":"","token_type":"Bearer"}"#),
            (
                "wrong type",
                br#"{"version":1,"access_token":"SECRET_A","token_type":"Bearer","expires_at":"SECRET_X"}"#,
            ),
            (
                "out of range",
                br#"{"version":1,"access_token":"SECRET_A","token_type":"Bearer","expires_at":18446744073709551615}"#,
            ),
            ("an array", br#"["SECRET_A"]"#),
        ];
        for (name, contents) in cases {
            fs::write(&path, contents).unwrap();
            let err = store.load().await.unwrap_err();
            assert!(matches!(err, Error::StoreCorrupt { .. }), "{name}: {err:?}");
            let message = format!("{err} {err:?}");
            assert!(!message.contains("SECRET"), "{name}: {message}");
            assert_eq!(fs::read(&path).unwrap(), *contents, "{name}: file changed");
        }
    }

    #[tokio::test]
    async fn an_oversized_file_is_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.json");
        fs::write(&path, vec![b' '; MAX_FILE_BYTES as usize + 1]).unwrap();
        let err = FileStore::new(&path).load().await.unwrap_err();
        assert!(matches!(err, Error::StoreCorrupt { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn an_unreadable_path_is_a_store_error() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be.
        let err = FileStore::new(dir.path()).load().await.unwrap_err();
        assert!(matches!(err, Error::Store { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn clear_removes_the_file_and_tolerates_its_absence() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.json");
        let store = FileStore::new(&path);
        store.clear().await.unwrap();
        store.save(&full_token()).await.unwrap();
        store.clear().await.unwrap();
        assert!(!path.exists());
        assert!(store.load().await.unwrap().is_none());
        store.clear().await.unwrap();
    }

    #[tokio::test]
    async fn debug_of_the_stores_leaks_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let file = FileStore::new(dir.path().join("session.json"));
        file.save(&full_token()).await.unwrap();
        let memory = MemoryStore::new();
        memory.save(&full_token()).await.unwrap();
        for debug in [
            format!("{file:?}"),
            format!("{file:#?}"),
            format!("{memory:?}"),
            format!("{memory:#?}"),
        ] {
            assert!(!debug.contains("SECRET"), "{debug}");
        }
        assert!(format!("{memory:?}").contains("holds_token: true"));
    }
}
