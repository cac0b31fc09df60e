//! A token cache whose hit is lock-free, whose refresh is single-flight, and which keeps
//! serving a still-valid token while its source is failing.
//!
//! [`CachingProvider`] turns any [`TokenSource`] (a grant that fetches tokens) into a
//! [`TokenProvider`] (what API clients ask on every request):
//!
//! - **Hit**: the cached token lives in an [`ArcSwapOption`]; reading it takes no lock,
//!   reads the clock's monotonic counter once ([`Clock::monotonic_nanos`]) and clones one
//!   reference-counted secret.
//! - **Two windows** (static stability): a token is refreshed a margin (60 s by default,
//!   [`CachingProviderBuilder::refresh_margin`]) before it expires, the *advisory*
//!   window. If that refresh fails, callers keep getting the cached token, with a warning
//!   in the log, until the *mandatory* window starts
//!   ([`CachingProviderBuilder::mandatory_margin`], 10 s before expiry by default); only
//!   then do they see the error. An outage of the token endpoint therefore becomes an
//!   outage of the API only once the last token has really run out.
//! - **Back-off**: after a failed refresh while a valid token is served, the next attempt
//!   waits a back-off with jitter (1 s doubling up to 60 s by default,
//!   [`CachingProviderBuilder::backoff`]); meanwhile hits cost what they always cost. With
//!   nothing valid left to serve, a call that asks tries again at once (one attempt at a
//!   time, shared by every caller).
//! - **Load timeout**: with a [`Sleep`] configured ([`CachingProviderBuilder::sleep`]), a
//!   fetch that takes longer than the load timeout (30 s by default) fails with
//!   [`Error::FetchTimedOut`], so a hung source cannot wedge the cache.
//! - **Single flight**: when the token must be refreshed, every concurrent caller awaits
//!   the same fetch and receives its outcome, success or error. The fetch is a
//!   [`Shared`] future kept in a slot of its own, so dropping the caller that started it
//!   does not cancel it for the others: whoever still waits drives it to the end. After a
//!   failure, or a panic inside the source (reported as an error), the slot is empty
//!   again. While a valid token is cached, only the caller that started the refresh waits
//!   for it; the others get the cached token at once.
//! - **No cycle**: the fetch in flight holds the cache only weakly, so dropping every
//!   clone of the provider frees the source (and the client secret it may hold) and the
//!   last refresh token even while an abandoned fetch sits in the slot.
//! - **Observability**: every fetch runs in a `token.fetch` `tracing` span recording its
//!   outcome and duration in milliseconds (never a token), and a hook
//!   ([`CachingProviderBuilder::on_new_token`]) hears of every new token.
//!
//! What a caller sees, in order of the token's life:
//!
//! | time | the source works | the source fails |
//! | --- | --- | --- |
//! | before the advisory window | the cached token | the cached token |
//! | advisory window | the first caller waits for the new token; others get the cached one | the cached token; attempts spaced by the back-off |
//! | mandatory window, or expired | every caller waits for the new token | the error ([`Error::FetchTimedOut`] for a hung source) |
//!
//! Time comes from an injected [`Clock`], so tests move it by hand.

use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwapOption;
use futures_util::FutureExt;
use futures_util::future::{self, Either, Shared};
use tracing::Instrument;

use crate::Error;
use crate::clock::{Clock, Sleep, SystemClock};
use crate::provider::{TokenFuture, TokenProvider, TokenSource, TypedToken};
use crate::secret::AccessToken;
use crate::token::Token;
use crate::transport::{TransportError, TransportErrorKind};

/// How long before expiry a token is refreshed unless configured otherwise (the start of
/// the advisory window).
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// How long before expiry a token stops being served when its refresh fails, unless
/// configured otherwise (the start of the mandatory window): a request should not leave
/// with a token that dies in flight.
pub const DEFAULT_MANDATORY_MARGIN: Duration = Duration::from_secs(10);

/// The first back-off after a failed refresh, doubled after each further failure.
pub const DEFAULT_BACKOFF_INITIAL: Duration = Duration::from_secs(1);

/// The longest back-off between refresh attempts.
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(60);

/// How long a fetch may take when a [`Sleep`] is configured, unless configured otherwise.
pub const DEFAULT_LOAD_TIMEOUT: Duration = Duration::from_secs(30);

type FetchOutcome = Result<Arc<Token>, Error>;
type SharedFetch = Shared<Pin<Box<dyn Future<Output = FetchOutcome> + Send>>>;

/// A function called with every new token a [`CachingProvider`] obtains from its source.
pub type NewTokenHook = Arc<dyn Fn(&Token) + Send + Sync>;

/// Caches the tokens of a [`TokenSource`] and refreshes them before they expire.
///
/// Cloning a `CachingProvider` is cheap and the clones share one cache. See the
/// [module documentation](self) for what callers see while the source fails.
///
/// ```
/// use std::sync::Arc;
/// use std::time::{Duration, SystemTime};
/// use auth_core::clock::ManualClock;
/// use auth_core::{AccessToken, CachingProvider, Error, Token, TokenProvider, TokenSource};
///
/// /// A source that mints a token valid for an hour.
/// struct Mint(Arc<ManualClock>);
///
/// #[async_trait::async_trait]
/// impl TokenSource for Mint {
///     async fn fetch(&self, _current: Option<&Token>) -> Result<Token, Error> {
///         use auth_core::clock::Clock;
///         let expires = self.0.now() + Duration::from_secs(3600);
///         Ok(Token::bearer(AccessToken::new("t"), Some(expires)))
///     }
/// }
///
/// # futures_util::FutureExt::now_or_never(async {
/// let clock = Arc::new(ManualClock::default());
/// let provider = CachingProvider::builder(Mint(clock.clone()))
///     .clock(clock.clone())
///     .refresh_margin(Duration::from_secs(120))
///     .build();
/// let token = provider.token().await?;
/// assert_eq!(token.secret(), "t");
/// # Ok::<(), Error>(())
/// # }).expect("the source never waits")?;
/// # Ok::<(), Error>(())
/// ```
pub struct CachingProvider<S> {
    inner: Arc<Inner<S>>,
}

impl<S> Clone for CachingProvider<S> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

struct Inner<S> {
    /// Shared with the fetch in flight, which must not hold `Inner` itself: `Inner` holds
    /// the fetch, and the cycle would keep both alive once every provider is dropped.
    source: Arc<S>,
    settings: Arc<Settings>,
    /// The token handed out while it is fresh; `None` before the first fetch and after an
    /// invalidation.
    cached: ArcSwapOption<Entry>,
    /// The last token obtained, kept through invalidation: a refreshing source needs its
    /// refresh token even after the access token was rejected.
    last: ArcSwapOption<Token>,
    /// The fetch in flight, if any, tagged with a generation so that a finished fetch
    /// clears only its own slot.
    inflight: Mutex<Option<(u64, SharedFetch)>>,
    generation: AtomicU64,
    /// Consecutive failed fetches, for the back-off.
    failures: AtomicU64,
}

/// What a fetch needs besides the source, shared with it.
struct Settings {
    clock: Arc<dyn Clock>,
    margin: Duration,
    mandatory: Duration,
    backoff_initial: Duration,
    backoff_max: Duration,
    sleep: Option<Arc<dyn Sleep>>,
    load_timeout: Duration,
    hook: Option<NewTokenHook>,
}

/// A cached token and the moments (in the clock's monotonic nanoseconds) it stops being
/// served from the cache without a look at the source, and at all.
struct Entry {
    token: Arc<Token>,
    /// Until then, a hit. `None` for a token with no known expiry: served until
    /// invalidated.
    refresh_at: Option<u64>,
    /// Until then, served when its refresh fails (never later than its expiry).
    usable_until: Option<u64>,
    /// Separate copies of the access token, each with its own reference count, one per
    /// group of threads. Handing out a token clones it, and a clone writes its reference
    /// count: were all threads to share one count, the cache line holding it would bounce
    /// between cores on every hit. Copies compare equal, so `invalidate` is unaffected.
    shards: [AccessToken; SHARDS],
}

/// How many copies of the access token a cache entry keeps (a power of two).
const SHARDS: usize = 8;

/// Hands each thread a shard, round-robin, the first time it asks.
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static SHARD: usize = NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS;
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Entry {
    fn new(token: Arc<Token>, settings: &Settings) -> Self {
        let now = settings.clock.now();
        let mono = settings.clock.monotonic_nanos();
        // Deadlines are measured from now on the monotonic clock.
        let at = |deadline: SystemTime| {
            mono.saturating_add(nanos(deadline.duration_since(now).unwrap_or_default()))
        };
        let (refresh_at, usable_until) = match token.expires_at {
            None => (None, None),
            Some(expires_at) => {
                let refresh = refresh_deadline(expires_at, now, settings.margin);
                // Served on failure until the mandatory window, but at least as long as a
                // hit would serve it, and never past its expiry (`refresh` never is).
                let usable = expires_at
                    .checked_sub(settings.mandatory)
                    .unwrap_or(refresh)
                    .max(refresh);
                (Some(at(refresh)), Some(at(usable)))
            }
        };
        let shards = std::array::from_fn(|i| {
            if i == 0 {
                token.access_token.clone()
            } else {
                AccessToken::new(token.access_token.secret())
            }
        });
        Self {
            token,
            refresh_at,
            usable_until,
            shards,
        }
    }

    /// The same token, served from the cache until `retry_at` (while usable): the
    /// back-off after a failed refresh.
    fn retry_at(&self, retry_at: u64) -> Self {
        Self {
            token: Arc::clone(&self.token),
            refresh_at: self.usable_until.map(|usable| usable.min(retry_at)),
            usable_until: self.usable_until,
            shards: self.shards.clone(),
        }
    }

    /// Whether the entry may still be served without looking at the source. The clock is
    /// read only for a token that expires.
    #[inline]
    fn is_fresh(&self, clock: &dyn Clock) -> bool {
        self.refresh_at
            .is_none_or(|at| clock.monotonic_nanos() < at)
    }

    /// Whether the entry may be served while its refresh fails.
    fn is_usable(&self, clock: &dyn Clock) -> bool {
        self.usable_until
            .is_none_or(|at| clock.monotonic_nanos() < at)
    }

    /// A clone of the access token from this thread's copy.
    #[inline]
    fn access_token(&self) -> AccessToken {
        // A thread whose thread-locals are being torn down uses the first copy.
        let shard = SHARD.try_with(|s| *s).unwrap_or(0);
        self.shards[shard % SHARDS].clone()
    }
}

/// When to stop serving a token that expires at `expires_at`, received at `now`:
/// `margin` before expiry, which is exactly when [`Token::is_fresh`] turns false. A token
/// whose whole remaining life is shorter than the margin would be refetched on every call;
/// it is kept for half of what remains instead, which still refreshes it well before it
/// dies but bounds the fetch rate.
fn refresh_deadline(expires_at: SystemTime, now: SystemTime, margin: Duration) -> SystemTime {
    match expires_at.checked_sub(margin) {
        Some(deadline) if deadline > now => deadline,
        _ => match expires_at.duration_since(now) {
            Ok(remaining) => now.checked_add(remaining / 2).unwrap_or(expires_at),
            // Already expired.
            Err(_) => expires_at,
        },
    }
}

/// The back-off after `failures` consecutive failures: `initial` doubled per further
/// failure, capped at `max`, of which the upper half is random ("equal jitter"), so that
/// processes that failed together do not retry together.
fn backoff(failures: u64, initial: Duration, max: Duration) -> Duration {
    let exponent = u32::try_from(failures.saturating_sub(1).min(32)).unwrap_or(32);
    let full = initial.saturating_mul(1u32 << exponent.min(31)).min(max);
    let half = full / 2;
    let jitter = getrandom::u64().unwrap_or(0) % nanos(half).saturating_add(1);
    half + Duration::from_nanos(jitter)
}

impl<S> fmt::Debug for CachingProvider<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cached = self.inner.cached.load();
        f.debug_struct("CachingProvider")
            .field("clock", &self.inner.settings.clock)
            .field("refresh_margin", &self.inner.settings.margin)
            .field("mandatory_margin", &self.inner.settings.mandatory)
            .field("cached", &cached.as_ref().map(|e| &e.token))
            .field("fetching", &lock(&self.inner.inflight).is_some())
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The slot only ever holds a complete value (it is replaced or cleared in one
    // assignment), so a panic elsewhere while it was locked cannot leave it half-written.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<S: TokenSource> CachingProvider<S> {
    /// A cache over `source` using the system clock, a refresh margin of 60 seconds and
    /// the default back-off; without a [`Sleep`], no load timeout.
    pub fn new(source: S) -> Self {
        Self::builder(source).build()
    }

    /// Starts configuring a cache over `source`.
    pub fn builder(source: S) -> CachingProviderBuilder<S> {
        CachingProviderBuilder {
            source,
            clock: None,
            margin: DEFAULT_REFRESH_MARGIN,
            mandatory: DEFAULT_MANDATORY_MARGIN,
            backoff: (DEFAULT_BACKOFF_INITIAL, DEFAULT_BACKOFF_MAX),
            sleep: None,
            load_timeout: DEFAULT_LOAD_TIMEOUT,
            hook: None,
            initial: None,
        }
    }

    /// The cached token as it is, fresh or not, without fetching. `None` before the
    /// first token and after [`invalidate`](TokenProvider::invalidate).
    pub fn current(&self) -> Option<Arc<Token>> {
        self.inner
            .cached
            .load()
            .as_ref()
            .map(|e| Arc::clone(&e.token))
    }

    /// The cached access token if it is fresh now, without fetching: the synchronous part
    /// of [`token`](TokenProvider::token), for callers that cannot await.
    #[inline]
    pub fn fresh_token(&self) -> Option<AccessToken> {
        let cached = self.inner.cached.load();
        match cached.as_ref() {
            Some(entry) if entry.is_fresh(&*self.inner.settings.clock) => {
                Some(entry.access_token())
            }
            _ => None,
        }
    }

    /// Replaces the cached token, for example with one loaded from a
    /// [`TokenStore`](crate::store::TokenStore) or obtained by an interactive login. A
    /// fetch already in flight still completes and its token then replaces this one.
    pub fn set(&self, token: Token) {
        self.inner.store(Arc::new(token));
    }
}

impl<S: TokenSource + 'static> CachingProvider<S> {
    /// A fresh token with everything that came with it (refresh token, scope, extra
    /// members), fetching one if needed. While the source fails, a token still outside
    /// the mandatory window is returned (see the [module documentation](self)).
    pub async fn token_details(&self) -> Result<Arc<Token>, Error> {
        {
            let cached = self.inner.cached.load();
            if let Some(entry) = cached
                .as_ref()
                .filter(|e| e.is_fresh(&*self.inner.settings.clock))
            {
                return Ok(Arc::clone(&entry.token));
            }
        }
        self.obtain(self.refresh()).await
    }

    /// The slow path: the cached token is not fresh (or there is none). `refresh` is
    /// what [`refresh`](Self::refresh) answered: taken when the call is made, so that
    /// every caller asking before the fetch runs joins it.
    async fn obtain(
        &self,
        refresh: (Either<SharedFetch, future::Ready<FetchOutcome>>, bool),
    ) -> Result<Arc<Token>, Error> {
        let clock = &*self.inner.settings.clock;
        let usable = || {
            self.inner
                .cached
                .load_full()
                .filter(|e| e.is_usable(clock))
                .map(|e| Arc::clone(&e.token))
        };
        let (fetch, started) = refresh;
        if !started && let Some(token) = usable() {
            // Someone else is refreshing; the cached token is still good meanwhile.
            return Ok(token);
        }
        match fetch.await {
            Ok(token) => Ok(token),
            Err(err) => match usable() {
                Some(token) => {
                    tracing::warn!(
                        error = %err,
                        "the token could not be refreshed; serving the cached token, which is still valid"
                    );
                    Ok(token)
                }
                None => Err(err),
            },
        }
    }

    /// Joins the fetch in flight, or starts one; says whether it started it.
    fn refresh(&self) -> (Either<SharedFetch, future::Ready<FetchOutcome>>, bool) {
        let mut slot = lock(&self.inner.inflight);
        if let Some((_, fetch)) = slot.as_ref() {
            return (Either::Left(fetch.clone()), false);
        }
        // A fetch that completed between our look at the cache and taking the lock has
        // stored its token before clearing the slot (and a failure its back-off): look
        // again, so it is not fetched twice.
        let cached = self.inner.cached.load();
        if let Some(entry) = cached
            .as_ref()
            .filter(|e| e.is_fresh(&*self.inner.settings.clock))
        {
            return (
                Either::Right(future::ready(Ok(Arc::clone(&entry.token)))),
                false,
            );
        }
        let id = self.inner.generation.fetch_add(1, Ordering::Relaxed);
        // The fetch holds `Inner` weakly (see `Inner::source`): if every provider is
        // dropped while it is in flight, there is nowhere left to store its token.
        let inner = Arc::downgrade(&self.inner);
        let source = Arc::clone(&self.inner.source);
        let settings = Arc::clone(&self.inner.settings);
        let last = self.inner.last.load_full();
        let span = tracing::info_span!(
            "token.fetch",
            outcome = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        let fetch: Pin<Box<dyn Future<Output = FetchOutcome> + Send>> = Box::pin(
            async move {
                // Clears the slot when the fetch ends, whether it returns, fails or is
                // dropped, so the next call can start a new one.
                let _clear = ClearSlot {
                    inner: inner.clone(),
                    id,
                };
                let started = std::time::Instant::now();
                let fetched = fetch_once(&*source, last.as_deref(), &settings).await;
                let span = tracing::Span::current();
                span.record("duration_ms", started.elapsed().as_millis() as u64);
                match fetched {
                    Ok(token) => {
                        span.record("outcome", "ok");
                        let token = Arc::new(token);
                        if let Some(hook) = &settings.hook {
                            hook(&token);
                        }
                        if let Some(inner) = inner.upgrade() {
                            inner.failures.store(0, Ordering::Relaxed);
                            inner.store(Arc::clone(&token));
                        }
                        Ok(token)
                    }
                    Err(err) => {
                        span.record("outcome", "error");
                        tracing::debug!(error = %err, "token fetch failed");
                        if let Some(inner) = inner.upgrade() {
                            inner.back_off();
                        }
                        Err(err)
                    }
                }
            }
            .instrument(span),
        );
        let fetch = fetch.shared();
        *slot = Some((id, fetch.clone()));
        (Either::Left(fetch), true)
    }
}

/// One call to the source, with the load timeout, and a panic turned into an error.
async fn fetch_once<S: TokenSource + ?Sized>(
    source: &S,
    last: Option<&Token>,
    settings: &Settings,
) -> Result<Token, Error> {
    // A panic would otherwise poison the `Shared` future for good: every caller joining
    // it would panic in turn. Caught, it is an error like any other and the slot is
    // cleared for the next call.
    let fetch = AssertUnwindSafe(source.fetch(last))
        .catch_unwind()
        .map(|r| {
            r.map_err(|_panic| {
                Error::Transport(TransportError::new(
                    TransportErrorKind::Other,
                    "the token source panicked while fetching a token; the next call fetches again",
                ))
            })?
        });
    match &settings.sleep {
        None => fetch.await,
        Some(sleep) => {
            let timeout = sleep.sleep(settings.load_timeout);
            match future::select(std::pin::pin!(fetch), timeout).await {
                Either::Left((result, _)) => result,
                Either::Right(((), _)) => Err(Error::FetchTimedOut {
                    seconds: settings.load_timeout.as_secs(),
                }),
            }
        }
    }
}

impl<S> Inner<S> {
    fn store(&self, token: Arc<Token>) {
        let entry = Entry::new(Arc::clone(&token), &self.settings);
        self.last.store(Some(token));
        self.cached.store(Some(Arc::new(entry)));
    }

    /// After a failed fetch: keep serving a still-usable token from the cache until the
    /// back-off ends.
    fn back_off(&self) {
        let failures = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        let settings = &self.settings;
        let delay = backoff(failures, settings.backoff_initial, settings.backoff_max);
        let retry_at = settings
            .clock
            .monotonic_nanos()
            .saturating_add(nanos(delay));
        let cached = self.cached.load();
        if let Some(entry) = cached.as_ref().filter(|e| e.is_usable(&*settings.clock)) {
            tracing::warn!(
                failures,
                retry_in_ms = delay.as_millis() as u64,
                "token refresh failed; the cached token is still valid and is served until the next attempt"
            );
            let next = Arc::new(entry.retry_at(retry_at));
            // Only if no newer token arrived meanwhile.
            let _ = self.cached.compare_and_swap(&*cached, Some(next));
        }
    }
}

/// Empties the in-flight slot if it still holds fetch `id` (and the cache still exists).
struct ClearSlot<S> {
    inner: Weak<Inner<S>>,
    id: u64,
}

impl<S> Drop for ClearSlot<S> {
    fn drop(&mut self) {
        let Some(inner) = self.inner.upgrade() else {
            return;
        };
        let finished = {
            let mut slot = lock(&inner.inflight);
            if slot.as_ref().is_some_and(|(id, _)| *id == self.id) {
                slot.take()
            } else {
                None
            }
        };
        // Dropped outside the lock.
        drop(finished);
    }
}

impl<S: TokenSource + 'static> TokenProvider for CachingProvider<S> {
    // A hit completes at once with no allocation; a miss joins or starts the shared fetch.
    #[inline]
    fn token(&self) -> TokenFuture<'_> {
        match self.fresh_token() {
            Some(token) => TokenFuture::ready(Ok(token)),
            None => {
                let refresh = self.refresh();
                TokenFuture::new(
                    async move { Ok(self.obtain(refresh).await?.access_token.clone()) },
                )
            }
        }
    }

    fn typed_token(&self) -> TokenFuture<'_, TypedToken> {
        {
            let cached = self.inner.cached.load();
            if let Some(entry) = cached
                .as_ref()
                .filter(|e| e.is_fresh(&*self.inner.settings.clock))
            {
                return TokenFuture::ready(Ok(TypedToken::new(
                    entry.access_token(),
                    entry.token.token_type.clone(),
                )));
            }
        }
        let refresh = self.refresh();
        TokenFuture::new(async move {
            let token = self.obtain(refresh).await?;
            Ok(TypedToken::new(
                token.access_token.clone(),
                token.token_type.clone(),
            ))
        })
    }

    fn invalidate(&self, rejected: &AccessToken) {
        let cached = self.inner.cached.load();
        if let Some(entry) = cached.as_ref()
            && entry.token.access_token == *rejected
        {
            // Compare-and-swap on the entry itself: if a newer token was stored since the
            // load above, the swap fails and the newer token stays.
            let _ = self.inner.cached.compare_and_swap(&*cached, None);
        }
    }
}

/// Configures a [`CachingProvider`]; made by [`CachingProvider::builder`].
pub struct CachingProviderBuilder<S> {
    source: S,
    clock: Option<Arc<dyn Clock>>,
    margin: Duration,
    mandatory: Duration,
    backoff: (Duration, Duration),
    sleep: Option<Arc<dyn Sleep>>,
    load_timeout: Duration,
    hook: Option<NewTokenHook>,
    initial: Option<Token>,
}

impl<S> fmt::Debug for CachingProviderBuilder<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachingProviderBuilder")
            .field("clock", &self.clock)
            .field("refresh_margin", &self.margin)
            .field("mandatory_margin", &self.mandatory)
            .field("backoff", &self.backoff)
            .field(
                "load_timeout",
                &self.sleep.as_ref().map(|_| self.load_timeout),
            )
            .field("hook", &self.hook.is_some())
            .field("initial", &self.initial)
            .finish_non_exhaustive()
    }
}

impl<S: TokenSource> CachingProviderBuilder<S> {
    /// The clock that decides freshness (the system clock by default).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// How long before its expiry a token is refreshed (60 seconds by default): the start
    /// of the advisory window. A token whose remaining life is already shorter than the
    /// margin when it arrives is kept for half of that remaining life, so a server issuing
    /// short tokens is not asked on every call.
    #[must_use]
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// How long before its expiry a token stops being served while its refresh fails (10
    /// seconds by default): the start of the mandatory window. Between the refresh margin
    /// and this one, a failed refresh is logged and the cached token served.
    #[must_use]
    pub fn mandatory_margin(mut self, margin: Duration) -> Self {
        self.mandatory = margin;
        self
    }

    /// The back-off between refresh attempts while a still-valid token is served:
    /// `initial` after the first failure, doubled after each further one up to `max`, the
    /// upper half of each chosen at random (1 s and 60 s by default).
    #[must_use]
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.backoff = (initial, max.max(initial));
        self
    }

    /// The runtime's sleep, which enables the load timeout (`auth-core` has no timer of
    /// its own). For tokio: `auth_core::clock::sleep_fn(|d| Box::pin(tokio::time::sleep(d)))`.
    #[must_use]
    pub fn sleep(mut self, sleep: Arc<dyn Sleep>) -> Self {
        self.sleep = Some(sleep);
        self
    }

    /// How long one fetch may take before it fails with [`Error::FetchTimedOut`] (30
    /// seconds by default). Needs [`sleep`](Self::sleep).
    #[must_use]
    pub fn load_timeout(mut self, timeout: Duration) -> Self {
        self.load_timeout = timeout;
        self
    }

    /// Calls `hook` with every new token obtained from the source (not with tokens given
    /// to [`initial`](Self::initial) or [`CachingProvider::set`]): to persist it
    /// elsewhere, or count refreshes. It runs inside the fetch, before any caller gets
    /// the token, so it should be quick. The token's `Debug` is redacted.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use auth_core::{AccessToken, CachingProvider, Error, Token, TokenProvider, TokenSource};
    ///
    /// struct Mint;
    /// #[async_trait::async_trait]
    /// impl TokenSource for Mint {
    ///     async fn fetch(&self, _current: Option<&Token>) -> Result<Token, Error> {
    ///         Ok(Token::bearer(AccessToken::new("t"), None))
    ///     }
    /// }
    ///
    /// let seen = Arc::new(AtomicUsize::new(0));
    /// let counter = Arc::clone(&seen);
    /// let provider = CachingProvider::builder(Mint)
    ///     .on_new_token(move |_token| {
    ///         counter.fetch_add(1, Ordering::Relaxed);
    ///     })
    ///     .build();
    /// futures_util::FutureExt::now_or_never(provider.token()).expect("never waits")?;
    /// assert_eq!(seen.load(Ordering::Relaxed), 1);
    /// # Ok::<(), Error>(())
    /// ```
    #[must_use]
    pub fn on_new_token(mut self, hook: impl Fn(&Token) + Send + Sync + 'static) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// A token to start with, for example one loaded from a
    /// [`TokenStore`](crate::store::TokenStore). If it is stale, the first call refreshes
    /// it, passing it to the source as the current token.
    #[must_use]
    pub fn initial(mut self, token: Token) -> Self {
        self.initial = Some(token);
        self
    }

    /// Builds the cache.
    pub fn build(self) -> CachingProvider<S> {
        let settings = Settings {
            clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            margin: self.margin,
            mandatory: self.mandatory,
            backoff_initial: self.backoff.0,
            backoff_max: self.backoff.1,
            sleep: self.sleep,
            load_timeout: self.load_timeout,
            hook: self.hook,
        };
        let inner = Inner {
            source: Arc::new(self.source),
            settings: Arc::new(settings),
            cached: ArcSwapOption::empty(),
            last: ArcSwapOption::empty(),
            inflight: Mutex::new(None),
            generation: AtomicU64::new(0),
            failures: AtomicU64::new(0),
        };
        if let Some(token) = self.initial {
            inner.store(Arc::new(token));
        }
        CachingProvider {
            inner: Arc::new(inner),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use std::sync::atomic::AtomicUsize;
    use std::task::Poll;

    const HOUR: Duration = Duration::from_secs(3600);

    /// A source that counts its fetches, names tokens `t1`, `t2`..., records the access
    /// token it was given as current, and can be made to wait or fail.
    #[derive(Default)]
    struct Counting {
        clock: ManualClock,
        fetches: AtomicUsize,
        lifetime: Option<Duration>,
        fail: std::sync::atomic::AtomicBool,
        gate: tokio::sync::Mutex<Option<tokio::sync::oneshot::Receiver<()>>>,
        started: tokio::sync::Notify,
        seen_current: Mutex<Vec<Option<String>>>,
        refresh_tokens_seen: Mutex<Vec<Option<String>>>,
    }

    impl Counting {
        fn new(clock: &ManualClock) -> Self {
            Self {
                clock: clock.clone(),
                lifetime: Some(HOUR),
                ..Self::default()
            }
        }

        fn gated(clock: &ManualClock) -> (Self, tokio::sync::oneshot::Sender<()>) {
            let (tx, rx) = tokio::sync::oneshot::channel();
            let source = Self {
                gate: tokio::sync::Mutex::new(Some(rx)),
                ..Self::new(clock)
            };
            (source, tx)
        }

        fn fetches(&self) -> usize {
            self.fetches.load(Ordering::SeqCst)
        }
    }

    #[async_trait::async_trait]
    impl TokenSource for Counting {
        async fn fetch(&self, current: Option<&Token>) -> Result<Token, Error> {
            let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
            lock(&self.seen_current).push(current.map(|t| t.access_token.secret().to_owned()));
            lock(&self.refresh_tokens_seen).push(
                current
                    .and_then(|t| t.refresh_token.as_ref())
                    .map(|r| r.secret().to_owned()),
            );
            self.started.notify_one();
            let gate = self.gate.lock().await.take();
            if let Some(gate) = gate {
                let _ = gate.await;
            }
            if self.fail.load(Ordering::SeqCst) {
                return Err(Error::invalid_response(format!("fetch {n} failed")));
            }
            let expires = self.lifetime.map(|l| self.clock.now() + l);
            Ok(Token::bearer(AccessToken::new(format!("t{n}")), expires)
                .with_refresh_token(crate::RefreshToken::new(format!("r{n}"))))
        }
    }

    fn cache(source: Arc<Counting>, clock: &ManualClock) -> CachingProvider<Arc<Counting>> {
        CachingProvider::builder(source)
            .clock(Arc::new(clock.clone()))
            .build()
    }

    /// Polls every future once, so each has either joined the fetch in flight or started
    /// it, before anything completes.
    async fn poll_each_once(futures: &mut [TokenFuture<'_>]) {
        std::future::poll_fn(|cx| {
            for f in futures.iter_mut() {
                assert!(Pin::new(f).poll(cx).is_pending(), "the fetch is gated");
            }
            Poll::Ready(())
        })
        .await;
    }

    #[tokio::test]
    async fn thousand_concurrent_callers_on_an_empty_cache_share_one_fetch() {
        let clock = ManualClock::default();
        let (source, gate) = Counting::gated(&clock);
        let source = Arc::new(source);
        let provider = cache(source.clone(), &clock);
        let mut calls: Vec<TokenFuture<'_>> = (0..1000).map(|_| provider.token()).collect();
        poll_each_once(&mut calls).await;
        gate.send(()).unwrap();
        let tokens = futures_util::future::join_all(calls).await;
        assert_eq!(source.fetches(), 1);
        assert_eq!(tokens.len(), 1000);
        for token in tokens {
            assert_eq!(token.unwrap().secret(), "t1");
        }
    }

    #[tokio::test]
    async fn thousand_concurrent_callers_on_an_expired_cache_share_one_fetch() {
        let clock = ManualClock::default();
        let (source, gate) = Counting::gated(&clock);
        let source = Arc::new(source);
        let expired = Token::bearer(AccessToken::new("old"), Some(clock.now()));
        let provider = CachingProvider::builder(source.clone())
            .clock(Arc::new(clock.clone()))
            .initial(expired)
            .build();
        let mut calls: Vec<TokenFuture<'_>> = (0..1000).map(|_| provider.token()).collect();
        poll_each_once(&mut calls).await;
        gate.send(()).unwrap();
        for token in futures_util::future::join_all(calls).await {
            assert_eq!(token.unwrap().secret(), "t1");
        }
        assert_eq!(source.fetches(), 1);
        // The stale token was handed to the source, which may need its refresh token.
        assert_eq!(*lock(&source.seen_current), vec![Some("old".to_owned())]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn thousand_callers_on_many_threads_share_one_fetch() {
        let clock = ManualClock::default();
        let source = Arc::new(Counting::new(&clock));
        let provider = cache(source.clone(), &clock);
        let tasks: Vec<_> = (0..1000)
            .map(|_| {
                let provider = provider.clone();
                tokio::spawn(async move { provider.token().await })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap().secret(), "t1");
        }
        assert_eq!(source.fetches(), 1);
    }

    #[tokio::test]
    async fn a_failed_fetch_fails_every_waiter_and_the_next_call_fetches_again() {
        let clock = ManualClock::default();
        let (source, gate) = Counting::gated(&clock);
        source.fail.store(true, Ordering::SeqCst);
        let source = Arc::new(source);
        let provider = cache(source.clone(), &clock);
        let mut calls: Vec<TokenFuture<'_>> = (0..1000).map(|_| provider.token()).collect();
        poll_each_once(&mut calls).await;
        gate.send(()).unwrap();
        for result in futures_util::future::join_all(calls).await {
            match result {
                Err(Error::InvalidResponse { reason }) => assert_eq!(reason, "fetch 1 failed"),
                other => panic!("expected the shared error, got {other:?}"),
            }
        }
        assert_eq!(source.fetches(), 1);
        assert!(provider.current().is_none());

        source.fail.store(false, Ordering::SeqCst);
        assert_eq!(provider.token().await.unwrap().secret(), "t2");
        assert_eq!(source.fetches(), 2);
    }

    #[tokio::test]
    async fn a_hit_does_not_fetch() {
        let clock = ManualClock::default();
        let source = Arc::new(Counting::new(&clock));
        let provider = cache(source.clone(), &clock);
        for _ in 0..10 {
            assert_eq!(provider.token().await.unwrap().secret(), "t1");
        }
        assert_eq!(source.fetches(), 1);
        assert_eq!(provider.fresh_token().unwrap().secret(), "t1");
        let details = provider.token_details().await.unwrap();
        assert_eq!(details.refresh_token.as_ref().unwrap().secret(), "r1");
    }

    #[tokio::test]
    async fn refreshes_a_margin_before_expiry_by_the_injected_clock() {
        let clock = ManualClock::default();
        let source = Arc::new(Counting::new(&clock));
        let provider = CachingProvider::builder(source.clone())
            .clock(Arc::new(clock.clone()))
            .refresh_margin(Duration::from_secs(300))
            .build();
        assert_eq!(provider.token().await.unwrap().secret(), "t1");
        // One second before the margin starts: still served from the cache.
        clock.advance(HOUR - Duration::from_secs(301));
        assert_eq!(provider.token().await.unwrap().secret(), "t1");
        assert_eq!(source.fetches(), 1);
        // Inside the margin, before expiry: refreshed proactively.
        clock.advance(Duration::from_secs(2));
        assert!(provider.fresh_token().is_none());
        assert_eq!(provider.token().await.unwrap().secret(), "t2");
        assert_eq!(source.fetches(), 2);
        // The refresh handed over the previous token and its refresh token.
        assert_eq!(
            *lock(&source.refresh_tokens_seen),
            vec![None, Some("r1".to_owned())]
        );
    }

    #[tokio::test]
    async fn default_margin_matches_token_is_fresh() {
        let clock = ManualClock::default();
        let source = Arc::new(Counting::new(&clock));
        let provider = cache(source.clone(), &clock);
        let token = provider.token_details().await.unwrap();
        for (advance, fetches) in [
            (HOUR - Duration::from_secs(61), 1),
            (Duration::from_secs(1), 2),
        ] {
            clock.advance(advance);
            let fresh = token.is_fresh(clock.now(), DEFAULT_REFRESH_MARGIN);
            provider.token().await.unwrap();
            assert_eq!(source.fetches(), fetches, "is_fresh said {fresh}");
            assert_eq!(fresh, fetches == 1);
        }
    }

    #[tokio::test]
    async fn a_token_shorter_lived_than_the_margin_is_kept_for_half_its_life() {
        let clock = ManualClock::default();
        let mut source = Counting::new(&clock);
        source.lifetime = Some(Duration::from_secs(30));
        let source = Arc::new(source);
        let provider = cache(source.clone(), &clock);
        assert_eq!(provider.token().await.unwrap().secret(), "t1");
        clock.advance(Duration::from_secs(14));
        assert_eq!(provider.token().await.unwrap().secret(), "t1");
        clock.advance(Duration::from_secs(1));
        assert_eq!(provider.token().await.unwrap().secret(), "t2");
    }

    #[tokio::test]
    async fn a_token_without_expiry_is_served_until_invalidated() {
        let clock = ManualClock::default();
        let mut source = Counting::new(&clock);
        source.lifetime = None;
        let source = Arc::new(source);
        let provider = cache(source.clone(), &clock);
        let t1 = provider.token().await.unwrap();
        clock.advance(Duration::from_secs(10 * 365 * 24 * 3600));
        assert_eq!(provider.token().await.unwrap(), t1);
        provider.invalidate(&t1);
        assert_eq!(provider.token().await.unwrap().secret(), "t2");
    }

    #[tokio::test]
    async fn invalidate_drops_the_current_token_but_passes_it_to_the_source() {
        let clock = ManualClock::default();
        let source = Arc::new(Counting::new(&clock));
        let provider = cache(source.clone(), &clock);
        let t1 = provider.token().await.unwrap();
        provider.invalidate(&t1);
        assert!(provider.current().is_none());
        assert_eq!(provider.token().await.unwrap().secret(), "t2");
        assert_eq!(
            *lock(&source.seen_current),
            vec![None, Some("t1".to_owned())]
        );
        assert_eq!(
            *lock(&source.refresh_tokens_seen),
            vec![None, Some("r1".to_owned())]
        );
    }

    #[test]
    fn tokens_handed_out_on_any_thread_are_equal_and_invalidate() {
        let clock = ManualClock::default();
        let source = Arc::new(Counting::new(&clock));
        let provider = cache(source.clone(), &clock);
        provider.set(Token::bearer(AccessToken::new("t0"), None));
        // More threads than copies, so every copy is used.
        let tokens: Vec<AccessToken> = (0..2 * SHARDS)
            .map(|_| {
                let provider = provider.clone();
                std::thread::spawn(move || provider.fresh_token().unwrap())
                    .join()
                    .unwrap()
            })
            .collect();
        for token in &tokens {
            assert_eq!(token.secret(), "t0");
        }
        // Invalidating with a copy from any thread drops the cached token.
        provider.invalidate(&tokens[SHARDS + 3]);
        assert!(provider.current().is_none());
    }

    #[tokio::test]
    async fn a_late_invalidate_keeps_the_newer_token() {
        let clock = ManualClock::default();
        let source = Arc::new(Counting::new(&clock));
        let provider = cache(source.clone(), &clock);
        let t1 = provider.token().await.unwrap();
        provider.invalidate(&t1);
        let t2 = provider.token().await.unwrap();
        // A second request that also failed with t1 reports it late.
        provider.invalidate(&t1);
        assert_eq!(provider.current().unwrap().access_token, t2);
        assert_eq!(provider.token().await.unwrap(), t2);
        assert_eq!(source.fetches(), 2);
    }

    #[tokio::test]
    async fn set_and_initial_replace_the_cached_token() {
        let clock = ManualClock::default();
        let source = Arc::new(Counting::new(&clock));
        let seed = Token::bearer(AccessToken::new("seed"), Some(clock.now() + HOUR));
        let provider = CachingProvider::builder(source.clone())
            .clock(Arc::new(clock.clone()))
            .initial(seed)
            .build();
        assert_eq!(provider.token().await.unwrap().secret(), "seed");
        provider.set(Token::bearer(AccessToken::new("login"), None));
        assert_eq!(provider.token().await.unwrap().secret(), "login");
        assert_eq!(source.fetches(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dropping_the_caller_that_started_the_fetch_does_not_strand_the_others() {
        let clock = ManualClock::default();
        let (source, gate) = Counting::gated(&clock);
        let source = Arc::new(source);
        let provider = cache(source.clone(), &clock);

        let first = tokio::spawn({
            let provider = provider.clone();
            async move { provider.token().await }
        });
        // Wait until the first caller is inside the source.
        source.started.notified().await;
        let others: Vec<_> = (0..10)
            .map(|_| {
                let provider = provider.clone();
                tokio::spawn(async move { provider.token().await })
            })
            .collect();
        first.abort();
        assert!(first.await.unwrap_err().is_cancelled());
        gate.send(()).unwrap();
        for other in others {
            assert_eq!(other.await.unwrap().unwrap().secret(), "t1");
        }
        assert_eq!(source.fetches(), 1);
    }

    #[tokio::test]
    async fn a_fetch_abandoned_by_every_caller_resumes_on_the_next_call() {
        let clock = ManualClock::default();
        let (source, gate) = Counting::gated(&clock);
        let source = Arc::new(source);
        let provider = cache(source.clone(), &clock);
        let mut call = [provider.token()];
        poll_each_once(&mut call).await;
        drop(call);
        gate.send(()).unwrap();
        assert_eq!(provider.token().await.unwrap().secret(), "t1");
        assert_eq!(source.fetches(), 1);
    }

    /// Panics on its first fetch, then mints `ok`.
    #[derive(Default)]
    struct PanicsOnce {
        fetches: AtomicUsize,
    }

    #[async_trait::async_trait]
    impl TokenSource for PanicsOnce {
        async fn fetch(&self, _current: Option<&Token>) -> Result<Token, Error> {
            if self.fetches.fetch_add(1, Ordering::SeqCst) == 0 {
                panic!("the source is broken");
            }
            Ok(Token::bearer(AccessToken::new("ok"), None))
        }
    }

    #[tokio::test]
    async fn a_panicking_source_fails_every_waiter_and_the_next_call_fetches_again() {
        let provider = CachingProvider::new(PanicsOnce::default());
        // All three join the one fetch when they are made, before it runs.
        let calls: Vec<TokenFuture<'_>> = (0..3).map(|_| provider.token()).collect();
        for result in futures_util::future::join_all(calls).await {
            match result {
                Err(Error::Transport(e)) => {
                    assert_eq!(e.kind(), TransportErrorKind::Other);
                    assert!(!e.is_retryable());
                    assert!(e.to_string().contains("panicked"), "{e}");
                }
                other => panic!("expected the panic as an error, got {other:?}"),
            }
        }
        assert_eq!(provider.token().await.unwrap().secret(), "ok");
        assert_eq!(provider.inner.source.fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn dropping_every_provider_during_an_abandoned_fetch_frees_the_source() {
        let clock = ManualClock::default();
        let (source, _gate) = Counting::gated(&clock);
        let source = Arc::new(source);
        let provider = cache(source.clone(), &clock);
        let mut call = [provider.token()];
        poll_each_once(&mut call).await;
        drop(call);
        // The abandoned fetch still sits in the slot, holding its own reference to the
        // source.
        assert!(lock(&provider.inner.inflight).is_some());
        let clone = provider.clone();
        drop(provider);
        drop(clone);
        assert_eq!(Arc::strong_count(&source), 1, "the cache was not freed");
    }

    #[test]
    fn debug_shows_no_token() {
        let clock = ManualClock::default();
        let provider = CachingProvider::builder(Counting::new(&clock))
            .initial(
                Token::bearer(AccessToken::new("SECRET_A"), None)
                    .with_refresh_token(crate::RefreshToken::new("SECRET_R")),
            )
            .build();
        let debug = format!("{provider:?}");
        assert!(!debug.contains("SECRET"), "{debug}");
        assert!(debug.contains("CachingProvider"));
    }

    /// Steps the clock one second at a time from `from` up to (not including) `until`,
    /// asking for a token at each step; returns the tokens seen.
    async fn ask_every_second(
        provider: &CachingProvider<Arc<Counting>>,
        clock: &ManualClock,
        seconds: u64,
    ) -> Vec<String> {
        let mut seen = Vec::new();
        for _ in 0..seconds {
            seen.push(provider.token().await.unwrap().secret().to_owned());
            clock.advance(Duration::from_secs(1));
        }
        seen
    }

    #[tokio::test]
    async fn a_failing_source_is_tried_by_the_backoff_while_the_valid_token_is_served_until_the_mandatory_window()
     {
        let clock = ManualClock::default();
        let source = Arc::new(Counting::new(&clock));
        let provider = CachingProvider::builder(source.clone())
            .clock(Arc::new(clock.clone()))
            .refresh_margin(Duration::from_secs(300))
            .mandatory_margin(Duration::from_secs(10))
            .backoff(Duration::from_secs(10), Duration::from_secs(80))
            .build();
        assert_eq!(provider.token().await.unwrap().secret(), "t1");
        source.fail.store(true, Ordering::SeqCst);
        // The advisory window opens 300 s before expiry and lasts 290 s.
        clock.advance(HOUR - Duration::from_secs(300));
        let seen = ask_every_second(&provider, &clock, 290).await;
        assert!(seen.iter().all(|t| t == "t1"), "served the valid token");
        // Back-offs of [5, 10], [10, 20], [20, 40], then [40, 80] s. Shortest: attempts at
        // 0, 5, 15, 35, 75, 115, 155, 195, 235, 275 s (10 in 290 s); longest, with the
        // clock's 1 s steps: 0, 11, 32, 73, 154, 235 s (6).
        let attempts = source.fetches() - 1;
        assert!((6..=10).contains(&attempts), "{attempts} attempts");
        // The mandatory window: the error, typed as the source gave it.
        let err = provider.token().await.unwrap_err();
        assert!(matches!(err, Error::InvalidResponse { .. }), "{err:?}");
        // The source recovers: the next call fetches at once.
        source.fail.store(false, Ordering::SeqCst);
        let token = provider.token().await.unwrap();
        assert_eq!(token.secret(), format!("t{}", source.fetches()));
        // A success resets the back-off: the next failure waits the initial one again.
        assert_eq!(provider.inner.failures.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn while_a_valid_token_is_cached_only_the_caller_that_refreshes_waits() {
        let clock = ManualClock::default();
        let source = Arc::new(Counting::new(&clock));
        let provider = cache(source.clone(), &clock);
        assert_eq!(provider.token().await.unwrap().secret(), "t1");
        *source.gate.lock().await = {
            let (tx, rx) = tokio::sync::oneshot::channel();
            std::mem::forget(tx);
            Some(rx)
        };
        clock.advance(HOUR - Duration::from_secs(30));
        let mut first = [provider.token()];
        poll_each_once(&mut first).await;
        // The refresh hangs; another caller is not held up by it.
        assert_eq!(provider.token().await.unwrap().secret(), "t1");
        assert_eq!(source.fetches(), 2);
    }

    #[tokio::test]
    async fn a_hung_source_times_out_with_a_typed_error() {
        let clock = ManualClock::default();
        let (source, gate) = Counting::gated(&clock);
        let source = Arc::new(source);
        let sleep: Arc<dyn crate::clock::Sleep> =
            Arc::new(crate::clock::sleep_fn(|d| Box::pin(tokio::time::sleep(d))));
        let provider = CachingProvider::builder(source.clone())
            .clock(Arc::new(clock.clone()))
            .sleep(sleep)
            .load_timeout(Duration::from_millis(50))
            .build();
        let err = provider.token().await.unwrap_err();
        assert!(
            matches!(err, Error::FetchTimedOut { seconds: 0 }),
            "{err:?}"
        );
        assert!(err.is_retryable());
        drop(gate);
        assert_eq!(provider.token().await.unwrap().secret(), "t2");
    }

    #[tokio::test]
    async fn the_hook_hears_every_new_token() {
        let clock = ManualClock::default();
        let source = Arc::new(Counting::new(&clock));
        let heard = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&heard);
        let provider = CachingProvider::builder(source.clone())
            .clock(Arc::new(clock.clone()))
            .on_new_token(move |t| lock(&sink).push(t.access_token.secret().to_owned()))
            .build();
        provider.token().await.unwrap();
        provider.token().await.unwrap();
        clock.advance(HOUR);
        provider.token().await.unwrap();
        assert_eq!(*lock(&heard), vec!["t1".to_owned(), "t2".to_owned()]);
    }

    /// Mints tokens of the type it is given.
    struct Typed(crate::token::TokenType);

    #[async_trait::async_trait]
    impl TokenSource for Typed {
        async fn fetch(&self, _current: Option<&Token>) -> Result<Token, Error> {
            let mut token = Token::bearer(AccessToken::new("SECRET_DPOP"), None);
            token.token_type = self.0.clone();
            Ok(token)
        }
    }

    #[tokio::test]
    async fn the_token_type_is_carried_and_a_dpop_token_is_refused_for_bearer_use() {
        let provider: Arc<dyn TokenProvider> = Arc::new(CachingProvider::new(Typed(
            crate::token::TokenType::parse("DPoP"),
        )));
        for _ in 0..2 {
            // A miss, then a hit.
            let typed = provider.typed_token().await.unwrap();
            assert_eq!(typed.token_type.as_str(), "DPoP");
            let err = typed.bearer_header().unwrap_err();
            assert!(
                matches!(&err, Error::UnsupportedTokenType { token_type } if token_type == "DPoP"),
                "{err:?}"
            );
            let text = format!("{err} {err:?}");
            assert!(text.contains("DPoP") && !text.contains("SECRET"), "{text}");
        }
        let bearer = CachingProvider::new(Typed(crate::token::TokenType::parse("bEaReR")));
        let header = bearer.typed_token().await.unwrap().bearer_header().unwrap();
        assert_eq!(header, "Bearer SECRET_DPOP");
    }

    #[test]
    fn refresh_deadline_cases() {
        let t = |s: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        let margin = Duration::from_secs(60);
        // (expires_at, now, expected deadline)
        for (expires_at, now, expected) in [
            (t(1000), t(0), t(940)),
            (t(1000), t(939), t(940)),
            (t(1000), t(960), t(980)),
            (t(1000), t(1000), t(1000)),
            (t(1000), t(2000), t(1000)),
            (t(30), t(0), t(15)),
        ] {
            assert_eq!(
                refresh_deadline(expires_at, now, margin),
                expected,
                "expires {expires_at:?} now {now:?}"
            );
        }
    }
}
