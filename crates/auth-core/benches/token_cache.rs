//! The cost of a cached-token hit: `CachingProvider` (arc-swap) beside a plain
//! `tokio::sync::RwLock<Option<Token>>` cache, on one thread and on two threads hitting the
//! same cache at once.
//!
//! Both caches do the same work per hit: read a clock, check freshness, clone the access
//! token (one reference-count increment). `CachingProvider` reads the system clock's
//! monotonic counter (`quanta`, the CPU's time-stamp counter where it is invariant) on
//! every hit, the baseline `SystemTime::now()`; neither reads the clock less often.
//! Futures are polled once with `now_or_never`, so no runtime overhead is measured.

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use auth_core::clock::{Clock, SystemClock};
use auth_core::{AccessToken, CachingProvider, Error, Token, TokenProvider, TokenSource};
use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::FutureExt;

const MARGIN: Duration = Duration::from_secs(60);

/// Never called: the cache is seeded with a token valid for a day.
struct Unreachable;

#[async_trait]
impl TokenSource for Unreachable {
    async fn fetch(&self, _current: Option<&Token>) -> Result<Token, Error> {
        Err(Error::InvalidConfig {
            reason: "the benchmark cache should never fetch".into(),
        })
    }
}

fn fresh_token() -> Token {
    Token::bearer(
        AccessToken::new("e29d7da8e29d7da8e29d7da8e29d7da8e29d7da8"),
        Some(SystemTime::now() + Duration::from_secs(86_400)),
    )
}

fn caching() -> CachingProvider<Unreachable> {
    CachingProvider::builder(Unreachable)
        .initial(fresh_token())
        .build()
}

/// The baseline: what a cache written with an async read-write lock looks like.
struct RwLockCache {
    token: tokio::sync::RwLock<Option<Token>>,
    clock: Arc<dyn Clock>,
}

impl RwLockCache {
    fn new() -> Self {
        Self {
            token: tokio::sync::RwLock::new(Some(fresh_token())),
            clock: Arc::new(SystemClock),
        }
    }

    async fn token(&self) -> Option<AccessToken> {
        let guard = self.token.read().await;
        match &*guard {
            Some(t) if t.is_fresh(self.clock.now(), MARGIN) => Some(t.access_token.clone()),
            _ => None,
        }
    }
}

fn hit_caching_sync(cache: &CachingProvider<Unreachable>) -> AccessToken {
    cache.fresh_token().expect("the seeded token is fresh")
}

/// Through `dyn TokenProvider`, as API clients call it.
fn hit_caching_trait(cache: &CachingProvider<Unreachable>) -> AccessToken {
    let provider: &dyn TokenProvider = black_box(cache);
    provider
        .token()
        .now_or_never()
        .expect("a hit never waits")
        .expect("the seeded token is fresh")
}

/// With its token type, as the API clients call it.
fn hit_caching_typed(cache: &CachingProvider<Unreachable>) -> auth_core::TypedToken {
    let provider: &dyn TokenProvider = black_box(cache);
    provider
        .typed_token()
        .now_or_never()
        .expect("a hit never waits")
        .expect("the seeded token is fresh")
}

fn hit_rwlock(cache: &RwLockCache) -> AccessToken {
    cache
        .token()
        .now_or_never()
        .expect("an uncontended read never waits")
        .expect("the seeded token is fresh")
}

/// Runs `op` `iters` times on each of `threads` threads started together, and returns
/// the time the slowest thread took: the time per operation on each thread while all are
/// contending.
fn contended<C: Sync, R>(cache: &C, threads: usize, iters: u64, op: fn(&C) -> R) -> Duration {
    let barrier = Barrier::new(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    let start = Instant::now();
                    for _ in 0..iters {
                        black_box(op(black_box(cache)));
                    }
                    start.elapsed()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a benchmark thread panicked"))
            .max()
            .unwrap_or_default()
    })
}

fn one_thread(c: &mut Criterion) {
    let caching = caching();
    let rwlock = RwLockCache::new();
    let mut group = c.benchmark_group("hit/1-thread");
    group.bench_function("arc-swap fresh_token (sync)", |b| {
        b.iter(|| hit_caching_sync(black_box(&caching)))
    });
    group.bench_function("arc-swap dyn TokenProvider::token", |b| {
        b.iter(|| hit_caching_trait(black_box(&caching)))
    });
    group.bench_function("arc-swap dyn TokenProvider::typed_token", |b| {
        b.iter(|| hit_caching_typed(black_box(&caching)))
    });
    group.bench_function("tokio RwLock", |b| {
        b.iter(|| hit_rwlock(black_box(&rwlock)))
    });
    group.finish();
}

fn two_threads(c: &mut Criterion) {
    let caching = caching();
    let rwlock = RwLockCache::new();
    let mut group = c.benchmark_group("hit/2-threads");
    group.bench_function("arc-swap fresh_token (sync)", |b| {
        b.iter_custom(|iters| contended(&caching, 2, iters, hit_caching_sync))
    });
    group.bench_function("arc-swap dyn TokenProvider::token", |b| {
        b.iter_custom(|iters| contended(&caching, 2, iters, hit_caching_trait))
    });
    group.bench_function("tokio RwLock", |b| {
        b.iter_custom(|iters| contended(&rwlock, 2, iters, hit_rwlock))
    });
    // A control that shares nothing between the threads: if it slows down as much as
    // the caches do, the machine is oversubscribed and the figures measure scheduling.
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    group.bench_function("control: SystemClock::now only", |b| {
        b.iter_custom(|iters| contended(&clock, 2, iters, |c| c.now()))
    });
    group.finish();
}

/// Where a hit's time goes.
fn parts(c: &mut Criterion) {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let token = AccessToken::new("e29d7da8e29d7da8e29d7da8e29d7da8e29d7da8");
    let swap = arc_swap::ArcSwapOption::from_pointee(fresh_token());
    let mut group = c.benchmark_group("parts");
    group.bench_function("SystemClock::now", |b| b.iter(|| black_box(&clock).now()));
    group.bench_function("SystemClock::monotonic_nanos", |b| {
        b.iter(|| black_box(&clock).monotonic_nanos())
    });
    group.bench_function("AccessToken clone", |b| {
        b.iter(|| black_box(&token).clone())
    });
    group.bench_function("ArcSwapOption load", |b| {
        b.iter(|| black_box(&swap).load().is_some())
    });
    group.bench_function("Box<dyn Future> of a ready value", |b| {
        b.iter(|| {
            let f: std::pin::Pin<Box<dyn std::future::Future<Output = u64> + Send>> =
                Box::pin(std::future::ready(black_box(1u64)));
            f.now_or_never()
        })
    });
    group.finish();
}

criterion_group!(benches, one_thread, two_threads, parts);
criterion_main!(benches);
