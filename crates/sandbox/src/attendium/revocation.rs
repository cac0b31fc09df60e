//! RFC 7009 token revocation for public clients.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::Inner;
use super::faults::OAuthEndpoint;
use super::http_util::{endpoint_fault_response, oauth_error};
use super::token::{grant_error_response, public_client_form};

/// `POST /oauth2/revoke`: `200` for every valid request, known token or not (RFC 7009
/// §2.2); `token_type_hint` is only a hint and is not needed to find the token (§2.1).
pub(crate) async fn revoke(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(fault) = inner.endpoint_fault(OAuthEndpoint::Revocation) {
        return endpoint_fault_response(fault);
    }
    let (params, client_id) = match public_client_form(&headers, &body) {
        Ok(form) => form,
        Err(refusal) => return refusal.response(),
    };
    let Some(token) = params.get("token") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "missing parameter `token`",
        );
    };
    let outcome = inner.lock().revoke(&client_id, token);
    match outcome {
        Ok(()) => StatusCode::OK.into_response(),
        Err(error) => grant_error_response(&error),
    }
}
