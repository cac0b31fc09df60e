//! `POST /graphql`: the known Attendium schema, behind a bearer token from this server.
//!
//! The schema served is exactly `schemas/attendium.graphql` (compiled in), plus what every
//! GraphQL server has: the built-in scalars and directives and the introspection types,
//! so that a standard introspection query (`cargo xtask schema pull`) reads it back.
//! Requests follow GraphQL over HTTP: `application/json` bodies with `query`,
//! `variables` and `operationName`; the answer is `application/graphql-response+json`
//! when the client accepts it (request errors then get `400`), else `application/json`
//! (request errors get `200`).

mod execute;
mod schema;

use std::sync::{Arc, OnceLock};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value, json};

use self::execute::{Injected, Outcome, Viewer};
use self::schema::{Schema, SchemaError};
use super::Inner;
use super::faults::GraphqlFault;
use super::http_util::{bad_gateway_page, has_media_type, json_response_typed};

/// The SDL `POST /graphql` serves: `schemas/attendium.graphql`, compiled in. A test fails
/// when a field of it has no resolver here, or when introspection disagrees with it.
pub const SCHEMA_SDL: &str = include_str!("../../../../../schemas/attendium.graphql");

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// The served schema, built once.
fn served_schema() -> Result<&'static Schema, &'static SchemaError> {
    static SCHEMA: OnceLock<Result<Schema, SchemaError>> = OnceLock::new();
    SCHEMA.get_or_init(|| Schema::from_sdl(SCHEMA_SDL)).as_ref()
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
    let schema = match served_schema() {
        Ok(schema) => schema,
        Err(error) => {
            return json_response_typed(
                StatusCode::INTERNAL_SERVER_ERROR,
                &errors_body(&[(&error.0, "INTERNAL_SERVER_ERROR")]),
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
    let injected = match fault {
        Some(GraphqlFault::Errors) => Injected::RootError,
        Some(GraphqlFault::PartialData) => Injected::PartialData,
        _ => Injected::Nothing,
    };
    let outcome = execute::run(
        schema,
        &Viewer { user_id: &user_id },
        &request.query,
        request.operation_name.as_deref(),
        &request.variables,
        injected,
    );
    match outcome {
        Outcome::Rejected(errors) => {
            let status = if media_type == GRAPHQL_RESPONSE_JSON {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            };
            let errors: Vec<Value> = errors.iter().map(|e| e.to_json()).collect();
            json_response_typed(status, &json!({ "errors": errors }), media_type)
        }
        Outcome::Executed { data, errors } => {
            let mut body = Map::new();
            if !errors.is_empty() {
                let errors = errors.iter().map(|e| e.to_json()).collect();
                body.insert("errors".into(), Value::Array(errors));
            }
            body.insert("data".into(), data);
            json_response_typed(StatusCode::OK, &Value::Object(body), media_type)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attendium::graphql::schema::{Kind, TypeRef};

    #[test]
    fn the_served_sdl_builds() {
        let schema = served_schema().unwrap();
        assert!(schema.get(&schema.query_type).is_some());
        assert!(schema.field(&schema.query_type, "me").is_some());
    }

    /// A selection of every field reachable from `type_name`, a few levels deep.
    fn select_everything(schema: &Schema, type_name: &str, depth: usize) -> String {
        let Some(def) = schema.get(type_name) else {
            return String::new();
        };
        let mut parts = vec!["__typename".to_owned()];
        for field in &def.fields {
            let required_args = field
                .args
                .iter()
                .any(|a| a.ty.is_non_null() && a.default_value.is_none());
            assert!(
                !required_args,
                "{type_name}.{} takes required arguments: teach this test which values to pass",
                field.name
            );
            let composite = schema
                .get(field.ty.named())
                .is_some_and(|t| t.kind.is_composite());
            if !composite {
                parts.push(field.name.clone());
            } else if depth > 0 {
                let inner = select_everything(schema, field.ty.named(), depth - 1);
                parts.push(format!("{} {{ {inner} }}", field.name));
            }
        }
        parts.join(" ")
    }

    /// The sandbox has a resolver for every field the SDL in `schemas/` declares: if the
    /// SDL grows, this fails until the sandbox learns to answer the new fields.
    #[test]
    fn every_field_of_the_served_sdl_resolves() {
        let schema = served_schema().unwrap();
        let query = format!("{{ {} }}", select_everything(schema, &schema.query_type, 4));
        let outcome = execute::run(
            schema,
            &Viewer { user_id: "u-1" },
            &query,
            None,
            &Map::new(),
            Injected::Nothing,
        );
        match outcome {
            Outcome::Executed { data, errors } => {
                assert!(errors.is_empty(), "{query}: {errors:?}");
                assert_eq!(data["me"]["id"], "u-1");
            }
            Outcome::Rejected(errors) => panic!("{query}: {errors:?}"),
        }
    }

    #[test]
    fn the_known_schema_is_the_one_described() {
        // The fact sheet: `Query.me` returns the signed-in user, with `id: ID!`.
        let schema = served_schema().unwrap();
        let me = schema.field(&schema.query_type, "me").unwrap();
        let user = schema.get(me.ty.named()).unwrap();
        assert_eq!(user.kind, Kind::Object);
        let id = user.field("id").unwrap();
        assert_eq!(
            id.ty,
            TypeRef::NonNull(Box::new(TypeRef::Named("ID".to_owned())))
        );
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
