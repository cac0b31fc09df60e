//! The retry layer: a transport that sends a request again when the failure may pass.
//!
//! Retried: `429 Too Many Requests`, `502`, `503` and `504` answers, and transport
//! failures the transport marks retryable (a refused connection, a timeout), for requests
//! that may be repeated ([`Idempotency::allows_retry`]: every `GET`, and token requests,
//! which `auth-core` marks retryable). A `Retry-After` header in seconds is honoured; a
//! wait longer than [`RetryPolicy::max_delay`] is not taken and the answer is returned.
//! Otherwise the wait doubles from [`RetryPolicy::base_delay`] (no jitter: one client
//! against one API gains nothing from it, and tests stay deterministic).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::clock::Sleep;
use auth_core::transport::{
    HttpRequest, HttpResponse, HttpTransport, RequestOptions, TransportError,
};
use http::StatusCode;

/// How often and how patiently to retry.
///
/// ```
/// use std::time::Duration;
/// use communico::RetryPolicy;
///
/// let patient = RetryPolicy::default()
///     .with_max_attempts(5)
///     .with_base_delay(Duration::from_secs(1));
/// assert_eq!(patient.max_attempts, 5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 means no retry).
    pub max_attempts: u32,
    /// The first wait when the server gives no `Retry-After`; doubled each time.
    pub base_delay: Duration,
    /// The longest wait taken, from `Retry-After` or from doubling.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Three attempts, waits from 500 ms, never more than a minute.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Sets the number of attempts (at least 1).
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the first wait.
    #[must_use]
    pub fn with_base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// Sets the longest wait.
    #[must_use]
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// A transport that retries through `inner`, waiting with `sleep`.
pub(crate) struct Retry {
    inner: Arc<dyn HttpTransport>,
    sleep: Arc<dyn Sleep>,
    policy: RetryPolicy,
}

impl fmt::Debug for Retry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retry")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Retry {
    pub(crate) fn new(
        inner: Arc<dyn HttpTransport>,
        sleep: Arc<dyn Sleep>,
        policy: RetryPolicy,
    ) -> Self {
        Self {
            inner,
            sleep,
            policy,
        }
    }
}

fn retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

#[async_trait]
impl HttpTransport for Retry {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let options = RequestOptions::of(&request);
        if !options.idempotency.allows_retry(request.method()) || self.policy.max_attempts <= 1 {
            return self.inner.send(request).await;
        }
        let mut attempt = 1;
        loop {
            let result = self.inner.send(request.clone()).await;
            let wait = match &result {
                Ok(response) if retryable_status(response.status()) => {
                    crate::envelope::retry_after(response)
                        .unwrap_or_else(|| self.policy.backoff(attempt))
                }
                Err(error) if error.is_retryable() => self.policy.backoff(attempt),
                _ => return result,
            };
            if attempt >= self.policy.max_attempts || wait > self.policy.max_delay {
                return result;
            }
            self.sleep.sleep(wait).await;
            attempt += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use auth_core::clock::sleep_fn;
    use auth_core::transport::{Idempotency, TransportErrorKind, from_fn};
    use bytes::Bytes;

    use super::*;

    /// A transport answering from a script, and the sleeps taken.
    fn scripted(
        script: Vec<Result<(u16, Option<&'static str>), TransportErrorKind>>,
        policy: RetryPolicy,
    ) -> (Retry, Arc<AtomicUsize>, Arc<Mutex<Vec<Duration>>>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let sleeps = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(script);
        let counter = calls.clone();
        let inner = from_fn(move |_request: HttpRequest| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let step = script.get(n).cloned().unwrap_or(Ok((200, None)));
            async move {
                match step {
                    Ok((status, retry_after)) => {
                        let mut builder = http::Response::builder().status(status);
                        if let Some(value) = retry_after {
                            builder = builder.header("retry-after", value);
                        }
                        Ok(builder.body(Bytes::new()).unwrap())
                    }
                    Err(kind) => Err(TransportError::new(kind, "scripted")),
                }
            }
        });
        let log = sleeps.clone();
        let sleep = sleep_fn(move |d| {
            log.lock().unwrap().push(d);
            Box::pin(async {})
        });
        (
            Retry::new(Arc::new(inner), Arc::new(sleep), policy),
            calls,
            sleeps,
        )
    }

    fn get() -> HttpRequest {
        http::Request::get("http://127.0.0.1/x")
            .body(Bytes::new())
            .unwrap()
    }

    #[tokio::test]
    async fn retry_after_is_honoured_then_backoff_doubles() {
        let (retry, calls, sleeps) = scripted(
            vec![Ok((429, Some("7"))), Ok((503, None)), Ok((502, None))],
            RetryPolicy::default().with_max_attempts(4),
        );
        let response = retry.send(get()).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        assert_eq!(
            *sleeps.lock().unwrap(),
            [
                Duration::from_secs(7),
                Duration::from_secs(1),
                Duration::from_secs(2)
            ]
        );
    }

    #[tokio::test]
    async fn gives_up_after_max_attempts_with_the_last_answer() {
        let (retry, calls, _) = scripted(
            vec![Ok((503, None)), Ok((503, None)), Ok((504, None))],
            RetryPolicy::default(),
        );
        assert_eq!(retry.send(get()).await.unwrap().status(), 504);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_wait_longer_than_the_cap_is_not_taken() {
        let (retry, calls, sleeps) =
            scripted(vec![Ok((429, Some("3600")))], RetryPolicy::default());
        assert_eq!(retry.send(get()).await.unwrap().status(), 429);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(sleeps.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn other_statuses_and_final_errors_are_returned_at_once() {
        for step in [
            Ok((500, None)),
            Ok((401, None)),
            Err(TransportErrorKind::BodyTooLarge),
        ] {
            let (retry, calls, _) = scripted(vec![step], RetryPolicy::default());
            let _ = retry.send(get()).await;
            assert_eq!(calls.load(Ordering::SeqCst), 1);
        }
    }

    #[tokio::test]
    async fn connection_failures_are_retried() {
        let (retry, calls, _) = scripted(
            vec![Err(TransportErrorKind::Connect)],
            RetryPolicy::default(),
        );
        assert_eq!(retry.send(get()).await.unwrap().status(), 200);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn only_repeatable_requests_are_retried() {
        let (retry, calls, _) = scripted(vec![Ok((503, None))], RetryPolicy::default());
        let post = http::Request::post("http://127.0.0.1/x")
            .body(Bytes::new())
            .unwrap();
        assert_eq!(retry.send(post).await.unwrap().status(), 503);
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        let (retry, calls, _) = scripted(vec![Ok((503, None))], RetryPolicy::default());
        let mut token = http::Request::post("http://127.0.0.1/token")
            .body(Bytes::new())
            .unwrap();
        RequestOptions::default()
            .with_idempotency(Idempotency::Retryable)
            .apply(&mut token);
        assert_eq!(retry.send(token).await.unwrap().status(), 200);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
