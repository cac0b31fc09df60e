//! Turning reqwest's errors into [`TransportError`]s that say what happened and whether a
//! retry can help, without leaking credentials.
//!
//! reqwest's own `Display` appends the full request URL, query string included, and a
//! query string may carry a code or a token. Messages here are built from scratch: the
//! request's method, origin and path, then the causes reported by the layers under
//! reqwest (hyper, the connector, the OS, rustls), which describe sockets and protocols,
//! not requests. As a second line of defence every message is scrubbed of the request's
//! query string and its longer header values before it leaves this module.

use std::error::Error as StdError;
use std::io;
use std::time::Duration;

use auth_core::transport::{HttpRequest, TransportError, TransportErrorKind};

/// Header values shorter than this are not scrubbed from messages: they are things like
/// `gzip` or `1`, and replacing them would garble ordinary words.
const MIN_SCRUBBED_LEN: usize = 6;

/// What an error message may say about a request, and what it must never say.
#[derive(Clone)]
pub(crate) struct RequestLabel {
    /// `METHOD scheme://host:port/path`, never the query.
    shown: String,
    /// Strings that must not appear in a message: the query, its parts, long header
    /// values, user info.
    secrets: Vec<String>,
}

impl RequestLabel {
    /// Notes what identifies `request` in messages and what must be kept out of them.
    pub(crate) fn of(request: &HttpRequest) -> Self {
        let uri = request.uri();
        let mut shown = format!("{} ", request.method());
        if let Some(scheme) = uri.scheme_str() {
            shown.push_str(scheme);
            shown.push_str("://");
        }
        let mut secrets = Vec::new();
        if let Some(authority) = uri.authority() {
            // User info (`user:password@`) can hold a password: show only host and port.
            let authority = authority.as_str();
            match authority.rsplit_once('@') {
                Some((userinfo, host)) => {
                    secrets.push(userinfo.to_owned());
                    shown.push_str(host);
                }
                None => shown.push_str(authority),
            }
        }
        shown.push_str(uri.path());
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
        // Longest first, so a query is replaced whole before its parts are looked for.
        secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
        secrets.dedup();
        Self { shown, secrets }
    }

    /// `message` with every secret of the request replaced.
    fn scrub(&self, message: String) -> String {
        self.secrets
            .iter()
            .filter(|secret| !secret.is_empty())
            .fold(message, |message, secret| {
                if message.contains(secret.as_str()) {
                    message.replace(secret.as_str(), "[redacted]")
                } else {
                    message
                }
            })
    }

    /// A transport error about this request.
    fn error(&self, kind: TransportErrorKind, detail: &str) -> TransportError {
        TransportError::new(kind, self.scrub(format!("{}: {detail}", self.shown)))
    }

    /// The request was not answered within `timeout`.
    pub(crate) fn timed_out(&self, timeout: Duration) -> TransportError {
        self.error(
            TransportErrorKind::Timeout,
            &format!("no complete response within {timeout:?}"),
        )
    }

    /// The response body is over the cap of `limit` bytes.
    pub(crate) fn body_too_large(&self, limit: usize) -> TransportError {
        self.error(
            TransportErrorKind::BodyTooLarge,
            &format!("the response body exceeds the {limit}-byte limit"),
        )
    }

    /// The wrapped client followed a redirect on its own; see
    /// [`ReqwestTransport::from_client`](crate::ReqwestTransport::from_client).
    pub(crate) fn redirect_followed(&self) -> TransportError {
        self.error(
            TransportErrorKind::Other,
            "the reqwest client followed a redirect; build it with \
             reqwest::redirect::Policy::none() so that redirects reach the caller",
        )
        .with_retryable(false)
    }

    /// No Tokio runtime is running on this thread.
    pub(crate) fn no_runtime(&self) -> TransportError {
        self.error(
            TransportErrorKind::Other,
            "the reqwest transport must run inside a Tokio runtime",
        )
        .with_retryable(false)
    }

    /// Maps a reqwest error from building, sending or reading `self`'s request.
    pub(crate) fn map(&self, err: reqwest::Error, timeout: Duration) -> TransportError {
        // The URL goes first: nothing below may print it.
        let err = err.without_url();
        let transport_error = if err.is_builder() {
            self.error(TransportErrorKind::InvalidRequest, &causes(&err))
        } else if err.is_connect() {
            // Checked before the timeout: a connect timeout is a connect failure, and
            // "nothing reached the server" is the more useful thing to know.
            let error = self.error(TransportErrorKind::Connect, &causes(&err));
            if has_certificate_error(&err) {
                // A certificate does not become valid by asking again.
                error.with_retryable(false)
            } else {
                error
            }
        } else if err.is_timeout() {
            self.timed_out(timeout)
        } else {
            self.error(TransportErrorKind::Other, &causes(&err))
                .with_retryable(is_broken_connection(&err))
        };
        transport_error.with_source(err)
    }
}

/// `err` followed by its sources.
fn chain<'a>(
    err: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(err), |&err| err.source())
}

/// The causes under a reqwest error, joined: `tcp connect error: Connection refused`.
///
/// reqwest's own text ("error sending request") says nothing the error kind does not, so
/// it is used only when there is nothing underneath.
fn causes(err: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in chain(err).skip(1) {
        let text = cause.to_string();
        // Wrappers often repeat their source's text; keep it once.
        if !text.is_empty() && parts.last().is_none_or(|last| !last.contains(&text)) {
            parts.push(text);
        }
    }
    if parts.is_empty() {
        err.to_string()
    } else {
        parts.join(": ")
    }
}

/// Whether `test` holds for any error in `err`'s chain, looking inside `io::Error`s too:
/// `io::Error::source` skips the error it wraps, and the TLS connector nests a rustls error
/// two `io::Error`s deep.
fn any_cause(
    err: &(dyn StdError + 'static),
    test: &impl Fn(&(dyn StdError + 'static)) -> bool,
) -> bool {
    let mut current = Some(err);
    while let Some(cause) = current {
        if test(cause) {
            return true;
        }
        if let Some(inner) = cause
            .downcast_ref::<io::Error>()
            .and_then(io::Error::get_ref)
        {
            // The wrapped error's own chain is the rest of this one.
            return any_cause(inner, test);
        }
        current = cause.source();
    }
    false
}

/// Whether the TLS handshake failed on the server's certificate (unknown issuer, expired,
/// wrong name): retrying cannot fix that.
fn has_certificate_error(err: &reqwest::Error) -> bool {
    any_cause(err, &|cause| {
        matches!(
            cause.downcast_ref::<rustls::Error>(),
            Some(rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented)
        )
    })
}

/// Whether the connection broke under the exchange (closed early, reset), as happens when
/// a server drops an idle keep-alive connection just as it is reused: sending again on a
/// fresh connection may well succeed. Whether it is *safe* to send again is the request's
/// idempotency, which the retry layer checks.
fn is_broken_connection(err: &reqwest::Error) -> bool {
    any_cause(err, &|cause| {
        if let Some(hyper) = cause.downcast_ref::<hyper::Error>() {
            return hyper.is_incomplete_message() || hyper.is_canceled() || hyper.is_closed();
        }
        cause.downcast_ref::<io::Error>().is_some_and(|io| {
            matches!(
                io.kind(),
                io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe
                    | io::ErrorKind::UnexpectedEof
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] io::Error);

    #[test]
    fn any_cause_looks_inside_nested_io_errors() {
        let nested = Outer(io::Error::other(io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        )));
        let is_certificate = |cause: &(dyn StdError + 'static)| cause.is::<rustls::Error>();
        assert!(any_cause(&nested, &is_certificate));
        let plain = Outer(io::Error::from(io::ErrorKind::ConnectionRefused));
        assert!(!any_cause(&plain, &is_certificate));
        assert!(any_cause(&plain, &|cause: &(dyn StdError + 'static)| {
            cause
                .downcast_ref::<io::Error>()
                .is_some_and(|io| io.kind() == io::ErrorKind::ConnectionRefused)
        }));
    }

    fn request(uri: &str, headers: &[(&str, &str)]) -> HttpRequest {
        let mut builder = http::Request::post(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(bytes::Bytes::new()).unwrap()
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
        ];
        for (uri, shown) in cases {
            assert_eq!(RequestLabel::of(&request(uri, &[])).shown, shown, "{uri}");
        }
    }

    #[test]
    fn scrub_removes_query_parts_userinfo_and_long_header_values() {
        let label = RequestLabel::of(&request(
            "http://user:hunter22@127.0.0.1/t?code=s3cr3t-code&state=st4te-value&n=1",
            &[("authorization", "Bearer tok3n-value"), ("accept", "*/*")],
        ));
        let scrubbed = label.scrub(
            "saw code=s3cr3t-code&state=st4te-value&n=1, s3cr3t-code, st4te-value, \
             Bearer tok3n-value, user:hunter22 and */*"
                .to_owned(),
        );
        for secret in ["s3cr3t-code", "st4te-value", "tok3n-value", "hunter22"] {
            assert!(!scrubbed.contains(secret), "{secret} left in {scrubbed}");
        }
        // Short, harmless values are left alone.
        assert!(scrubbed.ends_with("and */*"), "{scrubbed}");
    }

    #[test]
    fn timeout_error_is_retryable_and_names_no_query() {
        let label = RequestLabel::of(&request("http://127.0.0.1:9/t?token=abcdef123", &[]));
        let error = label.timed_out(Duration::from_millis(250));
        assert_eq!(error.kind(), TransportErrorKind::Timeout);
        assert!(error.is_retryable());
        assert!(!error.to_string().contains("abcdef123"));
        assert!(error.to_string().contains("250ms"), "{error}");
    }

    #[test]
    fn redirect_followed_and_no_runtime_are_not_retryable() {
        let label = RequestLabel::of(&request("http://127.0.0.1/t", &[]));
        for error in [label.redirect_followed(), label.no_runtime()] {
            assert_eq!(error.kind(), TransportErrorKind::Other);
            assert!(!error.is_retryable(), "{error}");
        }
    }
}
