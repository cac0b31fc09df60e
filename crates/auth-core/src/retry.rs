//! A transport that sends again what failed for a reason that may pass.
//!
//! [`Retry`] wraps any [`HttpTransport`] and is one itself. It retries
//!
//! - transport failures that say a retry can help ([`TransportError::is_retryable`]:
//!   connection failures and timeouts), and
//! - answers `429 Too Many Requests`, `502 Bad Gateway`, `503 Service Unavailable` and
//!   `504 Gateway Timeout`,
//!
//! but only for requests that may be sent twice: those whose [`RequestOptions`] mark them
//! [`Idempotency::Retryable`] (a client-credentials token request), or that are left to
//! [`Idempotency::FromMethod`] and use an idempotent method. A code exchange or a
//! rotating refresh is marked [`Idempotency::Never`] and is sent exactly once.
//!
//! Between attempts it waits as the server asked (`Retry-After`, in seconds or as an
//! HTTP date, RFC 9110 §10.2.3), capped, or else an exponential backoff with full jitter
//! (a uniformly random delay between zero and the exponential bound), so that many
//! clients failing together do not come back together. After the last attempt the last
//! answer is returned as it is (a `503` is still a response) or the last transport error.
//!
//! With a [deadline](RetryPolicy::deadline), one request and all its retries end within
//! that time: each attempt gets an equal share of what is left (its own timeout, if
//! shorter, still applies), a wait that would not leave time for another attempt is not
//! made, and an attempt that times out at the end says the deadline ran out.
//!
//! What it logs, through `tracing` (target `auth_core::retry`), never with a query string
//! or a header:
//! - at `debug`, every attempt: method, host and path, status (or failure), duration and
//!   attempt number;
//! - at `warn`, every retry, in words a person can read: why, how long it waits, and
//!   which attempt comes next ("no answer in 20 s, trying again in 0.2 s (2 of 3)").
//!
//! [`Idempotency::Retryable`]: crate::transport::Idempotency::Retryable
//! [`Idempotency::FromMethod`]: crate::transport::Idempotency::FromMethod
//! [`Idempotency::Never`]: crate::transport::Idempotency::Never

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use http::StatusCode;

use crate::clock::{Clock, Sleep, SystemClock};
use crate::transport::{
    HttpRequest, HttpResponse, HttpTransport, RequestOptions, TransportError, TransportErrorKind,
};

/// How often and how long [`Retry`] tries.
///
/// ```
/// use std::time::Duration;
/// use auth_core::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .with_max_attempts(5)
///     .with_base_backoff(Duration::from_millis(100));
/// assert_eq!(policy.max_backoff, Duration::from_secs(10));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first one included (3 by default). `1` disables retrying.
    pub max_attempts: u32,
    /// The backoff bound after the first failure; it doubles after each further one
    /// (200 ms by default).
    pub base_backoff: Duration,
    /// The largest backoff bound (10 s by default).
    pub max_backoff: Duration,
    /// The longest wait a `Retry-After` header can impose (60 s by default); a longer
    /// one is shortened to this.
    pub max_retry_after: Duration,
    /// The time one request may take with all its attempts and waits (none by default:
    /// each attempt then has only its own timeout).
    pub deadline: Option<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
            deadline: None,
        }
    }
}

impl RetryPolicy {
    /// Sets the number of attempts in all (at least 1 is always made).
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// Sets the backoff bound after the first failure.
    #[must_use]
    pub fn with_base_backoff(mut self, base: Duration) -> Self {
        self.base_backoff = base;
        self
    }

    /// Sets the largest backoff bound.
    #[must_use]
    pub fn with_max_backoff(mut self, max: Duration) -> Self {
        self.max_backoff = max;
        self
    }

    /// Sets the longest wait a `Retry-After` header can impose.
    #[must_use]
    pub fn with_max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// Sets the total time one request may take with its retries; per-attempt timeouts
    /// shrink to fit in it (see the [module documentation](self)).
    ///
    /// ```
    /// use std::time::Duration;
    /// use auth_core::RetryPolicy;
    ///
    /// let policy = RetryPolicy::default().with_deadline(Duration::from_secs(60));
    /// assert_eq!(policy.deadline, Some(Duration::from_secs(60)));
    /// ```
    #[must_use]
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// The upper bound of the backoff after `failures` failed attempts (1 or more):
    /// `base * 2^(failures - 1)`, at most [`max_backoff`](Self::max_backoff).
    pub fn backoff_bound(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(31);
        self.base_backoff
            .checked_mul(1 << doublings)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }
}

/// Retries failed requests that are safe to repeat; see the [module documentation](self).
///
/// ```
/// use std::sync::Arc;
/// use auth_core::clock::{sleep_fn, Sleep};
/// use auth_core::transport::{from_fn, HttpRequest, HttpTransport};
/// use auth_core::{Retry, RetryPolicy};
///
/// let inner = from_fn(|_request: HttpRequest| async {
///     Ok(http::Response::new(bytes::Bytes::from_static(b"ok")))
/// });
/// // With tokio: `Box::pin(tokio::time::sleep(d))`.
/// let sleep: Arc<dyn Sleep> = Arc::new(sleep_fn(|_d| Box::pin(async {})));
/// let transport = Retry::new(inner, sleep).with_policy(RetryPolicy::default().with_max_attempts(4));
/// # let _: &dyn HttpTransport = &transport;
/// ```
pub struct Retry<T> {
    inner: T,
    sleep: Arc<dyn Sleep>,
    clock: Arc<dyn Clock>,
    policy: RetryPolicy,
}

impl<T> fmt::Debug for Retry<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retry")
            .field("policy", &self.policy)
            .field("clock", &self.clock)
            .field("sleep", &self.sleep)
            .finish_non_exhaustive()
    }
}

impl<T> Retry<T> {
    /// Wraps `inner`, waiting between attempts with `sleep`, with the default policy and
    /// the system clock.
    pub fn new(inner: T, sleep: Arc<dyn Sleep>) -> Self {
        Self {
            inner,
            sleep,
            clock: Arc::new(SystemClock),
            policy: RetryPolicy::default(),
        }
    }

    /// Replaces the policy.
    #[must_use]
    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Replaces the clock, which turns a `Retry-After` date into a delay.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The policy in use.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// The wrapped transport.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// How long to wait before attempt `failures + 1`, given the last answer.
    fn delay(&self, failures: u32, response: Option<&HttpResponse>) -> Duration {
        let requested = response.and_then(|r| retry_after(r, self.clock.now()));
        match requested {
            Some(delay) => delay.min(self.policy.max_retry_after),
            None => full_jitter(self.policy.backoff_bound(failures)),
        }
    }
}

/// Statuses that say "not now" rather than "not this": RFC 9110 §15.6 and RFC 6585 §4.
fn is_retryable_status(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS
            | StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT
    )
}

/// The delay a `Retry-After` header asks for (RFC 9110 §10.2.3): delta-seconds, or an
/// HTTP date (a date in the past means "now"). `None` if absent or unreadable.
fn retry_after(response: &HttpResponse, now: SystemTime) -> Option<Duration> {
    let value = response
        .headers()
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for a u64 is "a very long time": the cap applies.
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A uniformly random duration between zero and `bound` ("full jitter").
fn full_jitter(bound: Duration) -> Duration {
    let bound_nanos = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX);
    if bound_nanos == 0 {
        return Duration::ZERO;
    }
    match getrandom::u64() {
        Ok(random) => Duration::from_nanos(random % bound_nanos.saturating_add(1)),
        // Without randomness, wait the whole bound: still bounded, only less spread.
        Err(_) => bound,
    }
}

/// Why an attempt is worth repeating, in words for the person waiting.
enum Reason {
    Status(StatusCode),
    Failure(TransportErrorKind, Option<Duration>),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Status(status) => write!(f, "the server answered HTTP {status}"),
            Reason::Failure(TransportErrorKind::Timeout, Some(after)) => {
                write!(f, "no answer in {}", Seconds(*after))
            }
            Reason::Failure(TransportErrorKind::Timeout, None) => f.write_str("no answer in time"),
            Reason::Failure(TransportErrorKind::Connect, _) => f.write_str("could not connect"),
            Reason::Failure(kind, _) => write!(f, "{kind}"),
        }
    }
}

/// A duration in seconds for people: `20 s`, `0.2 s`.
struct Seconds(Duration);

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs_f64();
        // Tenths below 10 s, whole seconds above; `2.0` reads as `2`.
        let tenths = (secs * 10.0).round();
        if secs >= 9.95 || tenths % 10.0 == 0.0 {
            write!(f, "{} s", secs.round())
        } else {
            write!(f, "{:.1} s", tenths / 10.0)
        }
    }
}

/// The request as logs show it: method, host and path; never the query or headers.
struct Target {
    method: String,
    host: String,
    path: String,
    /// `scheme://host[:port]`, for error messages: never the user info.
    origin: String,
}

impl Target {
    fn of(request: &HttpRequest) -> Self {
        Self {
            method: request.method().to_string(),
            host: request.uri().host().unwrap_or("").to_owned(),
            path: request.uri().path().to_owned(),
            origin: {
                let uri = request.uri();
                let scheme = uri.scheme_str().unwrap_or("http");
                let host = uri.host().unwrap_or("");
                match uri.port_u16() {
                    Some(port) => format!("{scheme}://{host}:{port}"),
                    None => format!("{scheme}://{host}"),
                }
            },
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}{}", self.method, self.host, self.path)
    }
}

impl<T> Retry<T> {
    fn elapsed_since(&self, start: SystemTime) -> Duration {
        self.clock
            .now()
            .duration_since(start)
            .unwrap_or(Duration::ZERO)
    }
}

#[async_trait]
impl<T: HttpTransport> HttpTransport for Retry<T> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let options = RequestOptions::of(&request);
        let max_attempts = if options.idempotency.allows_retry(request.method()) {
            self.policy.max_attempts.max(1)
        } else {
            1
        };
        let target = Target::of(&request);
        let start = self.clock.now();
        let mut failures = 0;
        loop {
            let attempt = failures + 1;
            // `http::Request<Bytes>` clones cheaply: the body is reference-counted, and
            // the extensions (our `RequestOptions` among them) come along.
            let mut this = request.clone();
            let timeout = match self.policy.deadline {
                Some(deadline) => {
                    let left = deadline.saturating_sub(self.elapsed_since(start));
                    let share = left / (max_attempts - failures);
                    let timeout = options.timeout.map_or(share, |own| own.min(share));
                    options.with_timeout(timeout).apply(&mut this);
                    Some(timeout)
                }
                None => options.timeout,
            };
            let sent = std::time::Instant::now();
            let result = self.inner.send(this).await;
            let duration_ms = u64::try_from(sent.elapsed().as_millis()).unwrap_or(u64::MAX);
            match &result {
                Ok(response) => tracing::debug!(
                    status = response.status().as_u16(),
                    duration_ms,
                    attempt,
                    attempts = max_attempts,
                    "{target}"
                ),
                Err(error) => tracing::debug!(
                    failure = %error.kind(),
                    duration_ms,
                    attempt,
                    attempts = max_attempts,
                    "{target}"
                ),
            }
            let reason = match &result {
                Ok(response) if is_retryable_status(response.status()) => {
                    Reason::Status(response.status())
                }
                Err(error) if error.is_retryable() => Reason::Failure(error.kind(), timeout),
                _ => return result,
            };
            if attempt >= max_attempts {
                if max_attempts > 1 {
                    tracing::debug!("{target}: {reason}; giving up after {attempt} attempts");
                }
                return self.deadline_error(result, attempt, &target);
            }
            failures += 1;
            let delay = self.delay(failures, result.as_ref().ok());
            if let Some(deadline) = self.policy.deadline {
                let left = deadline.saturating_sub(self.elapsed_since(start));
                if delay >= left {
                    tracing::debug!(
                        "{target}: {reason}; the {} deadline leaves no time for another attempt",
                        Seconds(deadline)
                    );
                    return self.deadline_error(result, attempt, &target);
                }
            }
            tracing::warn!(
                "{target}: {reason}, trying again in {} ({} of {max_attempts})",
                Seconds(delay),
                attempt + 1
            );
            drop(result);
            self.sleep.sleep(delay).await;
        }
    }
}

impl<T> Retry<T> {
    /// A timeout that ended the last attempt under a deadline says so, naming the
    /// deadline rather than the attempt's share of it.
    fn deadline_error(
        &self,
        result: Result<HttpResponse, TransportError>,
        attempts: u32,
        target: &Target,
    ) -> Result<HttpResponse, TransportError> {
        match (result, self.policy.deadline) {
            (Err(error), Some(deadline)) if error.kind() == TransportErrorKind::Timeout => {
                let tries = if attempts == 1 {
                    "1 attempt".to_owned()
                } else {
                    format!("{attempts} attempts")
                };
                // `Target` shows the method, host and path: never the query or user info.
                Err(TransportError::new(
                    TransportErrorKind::Timeout,
                    format!(
                        "{} {}{}: no complete answer within the {} deadline ({tries})",
                        target.method,
                        target.origin,
                        target.path,
                        Seconds(deadline)
                    ),
                )
                .with_source(error))
            }
            (result, _) => result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{ManualClock, SleepFuture};
    use crate::transport::{Idempotency, TransportErrorKind, from_fn};
    use bytes::Bytes;
    use std::collections::VecDeque;
    use std::sync::Mutex;

    /// Records every requested delay and returns at once.
    #[derive(Debug, Default)]
    struct RecordingSleep(Mutex<Vec<Duration>>);

    impl Sleep for RecordingSleep {
        fn sleep(&self, duration: Duration) -> SleepFuture {
            self.0.lock().unwrap().push(duration);
            Box::pin(async {})
        }
    }

    impl RecordingSleep {
        fn delays(&self) -> Vec<Duration> {
            self.0.lock().unwrap().clone()
        }
    }

    type Answer = Result<HttpResponse, TransportError>;

    fn status(code: u16) -> Answer {
        Ok(http::Response::builder()
            .status(code)
            .body(Bytes::from(format!("answer {code}")))
            .unwrap())
    }

    fn status_with_retry_after(code: u16, retry_after: &str) -> Answer {
        Ok(http::Response::builder()
            .status(code)
            .header("retry-after", retry_after)
            .body(Bytes::new())
            .unwrap())
    }

    fn connect_error() -> Answer {
        Err(TransportError::new(TransportErrorKind::Connect, "refused"))
    }

    /// A fake server that gives the scripted answers in order (the last one forever) and
    /// records what it received.
    struct Script {
        answers: Mutex<VecDeque<Answer>>,
        received: Mutex<Vec<(http::Method, String, Bytes, RequestOptions)>>,
    }

    impl Script {
        fn new(answers: Vec<Answer>) -> Arc<Self> {
            Arc::new(Self {
                answers: Mutex::new(answers.into()),
                received: Mutex::new(Vec::new()),
            })
        }

        fn sends(&self) -> usize {
            self.received.lock().unwrap().len()
        }
    }

    fn harness(
        answers: Vec<Answer>,
        policy: RetryPolicy,
    ) -> (Retry<impl HttpTransport>, Arc<Script>, Arc<RecordingSleep>) {
        let script = Script::new(answers);
        let sleep = Arc::new(RecordingSleep::default());
        let inner = from_fn({
            let script = script.clone();
            move |req: HttpRequest| {
                let script = script.clone();
                async move {
                    script.received.lock().unwrap().push((
                        req.method().clone(),
                        req.uri().to_string(),
                        req.body().clone(),
                        RequestOptions::of(&req),
                    ));
                    let mut answers = script.answers.lock().unwrap();
                    if answers.len() > 1 {
                        answers.pop_front().unwrap()
                    } else {
                        answers.front().cloned().unwrap()
                    }
                }
            }
        });
        let retry = Retry::new(inner, sleep.clone()).with_policy(policy);
        (retry, script, sleep)
    }

    fn get() -> HttpRequest {
        http::Request::get("https://api.example/events?key=SECRET")
            .body(Bytes::new())
            .unwrap()
    }

    fn post(idempotency: Idempotency) -> HttpRequest {
        let mut req = http::Request::post("https://auth.example/token")
            .body(Bytes::from_static(b"grant_type=client_credentials"))
            .unwrap();
        RequestOptions::default()
            .with_idempotency(idempotency)
            .apply(&mut req);
        req
    }

    #[tokio::test]
    async fn retryable_failures_are_retried_up_to_the_attempt_limit() {
        // (answers, expected sends, expected final status or None for an error)
        let cases: Vec<(&str, Vec<Answer>, usize, Option<u16>)> = vec![
            ("success at once", vec![status(200)], 1, Some(200)),
            (
                "503 then success",
                vec![status(503), status(200)],
                2,
                Some(200),
            ),
            (
                "429 then 502 then success",
                vec![status(429), status(502), status(200)],
                3,
                Some(200),
            ),
            (
                "504 always: last response returned",
                vec![status(504)],
                3,
                Some(504),
            ),
            (
                "connect error then success",
                vec![connect_error(), status(200)],
                2,
                Some(200),
            ),
            (
                "connect error always: last error returned",
                vec![connect_error()],
                3,
                None,
            ),
            (
                "500 is not retried",
                vec![status(500), status(200)],
                1,
                Some(500),
            ),
            (
                "400 is not retried",
                vec![status(400), status(200)],
                1,
                Some(400),
            ),
            (
                "an oversized body is not retried",
                vec![Err(TransportError::body_too_large(10)), status(200)],
                1,
                None,
            ),
        ];
        for (name, answers, sends, outcome) in cases {
            let (retry, script, sleep) = harness(answers, RetryPolicy::default());
            let result = retry.send(get()).await;
            assert_eq!(script.sends(), sends, "{name}");
            assert_eq!(sleep.delays().len(), sends - 1, "{name}");
            match (outcome, result) {
                (Some(code), Ok(response)) => assert_eq!(response.status(), code, "{name}"),
                (None, Err(_)) => {}
                (want, got) => panic!("{name}: wanted {want:?}, got {got:?}"),
            }
        }
    }

    #[tokio::test]
    async fn the_last_response_is_returned_with_its_body() {
        let (retry, _, _) = harness(vec![status(503)], RetryPolicy::default());
        let response = retry.send(get()).await.unwrap();
        assert_eq!(response.status(), 503);
        assert_eq!(response.body(), "answer 503");
    }

    #[tokio::test]
    async fn every_attempt_sends_the_same_request() {
        let (retry, script, _) = harness(
            vec![status(503), status(503), status(200)],
            RetryPolicy::default(),
        );
        retry.send(post(Idempotency::Retryable)).await.unwrap();
        let received = script.received.lock().unwrap();
        assert_eq!(received.len(), 3);
        for (method, uri, body, options) in received.iter() {
            assert_eq!(method, http::Method::POST);
            assert_eq!(uri, "https://auth.example/token");
            assert_eq!(body, "grant_type=client_credentials");
            assert_eq!(options.idempotency, Idempotency::Retryable);
        }
    }

    #[tokio::test]
    async fn only_requests_that_may_be_repeated_are_retried() {
        // (request, expected sends)
        let cases = [
            ("GET by method", get(), 3),
            ("POST by method", post(Idempotency::FromMethod), 1),
            (
                "POST marked retryable (client credentials)",
                post(Idempotency::Retryable),
                3,
            ),
            (
                "POST marked never (code exchange, rotating refresh)",
                post(Idempotency::Never),
                1,
            ),
            (
                "GET marked never",
                {
                    let mut g = get();
                    RequestOptions::default()
                        .with_idempotency(Idempotency::Never)
                        .apply(&mut g);
                    g
                },
                1,
            ),
        ];
        for (name, request, sends) in cases {
            for answer in [status(503), connect_error()] {
                let (retry, script, _) = harness(vec![answer], RetryPolicy::default());
                let _ = retry.send(request.clone()).await;
                assert_eq!(script.sends(), sends, "{name}");
            }
        }
    }

    #[tokio::test]
    async fn a_code_exchange_is_never_retried() {
        let url = url::Url::parse("https://auth.example/token").unwrap();
        let request = crate::client_auth::form_post(
            &url,
            None,
            &[("grant_type", "authorization_code"), ("code", "c")],
            Idempotency::Never,
        )
        .unwrap();
        let (retry, script, sleep) = harness(vec![connect_error()], RetryPolicy::default());
        assert!(retry.send(request).await.is_err());
        assert_eq!(script.sends(), 1);
        assert!(sleep.delays().is_empty());
    }

    #[tokio::test]
    async fn one_attempt_disables_retrying() {
        let policy = RetryPolicy::default().with_max_attempts(1);
        let (retry, script, _) = harness(vec![status(503)], policy);
        assert_eq!(retry.send(get()).await.unwrap().status(), 503);
        assert_eq!(script.sends(), 1);
        let policy = RetryPolicy::default().with_max_attempts(0);
        let (retry, script, _) = harness(vec![status(503)], policy);
        assert_eq!(retry.send(get()).await.unwrap().status(), 503);
        assert_eq!(script.sends(), 1);
    }

    #[tokio::test]
    async fn backoff_is_full_jitter_under_a_doubling_capped_bound() {
        let policy = RetryPolicy::default()
            .with_max_attempts(8)
            .with_base_backoff(Duration::from_millis(100))
            .with_max_backoff(Duration::from_millis(1000));
        let mut all = Vec::new();
        for _ in 0..50 {
            let (retry, _, sleep) = harness(vec![status(503)], policy);
            retry.send(get()).await.unwrap();
            let delays = sleep.delays();
            assert_eq!(delays.len(), 7);
            for (i, delay) in delays.iter().enumerate() {
                let bound = [100, 200, 400, 800, 1000, 1000, 1000][i];
                assert!(
                    *delay <= Duration::from_millis(bound),
                    "retry {i}: {delay:?}"
                );
            }
            all.extend(delays);
        }
        // Jittered: 350 draws from [0, bound] are not all the same.
        all.sort();
        all.dedup();
        assert!(all.len() > 300, "only {} distinct delays", all.len());
    }

    #[test]
    fn backoff_bounds() {
        let policy = RetryPolicy::default();
        for (failures, ms) in [
            (1, 200),
            (2, 400),
            (3, 800),
            (6, 6400),
            (7, 10_000),
            (40, 10_000),
        ] {
            assert_eq!(
                policy.backoff_bound(failures),
                Duration::from_millis(ms),
                "{failures}"
            );
        }
        let huge = RetryPolicy::default()
            .with_base_backoff(Duration::MAX)
            .with_max_backoff(Duration::MAX);
        assert_eq!(huge.backoff_bound(u32::MAX), Duration::MAX);
        assert_eq!(full_jitter(Duration::ZERO), Duration::ZERO);
        assert!(full_jitter(Duration::MAX) <= Duration::MAX);
    }

    #[tokio::test]
    async fn retry_after_is_honoured_in_seconds_and_as_a_date_and_capped() {
        let clock = ManualClock::default();
        let now = clock.now();
        let date = |secs: u64| httpdate::fmt_http_date(now + Duration::from_secs(secs));
        // (Retry-After value, expected delay); the cap is 60 s.
        let cases = [
            ("7".to_owned(), Some(Duration::from_secs(7))),
            (" 0 ".to_owned(), Some(Duration::ZERO)),
            ("3600".to_owned(), Some(Duration::from_secs(60))),
            (
                "99999999999999999999999".to_owned(),
                Some(Duration::from_secs(60)),
            ),
            (date(30), Some(Duration::from_secs(30))),
            (date(86_400), Some(Duration::from_secs(60))),
            (
                httpdate::fmt_http_date(now - Duration::from_secs(30)),
                Some(Duration::ZERO),
            ),
            // Unreadable: backoff instead, within the 200 ms bound.
            ("soon".to_owned(), None),
            ("-5".to_owned(), None),
            ("1.5".to_owned(), None),
        ];
        for (value, expected) in cases {
            for code in [429, 503] {
                let (retry, _, sleep) = harness(
                    vec![status_with_retry_after(code, &value), status(200)],
                    RetryPolicy::default(),
                );
                let retry = retry.with_clock(Arc::new(clock.clone()));
                assert_eq!(retry.send(get()).await.unwrap().status(), 200);
                let delays = sleep.delays();
                match expected {
                    Some(delay) => assert_eq!(delays, vec![delay], "{value:?}"),
                    None => assert!(delays[0] <= Duration::from_millis(200), "{value:?}"),
                }
            }
        }
    }

    #[tokio::test]
    async fn the_retry_after_cap_is_configurable() {
        let policy = RetryPolicy::default().with_max_retry_after(Duration::from_secs(5));
        let (retry, _, sleep) = harness(
            vec![status_with_retry_after(429, "120"), status(200)],
            policy,
        );
        retry.send(get()).await.unwrap();
        assert_eq!(sleep.delays(), vec![Duration::from_secs(5)]);
    }

    /// Collects every event's fields as text.
    #[derive(Default, Clone)]
    struct Capture(Arc<Mutex<Vec<String>>>);

    struct Fields<'a>(&'a mut String);

    impl tracing::field::Visit for Fields<'_> {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
            self.0.push_str(&format!("{}={:?} ", field.name(), value));
        }
    }

    impl tracing::Subscriber for Capture {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, event: &tracing::Event<'_>) {
            let mut line = String::new();
            event.record(&mut Fields(&mut line));
            self.0.lock().unwrap().push(line);
        }
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }

    #[tokio::test]
    async fn attempts_and_retries_are_logged_without_query_strings_or_headers() {
        let capture = Capture::default();
        let _guard = tracing::subscriber::set_default(capture.clone());
        let (retry, _, _) = harness(vec![status(503), connect_error()], RetryPolicy::default());
        let mut request = get();
        request.headers_mut().insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_static("Bearer SECRET_TOKEN"),
        );
        let _ = retry.send(request).await;
        let lines = capture.0.lock().unwrap().clone();
        // Three attempts, two retries, and the end.
        assert_eq!(lines.len(), 6, "{lines:?}");
        for line in &lines {
            assert!(!line.contains("SECRET"), "{line}");
            assert!(!line.contains("key="), "{line}");
            assert!(line.contains("api.example/events"), "{line}");
        }
        let attempts: Vec<&String> = lines.iter().filter(|l| l.contains("attempt=")).collect();
        assert_eq!(attempts.len(), 3, "{lines:?}");
        assert!(attempts[0].contains("status=503"), "{}", attempts[0]);
        assert!(attempts[0].contains("duration_ms="), "{}", attempts[0]);
        assert!(
            attempts[0].contains("GET api.example/events"),
            "{}",
            attempts[0]
        );
        assert!(attempts[0].contains("attempts=3"), "{}", attempts[0]);
        assert!(attempts[2].contains("attempt=3"), "{}", attempts[2]);
        assert!(
            lines[1].contains("the server answered HTTP 503 Service Unavailable, trying again in"),
            "{}",
            lines[1]
        );
        assert!(lines[1].contains("(2 of 3)"), "{}", lines[1]);
        assert!(
            lines[3].contains("could not connect, trying again in"),
            "{}",
            lines[3]
        );
        assert!(lines[3].contains("(3 of 3)"), "{}", lines[3]);
        assert!(
            lines[5].contains("giving up after 3 attempts"),
            "{}",
            lines[5]
        );
    }

    /// A server that never answers: each attempt ends with a timeout after the time the
    /// request allows (moving the clock by it), and the waits move the clock too.
    fn silent_server(
        policy: RetryPolicy,
    ) -> (
        Retry<impl HttpTransport>,
        Arc<Mutex<Vec<Option<Duration>>>>,
        ManualClock,
    ) {
        let clock = ManualClock::default();
        let timeouts = Arc::new(Mutex::new(Vec::new()));
        let inner = from_fn({
            let clock = clock.clone();
            let timeouts = timeouts.clone();
            move |req: HttpRequest| {
                let timeout = RequestOptions::of(&req).timeout;
                timeouts.lock().unwrap().push(timeout);
                clock.advance(timeout.unwrap_or(Duration::from_secs(60)));
                async {
                    Err(TransportError::new(
                        TransportErrorKind::Timeout,
                        "no complete response",
                    ))
                }
            }
        });
        let sleep = crate::clock::sleep_fn({
            let clock = clock.clone();
            move |d| {
                clock.advance(d);
                Box::pin(async {})
            }
        });
        let retry = Retry::new(inner, Arc::new(sleep))
            .with_policy(policy)
            .with_clock(Arc::new(clock.clone()));
        (retry, timeouts, clock)
    }

    #[tokio::test]
    async fn a_deadline_bounds_every_attempt_and_the_waits_between_them() {
        let capture = Capture::default();
        let _guard = tracing::subscriber::set_default(capture.clone());
        let policy = RetryPolicy::default().with_deadline(Duration::from_secs(60));
        let (retry, timeouts, clock) = silent_server(policy);
        let start = clock.now();
        let error = retry.send(get()).await.unwrap_err();
        let spent = clock.now().duration_since(start).unwrap();
        assert!(spent <= Duration::from_secs(60), "{spent:?}");
        let timeouts = timeouts.lock().unwrap().clone();
        assert_eq!(timeouts.len(), 3, "{timeouts:?}");
        assert_eq!(timeouts[0], Some(Duration::from_secs(20)));
        for timeout in &timeouts[1..] {
            let timeout = timeout.unwrap();
            assert!(timeout > Duration::from_secs(19), "{timeout:?}");
            assert!(timeout <= Duration::from_secs(20), "{timeout:?}");
        }
        assert_eq!(error.kind(), TransportErrorKind::Timeout);
        let message = error.to_string();
        assert!(
            message.contains("no complete answer within the 60 s deadline (3 attempts)"),
            "{message}"
        );
        assert!(message.contains("https://api.example/events"), "{message}");
        assert!(!message.contains("SECRET"), "{message}");
        let lines = capture.0.lock().unwrap().clone();
        let warnings: Vec<&String> = lines
            .iter()
            .filter(|l| l.contains("trying again"))
            .collect();
        assert_eq!(warnings.len(), 2, "{lines:?}");
        assert!(
            warnings[0].contains("no answer in 20 s, trying again in"),
            "{}",
            warnings[0]
        );
        assert!(warnings[0].contains("(2 of 3)"), "{}", warnings[0]);
        assert!(warnings[1].contains("(3 of 3)"), "{}", warnings[1]);
    }

    #[tokio::test]
    async fn under_a_deadline_a_shorter_own_timeout_is_kept_and_a_single_attempt_gets_it_all() {
        let policy = RetryPolicy::default().with_deadline(Duration::from_secs(60));
        // (request, expected timeouts of the attempts)
        let mut short = get();
        RequestOptions::default()
            .with_timeout(Duration::from_secs(5))
            .apply(&mut short);
        let mut long = post(Idempotency::Never);
        RequestOptions::default()
            .with_timeout(Duration::from_secs(90))
            .with_idempotency(Idempotency::Never)
            .apply(&mut long);
        let cases = [
            ("own 5 s timeout", short, vec![5, 5, 5]),
            ("one attempt, own 90 s timeout", long, vec![60]),
            (
                "one attempt, no own timeout",
                post(Idempotency::Never),
                vec![60],
            ),
        ];
        for (name, request, expected) in cases {
            let (retry, timeouts, _) = silent_server(policy);
            let error = retry.send(request).await.unwrap_err();
            let got: Vec<u64> = timeouts
                .lock()
                .unwrap()
                .iter()
                .map(|t| t.unwrap().as_secs())
                .collect();
            assert_eq!(got, expected, "{name}");
            assert!(
                error.to_string().contains("60 s deadline"),
                "{name}: {error}"
            );
        }
    }

    #[tokio::test]
    async fn a_wait_longer_than_the_deadline_leaves_is_not_made() {
        let policy = RetryPolicy::default().with_deadline(Duration::from_secs(10));
        let (retry, script, sleep) = harness(
            vec![status_with_retry_after(429, "30"), status(200)],
            policy,
        );
        let response = retry.send(get()).await.unwrap();
        assert_eq!(response.status(), 429);
        assert_eq!(script.sends(), 1);
        assert!(sleep.delays().is_empty());
    }

    #[test]
    fn durations_read_as_seconds() {
        for (ms, text) in [
            (20_000, "20 s"),
            (19_950, "20 s"),
            (200, "0.2 s"),
            (1_500, "1.5 s"),
            (0, "0 s"),
            (60_000, "60 s"),
            (1_999, "2 s"),
            (1_940, "1.9 s"),
            (9_960, "10 s"),
        ] {
            assert_eq!(Seconds(Duration::from_millis(ms)).to_string(), text, "{ms}");
        }
    }

    #[test]
    fn debug_shows_the_policy() {
        let retry = Retry::new(
            from_fn(|_req: HttpRequest| async { status(200) }),
            Arc::new(RecordingSleep::default()),
        );
        let debug = format!("{retry:?}");
        assert!(debug.contains("max_attempts: 3"), "{debug}");
        assert_eq!(retry.policy(), &RetryPolicy::default());
    }
}
