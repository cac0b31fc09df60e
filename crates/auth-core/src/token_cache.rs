//! A token cache whose hit is lock-free and whose refresh is single-flight.
//!
//! [`CachingProvider`] turns any [`TokenSource`] (a grant that fetches tokens) into a
//! [`TokenProvider`] (what API clients ask on every request):
//!
//! - **Hit**: the cached token lives in an [`ArcSwapOption`]; reading it takes no lock and
//!   clones one reference-counted secret.
//! - **Proactive refresh**: a token is refreshed a margin (60 s by default) before it
//!   expires, so a request never leaves with a token that dies in flight.
//! - **Single flight**: when the token must be refreshed, every concurrent caller awaits
//!   the same fetch and receives its outcome, success or error. The fetch is a
//!   [`Shared`] future kept in a slot of its own, so dropping the caller that started it
//!   does not cancel it for the others: whoever still waits drives it to the end. After a
//!   failure, or a panic inside the source (reported as an error), the slot is empty
//!   again and the next call fetches anew.
//! - **No cycle**: the fetch in flight holds the cache only weakly, so dropping every
//!   clone of the provider frees the source (and the client secret it may hold) and the
//!   last refresh token even while an abandoned fetch sits in the slot.
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
use futures_util::future::{self, Either, Ready, Shared};

use crate::Error;
use crate::clock::{Clock, SystemClock};
use crate::provider::{TokenFuture, TokenProvider, TokenSource};
use crate::secret::AccessToken;
use crate::token::Token;
use crate::transport::{TransportError, TransportErrorKind};

/// How long before expiry a token is refreshed unless configured otherwise.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(60);

type FetchOutcome = Result<Arc<Token>, Error>;
type SharedFetch = Shared<Pin<Box<dyn Future<Output = FetchOutcome> + Send>>>;

/// Caches the tokens of a [`TokenSource`] and refreshes them before they expire.
///
/// Cloning a `CachingProvider` is cheap and the clones share one cache.
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
    clock: Arc<dyn Clock>,
    margin: Duration,
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
}

/// A cached token and the moment it stops being served from the cache.
struct Entry {
    token: Arc<Token>,
    /// `None` for a token with no known expiry: it is served until invalidated.
    refresh_at: Option<SystemTime>,
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

impl Entry {
    fn new(token: Arc<Token>, now: SystemTime, margin: Duration) -> Self {
        let refresh_at = token
            .expires_at
            .map(|expires_at| refresh_deadline(expires_at, now, margin));
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
            shards,
        }
    }

    /// Whether the entry may still be served. The clock is read only for a token that
    /// expires: reading it is most of the cost of a hit.
    fn is_fresh(&self, clock: &dyn Clock) -> bool {
        self.refresh_at.is_none_or(|at| clock.now() < at)
    }

    /// A clone of the access token from this thread's copy.
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

impl<S> fmt::Debug for CachingProvider<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cached = self.inner.cached.load();
        f.debug_struct("CachingProvider")
            .field("clock", &self.inner.clock)
            .field("refresh_margin", &self.inner.margin)
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
    /// A cache over `source` using the system clock and a refresh margin of 60 seconds.
    pub fn new(source: S) -> Self {
        Self::builder(source).build()
    }

    /// Starts configuring a cache over `source`.
    pub fn builder(source: S) -> CachingProviderBuilder<S> {
        CachingProviderBuilder {
            source,
            clock: None,
            margin: DEFAULT_REFRESH_MARGIN,
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
    pub fn fresh_token(&self) -> Option<AccessToken> {
        let cached = self.inner.cached.load();
        match cached.as_ref() {
            Some(entry) if entry.is_fresh(&*self.inner.clock) => Some(entry.access_token()),
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
    /// members), fetching one if needed.
    pub async fn token_details(&self) -> Result<Arc<Token>, Error> {
        {
            let cached = self.inner.cached.load();
            if let Some(entry) = cached.as_ref().filter(|e| e.is_fresh(&*self.inner.clock)) {
                return Ok(Arc::clone(&entry.token));
            }
        }
        self.refresh().await
    }

    /// Joins the fetch in flight, or starts one.
    fn refresh(&self) -> Either<SharedFetch, Ready<FetchOutcome>> {
        let mut slot = lock(&self.inner.inflight);
        if let Some((_, fetch)) = slot.as_ref() {
            return Either::Left(fetch.clone());
        }
        // A fetch that completed between our look at the cache and taking the lock has
        // stored its token before clearing the slot: look again, so it is not fetched
        // twice.
        let cached = self.inner.cached.load();
        if let Some(entry) = cached.as_ref().filter(|e| e.is_fresh(&*self.inner.clock)) {
            return Either::Right(future::ready(Ok(Arc::clone(&entry.token))));
        }
        let id = self.inner.generation.fetch_add(1, Ordering::Relaxed);
        // The fetch holds `Inner` weakly (see `Inner::source`): if every provider is
        // dropped while it is in flight, there is nowhere left to store its token.
        let inner = Arc::downgrade(&self.inner);
        let source = Arc::clone(&self.inner.source);
        let last = self.inner.last.load_full();
        let fetch: Pin<Box<dyn Future<Output = FetchOutcome> + Send>> = Box::pin(async move {
            // Clears the slot when the fetch ends, whether it returns, fails or is
            // dropped, so the next call can start a new one.
            let _clear = ClearSlot {
                inner: inner.clone(),
                id,
            };
            // A panic would otherwise poison the `Shared` future for good: every caller
            // joining it would panic in turn. Caught, it is an error like any other and
            // the slot is cleared for the next call.
            let fetched = AssertUnwindSafe(source.fetch(last.as_deref()))
                .catch_unwind()
                .await
                .map_err(|_panic| {
                    Error::Transport(TransportError::new(
                        TransportErrorKind::Other,
                        "the token source panicked while fetching a token; the next call fetches again",
                    ))
                })?;
            let token = Arc::new(fetched?);
            if let Some(inner) = inner.upgrade() {
                inner.store(Arc::clone(&token));
            }
            Ok(token)
        });
        let fetch = fetch.shared();
        *slot = Some((id, fetch.clone()));
        Either::Left(fetch)
    }
}

impl<S> Inner<S> {
    fn store(&self, token: Arc<Token>) {
        let entry = Entry::new(Arc::clone(&token), self.clock.now(), self.margin);
        self.last.store(Some(token));
        self.cached.store(Some(Arc::new(entry)));
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
    fn token(&self) -> TokenFuture<'_> {
        match self.fresh_token() {
            Some(token) => TokenFuture::ready(Ok(token)),
            None => {
                let fetch = self.refresh();
                TokenFuture::new(async move { Ok(fetch.await?.access_token.clone()) })
            }
        }
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
    initial: Option<Token>,
}

impl<S> fmt::Debug for CachingProviderBuilder<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachingProviderBuilder")
            .field("clock", &self.clock)
            .field("refresh_margin", &self.margin)
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

    /// How long before its expiry a token is refreshed (60 seconds by default). A token
    /// whose remaining life is already shorter than the margin when it arrives is kept for
    /// half of that remaining life, so a server issuing short tokens is not asked on every
    /// call.
    #[must_use]
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
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
        let inner = Inner {
            source: Arc::new(self.source),
            clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            margin: self.margin,
            cached: ArcSwapOption::empty(),
            last: ArcSwapOption::empty(),
            inflight: Mutex::new(None),
            generation: AtomicU64::new(0),
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
