//! What a transport error may say about the request it is about, and what it must never
//! say.
//!
//! A failed request is easier to act on when the message names it, but a request's URL
//! and headers can carry credentials: a code or a token in the query string, a password
//! in the user info, a bearer token or a cookie in a header. [`RequestLabel`] keeps the
//! two apart: it shows the method, origin and path (or the origin alone) and never the
//! query string or user info, and it scrubs everything secret-looking of the request from
//! a message built from lower layers' texts, as a second line of defence.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use auth_core::{TransportError, TransportErrorKind};

use crate::failure::{self, BackendErrors};

/// Header and query values shorter than this are not scrubbed from messages: they are
/// things like `gzip`, `json` or `1`, and replacing them would garble ordinary words.
const MIN_SCRUBBED_LEN: usize = 6;

/// What replaces a secret in a message.
const REDACTED: &str = "[redacted]";

/// Names a request in error messages without revealing its credentials.
///
/// Built from the request before it is handed to the HTTP stack; the errors it makes
/// are `"<label>: <detail>"`, scrubbed of every secret of the request.
///
/// ```
/// use auth_core::TransportErrorKind;
/// use http_common::RequestLabel;
///
/// let request = http::Request::post("https://user:pa55word@auth.example.com/token?code=s3cr3t-code")
///     .header("authorization", "Bearer tok3n-value")
///     .body(bytes::Bytes::new())?;
/// let label = RequestLabel::of(&request);
/// assert_eq!(label.to_string(), "POST https://auth.example.com/token");
/// assert_eq!(RequestLabel::origin_of(&request).to_string(), "https://auth.example.com");
///
/// // A lower layer's text that repeats the request is scrubbed.
/// let err = label.error(
///     TransportErrorKind::Other,
///     "unexpected answer to /token?code=s3cr3t-code with Bearer tok3n-value",
/// );
/// assert_eq!(
///     err.to_string(),
///     "transport error: POST https://auth.example.com/token: \
///      unexpected answer to /token?[redacted] with [redacted]"
/// );
/// # Ok::<(), http::Error>(())
/// ```
#[derive(Clone)]
pub struct RequestLabel {
    /// What messages show: `METHOD scheme://host:port/path` or `scheme://host:port`.
    shown: String,
    /// Strings that must not appear in a message: the query, its longer values, the user
    /// info, longer header values. Longest first.
    secrets: Vec<String>,
    /// Where the request went, for the advice when it met no TLS.
    tls_target: TlsTarget,
}

/// What an `https://` request that met no TLS should have been sent to.
#[derive(Clone, Debug, PartialEq, Eq)]
enum TlsTarget {
    /// Not an `https://` request.
    NotHttps,
    /// A loopback host, where plain HTTP is allowed: `http://host:port`.
    Loopback { plain_origin: String, port: u16 },
    /// Any other host.
    Remote { port: u16 },
}

impl TlsTarget {
    fn of(uri: &http::Uri) -> Self {
        if uri.scheme() != Some(&http::uri::Scheme::HTTPS) {
            return TlsTarget::NotHttps;
        }
        let port = uri.port_u16().unwrap_or(443);
        let host = uri.host().unwrap_or_default();
        // The same loopback rule that lets credentials travel over plain http.
        let plain_origin = format!("http://{host}:{port}");
        let loopback = url::Url::parse(&plain_origin)
            .is_ok_and(|url| auth_core::secure_url::is_loopback(&url));
        if loopback {
            TlsTarget::Loopback { plain_origin, port }
        } else {
            TlsTarget::Remote { port }
        }
    }
}

impl fmt::Debug for RequestLabel {
    // The secrets are what this type exists to keep out of sight.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestLabel")
            .field("shown", &self.shown)
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

impl fmt::Display for RequestLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl RequestLabel {
    /// A label showing `METHOD scheme://host:port/path`: never the query or user info.
    pub fn of<B>(request: &http::Request<B>) -> Self {
        let mut shown = format!("{} ", request.method());
        shown.push_str(&origin(request.uri()));
        shown.push_str(request.uri().path());
        Self {
            shown,
            secrets: secrets(request),
            tls_target: TlsTarget::of(request.uri()),
        }
    }

    /// A label showing only `scheme://host:port`, for messages that should not reveal
    /// even the path. It scrubs the same secrets as [`RequestLabel::of`].
    pub fn origin_of<B>(request: &http::Request<B>) -> Self {
        Self {
            shown: origin(request.uri()),
            secrets: secrets(request),
            tls_target: TlsTarget::of(request.uri()),
        }
    }

    /// What messages show of the request.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// `message` with every secret of the request replaced by `[redacted]`.
    pub fn scrub(&self, message: impl Into<String>) -> String {
        self.secrets.iter().fold(message.into(), |message, secret| {
            if message.contains(secret.as_str()) {
                message.replace(secret.as_str(), REDACTED)
            } else {
                message
            }
        })
    }

    /// An error about this request: `"<label>: <detail>"`, scrubbed. Whether it is
    /// retryable defaults from `kind` ([`TransportError::new`]).
    pub fn error(&self, kind: TransportErrorKind, detail: impl fmt::Display) -> TransportError {
        TransportError::new(kind, self.scrub(format!("{}: {detail}", self.shown)))
    }

    /// An error about this request caused by `cause`, retryable as the shared
    /// [rules](crate::failure) say for `kind` and that chain. The source is not attached:
    /// do it with [`TransportError::with_source`] once `cause` is no longer borrowed.
    ///
    /// A connect failure whose chain shows that the server does not speak TLS
    /// ([`failure::speaks_no_tls`]) becomes [`TransportErrorKind::NotTls`], whose message
    /// says so and, for a loopback host, suggests the `http://` URL.
    pub fn failure(
        &self,
        kind: TransportErrorKind,
        detail: impl fmt::Display,
        cause: &(dyn StdError + 'static),
        backend: &impl BackendErrors,
    ) -> TransportError {
        if kind == TransportErrorKind::Connect && failure::speaks_no_tls(cause, backend) {
            return self.not_tls();
        }
        self.error(kind, detail)
            .with_retryable(failure::is_retryable(kind, cause, backend))
    }

    /// The server answered this `https://` request's TLS handshake with something that is
    /// not TLS: a [`TransportErrorKind::NotTls`], not retryable.
    ///
    /// ```
    /// let request = http::Request::get("https://127.0.0.1:8080/token").body(())?;
    /// let err = http_common::RequestLabel::of(&request).not_tls();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "the server does not speak TLS: GET https://127.0.0.1:8080/token: the server \
    ///      answered the TLS handshake on port 8080 with something else, most likely plain \
    ///      HTTP; for this loopback server use http://127.0.0.1:8080"
    /// );
    /// # Ok::<(), http::Error>(())
    /// ```
    pub fn not_tls(&self) -> TransportError {
        let detail = match &self.tls_target {
            TlsTarget::Loopback { plain_origin, port } => format!(
                "the server answered the TLS handshake on port {port} with something else, \
                 most likely plain HTTP; for this loopback server use {plain_origin}"
            ),
            TlsTarget::Remote { port } => format!(
                "the server answered the TLS handshake on port {port} with something else, \
                 most likely plain HTTP; check the URL's port"
            ),
            TlsTarget::NotHttps => "the server's answer to the TLS handshake is not TLS".to_owned(),
        };
        self.error(TransportErrorKind::NotTls, detail)
            .with_retryable(false)
    }

    /// The request got no complete response within `after`: a retryable
    /// [`TransportErrorKind::Timeout`].
    pub fn timed_out(&self, after: Duration) -> TransportError {
        self.error(
            TransportErrorKind::Timeout,
            format_args!("no complete response within {after:?}"),
        )
    }

    /// The response body is over the cap of `limit` bytes: a
    /// [`TransportErrorKind::BodyTooLarge`], not retryable.
    pub fn body_too_large(&self, limit: usize) -> TransportError {
        self.error(
            TransportErrorKind::BodyTooLarge,
            format_args!("the response body exceeds the {limit}-byte limit"),
        )
    }
}

/// `scheme://host:port` of `uri`, without user info (`user:password@`), path or query.
fn origin(uri: &http::Uri) -> String {
    let mut shown = String::new();
    if let Some(scheme) = uri.scheme_str() {
        shown.push_str(scheme);
        shown.push_str("://");
    }
    if let Some(authority) = uri.authority() {
        let authority = authority.as_str();
        shown.push_str(match authority.rsplit_once('@') {
            Some((_userinfo, host)) => host,
            None => authority,
        });
    }
    shown
}

/// What of `request` must never appear in a message, longest first so that a query is
/// replaced whole before its parts are looked for.
fn secrets<B>(request: &http::Request<B>) -> Vec<String> {
    let uri = request.uri();
    let mut secrets = Vec::new();
    if let Some((userinfo, _host)) = uri.authority().and_then(|a| a.as_str().rsplit_once('@')) {
        secrets.push(userinfo.to_owned());
    }
    if let Some(query) = uri.query() {
        secrets.push(query.to_owned());
        secrets.extend(
            query
                .split('&')
                .filter_map(|pair| pair.split_once('=').map(|(_, value)| value))
                .filter(|value| value.len() >= MIN_SCRUBBED_LEN)
                .map(str::to_owned),
        );
    }
    secrets.extend(
        request
            .headers()
            .values()
            .filter_map(|value| value.to_str().ok())
            .filter(|value| value.len() >= MIN_SCRUBBED_LEN)
            .map(str::to_owned),
    );
    // An empty secret would match everywhere.
    secrets.retain(|secret| !secret.is_empty());
    secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
    secrets.dedup();
    secrets
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    fn request(uri: &str, headers: &[(&str, &str)]) -> http::Request<()> {
        let mut builder = http::Request::post(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn label_shows_method_origin_and_path_but_not_query_or_userinfo() {
        let cases = [
            (
                "https://api.example.com/token",
                "POST https://api.example.com/token",
            ),
            (
                "https://api.example.com:8443/a/b?code=s3cr3t-code",
                "POST https://api.example.com:8443/a/b",
            ),
            (
                "http://user:hunter22@127.0.0.1:8080/t?x=1",
                "POST http://127.0.0.1:8080/t",
            ),
            (
                "http://[::1]:9000/cb?code=s3cr3t",
                "POST http://[::1]:9000/cb",
            ),
        ];
        for (uri, shown) in cases {
            assert_eq!(RequestLabel::of(&request(uri, &[])).shown(), shown, "{uri}");
        }
    }

    #[test]
    fn origin_keeps_only_scheme_host_and_port() {
        let cases = [
            (
                "https://api.example.test/token?secret=s3cr3t",
                "https://api.example.test",
            ),
            ("http://127.0.0.1:8080/a/b?c=d#e", "http://127.0.0.1:8080"),
            (
                "https://user:s3cr3t@example.test:444/p",
                "https://example.test:444",
            ),
            ("http://[::1]:9000/?code=s3cr3t", "http://[::1]:9000"),
        ];
        for (uri, expected) in cases {
            let label = RequestLabel::origin_of(&request(uri, &[]));
            assert_eq!(label.to_string(), expected, "{uri}");
        }
    }

    #[test]
    fn scrub_removes_query_parts_userinfo_and_long_header_values() {
        let request = request(
            "http://user:hunter22@127.0.0.1/t?code=s3cr3t-code&state=st4te-value&n=1",
            &[("authorization", "Bearer tok3n-value"), ("accept", "*/*")],
        );
        for label in [
            RequestLabel::of(&request),
            RequestLabel::origin_of(&request),
        ] {
            let scrubbed = label.scrub(
                "saw code=s3cr3t-code&state=st4te-value&n=1, s3cr3t-code, st4te-value, \
                 Bearer tok3n-value, user:hunter22 and */*",
            );
            for secret in ["s3cr3t-code", "st4te-value", "tok3n-value", "hunter22"] {
                assert!(!scrubbed.contains(secret), "{secret} left in {scrubbed}");
            }
            // Short, harmless values are left alone.
            assert!(scrubbed.ends_with("and */*"), "{scrubbed}");
        }
    }

    #[test]
    fn an_empty_query_or_userinfo_scrubs_nothing() {
        let label = RequestLabel::of(&request("http://@127.0.0.1/t?", &[]));
        assert_eq!(label.scrub("nothing secret here"), "nothing secret here");
    }

    #[test]
    fn errors_name_the_request_and_default_their_retryability_from_the_kind() {
        let label = RequestLabel::of(&request("http://127.0.0.1:9/t?token=abcdef123", &[]));
        let timeout = label.timed_out(Duration::from_millis(250));
        assert_eq!(timeout.kind(), TransportErrorKind::Timeout);
        assert!(timeout.is_retryable());
        assert_eq!(
            timeout.to_string(),
            "timed out: POST http://127.0.0.1:9/t: no complete response within 250ms"
        );

        let too_large = label.body_too_large(1024);
        assert_eq!(too_large.kind(), TransportErrorKind::BodyTooLarge);
        assert!(!too_large.is_retryable());
        assert_eq!(
            too_large.to_string(),
            "response body too large: POST http://127.0.0.1:9/t: \
             the response body exceeds the 1024-byte limit"
        );

        let other = label.error(TransportErrorKind::Other, "token=abcdef123 rejected");
        assert!(!other.is_retryable());
        assert!(!other.to_string().contains("abcdef123"), "{other}");
    }

    #[test]
    fn failures_are_retryable_as_the_shared_rules_say() {
        struct NoTls;
        impl BackendErrors for NoTls {
            fn is_certificate_rejection(&self, _: &(dyn StdError + 'static)) -> bool {
                false
            }
        }
        let label = RequestLabel::origin_of(&request("https://api.example.test:8443/t", &[]));
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        let err = label.failure(TransportErrorKind::Other, &reset, &reset, &NoTls);
        assert!(err.is_retryable());
        assert_eq!(
            err.to_string(),
            "transport error: https://api.example.test:8443: connection reset"
        );
        let garbled = io::Error::from(io::ErrorKind::InvalidData);
        let err = label.failure(TransportErrorKind::Other, &garbled, &garbled, &NoTls);
        assert!(!err.is_retryable());
    }

    #[test]
    fn an_answer_that_is_not_tls_is_a_not_tls_error_suggesting_http_for_loopback() {
        struct PlainHttp;
        impl BackendErrors for PlainHttp {
            fn is_certificate_rejection(&self, _: &(dyn StdError + 'static)) -> bool {
                false
            }
            fn is_not_tls(&self, cause: &(dyn StdError + 'static)) -> bool {
                cause.is::<io::Error>()
            }
        }
        let cause = io::Error::from(io::ErrorKind::InvalidData);
        let cases = [
            (
                "https://127.0.0.1:8080/t",
                Some("use http://127.0.0.1:8080"),
            ),
            (
                "https://localhost:3000/t?code=s3cr3t",
                Some("use http://localhost:3000"),
            ),
            ("https://[::1]:9443/t", Some("use http://[::1]:9443")),
            ("https://api.example.test/t", None),
            ("https://localhost.example.test:8443/t", None),
        ];
        for (uri, advice) in cases {
            for label in [
                RequestLabel::of(&request(uri, &[])),
                RequestLabel::origin_of(&request(uri, &[])),
            ] {
                let err = label.failure(TransportErrorKind::Connect, "corrupt", &cause, &PlainHttp);
                assert_eq!(err.kind(), TransportErrorKind::NotTls, "{uri}");
                assert!(!err.is_retryable(), "{uri}");
                assert!(err.is_connect(), "{uri}");
                let shown = err.to_string();
                assert!(shown.contains("does not speak TLS"), "{shown}");
                assert!(!shown.contains("s3cr3t"), "{shown}");
                match advice {
                    Some(advice) => assert!(shown.ends_with(advice), "{shown}"),
                    None => {
                        assert!(!shown.contains("http://"), "{shown}");
                        assert!(shown.ends_with("check the URL's port"), "{shown}");
                    }
                }
                // Only connect failures are read this way.
                let other = label.failure(TransportErrorKind::Other, "corrupt", &cause, &PlainHttp);
                assert_eq!(other.kind(), TransportErrorKind::Other, "{uri}");
            }
        }
    }

    #[test]
    fn debug_never_shows_the_secrets() {
        let label = RequestLabel::of(&request(
            "http://user:hunter22@127.0.0.1/t?code=s3cr3t-code",
            &[("cookie", "session=c00kie-value")],
        ));
        let debug = format!("{label:?}");
        for secret in ["hunter22", "s3cr3t-code", "c00kie-value"] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
        assert!(debug.contains("POST http://127.0.0.1/t"), "{debug}");
    }
}
