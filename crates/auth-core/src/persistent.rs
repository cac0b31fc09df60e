//! A token source whose tokens outlive the process and are shared by every process using
//! the same store: [`PersistentSource`] over a [`LockingStore`].
//!
//! A rotating refresh token may be spent once. When several processes (two terminals,
//! workers on several machines) share a session, each refresh must happen under a lock
//! they all respect, and the rotated token must be saved before anyone uses it; otherwise
//! two of them spend the same refresh token, and a server with reuse detection (RFC 9700
//! §4.14.2) revokes the whole grant. [`PersistentSource::fetch`] does, in order:
//!
//! 1. read the store without the lock: a token a peer already refreshed (newer than the
//!    caller's and fresh) is used at once;
//! 2. take the store's lock ([`LockingStore::try_lock`]), polling every `poll_interval`;
//!    while waiting, read the store again at each poll and adopt a peer's new token as
//!    soon as it appears (the loser of the race never sends the refresh token itself);
//! 3. under the lock, read the store again, and use a peer's token if there is one by now;
//! 4. otherwise ask the inner [`TokenSource`] (passing the stored token, whose refresh
//!    token it spends), save the result through the lease
//!    ([`LockingStore::save_locked`], which a fenced store refuses if a newer lease has
//!    written since), release the lock, and return the token.
//!
//! When the store cannot be reached, [`WhenUnavailable`] decides: `FetchLocally` (for
//! client credentials, where two fetches cost only a token request) fetches without the
//! store and logs a warning; `Fail` (the default, required for rotating refresh tokens)
//! returns [`Error::StoreUnavailable`] and changes nothing, so the stored session is kept.
//!
//! A source that answers [`Error::LoginRequired`] (the grant is dead) has the store
//! cleared, under the lock.
//!
//! Each step runs in a `tracing` span (`token.lock_wait`, `token.store`,
//! `token.refresh`) recording its outcome and duration in milliseconds, never a token.
//!
//! [`FileStore`](crate::store::FileStore) locks a file beside the session for processes
//! on one machine; the `store-redis` crate gives a lease with fencing for a fleet.

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tracing::Instrument;

use crate::Error;
use crate::clock::{Clock, Sleep, SystemClock};
use crate::provider::TokenSource;
use crate::store::TokenStore;
use crate::token::Token;
use crate::token_cache::{CachingProvider, CachingProviderBuilder, DEFAULT_REFRESH_MARGIN};

/// The right to refresh the token of a [`LockingStore`], held between
/// [`LockingStore::try_lock`] and [`LockingStore::unlock`].
///
/// A lease has a fencing number: a store that can lose a lease while its holder still
/// runs (a lease with a time limit) gives each new lease a larger number and refuses a
/// save carrying a smaller number than the last one saved, so a holder that paused past
/// its lease cannot overwrite a newer token. Stores whose lock cannot run out (a file
/// lock, released by the OS when its process dies) use `0`.
pub struct Lease {
    fence: u64,
    owner: String,
    // What keeps the lock held (an open locked file), dropped on release.
    guard: Option<Box<dyn Any + Send + Sync>>,
}

impl Lease {
    /// A lease with fencing number `fence`, held by `owner` (a value unique to this
    /// holder, which the store uses to release only its own lease).
    pub fn new(fence: u64, owner: impl Into<String>) -> Self {
        Self {
            fence,
            owner: owner.into(),
            guard: None,
        }
    }

    /// Keeps `guard` alive as long as the lease (an open file whose lock is the lease).
    #[must_use]
    pub fn with_guard(mut self, guard: impl Any + Send + Sync) -> Self {
        self.guard = Some(Box::new(guard));
        self
    }

    /// The fencing number.
    pub fn fence(&self) -> u64 {
        self.fence
    }

    /// The holder's unique value.
    pub fn owner(&self) -> &str {
        &self.owner
    }
}

impl fmt::Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lease")
            .field("fence", &self.fence)
            .finish_non_exhaustive()
    }
}

/// What [`LockingStore::save_locked`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Saved {
    /// The token was written.
    Written,
    /// A holder with a newer lease has written since: nothing was written, and the
    /// stored token is the newer one.
    Superseded,
}

/// A [`TokenStore`] with a lock shared by every process that uses it.
#[async_trait]
pub trait LockingStore: TokenStore {
    /// Tries once to take the refresh lock: `Ok(None)` if another holder has it.
    ///
    /// # Errors
    /// The store cannot be reached or the lock cannot be made.
    async fn try_lock(&self) -> Result<Option<Lease>, Error>;

    /// Saves `token` as the holder of `lease`.
    ///
    /// # Errors
    /// The store cannot be written.
    async fn save_locked(&self, token: &Token, lease: &Lease) -> Result<Saved, Error>;

    /// Releases `lease` (only if it is still this holder's).
    ///
    /// # Errors
    /// The store cannot be reached; the lease then ends when it runs out.
    async fn unlock(&self, lease: Lease) -> Result<(), Error>;

    /// The store's name for messages: its file or its URL without password.
    fn describe(&self) -> String;
}

#[async_trait]
impl<T: LockingStore + ?Sized> LockingStore for Arc<T> {
    async fn try_lock(&self) -> Result<Option<Lease>, Error> {
        (**self).try_lock().await
    }
    async fn save_locked(&self, token: &Token, lease: &Lease) -> Result<Saved, Error> {
        (**self).save_locked(token, lease).await
    }
    async fn unlock(&self, lease: Lease) -> Result<(), Error> {
        (**self).unlock(lease).await
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

/// What a [`PersistentSource`] does when its store cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum WhenUnavailable {
    /// Fail with [`Error::StoreUnavailable`]; the stored session is kept. Required for
    /// rotating refresh tokens, which must never be spent without the lock.
    #[default]
    Fail,
    /// Fetch a token for this process alone, without the store, and log a warning. Fine
    /// for client credentials: the cost is one more token request.
    FetchLocally,
}

/// How long a process waits for another's refresh unless configured otherwise.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(90);

/// How often a waiting process looks at the lock and the store unless configured
/// otherwise.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(25);

/// A [`TokenSource`] that shares its tokens through a [`LockingStore`]; see the
/// [module documentation](self).
///
/// ```
/// use std::sync::Arc;
/// use auth_core::clock::sleep_fn;
/// use auth_core::persistent::{PersistentSource, WhenUnavailable};
/// use auth_core::store::FileStore;
/// use auth_core::{AccessToken, Error, Token, TokenProvider, TokenSource};
///
/// struct Mint;
/// #[async_trait::async_trait]
/// impl TokenSource for Mint {
///     async fn fetch(&self, _current: Option<&Token>) -> Result<Token, Error> {
///         Ok(Token::bearer(AccessToken::new("minted"), None))
///     }
/// }
///
/// # let dir = tempfile::tempdir()?;
/// // Any runtime's sleep; this one returns at once.
/// let sleep = Arc::new(sleep_fn(|_| Box::pin(async {})));
/// let provider = PersistentSource::builder(Mint, FileStore::new(dir.path().join("token.json")), sleep)
///     .when_unavailable(WhenUnavailable::FetchLocally)
///     .build()
///     .into_provider();
/// let token = futures_util::FutureExt::now_or_never(provider.token()).expect("file I/O is blocking")?;
/// assert_eq!(token.secret(), "minted");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PersistentSource<S, L> {
    source: S,
    store: L,
    clock: Arc<dyn Clock>,
    sleep: Arc<dyn Sleep>,
    margin: Duration,
    lock_timeout: Duration,
    poll_interval: Duration,
    when_unavailable: WhenUnavailable,
}

impl<S, L: LockingStore> fmt::Debug for PersistentSource<S, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PersistentSource")
            .field("store", &self.store.describe())
            .field("refresh_margin", &self.margin)
            .field("lock_timeout", &self.lock_timeout)
            .field("when_unavailable", &self.when_unavailable)
            .finish_non_exhaustive()
    }
}

/// Configures a [`PersistentSource`]; made by [`PersistentSource::builder`].
#[must_use]
pub struct PersistentSourceBuilder<S, L> {
    inner: PersistentSource<S, L>,
}

impl<S, L: LockingStore> fmt::Debug for PersistentSourceBuilder<S, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl<S, L> PersistentSourceBuilder<S, L> {
    /// The clock that decides whether a stored token is fresh (the system clock by
    /// default). Give the same one to the cache: [`PersistentSource::into_provider`] does.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.inner.clock = clock;
        self
    }

    /// How long before expiry a stored token counts as stale (60 seconds by default, as
    /// the cache's refresh margin).
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.inner.margin = margin;
        self
    }

    /// How long to wait for another process's refresh before failing with
    /// [`Error::LockTimedOut`] (90 seconds by default).
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.inner.lock_timeout = timeout;
        self
    }

    /// How often a waiting process tries the lock and reads the store (25 ms by default).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.inner.poll_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// What to do when the store cannot be reached ([`WhenUnavailable::Fail`] by default).
    pub fn when_unavailable(mut self, policy: WhenUnavailable) -> Self {
        self.inner.when_unavailable = policy;
        self
    }

    /// Builds the source.
    pub fn build(self) -> PersistentSource<S, L> {
        self.inner
    }
}

impl<S: TokenSource, L: LockingStore> PersistentSource<S, L> {
    /// A source that shares the tokens of `source` through `store`, waiting for the lock
    /// with `sleep` (the runtime's; `auth-core` has no timer).
    pub fn builder(source: S, store: L, sleep: Arc<dyn Sleep>) -> PersistentSourceBuilder<S, L> {
        PersistentSourceBuilder {
            inner: PersistentSource {
                source,
                store,
                clock: Arc::new(SystemClock),
                sleep,
                margin: DEFAULT_REFRESH_MARGIN,
                lock_timeout: DEFAULT_LOCK_TIMEOUT,
                poll_interval: DEFAULT_POLL_INTERVAL,
                when_unavailable: WhenUnavailable::Fail,
            },
        }
    }

    /// The store.
    pub fn store(&self) -> &L {
        &self.store
    }

    /// A cache in front of this source with the same clock, refresh margin and sleep (so
    /// also the load timeout), ready to be configured further.
    pub fn provider_builder(self) -> CachingProviderBuilder<Self> {
        let clock = Arc::clone(&self.clock);
        let sleep = Arc::clone(&self.sleep);
        let margin = self.margin;
        // The load timeout must cover a wait for another process's refresh.
        let load_timeout = self.lock_timeout + Duration::from_secs(30);
        CachingProvider::builder(self)
            .clock(clock)
            .refresh_margin(margin)
            .sleep(sleep)
            .load_timeout(load_timeout)
    }

    /// [`provider_builder`](Self::provider_builder), built.
    pub fn into_provider(self) -> CachingProvider<Self> {
        self.provider_builder().build()
    }

    /// Whether `stored` is a token the caller should take instead of refreshing: not the
    /// one it holds, and fresh.
    fn adoptable(&self, current: Option<&Token>, stored: &Token) -> bool {
        current.is_none_or(|c| c.access_token != stored.access_token)
            && stored.is_fresh(self.clock.now(), self.margin)
    }

    async fn load(&self) -> Result<Option<Token>, Error> {
        let span = tracing::info_span!(
            "token.store",
            op = "load",
            outcome = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        timed(&span, self.store.load())
            .instrument(span.clone())
            .await
    }

    /// The store failed with `err`: fail, or fetch for this process alone.
    async fn unavailable(&self, err: Error, current: Option<&Token>) -> Result<Token, Error> {
        if matches!(err, Error::StoreCorrupt { .. }) {
            return Err(err);
        }
        let store = self.store.describe();
        match self.when_unavailable {
            WhenUnavailable::Fail => Err(Error::StoreUnavailable {
                store,
                reason: err.to_string(),
            }),
            WhenUnavailable::FetchLocally => {
                tracing::warn!(
                    store,
                    error = %err,
                    "the token store is unavailable; fetching a token for this process alone"
                );
                self.source.fetch(current).await
            }
        }
    }

    /// Waits for the lock, or for a peer's new token. `Ok(Err(token))` is a peer's token.
    async fn acquire(&self, current: Option<&Token>) -> Result<Result<Lease, Token>, Error> {
        let started = Instant::now();
        loop {
            if let Some(lease) = self.store.try_lock().await? {
                return Ok(Ok(lease));
            }
            if let Some(stored) = self.store.load().await?
                && self.adoptable(current, &stored)
            {
                return Ok(Err(stored));
            }
            if started.elapsed() >= self.lock_timeout {
                return Err(Error::LockTimedOut {
                    store: self.store.describe(),
                    seconds: self.lock_timeout.as_secs(),
                });
            }
            self.sleep.sleep(self.poll_interval).await;
        }
    }

    /// Steps 3 and 4, under `lease`.
    async fn refresh_locked(&self, current: Option<&Token>, lease: &Lease) -> Result<Token, Error> {
        let stored = self.load().await?;
        if let Some(stored) = &stored
            && self.adoptable(current, stored)
        {
            return Ok(stored.clone());
        }
        let span = tracing::info_span!(
            "token.refresh",
            outcome = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        let base = stored.as_ref().or(current);
        let fetched = timed(&span, self.source.fetch(base))
            .instrument(span.clone())
            .await;
        let token = match fetched {
            Ok(token) => token,
            Err(err @ Error::LoginRequired { .. }) => {
                // The grant is dead: nobody can use the stored session any more.
                self.store.clear().await?;
                return Err(err);
            }
            Err(err) => return Err(err),
        };
        // The old refresh token may be spent already: the new one must reach the store.
        // A store that fails (restarting, say) is asked again until the lock timeout.
        let started = Instant::now();
        let saved = loop {
            let span = tracing::info_span!(
                "token.store",
                op = "save",
                fence = lease.fence(),
                outcome = tracing::field::Empty,
                duration_ms = tracing::field::Empty,
            );
            match timed(&span, self.store.save_locked(&token, lease))
                .instrument(span.clone())
                .await
            {
                Ok(saved) => break saved,
                Err(err) if started.elapsed() < self.lock_timeout => {
                    tracing::warn!(error = %err, "the new token could not be saved; trying again");
                    self.sleep.sleep(self.poll_interval.saturating_mul(4)).await;
                }
                Err(err) => {
                    tracing::error!(
                        error = %err,
                        "the new token could not be saved; only this process has it"
                    );
                    return Ok(token);
                }
            }
        };
        match saved {
            Saved::Written => Ok(token),
            Saved::Superseded => {
                // Our lease ran out and a newer holder saved: its token is the session now.
                tracing::warn!(
                    fence = lease.fence(),
                    "the refresh lease ran out before the token was saved; using the newer stored token"
                );
                Ok(self.load().await?.unwrap_or(token))
            }
        }
    }
}

/// Runs `future`, recording its outcome and duration on `span`.
async fn timed<T>(
    span: &tracing::Span,
    future: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    let started = Instant::now();
    let result = future.await;
    span.record(
        "duration_ms",
        u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    );
    span.record("outcome", if result.is_ok() { "ok" } else { "error" });
    result
}

#[async_trait]
impl<S: TokenSource, L: LockingStore> TokenSource for PersistentSource<S, L> {
    async fn fetch(&self, current: Option<&Token>) -> Result<Token, Error> {
        // 1. A peer's token, without the lock.
        match self.load().await {
            Ok(Some(stored)) if self.adoptable(current, &stored) => return Ok(stored),
            Ok(_) => {}
            Err(err) => return self.unavailable(err, current).await,
        }
        // 2. The lock, or a peer's token meanwhile.
        let span = tracing::info_span!(
            "token.lock_wait",
            outcome = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        let acquired = timed(&span, self.acquire(current))
            .instrument(span.clone())
            .await;
        let lease = match acquired {
            Ok(Ok(lease)) => lease,
            Ok(Err(peer)) => return Ok(peer),
            Err(err @ Error::LockTimedOut { .. }) => return Err(err),
            Err(err) => return self.unavailable(err, current).await,
        };
        // 3 and 4.
        let result = self.refresh_locked(current, &lease).await;
        if let Err(err) = self.store.unlock(lease).await {
            tracing::warn!(error = %err, "the refresh lock could not be released; it ends when its lease runs out");
        }
        match result {
            // The store failed under the lock before anything was spent: the caller's
            // policy decides, as for any outage.
            Err(err @ (Error::Store { .. } | Error::StoreUnavailable { .. })) => {
                self.unavailable(err, current).await
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{ManualClock, sleep_fn};
    use crate::store::FileStore;
    use crate::{AccessToken, RefreshToken, TokenProvider};
    use std::sync::atomic::{AtomicUsize, Ordering};

    const HOUR: Duration = Duration::from_secs(3600);

    /// A rotating refresh grant: spends `r<n>` for `t<n+1>` / `r<n+1>`, and counts reuse.
    struct Rotating {
        clock: ManualClock,
        refreshes: AtomicUsize,
        reuses: AtomicUsize,
        spent: std::sync::Mutex<Vec<String>>,
    }

    impl Rotating {
        fn new(clock: &ManualClock) -> Arc<Self> {
            Arc::new(Self {
                clock: clock.clone(),
                refreshes: AtomicUsize::new(0),
                reuses: AtomicUsize::new(0),
                spent: std::sync::Mutex::new(Vec::new()),
            })
        }
    }

    #[async_trait]
    impl TokenSource for Rotating {
        async fn fetch(&self, current: Option<&Token>) -> Result<Token, Error> {
            let refresh = current
                .and_then(|t| t.refresh_token.as_ref())
                .ok_or(Error::LoginRequired { reason: None })?
                .secret()
                .to_owned();
            {
                let mut spent = self.spent.lock().unwrap();
                if spent.contains(&refresh) {
                    self.reuses.fetch_add(1, Ordering::SeqCst);
                    return Err(Error::LoginRequired {
                        reason: Some("reused".into()),
                    });
                }
                spent.push(refresh);
            }
            // Give the other callers time to pile up on the lock.
            tokio::time::sleep(Duration::from_millis(20)).await;
            let n = self.refreshes.fetch_add(1, Ordering::SeqCst) + 1;
            Ok(Token::bearer(
                AccessToken::new(format!("t{n}")),
                Some(self.clock.now() + HOUR),
            )
            .with_refresh_token(RefreshToken::new(format!("r{n}"))))
        }
    }

    fn tokio_sleep() -> Arc<dyn Sleep> {
        Arc::new(sleep_fn(|d| Box::pin(tokio::time::sleep(d))))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn providers_sharing_a_file_store_refresh_once_and_adopt_the_result() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.json");
        let clock = ManualClock::default();
        let expired = Token::bearer(AccessToken::new("t0"), Some(clock.now()))
            .with_refresh_token(RefreshToken::new("r0"));
        FileStore::new(&path).save(&expired).await.unwrap();
        let source = Rotating::new(&clock);
        // Eight "processes": eight caches, each with its own store handle.
        let providers: Vec<_> = (0..8)
            .map(|_| {
                PersistentSource::builder(Arc::clone(&source), FileStore::new(&path), tokio_sleep())
                    .clock(Arc::new(clock.clone()))
                    .poll_interval(Duration::from_millis(2))
                    .build()
                    .into_provider()
            })
            .collect();
        let tasks: Vec<_> = providers
            .iter()
            .map(|p| {
                let p = p.clone();
                tokio::spawn(async move { p.token().await })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap().secret(), "t1");
        }
        assert_eq!(source.refreshes.load(Ordering::SeqCst), 1);
        assert_eq!(source.reuses.load(Ordering::SeqCst), 0);
        let stored = FileStore::new(&path).load().await.unwrap().unwrap();
        assert_eq!(stored.refresh_token.unwrap().secret(), "r1");
    }

    /// A store that cannot be reached.
    struct Down;

    fn down() -> Error {
        Error::Store {
            path: Some("redis://127.0.0.1:1/0".into()),
            reason: "connection refused".into(),
            source: None,
        }
    }

    #[async_trait]
    impl TokenStore for Down {
        async fn load(&self) -> Result<Option<Token>, Error> {
            Err(down())
        }
        async fn save(&self, _token: &Token) -> Result<(), Error> {
            Err(down())
        }
        async fn clear(&self) -> Result<(), Error> {
            Err(down())
        }
    }

    #[async_trait]
    impl LockingStore for Down {
        async fn try_lock(&self) -> Result<Option<Lease>, Error> {
            Err(down())
        }
        async fn save_locked(&self, _token: &Token, _lease: &Lease) -> Result<Saved, Error> {
            Err(down())
        }
        async fn unlock(&self, _lease: Lease) -> Result<(), Error> {
            Err(down())
        }
        fn describe(&self) -> String {
            "redis://127.0.0.1:1/0".into()
        }
    }

    #[tokio::test]
    async fn a_store_that_is_down_fails_a_refresh_but_lets_client_credentials_fetch_locally() {
        let clock = ManualClock::default();
        let source = Rotating::new(&clock);
        let expired = Token::bearer(AccessToken::new("t0"), Some(clock.now()))
            .with_refresh_token(RefreshToken::new("r0"));
        let strict = PersistentSource::builder(Arc::clone(&source), Down, tokio_sleep())
            .clock(Arc::new(clock.clone()))
            .build()
            .provider_builder()
            .initial(expired.clone())
            .build();
        let err = strict.token().await.unwrap_err();
        assert!(
            matches!(&err, Error::StoreUnavailable { store, .. } if store == "redis://127.0.0.1:1/0"),
            "{err:?}"
        );
        assert_eq!(source.refreshes.load(Ordering::SeqCst), 0, "nothing spent");

        let lenient = PersistentSource::builder(Arc::clone(&source), Down, tokio_sleep())
            .clock(Arc::new(clock.clone()))
            .when_unavailable(WhenUnavailable::FetchLocally)
            .build()
            .provider_builder()
            .initial(expired)
            .build();
        assert_eq!(lenient.token().await.unwrap().secret(), "t1");
    }

    #[tokio::test]
    async fn a_dead_grant_clears_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.json");
        let clock = ManualClock::default();
        // No refresh token: the source answers LoginRequired.
        FileStore::new(&path)
            .save(&Token::bearer(AccessToken::new("t0"), Some(clock.now())))
            .await
            .unwrap();
        let provider =
            PersistentSource::builder(Rotating::new(&clock), FileStore::new(&path), tokio_sleep())
                .clock(Arc::new(clock.clone()))
                .build()
                .into_provider();
        assert!(matches!(
            provider.token().await,
            Err(Error::LoginRequired { .. })
        ));
        assert!(!path.exists());
    }

    /// Collects what a `fmt` subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn spans_record_outcome_and_duration_and_never_a_secret() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let _default = tracing::subscriber::set_default(subscriber);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.json");
        let clock = ManualClock::default();
        let expired = Token::bearer(AccessToken::new("SECRET_A0"), Some(clock.now()))
            .with_refresh_token(RefreshToken::new("SECRET_R0"));
        FileStore::new(&path).save(&expired).await.unwrap();
        let source = Rotating::new(&clock);
        let provider =
            PersistentSource::builder(Arc::clone(&source), FileStore::new(&path), tokio_sleep())
                .clock(Arc::new(clock.clone()))
                .build()
                .into_provider();
        let token = provider.token().await.unwrap();
        // A failing refresh too: the spent refresh token put back.
        FileStore::new(&path).save(&expired).await.unwrap();
        clock.advance(2 * HOUR);
        let _ = provider.token().await;

        let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        for span in [
            "token.fetch",
            "token.lock_wait",
            "token.refresh",
            "token.store",
        ] {
            assert!(log.contains(span), "no {span} span in:\n{log}");
        }
        assert!(
            log.contains("outcome=\"ok\"") || log.contains("outcome=ok"),
            "{log}"
        );
        assert!(
            log.contains("outcome=\"error\"") || log.contains("outcome=error"),
            "{log}"
        );
        assert!(log.contains("duration_ms"), "{log}");
        assert!(!log.contains("SECRET"), "{log}");
        assert!(
            !log.contains(token.secret()) && !log.contains("r1"),
            "{log}"
        );
    }
}
