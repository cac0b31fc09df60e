//! RFC 8414 authorization server metadata, also served as OpenID discovery.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Inner;
use super::config::{CallbackIss, DiscoveryDocuments, Quirks};
use super::faults::OAuthEndpoint;
use super::http_util::{endpoint_fault_response, json_response};

/// `GET /.well-known/oauth-authorization-server[issuer path]`.
pub(crate) async fn oauth_metadata(State(inner): State<Arc<Inner>>) -> Response {
    if let Some(fault) = inner.endpoint_fault(OAuthEndpoint::Metadata) {
        return endpoint_fault_response(fault);
    }
    let (quirks, issuer) = published(&inner);
    if quirks.discovery == DiscoveryDocuments::OpenIdOnly {
        return (StatusCode::NOT_FOUND, "Not Found").into_response();
    }
    json_response(StatusCode::OK, &document(&inner, &issuer, quirks))
}

/// `GET [issuer path]/.well-known/openid-configuration`.
pub(crate) async fn openid_configuration(State(inner): State<Arc<Inner>>) -> Response {
    if let Some(fault) = inner.endpoint_fault(OAuthEndpoint::Metadata) {
        return endpoint_fault_response(fault);
    }
    let (quirks, issuer) = published(&inner);
    json_response(StatusCode::OK, &document(&inner, &issuer, quirks))
}

/// The quirks and the issuer to publish (normally the real one).
fn published(inner: &Inner) -> (Quirks, String) {
    let state = inner.lock();
    let issuer = state
        .metadata_issuer
        .clone()
        .unwrap_or_else(|| inner.issuer.clone());
    (state.quirks, issuer)
}

/// The metadata (RFC 8414 §2). The OpenID document is the same: this server issues no ID
/// tokens, so it adds none of OpenID's ID-token fields (RFC 8414 §5 allows serving the
/// OAuth fields there).
fn document(inner: &Inner, issuer: &str, quirks: Quirks) -> Value {
    let routes = &inner.routes;
    json!({
        "issuer": issuer,
        "authorization_endpoint": inner.url(&routes.authorize),
        "token_endpoint": inner.url(&routes.token),
        "registration_endpoint": inner.url(&routes.register),
        "revocation_endpoint": inner.url(&routes.revoke),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "revocation_endpoint_auth_methods_supported": ["none"],
        "authorization_response_iss_parameter_supported":
            quirks.callback_iss == CallbackIss::Included,
    })
}
