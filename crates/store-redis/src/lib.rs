//! A Redis token store for fleets of processes that share one token or one session.
//!
//! [`RedisStore`] implements `auth-core`'s [`TokenStore`] and [`LockingStore`], so an
//! [`auth_core::PersistentSource`] over it gives every process of a fleet (workers on
//! several machines, cron hosts) the same token:
//!
//! - **Per key**: the token lives at `<key>:token`, in the same versioned JSON as
//!   `auth-core`'s `FileStore` ([`auth_core::store::encode_token`]).
//! - **Lease**: the refresh lock is `SET <key>:lock <owner> NX PX <lease>`, where
//!   `<owner>` is 128 random bits unique to the holder; it is released by a Lua
//!   compare-and-delete, so a holder whose lease ran out cannot release its successor's.
//!   A holder that dies is replaced when its lease runs out.
//! - **Fencing**: each lease gets a number from `INCR <key>:fence`, taken in the same
//!   script as the lease. A save under a lease runs a Lua check-and-set that refuses it if
//!   a newer fence has written (`<key>:written`): a holder that paused past its lease
//!   cannot overwrite a newer token ([`Saved::Superseded`]). A plain
//!   [`save`](TokenStore::save) (a login) and [`clear`](TokenStore::clear) take a fence
//!   of their own, so no older lease can undo them.
//! - **Redis down**: every call has a timeout (2 s by default); an error is
//!   [`auth_core::Error::Store`] naming the URL (without password) and key. A
//!   `PersistentSource` then fails a rotating refresh with
//!   [`auth_core::Error::StoreUnavailable`] and keeps the session, or fetches a
//!   client-credentials token for its own process with a warning
//!   ([`auth_core::WhenUnavailable`]). The connection is re-opened on the next call.
//!
//! Tokens are secrets: use `rediss://` (TLS, with rustls and the system's roots) for any
//! Redis not on this machine; plain `redis://` is accepted only for loopback addresses,
//! and a Redis reachable by others should require a password (`redis://:pw@host/0`).
//! For "no token lost" across a Redis restart, run Redis with persistence
//! (`appendonly yes`).
//!
//! ```no_run
//! use std::sync::Arc;
//! use auth_core::clock::sleep_fn;
//! use auth_core::{PersistentSource, WhenUnavailable};
//! use store_redis::RedisStore;
//!
//! # fn run(source: auth_core::ClientCredentialsSource<Arc<dyn auth_core::HttpTransport>>) -> Result<(), store_redis::Error> {
//! let store = RedisStore::open("redis://127.0.0.1:6379/0", "myapp:communico")?;
//! let sleep = Arc::new(sleep_fn(|d| Box::pin(tokio::time::sleep(d))));
//! let provider = PersistentSource::builder(source, store, sleep)
//!     .when_unavailable(WhenUnavailable::FetchLocally)
//!     .build()
//!     .into_provider();
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::Token;
use auth_core::persistent::{Lease, LockingStore, Saved};
use auth_core::store::{TokenStore, decode_token, encode_token};
use redis::aio::MultiplexedConnection;
use url::Url;

/// The crate's one error: a store that cannot be configured. Failures while talking to
/// Redis are [`auth_core::Error`]s, since the store speaks `auth-core`'s traits.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL given for the store (for example with `--store` or `ATTEND_STORE`) is not
    /// a usable Redis URL. Use `redis://host:port/db` for a Redis on this machine and
    /// `rediss://host:port/db` for any other.
    #[error("the token store URL {url} is not usable: {reason}")]
    InvalidUrl {
        /// The URL, without password.
        url: String,
        /// What is wrong.
        reason: String,
    },
}

/// How long a refresh lease lasts unless configured otherwise: longer than a token
/// request with its retries takes.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// How long one Redis call may take unless configured otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// Takes the lease and its fence in one step: `0` when another holder has it.
const ACQUIRE: &str = r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return 0
";

/// Releases the lease only if this holder still has it.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// Saves under a fence: refused (`0`) if a newer fence has written.
const SAVE_FENCED: &str = r"
local written = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[1]) < written then
  return 0
end
redis.call('SET', KEYS[2], ARGV[1])
redis.call('SET', KEYS[1], ARGV[2])
return 1
";

/// Saves (or, with no value, clears) under a fence of its own.
const SAVE_NEW_FENCE: &str = r"
local fence = redis.call('INCR', KEYS[3])
redis.call('SET', KEYS[2], fence)
if ARGV[1] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[1])
end
return fence
";

/// A token store in Redis; see the [crate documentation](crate). Cheap to clone: clones
/// share one connection.
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    connection: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    /// The URL without password, for messages.
    url: String,
    key: String,
    lease: Duration,
    timeout: Duration,
    scripts: Scripts,
}

struct Scripts {
    acquire: redis::Script,
    release: redis::Script,
    save_fenced: redis::Script,
    save_new_fence: redis::Script,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.inner.url)
            .field("key", &self.inner.key)
            .field("lease", &self.inner.lease)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

/// `url` without its password, for messages.
fn redact(url: &Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("***"));
    }
    shown.to_string()
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        // `redis:` is not a special scheme: its host is never parsed as an address.
        Some(url::Host::Domain(domain)) => {
            domain.eq_ignore_ascii_case("localhost")
                || domain
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

impl RedisStore {
    /// A store at `url` (`redis://host:port/db` for loopback, `rediss://host:port/db`
    /// otherwise; a password as `redis://:password@host/db`), keeping its token under
    /// `key` (for example `myapp:communico:<client id>`). Nothing is sent until used.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`] for a URL that does not parse, has another scheme, or is
    /// plain `redis://` to a host that is not a loopback address.
    pub fn open(url: &str, key: impl Into<String>) -> Result<Self, Error> {
        let parsed = Url::parse(url).map_err(|e| Error::InvalidUrl {
            url: "(unparsable URL)".into(),
            reason: e.to_string(),
        })?;
        let shown = redact(&parsed);
        let invalid = |reason: &str| Error::InvalidUrl {
            url: shown.clone(),
            reason: reason.to_owned(),
        };
        match parsed.scheme() {
            "rediss" => {}
            "redis" if is_loopback(&parsed) => {}
            "redis" => {
                return Err(invalid(
                    "tokens must not cross the network unencrypted: use rediss:// (TLS) for a Redis that is not on this machine",
                ));
            }
            _ => return Err(invalid("the scheme must be redis:// or rediss://")),
        }
        let client = redis::Client::open(parsed).map_err(|e| invalid(&e.to_string()))?;
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                connection: tokio::sync::Mutex::new(None),
                url: shown,
                key: key.into(),
                lease: DEFAULT_LEASE,
                timeout: DEFAULT_TIMEOUT,
                scripts: Scripts {
                    acquire: redis::Script::new(ACQUIRE),
                    release: redis::Script::new(RELEASE),
                    save_fenced: redis::Script::new(SAVE_FENCED),
                    save_new_fence: redis::Script::new(SAVE_NEW_FENCE),
                },
            }),
        })
    }

    /// How long a refresh lease lasts (30 seconds by default): a holder that dies is
    /// replaced this long after it took the lease. Longer than a token request takes,
    /// or a slow holder is overtaken (its save is then refused by the fence).
    ///
    /// Call before the store is cloned or used.
    #[must_use]
    pub fn lease(mut self, lease: Duration) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.lease = lease.max(Duration::from_millis(1));
        }
        self
    }

    /// How long one Redis call (connecting included) may take (2 seconds by default).
    ///
    /// Call before the store is cloned or used.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.timeout = timeout;
        }
        self
    }

    /// The key under which the token is kept (`<key>:token`, with `:lock`, `:fence` and
    /// `:written` beside it).
    pub fn key(&self) -> &str {
        &self.inner.key
    }

    /// The URL, without password.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    fn keys(&self, suffix: &str) -> String {
        format!("{}:{suffix}", self.inner.key)
    }

    fn error(&self, what: &str, err: &redis::RedisError) -> auth_core::Error {
        auth_core::Error::Store {
            path: Some(self.describe()),
            reason: format!("{what}: {}", describe_redis_error(err)),
            source: None,
        }
    }

    /// The open connection, or a new one; says whether it is new.
    async fn connection(&self) -> Result<(MultiplexedConnection, bool), auth_core::Error> {
        let mut slot = self.inner.connection.lock().await;
        if let Some(connection) = slot.as_ref() {
            return Ok((connection.clone(), false));
        }
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.inner.timeout))
            .set_response_timeout(Some(self.inner.timeout));
        let connection = self
            .inner
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| self.error("cannot connect", &e))?;
        *slot = Some(connection.clone());
        Ok((connection, true))
    }

    /// Runs `call` on the connection. A broken connection is dropped; if it was an old
    /// one (Redis restarted since, say), the call is made once more on a new one.
    async fn run<T, F, Fut>(&self, what: &str, call: F) -> Result<T, auth_core::Error>
    where
        F: Fn(MultiplexedConnection) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        loop {
            let (connection, new) = self.connection().await?;
            match call(connection).await {
                Ok(value) => return Ok(value),
                Err(err) => {
                    let broken =
                        err.is_io_error() || err.is_connection_dropped() || err.is_timeout();
                    if broken {
                        *self.inner.connection.lock().await = None;
                    }
                    if !broken || new || err.is_timeout() {
                        return Err(self.error(what, &err));
                    }
                    tracing::debug!(store = %self.describe(), "the Redis connection was closed; opening a new one");
                }
            }
        }
    }

    async fn save_new_fence(&self, value: &[u8]) -> Result<(), auth_core::Error> {
        let keys = [self.keys("token"), self.keys("written"), self.keys("fence")];
        let keys = &keys;
        let script = &self.inner.scripts.save_new_fence;
        self.run("cannot write the token", |mut c| async move {
            script
                .key(&keys[0])
                .key(&keys[1])
                .key(&keys[2])
                .arg(value)
                .invoke_async::<u64>(&mut c)
                .await
        })
        .await
        .map(|_| ())
    }
}

/// A Redis error in one line, without anything the server echoed of a command.
fn describe_redis_error(err: &redis::RedisError) -> String {
    if err.is_timeout() {
        "no answer in time".to_owned()
    } else if err.is_connection_refusal() {
        "connection refused (is Redis running there?)".to_owned()
    } else if err.is_io_error() || err.is_connection_dropped() {
        "the connection failed or was closed".to_owned()
    } else {
        format!("Redis answered an error ({:?})", err.kind())
    }
}

#[async_trait]
impl TokenStore for RedisStore {
    async fn load(&self) -> Result<Option<Token>, auth_core::Error> {
        let key = self.keys("token");
        let key = &key;
        let bytes: Option<Vec<u8>> = self
            .run("cannot read the token", |mut c| async move {
                redis::cmd("GET").arg(key).query_async(&mut c).await
            })
            .await?;
        bytes
            .map(|b| decode_token(&b, &self.describe()))
            .transpose()
    }

    async fn save(&self, token: &Token) -> Result<(), auth_core::Error> {
        let value = encode_token(token)?;
        self.save_new_fence(&value).await
    }

    async fn clear(&self) -> Result<(), auth_core::Error> {
        self.save_new_fence(b"").await
    }
}

#[async_trait]
impl LockingStore for RedisStore {
    async fn try_lock(&self) -> Result<Option<Lease>, auth_core::Error> {
        let owner = format!(
            "{:016x}{:016x}",
            getrandom::u64().map_err(|_| random_unavailable())?,
            getrandom::u64().map_err(|_| random_unavailable())?
        );
        let keys = [self.keys("lock"), self.keys("fence")];
        let keys = &keys;
        let lease_ms = u64::try_from(self.inner.lease.as_millis()).unwrap_or(u64::MAX);
        let script = &self.inner.scripts.acquire;
        let fence: u64 = self
            .run("cannot take the refresh lease", |mut c| {
                let owner = &owner;
                async move {
                    script
                        .key(&keys[0])
                        .key(&keys[1])
                        .arg(owner)
                        .arg(lease_ms)
                        .invoke_async(&mut c)
                        .await
                }
            })
            .await?;
        Ok((fence != 0).then(|| Lease::new(fence, owner)))
    }

    async fn save_locked(&self, token: &Token, lease: &Lease) -> Result<Saved, auth_core::Error> {
        let value = encode_token(token)?;
        let keys = [self.keys("token"), self.keys("written")];
        let keys = &keys;
        let script = &self.inner.scripts.save_fenced;
        let fence = lease.fence();
        let written: u64 = self
            .run("cannot write the token", |mut c| {
                let value = &value;
                async move {
                    script
                        .key(&keys[0])
                        .key(&keys[1])
                        .arg(fence)
                        .arg(value.as_slice())
                        .invoke_async(&mut c)
                        .await
                }
            })
            .await?;
        Ok(if written == 1 {
            Saved::Written
        } else {
            Saved::Superseded
        })
    }

    async fn unlock(&self, lease: Lease) -> Result<(), auth_core::Error> {
        let key = self.keys("lock");
        let key = &key;
        let script = &self.inner.scripts.release;
        let owner = lease.owner();
        self.run("cannot release the refresh lease", |mut c| async move {
            script.key(key).arg(owner).invoke_async::<u64>(&mut c).await
        })
        .await
        .map(|_| ())
    }

    fn describe(&self) -> String {
        format!("{} (key {})", self.inner.url, self.inner.key)
    }
}

fn random_unavailable() -> auth_core::Error {
    auth_core::Error::InvalidConfig {
        reason: "the operating system's random number generator is unavailable".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_redis_is_accepted_only_for_loopback() {
        for ok in [
            "redis://127.0.0.1:6379/0",
            "redis://localhost/1",
            "redis://[::1]:6379/0",
            "rediss://cache.example:6380/0",
        ] {
            assert!(RedisStore::open(ok, "k").is_ok(), "{ok}");
        }
        for refused in [
            "redis://cache.example:6379/0",
            "redis://10.0.0.5/0",
            "http://127.0.0.1/0",
            "not a url",
        ] {
            assert!(
                matches!(
                    RedisStore::open(refused, "k"),
                    Err(Error::InvalidUrl { .. })
                ),
                "{refused}"
            );
        }
    }

    #[tokio::test]
    async fn the_password_never_shows_and_an_unreachable_server_is_a_typed_error() {
        // Port 1 on loopback: nothing listens there.
        let store = RedisStore::open("redis://:SECRET_PW@127.0.0.1:1/0", "k")
            .unwrap()
            .timeout(Duration::from_millis(500));
        let err = store.load().await.unwrap_err();
        assert!(matches!(err, auth_core::Error::Store { .. }), "{err:?}");
        for text in [
            format!("{store:?}"),
            store.describe(),
            err.to_string(),
            format!("{err:?}"),
        ] {
            assert!(!text.contains("SECRET_PW"), "{text}");
            assert!(text.contains("127.0.0.1:1"), "{text}");
        }
        let err = RedisStore::open("redis://:SECRET_PW@cache.example/0", "k").unwrap_err();
        assert!(!format!("{err} {err:?}").contains("SECRET_PW"));
    }
}
