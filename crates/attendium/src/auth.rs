//! Logging in to Attendium: discovery, registration, the PKCE login on a loopback
//! redirect, the session's token provider, and logout.
//!
//! Nothing here is specific to Attendium beyond its default issuer: the flow works with
//! any authorization server that implements RFC 8414 (or OpenID discovery), RFC 7591 and
//! PKCE, and tolerates the variations RFC-compliant servers show (registration answered
//! with 200 or 201, `iss` in the callback or not, `expires_in` as a string, lowercase
//! `token_type`, endpoints on any path).

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use auth_core::callback::Callback;
use auth_core::clock::{Clock, SystemClock};
use auth_core::discovery::{
    AuthorizationServerMetadata, is_not_found, metadata_request, metadata_urls,
};
use auth_core::grant::authorization_code::{AuthorizationRequest, PendingAuthorization};
use auth_core::persistent::{LockingStore, PersistentSource, WhenUnavailable};
use auth_core::registration::{ClientMetadata, RegisteredClient, registration_request};
use auth_core::revocation::{TokenTypeHint, parse_revocation_response, revocation_request};
use auth_core::store::{FileStore, MemoryStore};
use auth_core::token::parse_token_response;
use auth_core::token_cache::CachingProvider;
use auth_core::{ClientAuth, ErrorCode, HttpTransport, Token, TokenParseOptions, TokenProvider};
use auth_loopback::{LoopbackConfig, LoopbackHost, LoopbackReceiver, Page, Verdict};
use tokio::sync::OnceCell;
use url::Url;

use crate::Error;
use crate::clients::ClientRegistry;
use crate::session::{self, SessionSource};

/// Attendium's production issuer.
pub const DEFAULT_ISSUER: &str = "https://api.attendium.com";

/// The client name sent at registration.
pub const DEFAULT_CLIENT_NAME: &str = "attend-rs";

/// How long before expiry a token is refreshed.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// Reads the server's metadata once and keeps it.
pub(crate) struct Discovery {
    issuer: Url,
    transport: Arc<dyn HttpTransport>,
    metadata: OnceCell<Arc<AuthorizationServerMetadata>>,
}

impl Discovery {
    pub(crate) async fn metadata(&self) -> Result<Arc<AuthorizationServerMetadata>, Error> {
        self.metadata
            .get_or_try_init(|| async { self.discover().await.map(Arc::new) })
            .await
            .cloned()
    }

    /// RFC 8414 first, then OpenID discovery; only "not found" moves on to the next.
    ///
    /// Attendium's documentation names its endpoints' paths and tells clients to fall
    /// back to them when the metadata lacks a field: a document without
    /// `authorization_endpoint`, `token_endpoint` or `registration_endpoint` gets
    /// [`DOCUMENTED_PATHS`] under the issuer. A server with no metadata document at all is
    /// not guessed at: its issuer could not be verified.
    async fn discover(&self) -> Result<AuthorizationServerMetadata, Error> {
        let mut last_not_found = None;
        for url in metadata_urls(&self.issuer)? {
            let response = self.transport.send(metadata_request(&url)?).await?;
            let mut document = match auth_core::response::oauth_json(&response) {
                Ok(document) => document,
                Err(err) if is_not_found(&err) => {
                    last_not_found = Some(err);
                    continue;
                }
                Err(err) => return Err(err.into()),
            };
            let base = self.issuer.as_str().trim_end_matches('/');
            for (field, path) in DOCUMENTED_PATHS {
                if document.get(field).is_none_or(serde_json::Value::is_null) {
                    tracing::debug!(field, "metadata lacks a field; using the documented path");
                    document.insert(field.to_owned(), format!("{base}{path}").into());
                }
            }
            return Ok(AuthorizationServerMetadata::from_json(
                document,
                &self.issuer,
            )?);
        }
        Err(last_not_found
            .map(Error::from)
            .unwrap_or_else(|| Error::UnsupportedServer {
                reason: "no metadata document was found".into(),
            }))
    }
}

/// The endpoints Attendium documents, relative to the issuer, used when the metadata
/// document leaves them out.
pub const DOCUMENTED_PATHS: [(&str, &str); 3] = [
    ("authorization_endpoint", "/oauth2/authorize"),
    ("token_endpoint", "/oauth2/token"),
    ("registration_endpoint", "/oauth2/register"),
];

/// Logs in to Attendium (or any compliant server) and keeps the session.
///
/// Cheap to clone; clones share the session, the cached metadata and the token cache.
///
/// ```no_run
/// use std::sync::Arc;
/// use std::time::Duration;
/// use attendium::{AttendiumAuth, LoginOptions};
///
/// # async fn run(transport: Arc<dyn auth_core::HttpTransport>) -> Result<(), attendium::Error> {
/// let auth = AttendiumAuth::builder(transport)
///     .store_dir("/home/me/.config/attend")
///     .build()?;
/// let login = auth.start_login(LoginOptions::default()).await?;
/// eprintln!("Open this URL to log in: {}", login.authorization_url());
/// login.finish(Duration::from_secs(300)).await?;
///
/// // Later, in any process: a valid access token, refreshed when needed.
/// let token = auth.token_provider().token().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct AttendiumAuth {
    inner: Arc<Inner>,
}

struct Inner {
    issuer: Url,
    transport: Arc<dyn HttpTransport>,
    clock: Arc<dyn Clock>,
    store: Arc<dyn LockingStore>,
    clients: Arc<ClientRegistry>,
    client_name: String,
    scopes: Vec<String>,
    parse_options: TokenParseOptions,
    discovery: Arc<Discovery>,
    hook: Option<auth_core::token_cache::NewTokenHook>,
    provider: OnceLock<Arc<SessionProvider>>,
}

/// The session's token cache: a persistent source over the session's store.
type SessionProvider = CachingProvider<PersistentSource<SessionSource, Arc<dyn LockingStore>>>;

impl fmt::Debug for AttendiumAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttendiumAuth")
            .field("issuer", &self.inner.issuer.as_str())
            .field("store", &self.inner.store.describe())
            .finish_non_exhaustive()
    }
}

/// Configures an [`AttendiumAuth`].
#[must_use]
pub struct AttendiumAuthBuilder {
    transport: Arc<dyn HttpTransport>,
    issuer: String,
    store_dir: Option<PathBuf>,
    session_store: Option<Arc<dyn LockingStore>>,
    hook: Option<auth_core::token_cache::NewTokenHook>,
    clock: Arc<dyn Clock>,
    client_name: String,
    scopes: Vec<String>,
    parse_options: TokenParseOptions,
}

impl fmt::Debug for AttendiumAuthBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttendiumAuthBuilder")
            .field("issuer", &self.issuer)
            .field("store_dir", &self.store_dir)
            .finish_non_exhaustive()
    }
}

impl AttendiumAuthBuilder {
    /// The issuer (default [`DEFAULT_ISSUER`]). It must be `https`, or `http` to a
    /// loopback address, and equal the `issuer` the server's metadata states.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = issuer.into();
        self
    }

    /// Keeps the registered clients (`clients.json`) and the session in `dir`: each
    /// issuer's session in a file of its own ([`session_file`](crate::session::session_file),
    /// with its refresh lock beside it), so that sessions with several issuers coexist.
    /// Without it, everything is in memory and lost when the process ends.
    pub fn store_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.store_dir = Some(dir.into());
        self
    }

    /// Keeps this issuer's session in `store` instead (for example a
    /// `store_redis::RedisStore` shared by a fleet, under a key naming the issuer). The
    /// store's lock orders every refresh of the session, across processes and machines;
    /// while it is unreachable, a refresh fails with `StoreUnavailable` and the session is
    /// kept. The registered clients stay in [`store_dir`](Self::store_dir), or in memory.
    pub fn session_store(mut self, store: Arc<dyn LockingStore>) -> Self {
        self.session_store = Some(store);
        self
    }

    /// Calls `hook` with every new token this process's session provider gets: refreshed
    /// here, or refreshed by another process and read from the store (not the token a
    /// login stores). To count refreshes or keep a copy elsewhere; the token's `Debug` is
    /// redacted.
    pub fn on_new_token(mut self, hook: impl Fn(&Token) + Send + Sync + 'static) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// The clock (tests move it to expire tokens).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The client name sent at registration.
    pub fn client_name(mut self, name: impl Into<String>) -> Self {
        self.client_name = name.into();
        self
    }

    /// The scopes asked for at login (none by default: Attendium names none).
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// How token responses are read (the lifetime assumed without `expires_in`).
    pub fn parse_options(mut self, options: TokenParseOptions) -> Self {
        self.parse_options = options;
        self
    }

    /// Checks the issuer and builds.
    pub fn build(self) -> Result<AttendiumAuth, Error> {
        let issuer = auth_core::client_auth::parse_endpoint(&self.issuer)?;
        // Fails early on an insecure or malformed issuer.
        metadata_urls(&issuer)?;
        let (store, clients): (Arc<dyn LockingStore>, _) = match &self.store_dir {
            Some(dir) => {
                session::adopt_legacy_session(dir, &issuer);
                (
                    Arc::new(FileStore::new(session::session_file(dir, &issuer))),
                    ClientRegistry::in_file(dir.join("clients.json")),
                )
            }
            None => (Arc::new(MemoryStore::new()), ClientRegistry::in_memory()),
        };
        let store = self.session_store.unwrap_or(store);
        let discovery = Arc::new(Discovery {
            issuer: issuer.clone(),
            transport: self.transport.clone(),
            metadata: OnceCell::new(),
        });
        Ok(AttendiumAuth {
            inner: Arc::new(Inner {
                issuer,
                transport: self.transport,
                clock: self.clock,
                store,
                clients: Arc::new(clients),
                client_name: self.client_name,
                scopes: self.scopes,
                parse_options: self.parse_options,
                discovery,
                hook: self.hook,
                provider: OnceLock::new(),
            }),
        })
    }
}

/// Options for one login.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoginOptions {
    /// The loopback port to listen on. `None` reuses the port of the last registration
    /// for this issuer when it is free (so the registration can be reused with servers
    /// that compare ports exactly), else any free port.
    pub port: Option<u16>,
    /// The redirect URI's host: `127.0.0.1` (the default, RFC 8252 §7.3), `[::1]`, or
    /// `localhost` for servers that accept only that name (then both families listen,
    /// RFC 8252 §8.3).
    pub host: LoopbackHost,
    /// Scopes for this login instead of the configured ones.
    pub scopes: Option<Vec<String>>,
}

impl LoginOptions {
    /// Sets the port.
    #[must_use]
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Sets the redirect URI's host.
    #[must_use]
    pub fn with_host(mut self, host: LoopbackHost) -> Self {
        self.host = host;
        self
    }

    /// Sets the scopes.
    #[must_use]
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }
}

/// What [`AttendiumAuth::logout`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Logout {
    /// The server revoked the grant and the local session was removed.
    Revoked,
    /// The server offers no revocation; the local session was removed.
    RemovedLocally,
    /// There was no session.
    NotLoggedIn,
}

impl AttendiumAuth {
    /// Starts configuring a client that talks through `transport`.
    pub fn builder(transport: Arc<dyn HttpTransport>) -> AttendiumAuthBuilder {
        AttendiumAuthBuilder {
            transport,
            issuer: DEFAULT_ISSUER.to_owned(),
            store_dir: None,
            session_store: None,
            hook: None,
            clock: Arc::new(SystemClock),
            client_name: DEFAULT_CLIENT_NAME.to_owned(),
            scopes: Vec::new(),
            parse_options: TokenParseOptions::default(),
        }
    }

    /// The configured issuer.
    pub fn issuer(&self) -> &Url {
        &self.inner.issuer
    }

    /// The server's metadata, discovered on first use and kept.
    pub async fn metadata(&self) -> Result<Arc<AuthorizationServerMetadata>, Error> {
        self.inner.discovery.metadata().await
    }

    /// Opens the loopback listener, registers the client if needed, and builds the
    /// authorization URL. Show the URL to the person (or open a browser), then call
    /// [`LoginInProgress::finish`].
    pub async fn start_login(&self, options: LoginOptions) -> Result<LoginInProgress, Error> {
        let metadata = self.metadata().await?;
        metadata.require_pkce_s256()?;
        if !metadata.supports_grant_type("authorization_code") {
            return Err(Error::UnsupportedServer {
                reason: "it does not offer the authorization-code grant".into(),
            });
        }
        let receiver = self.bind(&options).await?;
        let redirect_uri = receiver.redirect_uri().clone();
        let client = self.client_for(&metadata, &redirect_uri).await?;
        let scopes = options.scopes.unwrap_or_else(|| self.inner.scopes.clone());
        let (url, pending) =
            AuthorizationRequest::from_metadata(&metadata, client.client_id.clone(), redirect_uri)
                .scopes(scopes)
                .build()?;
        Ok(LoginInProgress {
            auth: self.clone(),
            metadata,
            client,
            url,
            pending,
            receiver,
        })
    }

    async fn bind(&self, options: &LoginOptions) -> Result<LoopbackReceiver, Error> {
        let config = LoopbackConfig::default().with_host(options.host);
        if let Some(port) = options.port {
            return Ok(LoopbackReceiver::bind(config.with_port(port)).await?);
        }
        // Reuse a registered redirect URI's port when it is free.
        for uri in self.inner.clients.redirect_uris(&self.inner.issuer)? {
            let same_host = match options.host {
                LoopbackHost::Ipv6 => uri.host_str() == Some("[::1]"),
                LoopbackHost::Localhost => uri.host_str() == Some("localhost"),
                _ => uri.host_str() == Some("127.0.0.1"),
            };
            if let (true, Some(port)) = (same_host && uri.path() == "/callback", uri.port())
                && let Ok(receiver) = LoopbackReceiver::bind(config.clone().with_port(port)).await
            {
                return Ok(receiver);
            }
        }
        Ok(LoopbackReceiver::bind(config).await?)
    }

    /// The registered client for this redirect URI, registering one if needed.
    async fn client_for(
        &self,
        metadata: &AuthorizationServerMetadata,
        redirect_uri: &Url,
    ) -> Result<RegisteredClient, Error> {
        let issuer = &self.inner.issuer;
        if let Some(client) = self.inner.clients.get(issuer, redirect_uri)?
            && !client.secret_expired(self.inner.clock.now())
        {
            return Ok(client);
        }
        let Some(endpoint) = &metadata.registration_endpoint else {
            return Err(Error::UnsupportedServer {
                reason: "it offers no dynamic client registration (RFC 7591)".into(),
            });
        };
        let mut client_metadata =
            ClientMetadata::new([redirect_uri.clone()]).client_name(self.inner.client_name.clone());
        if !self.inner.scopes.is_empty() {
            client_metadata = client_metadata.scope(self.inner.scopes.join(" "));
        }
        let request = registration_request(endpoint, &client_metadata, None)?;
        let response = self.inner.transport.send(request).await?;
        let client = RegisteredClient::parse(&response)?;
        // A public client was asked for (RFC 7591 §2 `none`); a server that answers with
        // another method expects a secret this flow never sends, and every exchange would
        // fail with `invalid_client`.
        if let Some(method) = client
            .token_endpoint_auth_method
            .as_deref()
            .filter(|m| *m != "none")
        {
            return Err(Error::UnsupportedServer {
                reason: format!(
                    "it registered the client for `{method}` authentication, not as a public client"
                ),
            });
        }
        tracing::debug!(client_id = client.client_id.as_str(), "registered a client");
        self.inner
            .clients
            .insert(issuer, redirect_uri, client.clone())?;
        Ok(client)
    }

    /// The session's token provider: the stored token while fresh, refreshed (once,
    /// whatever the number of callers or processes) when not. Fails with
    /// [`Error::LoginRequired`] (as `auth_core::Error::LoginRequired`) when there is no
    /// usable session.
    pub fn token_provider(&self) -> Arc<dyn TokenProvider> {
        self.provider().clone()
    }

    fn provider(&self) -> &Arc<SessionProvider> {
        self.inner.provider.get_or_init(|| {
            let source = SessionSource {
                issuer: self.inner.issuer.clone(),
                transport: self.inner.transport.clone(),
                clock: self.inner.clock.clone(),
                parse_options: self.inner.parse_options,
                discovery: self.inner.discovery.clone(),
                clients: self.inner.clients.clone(),
            };
            let sleep: Arc<dyn auth_core::clock::Sleep> =
                Arc::new(auth_core::clock::sleep_fn(|d| {
                    Box::pin(tokio::time::sleep(d))
                }));
            // A rotating refresh token is never spent without the store's lock.
            let persistent = PersistentSource::builder(source, self.inner.store.clone(), sleep)
                .clock(self.inner.clock.clone())
                .refresh_margin(REFRESH_MARGIN)
                .lock_timeout(session::LOCK_TIMEOUT)
                .when_unavailable(WhenUnavailable::Fail)
                .build();
            let mut cache = persistent.provider_builder();
            if let Some(hook) = self.inner.hook.clone() {
                cache = cache.on_new_token(move |token| hook(token));
            }
            Arc::new(cache.build())
        })
    }

    /// A valid access token with its details (refreshing if needed).
    pub async fn token(&self) -> Result<Arc<Token>, Error> {
        Ok(self.provider().token_details().await?)
    }

    /// The stored session, if it belongs to this issuer (not refreshed, possibly expired).
    pub async fn stored_session(&self) -> Result<Option<Token>, Error> {
        let stored = self.inner.store.load().await?;
        Ok(stored.filter(|t| session::client_id_for(t, &self.inner.issuer).is_some()))
    }

    /// Revokes the grant when the server offers RFC 7009 revocation, then removes the
    /// stored session. The local session is removed even if revocation fails; the error
    /// is returned after.
    pub async fn logout(&self) -> Result<Logout, Error> {
        // Under the session lock, so that a refresh in another process cannot write the
        // session back after it is cleared.
        let lease = session::lock(&*self.inner.store).await?;
        let result = self.logout_locked().await;
        let _ = self.inner.store.unlock(lease).await;
        result
    }

    async fn logout_locked(&self) -> Result<Logout, Error> {
        // Whatever this process cached goes too, even a token older than the stored one.
        if let Some(cached) = self.provider().current() {
            self.provider().invalidate(&cached.access_token);
        }
        let Some(token) = self.stored_session().await? else {
            self.inner.store.clear().await?;
            return Ok(Logout::NotLoggedIn);
        };
        let revoked = self.revoke(&token).await;
        self.inner.store.clear().await?;
        self.provider().invalidate(&token.access_token);
        revoked
    }

    async fn revoke(&self, token: &Token) -> Result<Logout, Error> {
        let metadata = self.metadata().await?;
        let Some(endpoint) = &metadata.revocation_endpoint else {
            return Ok(Logout::RemovedLocally);
        };
        let client_id = session::client_id_for(token, &self.inner.issuer).unwrap_or_default();
        let client = ClientAuth::public(client_id);
        // Revoking the refresh token revokes the grant (RFC 7009 §2.1); the access
        // token too, for servers that issue self-contained ones.
        let mut targets = vec![(token.access_token.secret(), TokenTypeHint::AccessToken)];
        if let Some(refresh) = &token.refresh_token {
            targets.insert(0, (refresh.secret(), TokenTypeHint::RefreshToken));
        }
        for (secret, hint) in targets {
            let request = revocation_request(endpoint, &client, secret, hint)?;
            let response = self.inner.transport.send(request).await?;
            parse_revocation_response(&response)?;
        }
        Ok(Logout::Revoked)
    }

    /// Stores a token obtained by the code exchange.
    async fn store_login(&self, mut token: Token, client_id: &str) -> Result<Token, Error> {
        session::tag(&mut token, &self.inner.issuer, client_id);
        let lease = session::lock(&*self.inner.store).await?;
        let saved = self.inner.store.save(&token).await;
        let _ = self.inner.store.unlock(lease).await;
        saved?;
        if let Some(provider) = self.inner.provider.get() {
            provider.set(token.clone());
        }
        Ok(token)
    }
}

/// A login waiting for the browser to come back.
pub struct LoginInProgress {
    auth: AttendiumAuth,
    metadata: Arc<AuthorizationServerMetadata>,
    client: RegisteredClient,
    url: Url,
    pending: PendingAuthorization,
    receiver: LoopbackReceiver,
}

impl fmt::Debug for LoginInProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL carries the state: do not print it here.
        f.debug_struct("LoginInProgress")
            .field("redirect_uri", &self.receiver.redirect_uri().as_str())
            .field("client_id", &self.client.client_id)
            .finish_non_exhaustive()
    }
}

impl LoginInProgress {
    /// The URL to open in the browser. It carries the login's `state`: show it to the
    /// person, do not log it.
    pub fn authorization_url(&self) -> &Url {
        &self.url
    }

    /// The redirect URI the browser will come back to.
    pub fn redirect_uri(&self) -> &Url {
        self.receiver.redirect_uri()
    }

    /// The client id used.
    pub fn client_id(&self) -> &str {
        self.client.client_id.as_str()
    }

    /// Waits for the callback, checks it (`state`, `iss`, `error`), exchanges the code
    /// and stores the session. Nothing is stored unless every check passes.
    ///
    /// Requests to the callback path without this login's `state` (a stray tab, a
    /// forged link) are answered with an error page and ignored: the wait goes on until
    /// `timeout`. The browser that brings the genuine callback is answered only once the
    /// outcome is known, with a page that says it: signed in, or why not (another
    /// issuer, a refusal with the server's `error_description`, a refused code).
    pub async fn finish(self, timeout: Duration) -> Result<Token, Error> {
        let LoginInProgress {
            auth,
            metadata,
            client,
            pending,
            receiver,
            ..
        } = self;
        let callback = receiver
            .receive(timeout, |url| match Callback::from_url(url) {
                Ok(callback) if pending.state_matches(&callback) => Verdict::Accept,
                _ => Verdict::Reject(Page::failure(
                    "Not this sign-in",
                    "This response does not belong to the sign-in in progress, so it was \
                     ignored. If you started a sign-in, finish it in the tab it opened.",
                )),
            })
            .await?;
        let outcome = complete(&auth, &metadata, &client, &pending, callback.url()).await;
        let issuer = auth.inner.issuer.as_str().trim_end_matches('/');
        let page = match &outcome {
            Ok(_) => Page::success(
                "Signed in",
                format!(
                    "You are signed in to {issuer}. You may close this tab and return to the terminal."
                ),
            ),
            Err(error) => Page::failure(
                "Sign-in failed",
                format!("{error}. You may close this tab; the terminal says what to do next."),
            ),
        };
        callback.respond(page).await;
        outcome
    }
}

/// Checks the accepted callback, exchanges the code and stores the session.
async fn complete(
    auth: &AttendiumAuth,
    metadata: &AuthorizationServerMetadata,
    registered: &RegisteredClient,
    pending: &PendingAuthorization,
    callback_url: &Url,
) -> Result<Token, Error> {
    let callback = Callback::from_url(callback_url)?;
    let code = pending.validate(&callback)?;
    let client = ClientAuth::public(registered.client_id.clone());
    let request = pending.exchange_request(&metadata.token_endpoint, &client, &code)?;
    let inner = &auth.inner;
    let response = inner.transport.send(request).await?;
    let token = match parse_token_response(&response, inner.clock.now(), inner.parse_options) {
        Ok(token) => token,
        Err(auth_core::Error::OAuth(e)) if e.code == ErrorCode::InvalidClient => {
            // The registration was dropped by the server: register afresh next time.
            inner.clients.forget_issuer(&inner.issuer)?;
            return Err(auth_core::Error::OAuth(e).into());
        }
        Err(other) => return Err(other.into()),
    };
    auth.store_login(token, registered.client_id.as_str()).await
}
