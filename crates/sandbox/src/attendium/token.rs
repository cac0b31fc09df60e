//! The token endpoint (RFC 6749 §3.2): authorization code with PKCE, and refresh.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value};

use super::Inner;
use super::config::{ExpiresInFormat, Quirks, TokenTypeCase};
use super::faults::OAuthEndpoint;
use super::http_util::{
    Params, endpoint_fault_response, has_media_type, json_response, oauth_error,
};
use super::state::{GrantError, GrantErrorCode, TokenSet};

/// The status RFC 6749 §5.2 gives each error.
pub(crate) fn grant_error_response(error: &GrantError) -> Response {
    let status = match error.code {
        GrantErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
        GrantErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    oauth_error(status, error.code.as_str(), error.description)
}

/// Reads a public client's form request: form encoding (RFC 6749 §4.1.3), no repeated
/// parameter (§3.1), `client_id` and no client authentication (the server only knows
/// `none`; HTTP Basic is deprecated by Attendium).
pub(crate) fn public_client_form(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Params, String), FormRefusal> {
    if !has_media_type(headers, "application/x-www-form-urlencoded") {
        return Err(FormRefusal {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_request",
            description: "the body must be application/x-www-form-urlencoded".into(),
        });
    }
    let params = Params::parse(body).map_err(|e| FormRefusal {
        status: StatusCode::BAD_REQUEST,
        error: "invalid_request",
        description: e.0,
    })?;
    if headers.contains_key(header::AUTHORIZATION) || params.get("client_secret").is_some() {
        return Err(FormRefusal {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description: "this server only has public clients (token_endpoint_auth_method none)"
                .into(),
        });
    }
    let Some(client_id) = params.get("client_id").map(str::to_owned) else {
        return Err(FormRefusal {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description: "missing parameter `client_id`".into(),
        });
    };
    Ok((params, client_id))
}

/// A form request refused before any grant logic ran.
pub(crate) struct FormRefusal {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl FormRefusal {
    pub(crate) fn response(&self) -> Response {
        oauth_error(self.status, self.error, &self.description)
    }
}

/// `POST /oauth2/token`.
pub(crate) async fn token(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    {
        // Counted before anything can fail, so that tests see every attempt.
        let grant_type = Params::parse(&body)
            .ok()
            .and_then(|p| p.get("grant_type").map(str::to_owned))
            .unwrap_or_default();
        let mut state = inner.lock();
        *state.counters.token_requests.entry(grant_type).or_default() += 1;
    }
    if let Some(fault) = inner.endpoint_fault(OAuthEndpoint::Token) {
        return endpoint_fault_response(fault);
    }
    let (params, client_id) = match public_client_form(&headers, &body) {
        Ok(form) => form,
        Err(refusal) => return refusal.response(),
    };
    let now = inner.now();
    let outcome = match params.get("grant_type") {
        Some("authorization_code") => {
            let Some(code) = params.get("code") else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "missing parameter `code`",
                );
            };
            inner.lock().exchange_code(
                &client_id,
                code,
                params.get("redirect_uri"),
                params.get("code_verifier"),
                now,
            )
        }
        Some("refresh_token") => {
            let Some(refresh_token) = params.get("refresh_token") else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "missing parameter `refresh_token`",
                );
            };
            inner
                .lock()
                .refresh(&client_id, refresh_token, params.get("scope"), now)
        }
        None => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "missing parameter `grant_type`",
            );
        }
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "supported grant types: authorization_code, refresh_token",
            );
        }
    };
    match outcome {
        Ok(tokens) => {
            let quirks = inner.lock().quirks;
            json_response(StatusCode::OK, &token_body(&tokens, quirks))
        }
        Err(error) => grant_error_response(&error),
    }
}

/// RFC 6749 §5.1, shaped by the quirks.
fn token_body(tokens: &TokenSet, quirks: Quirks) -> Value {
    let mut body = Map::new();
    body.insert("access_token".into(), tokens.access_token.clone().into());
    let token_type = match quirks.token_type {
        TokenTypeCase::Lowercase => "bearer",
        // (`TokenTypeCase` is non-exhaustive only for other crates.)
        TokenTypeCase::Capitalized => "Bearer",
    };
    body.insert("token_type".into(), token_type.into());
    let seconds = tokens.expires_in.as_secs();
    match quirks.expires_in {
        ExpiresInFormat::Number => {
            body.insert("expires_in".into(), seconds.into());
        }
        ExpiresInFormat::String => {
            body.insert("expires_in".into(), seconds.to_string().into());
        }
        ExpiresInFormat::Absent => {}
    }
    if let Some(refresh_token) = &tokens.refresh_token {
        body.insert("refresh_token".into(), refresh_token.clone().into());
    }
    if let Some(scope) = &tokens.scope {
        body.insert("scope".into(), scope.clone().into());
    }
    Value::Object(body)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn token_body_follows_the_quirks() {
        let tokens = TokenSet {
            access_token: "a".into(),
            refresh_token: None,
            expires_in: Duration::from_secs(60),
            scope: None,
        };
        let cases = [
            (
                Quirks::default(),
                serde_json::json!({"access_token":"a","token_type":"Bearer","expires_in":60}),
            ),
            (
                Quirks::default()
                    .with_expires_in(ExpiresInFormat::String)
                    .with_token_type(TokenTypeCase::Lowercase),
                serde_json::json!({"access_token":"a","token_type":"bearer","expires_in":"60"}),
            ),
            (
                Quirks::default().with_expires_in(ExpiresInFormat::Absent),
                serde_json::json!({"access_token":"a","token_type":"Bearer"}),
            ),
        ];
        for (quirks, expected) in cases {
            assert_eq!(token_body(&tokens, quirks), expected, "{quirks:?}");
        }
    }
}
