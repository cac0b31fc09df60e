//! Refreshing an access token (RFC 6749 §6), with refresh token rotation.
//!
//! Servers may issue a new refresh token on every refresh and revoke the whole grant when
//! an old one is used again (RFC 9700 §4.14.2). Hence:
//! - a returned `refresh_token` replaces the old one, and an absent one keeps the old;
//! - the request is marked [`Idempotency::Never`], so no retry layer resends a token
//!   that may already have been rotated;
//! - the same refresh token must never be sent twice in parallel: drive
//!   [`RefreshSource`] through a single-flight cache such as
//!   [`CachingProvider`](crate::CachingProvider).
//!
//! ```
//! use std::time::SystemTime;
//! use auth_core::grant::refresh::{parse_refresh_response, refresh_request};
//! use auth_core::{ClientAuth, RefreshToken};
//!
//! let old = RefreshToken::new("rt-1");
//! let request = refresh_request(
//!     &url::Url::parse("https://api.attendium.com/oauth2/token")?,
//!     &ClientAuth::public("my-client-id"),
//!     &old,
//!     None,
//! )?;
//! assert_eq!(request.body(), "grant_type=refresh_token&refresh_token=rt-1&client_id=my-client-id");
//!
//! // The server did not rotate: the old refresh token is kept.
//! let response = http::Response::new(bytes::Bytes::from_static(br#"{"access_token":"at-2"}"#));
//! let token = parse_refresh_response(&response, &old, SystemTime::now(), Default::default())?;
//! assert_eq!(token.refresh_token, Some(old));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use url::Url;

use crate::Error;
use crate::client_auth::{ClientAuth, form_post};
use crate::clock::{Clock, SystemClock};
use crate::oauth_error::ErrorCode;
use crate::provider::TokenSource;
use crate::secret::RefreshToken;
use crate::token::{Token, TokenParseOptions, parse_token_response};
use crate::transport::{HttpRequest, HttpResponse, HttpTransport, Idempotency};

/// Builds a refresh request: a form POST of `grant_type=refresh_token`, the refresh
/// token and, if given, a narrower `scope` (RFC 6749 §6), with the client authenticated
/// as `client` (a public client sends its `client_id`).
///
/// Marked [`Idempotency::Never`]: see the [module documentation](self). Refused with
/// [`Error::InsecureUrl`] before anything is built if the endpoint is not `https` (or
/// loopback).
pub fn refresh_request(
    token_endpoint: &Url,
    client: &ClientAuth,
    refresh_token: &RefreshToken,
    scope: Option<&str>,
) -> Result<HttpRequest, Error> {
    let mut params = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.secret()),
    ];
    if let Some(scope) = scope {
        params.push(("scope", scope));
    }
    form_post(token_endpoint, Some(client), &params, Idempotency::Never)
}

/// Reads the answer to a refresh request.
///
/// As [`parse_token_response`], and in addition:
/// - a response without `refresh_token` keeps `previous` (the server did not rotate);
///   one with a `refresh_token` replaces it;
/// - `invalid_grant` (the refresh token expired, was revoked or was reused) is
///   [`Error::LoginRequired`] carrying the server's description: no retry can help,
///   the user must log in again.
pub fn parse_refresh_response(
    response: &HttpResponse,
    previous: &RefreshToken,
    now: SystemTime,
    options: TokenParseOptions,
) -> Result<Token, Error> {
    let mut token = parse_token_response(response, now, options).map_err(|err| match err {
        Error::OAuth(e) if e.code == ErrorCode::InvalidGrant => Error::LoginRequired {
            reason: Some(
                e.description
                    .unwrap_or_else(|| "the refresh token was rejected (invalid_grant)".into()),
            ),
        },
        other => other,
    })?;
    if token.refresh_token.is_none() {
        token.refresh_token = Some(previous.clone());
    }
    Ok(token)
}

/// A [`TokenSource`] that refreshes the current token through a transport.
///
/// It uses the refresh token of the `current` token it is handed (the last one
/// obtained); before any token exists it uses the one given to
/// [`with_refresh_token`](Self::with_refresh_token) (for example loaded from a
/// [`TokenStore`](crate::store::TokenStore)). With neither it fails with
/// [`Error::LoginRequired`].
///
/// ```
/// use auth_core::grant::refresh::RefreshSource;
/// use auth_core::transport::from_fn;
/// use auth_core::{ClientAuth, RefreshToken};
///
/// let transport = from_fn(|_request| async {
///     Ok(http::Response::new(bytes::Bytes::from_static(br#"{"access_token":"at"}"#)))
/// });
/// let source = RefreshSource::new(
///     url::Url::parse("https://api.attendium.com/oauth2/token")?,
///     ClientAuth::public("my-client-id"),
///     transport,
/// )
/// .with_refresh_token(RefreshToken::new("stored refresh token"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RefreshSource<T> {
    token_endpoint: Url,
    client: ClientAuth,
    transport: T,
    scope: Option<String>,
    initial: Option<RefreshToken>,
    options: TokenParseOptions,
    clock: Arc<dyn Clock>,
}

impl<T> fmt::Debug for RefreshSource<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshSource")
            .field("token_endpoint", &self.token_endpoint.as_str())
            .field("client", &self.client)
            .field("scope", &self.scope)
            .field("initial", &self.initial)
            .field("options", &self.options)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl<T> RefreshSource<T> {
    /// A source refreshing at `token_endpoint` as `client`, through `transport`.
    pub fn new(token_endpoint: Url, client: ClientAuth, transport: T) -> Self {
        Self {
            token_endpoint,
            client,
            transport,
            scope: None,
            initial: None,
            options: TokenParseOptions::default(),
            clock: Arc::new(SystemClock),
        }
    }

    /// The refresh token to use while no token has been obtained yet.
    #[must_use]
    pub fn with_refresh_token(mut self, refresh_token: RefreshToken) -> Self {
        self.initial = Some(refresh_token);
        self
    }

    /// Asks for a narrower `scope` on every refresh.
    #[must_use]
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Sets how responses are read.
    #[must_use]
    pub fn parse_options(mut self, options: TokenParseOptions) -> Self {
        self.options = options;
        self
    }

    /// Uses `clock` to compute expiry times (for tests).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

#[async_trait]
impl<T: HttpTransport> TokenSource for RefreshSource<T> {
    async fn fetch(&self, current: Option<&Token>) -> Result<Token, Error> {
        let refresh_token = match current {
            Some(token) => token.refresh_token.as_ref(),
            None => self.initial.as_ref(),
        }
        .ok_or_else(|| Error::LoginRequired {
            reason: Some("no refresh token is available".into()),
        })?;
        let request = refresh_request(
            &self.token_endpoint,
            &self.client,
            refresh_token,
            self.scope.as_deref(),
        )?;
        // Read before sending: a slow answer makes the token expire early, not late.
        let sent_at = self.clock.now();
        let response = self.transport.send(request).await?;
        parse_refresh_response(&response, refresh_token, sent_at, self.options)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use bytes::Bytes;

    use super::*;
    use crate::clock::ManualClock;
    use crate::secret::AccessToken;
    use crate::transport::{RequestOptions, from_fn};
    use crate::{BasicEncoding, ClientSecret};

    fn endpoint() -> Url {
        Url::parse("https://api.attendium.com/oauth2/token").unwrap()
    }

    fn response(status: u16, body: &str) -> HttpResponse {
        http::Response::builder()
            .status(status)
            .body(Bytes::from(body.to_owned()))
            .unwrap()
    }

    fn parse(status: u16, body: &str) -> Result<Token, Error> {
        parse_refresh_response(
            &response(status, body),
            &RefreshToken::new("OLD"),
            SystemTime::UNIX_EPOCH,
            TokenParseOptions::default(),
        )
    }

    #[test]
    fn request_shape_for_public_and_confidential_clients() {
        let rt = RefreshToken::new("r/t+1");
        let req = refresh_request(&endpoint(), &ClientAuth::public("cli"), &rt, None).unwrap();
        assert_eq!(
            req.body(),
            "grant_type=refresh_token&refresh_token=r%2Ft%2B1&client_id=cli"
        );
        assert_eq!(RequestOptions::of(&req).idempotency, Idempotency::Never);
        let basic = ClientAuth::basic("id", ClientSecret::new("s"), BasicEncoding::FormUrlEncoded);
        let req = refresh_request(&endpoint(), &basic, &rt, Some("read")).unwrap();
        assert_eq!(
            req.body(),
            "grant_type=refresh_token&refresh_token=r%2Ft%2B1&scope=read"
        );
        assert!(req.headers().contains_key(http::header::AUTHORIZATION));
    }

    #[test]
    fn insecure_endpoint_is_refused() {
        let err = refresh_request(
            &Url::parse("http://api.attendium.com/oauth2/token").unwrap(),
            &ClientAuth::public("cli"),
            &RefreshToken::new("SECRETRT"),
            None,
        )
        .unwrap_err();
        assert!(matches!(err, Error::InsecureUrl { .. }));
        assert!(!format!("{err} {err:?}").contains("SECRETRT"));
    }

    #[test]
    fn rotation_replaces_and_absence_keeps() {
        let t = parse(200, r#"{"access_token":"a","refresh_token":"NEW"}"#).unwrap();
        assert_eq!(t.refresh_token.unwrap().secret(), "NEW");
        let t = parse(200, r#"{"access_token":"a"}"#).unwrap();
        assert_eq!(t.refresh_token.unwrap().secret(), "OLD");
        // An empty or null refresh_token is no rotation either.
        let t = parse(200, r#"{"access_token":"a","refresh_token":""}"#).unwrap();
        assert_eq!(t.refresh_token.unwrap().secret(), "OLD");
        let t = parse(200, r#"{"access_token":"a","refresh_token":null}"#).unwrap();
        assert_eq!(t.refresh_token.unwrap().secret(), "OLD");
    }

    #[test]
    fn lenient_token_fields() {
        let t = parse(
            200,
            r#"{"access_token":"a","token_type":"bearer","expires_in":"30"}"#,
        )
        .unwrap();
        assert_eq!(t.token_type, crate::TokenType::Bearer);
        assert_eq!(
            t.expires_at,
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(30))
        );
    }

    #[test]
    fn invalid_grant_means_login_required() {
        match parse(
            400,
            r#"{"error":"invalid_grant","error_description":"Refresh token reused"}"#,
        ) {
            Err(Error::LoginRequired { reason }) => {
                assert_eq!(reason.as_deref(), Some("Refresh token reused"))
            }
            other => panic!("{other:?}"),
        }
        // A description echoing the submitted refresh token is masked (by `OAuthError`).
        match parse(
            400,
            r#"{"error":"invalid_grant","error_description":"refresh_token=SECRET1 is revoked"}"#,
        ) {
            Err(err @ Error::LoginRequired { .. }) => {
                let text = format!("{err} {err:?}");
                assert!(!text.contains("SECRET1"), "{text}");
                assert!(text.contains("refresh_token=*** is revoked"), "{text}");
            }
            other => panic!("{other:?}"),
        }
        match parse(400, r#"{"error":"invalid_grant"}"#) {
            Err(Error::LoginRequired { reason }) => {
                assert!(reason.unwrap().contains("invalid_grant"))
            }
            other => panic!("{other:?}"),
        }
        // Other errors keep their type: a server error may pass.
        match parse(503, r#"{"error":"temporarily_unavailable"}"#) {
            Err(e @ Error::OAuth(_)) => assert!(e.is_retryable()),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse(502, "<html>Bad gateway</html>"),
            Err(Error::UnexpectedResponse { .. })
        ));
    }

    fn recording_transport(
        body: &'static str,
    ) -> (Arc<Mutex<Vec<String>>>, impl HttpTransport + use<>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let transport = from_fn(move |req: HttpRequest| {
            log.lock()
                .unwrap()
                .push(String::from_utf8(req.body().to_vec()).unwrap());
            async move { Ok(response(200, body)) }
        });
        (seen, transport)
    }

    #[tokio::test]
    async fn source_uses_the_current_refresh_token_and_keeps_it() {
        let (seen, transport) = recording_transport(r#"{"access_token":"at2","expires_in":10}"#);
        let clock = ManualClock::default();
        let source = RefreshSource::new(endpoint(), ClientAuth::public("cli"), transport)
            .with_refresh_token(RefreshToken::new("INITIAL"))
            .with_clock(Arc::new(clock.clone()));
        let current = Token::bearer(AccessToken::new("at1"), None)
            .with_refresh_token(RefreshToken::new("CURRENT"));
        let token = source.fetch(Some(&current)).await.unwrap();
        assert_eq!(token.access_token.secret(), "at2");
        assert_eq!(token.refresh_token.unwrap().secret(), "CURRENT");
        assert_eq!(
            token.expires_at,
            Some(clock.now() + Duration::from_secs(10))
        );
        assert!(seen.lock().unwrap()[0].contains("refresh_token=CURRENT"));

        // Before any token: the initial refresh token.
        source.fetch(None).await.unwrap();
        assert!(seen.lock().unwrap()[1].contains("refresh_token=INITIAL"));
    }

    #[tokio::test]
    async fn source_without_refresh_token_needs_a_login() {
        let (seen, transport) = recording_transport(r#"{"access_token":"x"}"#);
        let source = RefreshSource::new(endpoint(), ClientAuth::public("cli"), transport);
        assert!(matches!(
            source.fetch(None).await,
            Err(Error::LoginRequired { .. })
        ));
        let current = Token::bearer(AccessToken::new("at1"), None);
        assert!(matches!(
            source.fetch(Some(&current)).await,
            Err(Error::LoginRequired { .. })
        ));
        assert!(seen.lock().unwrap().is_empty(), "nothing may be sent");
    }

    #[test]
    fn debug_leaks_no_secret() {
        let source = RefreshSource::new(
            endpoint(),
            ClientAuth::post("cli", ClientSecret::new("SECRETCS")),
            (),
        )
        .with_refresh_token(RefreshToken::new("SECRETRT"));
        let debug = format!("{source:?}");
        assert!(!debug.contains("SECRET"), "{debug}");
        let err = parse(
            400,
            r#"{"error":"invalid_grant","refresh_token":"SECRETRT"}"#,
        )
        .unwrap_err();
        assert!(!format!("{err} {err:?}").contains("SECRET"));
    }
}
