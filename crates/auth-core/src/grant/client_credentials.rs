//! The client credentials grant (RFC 6749 §4.4): a confidential client obtains a token
//! for itself, with no user involved.
//!
//! ```
//! use std::time::SystemTime;
//! use auth_core::grant::client_credentials::ClientCredentialsGrant;
//! use auth_core::{BasicEncoding, ClientAuth, ClientSecret};
//!
//! // Communico: HTTP Basic over the raw `key:secret`.
//! let grant = ClientCredentialsGrant::new(
//!     url::Url::parse("https://api.communico.co/v3/token")?,
//!     ClientAuth::basic("key", ClientSecret::new("secret"), BasicEncoding::Raw),
//! );
//! let request = grant.request()?;
//! assert_eq!(request.body(), "grant_type=client_credentials");
//!
//! let response = http::Response::new(bytes::Bytes::from_static(
//!     br#"{"access_token":"at","token_type":"Bearer","expires_in":3600}"#,
//! ));
//! let token = grant.parse(&response, SystemTime::now())?;
//! assert_eq!(token.access_token.secret(), "at");
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
use crate::provider::TokenSource;
use crate::token::{Token, TokenParseOptions, parse_token_response};
use crate::transport::{HttpRequest, HttpResponse, HttpTransport, Idempotency};

/// The client credentials token request and its parsing.
#[derive(Clone)]
pub struct ClientCredentialsGrant {
    token_endpoint: Url,
    client: ClientAuth,
    scope: Option<String>,
    extra: Vec<(String, String)>,
    options: TokenParseOptions,
}

impl fmt::Debug for ClientCredentialsGrant {
    // Extra parameters are where a `client_assertion` or an API key goes: names only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let extra: Vec<&str> = self.extra.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("ClientCredentialsGrant")
            .field("token_endpoint", &self.token_endpoint.as_str())
            .field("client", &self.client)
            .field("scope", &self.scope)
            .field("extra", &extra)
            .field("options", &self.options)
            .finish()
    }
}

impl ClientCredentialsGrant {
    /// A grant against `token_endpoint`, authenticated as `client` (which must be
    /// confidential: RFC 6749 §4.4 allows this grant to no one else).
    pub fn new(token_endpoint: Url, client: ClientAuth) -> Self {
        Self {
            token_endpoint,
            client,
            scope: None,
            extra: Vec::new(),
            options: TokenParseOptions::default(),
        }
    }

    /// Asks for `scope` (space-separated scope tokens).
    #[must_use]
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Adds another form parameter (for example `audience` or `resource`).
    #[must_use]
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    /// Sets how responses are read (the lifetime assumed without `expires_in`).
    #[must_use]
    pub fn parse_options(mut self, options: TokenParseOptions) -> Self {
        self.options = options;
        self
    }

    /// The token endpoint.
    pub fn token_endpoint(&self) -> &Url {
        &self.token_endpoint
    }

    /// Builds the token request: a form POST of `grant_type=client_credentials` (and
    /// `scope`), with the client authenticated as configured.
    ///
    /// Marked [`Idempotency::Retryable`]: asking twice only yields two tokens. Refused
    /// with [`Error::InsecureUrl`] before anything is built if the endpoint is not
    /// `https` (or loopback), and with [`Error::InvalidConfig`] for a public client or
    /// an extra parameter that repeats one the grant sets.
    pub fn request(&self) -> Result<HttpRequest, Error> {
        if !self.client.is_confidential() {
            return Err(Error::invalid_config(
                "the client credentials grant needs a client secret (RFC 6749 §4.4)",
            ));
        }
        const RESERVED: &[&str] = &["grant_type", "scope", "client_id", "client_secret"];
        let mut params: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
        if let Some(scope) = &self.scope {
            params.push(("scope", scope));
        }
        for (name, value) in &self.extra {
            if RESERVED.contains(&name.as_str()) || params.iter().any(|(n, _)| n == name) {
                return Err(Error::invalid_config(format!(
                    "the parameter `{name}` would be sent twice (RFC 6749 §3.2)"
                )));
            }
            params.push((name, value));
        }
        form_post(
            &self.token_endpoint,
            Some(&self.client),
            &params,
            Idempotency::Retryable,
        )
    }

    /// Reads the token endpoint's answer, received at about `now`; see
    /// [`parse_token_response`] for what is accepted.
    pub fn parse(&self, response: &HttpResponse, now: SystemTime) -> Result<Token, Error> {
        parse_token_response(response, now, self.options)
    }
}

/// A [`TokenSource`] that runs a [`ClientCredentialsGrant`] through a transport: the
/// fetch behind a [`TokenProvider`](crate::TokenProvider) cache.
///
/// ```
/// use std::sync::Arc;
/// use auth_core::grant::client_credentials::{ClientCredentialsGrant, ClientCredentialsSource};
/// use auth_core::transport::from_fn;
/// use auth_core::{BasicEncoding, ClientAuth, ClientSecret, TokenSource};
///
/// let grant = ClientCredentialsGrant::new(
///     url::Url::parse("https://api.communico.co/v3/token")?,
///     ClientAuth::basic("key", ClientSecret::new("secret"), BasicEncoding::Raw),
/// );
/// let transport = from_fn(|_request| async {
///     Ok(http::Response::new(bytes::Bytes::from_static(br#"{"access_token":"at"}"#)))
/// });
/// let source: Arc<dyn TokenSource> = Arc::new(ClientCredentialsSource::new(grant, transport));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ClientCredentialsSource<T> {
    grant: ClientCredentialsGrant,
    transport: T,
    clock: Arc<dyn Clock>,
}

impl<T> fmt::Debug for ClientCredentialsSource<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentialsSource")
            .field("grant", &self.grant)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl<T> ClientCredentialsSource<T> {
    /// A source sending `grant`'s requests through `transport`, timing tokens with the
    /// system clock.
    pub fn new(grant: ClientCredentialsGrant, transport: T) -> Self {
        Self {
            grant,
            transport,
            clock: Arc::new(SystemClock),
        }
    }

    /// Uses `clock` to compute expiry times (for tests).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The grant.
    pub fn grant(&self) -> &ClientCredentialsGrant {
        &self.grant
    }
}

#[async_trait]
impl<T: HttpTransport> TokenSource for ClientCredentialsSource<T> {
    /// Requests a new token; `current` is not needed (this grant has no refresh token).
    async fn fetch(&self, _current: Option<&Token>) -> Result<Token, Error> {
        let request = self.grant.request()?;
        // The clock is read before sending, so a slow answer makes the token expire
        // early rather than late.
        let sent_at = self.clock.now();
        let response = self.transport.send(request).await?;
        self.grant.parse(&response, sent_at)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use bytes::Bytes;
    use http::header::{AUTHORIZATION, CONTENT_TYPE};

    use super::*;
    use crate::clock::ManualClock;
    use crate::oauth_error::ErrorCode;
    use crate::transport::{RequestOptions, TransportError, TransportErrorKind, from_fn};
    use crate::{BasicEncoding, ClientSecret};

    fn endpoint() -> Url {
        Url::parse("https://api.communico.co/v3/token").unwrap()
    }

    fn communico() -> ClientCredentialsGrant {
        ClientCredentialsGrant::new(
            endpoint(),
            ClientAuth::basic(
                "KEY",
                ClientSecret::new("SECRET:with/odd+chars"),
                BasicEncoding::Raw,
            ),
        )
    }

    fn response(status: u16, body: &'static str) -> HttpResponse {
        http::Response::builder()
            .status(status)
            .body(Bytes::from_static(body.as_bytes()))
            .unwrap()
    }

    #[test]
    fn communico_request_uses_raw_basic_and_a_form_body() {
        let req = communico().request().unwrap();
        assert_eq!(req.method(), http::Method::POST);
        assert_eq!(req.uri(), "https://api.communico.co/v3/token");
        assert_eq!(req.body(), "grant_type=client_credentials");
        assert_eq!(
            req.headers()[CONTENT_TYPE],
            "application/x-www-form-urlencoded"
        );
        let auth = &req.headers()[AUTHORIZATION];
        assert_eq!(
            auth.to_str().unwrap(),
            format!("Basic {}", STANDARD.encode("KEY:SECRET:with/odd+chars"))
        );
        assert!(auth.is_sensitive());
        assert_eq!(RequestOptions::of(&req).idempotency, Idempotency::Retryable);
    }

    #[test]
    fn scope_and_params_go_in_the_body() {
        let req = communico()
            .scope("EVENTS REGISTRATIONS")
            .param("audience", "x")
            .request()
            .unwrap();
        assert_eq!(
            req.body(),
            "grant_type=client_credentials&scope=EVENTS+REGISTRATIONS&audience=x"
        );
        let post =
            ClientCredentialsGrant::new(endpoint(), ClientAuth::post("id", ClientSecret::new("s")));
        assert_eq!(
            post.request().unwrap().body(),
            "grant_type=client_credentials&client_id=id&client_secret=s"
        );
    }

    #[test]
    fn bad_configurations_are_refused_before_a_request_exists() {
        let insecure = ClientCredentialsGrant::new(
            Url::parse("http://api.communico.co/v3/token").unwrap(),
            ClientAuth::basic("k", ClientSecret::new("s"), BasicEncoding::Raw),
        );
        assert!(matches!(insecure.request(), Err(Error::InsecureUrl { .. })));
        let public = ClientCredentialsGrant::new(endpoint(), ClientAuth::public("k"));
        assert!(matches!(public.request(), Err(Error::InvalidConfig { .. })));
        for name in ["grant_type", "client_secret", "scope"] {
            assert!(matches!(
                communico().param(name, "x").request(),
                Err(Error::InvalidConfig { .. })
            ));
        }
        // Loopback is fine over plain http (local test servers).
        let local = ClientCredentialsGrant::new(
            Url::parse("http://127.0.0.1:8080/token").unwrap(),
            ClientAuth::basic("k", ClientSecret::new("s"), BasicEncoding::Raw),
        );
        assert!(local.request().is_ok());
    }

    #[test]
    fn parse_is_lenient_and_honours_options() {
        let now = SystemTime::UNIX_EPOCH;
        let t = communico()
            .parse(
                &response(
                    200,
                    r#"{"access_token":"a","token_type":"bearer","expires_in":"120"}"#,
                ),
                now,
            )
            .unwrap();
        assert_eq!(t.expires_at, Some(now + Duration::from_secs(120)));
        let t = communico()
            .parse_options(TokenParseOptions::default().with_default_expires_in(None))
            .parse(&response(200, r#"{"access_token":"a"}"#), now)
            .unwrap();
        assert_eq!(t.expires_at, None);
        match communico().parse(&response(401, r#"{"error":"invalid_client"}"#), now) {
            Err(Error::OAuth(e)) => assert_eq!(e.code, ErrorCode::InvalidClient),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn source_sends_through_the_transport_and_times_with_the_clock() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let transport = from_fn(move |req: HttpRequest| {
            log.lock().unwrap().push(req.body().clone());
            async { Ok(response(200, r#"{"access_token":"tok","expires_in":60}"#)) }
        });
        let clock = ManualClock::default();
        let source = ClientCredentialsSource::new(communico(), transport)
            .with_clock(Arc::new(clock.clone()));
        let token = source.fetch(None).await.unwrap();
        assert_eq!(token.access_token.secret(), "tok");
        assert_eq!(
            token.expires_at,
            Some(clock.now() + Duration::from_secs(60))
        );
        assert_eq!(
            seen.lock().unwrap().as_slice(),
            ["grant_type=client_credentials"]
        );
        // A previous token changes nothing: the grant is simply run again.
        source.fetch(Some(&token)).await.unwrap();
        assert_eq!(seen.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn source_passes_transport_errors_on() {
        let transport = from_fn(|_req: HttpRequest| async {
            Err(TransportError::new(TransportErrorKind::Connect, "refused"))
        });
        let source = ClientCredentialsSource::new(communico(), transport);
        let err = source.fetch(None).await.unwrap_err();
        assert!(matches!(err, Error::Transport(_)));
        assert!(err.is_retryable());
    }

    #[test]
    fn debug_leaks_no_secret() {
        let source = ClientCredentialsSource::new(communico(), ());
        let debug = format!("{source:?} {:?}", communico());
        assert!(!debug.contains("SECRET"), "{debug}");
        let req = communico().request().unwrap();
        assert!(!format!("{req:?}").contains(&STANDARD.encode("KEY:SECRET:with/odd+chars")));
    }

    #[test]
    fn debug_shows_extra_parameter_names_not_values() {
        let grant = communico()
            .param("client_assertion", "SECRET_ASSERTION")
            .param("api_key", "SECRET_KEY");
        let debug = format!(
            "{grant:?} {:?}",
            ClientCredentialsSource::new(grant.clone(), ())
        );
        assert!(!debug.contains("SECRET"), "{debug}");
        assert!(debug.contains("client_assertion"), "{debug}");
        assert!(debug.contains("api_key"), "{debug}");
    }
}
