//! The GraphQL client: typed operations from [`crate::generated`] and ad-hoc queries.
//!
//! Requests follow GraphQL over HTTP: a `POST` of `{"query", "variables",
//! "operationName"}` as JSON with a bearer token, accepting
//! `application/graphql-response+json` and `application/json`. The HTTP path is our own
//! (any [`HttpTransport`]); `graphql_client` only provides the generated types.
//!
//! How answers are read:
//! - `data` without `errors`: the data.
//! - `data` and `errors`: a **partial** result, returned as `Ok` with both, so the caller
//!   decides ([`Response::is_partial`], [`Response::complete`]).
//! - `errors` without `data` (or with `data: null`), whatever the status: [`Error::GraphQl`]
//!   with each error's message, path, locations and extensions.
//! - `401`: the token is invalidated ([`TokenProvider::invalidate`]) and the request sent
//!   once more with a fresh one; a second `401` is [`Error::LoginRequired`].
//! - An HTML page (a proxy's 502, a login page): [`Error::HtmlPage`]; another HTTP error
//!   without a GraphQL body: [`Error::HttpStatus`]; a success that is not a GraphQL
//!   response, or data that does not fit the generated type:
//!   [`Error::InvalidGraphQlResponse`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use auth_core::secure_url::{display_url, ensure_secure};
use auth_core::transport::{DEFAULT_TIMEOUT, HttpResponse, RequestOptions};
use auth_core::{AccessToken, HttpTransport, TokenProvider, TypedToken};
use bytes::Bytes;
use graphql_client::GraphQLQuery;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value};
use url::Url;

use crate::error::Error;

/// Rust types for the custom scalars of the schema, used by the generated code
/// (`cargo xtask codegen` points scalar `Foo` at `crate::graphql::scalars::Foo`).
///
/// The known schema has none; a pulled schema with, say, `scalar DateTime` needs a
/// `pub type DateTime = String;` (or a richer type that deserializes from it) here.
pub mod scalars {}

/// The media types a response may have, preferred first (GraphQL over HTTP §5.2).
const ACCEPT: &str = "application/graphql-response+json, application/json";

/// A GraphQL client for one endpoint, with tokens from a [`TokenProvider`].
///
/// Cheap to clone: clones share the transport and the token provider.
///
/// ```
/// use std::sync::Arc;
/// use attendium::generated::{Me, me};
/// use attendium::graphql::GraphQlClient;
/// use auth_core::{AccessToken, TokenFuture, TokenProvider};
/// use auth_core::transport::{HttpRequest, from_fn};
///
/// struct Fixed;
/// impl TokenProvider for Fixed {
///     fn token(&self) -> TokenFuture<'_> { TokenFuture::ready(Ok(AccessToken::new("t"))) }
///     fn invalidate(&self, _: &AccessToken) {}
/// }
///
/// // A stand-in server; use `http_reqwest::ReqwestTransport` for the real one.
/// let server = from_fn(|_: HttpRequest| async {
///     Ok(http::Response::new(bytes::Bytes::from(r#"{"data":{"me":{"id":"u1"}}}"#)))
/// });
/// let client = GraphQlClient::new(
///     url::Url::parse("https://api.attendium.com/graphql")?,
///     Arc::new(server),
///     Arc::new(Fixed),
/// )?;
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let response = client.query::<Me>(me::Variables).await?;
/// assert_eq!(response.data.me.as_ref().map(|m| m.id.as_str()), Some("u1"));
/// assert!(!response.is_partial());
/// # Ok::<(), attendium::Error>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct GraphQlClient {
    endpoint: Url,
    transport: Arc<dyn HttpTransport>,
    tokens: Arc<dyn TokenProvider>,
    timeout: Duration,
}

impl fmt::Debug for GraphQlClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphQlClient")
            .field("endpoint", &display_url(&self.endpoint))
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl GraphQlClient {
    /// A client for `endpoint` (for Attendium, `https://api.attendium.com/graphql`).
    ///
    /// # Errors
    ///
    /// [`Error::Auth`] with [`auth_core::Error::InsecureUrl`] when `endpoint` is neither
    /// `https` nor a loopback address: the bearer token must not travel in clear text.
    pub fn new(
        endpoint: Url,
        transport: Arc<dyn HttpTransport>,
        tokens: Arc<dyn TokenProvider>,
    ) -> Result<Self, Error> {
        ensure_secure(&endpoint)?;
        Ok(Self {
            endpoint,
            transport,
            tokens,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// Sets the time each request may take (default
    /// [`auth_core::transport::DEFAULT_TIMEOUT`]).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The endpoint requests go to.
    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// Runs a generated operation (see [`crate::generated`]).
    ///
    /// # Errors
    ///
    /// See the [module documentation](self). A partial result is not an error.
    pub async fn query<Q: GraphQLQuery>(
        &self,
        variables: Q::Variables,
    ) -> Result<Response<Q::ResponseData>, Error> {
        let body = serde_json::to_value(Q::build_query(variables)).map_err(|e| {
            Error::InvalidVariables {
                reason: e.to_string(),
            }
        })?;
        let Value::Object(mut body) = body else {
            return Err(Error::InvalidVariables {
                reason: "the request body is not a JSON object".to_owned(),
            });
        };
        // Operations without variables serialize them as `null`; leave them out instead
        // (GraphQL over HTTP §5.1: `variables` is optional, and a map when present).
        if body.get("variables").is_some_and(Value::is_null) {
            body.remove("variables");
        }
        let response = self.execute(&Value::Object(body)).await?;
        let Response {
            data,
            errors,
            extensions,
            status,
        } = response;
        match Q::ResponseData::deserialize(&data) {
            Ok(typed) => Ok(Response {
                data: typed,
                errors,
                extensions,
                status,
            }),
            // Partial data that does not fit the type (a non-null field came back null):
            // the errors say why, and the data is kept in the error.
            Err(_) if !errors.is_empty() => Err(Error::GraphQl {
                status,
                errors,
                data,
            }),
            Err(e) => Err(Error::InvalidGraphQlResponse {
                reason: format!(
                    "`data` does not match the generated type ({e}); the schema in schemas/ may be out of date"
                ),
            }),
        }
    }

    /// Runs an ad-hoc query (or mutation) given as text, with JSON variables, and returns
    /// its `data` as JSON.
    ///
    /// # Errors
    ///
    /// As for [`query`](Self::query).
    pub async fn raw(
        &self,
        query: &str,
        variables: Map<String, Value>,
    ) -> Result<Response<Value>, Error> {
        let mut body = Map::new();
        body.insert("query".to_owned(), Value::String(query.to_owned()));
        if !variables.is_empty() {
            body.insert("variables".to_owned(), Value::Object(variables));
        }
        self.execute(&Value::Object(body)).await
    }

    /// Sends `body`, replaying once after a `401` with a fresh token.
    async fn execute(&self, body: &Value) -> Result<Response<Value>, Error> {
        let body = Bytes::from(body.to_string());
        let token = self.tokens.typed_token().await?;
        let response = self.send(body.clone(), &token).await?;
        let token = token.access_token;
        if response.status() != StatusCode::UNAUTHORIZED {
            return read_response(&response, &token);
        }
        // RFC 6750 §3.1 `invalid_token`: expired or revoked. Forget it, get another, and
        // try once more; a second refusal means the session itself is no good.
        self.tokens.invalidate(&token);
        let token = self.tokens.typed_token().await?;
        let response = self.send(body, &token).await?;
        let token = token.access_token;
        if response.status() == StatusCode::UNAUTHORIZED {
            // Not invalidated again: the token is fresh, so the refusal is about the
            // session or its rights, and another refresh would not help.
            return Err(Error::LoginRequired {
                reason: Some("the GraphQL endpoint rejected a fresh access token".to_owned()),
            });
        }
        read_response(&response, &token)
    }

    async fn send(&self, body: Bytes, token: &TypedToken) -> Result<HttpResponse, Error> {
        // A token type other than Bearer (DPoP, MAC) is refused, not sent as Bearer.
        let authorization = token.bearer_header()?;
        let mut request = http::Request::post(self.endpoint.as_str())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, ACCEPT)
            .header(http::header::AUTHORIZATION, authorization)
            .body(body)
            .map_err(|_| {
                Error::Auth(auth_core::Error::InvalidConfig {
                    reason: format!(
                        "the GraphQL endpoint {} is not a valid request URI",
                        display_url(&self.endpoint)
                    ),
                })
            })?;
        RequestOptions::default()
            .with_timeout(self.timeout)
            .apply(&mut request);
        Ok(self.transport.send(request).await?)
    }
}

/// A GraphQL answer that carried data: all of it, or part of it with the errors that
/// explain what is missing.
///
/// ```
/// # fn show(response: attendium::graphql::Response<serde_json::Value>) -> Result<(), attendium::Error> {
/// if response.is_partial() {
///     for error in &response.errors {
///         eprintln!("warning: {error}");
///     }
/// }
/// let data = response.complete()?; // or insist on a complete answer
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Response<T> {
    /// The `data` member.
    pub data: T,
    /// The `errors` member: empty for a complete result.
    pub errors: Vec<GraphQlError>,
    /// The `extensions` member, if the server sent one (tracing, cost, rate limits).
    pub extensions: Option<Map<String, Value>>,
    /// The HTTP status of the answer.
    pub status: StatusCode,
}

impl<T> Response<T> {
    /// Whether some fields failed: `data` is partial and [`errors`](Self::errors) says why.
    pub fn is_partial(&self) -> bool {
        !self.errors.is_empty()
    }

    /// The data, if it is complete; [`Error::GraphQl`] with the errors if it is partial.
    ///
    /// # Errors
    ///
    /// [`Error::GraphQl`] when the response has errors.
    pub fn complete(self) -> Result<T, Error> {
        if self.errors.is_empty() {
            Ok(self.data)
        } else {
            // The caller asked for complete data only: the partial data is theirs to
            // keep by not calling this.
            Err(Error::GraphQl {
                status: self.status,
                errors: self.errors,
                data: Value::Null,
            })
        }
    }
}

/// One entry of a response's `errors` (GraphQL specification §7.1.2), read leniently:
/// missing or malformed `locations` and `path` entries are left out rather than failing
/// the whole answer.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct GraphQlError {
    /// What went wrong, as the server said it.
    pub message: String,
    /// Where in the query text.
    pub locations: Vec<Location>,
    /// Which response field failed (`["events", 3, "title"]`).
    pub path: Vec<PathSegment>,
    /// Server-specific details (often a `code`, such as `FORBIDDEN`).
    pub extensions: Map<String, Value>,
}

impl GraphQlError {
    /// `extensions.code`, the machine-readable error code many servers send.
    pub fn code(&self) -> Option<&str> {
        self.extensions.get("code").and_then(Value::as_str)
    }

    /// Reads one `errors` entry; `token` is blanked out of the message should a server
    /// echo it.
    fn from_json(value: &Value, token: &AccessToken) -> GraphQlError {
        let message = value
            .get("message")
            .and_then(Value::as_str)
            .map(|m| scrub(m, token))
            .unwrap_or_default();
        let locations = value
            .get("locations")
            .and_then(Value::as_array)
            .map(|locations| {
                locations
                    .iter()
                    .filter_map(|l| {
                        Some(Location {
                            line: l.get("line")?.as_u64()?,
                            column: l.get("column")?.as_u64()?,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let path = value
            .get("path")
            .and_then(Value::as_array)
            .map(|path| {
                path.iter()
                    .filter_map(|segment| match segment {
                        Value::String(s) => Some(PathSegment::Field(s.clone())),
                        Value::Number(n) => n.as_u64().map(PathSegment::Index),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let extensions = value
            .get("extensions")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        GraphQlError {
            message,
            locations,
            path,
            extensions,
        }
    }
}

impl fmt::Display for GraphQlError {
    /// The message (cleaned of control characters and cut short), the path and the code.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = auth_core::response::snippet(self.message.as_bytes());
        if message.is_empty() {
            f.write_str("(no message)")?;
        } else {
            f.write_str(&message)?;
        }
        if !self.path.is_empty() {
            let path: Vec<String> = self.path.iter().map(ToString::to_string).collect();
            write!(f, " (at {})", path.join("."))?;
        }
        if let Some(code) = self.code() {
            write!(f, " [{}]", auth_core::response::snippet(code.as_bytes()))?;
        }
        Ok(())
    }
}

/// A position in the query text, counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Location {
    /// The line.
    pub line: u64,
    /// The column.
    pub column: u64,
}

/// One step of an error's `path`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathSegment {
    /// A field name (or alias).
    Field(String),
    /// An index in a list.
    Index(u64),
}

impl fmt::Display for PathSegment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathSegment::Field(name) => f.write_str(name),
            PathSegment::Index(index) => write!(f, "{index}"),
        }
    }
}

/// The message of [`Error::GraphQl`]: the first error and how many more.
pub(crate) fn errors_summary(status: &StatusCode, errors: &[GraphQlError]) -> String {
    let mut out = format!("the GraphQL request failed (HTTP {status})");
    match errors {
        [] => {}
        [only] => out.push_str(&format!(": {only}")),
        [first, rest @ ..] => out.push_str(&format!(": {first} (and {} more)", rest.len())),
    }
    out
}

/// `, <content type>` when known, for error messages.
pub(crate) fn content_type_suffix(content_type: &Option<String>) -> String {
    content_type
        .as_deref()
        .map(|ct| format!(", {ct}"))
        .unwrap_or_default()
}

/// Blanks `token` out of `text`: a misconfigured proxy may echo request headers.
fn scrub(text: &str, token: &AccessToken) -> String {
    let secret = token.secret();
    if secret.is_empty() {
        text.to_owned()
    } else {
        text.replace(secret, "***")
    }
}

/// The start of a body for an error message: secrets masked, the token blanked.
fn body_snippet(body: &[u8], token: &AccessToken) -> String {
    // Blank the token before `snippet` cuts the text, so no prefix of it can survive.
    let head = &body[..body.len().min(auth_core::response::SNIPPET_CHARS * 8)];
    let text = scrub(&String::from_utf8_lossy(head), token);
    auth_core::response::snippet(text.as_bytes())
}

fn looks_like_html(content_type: Option<&str>, body: &[u8]) -> bool {
    let declared = content_type.is_some_and(|ct| {
        let ct = ct.trim_start().to_ascii_lowercase();
        ct.starts_with("text/html") || ct.starts_with("application/xhtml")
    });
    // No JSON document starts with `<`; gateways often send HTML as text/plain or with no
    // content type at all.
    declared || body.trim_ascii_start().starts_with(b"<")
}

/// Sorts an answer (other than a `401`) into data, a partial result or a typed error.
fn read_response(response: &HttpResponse, token: &AccessToken) -> Result<Response<Value>, Error> {
    let status = response.status();
    let content_type = auth_core::response::content_type(response);
    let body = response.body();

    if looks_like_html(content_type.as_deref(), body) {
        return Err(Error::HtmlPage {
            status,
            content_type,
            snippet: body_snippet(body, token),
        });
    }
    let parsed = serde_json::from_slice::<Value>(body).ok();
    let graphql = parsed
        .and_then(|v| match v {
            Value::Object(map) => Some(map),
            _ => None,
        })
        .filter(|map| map.contains_key("data") || map.contains_key("errors"));
    let Some(mut map) = graphql else {
        return Err(if status.is_success() {
            Error::InvalidGraphQlResponse {
                reason: format!(
                    "HTTP {status}{}: the body is not a GraphQL response (no `data` or `errors`)",
                    content_type_suffix(&content_type)
                ),
            }
        } else {
            Error::HttpStatus {
                status,
                content_type,
                snippet: body_snippet(body, token),
            }
        });
    };

    let errors = match map.get("errors") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(errors)) => errors
            .iter()
            .map(|e| GraphQlError::from_json(e, token))
            .collect(),
        Some(_) => {
            return Err(Error::InvalidGraphQlResponse {
                reason: format!("HTTP {status}: `errors` is not a list"),
            });
        }
    };
    let extensions = map.get("extensions").and_then(Value::as_object).cloned();
    match map.remove("data").filter(|d| !d.is_null()) {
        Some(data) => Ok(Response {
            data,
            errors,
            extensions,
            status,
        }),
        None if !errors.is_empty() => Err(Error::GraphQl {
            status,
            errors,
            data: Value::Null,
        }),
        None if status.is_success() => Err(Error::InvalidGraphQlResponse {
            reason: format!("HTTP {status}: `data` is null and there are no `errors`"),
        }),
        None => Err(Error::HttpStatus {
            status,
            content_type,
            snippet: body_snippet(body, token),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use auth_core::transport::{HttpRequest, TransportError, TransportErrorKind, from_fn};
    use serde_json::json;

    use super::*;
    use crate::generated::{Me, me};

    const SECRET: &str = "SECRET-ACCESS-TOKEN-3f9a";

    /// Hands out `tok-1`, then `tok-2` after an invalidation, and so on; counts calls.
    #[derive(Default)]
    struct FakeTokens {
        generation: AtomicUsize,
        fetched: AtomicUsize,
        invalidated: Mutex<Vec<String>>,
        fail: Option<auth_core::Error>,
        fixed: Option<String>,
    }

    impl TokenProvider for FakeTokens {
        fn token(&self) -> auth_core::TokenFuture<'_> {
            self.fetched.fetch_add(1, Ordering::SeqCst);
            let answer = if let Some(err) = &self.fail {
                Err(err.clone())
            } else if let Some(fixed) = &self.fixed {
                Ok(AccessToken::new(fixed.as_str()))
            } else {
                let n = self.generation.load(Ordering::SeqCst) + 1;
                Ok(AccessToken::new(format!("tok-{n}")))
            };
            auth_core::TokenFuture::ready(answer)
        }

        fn invalidate(&self, rejected: &AccessToken) {
            self.invalidated
                .lock()
                .unwrap()
                .push(rejected.secret().to_owned());
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A scripted server: answers in order, records every request.
    struct Script {
        answers: Mutex<VecDeque<Result<HttpResponse, TransportError>>>,
        requests: Mutex<Vec<HttpRequest>>,
    }

    fn answer(status: u16, content_type: &str, body: &str) -> Result<HttpResponse, TransportError> {
        let mut builder = http::Response::builder().status(status);
        if !content_type.is_empty() {
            builder = builder.header("content-type", content_type);
        }
        Ok(builder.body(Bytes::from(body.to_owned())).unwrap())
    }

    fn setup(
        answers: Vec<Result<HttpResponse, TransportError>>,
        tokens: FakeTokens,
    ) -> (GraphQlClient, Arc<Script>, Arc<FakeTokens>) {
        let script = Arc::new(Script {
            answers: Mutex::new(answers.into()),
            requests: Mutex::new(Vec::new()),
        });
        let tokens = Arc::new(tokens);
        let server = Arc::clone(&script);
        let transport = from_fn(move |request: HttpRequest| {
            let server = Arc::clone(&server);
            async move {
                server.requests.lock().unwrap().push(request);
                server
                    .answers
                    .lock()
                    .unwrap()
                    .pop_front()
                    .expect("the test scripted too few answers")
            }
        });
        let client = GraphQlClient::new(
            Url::parse("https://api.attendium.test/graphql").unwrap(),
            Arc::new(transport),
            Arc::clone(&tokens) as Arc<dyn TokenProvider>,
        )
        .unwrap();
        (client, script, tokens)
    }

    fn authorization(request: &HttpRequest) -> &str {
        request.headers()["authorization"].to_str().unwrap()
    }

    #[tokio::test]
    async fn typed_query_posts_json_with_bearer_accept_and_timeout() {
        let (client, script, _) = setup(
            vec![answer(
                200,
                "application/graphql-response+json",
                r#"{"data":{"me":{"id":"user-7"}}}"#,
            )],
            FakeTokens::default(),
        );
        let client = client.with_timeout(Duration::from_secs(7));
        let response = client.query::<Me>(me::Variables).await.unwrap();
        assert_eq!(response.data.me.as_ref().unwrap().id, "user-7");
        assert!(!response.is_partial());
        assert_eq!(response.status, StatusCode::OK);

        let requests = script.requests.lock().unwrap();
        assert_eq!(requests.len(), 1);
        let request = &requests[0];
        assert_eq!(request.method(), http::Method::POST);
        assert_eq!(request.uri(), "https://api.attendium.test/graphql");
        assert_eq!(authorization(request), "Bearer tok-1");
        assert_eq!(request.headers()["accept"], ACCEPT);
        assert_eq!(request.headers()["content-type"], "application/json");
        assert_eq!(
            RequestOptions::of(request).timeout,
            Some(Duration::from_secs(7))
        );
        let body: Value = serde_json::from_slice(request.body()).unwrap();
        assert_eq!(body["operationName"], "Me");
        assert_eq!(body["query"], me::QUERY);
        assert!(body.get("variables").is_none(), "{body}");
    }

    #[tokio::test]
    async fn raw_query_sends_variables_and_returns_json_data() {
        let (client, script, _) = setup(
            vec![answer(
                200,
                "application/json",
                r#"{"data":{"me":{"id":"u"}},"extensions":{"cost":3}}"#,
            )],
            FakeTokens::default(),
        );
        let mut variables = Map::new();
        variables.insert("first".to_owned(), json!(5));
        let response = client
            .raw("query($first: Int) { me { id } }", variables)
            .await
            .unwrap();
        assert_eq!(response.data, json!({"me": {"id": "u"}}));
        assert_eq!(response.extensions.unwrap()["cost"], 3);
        let requests = script.requests.lock().unwrap();
        let body: Value = serde_json::from_slice(requests[0].body()).unwrap();
        assert_eq!(body["variables"], json!({"first": 5}));
        assert_eq!(body["query"], "query($first: Int) { me { id } }");
    }

    /// What a failed call must come back as.
    #[derive(Debug)]
    enum Expect {
        GraphQl(u16, &'static str),
        Html(u16),
        Status(u16),
        Invalid,
    }

    #[tokio::test]
    async fn each_error_shape_becomes_its_typed_error() {
        let cases: &[(&str, u16, &str, &str, Expect)] = &[
            (
                "errors without data, 200 application/json",
                200,
                "application/json",
                r#"{"errors":[{"message":"Cannot query field \"nope\" on type \"User\".","locations":[{"line":1,"column":8}],"extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}]}"#,
                Expect::GraphQl(200, "Cannot query field \"nope\" on type \"User\"."),
            ),
            (
                "request error, 400 graphql-response+json",
                400,
                "application/graphql-response+json",
                r#"{"errors":[{"message":"Syntax Error: Unexpected <EOF>."}]}"#,
                Expect::GraphQl(400, "Syntax Error: Unexpected <EOF>."),
            ),
            (
                "data null with errors",
                200,
                "application/json",
                r#"{"data":null,"errors":[{"message":"boom","path":["me"]}]}"#,
                Expect::GraphQl(200, "boom"),
            ),
            (
                "forbidden with a GraphQL body",
                403,
                "application/json",
                r#"{"errors":[{"message":"forbidden"}]}"#,
                Expect::GraphQl(403, "forbidden"),
            ),
            (
                "HTML 502 from a gateway",
                502,
                "text/html",
                "<html><body><h1>502 Bad Gateway</h1></body></html>",
                Expect::Html(502),
            ),
            (
                "HTML page with status 200",
                200,
                "text/html; charset=utf-8",
                "<!DOCTYPE html><html>Sign in</html>",
                Expect::Html(200),
            ),
            (
                "HTML sent as text/plain",
                503,
                "text/plain",
                "  <html>down</html>",
                Expect::Html(503),
            ),
            (
                "plain-text 503",
                503,
                "text/plain",
                "upstream connect error",
                Expect::Status(503),
            ),
            (
                "JSON 500 that is not GraphQL",
                500,
                "application/json",
                r#"{"message":"internal"}"#,
                Expect::Status(500),
            ),
            ("empty 429", 429, "", "", Expect::Status(429)),
            (
                "JSON array with 200",
                200,
                "application/json",
                "[1,2]",
                Expect::Invalid,
            ),
            (
                "data null and no errors",
                200,
                "application/json",
                r#"{"data":null}"#,
                Expect::Invalid,
            ),
            (
                "errors not a list",
                200,
                "application/json",
                r#"{"errors":"nope"}"#,
                Expect::Invalid,
            ),
            (
                "empty body with 200",
                200,
                "application/json",
                "",
                Expect::Invalid,
            ),
        ];
        for (name, status, content_type, body, expect) in cases {
            let (client, _, _) = setup(
                vec![answer(*status, content_type, body)],
                FakeTokens::default(),
            );
            let err = client.raw("{ me { id } }", Map::new()).await.unwrap_err();
            match (expect, &err) {
                (
                    Expect::GraphQl(want_status, want_message),
                    Error::GraphQl { status, errors, .. },
                ) => {
                    assert_eq!(status.as_u16(), *want_status, "{name}");
                    assert_eq!(errors[0].message, *want_message, "{name}");
                }
                (
                    Expect::Html(want),
                    Error::HtmlPage {
                        status, snippet, ..
                    },
                ) => {
                    assert_eq!(status.as_u16(), *want, "{name}");
                    assert!(snippet.contains("html"), "{name}: {snippet}");
                }
                (Expect::Status(want), Error::HttpStatus { status, .. }) => {
                    assert_eq!(status.as_u16(), *want, "{name}");
                }
                (Expect::Invalid, Error::InvalidGraphQlResponse { .. }) => {}
                _ => panic!("{name}: expected {expect:?}, got {err:?}"),
            }
            assert!(!err.to_string().is_empty(), "{name}");
        }
    }

    #[tokio::test]
    async fn errors_carry_message_path_locations_and_extensions_as_typed_values() {
        let (client, _, _) = setup(
            vec![answer(
                200,
                "application/json",
                r#"{"errors":[
                    {"message":"not allowed","locations":[{"line":2,"column":3},{"line":"x"}],
                     "path":["events",3,"title",true],"extensions":{"code":"FORBIDDEN","retry":false}},
                    {"message":"second"},
                    {"no":"message"}
                ]}"#,
            )],
            FakeTokens::default(),
        );
        let err = client
            .raw("{ events { title } }", Map::new())
            .await
            .unwrap_err();
        let Error::GraphQl { errors, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(errors.len(), 3);
        let first = &errors[0];
        assert_eq!(first.message, "not allowed");
        assert_eq!(first.locations, vec![Location { line: 2, column: 3 }]);
        assert_eq!(
            first.path,
            vec![
                PathSegment::Field("events".into()),
                PathSegment::Index(3),
                PathSegment::Field("title".into()),
            ]
        );
        assert_eq!(first.code(), Some("FORBIDDEN"));
        assert_eq!(first.extensions["retry"], false);
        assert_eq!(
            first.to_string(),
            "not allowed (at events.3.title) [FORBIDDEN]"
        );
        assert_eq!(errors[2].message, "");
        assert_eq!(errors[2].to_string(), "(no message)");
        assert_eq!(
            err.to_string(),
            "the GraphQL request failed (HTTP 200 OK): not allowed (at events.3.title) [FORBIDDEN] (and 2 more)"
        );
    }

    #[tokio::test]
    async fn partial_data_is_returned_with_its_errors() {
        let body =
            r#"{"data":{"me":null},"errors":[{"message":"user service down","path":["me"]}]}"#;
        let (client, _, _) = setup(
            vec![
                answer(200, "application/graphql-response+json", body),
                answer(200, "application/graphql-response+json", body),
            ],
            FakeTokens::default(),
        );
        let response = client.query::<Me>(me::Variables).await.unwrap();
        assert!(response.is_partial());
        assert_eq!(response.data.me, None);
        assert_eq!(
            response.errors[0].path,
            vec![PathSegment::Field("me".into())]
        );
        match response.complete() {
            Err(Error::GraphQl { errors, .. }) => {
                assert_eq!(errors[0].message, "user service down")
            }
            other => panic!("{other:?}"),
        }

        let raw = client.raw("{ me { id } }", Map::new()).await.unwrap();
        assert!(raw.is_partial());
        assert_eq!(raw.data, json!({"me": null}));
    }

    #[tokio::test]
    async fn partial_data_that_does_not_fit_the_type_reports_the_errors() {
        // `id: ID!` came back null: the typed data cannot be built; the errors explain.
        let (client, _, _) = setup(
            vec![answer(
                200,
                "application/json",
                r#"{"data":{"me":{"id":null}},"errors":[{"message":"id resolver failed"}]}"#,
            )],
            FakeTokens::default(),
        );
        match client.query::<Me>(me::Variables).await {
            Err(Error::GraphQl { errors, data, .. }) => {
                assert_eq!(errors[0].message, "id resolver failed");
                // What the server did answer is not lost.
                assert_eq!(data, json!({"me": {"id": null}}));
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn data_of_the_wrong_shape_is_an_invalid_response() {
        let (client, _, _) = setup(
            vec![answer(
                200,
                "application/json",
                r#"{"data":{"me":{"id":5}}}"#,
            )],
            FakeTokens::default(),
        );
        match client.query::<Me>(me::Variables).await {
            Err(Error::InvalidGraphQlResponse { reason }) => {
                assert!(reason.contains("schemas/"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_401_invalidates_the_token_and_replays_exactly_once() {
        let (client, script, tokens) = setup(
            vec![
                answer(
                    401,
                    "application/json",
                    r#"{"errors":[{"message":"expired"}]}"#,
                ),
                answer(200, "application/json", r#"{"data":{"me":{"id":"u"}}}"#),
            ],
            FakeTokens::default(),
        );
        let response = client.query::<Me>(me::Variables).await.unwrap();
        assert_eq!(response.data.me.unwrap().id, "u");
        let requests = script.requests.lock().unwrap();
        assert_eq!(requests.len(), 2);
        assert_eq!(authorization(&requests[0]), "Bearer tok-1");
        assert_eq!(authorization(&requests[1]), "Bearer tok-2");
        assert_eq!(requests[0].body(), requests[1].body());
        assert_eq!(*tokens.invalidated.lock().unwrap(), vec!["tok-1"]);
        assert_eq!(tokens.fetched.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_second_401_is_login_required_without_a_third_request() {
        let (client, script, tokens) = setup(
            vec![
                answer(401, "", ""),
                answer(401, "text/html", "<html>no</html>"),
            ],
            FakeTokens::default(),
        );
        let err = client.query::<Me>(me::Variables).await.unwrap_err();
        assert!(err.is_login_required(), "{err:?}");
        assert_eq!(script.requests.lock().unwrap().len(), 2);
        // Only the first token is invalidated: the second was fresh, so another refresh
        // would not help and would only spend a refresh token on every later call.
        assert_eq!(*tokens.invalidated.lock().unwrap(), vec!["tok-1"]);
    }

    #[tokio::test]
    async fn token_and_transport_failures_pass_through_typed() {
        let (client, script, _) = setup(
            Vec::new(),
            FakeTokens {
                fail: Some(auth_core::Error::LoginRequired { reason: None }),
                ..FakeTokens::default()
            },
        );
        let err = client.query::<Me>(me::Variables).await.unwrap_err();
        assert!(err.is_login_required(), "{err:?}");
        assert!(script.requests.lock().unwrap().is_empty());

        let (client, _, _) = setup(
            vec![Err(TransportError::new(
                TransportErrorKind::Connect,
                "connection refused",
            ))],
            FakeTokens::default(),
        );
        match client.query::<Me>(me::Variables).await {
            Err(Error::Auth(auth_core::Error::Transport(e))) => assert!(e.is_connect()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn credentials_go_only_to_https_or_loopback() {
        let transport: Arc<dyn HttpTransport> =
            Arc::new(from_fn(|_: HttpRequest| async { answer(200, "", "") }));
        let tokens: Arc<dyn TokenProvider> = Arc::new(FakeTokens::default());
        for (url, allowed) in [
            ("https://api.attendium.com/graphql", true),
            ("http://127.0.0.1:8080/graphql", true),
            ("http://[::1]/graphql", true),
            ("http://localhost:9/graphql", true),
            ("http://api.attendium.com/graphql", false),
            ("ftp://127.0.0.1/graphql", false),
        ] {
            let result = GraphQlClient::new(
                Url::parse(url).unwrap(),
                Arc::clone(&transport),
                Arc::clone(&tokens),
            );
            match result {
                Ok(_) => assert!(allowed, "{url} accepted"),
                Err(Error::Auth(auth_core::Error::InsecureUrl { .. })) => {
                    assert!(!allowed, "{url} refused")
                }
                Err(other) => panic!("{url}: {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn the_token_never_appears_in_errors_or_debug_output() {
        let echo = format!("Authorization: Bearer {SECRET}");
        let answers = vec![
            answer(502, "text/html", &format!("<html><pre>{echo}</pre></html>")),
            answer(500, "text/plain", &echo),
            answer(
                200,
                "application/json",
                &json!({"errors": [{"message": format!("bad header {echo}"), "extensions": {"code": "X"}}]})
                    .to_string(),
            ),
            answer(
                200,
                "application/json",
                &json!({"data": {"me": null}, "errors": [{"message": echo}]}).to_string(),
            ),
        ];
        let (client, _, _) = setup(
            answers,
            FakeTokens {
                fixed: Some(SECRET.to_owned()),
                ..FakeTokens::default()
            },
        );
        assert!(!format!("{client:?}").contains(SECRET));
        for _ in 0..3 {
            let err = client.raw("{ me { id } }", Map::new()).await.unwrap_err();
            for text in [err.to_string(), format!("{err:?}")] {
                assert!(!text.contains(SECRET), "{text}");
                assert!(!text.contains("SECRET-ACCESS"), "{text}");
            }
        }
        let partial = client.raw("{ me { id } }", Map::new()).await.unwrap();
        assert!(!format!("{partial:?}").contains(SECRET));
        assert!(!partial.errors[0].to_string().contains(SECRET));
    }

    /// The client over real HTTP (reqwest) against the sandbox's `/graphql` and each of
    /// its switchable faults.
    mod against_the_sandbox {
        use http_reqwest::ReqwestTransport;
        use sandbox::attendium::{Attendium, AttendiumConfig, FaultTimes, GraphqlFault};
        use tokio::task::JoinHandle;

        use super::*;

        struct Server {
            attendium: Attendium,
            task: JoinHandle<()>,
        }

        impl Drop for Server {
            fn drop(&mut self) {
                self.task.abort();
            }
        }

        async fn serve() -> Server {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let issuer = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
            let attendium = Attendium::new(AttendiumConfig::new(), issuer).unwrap();
            let router = attendium.router();
            let task = tokio::spawn(async move {
                let _ = axum::serve(listener, router).await;
            });
            Server { attendium, task }
        }

        fn graphql_requests(server: &Server) -> u64 {
            server.attendium.counters().requests_to("/graphql")
        }

        #[tokio::test]
        async fn me_and_every_fault_over_http() {
            let server = serve().await;
            let issued = server.attendium.issue_access_token("user-42").unwrap();
            let secret = issued.secret();
            let tokens = Arc::new(FakeTokens {
                fixed: Some(secret.to_owned()),
                ..FakeTokens::default()
            });
            let client = GraphQlClient::new(
                Url::parse(&server.attendium.graphql_endpoint()).unwrap(),
                Arc::new(ReqwestTransport::new().unwrap()),
                Arc::clone(&tokens) as Arc<dyn TokenProvider>,
            )
            .unwrap();

            let me = client.query::<Me>(me::Variables).await.unwrap();
            assert_eq!(me.data.me.as_ref().unwrap().id, "user-42");
            assert!(!me.is_partial());

            let fault = |f| server.attendium.inject_graphql_fault(f, FaultTimes::Once);

            fault(GraphqlFault::Errors);
            match client.query::<Me>(me::Variables).await {
                Err(Error::GraphQl { status, errors, .. }) => {
                    assert_eq!(status, StatusCode::OK);
                    assert!(!errors[0].message.is_empty());
                    assert!(!errors[0].locations.is_empty(), "{errors:?}");
                    assert!(!errors[0].path.is_empty(), "{errors:?}");
                    assert!(errors[0].code().is_some(), "{errors:?}");
                }
                other => panic!("errors: {other:?}"),
            }

            fault(GraphqlFault::PartialData);
            let partial = client.query::<Me>(me::Variables).await.unwrap();
            assert!(partial.is_partial());
            assert_eq!(partial.data.me, None);
            assert_eq!(
                partial.errors[0].path,
                vec![PathSegment::Field("me".into())]
            );

            fault(GraphqlFault::RequestError);
            match client.raw("{ me { id } }", Map::new()).await {
                Err(Error::GraphQl { status, .. }) => assert_eq!(status, StatusCode::BAD_REQUEST),
                other => panic!("request error: {other:?}"),
            }

            fault(GraphqlFault::TooManyRequests);
            match client.raw("{ me { id } }", Map::new()).await {
                Err(Error::GraphQl { status, .. }) => {
                    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS)
                }
                other => panic!("429: {other:?}"),
            }

            fault(GraphqlFault::BadGatewayHtml);
            match client.query::<Me>(me::Variables).await {
                Err(Error::HtmlPage { status, .. }) => assert_eq!(status, StatusCode::BAD_GATEWAY),
                other => panic!("502: {other:?}"),
            }

            // One 401: invalidated, replayed once, answered.
            let before = graphql_requests(&server);
            fault(GraphqlFault::Unauthorized);
            let replayed = client.query::<Me>(me::Variables).await.unwrap();
            assert_eq!(replayed.data.me.unwrap().id, "user-42");
            assert_eq!(graphql_requests(&server) - before, 2);
            assert_eq!(tokens.invalidated.lock().unwrap().len(), 1);

            // 401 every time: exactly one replay, then log in again.
            let before = graphql_requests(&server);
            server
                .attendium
                .inject_graphql_fault(GraphqlFault::Unauthorized, FaultTimes::Always);
            let err = client.query::<Me>(me::Variables).await.unwrap_err();
            assert!(err.is_login_required(), "{err:?}");
            assert_eq!(graphql_requests(&server) - before, 2);
            assert!(!format!("{err:?}{err}").contains(secret));
        }
    }
}
