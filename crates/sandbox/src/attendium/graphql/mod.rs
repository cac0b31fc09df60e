//! `POST /graphql`: a GraphQL schema behind a bearer token from this server.
//!
//! The schema served is `schemas/attendium.graphql` (compiled in), or the SDL given to
//! [`AttendiumConfig::schema_sdl`](super::AttendiumConfig::schema_sdl), built at start-up
//! into an [`async-graphql`](async_graphql) dynamic schema. The engine parses, validates
//! (errors with `locations`), answers introspection (so `cargo xtask schema pull` reads
//! the schema back) and executes. The fields the sandbox models answer from its state
//! (`Query.me` is the signed-in user); every other field answers a deterministic sample
//! of its type, so any operation that validates gets a well-typed answer.
//!
//! Requests follow GraphQL over HTTP: `application/json` bodies with `query`,
//! `variables` and `operationName`; the answer is `application/graphql-response+json`
//! when the client accepts it (request errors then get `400`), else `application/json`
//! (request errors get `200`).

mod schema;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_graphql::Variables;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value, json};

use self::schema::RequestData;
pub(crate) use self::schema::SchemaError;
use super::Inner;
use super::faults::GraphqlFault;
use super::http_util::{bad_gateway_page, has_media_type, json_response_typed};

/// The SDL `POST /graphql` serves unless
/// [`AttendiumConfig::schema_sdl`](super::AttendiumConfig::schema_sdl) gives another:
/// `schemas/attendium.graphql`, compiled in. A test reads it back by introspection and
/// fails when the two differ.
pub const SCHEMA_SDL: &str = include_str!("../../../../../schemas/attendium.graphql");

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// The longest query accepted, in bytes. The standard introspection query is about 1.5 KB.
const MAX_QUERY_BYTES: usize = 64 * 1024;

/// The engine's schema for `sdl`.
pub(crate) fn build_schema(sdl: &str) -> Result<async_graphql::dynamic::Schema, SchemaError> {
    schema::build(sdl)
}

/// The media type of the answer, from the request's `Accept` (GraphQL over HTTP §6.2.1).
fn response_media_type(headers: &HeaderMap) -> &'static str {
    let accepts_graphql_response = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case(GRAPHQL_RESPONSE_JSON))
        });
    if accepts_graphql_response {
        GRAPHQL_RESPONSE_JSON
    } else {
        "application/json"
    }
}

fn errors_body(messages: &[(&str, &str)]) -> Value {
    let errors: Vec<Value> = messages
        .iter()
        .map(|(message, code)| json!({ "message": message, "extensions": { "code": code } }))
        .collect();
    json!({ "errors": errors })
}

/// RFC 6750 §3: `401` with a `WWW-Authenticate: Bearer` challenge.
fn unauthorized(challenge: &'static str, media_type: &str) -> Response {
    let mut response = json_response_typed(
        StatusCode::UNAUTHORIZED,
        &errors_body(&[("Authentication required", "UNAUTHENTICATED")]),
        media_type,
    );
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    response
}

const CHALLENGE_MISSING: &str = "Bearer realm=\"attendium\"";
const CHALLENGE_INVALID: &str = "Bearer realm=\"attendium\", error=\"invalid_token\", error_description=\"The access token is invalid, expired or revoked\"";

/// The token of an `Authorization: Bearer` header (scheme case-insensitive, RFC 7235 §2.1).
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// A GraphQL-over-HTTP request body.
struct GraphqlRequest {
    query: String,
    operation_name: Option<String>,
    variables: Map<String, Value>,
}

fn parse_request(body: &[u8]) -> Result<GraphqlRequest, &'static str> {
    let Ok(Value::Object(mut fields)) = serde_json::from_slice::<Value>(body) else {
        return Err("The body must be a JSON object.");
    };
    let Some(Value::String(query)) = fields.remove("query") else {
        return Err("The body must have a `query` string.");
    };
    let operation_name = match fields.remove("operationName") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(name),
        Some(_) => return Err("`operationName` must be a string."),
    };
    let variables = match fields.remove("variables") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(variables)) => variables,
        Some(_) => return Err("`variables` must be an object."),
    };
    Ok(GraphqlRequest {
        query,
        operation_name,
        variables,
    })
}

/// `POST /graphql`.
pub(crate) async fn graphql(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let media_type = response_media_type(&headers);
    let fault = inner.lock().faults.take_graphql();
    match fault {
        Some(GraphqlFault::BadGatewayHtml) => return bad_gateway_page(),
        Some(GraphqlFault::Unauthorized) => return unauthorized(CHALLENGE_INVALID, media_type),
        Some(GraphqlFault::TooManyRequests) => {
            let mut response = json_response_typed(
                StatusCode::TOO_MANY_REQUESTS,
                &errors_body(&[("Too many requests", "RATE_LIMITED")]),
                media_type,
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return response;
        }
        _ => {}
    }
    let Some(token) = bearer_token(&headers) else {
        return unauthorized(CHALLENGE_MISSING, media_type);
    };
    let now = inner.now();
    let user_id = match inner.lock().bearer_user(token, now) {
        Some(user) => user.to_owned(),
        None => return unauthorized(CHALLENGE_INVALID, media_type),
    };
    if !has_media_type(&headers, "application/json") {
        return json_response_typed(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &errors_body(&[("The body must be application/json.", "BAD_REQUEST")]),
            media_type,
        );
    }
    let request = match parse_request(&body) {
        Ok(request) => request,
        Err(message) => {
            return json_response_typed(
                StatusCode::BAD_REQUEST,
                &errors_body(&[(message, "BAD_REQUEST")]),
                media_type,
            );
        }
    };
    if fault == Some(GraphqlFault::RequestError) {
        return json_response_typed(
            StatusCode::BAD_REQUEST,
            &errors_body(&[("The request was refused", "BAD_REQUEST")]),
            media_type,
        );
    }
    if request.query.len() > MAX_QUERY_BYTES {
        return request_errors(
            vec![
                json!({ "message": format!("The query is longer than {MAX_QUERY_BYTES} bytes.") }),
            ],
            media_type,
        );
    }
    let data = RequestData::new(user_id);
    let fail_root = fault == Some(GraphqlFault::Errors);
    let fail_nullable = fault == Some(GraphqlFault::PartialData);
    data.fail_root.store(fail_root, Ordering::SeqCst);
    data.fail_nullable.store(fail_nullable, Ordering::SeqCst);
    let data = Arc::new(data);
    let mut engine_request = async_graphql::Request::new(request.query)
        .variables(Variables::from_json(Value::Object(request.variables)))
        .data(Arc::clone(&data));
    if let Some(name) = request.operation_name {
        engine_request = engine_request.operation_name(name);
    }
    let response = inner.schema.execute(engine_request).await;
    let errors: Vec<Value> = response
        .errors
        .iter()
        .map(|e| serde_json::to_value(e).unwrap_or_else(|_| json!({ "message": e.message })))
        .collect();
    // GraphQL spec §7.1.2: field errors have a `path`; errors without one, with no data,
    // refused the request before execution (syntax, validation, variables).
    let refused = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    if refused {
        return request_errors(errors, media_type);
    }
    let mut errors = errors;
    let mut data_json = serde_json::to_value(&response.data).unwrap_or(Value::Null);
    if fail_root {
        // A failed root field of a real server is typically non-null: it takes `data`
        // down with it (GraphQL spec §6.4.4).
        data_json = Value::Null;
        if data.fail_root.load(Ordering::SeqCst) {
            errors.push(json!({
                "message": "Internal server error",
                "extensions": { "code": "INTERNAL_SERVER_ERROR" },
            }));
        }
    }
    if fail_nullable && data.fail_nullable.load(Ordering::SeqCst) {
        // No nullable field to fail: the data stays whole and the error has no path.
        errors.push(json!({
            "message": "Some results may be incomplete",
            "extensions": { "code": "PARTIAL_RESULT" },
        }));
    }
    let mut body = Map::new();
    if !errors.is_empty() {
        body.insert("errors".into(), Value::Array(errors));
    }
    body.insert("data".into(), data_json);
    json_response_typed(StatusCode::OK, &Value::Object(body), media_type)
}

/// A request error: no `data` (GraphQL over HTTP §6.4.1 and §6.4.2).
fn request_errors(errors: Vec<Value>, media_type: &'static str) -> Response {
    let status = if media_type == GRAPHQL_RESPONSE_JSON {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    json_response_typed(status, &json!({ "errors": errors }), media_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_served_sdl_builds() {
        let schema = build_schema(SCHEMA_SDL).unwrap();
        let sdl = schema.sdl();
        assert!(sdl.contains("me: User"), "{sdl}");
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_needs_a_token() {
        let cases = [
            ("Bearer abc", Some("abc")),
            ("bearer abc", Some("abc")),
            ("BEARER  abc ", Some("abc")),
            ("Basic abc", None),
            ("Bearer ", None),
            ("Bearer", None),
        ];
        for (value, expected) in cases {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
            assert_eq!(bearer_token(&headers), expected, "{value}");
        }
    }

    #[test]
    fn accept_header_picks_the_media_type() {
        let cases = [
            ("application/graphql-response+json", GRAPHQL_RESPONSE_JSON),
            (
                "application/json, application/graphql-response+json;q=0.9",
                GRAPHQL_RESPONSE_JSON,
            ),
            ("application/json", "application/json"),
            ("*/*", "application/json"),
        ];
        for (accept, expected) in cases {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT, HeaderValue::from_static(accept));
            assert_eq!(response_media_type(&headers), expected, "{accept}");
        }
        assert_eq!(response_media_type(&HeaderMap::new()), "application/json");
    }

    #[test]
    fn request_bodies_are_checked() {
        assert!(
            parse_request(br#"{"query":"{ me { id } }","variables":null,"operationName":null}"#)
                .is_ok()
        );
        for body in [
            &b"[]"[..],
            b"{}",
            br#"{"query":1}"#,
            br#"{"query":"{a}","variables":[]}"#,
            b"not json",
        ] {
            assert!(
                parse_request(body).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    fn execute(schema: &async_graphql::dynamic::Schema, query: &str) -> async_graphql::Response {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let data = Arc::new(RequestData::new("u".to_owned()));
        runtime.block_on(schema.execute(async_graphql::Request::new(query).data(data)))
    }

    proptest! {
        /// Whatever the text, the engine answers (data or errors), never a panic.
        #[test]
        fn any_query_text_gets_an_answer(query in r#"[{}()\[\]:$@!.=,"a-z_0-9 \n]{0,200}"#) {
            let schema = build_schema(SCHEMA_SDL).unwrap();
            let response = execute(&schema, &query);
            prop_assert!(response.data != async_graphql::Value::Null || !response.errors.is_empty());
        }

        /// Any selection of the known fields answers the signed-in user's id.
        #[test]
        fn selections_of_me_answer_the_user(
            aliases in proptest::collection::vec("[a-z]{1,6}", 1..5),
        ) {
            let schema = build_schema(SCHEMA_SDL).unwrap();
            let selections: Vec<String> =
                aliases.iter().map(|a| format!("{a}: id")).collect();
            let response = execute(&schema, &format!("{{ me {{ {} }} }}", selections.join(" ")));
            prop_assert!(response.errors.is_empty(), "{:?}", response.errors);
            let data = serde_json::to_value(&response.data).unwrap();
            for alias in &aliases {
                prop_assert_eq!(&data["me"][alias.as_str()], "u");
            }
        }
    }
}
