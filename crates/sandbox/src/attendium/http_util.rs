//! Request parameter parsing and the response shapes every endpoint shares.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::faults::EndpointFault;

/// Form or query parameters, each present at most once.
#[derive(Default)]
pub(crate) struct Params(BTreeMap<String, String>);

/// Why a parameter set was refused; the message names parameters, never values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParamError(pub(crate) String);

impl Params {
    /// Parses `application/x-www-form-urlencoded` text. RFC 6749 §3.1: parameters must
    /// not be repeated; an empty value counts as absent.
    pub(crate) fn parse(input: &[u8]) -> Result<Self, ParamError> {
        let mut map = BTreeMap::new();
        for (name, value) in url::form_urlencoded::parse(input) {
            if value.is_empty() {
                continue;
            }
            if map.insert(name.to_string(), value.into_owned()).is_some() {
                return Err(ParamError(format!("parameter `{name}` is repeated")));
            }
        }
        Ok(Self(map))
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// `true` when the `Content-Type` is `media_type`, parameters such as `charset` aside.
pub(crate) fn has_media_type(headers: &HeaderMap, media_type: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(media_type))
}

/// A JSON response with `Cache-Control: no-store`, which RFC 6749 §5.1 requires for
/// anything carrying tokens and which does no harm elsewhere.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    json_response_typed(status, body, "application/json")
}

/// [`json_response`] with another JSON media type.
pub(crate) fn json_response_typed(status: StatusCode, body: &Value, media_type: &str) -> Response {
    // Serialising a `Value` cannot fail: its maps have string keys.
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = (status, bytes).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(media_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// An RFC 6749 §5.2 error body (also used by RFC 7591 §3.2.2 and RFC 7009 §2.2.1).
pub(crate) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut response = json_response(
        status,
        &json!({ "error": error, "error_description": description }),
    );
    if status == StatusCode::UNAUTHORIZED {
        // RFC 6749 §5.2: a 401 for invalid_client carries a WWW-Authenticate challenge.
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"attendium\""),
        );
    }
    response
}

/// An HTML page, for what a person's browser shows.
pub(crate) fn html_page(status: StatusCode, title: &str, message: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1><p>{message}</p></body></html>\n",
        title = escape_html(title),
        message = escape_html(message),
    );
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// The page a reverse proxy shows when the service behind it is down.
pub(crate) fn bad_gateway_page() -> Response {
    html_page(
        StatusCode::BAD_GATEWAY,
        "502 Bad Gateway",
        "The server received an invalid response from the upstream server.",
    )
}

/// The answer of an OAuth endpoint that was made to fail.
pub(crate) fn endpoint_fault_response(fault: EndpointFault) -> Response {
    match fault {
        EndpointFault::TemporarilyUnavailable => oauth_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "the server is temporarily unable to handle the request",
        ),
        // `EndpointFault` is non-exhaustive only for other crates.
        EndpointFault::BadGatewayHtml => bad_gateway_page(),
    }
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_refuse_repeats_and_skip_empty_values() {
        let params = Params::parse(b"a=1&b=&c=x%20y").unwrap();
        assert_eq!(params.get("a"), Some("1"));
        assert_eq!(params.get("b"), None);
        assert_eq!(params.get("c"), Some("x y"));
        let error = Params::parse(b"code=secret1&code=secret2").err().unwrap();
        assert!(error.0.contains("code"));
        assert!(!error.0.contains("secret"));
    }

    #[test]
    fn html_escapes_markup() {
        assert_eq!(
            escape_html("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn media_type_ignores_parameters_and_case() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("Application/JSON; charset=utf-8"),
        );
        assert!(has_media_type(&headers, "application/json"));
        assert!(!has_media_type(
            &headers,
            "application/x-www-form-urlencoded"
        ));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Any body parses or is refused for a repeat; what parses reads back.
        #[test]
        fn form_parsing_is_total(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(params) = Params::parse(&body) {
                for (name, value) in url::form_urlencoded::parse(&body) {
                    if !value.is_empty() {
                        prop_assert_eq!(params.get(&name), Some(value.as_ref()));
                    }
                }
            }
        }
    }
}
