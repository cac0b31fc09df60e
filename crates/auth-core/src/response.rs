//! Reading server answers defensively: status, content type, JSON shape, and short,
//! credential-free snippets of bodies for error messages.

use serde_json::{Map, Value};

use crate::Error;
use crate::oauth_error::OAuthError;
use crate::transport::HttpResponse;

/// How many characters of a body an error message shows.
pub const SNIPPET_CHARS: usize = 200;

/// Names whose values are masked in snippets, wherever they appear as `name=value`,
/// `"name": "value"` or `name: value`. After `authorization` the credential that follows
/// the scheme is masked too (`Authorization: Bearer ***`).
const SECRET_KEYS: &[&str] = &[
    "authorization",
    "bearer",
    "client_assertion",
    "assertion",
    "device_code",
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "code_verifier",
    "registration_access_token",
    "password",
    "code",
    "state",
    "token",
];

/// The start of `body` as text fit for an error message: invalid UTF-8 replaced, control
/// characters and runs of white space folded to one space, the values of credential-like
/// keys masked, and cut to [`SNIPPET_CHARS`] characters.
///
/// ```
/// let s = auth_core::response::snippet(b"<html>\n  <b>Bad</b> access_token=abc123&x=1</html>");
/// assert_eq!(s, "<html> <b>Bad</b> access_token=*** &x=1</html>");
/// ```
pub fn snippet(body: &[u8]) -> String {
    // Look at a little more than we show, so a key cut at the edge is still masked.
    let head = &body[..body.len().min(SNIPPET_CHARS * 4)];
    let text = String::from_utf8_lossy(head);
    clean_masked_text(&text, SNIPPET_CHARS)
}

/// Folds white space and strips control characters, then cuts to `max` characters.
pub(crate) fn clean_text(text: &str, max: usize) -> String {
    truncate_chars(&fold_whitespace(text), max)
}

/// As [`clean_text`], with the values of credential-like keys masked as in [`snippet`]:
/// for server-written text such as an `error_description`, which may echo what the
/// client submitted.
pub(crate) fn clean_masked_text(text: &str, max: usize) -> String {
    truncate_chars(&mask_secrets(&fold_whitespace(text)), max)
}

fn fold_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_whitespace() || c.is_control() {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    out
}

fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// Replaces the value after any credential-like key with `***`.
pub(crate) fn mask_secrets(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let Some(key) = SECRET_KEYS.iter().find(|key| {
            lower.as_bytes()[i..].starts_with(key.as_bytes())
                && (i == 0 || !is_word_byte(bytes[i - 1]))
                && !bytes.get(i + key.len()).is_some_and(|b| is_word_byte(*b))
        }) else {
            i += 1;
            continue;
        };
        // After the key: optional closing quote, spaces, then `=` or `:`.
        let mut j = i + key.len();
        while j < bytes.len() && matches!(bytes[j], b'"' | b'\'' | b' ') {
            j += 1;
        }
        if j >= bytes.len() || !matches!(bytes[j], b'=' | b':') {
            i += key.len();
            continue;
        }
        j += 1;
        while j < bytes.len() && matches!(bytes[j], b'"' | b'\'' | b' ') {
            j += 1;
        }
        let is_value_byte = |b: u8| !matches!(b, b'"' | b'\'' | b'&' | b',' | b' ' | b'}' | b'<');
        let mut value_start = j;
        while j < bytes.len() && is_value_byte(bytes[j]) {
            j += 1;
        }
        // `Authorization: Bearer <token>`: the value is a scheme and the credential
        // follows after one space. Keep the scheme, mask the credential.
        if *key == "authorization"
            && j > value_start
            && bytes.get(j) == Some(&b' ')
            && bytes.get(j + 1).is_some_and(|b| is_value_byte(*b))
        {
            j += 1;
            value_start = j;
            while j < bytes.len() && is_value_byte(bytes[j]) {
                j += 1;
            }
        }
        if j > value_start {
            out.push_str(&text[copied..value_start]);
            // A space keeps the mask apart from what follows, unless one is there already.
            out.push_str(if bytes.get(j) == Some(&b' ') {
                "***"
            } else {
                "*** "
            });
            copied = j;
        }
        i = j.max(i + 1);
    }
    out.push_str(&text[copied..]);
    out
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The response's `Content-Type` as text, if present and readable.
pub fn content_type(response: &HttpResponse) -> Option<String> {
    response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|s| clean_text(s, 100))
}

/// The error for a body that is not what was expected. Successful answers get no
/// snippet: their bodies may hold tokens.
pub fn unexpected(response: &HttpResponse) -> Error {
    let status = response.status();
    Error::UnexpectedResponse {
        status,
        content_type: content_type(response),
        snippet: if status.is_success() {
            String::new()
        } else {
            snippet(response.body())
        },
    }
}

/// `body` without a leading UTF-8 byte-order mark (`EF BB BF`), which RFC 8259 §8.1 lets
/// a JSON parser ignore and which some servers put before their answers.
///
/// ```
/// assert_eq!(auth_core::response::strip_bom(b"\xEF\xBB\xBF{}"), b"{}");
/// assert_eq!(auth_core::response::strip_bom(b"{}"), b"{}");
/// ```
pub fn strip_bom(body: &[u8]) -> &[u8] {
    body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body)
}

/// Reads the JSON object answered by an OAuth endpoint (token, registration, discovery,
/// revocation).
///
/// - A success status with a JSON object body: the object. (The content type is not
///   required to be `application/json`: servers get it wrong, the body decides.) A
///   leading byte-order mark is skipped (RFC 8259 §8.1).
/// - An error status whose body is an RFC 6749 §5.2 error: [`Error::OAuth`].
/// - Anything else (HTML, text, a JSON array, an empty body):
///   [`Error::UnexpectedResponse`] with the status and a masked snippet.
pub fn oauth_json(response: &HttpResponse) -> Result<Map<String, Value>, Error> {
    let status = response.status();
    let parsed = serde_json::from_slice::<Value>(strip_bom(response.body())).ok();
    match parsed {
        Some(Value::Object(map)) if status.is_success() => Ok(map),
        Some(Value::Object(map)) if status.is_client_error() || status.is_server_error() => {
            match OAuthError::from_json(&map, Some(status)) {
                Some(err) => Err(Error::OAuth(err)),
                None => Err(unexpected(response)),
            }
        }
        _ => Err(unexpected(response)),
    }
}

/// A string member; absent and `null` are `None`; any other type is an error naming the
/// field (never its value).
pub(crate) fn opt_str(map: &Map<String, Value>, key: &str) -> Result<Option<String>, Error> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(Error::invalid_response(format!(
            "`{key}` should be a string, found {}",
            json_type(other)
        ))),
    }
}

/// A required string member.
pub(crate) fn req_str(map: &Map<String, Value>, key: &str) -> Result<String, Error> {
    opt_str(map, key)?.ok_or_else(|| Error::invalid_response(format!("`{key}` is missing")))
}

/// A member that may be a string or an array of strings (`null` and absent are empty).
pub(crate) fn str_list(map: &Map<String, Value>, key: &str) -> Result<Vec<String>, Error> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(Error::invalid_response(format!(
                    "`{key}` should hold strings, found {}",
                    json_type(other)
                ))),
            })
            .collect(),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(other) => Err(Error::invalid_response(format!(
            "`{key}` should be an array of strings, found {}",
            json_type(other)
        ))),
    }
}

/// A number of seconds given as a JSON number or a string of digits (servers do both).
/// Negative numbers count as zero; fractions are dropped.
pub(crate) fn opt_seconds(map: &Map<String, Value>, key: &str) -> Result<Option<u64>, Error> {
    let invalid = || Error::invalid_response(format!("`{key}` should be a number of seconds"));
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            if let Some(v) = n.as_u64() {
                Ok(Some(v))
            } else if n.as_i64().is_some() {
                Ok(Some(0))
            } else {
                let f = n.as_f64().ok_or_else(invalid)?;
                Ok(Some(if f.is_finite() && f > 0.0 {
                    f.min(u64::MAX as f64) as u64
                } else {
                    0
                }))
            }
        }
        Some(Value::String(s)) => {
            let s = s.trim();
            if s.is_empty() {
                return Ok(None);
            }
            if let Ok(v) = s.parse::<u64>() {
                Ok(Some(v))
            } else if s.parse::<i64>().is_ok() {
                Ok(Some(0))
            } else {
                Err(invalid())
            }
        }
        Some(_) => Err(invalid()),
    }
}

pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn response(status: u16, ct: &str, body: &str) -> HttpResponse {
        http::Response::builder()
            .status(status)
            .header("content-type", ct)
            .body(Bytes::from(body.to_owned()))
            .unwrap()
    }

    #[test]
    fn snippet_masks_credentials_in_any_syntax() {
        for body in [
            r#"{"access_token":"SECRET1","token_type":"bearer"}"#,
            "access_token=SECRET1&token_type=bearer",
            "refresh_token: SECRET1",
            r#"{"client_secret" : "SECRET1"}"#,
            "<p>code=SECRET1</p>",
            "CODE=SECRET1",
        ] {
            let s = snippet(body.as_bytes());
            assert!(!s.contains("SECRET1"), "{body} -> {s}");
            assert!(s.contains("***"), "{body} -> {s}");
        }
        // Words merely containing a key are left alone.
        assert_eq!(snippet(b"bearer-ish"), "bearer-ish");
        assert_eq!(snippet(b"encoded: yes"), "encoded: yes");
        assert_eq!(snippet(b"a token"), "a token");
    }

    #[test]
    fn snippet_masks_assertions_device_codes_and_authorization_headers() {
        for (body, expected) in [
            (
                "Authorization: Bearer SECRET1 was rejected",
                "Authorization: Bearer *** was rejected",
            ),
            (
                "authorization=Basic SECRET1&x=1",
                "authorization=Basic *** &x=1",
            ),
            (
                r#"{"authorization":"SECRET1"}"#,
                r#"{"authorization":"*** "}"#,
            ),
            ("client_assertion=SECRET1&a=b", "client_assertion=*** &a=b"),
            ("assertion=SECRET1", "assertion=*** "),
            (
                r#"{"device_code": "SECRET1"}"#,
                r#"{"device_code": "*** "}"#,
            ),
            ("bearer: SECRET1", "bearer: *** "),
        ] {
            let s = snippet(body.as_bytes());
            assert_eq!(s.trim_end(), expected.trim_end(), "{body}");
            assert!(!s.contains("SECRET1"), "{body} -> {s}");
        }
    }

    #[test]
    fn clean_masked_text_masks_before_cutting() {
        let text = "bad\n\tclient_secret=SECRET1 sent";
        assert_eq!(clean_masked_text(text, 300), "bad client_secret=*** sent");
        assert_eq!(clean_masked_text(text, 3), "bad…");
    }

    #[test]
    fn snippet_is_short_and_clean() {
        let long = "x".repeat(10_000);
        let s = snippet(long.as_bytes());
        assert_eq!(s.chars().count(), SNIPPET_CHARS + 1);
        assert_eq!(snippet(b"a\n\n\tb\x00c"), "a b c");
        assert_eq!(snippet(&[0xff, 0xfe, b'a']), "\u{fffd}\u{fffd}a");
    }

    #[test]
    fn oauth_json_sorts_answers() {
        assert!(oauth_json(&response(200, "application/json", r#"{"a":1}"#)).is_ok());
        // Wrong content type, right body: accepted.
        assert!(oauth_json(&response(200, "text/plain", r#"{"a":1}"#)).is_ok());
        match oauth_json(&response(
            400,
            "application/json",
            r#"{"error":"invalid_client"}"#,
        )) {
            Err(Error::OAuth(e)) => assert_eq!(e.code.as_str(), "invalid_client"),
            other => panic!("{other:?}"),
        }
        match oauth_json(&response(502, "text/html", "<html>Bad Gateway</html>")) {
            Err(Error::UnexpectedResponse {
                status,
                snippet,
                content_type,
            }) => {
                assert_eq!(status, 502);
                assert_eq!(snippet, "<html>Bad Gateway</html>");
                assert_eq!(content_type.as_deref(), Some("text/html"));
            }
            other => panic!("{other:?}"),
        }
        // A success with a non-object body shows no snippet: it could hold a token.
        match oauth_json(&response(200, "text/plain", "access_token=abc")) {
            Err(Error::UnexpectedResponse { snippet, .. }) => assert!(snippet.is_empty()),
            other => panic!("{other:?}"),
        }
        assert!(oauth_json(&response(200, "application/json", "[1]")).is_err());
        assert!(oauth_json(&response(200, "application/json", "")).is_err());
    }

    #[test]
    fn seconds_are_read_leniently() {
        let map = serde_json::json!({
            "n": 3600, "s": "3600", "neg": -5, "f": 12.7, "bad": "soon", "obj": {}, "null": null, "empty": ""
        });
        let map = map.as_object().unwrap();
        assert_eq!(opt_seconds(map, "n").unwrap(), Some(3600));
        assert_eq!(opt_seconds(map, "s").unwrap(), Some(3600));
        assert_eq!(opt_seconds(map, "neg").unwrap(), Some(0));
        assert_eq!(opt_seconds(map, "f").unwrap(), Some(12));
        assert_eq!(opt_seconds(map, "null").unwrap(), None);
        assert_eq!(opt_seconds(map, "empty").unwrap(), None);
        assert_eq!(opt_seconds(map, "absent").unwrap(), None);
        assert!(opt_seconds(map, "bad").is_err());
        assert!(opt_seconds(map, "obj").is_err());
    }

    #[test]
    fn field_errors_name_the_field_not_the_value() {
        let map = serde_json::json!({"access_token": 12345678});
        let err = req_str(map.as_object().unwrap(), "access_token").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("access_token"));
        assert!(!text.contains("12345678"));
    }
}
