//! Tokens and the lenient parsing of RFC 6749 §5.1 token responses.

use std::fmt;
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};

use crate::response::{self, opt_seconds, opt_str};
use crate::secret::{AccessToken, RefreshToken};
use crate::transport::HttpResponse;
use crate::{Error, oauth_error::OAuthError};

/// The `token_type` of an access token, compared case-insensitively (RFC 6749 §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenType {
    /// `Bearer` (RFC 6750), in any letter case.
    Bearer,
    /// Any other type, as sent.
    Other(String),
}

impl TokenType {
    /// Parses a `token_type` value.
    pub fn parse(value: &str) -> TokenType {
        if value.eq_ignore_ascii_case("bearer") {
            TokenType::Bearer
        } else {
            TokenType::Other(value.to_owned())
        }
    }

    /// The canonical spelling, used in the `Authorization` header.
    pub fn as_str(&self) -> &str {
        match self {
            TokenType::Bearer => "Bearer",
            TokenType::Other(other) => other,
        }
    }
}

/// An access token with what came with it.
#[derive(Clone)]
#[non_exhaustive]
pub struct Token {
    /// The access token.
    pub access_token: AccessToken,
    /// Its type; `Bearer` when the server omitted it.
    pub token_type: TokenType,
    /// When it expires, computed from `expires_in` at receipt; `None` if unknown and no
    /// default was configured.
    pub expires_at: Option<SystemTime>,
    /// A refresh token, if the server issued one (or the previous one, kept when a
    /// refresh response carried none).
    pub refresh_token: Option<RefreshToken>,
    /// The granted scope, if the server said.
    pub scope: Option<String>,
    /// Every other member of the response, as sent (for example `id_token`). `Debug`
    /// shows only the names.
    pub extra: Map<String, Value>,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("access_token", &self.access_token)
            .field("token_type", &self.token_type)
            .field("expires_at", &self.expires_at)
            .field("refresh_token", &self.refresh_token)
            .field("scope", &self.scope)
            .field("extra", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Token {
    /// A bearer token with nothing else.
    pub fn bearer(access_token: AccessToken, expires_at: Option<SystemTime>) -> Self {
        Self {
            access_token,
            token_type: TokenType::Bearer,
            expires_at,
            refresh_token: None,
            scope: None,
            extra: Map::new(),
        }
    }

    /// Sets the refresh token.
    #[must_use]
    pub fn with_refresh_token(mut self, refresh_token: RefreshToken) -> Self {
        self.refresh_token = Some(refresh_token);
        self
    }

    /// Whether the token is still usable at `now`, keeping `margin` in hand. A token with
    /// no known expiry is always fresh.
    pub fn is_fresh(&self, now: SystemTime, margin: Duration) -> bool {
        match self.expires_at {
            None => true,
            Some(at) => now
                .checked_add(margin)
                .is_some_and(|deadline| deadline < at),
        }
    }

    /// The `Authorization` header value: `Bearer <token>`, marked sensitive so that
    /// `http`'s `Debug` hides it.
    pub fn authorization_header(&self) -> Result<http::HeaderValue, Error> {
        authorization_header(&self.token_type, &self.access_token)
    }
}

/// An `Authorization` header value for `token`, marked sensitive.
pub fn authorization_header(
    token_type: &TokenType,
    token: &AccessToken,
) -> Result<http::HeaderValue, Error> {
    let mut value =
        http::HeaderValue::try_from(format!("{} {}", token_type.as_str(), token.secret()))
            .map_err(|_| {
                Error::invalid_response(
                    "the token type or access token has characters not allowed in a header",
                )
            })?;
    value.set_sensitive(true);
    Ok(value)
}

/// How to read token responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenParseOptions {
    /// The lifetime assumed when a response has no `expires_in` (RFC 6749 makes it
    /// optional), or one of zero or less. `None` treats such tokens as valid until
    /// rejected.
    pub default_expires_in: Option<Duration>,
}

impl Default for TokenParseOptions {
    fn default() -> Self {
        Self {
            default_expires_in: Some(Duration::from_secs(3600)),
        }
    }
}

impl TokenParseOptions {
    /// Sets the lifetime assumed when `expires_in` is absent.
    #[must_use]
    pub fn with_default_expires_in(mut self, lifetime: Option<Duration>) -> Self {
        self.default_expires_in = lifetime;
        self
    }
}

/// Parses a token endpoint's answer.
///
/// Lenient where servers differ, strict where safety needs it:
/// - any 2xx status with a JSON object holding a string `access_token`;
/// - `token_type` in any case, and `Bearer` when absent;
/// - `expires_in` as a number, a string of digits, or absent (then
///   [`TokenParseOptions::default_expires_in`]); zero or negative counts as absent, since
///   a token born expired would be fetched again on every call;
/// - members it does not know are kept in [`Token::extra`];
/// - an RFC 6749 §5.2 error body, even with a 200 status, is [`Error::OAuth`];
/// - HTML or any non-JSON body is [`Error::UnexpectedResponse`] with the status;
/// - a malformed member is [`Error::InvalidResponse`] naming the member, never its value.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use auth_core::token::{parse_token_response, TokenParseOptions, TokenType};
///
/// let response = http::Response::builder()
///     .status(200)
///     .body(bytes::Bytes::from_static(br#"{"access_token":"abc","token_type":"bearer","expires_in":"60"}"#))?;
/// let now = SystemTime::UNIX_EPOCH;
/// let token = parse_token_response(&response, now, TokenParseOptions::default())?;
/// assert_eq!(token.access_token.secret(), "abc");
/// assert_eq!(token.token_type, TokenType::Bearer);
/// assert_eq!(token.expires_at, Some(now + Duration::from_secs(60)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse_token_response(
    response: &HttpResponse,
    now: SystemTime,
    options: TokenParseOptions,
) -> Result<Token, Error> {
    let map = response::oauth_json(response)?;
    parse_token_json(map, response.status(), now, options)
}

/// Parses the members of a token response already read as a JSON object.
pub fn parse_token_json(
    mut map: Map<String, Value>,
    status: http::StatusCode,
    now: SystemTime,
    options: TokenParseOptions,
) -> Result<Token, Error> {
    // Some servers send an RFC 6749 §5.2 error body with a 200 status: a body with
    // `error` and no `access_token` is an error whatever the status says.
    if !map.contains_key("access_token")
        && let Some(err) = OAuthError::from_json(&map, Some(status))
    {
        return Err(Error::OAuth(err));
    }
    let access_token = opt_str(&map, "access_token")?
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::invalid_response("`access_token` is missing or empty"))?;
    let token_type = opt_str(&map, "token_type")?
        .map(|t| TokenType::parse(t.trim()))
        .unwrap_or(TokenType::Bearer);
    // `opt_seconds` reads zero and negative numbers as 0: a server sending that means
    // "unknown" rather than "already expired" (taken literally, every call would fetch).
    let lifetime = opt_seconds(&map, "expires_in")?
        .filter(|&seconds| seconds > 0)
        .map(Duration::from_secs)
        .or(options.default_expires_in);
    let refresh_token = opt_str(&map, "refresh_token")?
        .filter(|t| !t.is_empty())
        .map(RefreshToken::new);
    let scope = scope(&map);
    for known in ["access_token", "token_type", "expires_in", "refresh_token"] {
        map.remove(known);
    }
    if scope.is_some() {
        map.remove("scope");
    }
    Ok(Token {
        access_token: AccessToken::new(access_token),
        token_type,
        // A lifetime too large to represent is treated as "no known expiry".
        expires_at: lifetime.and_then(|l| now.checked_add(l)),
        refresh_token,
        scope,
        extra: map,
    })
}

/// `scope` (RFC 6749 §5.1: space-delimited, §3.3) as one string. Some servers send an
/// array of strings, joined here with spaces. The scope only informs: any other type is
/// `None` and stays in [`Token::extra`] as sent, rather than costing the token.
fn scope(map: &Map<String, Value>) -> Option<String> {
    match map.get("scope")? {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str())
            .collect::<Option<Vec<&str>>>()
            .map(|parts| parts.join(" ")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn parse(status: u16, body: &str) -> Result<Token, Error> {
        let response = http::Response::builder()
            .status(status)
            .body(Bytes::from(body.to_owned()))
            .unwrap();
        parse_token_response(
            &response,
            SystemTime::UNIX_EPOCH,
            TokenParseOptions::default(),
        )
    }

    #[test]
    fn communico_shape() {
        let t = parse(
            200,
            r#"{"access_token":"e29d7da8e29d7da8e29d7da8e29d7da8e29d7da8","token_type":"Bearer","expires_in":3600,"scope":"EVENTS"}"#,
        )
        .unwrap();
        assert_eq!(t.scope.as_deref(), Some("EVENTS"));
        assert_eq!(
            t.expires_at,
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(3600))
        );
        assert!(t.refresh_token.is_none());
    }

    #[test]
    fn lenient_variants() {
        let t = parse(
            201,
            r#"{"access_token":"a","token_type":"BEARER","expires_in":"10","id_token":"x.y.z"}"#,
        )
        .unwrap();
        assert_eq!(t.token_type, TokenType::Bearer);
        assert_eq!(
            t.expires_at,
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(10))
        );
        assert!(t.extra.contains_key("id_token"));
        let t = parse(200, r#"{"access_token":"a"}"#).unwrap();
        assert_eq!(t.token_type, TokenType::Bearer);
        assert_eq!(
            t.expires_at,
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(3600))
        );
        let t = parse(
            200,
            r#"{"access_token":"a","token_type":"mac","expires_in":null}"#,
        )
        .unwrap();
        assert_eq!(t.token_type, TokenType::Other("mac".into()));
    }

    #[test]
    fn a_byte_order_mark_and_scope_as_an_array_are_read() {
        // RFC 8259 §8.1: a parser may ignore a leading BOM; some servers send one.
        let t = parse(
            200,
            "\u{FEFF}{\"access_token\":\"a\",\"token_type\":\"Bearer\",\"expires_in\":60,\"scope\":[\"EVENTS\",\"ROOMS\"]}",
        )
        .unwrap();
        assert_eq!(t.access_token.secret(), "a");
        assert_eq!(t.scope.as_deref(), Some("EVENTS ROOMS"));
        assert!(t.extra.is_empty());
        // A scope of another shape costs nothing and is kept as sent.
        for odd in ["7", "{\"a\":1}", "[\"EVENTS\",2]"] {
            let t = parse(200, &format!("{{\"access_token\":\"a\",\"scope\":{odd}}}")).unwrap();
            assert_eq!(t.scope, None, "{odd}");
            assert_eq!(t.extra["scope"].to_string(), odd);
        }
        let t = parse(200, r#"{"access_token":"a","scope":"EVENTS"}"#).unwrap();
        assert_eq!(t.scope.as_deref(), Some("EVENTS"));
        // A BOM before something that is not JSON is still refused.
        assert!(matches!(
            parse(200, "\u{FEFF}<html></html>"),
            Err(Error::UnexpectedResponse { .. })
        ));
    }

    #[test]
    fn zero_or_negative_expires_in_falls_back_to_the_default_lifetime() {
        let default = Some(SystemTime::UNIX_EPOCH + Duration::from_secs(3600));
        for expires_in in ["0", "-5", r#""0""#, r#""-30""#, "0.4"] {
            let body = format!(r#"{{"access_token":"a","expires_in":{expires_in}}}"#);
            let t = parse(200, &body).unwrap();
            assert_eq!(t.expires_at, default, "expires_in {expires_in}");
        }
        // Without a default, such a token is kept until rejected, not born expired.
        let response = http::Response::builder()
            .status(200)
            .body(Bytes::from_static(
                br#"{"access_token":"a","expires_in":0}"#,
            ))
            .unwrap();
        let options = TokenParseOptions::default().with_default_expires_in(None);
        let t = parse_token_response(&response, SystemTime::UNIX_EPOCH, options).unwrap();
        assert_eq!(t.expires_at, None);
    }

    #[test]
    fn header_error_blames_the_token_type_or_the_access_token_without_showing_them() {
        let err = authorization_header(
            &TokenType::Other("bad\ntype".into()),
            &AccessToken::new("SECRET"),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("token type or access token"), "{text}");
        assert!(!text.contains("SECRET"), "{text}");
    }

    #[test]
    fn errors_are_typed() {
        assert!(matches!(
            parse(400, r#"{"error":"invalid_client"}"#),
            Err(Error::OAuth(_))
        ));
        assert!(matches!(
            parse(200, r#"{"error":"invalid_grant"}"#),
            Err(Error::OAuth(_))
        ));
        assert!(matches!(
            parse(500, "<html>oops</html>"),
            Err(Error::UnexpectedResponse { .. })
        ));
        assert!(matches!(
            parse(200, r#"{"token_type":"bearer"}"#),
            Err(Error::InvalidResponse { .. })
        ));
        assert!(matches!(
            parse(200, r#"{"access_token":""}"#),
            Err(Error::InvalidResponse { .. })
        ));
        assert!(matches!(
            parse(200, r#"{"access_token":7}"#),
            Err(Error::InvalidResponse { .. })
        ));
        assert!(matches!(
            parse(200, r#"{"access_token":"a","expires_in":"later"}"#),
            Err(Error::InvalidResponse { .. })
        ));
    }

    #[test]
    fn debug_shows_no_secret() {
        let t = parse(
            200,
            r#"{"access_token":"SECRET_A","refresh_token":"SECRET_R","id_token":"SECRET_I"}"#,
        )
        .unwrap();
        let debug = format!("{t:?}");
        assert!(!debug.contains("SECRET"), "{debug}");
        assert!(debug.contains("id_token"));
    }

    #[test]
    fn freshness_respects_margin() {
        let t = Token::bearer(
            AccessToken::new("a"),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(100)),
        );
        let at = |s| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        assert!(t.is_fresh(at(50), Duration::from_secs(30)));
        assert!(!t.is_fresh(at(70), Duration::from_secs(30)));
        assert!(!t.is_fresh(at(100), Duration::ZERO));
        assert!(
            Token::bearer(AccessToken::new("a"), None).is_fresh(at(u32::MAX as u64), Duration::MAX)
        );
    }

    #[test]
    fn authorization_header_is_sensitive() {
        let t = Token::bearer(AccessToken::new("abc"), None);
        let h = t.authorization_header().unwrap();
        assert_eq!(h, "Bearer abc");
        assert!(h.is_sensitive());
        assert!(!format!("{h:?}").contains("abc"));
    }
}
