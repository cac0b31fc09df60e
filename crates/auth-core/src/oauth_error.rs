//! RFC 6749 §5.2 error responses (and the RFC 7591 §3.2.2 and RFC 7009 §2.2.1 codes).

use std::fmt;

use http::StatusCode;

/// An error code from an OAuth 2.0 error response.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `invalid_request`: the request is malformed.
    InvalidRequest,
    /// `invalid_client`: client authentication failed; check the client id and secret, or
    /// register the client again.
    InvalidClient,
    /// `invalid_grant`: the code or refresh token is invalid, expired, revoked or reused.
    InvalidGrant,
    /// `unauthorized_client`: this client may not use this grant.
    UnauthorizedClient,
    /// `unsupported_grant_type`.
    UnsupportedGrantType,
    /// `invalid_scope`.
    InvalidScope,
    /// `access_denied`: the resource owner or server refused.
    AccessDenied,
    /// `unsupported_response_type`.
    UnsupportedResponseType,
    /// `server_error`: try again later.
    ServerError,
    /// `temporarily_unavailable`: try again later.
    TemporarilyUnavailable,
    /// `invalid_redirect_uri` (RFC 7591).
    InvalidRedirectUri,
    /// `invalid_client_metadata` (RFC 7591).
    InvalidClientMetadata,
    /// `unsupported_token_type` (RFC 7009).
    UnsupportedTokenType,
    /// Any other code, as the server sent it.
    Other(String),
}

impl ErrorCode {
    /// Parses a code; unknown codes are kept in [`ErrorCode::Other`].
    pub fn parse(code: &str) -> ErrorCode {
        match code {
            "invalid_request" => ErrorCode::InvalidRequest,
            "invalid_client" => ErrorCode::InvalidClient,
            "invalid_grant" => ErrorCode::InvalidGrant,
            "unauthorized_client" => ErrorCode::UnauthorizedClient,
            "unsupported_grant_type" => ErrorCode::UnsupportedGrantType,
            "invalid_scope" => ErrorCode::InvalidScope,
            "access_denied" => ErrorCode::AccessDenied,
            "unsupported_response_type" => ErrorCode::UnsupportedResponseType,
            "server_error" => ErrorCode::ServerError,
            "temporarily_unavailable" => ErrorCode::TemporarilyUnavailable,
            "invalid_redirect_uri" => ErrorCode::InvalidRedirectUri,
            "invalid_client_metadata" => ErrorCode::InvalidClientMetadata,
            "unsupported_token_type" => ErrorCode::UnsupportedTokenType,
            other => ErrorCode::Other(other.to_owned()),
        }
    }

    /// The code as it appears on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::InvalidRedirectUri => "invalid_redirect_uri",
            ErrorCode::InvalidClientMetadata => "invalid_client_metadata",
            ErrorCode::UnsupportedTokenType => "unsupported_token_type",
            ErrorCode::Other(code) => code,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error response from an authorization server, with its fields typed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct OAuthError {
    /// The `error` code.
    pub code: ErrorCode,
    /// The `error_description`, if given, cleaned of control characters, with anything
    /// that looks like a credential masked, and cut to 300 characters (plus an ellipsis).
    pub description: Option<String>,
    /// The `error_uri`, if given.
    pub uri: Option<String>,
    /// The HTTP status it came with, when it came over HTTP (a redirect-borne error has
    /// none).
    pub status: Option<StatusCode>,
}

impl OAuthError {
    /// A new error with only a code.
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            description: None,
            uri: None,
            status: None,
        }
    }

    /// Parses an RFC 6749 §5.2 body; `None` if it has no string `error` member.
    pub fn from_json(
        body: &serde_json::Map<String, serde_json::Value>,
        status: Option<StatusCode>,
    ) -> Option<Self> {
        let code = body.get("error")?.as_str()?;
        let text = |key: &str| body.get(key).and_then(|v| v.as_str());
        Some(Self {
            // The server's text goes into Display: no control characters, bounded length.
            code: ErrorCode::parse(&crate::response::clean_text(code, 100)),
            // A description may echo what the client submitted, secrets included.
            description: text("error_description")
                .map(|s| crate::response::clean_masked_text(s, 300)),
            uri: text("error_uri").map(|s| crate::response::clean_text(s, 300)),
            status,
        })
    }

    /// Whether RFC 6749 marks this as temporary.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.code,
            ErrorCode::ServerError | ErrorCode::TemporarilyUnavailable
        )
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the authorization server refused the request: {}",
            self.code
        )?;
        if let Some(description) = &self.description {
            write!(f, " ({description})")?;
        }
        if let Some(status) = self.status {
            write!(f, " [HTTP {}]", status.as_u16())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for code in [
            "invalid_request",
            "invalid_client",
            "invalid_grant",
            "unauthorized_client",
            "unsupported_grant_type",
            "invalid_scope",
            "access_denied",
            "unsupported_response_type",
            "server_error",
            "temporarily_unavailable",
            "invalid_redirect_uri",
            "invalid_client_metadata",
            "unsupported_token_type",
            "something_new",
        ] {
            assert_eq!(ErrorCode::parse(code).as_str(), code);
        }
    }

    #[test]
    fn parses_error_body() {
        let body = serde_json::json!({
            "error": "invalid_grant",
            "error_description": "refresh token reused",
            "error_uri": "https://example.com/e"
        });
        let err = OAuthError::from_json(body.as_object().unwrap(), Some(StatusCode::BAD_REQUEST))
            .unwrap();
        assert_eq!(err.code, ErrorCode::InvalidGrant);
        assert_eq!(err.description.as_deref(), Some("refresh token reused"));
        assert_eq!(
            err.to_string(),
            "the authorization server refused the request: invalid_grant (refresh token reused) [HTTP 400]"
        );
        assert!(OAuthError::from_json(&serde_json::Map::new(), None).is_none());
    }

    #[test]
    fn a_strange_code_is_cleaned_and_cut() {
        let long = format!("bad\u{1b}[31m\ncode{}", "x".repeat(500));
        let body = serde_json::json!({ "error": long });
        let err = OAuthError::from_json(body.as_object().unwrap(), None).unwrap();
        let code = err.code.as_str();
        assert!(code.starts_with("bad [31m code"), "{code}");
        assert_eq!(code.chars().count(), 101);
        assert!(!err.to_string().chars().any(char::is_control));
    }

    #[test]
    fn a_description_echoing_a_secret_is_masked() {
        let body = serde_json::json!({
            "error": "invalid_client",
            "error_description": "client_secret=SECRET1 does not match; Authorization: Basic SECRET2"
        });
        let err = OAuthError::from_json(body.as_object().unwrap(), None).unwrap();
        let text = format!("{err} {err:?}");
        assert!(!text.contains("SECRET"), "{text}");
        assert!(text.contains("client_secret=***"), "{text}");
    }
}
