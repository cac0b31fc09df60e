//! The seam between the OAuth logic and whatever moves bytes.
//!
//! [`HttpTransport`] takes an [`http::Request`] with a buffered body and gives back an
//! [`http::Response`] with a buffered body. Bodies are small (token responses, JSON pages),
//! so buffering keeps the trait object-safe and trivial to implement: the `http-reqwest`
//! and `http-hyper` crates implement it, a test can implement it with a closure
//! ([`from_fn`]), and a tool with no HTTP at all can answer from a channel or a file.
//!
//! What every implementation must honour, so that callers can rely on it whatever the
//! backend:
//! - never follow redirects (a `3xx` is returned as is: a redirect must never carry
//!   credentials to another host);
//! - enforce a timeout on every request ([`RequestOptions::timeout`], else the
//!   transport's own default);
//! - refuse bodies over [`RequestOptions::max_body_bytes`] with
//!   [`TransportErrorKind::BodyTooLarge`] instead of buffering them;
//! - hand back the body with its content coding undone (RFC 9110 §8.4) when it decodes
//!   one, counting the cap on the decoded size, and refuse a coding it cannot decode with
//!   [`TransportErrorKind::UnsupportedContentEncoding`] rather than pass encoded bytes on
//!   as the body.
//!
//! What HTTP backends share beyond this contract (the body cap, which failures a retry
//! can help, proxies from the environment, how a request is named in messages) lives in
//! the `http-common` crate, so that this crate names no socket, proxy or HTTP stack.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

/// A request with its whole body in memory.
pub type HttpRequest = http::Request<Bytes>;
/// A response with its whole body in memory.
pub type HttpResponse = http::Response<Bytes>;

/// The largest response body a transport accepts by default: 16 MiB. Token responses are
/// a few hundred bytes and an API page of 200 events is well under 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The default total time a request may take, connection included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The default time allowed to establish a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends one HTTP request and returns the whole response.
///
/// Implementations must not follow redirects, must time out, and must cap the body size:
/// see the [module documentation](self). Implemented for `&T`, `Box<T>` and `Arc<T>`, and
/// for closures through [`from_fn`].
///
/// ```
/// use auth_core::transport::{HttpRequest, HttpResponse, HttpTransport, TransportError};
///
/// /// Answers every request with `204 No Content`.
/// struct Silent;
///
/// #[async_trait::async_trait]
/// impl HttpTransport for Silent {
///     async fn send(&self, _request: HttpRequest) -> Result<HttpResponse, TransportError> {
///         Ok(http::Response::builder().status(204).body(bytes::Bytes::new()).expect("valid response"))
///     }
/// }
/// ```
#[async_trait]
pub trait HttpTransport: Send + Sync {
    /// Sends `request` and buffers the response.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

#[async_trait]
impl<T: HttpTransport + ?Sized> HttpTransport for &T {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        (**self).send(request).await
    }
}

#[async_trait]
impl<T: HttpTransport + ?Sized> HttpTransport for Box<T> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        (**self).send(request).await
    }
}

#[async_trait]
impl<T: HttpTransport + ?Sized> HttpTransport for Arc<T> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        (**self).send(request).await
    }
}

/// A transport made from an async closure; see [`from_fn`].
#[derive(Clone)]
pub struct FnTransport<F>(F);

impl<F> fmt::Debug for FnTransport<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnTransport")
    }
}

/// Makes a transport from a closure returning a future.
///
/// ```
/// use auth_core::transport::{from_fn, HttpTransport};
///
/// let transport = from_fn(|request: auth_core::transport::HttpRequest| async move {
///     let body = format!("you asked for {}", request.uri().path());
///     Ok(http::Response::new(bytes::Bytes::from(body)))
/// });
/// # let _: &dyn HttpTransport = &transport;
/// ```
pub fn from_fn<F, Fut>(f: F) -> FnTransport<F>
where
    F: Fn(HttpRequest) -> Fut + Send + Sync,
    Fut: Future<Output = Result<HttpResponse, TransportError>> + Send,
{
    FnTransport(f)
}

#[async_trait]
impl<F, Fut> HttpTransport for FnTransport<F>
where
    F: Fn(HttpRequest) -> Fut + Send + Sync,
    Fut: Future<Output = Result<HttpResponse, TransportError>> + Send,
{
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        (self.0)(request).await
    }
}

/// Per-request settings, carried in the request's [`http::Extensions`].
///
/// Transports read them with [`RequestOptions::of`]; the retry layer reads
/// [`RequestOptions::idempotency`].
///
/// ```
/// use std::time::Duration;
/// use auth_core::transport::{Idempotency, RequestOptions};
///
/// let mut request = http::Request::new(bytes::Bytes::new());
/// RequestOptions::default()
///     .with_timeout(Duration::from_secs(5))
///     .with_idempotency(Idempotency::Retryable)
///     .apply(&mut request);
/// assert_eq!(RequestOptions::of(&request).timeout, Some(Duration::from_secs(5)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RequestOptions {
    /// Total time allowed for this request; `None` uses the transport's default.
    pub timeout: Option<Duration>,
    /// Largest body accepted; `None` uses the transport's default.
    pub max_body_bytes: Option<usize>,
    /// Whether a retry layer may send this request again.
    pub idempotency: Idempotency,
}

impl RequestOptions {
    /// The options attached to `request`, or the defaults.
    pub fn of<B>(request: &http::Request<B>) -> RequestOptions {
        request
            .extensions()
            .get::<RequestOptions>()
            .copied()
            .unwrap_or_default()
    }

    /// Sets the total timeout.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets the body size cap.
    #[must_use]
    pub fn with_max_body_bytes(mut self, max: usize) -> Self {
        self.max_body_bytes = Some(max);
        self
    }

    /// Marks whether the request may be repeated.
    #[must_use]
    pub fn with_idempotency(mut self, idempotency: Idempotency) -> Self {
        self.idempotency = idempotency;
        self
    }

    /// Attaches these options to `request`, replacing any already there.
    pub fn apply<B>(self, request: &mut http::Request<B>) {
        request.extensions_mut().insert(self);
    }
}

/// Whether sending a request twice is harmless.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Idempotency {
    /// Decide from the method: `GET`, `HEAD`, `OPTIONS`, `PUT`, `DELETE` and `TRACE` are
    /// idempotent (RFC 9110 §9.2.2), anything else is not.
    #[default]
    FromMethod,
    /// May be sent again (for example a client-credentials token request).
    Retryable,
    /// Must be sent at most once (an authorization-code exchange, a rotating refresh).
    Never,
}

impl Idempotency {
    /// Whether a request with this marking and `method` may be sent again.
    pub fn allows_retry(self, method: &http::Method) -> bool {
        match self {
            Idempotency::Retryable => true,
            Idempotency::Never => false,
            Idempotency::FromMethod => matches!(
                *method,
                http::Method::GET
                    | http::Method::HEAD
                    | http::Method::OPTIONS
                    | http::Method::PUT
                    | http::Method::DELETE
                    | http::Method::TRACE
            ),
        }
    }
}

/// What kind of transport failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection could be made (refused, DNS, TLS handshake). Nothing reached the
    /// server, so a retry is safe.
    Connect,
    /// The request or the connection timed out. The server may have acted on it.
    Timeout,
    /// The response body was larger than the cap.
    BodyTooLarge,
    /// The request could not be built or sent (bad URL, invalid header).
    InvalidRequest,
    /// An `https://` request reached a server that does not speak TLS on that port (it
    /// answered the TLS handshake in plain HTTP, typically). Nothing was sent and asking
    /// again gets the same answer: use `http://` (for a loopback server) or the port that
    /// speaks TLS.
    NotTls,
    /// The response body is in a content coding (`Content-Encoding`, RFC 9110 §8.4) the
    /// transport cannot decode; the message names it. Not retryable: the server would
    /// answer the same way. Transports decode `gzip`, `br` and `deflate`.
    UnsupportedContentEncoding,
    /// Anything else: the connection broke mid-answer, a protocol error, a compressed
    /// body that does not decode.
    Other,
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportErrorKind::Connect => "could not connect",
            TransportErrorKind::Timeout => "timed out",
            TransportErrorKind::BodyTooLarge => "response body too large",
            TransportErrorKind::InvalidRequest => "invalid request",
            TransportErrorKind::NotTls => "the server does not speak TLS",
            TransportErrorKind::UnsupportedContentEncoding => "unsupported content coding",
            TransportErrorKind::Other => "transport error",
        })
    }
}

/// A request that got no complete HTTP answer.
///
/// Carries a [`TransportErrorKind`], a message and, optionally, the backend's own error as
/// its [`source`](std::error::Error::source). Transport implementations must not put URLs
/// with query strings, headers or bodies in the message: they may hold credentials.
/// (`http-common`'s `RequestLabel` builds messages that name the request safely, and its
/// `failure` module decides retryability by the rules every HTTP backend shares.)
#[derive(Clone, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
    retryable: bool,
    #[source]
    source: Option<Arc<dyn StdError + Send + Sync>>,
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("retryable", &self.retryable)
            .finish_non_exhaustive()
    }
}

impl TransportError {
    /// A new error. Whether it is retryable defaults from the kind: connect failures and
    /// timeouts are, an oversized body or an invalid request is not.
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        let retryable = matches!(
            kind,
            TransportErrorKind::Connect | TransportErrorKind::Timeout
        );
        Self {
            kind,
            message: message.into(),
            retryable,
            source: None,
        }
    }

    /// Attaches the backend's own error.
    #[must_use]
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// Overrides whether a retry can help.
    #[must_use]
    pub fn with_retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }

    /// A body larger than `limit` bytes.
    pub fn body_too_large(limit: usize) -> Self {
        Self::new(
            TransportErrorKind::BodyTooLarge,
            format!("the response body exceeds the {limit}-byte limit"),
        )
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// Whether sending the request again may succeed.
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }

    /// Whether the request certainly never reached the server: no connection could be
    /// made ([`TransportErrorKind::Connect`]), or the server turned out not to speak TLS
    /// ([`TransportErrorKind::NotTls`]).
    pub fn is_connect(&self) -> bool {
        matches!(
            self.kind,
            TransportErrorKind::Connect | TransportErrorKind::NotTls
        )
    }
}

/// Settings every transport implementation honours, so that backends behave alike.
///
/// ```
/// use std::time::Duration;
/// use auth_core::transport::TransportSettings;
///
/// let settings = TransportSettings::default()
///     .with_timeout(Duration::from_secs(10))
///     .with_max_body_bytes(1 << 20);
/// assert_eq!(settings.connect_timeout, auth_core::transport::DEFAULT_CONNECT_TIMEOUT);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransportSettings {
    /// Total time a request may take unless the request says otherwise.
    pub timeout: Duration,
    /// Time allowed to establish a connection.
    pub connect_timeout: Duration,
    /// Largest response body accepted unless the request says otherwise.
    pub max_body_bytes: usize,
}

impl Default for TransportSettings {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

impl TransportSettings {
    /// Sets the default total timeout.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the connect timeout.
    #[must_use]
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the default body cap.
    #[must_use]
    pub fn with_max_body_bytes(mut self, max: usize) -> Self {
        self.max_body_bytes = max;
        self
    }

    /// The timeout and body cap for `request`: its [`RequestOptions`] where set, these
    /// settings otherwise.
    pub fn limits_for<B>(&self, request: &http::Request<B>) -> (Duration, usize) {
        let options = RequestOptions::of(request);
        (
            options.timeout.unwrap_or(self.timeout),
            options.max_body_bytes.unwrap_or(self.max_body_bytes),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryability_defaults_from_kind() {
        assert!(TransportError::new(TransportErrorKind::Connect, "x").is_retryable());
        assert!(TransportError::new(TransportErrorKind::Timeout, "x").is_retryable());
        assert!(!TransportError::body_too_large(10).is_retryable());
        assert!(!TransportError::new(TransportErrorKind::InvalidRequest, "x").is_retryable());
        let not_tls = TransportError::new(TransportErrorKind::NotTls, "x");
        assert!(!not_tls.is_retryable());
        assert!(not_tls.is_connect());
        assert!(
            !TransportError::new(TransportErrorKind::UnsupportedContentEncoding, "x")
                .is_retryable()
        );
        assert!(
            TransportError::new(TransportErrorKind::Other, "reset")
                .with_retryable(true)
                .is_retryable()
        );
    }

    #[test]
    fn idempotency_from_method() {
        assert!(Idempotency::FromMethod.allows_retry(&http::Method::GET));
        assert!(!Idempotency::FromMethod.allows_retry(&http::Method::POST));
        assert!(Idempotency::Retryable.allows_retry(&http::Method::POST));
        assert!(!Idempotency::Never.allows_retry(&http::Method::GET));
    }

    #[tokio::test]
    async fn closures_arcs_and_boxes_are_transports() {
        let t = from_fn(|req: HttpRequest| async move {
            Ok(http::Response::new(Bytes::from(
                req.uri().path().to_owned(),
            )))
        });
        let arc: Arc<dyn HttpTransport> = Arc::new(t);
        let boxed: Box<dyn HttpTransport> = Box::new(arc.clone());
        let req = http::Request::get("http://127.0.0.1/p")
            .body(Bytes::new())
            .unwrap();
        let res = boxed.send(req).await.unwrap();
        assert_eq!(res.body(), "/p");
    }
}
