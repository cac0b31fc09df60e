//! Token revocation (RFC 7009), for logging out.
//!
//! Revoke the refresh token: RFC 7009 §2.1 lets the server revoke the access tokens of
//! the same grant with it.
//!
//! ```
//! use auth_core::revocation::{parse_revocation_response, revocation_request, TokenTypeHint};
//! use auth_core::{ClientAuth, RefreshToken};
//!
//! let refresh = RefreshToken::new("rt");
//! let request = revocation_request(
//!     &url::Url::parse("https://as.example/oauth2/revoke")?,
//!     &ClientAuth::public("my-client-id"),
//!     refresh.secret(),
//!     TokenTypeHint::RefreshToken,
//! )?;
//! assert_eq!(request.body(), "token=rt&token_type_hint=refresh_token&client_id=my-client-id");
//!
//! parse_revocation_response(&http::Response::new(bytes::Bytes::new()))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use http::StatusCode;
use url::Url;

use crate::Error;
use crate::client_auth::{ClientAuth, form_post};
use crate::response;
use crate::transport::{HttpRequest, HttpResponse, Idempotency};

/// Which kind of token is revoked (RFC 7009 §2.1 `token_type_hint`); a hint only, the
/// server looks further if it is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenTypeHint {
    /// `access_token`.
    AccessToken,
    /// `refresh_token`.
    RefreshToken,
    /// No hint is sent.
    None,
}

impl TokenTypeHint {
    /// The value sent, if any.
    pub fn as_str(self) -> Option<&'static str> {
        match self {
            TokenTypeHint::AccessToken => Some("access_token"),
            TokenTypeHint::RefreshToken => Some("refresh_token"),
            TokenTypeHint::None => None,
        }
    }
}

/// Builds a revocation request (RFC 7009 §2.1): a form POST of `token` and the hint,
/// with the client authenticated as `client`.
///
/// `token` is the secret value (`access_token.secret()` or `refresh_token.secret()`).
/// Marked [`Idempotency::Retryable`]: revoking twice is harmless (RFC 7009 §2.2 answers
/// `200` for an unknown token). Refused with [`Error::InsecureUrl`] before anything is
/// built if the endpoint is not `https` (or loopback).
pub fn revocation_request(
    endpoint: &Url,
    client: &ClientAuth,
    token: &str,
    hint: TokenTypeHint,
) -> Result<HttpRequest, Error> {
    let mut params = vec![("token", token)];
    if let Some(hint) = hint.as_str() {
        params.push(("token_type_hint", hint));
    }
    form_post(endpoint, Some(client), &params, Idempotency::Retryable)
}

/// Reads the answer to a revocation request.
///
/// - Any `2xx` is success; the body is ignored (RFC 7009 §2.2).
/// - An error body (`unsupported_token_type`, `invalid_client`, ...) is
///   [`Error::OAuth`].
/// - `503 Service Unavailable` is always an error for which
///   [`Error::is_retryable`] is true (RFC 7009 §2.2.1: try again later), whatever its
///   body says.
/// - Anything else is [`Error::UnexpectedResponse`].
pub fn parse_revocation_response(response: &HttpResponse) -> Result<(), Error> {
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    // Under an error status `oauth_json` never succeeds: it answers the RFC 7009
    // §2.2.1 error, or `UnexpectedResponse` for any other body.
    let err = response::oauth_json(response)
        .err()
        .unwrap_or_else(|| response::unexpected(response));
    if status == StatusCode::SERVICE_UNAVAILABLE && !err.is_retryable() {
        return Err(response::unexpected(response));
    }
    Err(err)
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::oauth_error::ErrorCode;
    use crate::transport::RequestOptions;
    use crate::{BasicEncoding, ClientSecret};

    fn endpoint() -> Url {
        Url::parse("https://as.example/revoke").unwrap()
    }

    fn response(status: u16, body: &str) -> HttpResponse {
        http::Response::builder()
            .status(status)
            .body(Bytes::from(body.to_owned()))
            .unwrap()
    }

    #[test]
    fn request_shapes() {
        let basic = ClientAuth::basic("id", ClientSecret::new("s"), BasicEncoding::Raw);
        let req =
            revocation_request(&endpoint(), &basic, "t o", TokenTypeHint::AccessToken).unwrap();
        assert_eq!(req.body(), "token=t+o&token_type_hint=access_token");
        assert_eq!(RequestOptions::of(&req).idempotency, Idempotency::Retryable);
        assert!(req.headers().contains_key(http::header::AUTHORIZATION));
        let req = revocation_request(
            &endpoint(),
            &ClientAuth::public("cli"),
            "t",
            TokenTypeHint::None,
        )
        .unwrap();
        assert_eq!(req.body(), "token=t&client_id=cli");
    }

    #[test]
    fn insecure_endpoint_is_refused() {
        let err = revocation_request(
            &Url::parse("http://as.example/revoke").unwrap(),
            &ClientAuth::public("cli"),
            "SECRETTOKEN",
            TokenTypeHint::RefreshToken,
        )
        .unwrap_err();
        assert!(matches!(err, Error::InsecureUrl { .. }));
        assert!(!format!("{err} {err:?}").contains("SECRETTOKEN"));
    }

    #[test]
    fn responses() {
        assert!(parse_revocation_response(&response(200, "")).is_ok());
        assert!(parse_revocation_response(&response(200, "<html>ok</html>")).is_ok());
        assert!(parse_revocation_response(&response(204, "")).is_ok());
        match parse_revocation_response(&response(400, r#"{"error":"unsupported_token_type"}"#)) {
            Err(Error::OAuth(e)) => assert_eq!(e.code, ErrorCode::UnsupportedTokenType),
            other => panic!("{other:?}"),
        }
        for body in [
            "",
            "<html>busy</html>",
            r#"{"error":"invalid_request"}"#,
            "{}",
        ] {
            let err = parse_revocation_response(&response(503, body)).unwrap_err();
            assert!(err.is_retryable(), "{body}: {err:?}");
            assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
        }
        let err =
            parse_revocation_response(&response(503, r#"{"error":"temporarily_unavailable"}"#))
                .unwrap_err();
        assert!(matches!(err, Error::OAuth(_)) && err.is_retryable());
        assert!(matches!(
            parse_revocation_response(&response(401, "{}")),
            Err(Error::UnexpectedResponse { .. })
        ));
        assert!(matches!(
            parse_revocation_response(&response(302, "")),
            Err(Error::UnexpectedResponse { .. })
        ));
    }

    #[test]
    fn error_snippets_mask_the_token() {
        let err = parse_revocation_response(&response(500, "bad token=SECRETTOKEN")).unwrap_err();
        assert!(!format!("{err} {err:?}").contains("SECRETTOKEN"));
    }
}
