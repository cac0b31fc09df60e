//! Injected time, so that expiry and backoff can be tested without waiting.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A source of the current time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current wall-clock time.
    fn now(&self) -> SystemTime;

    /// A monotonic reading in nanoseconds from an origin of the clock's choosing, which
    /// must advance exactly as [`now`](Clock::now) does while the wall clock is not set.
    /// The token cache compares deadlines with it on every hit, so a clock that can read
    /// it cheaply should. The default derives it from [`now`](Clock::now).
    fn monotonic_nanos(&self) -> u64 {
        self.now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }
}

/// The system clock. Its [`monotonic_nanos`](Clock::monotonic_nanos) reads the CPU's
/// invariant time-stamp counter through `quanta` where the CPU has one (a few
/// nanoseconds, without a system call), and the operating system's monotonic clock
/// otherwise. Deadlines measured with it do not move when the wall clock is set.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn monotonic_nanos(&self) -> u64 {
        // Measured from quanta's own origin; only differences are ever used.
        u64::try_from(quanta::Instant::now().duration_since(origin()).as_nanos())
            .unwrap_or(u64::MAX)
    }
}

/// The first reading of quanta's clock in this process.
fn origin() -> quanta::Instant {
    static ORIGIN: std::sync::OnceLock<quanta::Instant> = std::sync::OnceLock::new();
    *ORIGIN.get_or_init(quanta::Instant::now)
}

/// A future that completes after a delay, boxed so that [`Sleep`] stays object-safe.
pub type SleepFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Waits for a while. `auth-core` has no runtime of its own: the crate using it passes
/// its runtime's sleep (for tokio, `|d| Box::pin(tokio::time::sleep(d))`).
pub trait Sleep: Send + Sync + fmt::Debug {
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> SleepFuture;
}

/// A [`Sleep`] made from a closure; see [`sleep_fn`].
#[derive(Clone)]
pub struct SleepFn<F>(F);

impl<F> fmt::Debug for SleepFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SleepFn")
    }
}

impl<F> Sleep for SleepFn<F>
where
    F: Fn(Duration) -> SleepFuture + Send + Sync,
{
    fn sleep(&self, duration: Duration) -> SleepFuture {
        (self.0)(duration)
    }
}

/// Makes a [`Sleep`] from a closure.
///
/// ```
/// use std::sync::Arc;
/// use auth_core::clock::{sleep_fn, Sleep};
///
/// // A sleep that returns at once, for tests.
/// let instant: Arc<dyn Sleep> = Arc::new(sleep_fn(|_| Box::pin(async {})));
/// ```
pub fn sleep_fn<F>(f: F) -> SleepFn<F>
where
    F: Fn(Duration) -> SleepFuture + Send + Sync,
{
    SleepFn(f)
}

/// A clock that stands still until moved, for tests.
///
/// ```
/// use std::time::Duration;
/// use auth_core::clock::{Clock, ManualClock};
///
/// let clock = ManualClock::default();
/// let t0 = clock.now();
/// clock.advance(Duration::from_secs(60));
/// assert_eq!(clock.now(), t0 + Duration::from_secs(60));
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    // Nanoseconds since the epoch.
    nanos: Arc<std::sync::atomic::AtomicU64>,
}

impl Default for ManualClock {
    /// Starts at 2024-01-01T00:00:00Z.
    fn default() -> Self {
        Self::at(SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_067_200))
    }
}

impl ManualClock {
    /// A clock showing `time` (clamped to the range a `u64` of nanoseconds covers).
    pub fn at(time: SystemTime) -> Self {
        let nanos = time
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        Self {
            nanos: Arc::new(std::sync::atomic::AtomicU64::new(nanos)),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let _ = self.nanos.fetch_update(
            std::sync::atomic::Ordering::SeqCst,
            std::sync::atomic::Ordering::SeqCst,
            |n| Some(n.saturating_add(by)),
        );
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH
            + Duration::from_nanos(self.nanos.load(std::sync::atomic::Ordering::SeqCst))
    }
}
