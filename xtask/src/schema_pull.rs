//! `cargo xtask schema pull`: the standard introspection query, answered as SDL.

use std::path::Path;
use std::time::Duration;

use auth_core::AccessToken;
use auth_core::secure_url::{display_url, ensure_secure};
use auth_core::token::{TokenType, authorization_header};
use auth_core::transport::{HttpTransport, RequestOptions};
use bytes::Bytes;
use serde_json::{Value, json};
use url::Url;

use crate::error::Error;
use crate::introspection::{INTROSPECTION_QUERY, to_sdl};

/// Introspection of a large schema is a big answer; give it more time than a query.
const TIMEOUT: Duration = Duration::from_secs(60);

/// The comment block at the top of a pulled schema: where it came from and what to do next.
pub(crate) fn header(endpoint: &Url) -> String {
    format!(
        "# The Attendium GraphQL schema as {} reports it through introspection.\n\
         # Written by `cargo xtask schema pull`; after changing it or schemas/operations/,\n\
         # run `cargo xtask codegen`.\n\n",
        display_url(endpoint)
    )
}

/// Sends the introspection query to `endpoint` (with `token` as a bearer token, if any)
/// and returns the schema as SDL.
///
/// A token is sent only over `https` or to a loopback address. Without a token the request
/// goes anywhere: some servers allow anonymous introspection.
pub(crate) async fn pull(
    transport: &dyn HttpTransport,
    endpoint: &Url,
    token: Option<&AccessToken>,
) -> Result<String, Error> {
    let shown = display_url(endpoint);
    let fail = |reason: String| Error::Pull {
        endpoint: shown.clone(),
        reason,
    };
    if !matches!(endpoint.scheme(), "http" | "https") {
        return Err(fail("the endpoint must be an http or https URL".to_owned()));
    }

    let body = json!({ "query": INTROSPECTION_QUERY, "operationName": "IntrospectionQuery" });
    let mut request = http::Request::post(endpoint.as_str())
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(
            http::header::ACCEPT,
            "application/graphql-response+json, application/json",
        )
        .body(Bytes::from(body.to_string()))
        .map_err(|e| fail(format!("cannot build the request: {e}")))?;
    if let Some(token) = token {
        ensure_secure(endpoint).map_err(|e| fail(e.to_string()))?;
        let value =
            authorization_header(&TokenType::Bearer, token).map_err(|e| fail(e.to_string()))?;
        request
            .headers_mut()
            .insert(http::header::AUTHORIZATION, value);
    }
    RequestOptions::default()
        .with_timeout(TIMEOUT)
        .apply(&mut request);

    let response = transport
        .send(request)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let status = response.status();
    let scrub = |text: String| match token {
        Some(t) if !t.secret().is_empty() => text.replace(t.secret(), "***"),
        _ => text,
    };
    let snippet = || scrub(auth_core::response::snippet(response.body()));

    if status == http::StatusCode::UNAUTHORIZED {
        return Err(fail(if token.is_some() {
            "the endpoint rejected the token (HTTP 401): pass a valid one with --token or ATTENDIUM_TOKEN".to_owned()
        } else {
            "the endpoint wants a token (HTTP 401): pass one with --token or ATTENDIUM_TOKEN"
                .to_owned()
        }));
    }
    let json = serde_json::from_slice::<Value>(response.body()).ok();
    let Some(json) = json.filter(Value::is_object) else {
        return Err(fail(format!(
            "HTTP {status}: the answer is not JSON: {}",
            snippet()
        )));
    };
    let has_schema = json
        .get("data")
        .and_then(|d| d.get("__schema"))
        .is_some_and(Value::is_object);
    if !has_schema {
        let messages: Vec<String> = json
            .get("errors")
            .and_then(Value::as_array)
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e.get("message").and_then(Value::as_str))
                    .map(|m| scrub(auth_core::response::snippet(m.as_bytes())))
                    .collect()
            })
            .unwrap_or_default();
        return Err(fail(if messages.is_empty() {
            format!("HTTP {status}: no introspection result: {}", snippet())
        } else {
            format!(
                "HTTP {status}: the server refused the introspection query: {}",
                messages.join("; ")
            )
        }));
    }
    to_sdl(&json, &header(endpoint))
}

/// Writes `sdl` to `out`, creating its directory.
pub(crate) fn write(out: &Path, sdl: &str) -> Result<(), Error> {
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    std::fs::write(out, sdl).map_err(|e| Error::io(out, e))
}
