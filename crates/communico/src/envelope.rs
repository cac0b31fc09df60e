//! The response envelope, `{"status":"success","code":200,"data":…}`, and the rules for
//! telling success from failure (reference §1, §4.1, §4.14).
//!
//! - Any `2xx` is a success status: the API documents `201 Created` for GETs while the
//!   live service answers `200`.
//! - A `2xx` answer whose envelope says otherwise (`status` other than `success`, or a
//!   `code` outside `2xx`) is an error.
//! - A body that is not the API's answer (an HTML page from a proxy, plain text, JSON
//!   with none of the envelope's members) is [`Error::UnexpectedBody`] with the status
//!   and a snippet; the API's envelope around something of the wrong shape, or JSON cut
//!   short, is [`Error::InvalidResponse`].
//! - Leniently, as RFC 8259 allows or as real servers need: a leading UTF-8 byte-order
//!   mark is skipped (§8.1); when a strict parse fails, strings holding half a surrogate
//!   pair escape (`\ud83c`) or bytes that are not UTF-8 are mended to U+FFFD
//!   ([`crate::repair`]) and parsed again, with a warning and a count, rather than losing
//!   the page.

use std::time::Duration;

use auth_core::transport::HttpResponse;
use http::StatusCode;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::Error;
use crate::wire::Lenient;

/// One page of a list endpoint: the `data` member of the envelope.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
#[non_exhaustive]
pub struct Page<T> {
    /// `total`: how many entries match the query in all.
    #[serde(default, deserialize_with = "lenient_count")]
    pub total: Option<u64>,
    /// `start`: the offset of this page, as echoed.
    #[serde(default, deserialize_with = "lenient_count")]
    pub start: Option<u64>,
    /// `limit`: the page size, as echoed (the server may have capped it silently and
    /// still echo what was asked).
    #[serde(default, deserialize_with = "lenient_count")]
    pub limit: Option<u64>,
    /// `startDate`, as echoed by the events endpoint.
    #[serde(default, rename = "startDate", deserialize_with = "lenient_text")]
    pub start_date: Option<String>,
    /// `endDate`, as echoed by the events endpoint.
    #[serde(default, rename = "endDate", deserialize_with = "lenient_text")]
    pub end_date: Option<String>,
    /// `entries`.
    #[serde(deserialize_with = "null_as_empty")]
    pub entries: Vec<T>,
}

fn lenient_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Lenient::<u64>::deserialize(d)? {
        Lenient::Value(v) => Some(v),
        _ => None,
    })
}

fn lenient_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Lenient::<String>::deserialize(d)? {
        Lenient::Value(v) => Some(v),
        _ => None,
    })
}

fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[derive(Deserialize)]
struct Envelope<D> {
    #[serde(default)]
    status: Option<Value>,
    #[serde(default)]
    code: Option<Value>,
    #[serde(default)]
    message: Option<Value>,
    #[serde(default)]
    error: Option<Value>,
    #[serde(default, rename = "error_description")]
    error_description: Option<Value>,
    #[serde(default = "Option::default")]
    data: Option<D>,
}

impl<D> Envelope<D> {
    fn code(&self) -> Option<i64> {
        match &self.code {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// Whether the envelope itself reports a failure.
    fn reports_error(&self) -> bool {
        let bad_status = match &self.status {
            Some(Value::String(s)) => {
                let s = s.trim();
                !(s.eq_ignore_ascii_case("success") || s.eq_ignore_ascii_case("ok"))
            }
            Some(Value::Bool(ok)) => !ok,
            Some(Value::Number(n)) => n.as_i64().is_some_and(|c| !(200..300).contains(&c)),
            _ => false,
        };
        let bad_code = self.code().is_some_and(|c| !(200..300).contains(&c));
        bad_status || bad_code || (self.data.is_none() && self.error.is_some())
    }

    fn message(&self) -> String {
        [
            &self.message,
            &self.error_description,
            &self.error,
            &self.status,
        ]
        .into_iter()
        .find_map(|v| match v {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.as_str()),
            _ => None,
        })
        .map(|s| auth_core::response::snippet(s.as_bytes()))
        .unwrap_or_default()
    }
}

/// The `Retry-After` header as a number of seconds (the HTTP-date form is rare for APIs
/// and is left to the retry layer).
pub(crate) fn retry_after(response: &HttpResponse) -> Option<Duration> {
    response
        .headers()
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// Reads the envelope of `response` and returns its `data`. `what` names the resource
/// in a [`Error::NotFound`].
#[cfg(test)]
pub(crate) fn parse<D: DeserializeOwned>(response: &HttpResponse, what: &str) -> Result<D, Error> {
    parse_counted(response, what).map(|(data, _)| data)
}

/// [`parse`], and how many strings had invalid text mended to U+FFFD.
pub(crate) fn parse_counted<D: DeserializeOwned>(
    response: &HttpResponse,
    what: &str,
) -> Result<(D, u32), Error> {
    let status = response.status();
    let body = auth_core::response::strip_bom(response.body());
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Err(Error::RateLimited {
            retry_after: retry_after(response),
        });
    }
    if let Some(coding) = response
        .headers()
        .get(http::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("identity"))
    {
        // RFC 9110 §8.4: decoding is the transport's job; bytes still encoded are not
        // worth showing.
        return Err(Error::InvalidResponse {
            status,
            reason: format!(
                "the body is in Content-Encoding `{}`, which the HTTP transport did not decode",
                auth_core::response::snippet(coding.as_bytes())
            ),
        });
    }
    if status.is_redirection() {
        let location = response
            .headers()
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|l| url::Url::parse(l).ok())
            .map(|l| auth_core::secure_url::display_url(&l));
        return Err(Error::Redirected { status, location });
    }
    if !looks_like_json_object(body) {
        if status == StatusCode::NOT_FOUND {
            return Err(Error::NotFound { what: what.into() });
        }
        return Err(Error::UnexpectedBody {
            status,
            content_type: auth_core::response::content_type(response),
            snippet: auth_core::response::snippet(body),
        });
    }
    match serde_json::from_slice::<Envelope<D>>(body) {
        Ok(envelope) => data_of(response, body, envelope, what).map(|data| (data, 0)),
        Err(parse_error) => {
            // One broken string must not cost the page: mend it and try once more.
            if let Some((mended, strings)) = crate::repair::repair(body)
                && let Ok(envelope) = serde_json::from_slice::<Envelope<D>>(&mended)
            {
                let data = data_of(response, &mended, envelope, what)?;
                tracing::warn!(
                    path = what,
                    strings,
                    "invalid text (half a surrogate pair or bytes that are not UTF-8) in \
                     {strings} string(s) of the answer, replaced with U+FFFD"
                );
                return Ok((data, strings));
            }
            // The data did not fit; if the envelope itself is an error, report that.
            if let Ok(envelope) = serde_json::from_slice::<Envelope<IgnoredAny>>(body) {
                if envelope.reports_error() || !status.is_success() {
                    return Err(envelope_error(status, &envelope, what));
                }
            } else if !status.is_success() {
                return Err(Error::Server {
                    status,
                    code: None,
                    message: auth_core::response::snippet(body),
                });
            }
            Err(Error::InvalidResponse {
                status,
                reason: parse_error.to_string(),
            })
        }
    }
}

/// The `data` of a parsed envelope, or the error it reports.
fn data_of<D>(
    response: &HttpResponse,
    body: &[u8],
    envelope: Envelope<D>,
    what: &str,
) -> Result<D, Error> {
    let status = response.status();
    if envelope.reports_error() || !status.is_success() {
        return Err(envelope_error(status, &envelope, what));
    }
    let foreign = envelope.status.is_none()
        && envelope.code.is_none()
        && envelope.message.is_none()
        && envelope.data.is_none();
    envelope.data.ok_or_else(|| {
        if foreign {
            // JSON, but none of the envelope's members: some other service's answer.
            Error::UnexpectedBody {
                status,
                content_type: auth_core::response::content_type(response),
                snippet: auth_core::response::snippet(body),
            }
        } else {
            Error::InvalidResponse {
                status,
                reason: "the envelope has no `data`".into(),
            }
        }
    })
}

fn envelope_error<D>(status: StatusCode, envelope: &Envelope<D>, what: &str) -> Error {
    let code = envelope.code();
    if status == StatusCode::NOT_FOUND || code == Some(404) {
        return Error::NotFound { what: what.into() };
    }
    if status == StatusCode::UNAUTHORIZED || code == Some(401) {
        return Error::Unauthorized {
            status: if status.is_success() {
                StatusCode::UNAUTHORIZED
            } else {
                status
            },
        };
    }
    if code == Some(429) {
        return Error::RateLimited { retry_after: None };
    }
    Error::Server {
        status,
        code,
        message: envelope.message(),
    }
}

fn looks_like_json_object(body: &[u8]) -> bool {
    body.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Event;
    use bytes::Bytes;

    fn response(status: u16, content_type: &str, body: &str) -> HttpResponse {
        http::Response::builder()
            .status(status)
            .header("content-type", content_type)
            .body(Bytes::from(body.to_owned()))
            .unwrap()
    }

    fn page(status: u16, body: &str) -> Result<Page<Event>, Error> {
        parse(
            &response(status, "application/json", body),
            "/v3/attend/events",
        )
    }

    #[test]
    fn any_2xx_success_envelope_is_data() {
        for status in [200, 201, 203] {
            let p = page(
                status,
                r#"{"status":"success","code":200,"data":{"total":"3","start":0,"limit":10,"startDate":"2024-05-01","endDate":"2024-05-31","entries":[{"eventId":1},{"eventId":2}]}}"#,
            )
            .unwrap();
            assert_eq!(p.total, Some(3));
            assert_eq!(p.entries.len(), 2);
            assert_eq!(p.start_date.as_deref(), Some("2024-05-01"));
        }
        let p = page(200, r#"{"data":{"entries":null}}"#).unwrap();
        assert!(p.entries.is_empty() && p.total.is_none());
    }

    #[test]
    fn error_envelopes_in_2xx_are_errors() {
        let cases = [
            (
                r#"{"status":"error","code":400,"message":"Invalid startDate"}"#,
                "Invalid startDate",
            ),
            (
                r#"{"status":"success","code":500,"data":{"entries":[]}}"#,
                "success",
            ),
            (r#"{"status":"failed","data":null}"#, "failed"),
            (
                r#"{"error":"invalid_request","error_description":"bad dates"}"#,
                "bad dates",
            ),
        ];
        for (body, want) in cases {
            match page(201, body) {
                Err(Error::Server {
                    status, message, ..
                }) => {
                    assert_eq!(status, 201);
                    assert_eq!(message, want, "{body}");
                }
                other => panic!("{body}: {other:?}"),
            }
        }
        assert!(matches!(
            page(200, r#"{"status":"error","code":404}"#),
            Err(Error::NotFound { .. })
        ));
        assert!(matches!(
            page(200, r#"{"status":"error","code":401}"#),
            Err(Error::Unauthorized { .. })
        ));
    }

    #[test]
    fn error_statuses() {
        match page(
            500,
            r#"{"status":"error","code":500,"message":"Slim Application Error"}"#,
        ) {
            Err(Error::Server {
                status,
                code,
                message,
            }) => {
                assert_eq!((status.as_u16(), code), (500, Some(500)));
                assert_eq!(message, "Slim Application Error");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            page(404, "Not Found"),
            Err(Error::NotFound { .. })
        ));
        let limited = http::Response::builder()
            .status(429)
            .header("retry-after", "7")
            .body(Bytes::new())
            .unwrap();
        assert!(matches!(
            parse::<Page<Event>>(&limited, "x"),
            Err(Error::RateLimited { retry_after: Some(d) }) if d == Duration::from_secs(7)
        ));
    }

    #[test]
    fn html_and_garbage_are_unexpected_bodies_with_snippets() {
        match parse::<Page<Event>>(
            &response(200, "text/html", "<html><body>Maintenance</body></html>"),
            "x",
        ) {
            Err(Error::UnexpectedBody {
                status,
                content_type,
                snippet,
            }) => {
                assert_eq!(status, 200);
                assert_eq!(content_type.as_deref(), Some("text/html"));
                assert!(snippet.contains("Maintenance"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            page(502, "<html>Bad Gateway</html>"),
            Err(Error::UnexpectedBody { .. })
        ));
        assert!(matches!(page(200, ""), Err(Error::UnexpectedBody { .. })));
        assert!(matches!(page(200, "[]"), Err(Error::UnexpectedBody { .. })));
    }

    #[test]
    fn a_bom_and_one_broken_string_cost_nothing_but_the_broken_text() {
        let page = "\u{FEFF}{\"status\":\"success\",\"code\":200,\"data\":{\"total\":2,\"entries\":[{\"eventId\":1,\"title\":\"Lunar \\ud83c\"},{\"eventId\":2,\"title\":\"ok\"}]}}";
        let (p, mended) =
            parse_counted::<Page<Event>>(&response(200, "application/json", page), "x").unwrap();
        assert_eq!(mended, 1);
        assert_eq!(p.entries[0].title.as_deref(), Some("Lunar \u{FFFD}"));
        assert_eq!(p.entries[1].title.as_deref(), Some("ok"));
        let mut bytes =
            br#"{"status":"success","data":{"entries":[{"eventId":1,"title":"A"#.to_vec();
        bytes.extend_from_slice(b"\xff\"}]}}");
        let raw = http::Response::builder()
            .status(200)
            .body(Bytes::from(bytes))
            .unwrap();
        let (p, mended) = parse_counted::<Page<Event>>(&raw, "x").unwrap();
        assert_eq!(
            (mended, p.entries[0].title.as_deref()),
            (1, Some("A\u{FFFD}"))
        );
        // A clean page is not searched for anything to mend.
        let (_, mended) = parse_counted::<Page<Event>>(
            &response(200, "application/json", r#"{"data":{"entries":[]}}"#),
            "x",
        )
        .unwrap();
        assert_eq!(mended, 0);
    }

    #[test]
    fn a_body_still_content_encoded_is_named_not_shown() {
        let encoded = http::Response::builder()
            .status(200)
            .header("content-encoding", "gzip")
            .body(Bytes::from_static(b"\x1f\x8b\x08\x00binary"))
            .unwrap();
        match parse::<Page<Event>>(&encoded, "x") {
            Err(Error::InvalidResponse { reason, .. }) => {
                assert!(reason.contains("`gzip`"), "{reason}");
                assert!(!reason.contains('\u{FFFD}'), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_redirect_is_named_with_where_it_points_never_its_query() {
        let moved = http::Response::builder()
            .status(302)
            .header(
                "location",
                "https://user:pw@new.example/v3/attend/events?token=SECRET",
            )
            .header("content-type", "application/json")
            .body(Bytes::from_static(b"{}"))
            .unwrap();
        let error = parse::<Page<Event>>(&moved, "x").unwrap_err();
        match &error {
            Error::Redirected { status, location } => {
                assert_eq!(*status, StatusCode::FOUND);
                assert_eq!(
                    location.as_deref(),
                    Some("https://new.example/v3/attend/events")
                );
            }
            other => panic!("{other:?}"),
        }
        let message = error.to_string();
        assert!(
            message.contains("redirect (HTTP 302 Found) to https://new.example"),
            "{message}"
        );
        assert!(
            !message.contains("SECRET") && !message.contains("pw"),
            "{message}"
        );
    }

    #[test]
    fn json_without_the_envelope_is_not_the_apis_answer() {
        for body in [r#"{"events":[]}"#, "{}", "\u{FEFF}<html>x</html>"] {
            assert!(
                matches!(page(200, body), Err(Error::UnexpectedBody { .. })),
                "{body}"
            );
        }
    }

    #[test]
    fn malformed_json_is_an_invalid_response() {
        for body in [
            r#"{"status":"success","code":200,"data":{"entries":[{"eventId":1},"#,
            r#"{"status":"success","code":200}"#,
            r#"{"status":"success","data":{"entries":{"a":1}}}"#,
            r#"{"status":"success","data":{"total":1}}"#,
        ] {
            assert!(
                matches!(page(200, body), Err(Error::InvalidResponse { .. })),
                "{body}"
            );
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn key() -> impl Strategy<Value = String> {
            let envelope_keys = vec![
                "status", "code", "data", "entries", "total", "start", "limit", "message", "error",
            ];
            prop_oneof![
                prop::sample::select(Event::FIELDS).prop_map(String::from),
                prop::sample::select(envelope_keys).prop_map(String::from),
                "[a-zA-Z]{1,6}",
            ]
        }

        fn json() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                any::<u64>().prop_map(Value::from),
                any::<f64>().prop_map(
                    |f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
                ),
                "[ -~]{0,12}".prop_map(Value::String),
                "[0-9]{1,20}".prop_map(Value::String),
                prop::sample::select(vec![
                    "2024-05-01 10:00:00",
                    "2016-11-31 09:00:00",
                    "true",
                    "False",
                    "",
                    "success",
                    "error"
                ])
                .prop_map(Value::from),
            ];
            leaf.prop_recursive(4, 48, 8, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                    prop::collection::vec((key(), inner), 0..8)
                        .prop_map(|members| Value::Object(members.into_iter().collect())),
                ]
            })
        }

        fn bytes_response(status: u16, body: Vec<u8>) -> HttpResponse {
            http::Response::builder()
                .status(status)
                .body(Bytes::from(body))
                .unwrap()
        }

        proptest! {
            #[test]
            fn envelope_parser_never_panics_on_bytes(
                body in prop::collection::vec(any::<u8>(), 0..400),
                status in 200u16..600,
            ) {
                let _ = parse::<Page<Event>>(&bytes_response(status, body), "x");
            }

            #[test]
            fn envelope_parser_never_panics_on_json(
                value in json(),
                status in prop::sample::select(vec![200u16, 201, 204, 401, 404, 429, 500, 503]),
            ) {
                let body = serde_json::to_vec(&value).unwrap();
                let _ = parse::<Page<Event>>(&bytes_response(status, body.clone()), "x");
                let _ = parse::<Event>(&bytes_response(status, body), "x");
            }

            #[test]
            fn pages_of_arbitrary_entries_never_panic(
                entries in prop::collection::vec(json(), 0..6),
                total in json(),
            ) {
                let body = serde_json::json!({
                    "status": "success", "code": 200,
                    "data": {"total": total, "start": 0, "limit": 10, "entries": entries},
                });
                let _ = parse::<Page<Event>>(&bytes_response(201, serde_json::to_vec(&body).unwrap()), "x");
            }

            #[test]
            fn event_parser_never_panics_and_its_output_is_stable(value in json()) {
                let text = serde_json::to_vec(&value).unwrap();
                if let Ok(event) = serde_json::from_slice::<Event>(&text) {
                    let once = serde_json::to_value(&event).unwrap();
                    let again: Event = serde_json::from_value(once.clone()).unwrap();
                    prop_assert_eq!(serde_json::to_value(&again).unwrap(), once);
                }
            }
        }
    }
}
