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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use auth_core::transport::{HttpRequest, HttpResponse, TransportError, from_fn};

    use super::*;

    const TOKEN: &str = "SECRET-PULL-TOKEN-81c2";
    const FIXTURE: &str = include_str!("../tests/fixtures/known_schema_introspection.json");

    type Seen = Arc<Mutex<Vec<HttpRequest>>>;

    /// Runs a pull against a fake server answering `status`, `content_type`, `body`.
    fn pull_from(
        endpoint: &str,
        token: Option<&str>,
        status: u16,
        content_type: &str,
        body: &str,
    ) -> (Result<String, Error>, Seen) {
        let seen: Seen = Arc::default();
        let recorder = Arc::clone(&seen);
        let body = body.to_owned();
        let content_type = content_type.to_owned();
        let transport = from_fn(move |request: HttpRequest| {
            recorder.lock().unwrap().push(request);
            let response: Result<HttpResponse, TransportError> = Ok(http::Response::builder()
                .status(status)
                .header("content-type", content_type.as_str())
                .body(Bytes::from(body.clone()))
                .unwrap());
            async move { response }
        });
        let endpoint = Url::parse(endpoint).unwrap();
        let token = token.map(AccessToken::new);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let result = runtime.block_on(pull(&transport, &endpoint, token.as_ref()));
        (result, seen)
    }

    #[test]
    fn pull_posts_the_introspection_query_with_the_token_and_writes_sdl() {
        let (sdl, seen) = pull_from(
            "https://api.attendium.test/graphql?x=1",
            Some(TOKEN),
            200,
            "application/json",
            FIXTURE,
        );
        let sdl = sdl.unwrap();
        assert!(sdl.starts_with(
            "# The Attendium GraphQL schema as https://api.attendium.test/graphql reports it"
        ));
        assert!(sdl.contains("type Query {\n  \"The signed-in user.\"\n  me: User\n}\n"));

        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        let request = &seen[0];
        assert_eq!(request.method(), http::Method::POST);
        assert_eq!(
            request.headers()["authorization"],
            format!("Bearer {TOKEN}").as_str()
        );
        assert_eq!(request.headers()["content-type"], "application/json");
        let body: Value = serde_json::from_slice(request.body()).unwrap();
        assert_eq!(body["query"], INTROSPECTION_QUERY);
        assert_eq!(body["operationName"], "IntrospectionQuery");
        assert_eq!(RequestOptions::of(request).timeout, Some(TIMEOUT));
    }

    #[test]
    fn a_token_goes_only_to_https_or_loopback() {
        let (result, seen) = pull_from(
            "http://api.attendium.test/graphql",
            Some(TOKEN),
            200,
            "application/json",
            FIXTURE,
        );
        let err = result.unwrap_err().to_string();
        assert!(err.contains("refusing to send credentials"), "{err}");
        assert!(seen.lock().unwrap().is_empty());

        let (result, _) = pull_from(
            "http://127.0.0.1:8080/graphql",
            Some(TOKEN),
            200,
            "application/json",
            FIXTURE,
        );
        result.unwrap();

        // No token, nothing to protect: anonymous introspection may go anywhere.
        let (result, seen) = pull_from(
            "http://api.attendium.test/graphql",
            None,
            200,
            "application/json",
            FIXTURE,
        );
        result.unwrap();
        assert!(
            seen.lock().unwrap()[0]
                .headers()
                .get("authorization")
                .is_none()
        );

        let (result, _) = pull_from("ftp://127.0.0.1/graphql", None, 200, "", FIXTURE);
        assert!(result.unwrap_err().to_string().contains("http or https"));
    }

    #[test]
    fn refusals_are_explained_without_the_token() {
        let echo = format!("Authorization: Bearer {TOKEN}");
        let cases = [
            (401, "application/json", "{}".to_owned(), "rejected the token (HTTP 401)"),
            (
                502,
                "text/html",
                format!("<html>Bad Gateway {echo}</html>"),
                "HTTP 502 Bad Gateway: the answer is not JSON: <html>Bad Gateway",
            ),
            (
                200,
                "application/json",
                serde_json::json!({"errors": [{"message": format!("introspection disabled {echo}")}]}).to_string(),
                "refused the introspection query: introspection disabled",
            ),
            (
                200,
                "application/json",
                r#"{"data": {"me": {"id": "1"}}}"#.to_owned(),
                "no introspection result",
            ),
        ];
        for (status, content_type, body, expected) in cases {
            let (result, _) = pull_from(
                "https://api.attendium.test/graphql",
                Some(TOKEN),
                status,
                content_type,
                &body,
            );
            let err = result.unwrap_err();
            for text in [err.to_string(), format!("{err:?}")] {
                assert!(text.contains(expected), "{status}: {text}");
                assert!(!text.contains(TOKEN), "{status}: {text}");
            }
        }
    }

    #[test]
    fn write_creates_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("new/schema.graphql");
        write(&out, "type Query { a: Int }\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(out).unwrap(),
            "type Query { a: Int }\n"
        );
    }
}
