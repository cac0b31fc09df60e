//! Switchable failures, so that clients can be tested against what real servers do on a
//! bad day.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State as AxumState};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::{Value, json};

use super::Inner;

/// A failure of `POST /graphql`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GraphqlFault {
    /// `200` with `"data": null` and an `errors` array whose entry has a message, path,
    /// locations and `extensions.code`.
    Errors,
    /// `200` with both `data` and `errors`: the first nullable field of the operation is
    /// answered `null` with an error at its path (GraphQL spec §6.4.4, "Handling Field
    /// Errors"). When the operation has no nullable field, the data is kept whole and the
    /// error has no path.
    PartialData,
    /// `401` with `WWW-Authenticate: Bearer error="invalid_token"`, whatever the token.
    Unauthorized,
    /// `502` with an HTML page, as a reverse proxy answers when the service is down.
    BadGatewayHtml,
    /// `400` with an `errors` array and no `data`, as servers answer a request they
    /// refuse before execution (GraphQL over HTTP §6.4.2), whatever the `Accept` header.
    RequestError,
    /// `429` with `Retry-After: 1` and an `errors` array.
    TooManyRequests,
}

/// An OAuth endpoint that can be made to fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OAuthEndpoint {
    /// Both discovery documents.
    Metadata,
    /// Dynamic client registration.
    Registration,
    /// The authorization endpoint (before any validation).
    Authorization,
    /// The token endpoint.
    Token,
    /// The revocation endpoint.
    Revocation,
}

/// A failure of an OAuth endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EndpointFault {
    /// `502` with an HTML page.
    BadGatewayHtml,
    /// `503` with the RFC 6749 §5.2 body `{"error": "temporarily_unavailable"}`.
    TemporarilyUnavailable,
}

/// A failure made at the HTTP layer, in front of an endpoint: what gateways, busy
/// services and lenient servers answer, whatever the endpoint itself would have said.
/// Armed with [`Attendium::inject_http_fault`](super::Attendium::inject_http_fault); each
/// fault only counts the requests it applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HttpFault {
    /// `POST /graphql` answers `503` with `Retry-After: 1` and a GraphQL `errors` array
    /// (code `UNAVAILABLE`), as a service that is restarting does.
    GraphqlUnavailable,
    /// `POST /graphql` answers `200` with `"data": null` and an error whose
    /// `extensions.code` is `UNAUTHENTICATED`, as Apollo Server answers an expired token.
    GraphqlUnauthenticated,
    /// The code exchange (`grant_type=authorization_code` at the token endpoint) is
    /// refused: `400` with `{"error": "invalid_grant", "error_description": ...}`
    /// (RFC 6749 §5.2).
    CodeRefused,
    /// Successful token answers carry `"scope": ""`: the server granted no scope, as some
    /// servers do when none is asked for (RFC 6749 §5.1 lets the granted scope differ).
    NoScopeGranted,
}

impl HttpFault {
    fn applies(self, graphql: bool, code_exchange: bool, token: bool) -> bool {
        match self {
            HttpFault::GraphqlUnavailable | HttpFault::GraphqlUnauthenticated => graphql,
            HttpFault::CodeRefused => code_exchange,
            HttpFault::NoScopeGranted => token,
        }
    }
}

/// The `error_description` of [`HttpFault::CodeRefused`].
pub const CODE_REFUSED_DESCRIPTION: &str = "The authorization code has expired or was already used";

/// The largest request body the fault layer reads to tell a code exchange from others.
const MAX_INSPECTED_BODY: usize = 64 * 1024;

/// Applies an armed [`HttpFault`] to the requests it concerns; passes the rest on.
pub(crate) async fn http_faults(
    AxumState(inner): AxumState<Arc<Inner>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let graphql = path == inner.routes.graphql;
    let token = path == inner.routes.token;
    if !(graphql || token) || !inner.lock().faults.http_armed() {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_INSPECTED_BODY).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response();
    };
    let code_exchange = token
        && url::form_urlencoded::parse(&body)
            .any(|(k, v)| k == "grant_type" && v == "authorization_code");
    let fault = inner
        .lock()
        .faults
        .take_http(|f| f.applies(graphql, code_exchange, token));
    let request = Request::from_parts(parts, Body::from(body));
    match fault {
        None => next.run(request).await,
        Some(HttpFault::GraphqlUnavailable) => {
            let mut response = json_answer(
                StatusCode::SERVICE_UNAVAILABLE,
                &json!({ "errors": [{ "message": "The service is restarting", "extensions": { "code": "UNAVAILABLE" } }] }),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        Some(HttpFault::GraphqlUnauthenticated) => json_answer(
            StatusCode::OK,
            &json!({ "data": null, "errors": [{ "message": "Authentication required", "extensions": { "code": "UNAUTHENTICATED" } }] }),
        ),
        Some(HttpFault::CodeRefused) => json_answer(
            StatusCode::BAD_REQUEST,
            &json!({ "error": "invalid_grant", "error_description": CODE_REFUSED_DESCRIPTION }),
        ),
        Some(HttpFault::NoScopeGranted) => {
            let response = next.run(request).await;
            if response.status() != StatusCode::OK {
                return response;
            }
            let (parts, body) = response.into_parts();
            let Ok(body) = axum::body::to_bytes(body, MAX_INSPECTED_BODY).await else {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            };
            match serde_json::from_slice::<Value>(&body) {
                Ok(Value::Object(mut answer)) => {
                    answer.insert("scope".into(), Value::String(String::new()));
                    let mut response = json_answer(StatusCode::OK, &Value::Object(answer));
                    for name in [header::CACHE_CONTROL, header::PRAGMA] {
                        if let Some(value) = parts.headers.get(&name) {
                            response.headers_mut().insert(name, value.clone());
                        }
                    }
                    response
                }
                _ => Response::from_parts(parts, Body::from(body)),
            }
        }
    }
}

fn json_answer(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// How many requests a fault hits before it disarms itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultTimes {
    /// The next request only.
    Once,
    /// The next `n` requests.
    Times(u32),
    /// Every request until cleared.
    Always,
}

/// A deliberately wrong authorization response, as an attacker or a broken server would
/// send, for the client's negative tests.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CallbackTampering {
    /// Responses are correct.
    #[default]
    None,
    /// `state` is replaced by another value.
    WrongState,
    /// `state` is left out.
    MissingState,
    /// `iss` carries this value instead of the issuer (RFC 9207 mix-up).
    WrongIss(String),
}

#[derive(Debug, Clone, Copy)]
struct Armed<F> {
    fault: F,
    /// `None`: until cleared.
    remaining: Option<u32>,
}

impl<F: Copy> Armed<F> {
    fn new(fault: F, times: FaultTimes) -> Option<Self> {
        let remaining = match times {
            FaultTimes::Once => Some(1),
            FaultTimes::Times(0) => return None,
            FaultTimes::Times(n) => Some(n),
            FaultTimes::Always => None,
        };
        Some(Self { fault, remaining })
    }

    /// The fault for this request, and whether it stays armed afterwards.
    fn fire(&mut self) -> (F, bool) {
        match &mut self.remaining {
            None => (self.fault, true),
            Some(n) => {
                *n = n.saturating_sub(1);
                (self.fault, *n > 0)
            }
        }
    }
}

/// The armed faults of one server.
#[derive(Debug, Default)]
pub(crate) struct ArmedFaults {
    graphql: Option<Armed<GraphqlFault>>,
    endpoints: HashMap<OAuthEndpoint, Armed<EndpointFault>>,
    http: Option<Armed<HttpFault>>,
}

impl ArmedFaults {
    pub(crate) fn arm_graphql(&mut self, fault: GraphqlFault, times: FaultTimes) {
        self.graphql = Armed::new(fault, times);
    }

    pub(crate) fn arm_endpoint(
        &mut self,
        endpoint: OAuthEndpoint,
        fault: EndpointFault,
        times: FaultTimes,
    ) {
        match Armed::new(fault, times) {
            Some(armed) => self.endpoints.insert(endpoint, armed),
            None => self.endpoints.remove(&endpoint),
        };
    }

    pub(crate) fn arm_http(&mut self, fault: HttpFault, times: FaultTimes) {
        self.http = Armed::new(fault, times);
    }

    fn http_armed(&self) -> bool {
        self.http.is_some()
    }

    /// The armed HTTP fault, if it `applies` to this request (only then is it counted).
    fn take_http(&mut self, applies: impl Fn(HttpFault) -> bool) -> Option<HttpFault> {
        let armed = self.http.as_mut().filter(|a| applies(a.fault))?;
        let (fault, keep) = armed.fire();
        if !keep {
            self.http = None;
        }
        Some(fault)
    }

    pub(crate) fn clear(&mut self) {
        self.graphql = None;
        self.endpoints.clear();
        self.http = None;
    }

    pub(crate) fn take_graphql(&mut self) -> Option<GraphqlFault> {
        let armed = self.graphql.as_mut()?;
        let (fault, keep) = armed.fire();
        if !keep {
            self.graphql = None;
        }
        Some(fault)
    }

    pub(crate) fn take_endpoint(&mut self, endpoint: OAuthEndpoint) -> Option<EndpointFault> {
        let armed = self.endpoints.get_mut(&endpoint)?;
        let (fault, keep) = armed.fire();
        if !keep {
            self.endpoints.remove(&endpoint);
        }
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_fire_as_many_times_as_armed() {
        let cases = [
            (FaultTimes::Once, 1),
            (FaultTimes::Times(3), 3),
            (FaultTimes::Times(0), 0),
            (FaultTimes::Always, 10),
        ];
        for (times, expected) in cases {
            let mut faults = ArmedFaults::default();
            faults.arm_graphql(GraphqlFault::Errors, times);
            faults.arm_endpoint(OAuthEndpoint::Token, EndpointFault::BadGatewayHtml, times);
            let graphql = (0..10).filter_map(|_| faults.take_graphql()).count();
            let token = (0..10)
                .filter_map(|_| faults.take_endpoint(OAuthEndpoint::Token))
                .count();
            assert_eq!((graphql, token), (expected, expected), "{times:?}");
            assert_eq!(faults.take_endpoint(OAuthEndpoint::Registration), None);
        }
    }

    #[test]
    fn an_http_fault_counts_only_the_requests_it_applies_to() {
        let mut faults = ArmedFaults::default();
        faults.arm_http(HttpFault::CodeRefused, FaultTimes::Once);
        let applies = |f: HttpFault| f.applies(false, false, true);
        assert_eq!(faults.take_http(applies), None);
        assert!(faults.http_armed());
        let applies = |f: HttpFault| f.applies(false, true, true);
        assert_eq!(faults.take_http(applies), Some(HttpFault::CodeRefused));
        assert!(!faults.http_armed());
    }

    #[test]
    fn clear_disarms_everything() {
        let mut faults = ArmedFaults::default();
        faults.arm_graphql(GraphqlFault::Unauthorized, FaultTimes::Always);
        faults.arm_endpoint(
            OAuthEndpoint::Metadata,
            EndpointFault::TemporarilyUnavailable,
            FaultTimes::Always,
        );
        faults.clear();
        assert_eq!(faults.take_graphql(), None);
        assert_eq!(faults.take_endpoint(OAuthEndpoint::Metadata), None);
    }
}
