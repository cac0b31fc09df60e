//! RFC 7591 dynamic registration of public clients.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};
use url::{Host, Url};

use super::Inner;
use super::config::RegistrationStatus;
use super::faults::OAuthEndpoint;
use super::http_util::{endpoint_fault_response, has_media_type, json_response, oauth_error};

/// The grant types this server supports, given to clients that name none.
pub(crate) fn default_grant_types() -> Vec<String> {
    vec!["authorization_code".to_owned(), "refresh_token".to_owned()]
}

/// The Attendium rule: `https`, or `http` on a loopback host (`localhost`, `127.0.0.1`,
/// `::1`); absolute, without fragment (RFC 6749 §3.1.2).
pub(crate) fn redirect_uri_acceptable(uri: &str) -> bool {
    let Ok(url) = Url::parse(uri) else {
        return false;
    };
    if url.fragment().is_some() || url.cannot_be_a_base() {
        return false;
    }
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => is_loopback_host(&url),
        _ => false,
    }
}

/// `localhost`, or a loopback IP literal.
pub(crate) fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// A refused registration (RFC 7591 §3.2.2).
struct Refusal {
    error: &'static str,
    description: String,
}

fn invalid_metadata(description: impl Into<String>) -> Refusal {
    Refusal {
        error: "invalid_client_metadata",
        description: description.into(),
    }
}

/// What a valid request asks for.
struct Request {
    client_name: Option<String>,
    redirect_uris: Vec<String>,
    grant_types: Vec<String>,
}

fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Request, Refusal> {
    if !has_media_type(headers, "application/json") {
        return Err(invalid_metadata(
            "registration requests are application/json (RFC 7591 §3.1)",
        ));
    }
    let Ok(Value::Object(metadata)) = serde_json::from_slice::<Value>(body) else {
        return Err(invalid_metadata("the body is not a JSON object"));
    };
    let redirect_uris = redirect_uris(&metadata)?;
    let grant_types = match string_array(&metadata, "grant_types")? {
        None => default_grant_types(),
        Some(types) => {
            if let Some(other) = types
                .iter()
                .find(|t| !matches!(t.as_str(), "authorization_code" | "refresh_token"))
            {
                return Err(invalid_metadata(format!(
                    "grant type `{other}` is not supported"
                )));
            }
            if !types.iter().any(|t| t == "authorization_code") {
                return Err(invalid_metadata(
                    "grant_types must include authorization_code",
                ));
            }
            types
        }
    };
    if let Some(types) = string_array(&metadata, "response_types")?
        && types.iter().any(|t| t != "code")
    {
        return Err(invalid_metadata(
            "only the `code` response type is supported",
        ));
    }
    match metadata.get("token_endpoint_auth_method") {
        None => {}
        Some(Value::String(method)) if method == "none" => {}
        Some(_) => {
            return Err(invalid_metadata(
                "only public clients (token_endpoint_auth_method `none`) can register",
            ));
        }
    }
    let client_name = match metadata.get("client_name") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(name.clone()),
        Some(_) => return Err(invalid_metadata("client_name must be a string")),
    };
    Ok(Request {
        client_name,
        redirect_uris,
        grant_types,
    })
}

fn redirect_uris(metadata: &Map<String, Value>) -> Result<Vec<String>, Refusal> {
    let invalid = |description: &str| Refusal {
        error: "invalid_redirect_uri",
        description: description.to_owned(),
    };
    let uris = match string_array(metadata, "redirect_uris") {
        Ok(Some(uris)) if !uris.is_empty() => uris,
        Ok(_) => {
            return Err(invalid(
                "redirect_uris is required for the authorization_code grant",
            ));
        }
        Err(_) => return Err(invalid("redirect_uris must be an array of strings")),
    };
    if uris.iter().all(|uri| redirect_uri_acceptable(uri)) {
        Ok(uris)
    } else {
        Err(invalid(
            "redirect URIs must be absolute https URIs, or http on localhost, 127.0.0.1 or ::1, without fragment",
        ))
    }
}

fn string_array(metadata: &Map<String, Value>, name: &str) -> Result<Option<Vec<String>>, Refusal> {
    match metadata.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| invalid_metadata(format!("{name} must be an array of strings"))),
        Some(_) => Err(invalid_metadata(format!(
            "{name} must be an array of strings"
        ))),
    }
}

/// `POST /oauth2/register`.
pub(crate) async fn register(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(fault) = inner.endpoint_fault(OAuthEndpoint::Registration) {
        return endpoint_fault_response(fault);
    }
    let request = match parse(&headers, &body) {
        Ok(request) => request,
        Err(refusal) => {
            return oauth_error(StatusCode::BAD_REQUEST, refusal.error, &refusal.description);
        }
    };
    let issued_at = inner
        .now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (client, status) = {
        let mut state = inner.lock();
        let status = match state.quirks.registration_status {
            RegistrationStatus::Ok => StatusCode::OK,
            // RFC 7591 §3.2.1. (`RegistrationStatus` is non-exhaustive only for other crates.)
            RegistrationStatus::Created => StatusCode::CREATED,
        };
        match state.register(
            request.client_name,
            request.redirect_uris,
            request.grant_types,
        ) {
            Ok(client) => {
                state.counters.registrations += 1;
                (client, status)
            }
            Err(_) => {
                return oauth_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "no randomness available",
                );
            }
        }
    };
    let mut body = json!({
        "client_id": client.client_id,
        "client_id_issued_at": issued_at,
        "redirect_uris": client.redirect_uris,
        "grant_types": client.grant_types,
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    });
    if let (Some(name), Some(object)) = (client.client_name, body.as_object_mut()) {
        object.insert("client_name".to_owned(), Value::String(name));
    }
    json_response(status, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uri_rule_is_https_or_loopback_http() {
        let cases = [
            ("https://app.example/cb", true),
            ("http://127.0.0.1:8080/cb", true),
            ("http://127.0.0.1/cb", true),
            ("http://[::1]:9000/cb", true),
            ("http://localhost:1234/cb", true),
            ("http://example.com/cb", false),
            ("http://127.0.0.1.nip.io/cb", false),
            ("https://app.example/cb#frag", false),
            ("com.example.app:/cb", false),
            ("not a url", false),
            ("ftp://127.0.0.1/cb", false),
        ];
        for (uri, ok) in cases {
            assert_eq!(redirect_uri_acceptable(uri), ok, "{uri}");
        }
    }

    fn json_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        );
        headers
    }

    #[test]
    fn registration_refusals_name_the_rfc7591_error() {
        let cases = [
            (r#"{"client_name":"x"}"#, "invalid_redirect_uri"),
            (r#"{"redirect_uris":[]}"#, "invalid_redirect_uri"),
            (
                r#"{"redirect_uris":"http://127.0.0.1/cb"}"#,
                "invalid_redirect_uri",
            ),
            (
                r#"{"redirect_uris":["http://evil.example/cb"]}"#,
                "invalid_redirect_uri",
            ),
            (
                r#"{"redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"client_secret_basic"}"#,
                "invalid_client_metadata",
            ),
            (
                r#"{"redirect_uris":["http://127.0.0.1/cb"],"grant_types":["client_credentials"]}"#,
                "invalid_client_metadata",
            ),
            (
                r#"{"redirect_uris":["http://127.0.0.1/cb"],"response_types":["token"]}"#,
                "invalid_client_metadata",
            ),
            (r#"[1,2]"#, "invalid_client_metadata"),
            (
                r#"{"redirect_uris":["http://127.0.0.1/cb"],"client_name":7}"#,
                "invalid_client_metadata",
            ),
        ];
        for (body, expected) in cases {
            let refusal = parse(&json_headers(), body.as_bytes()).err().unwrap();
            assert_eq!(refusal.error, expected, "{body}");
        }
        let refusal = parse(&HeaderMap::new(), b"{}").err().unwrap();
        assert_eq!(refusal.error, "invalid_client_metadata");
    }

    #[test]
    fn registration_defaults_to_both_grants() {
        let request = parse(
            &json_headers(),
            br#"{"redirect_uris":["http://127.0.0.1:1/cb"],"client_name":"attend","token_endpoint_auth_method":"none"}"#,
        )
        .ok()
        .unwrap();
        assert_eq!(request.grant_types, default_grant_types());
        assert_eq!(request.client_name.as_deref(), Some("attend"));
    }
}
