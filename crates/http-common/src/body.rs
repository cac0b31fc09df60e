//! Collecting a response body under a cap, after its content coding is undone.
//!
//! Both transports ask for compressed answers (`Accept-Encoding: gzip, deflate, br`) and
//! decode them with their libraries' own support (tower-http's decompression, which
//! reqwest uses as well). What they hand to [`LimitedBody`] is the **decoded** body, so
//! the cap bounds what a caller gets and what memory holds: a small compressed body that
//! inflates past the cap (a "zip bomb") is refused as soon as the decoded bytes pass it,
//! never inflated whole.
//!
//! A server may answer in a content coding the client did not ask for (RFC 9110 §8.4.1
//! lets it, §12.5.3 only asks it not to). The decoding layer removes `Content-Encoding`
//! for the codings it undid and leaves every other one in place, so a `Content-Encoding`
//! still present when the body is collected means bytes nobody can read:
//! [`LimitedBody::start`] refuses them with
//! [`TransportErrorKind::UnsupportedContentEncoding`], naming the coding, instead of
//! handing compressed bytes to a JSON parser.

use auth_core::TransportError;
use auth_core::TransportErrorKind;
use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use http::header::CONTENT_ENCODING;

use crate::RequestLabel;

/// The content codings both transports decode, as sent in `Accept-Encoding`.
pub const DECODED_CODINGS: &str = "gzip, deflate, br";

/// How much of an unknown coding's name a message repeats.
const MAX_CODING_SHOWN: usize = 40;

/// Collects a response body chunk by chunk, failing as soon as it passes the cap, so an
/// oversized body is never held in memory. Errors name the request through its
/// [`RequestLabel`].
///
/// ```
/// use auth_core::TransportErrorKind;
/// use http_common::{LimitedBody, RequestLabel};
///
/// let request = http::Request::get("http://127.0.0.1:8080/page").body(())?;
/// let label = RequestLabel::of(&request);
/// let mut body = LimitedBody::start(&label, 5, &http::HeaderMap::new(), Some(3))?;
/// body.push(b"abc")?;
/// let err = body.push(b"def").unwrap_err();
/// assert_eq!(err.kind(), TransportErrorKind::BodyTooLarge);
/// assert_eq!(
///     err.to_string(),
///     "response body too large: GET http://127.0.0.1:8080/page: \
///      the response body exceeds the 5-byte limit"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct LimitedBody<'a> {
    buf: BytesMut,
    limit: usize,
    label: &'a RequestLabel,
}

impl<'a> LimitedBody<'a> {
    /// An empty body capped at `limit` bytes, for the response whose (decoded) `headers`
    /// and declared body size are given.
    ///
    /// `declared` is the body's exact size when known (`Content-Length` of a body that was
    /// not decoded; `Some(0)` for a `HEAD` answer, a `204` or a `304`, whatever their
    /// headers say). It is checked against the cap at once and sizes the buffer.
    ///
    /// # Errors
    ///
    /// [`TransportErrorKind::BodyTooLarge`] when `declared` is over the cap;
    /// [`TransportErrorKind::UnsupportedContentEncoding`] when `headers` still carry a
    /// `Content-Encoding` other than `identity` (the decoding layer could not undo it) and
    /// the body is not known to be empty.
    pub fn start(
        label: &'a RequestLabel,
        limit: usize,
        headers: &HeaderMap,
        declared: Option<u64>,
    ) -> Result<Self, TransportError> {
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(label.body_too_large(limit));
        }
        if declared != Some(0)
            && let Some(coding) = undecoded_coding(headers)
        {
            return Err(label
                .error(
                    TransportErrorKind::UnsupportedContentEncoding,
                    format_args!(
                        "the response body is in the content coding \"{coding}\", which \
                         this client cannot decode (it decodes {DECODED_CODINGS})"
                    ),
                )
                .with_retryable(false));
        }
        let capacity = declared
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0)
            .min(limit)
            .min(1 << 20);
        Ok(Self {
            buf: BytesMut::with_capacity(capacity),
            limit,
            label,
        })
    }

    /// Appends a chunk.
    ///
    /// # Errors
    ///
    /// [`TransportErrorKind::BodyTooLarge`] if the body would pass the cap; nothing of
    /// the chunk is kept.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), TransportError> {
        if self.buf.len().saturating_add(chunk.len()) > self.limit {
            return Err(self.label.body_too_large(self.limit));
        }
        self.buf.extend_from_slice(chunk);
        Ok(())
    }

    /// The collected body.
    pub fn finish(self) -> Bytes {
        self.buf.freeze()
    }
}

/// The `Content-Encoding` left on a response after decoding, if any other than
/// `identity`: printable ASCII only, at most 40 characters, as a message may show it.
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// assert_eq!(http_common::body::undecoded_coding(&headers), None);
/// headers.insert("content-encoding", http::HeaderValue::from_static("zstd"));
/// assert_eq!(http_common::body::undecoded_coding(&headers).as_deref(), Some("zstd"));
/// ```
pub fn undecoded_coding(headers: &HeaderMap) -> Option<String> {
    let codings: Vec<String> = headers
        .get_all(CONTENT_ENCODING)
        .iter()
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .collect();
    let joined = codings.join(", ");
    let meaningful = joined
        .split(',')
        .map(str::trim)
        .any(|coding| !coding.is_empty() && !coding.eq_ignore_ascii_case("identity"));
    if !meaningful {
        return None;
    }
    let shown: String = joined
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(MAX_CODING_SHOWN)
        .collect();
    Some(shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label() -> RequestLabel {
        RequestLabel::of(
            &http::Request::get("http://127.0.0.1:1/p?code=s3cr3t-code")
                .body(())
                .unwrap(),
        )
    }

    fn headers(codings: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for coding in codings {
            headers.append(
                CONTENT_ENCODING,
                http::HeaderValue::from_str(coding).unwrap(),
            );
        }
        headers
    }

    #[test]
    fn a_body_up_to_the_cap_is_kept_and_one_byte_more_is_refused() {
        let label = label();
        let mut body = LimitedBody::start(&label, 6, &HeaderMap::new(), None).unwrap();
        body.push(b"abc").unwrap();
        body.push(b"def").unwrap();
        let err = body.push(b"g").unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::BodyTooLarge);
        assert!(!err.is_retryable());
        assert_eq!(body.finish(), "abcdef");
    }

    #[test]
    fn a_declared_size_over_the_cap_is_refused_before_reading() {
        let label = label();
        let err = LimitedBody::start(&label, 10, &HeaderMap::new(), Some(11)).unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::BodyTooLarge);
        assert!(LimitedBody::start(&label, 10, &HeaderMap::new(), Some(10)).is_ok());
        // A huge declared size sizes no buffer.
        assert!(LimitedBody::start(&label, usize::MAX, &HeaderMap::new(), Some(u64::MAX)).is_ok());
    }

    #[test]
    fn a_coding_left_undecoded_is_refused_by_name() {
        let label = label();
        let cases: [(&[&str], Option<&str>); 7] = [
            (&[], None),
            (&["identity"], None),
            (&["IDENTITY"], None),
            (&["zstd"], Some("zstd")),
            (&["x-foo"], Some("x-foo")),
            (&["gzip, br"], Some("gzip, br")),
            (&["gzip", "identity"], Some("gzip, identity")),
        ];
        for (codings, refused) in cases {
            let headers = headers(codings);
            assert_eq!(
                undecoded_coding(&headers).as_deref(),
                refused,
                "{codings:?}"
            );
            match (LimitedBody::start(&label, 100, &headers, None), refused) {
                (Ok(_), None) => {}
                (Err(err), Some(coding)) => {
                    assert_eq!(err.kind(), TransportErrorKind::UnsupportedContentEncoding);
                    assert!(!err.is_retryable());
                    assert!(err.to_string().contains(&format!("\"{coding}\"")), "{err}");
                    assert!(!err.to_string().contains("s3cr3t"), "{err}");
                }
                (other, _) => panic!("{codings:?}: {other:?}"),
            }
            // An empty body has nothing to decode.
            assert!(LimitedBody::start(&label, 100, &headers, Some(0)).is_ok());
        }
    }

    #[test]
    fn a_hostile_coding_name_is_shown_short_and_printable() {
        let mut hostile = b"x-".to_vec();
        hostile.extend(std::iter::repeat_n(b'a', 200));
        hostile.extend_from_slice(b"\xff\xfe");
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_ENCODING,
            http::HeaderValue::from_bytes(&hostile).unwrap(),
        );
        let shown = undecoded_coding(&headers).unwrap();
        assert_eq!(shown.len(), MAX_CODING_SHOWN, "{shown}");
        assert!(
            shown.chars().all(|c| c.is_ascii_graphic() || c == ' '),
            "{shown}"
        );
        let mut short = HeaderMap::new();
        short.insert(
            CONTENT_ENCODING,
            http::HeaderValue::from_bytes(b"x-\xff").unwrap(),
        );
        assert_eq!(undecoded_coding(&short).as_deref(), Some("x-?"));
    }
}
