//! A faithful local stand-in for Attendium: an OAuth 2.0 authorization server with PKCE
//! and dynamic client registration, and the bearer-protected `POST /graphql`.
//!
//! The server follows the Attendium fact sheet and the RFCs it points to: RFC 8414
//! metadata, RFC 7591 registration of public clients, the authorization code grant with
//! S256 PKCE only (RFC 7636, RFC 9700 §2.1.1), single-use codes whose reuse revokes the
//! grant, rotating refresh tokens whose reuse revokes the whole family (RFC 9700
//! §4.14.2), RFC 7009 revocation and RFC 9207 `iss` in the authorization response. Where
//! real servers differ, a [`Quirks`] switch picks the behaviour.
//!
//! # Mounting
//!
//! [`Attendium::new`] takes the issuer, the public URL the server is reached at, so bind
//! the listener first. Every route of [`Attendium::router`] is an absolute path derived
//! from the issuer: with an issuer `http://127.0.0.1:PORT` the endpoints are
//! `/oauth2/authorize`, `/oauth2/token`, `/oauth2/register`, `/oauth2/revoke`,
//! `/graphql`, `/.well-known/oauth-authorization-server` and
//! `/.well-known/openid-configuration`. With an issuer path such as `/attendium`, the
//! endpoints and the OpenID document move under it and the RFC 8414 document sits at
//! `/.well-known/oauth-authorization-server/attendium` (RFC 8414 §3.1), outside it: so
//! merge the router at the server root ([`axum::Router::merge`]), never `nest` it.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use sandbox::attendium::{Attendium, AttendiumConfig};
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let issuer = url::Url::parse(&format!("http://{}", listener.local_addr()?))?;
//! let attendium = Attendium::new(AttendiumConfig::new(), issuer)?;
//! let server = tokio::spawn(axum::serve(listener, attendium.router()).into_future());
//! assert!(attendium.issuer().starts_with("http://127.0.0.1:"));
//! assert_eq!(attendium.counters().registrations, 0);
//! server.abort();
//! # Ok(())
//! # }
//! ```

mod authorize;
mod browser;
mod config;
mod faults;
mod graphql;
mod http_util;
mod metadata;
mod random;
mod registration;
mod revocation;
mod state;
mod token;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use auth_core::clock::Clock;
use axum::Router;
use axum::extract::{Request, State as AxumState};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use tokio::sync::Notify;
use url::Url;

pub use browser::follow_authorization;
pub use config::{
    Approval, AttendiumConfig, CallbackIss, DEFAULT_ACCESS_TOKEN_TTL, DEFAULT_CODE_TTL,
    DEFAULT_USER_ID, DiscoveryDocuments, ExpiresInFormat, LoopbackPorts, Quirks, RefreshRotation,
    RegistrationStatus, TokenRandomness, TokenTypeCase,
};
pub use faults::{CODE_REFUSED_DESCRIPTION, HttpFault};
pub use faults::{CallbackTampering, EndpointFault, FaultTimes, GraphqlFault, OAuthEndpoint};
pub use graphql::SCHEMA_SDL;

use state::{Decision, State};

/// What can go wrong when driving the server from a test.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttendiumError {
    /// The issuer must be an `http` or `https` URL without query, fragment or user info,
    /// and with a path of plain characters.
    #[error("the issuer must be an http(s) URL without query, fragment or user info")]
    InvalidIssuer,
    /// No authorization request with this id is waiting (already answered, or its
    /// browser went away).
    #[error("no authorization request {0} is waiting")]
    NotPending(PendingId),
    /// A redirect URI given to [`Attendium::register_client`] is not `https` or loopback
    /// `http`.
    #[error("redirect URIs must be https, or http on a loopback host")]
    InvalidRedirectUri,
    /// The operating system could not supply random bytes for a token.
    #[error("the operating system could not supply random bytes")]
    RandomUnavailable,
    /// [`follow_authorization`] could not send a request.
    #[error("the login could not be followed: {0}")]
    Browsing(#[from] auth_core::TransportError),
    /// The authorization server did not redirect back to the client: it did not approve
    /// the login by itself.
    #[error("the authorization server did not approve the login by itself (HTTP {})", .status.as_u16())]
    NotRedirected {
        /// Its answer's status.
        status: http::StatusCode,
    },
    /// The authorization server redirected to something that is not a URL.
    #[error("the authorization server redirected to something that is not a URL")]
    BadRedirect,
    /// The SDL given to [`AttendiumConfig::schema_sdl`] cannot be served: it does not
    /// parse, or is not a valid schema (GraphQL spec §3). The message names the cause.
    #[error("the GraphQL schema cannot be served: {0}")]
    InvalidSchema(String),
}

/// Identifies an authorization request waiting for [`Attendium::approve`] or
/// [`Attendium::deny`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PendingId(u64);

impl fmt::Display for PendingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// An authorization request held in [`Approval::Manual`] mode. `state` and the PKCE
/// challenge are not shown.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PendingAuthorization {
    /// Pass this to [`Attendium::approve`] or [`Attendium::deny`].
    pub id: PendingId,
    /// The requesting client.
    pub client_id: String,
    /// Where the answer will be redirected.
    pub redirect_uri: String,
    /// The requested scope, if any.
    pub scope: Option<String>,
}

/// A client registered with the server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RegisteredClient {
    /// The issued `client_id` (public clients have no secret).
    pub client_id: String,
    /// The `client_name` sent at registration.
    pub client_name: Option<String>,
    /// The registered redirect URIs.
    pub redirect_uris: Vec<String>,
    /// The grant types the client may use.
    pub grant_types: Vec<String>,
}

/// An access token issued by [`Attendium::issue_access_token`]; `Debug` never shows it.
#[derive(Clone)]
pub struct IssuedToken(String);

impl IssuedToken {
    /// The token, for an `Authorization: Bearer` header.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IssuedToken([redacted])")
    }
}

/// What the server has seen, for tests to assert on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counters {
    /// Requests per path (every route of this server, whatever the outcome).
    pub requests: BTreeMap<String, u64>,
    /// Token requests per `grant_type` as sent (`""` when missing), whatever the outcome.
    pub token_requests: BTreeMap<String, u64>,
    /// Refresh grants that issued tokens.
    pub refreshes: u64,
    /// Spent refresh tokens presented again (each revoked its family).
    pub refresh_reuses: u64,
    /// Authorization codes presented again (each revoked its grant).
    pub code_reuses: u64,
    /// Successful registrations.
    pub registrations: u64,
    /// Authorization codes issued.
    pub authorizations: u64,
    /// Successful revocations of a known token.
    pub revocations: u64,
}

impl Counters {
    /// Requests seen on `path`.
    pub fn requests_to(&self, path: &str) -> u64 {
        self.requests.get(path).copied().unwrap_or(0)
    }

    /// Token requests seen with `grant_type`.
    pub fn token_requests_for(&self, grant_type: &str) -> u64 {
        self.token_requests.get(grant_type).copied().unwrap_or(0)
    }
}

/// How many grants (one per login) exist and how many of them are revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct GrantCounts {
    /// Grants opened: one per issued code, plus one per [`Attendium::issue_access_token`].
    pub opened: usize,
    /// Grants revoked by code reuse, refresh-token reuse or revocation of a refresh token.
    pub revoked: usize,
}

/// The absolute paths this server answers on, derived from the issuer.
#[derive(Debug, Clone)]
pub(crate) struct Routes {
    pub(crate) oauth_metadata: String,
    pub(crate) openid_configuration: String,
    pub(crate) authorize: String,
    pub(crate) token: String,
    pub(crate) register: String,
    pub(crate) revoke: String,
    pub(crate) graphql: String,
}

impl Routes {
    fn for_issuer_path(path: &str) -> Self {
        let base = path.trim_end_matches('/');
        Self {
            // RFC 8414 §3.1: the well-known segment goes between host and issuer path.
            oauth_metadata: format!("/.well-known/oauth-authorization-server{base}"),
            // OpenID Connect Discovery 1.0 §4: appended to the issuer.
            openid_configuration: format!("{base}/.well-known/openid-configuration"),
            authorize: format!("{base}/oauth2/authorize"),
            token: format!("{base}/oauth2/token"),
            register: format!("{base}/oauth2/register"),
            revoke: format!("{base}/oauth2/revoke"),
            graphql: format!("{base}/graphql"),
        }
    }
}

pub(crate) struct Inner {
    /// The issuer as published: no trailing slash when the path is empty.
    pub(crate) issuer: String,
    /// `scheme://host:port`, to which route paths are appended.
    origin: String,
    pub(crate) routes: Routes,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
    pending_changed: Notify,
    /// The GraphQL schema `POST /graphql` serves.
    pub(crate) schema: async_graphql::dynamic::Schema,
}

impl Inner {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent maps (every update is a single
        // insert or flag): keep serving.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn now(&self) -> SystemTime {
        self.clock.now()
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.origin, path)
    }

    pub(crate) fn endpoint_fault(&self, endpoint: OAuthEndpoint) -> Option<EndpointFault> {
        self.lock().faults.take_endpoint(endpoint)
    }
}

/// The running server's shared state: cheap to clone, every clone sees the same server.
#[derive(Clone)]
pub struct Attendium {
    inner: Arc<Inner>,
}

impl fmt::Debug for Attendium {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attendium")
            .field("issuer", &self.inner.issuer)
            .finish_non_exhaustive()
    }
}

impl Attendium {
    /// A server configured by `config`, published at `issuer`.
    ///
    /// # Errors
    /// [`AttendiumError::InvalidIssuer`] when `issuer` is not an `http(s)` URL without
    /// query, fragment and user info (RFC 8414 §2), or its path has characters other than
    /// `A-Z a-z 0-9 - . _ ~ /`; [`AttendiumError::InvalidSchema`] when the SDL of
    /// [`AttendiumConfig::schema_sdl`] cannot be served.
    pub fn new(config: AttendiumConfig, issuer: Url) -> Result<Self, AttendiumError> {
        let plain_path = issuer
            .path()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/'));
        if !matches!(issuer.scheme(), "http" | "https")
            || issuer.host_str().is_none()
            || issuer.query().is_some()
            || issuer.fragment().is_some()
            || !issuer.username().is_empty()
            || issuer.password().is_some()
            || !plain_path
        {
            return Err(AttendiumError::InvalidIssuer);
        }
        let sdl = config.schema_sdl.as_deref().unwrap_or(graphql::SCHEMA_SDL);
        let schema = graphql::build_schema(sdl).map_err(|e| AttendiumError::InvalidSchema(e.0))?;
        let origin = issuer.origin().ascii_serialization();
        let path = issuer.path().trim_end_matches('/');
        let inner = Inner {
            issuer: format!("{origin}{path}"),
            origin,
            routes: Routes::for_issuer_path(path),
            clock: Arc::clone(&config.clock),
            state: Mutex::new(State::new(&config)),
            pending_changed: Notify::new(),
            schema,
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The issuer identifier, exactly as the metadata publishes it (no trailing slash).
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// The RFC 8414 metadata URL.
    pub fn metadata_url(&self) -> String {
        self.inner.url(&self.inner.routes.oauth_metadata)
    }

    /// The OpenID discovery URL.
    pub fn openid_configuration_url(&self) -> String {
        self.inner.url(&self.inner.routes.openid_configuration)
    }

    /// The authorization endpoint.
    pub fn authorization_endpoint(&self) -> String {
        self.inner.url(&self.inner.routes.authorize)
    }

    /// The token endpoint.
    pub fn token_endpoint(&self) -> String {
        self.inner.url(&self.inner.routes.token)
    }

    /// The registration endpoint.
    pub fn registration_endpoint(&self) -> String {
        self.inner.url(&self.inner.routes.register)
    }

    /// The revocation endpoint.
    pub fn revocation_endpoint(&self) -> String {
        self.inner.url(&self.inner.routes.revoke)
    }

    /// The GraphQL endpoint.
    pub fn graphql_endpoint(&self) -> String {
        self.inner.url(&self.inner.routes.graphql)
    }

    /// The routes of this server, with absolute paths: merge them at the server root.
    pub fn router(&self) -> Router {
        let routes = &self.inner.routes;
        Router::new()
            .route(&routes.oauth_metadata, get(metadata::oauth_metadata))
            .route(
                &routes.openid_configuration,
                get(metadata::openid_configuration),
            )
            .route(&routes.register, post(registration::register))
            .route(&routes.authorize, get(authorize::authorize))
            .route(&routes.token, post(token::token))
            .route(&routes.revoke, post(revocation::revoke))
            .route(&routes.graphql, post(graphql::graphql))
            .layer(middleware::from_fn_with_state(
                Arc::clone(&self.inner),
                faults::http_faults,
            ))
            .layer(middleware::from_fn_with_state(
                Arc::clone(&self.inner),
                count_request,
            ))
            .with_state(Arc::clone(&self.inner))
    }

    /// The quirks in force.
    pub fn quirks(&self) -> Quirks {
        self.inner.lock().quirks
    }

    /// Switches quirks; requests from now on see them.
    pub fn set_quirks(&self, quirks: Quirks) {
        self.inner.lock().quirks = quirks;
    }

    /// Switches how authorization requests are approved from now on.
    pub fn set_approval(&self, approval: Approval) {
        self.inner.lock().approval = approval;
    }

    /// A snapshot of the counters.
    pub fn counters(&self) -> Counters {
        self.inner.lock().counters.clone()
    }

    /// Sets every counter back to zero.
    pub fn reset_counters(&self) {
        self.inner.lock().counters = Counters::default();
    }

    /// Refresh grants that issued tokens so far.
    pub fn refreshes(&self) -> u64 {
        self.inner.lock().counters.refreshes
    }

    /// Token requests with `grant_type` so far, whatever their outcome.
    pub fn token_requests(&self, grant_type: &str) -> u64 {
        self.inner.lock().counters.token_requests_for(grant_type)
    }

    /// Successful registrations so far.
    pub fn registrations(&self) -> u64 {
        self.inner.lock().counters.registrations
    }

    /// Makes `POST /graphql` fail `times` times.
    pub fn inject_graphql_fault(&self, fault: GraphqlFault, times: FaultTimes) {
        self.inner.lock().faults.arm_graphql(fault, times);
    }

    /// Makes the requests `fault` concerns fail `times` times, at the HTTP layer.
    pub fn inject_http_fault(&self, fault: HttpFault, times: FaultTimes) {
        self.inner.lock().faults.arm_http(fault, times);
    }

    /// Makes an OAuth endpoint fail `times` times.
    pub fn inject_endpoint_fault(
        &self,
        endpoint: OAuthEndpoint,
        fault: EndpointFault,
        times: FaultTimes,
    ) {
        self.inner
            .lock()
            .faults
            .arm_endpoint(endpoint, fault, times);
    }

    /// Disarms every fault, callback tampering and metadata issuer override.
    pub fn clear_faults(&self) {
        let mut state = self.inner.lock();
        state.faults.clear();
        state.tampering = CallbackTampering::None;
        state.metadata_issuer = None;
    }

    /// Makes authorization responses wrong on purpose (until cleared with
    /// [`CallbackTampering::None`] or [`Attendium::clear_faults`]).
    pub fn set_callback_tampering(&self, tampering: CallbackTampering) {
        self.inner.lock().tampering = tampering;
    }

    /// Publishes `issuer` in the metadata instead of the real one (`None` restores it),
    /// so that a client's RFC 8414 §3.3 issuer check can be tested. Endpoints and `iss`
    /// stay those of the real issuer.
    pub fn set_metadata_issuer(&self, issuer: Option<&str>) {
        self.inner.lock().metadata_issuer = issuer.map(str::to_owned);
    }

    /// The registered clients, oldest first by id order.
    pub fn clients(&self) -> Vec<RegisteredClient> {
        self.inner
            .lock()
            .clients
            .values()
            .map(|c| RegisteredClient {
                client_id: c.client_id.clone(),
                client_name: c.client_name.clone(),
                redirect_uris: c.redirect_uris.clone(),
                grant_types: c.grant_types.clone(),
            })
            .collect()
    }

    /// Registers a public client directly, as `POST /oauth2/register` would, for tests
    /// that start after registration.
    ///
    /// # Errors
    /// [`AttendiumError::InvalidRedirectUri`] for a redirect URI RFC 7591 registration
    /// would refuse; [`AttendiumError::RandomUnavailable`] without OS randomness.
    pub fn register_client(
        &self,
        redirect_uris: &[&str],
    ) -> Result<RegisteredClient, AttendiumError> {
        if redirect_uris.is_empty()
            || !redirect_uris
                .iter()
                .all(|uri| registration::redirect_uri_acceptable(uri))
        {
            return Err(AttendiumError::InvalidRedirectUri);
        }
        let client = self
            .inner
            .lock()
            .register(
                None,
                redirect_uris.iter().map(|s| (*s).to_owned()).collect(),
                registration::default_grant_types(),
            )
            .map_err(|_| AttendiumError::RandomUnavailable)?;
        Ok(RegisteredClient {
            client_id: client.client_id,
            client_name: client.client_name,
            redirect_uris: client.redirect_uris,
            grant_types: client.grant_types,
        })
    }

    /// Issues an access token for `user_id` directly, as if that user had logged in, for
    /// resource tests that need no login. It expires like any other.
    ///
    /// # Errors
    /// [`AttendiumError::RandomUnavailable`] without OS randomness.
    pub fn issue_access_token(&self, user_id: &str) -> Result<IssuedToken, AttendiumError> {
        let now = self.inner.now();
        let tokens = self
            .inner
            .lock()
            .issue_direct(user_id, now)
            .map_err(|_| AttendiumError::RandomUnavailable)?;
        Ok(IssuedToken(tokens.access_token))
    }

    /// Whether `/graphql` would accept this access token now.
    pub fn access_token_active(&self, access_token: &str) -> bool {
        let now = self.inner.now();
        self.inner.lock().bearer_user(access_token, now).is_some()
    }

    /// Whether the token endpoint would accept this refresh token now.
    pub fn refresh_token_active(&self, refresh_token: &str) -> bool {
        let now = self.inner.now();
        self.inner.lock().refresh_token_active(refresh_token, now)
    }

    /// How many grants exist and how many are revoked.
    pub fn grants(&self) -> GrantCounts {
        let (opened, revoked) = self.inner.lock().grant_counts();
        GrantCounts { opened, revoked }
    }

    /// The authorization requests waiting for an answer, oldest first.
    pub fn pending_authorizations(&self) -> Vec<PendingAuthorization> {
        self.inner
            .lock()
            .pending
            .iter()
            .map(|entry| PendingAuthorization {
                id: entry.id,
                client_id: entry.client_id.clone(),
                redirect_uri: entry.redirect_uri.clone(),
                scope: entry.scope.clone(),
            })
            .collect()
    }

    /// Waits until an authorization request is waiting and returns the oldest one.
    pub async fn next_pending_authorization(&self) -> PendingAuthorization {
        loop {
            // Register interest before looking, so that an arrival in between is not lost.
            let notified = self.inner.pending_changed.notified();
            if let Some(first) = self.pending_authorizations().into_iter().next() {
                return first;
            }
            notified.await;
        }
    }

    /// Approves a waiting request as the configured user: its browser is redirected with
    /// a code.
    ///
    /// # Errors
    /// [`AttendiumError::NotPending`] when no such request is waiting.
    pub fn approve(&self, id: PendingId) -> Result<(), AttendiumError> {
        let user_id = self.inner.lock().user_id.clone();
        self.answer(id, Decision::Approve { user_id })
    }

    /// Approves a waiting request as `user_id`.
    ///
    /// # Errors
    /// [`AttendiumError::NotPending`] when no such request is waiting.
    pub fn approve_as(&self, id: PendingId, user_id: &str) -> Result<(), AttendiumError> {
        self.answer(
            id,
            Decision::Approve {
                user_id: user_id.to_owned(),
            },
        )
    }

    /// Denies a waiting request: its browser is redirected with `error=access_denied`.
    ///
    /// # Errors
    /// [`AttendiumError::NotPending`] when no such request is waiting.
    pub fn deny(&self, id: PendingId) -> Result<(), AttendiumError> {
        self.answer(id, Decision::Deny)
    }

    fn answer(&self, id: PendingId, decision: Decision) -> Result<(), AttendiumError> {
        let entry = {
            let mut state = self.inner.lock();
            let index = state
                .pending
                .iter()
                .position(|entry| entry.id == id)
                .ok_or(AttendiumError::NotPending(id))?;
            state.pending.remove(index)
        };
        entry
            .answer
            .send(decision)
            .map_err(|_| AttendiumError::NotPending(id))
    }
}

async fn count_request(
    AxumState(inner): AxumState<Arc<Inner>>,
    request: Request,
    next: Next,
) -> Response {
    {
        let mut state = inner.lock();
        *state
            .counters
            .requests
            .entry(request.uri().path().to_owned())
            .or_default() += 1;
    }
    next.run(request).await
}
