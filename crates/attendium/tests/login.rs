//! The whole Attendium flow against the sandbox authorization server: discovery,
//! registration, PKCE login on a loopback redirect, refresh, logout, in every quirk mode
//! and every way it can go wrong.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use attendium::{AttendiumAuth, Error, LoginInProgress, LoginOptions, Logout};
use auth_core::clock::ManualClock;
use auth_core::{HttpTransport, TokenProvider};
use bytes::Bytes;
use http_reqwest::ReqwestTransport;
use sandbox::attendium::{
    Approval, Attendium, AttendiumConfig, CallbackIss, CallbackTampering, DiscoveryDocuments,
    ExpiresInFormat, LoopbackPorts, Quirks, RegistrationStatus, TokenTypeCase,
};
use tokio::task::JoinHandle;
use url::Url;

struct Server {
    attendium: Attendium,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(config: AttendiumConfig) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let issuer =
        Url::parse(&format!("http://{}", listener.local_addr().expect("addr"))).expect("url");
    let attendium = Attendium::new(config, issuer).expect("server");
    let router = attendium.router();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Server { attendium, task }
}

fn transport() -> Arc<dyn HttpTransport> {
    Arc::new(ReqwestTransport::new().expect("transport"))
}

fn client(server: &Server, dir: &Path, clock: &ManualClock) -> AttendiumAuth {
    AttendiumAuth::builder(transport())
        .issuer(server.attendium.issuer())
        .store_dir(dir)
        .clock(Arc::new(clock.clone()))
        .build()
        .expect("client")
}

/// What a browser does with the authorization URL (the sandbox approves at once).
async fn browse(url: Url) -> Result<(), sandbox::attendium::AttendiumError> {
    sandbox::attendium::follow_authorization(transport().as_ref(), &url).await
}

/// Runs a login to completion with a browser that follows the URL.
async fn login(auth: &AttendiumAuth, options: LoginOptions) -> Result<auth_core::Token, Error> {
    login_within(auth, options, Duration::from_secs(10)).await
}

/// A login whose browser goes once through the authorization URL, waiting `timeout`.
async fn login_within(
    auth: &AttendiumAuth,
    options: LoginOptions,
    timeout: Duration,
) -> Result<auth_core::Token, Error> {
    let login = auth.start_login(options).await?;
    let browser = tokio::spawn(browse(login.authorization_url().clone()));
    let result = login.finish(timeout).await;
    let _ = browser.await;
    result
}

fn config(quirks: Quirks) -> (AttendiumConfig, ManualClock) {
    let clock = ManualClock::default();
    let config = AttendiumConfig::new()
        .quirks(quirks)
        .clock(Arc::new(clock.clone()));
    (config, clock)
}

#[tokio::test]
async fn logs_in_in_every_quirk_mode_and_the_token_works() {
    let modes = [
        ("defaults", Quirks::default()),
        (
            "registration 200",
            Quirks::default().with_registration_status(RegistrationStatus::Ok),
        ),
        (
            "exact loopback port",
            Quirks::default().with_loopback_ports(LoopbackPorts::Exact),
        ),
        (
            "no iss in the callback",
            Quirks::default().with_callback_iss(CallbackIss::Omitted),
        ),
        (
            "expires_in as a string",
            Quirks::default().with_expires_in(ExpiresInFormat::String),
        ),
        (
            "expires_in absent",
            Quirks::default().with_expires_in(ExpiresInFormat::Absent),
        ),
        (
            "lowercase token_type",
            Quirks::default().with_token_type(TokenTypeCase::Lowercase),
        ),
        (
            "only OpenID discovery",
            Quirks::default().with_discovery(DiscoveryDocuments::OpenIdOnly),
        ),
    ];
    for (mode, quirks) in modes {
        let (config, clock) = config(quirks);
        let server = serve(config).await;
        let dir = tempfile::tempdir().expect("dir");
        let auth = client(&server, dir.path(), &clock);

        let token = login(&auth, LoginOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{mode}: {e}"));
        assert!(
            server
                .attendium
                .access_token_active(token.access_token.secret()),
            "{mode}"
        );
        assert!(token.refresh_token.is_some(), "{mode}");
        assert_eq!(server.attendium.counters().registrations, 1, "{mode}");

        // The session is on disk, and another client over the same directory uses it
        // without a request to the token endpoint.
        let before = server
            .attendium
            .counters()
            .token_requests_for("refresh_token");
        let other = client(&server, dir.path(), &clock);
        let stored = other
            .token_provider()
            .token()
            .await
            .unwrap_or_else(|e| panic!("{mode}: {e}"));
        assert_eq!(stored, token.access_token, "{mode}");
        assert_eq!(
            server
                .attendium
                .counters()
                .token_requests_for("refresh_token"),
            before,
            "{mode}"
        );
    }
}

#[tokio::test]
async fn a_second_login_reuses_the_registered_client_and_its_port() {
    let (config, clock) = config(Quirks::default().with_loopback_ports(LoopbackPorts::Exact));
    let server = serve(config).await;
    let dir = tempfile::tempdir().expect("dir");
    let auth = client(&server, dir.path(), &clock);
    login(&auth, LoginOptions::default())
        .await
        .expect("first login");
    // A new process: only the files are shared.
    let again = client(&server, dir.path(), &clock);
    login(&again, LoginOptions::default())
        .await
        .expect("second login");
    assert_eq!(server.attendium.counters().registrations, 1);
}

#[tokio::test]
async fn a_new_port_registers_again() {
    let (config, clock) = config(Quirks::default().with_loopback_ports(LoopbackPorts::Exact));
    let server = serve(config).await;
    let dir = tempfile::tempdir().expect("dir");
    let auth = client(&server, dir.path(), &clock);
    login(&auth, LoginOptions::default())
        .await
        .expect("first login");
    // Hold the registered port, so the next login must take another one.
    let registered = server.attendium.clients()[0].redirect_uris[0].clone();
    let port = Url::parse(&registered).expect("uri").port().expect("port");
    let _busy = std::net::TcpListener::bind(("127.0.0.1", port)).expect("hold the port");
    login(&auth, LoginOptions::default())
        .await
        .expect("second login");
    assert_eq!(server.attendium.counters().registrations, 2);
}

/// A login that fails must leave nothing behind.
async fn assert_nothing_stored(auth: &AttendiumAuth) {
    assert!(auth.stored_session().await.expect("readable").is_none());
}

#[tokio::test]
async fn a_tampered_or_refused_callback_is_a_typed_error_and_stores_nothing() {
    let cases: [(&str, CallbackTampering, Approval); 4] = [
        (
            "wrong state",
            CallbackTampering::WrongState,
            Approval::AutoApprove,
        ),
        (
            "missing state",
            CallbackTampering::MissingState,
            Approval::AutoApprove,
        ),
        (
            "mismatched iss",
            CallbackTampering::WrongIss("https://evil.example".into()),
            Approval::AutoApprove,
        ),
        ("access denied", CallbackTampering::None, Approval::AutoDeny),
    ];
    for (case, tampering, approval) in cases {
        let clock = ManualClock::default();
        let server = serve(
            AttendiumConfig::new()
                .approval(approval)
                .clock(Arc::new(clock.clone())),
        )
        .await;
        server.attendium.set_callback_tampering(tampering);
        let dir = tempfile::tempdir().expect("dir");
        let auth = client(&server, dir.path(), &clock);
        // A callback without this login's state is not the login's: it is answered and
        // ignored, and the login waits on (here, briefly) for the genuine one.
        let err = login_within(&auth, LoginOptions::default(), Duration::from_secs(2))
            .await
            .expect_err(case);
        match (case, &err) {
            ("access denied", Error::Auth(auth_core::Error::OAuth(e))) => {
                assert_eq!(e.code, auth_core::ErrorCode::AccessDenied)
            }
            ("access denied", other) => panic!("{case}: {other:?}"),
            ("wrong state" | "missing state", Error::Loopback(e)) => {
                assert!(
                    matches!(e.as_ref(), attendium::LoopbackError::TimedOut(_)),
                    "{case}: {e:?}"
                )
            }
            ("wrong state" | "missing state", other) => panic!("{case}: {other:?}"),
            (_, Error::Auth(auth_core::Error::CallbackRejected { .. })) => {}
            (_, other) => panic!("{case}: {other:?}"),
        }
        assert_eq!(
            server
                .attendium
                .counters()
                .token_requests_for("authorization_code"),
            0,
            "{case}"
        );
        assert_nothing_stored(&auth).await;
    }
}

#[tokio::test]
async fn a_discovery_issuer_mismatch_is_refused() {
    let (config, clock) = config(Quirks::default());
    let server = serve(config).await;
    server
        .attendium
        .set_metadata_issuer(Some("https://impostor.example"));
    let dir = tempfile::tempdir().expect("dir");
    let auth = client(&server, dir.path(), &clock);
    let err = auth
        .start_login(LoginOptions::default())
        .await
        .expect_err("mismatch");
    assert!(
        matches!(err, Error::Auth(auth_core::Error::Discovery { .. })),
        "{err:?}"
    );
    assert_eq!(server.attendium.counters().registrations, 0);
    assert_nothing_stored(&auth).await;
}

/// Changes the PKCE verifier of the code exchange, as a confused or malicious middle would.
struct SwapVerifier(Arc<dyn HttpTransport>);

#[async_trait::async_trait]
impl HttpTransport for SwapVerifier {
    async fn send(
        &self,
        mut request: auth_core::HttpRequest,
    ) -> Result<auth_core::HttpResponse, auth_core::TransportError> {
        let body = String::from_utf8_lossy(request.body()).into_owned();
        if body.contains("code_verifier=") {
            let swapped: String = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(url::form_urlencoded::parse(body.as_bytes()).map(|(k, v)| {
                    if k == "code_verifier" {
                        (k, "x".repeat(43).into())
                    } else {
                        (k, v)
                    }
                }))
                .finish();
            *request.body_mut() = Bytes::from(swapped);
        }
        self.0.send(request).await
    }
}

#[tokio::test]
async fn a_pkce_mismatch_is_refused_by_the_server() {
    let (config, clock) = config(Quirks::default());
    let server = serve(config).await;
    let dir = tempfile::tempdir().expect("dir");
    let auth = AttendiumAuth::builder(Arc::new(SwapVerifier(transport())))
        .issuer(server.attendium.issuer())
        .store_dir(dir.path())
        .clock(Arc::new(clock.clone()))
        .build()
        .expect("client");
    let err = login(&auth, LoginOptions::default())
        .await
        .expect_err("PKCE mismatch");
    match err {
        Error::Auth(auth_core::Error::OAuth(e)) => {
            assert_eq!(e.code, auth_core::ErrorCode::InvalidGrant)
        }
        other => panic!("{other:?}"),
    }
    assert_nothing_stored(&auth).await;
}

#[tokio::test]
async fn a_plain_http_remote_issuer_is_refused_before_anything_is_sent() {
    let err = AttendiumAuth::builder(transport())
        .issuer("http://attendium.example")
        .build()
        .expect_err("insecure");
    assert!(
        matches!(err, Error::Auth(auth_core::Error::InsecureUrl { .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_callback_times_out_and_a_second_callback_finds_no_listener() {
    let clock = ManualClock::default();
    let server = serve(
        AttendiumConfig::new()
            .approval(Approval::Manual)
            .clock(Arc::new(clock.clone())),
    )
    .await;
    let dir = tempfile::tempdir().expect("dir");
    let auth = client(&server, dir.path(), &clock);
    let login: LoginInProgress = auth
        .start_login(LoginOptions::default())
        .await
        .expect("start");
    let redirect_uri = login.redirect_uri().clone();
    let err = login
        .finish(Duration::from_millis(100))
        .await
        .expect_err("no callback");
    assert!(matches!(err, Error::Loopback(_)), "{err:?}");
    assert!(err.to_string().contains("start the login again"));
    assert_nothing_stored(&auth).await;

    // Completed login, then the same callback again: nothing is listening any more.
    let server = serve(AttendiumConfig::new().clock(Arc::new(clock.clone()))).await;
    let auth = client(&server, dir.path(), &clock);
    let login = auth
        .start_login(LoginOptions::default())
        .await
        .expect("start");
    let redirect_uri_2 = login.redirect_uri().clone();
    let browser = tokio::spawn(browse(login.authorization_url().clone()));
    login.finish(Duration::from_secs(10)).await.expect("login");
    browser.await.expect("browser").expect("browsed");
    let replay = transport()
        .send(
            http::Request::get(format!("{redirect_uri_2}?code=x&state=y"))
                .body(Bytes::new())
                .expect("request"),
        )
        .await;
    assert!(replay.is_err(), "the listener must be closed");
    let replay_first = transport()
        .send(
            http::Request::get(format!("{redirect_uri}?code=x&state=y"))
                .body(Bytes::new())
                .expect("request"),
        )
        .await;
    assert!(
        replay_first.is_err(),
        "the timed-out listener must be closed too"
    );
}

#[tokio::test]
async fn a_hundred_callers_on_an_expired_token_make_one_refresh() {
    let (config, clock) = config(Quirks::default());
    let server = serve(config).await;
    let dir = tempfile::tempdir().expect("dir");
    let auth = client(&server, dir.path(), &clock);
    let first = login(&auth, LoginOptions::default()).await.expect("login");
    clock.advance(Duration::from_secs(2 * 3600));

    let provider = auth.token_provider();
    let calls = (0..100).map(|_| {
        let provider = provider.clone();
        tokio::spawn(async move { provider.token().await })
    });
    let mut tokens = Vec::new();
    for call in calls {
        tokens.push(call.await.expect("task").expect("token"));
    }
    assert_eq!(server.attendium.counters().refreshes, 1);
    assert!(tokens.iter().all(|t| *t == tokens[0]));
    assert_ne!(tokens[0], first.access_token);
    // The rotated refresh token is what the store holds.
    let stored = auth.stored_session().await.expect("read").expect("session");
    assert_eq!(stored.access_token, tokens[0]);
    assert_ne!(stored.refresh_token, first.refresh_token);
}

#[tokio::test]
async fn two_processes_over_one_store_refresh_once() {
    let (config, clock) = config(Quirks::default());
    let server = serve(config).await;
    let dir = tempfile::tempdir().expect("dir");
    let first = client(&server, dir.path(), &clock);
    login(&first, LoginOptions::default()).await.expect("login");
    // Two independent clients (as two processes would have) over the same files.
    let a = client(&server, dir.path(), &clock);
    let b = client(&server, dir.path(), &clock);
    // Both see the stored token first.
    a.token_provider().token().await.expect("a");
    b.token_provider().token().await.expect("b");
    clock.advance(Duration::from_secs(2 * 3600));

    let (ta, tb) = tokio::join!(a.token(), b.token());
    let (ta, tb) = (ta.expect("a refreshed"), tb.expect("b refreshed"));
    assert_eq!(server.attendium.counters().refreshes, 1);
    assert_eq!(server.attendium.counters().refresh_reuses, 0);
    assert_eq!(ta.access_token, tb.access_token);
    assert_eq!(ta.refresh_token, tb.refresh_token);
}

#[tokio::test]
async fn a_reused_refresh_token_ends_the_session() {
    let (config, clock) = config(Quirks::default());
    let server = serve(config).await;
    let dir = tempfile::tempdir().expect("dir");
    let auth = client(&server, dir.path(), &clock);
    let original = login(&auth, LoginOptions::default()).await.expect("login");
    clock.advance(Duration::from_secs(2 * 3600));
    auth.token().await.expect("first refresh");

    // Put the spent refresh token back, as a restored backup or a leaked copy would.
    let store = auth_core::store::FileStore::new(attendium::session::session_file(
        dir.path(),
        auth.issuer(),
    ));
    auth_core::store::TokenStore::save(&store, &original)
        .await
        .expect("restore");
    let fresh = client(&server, dir.path(), &clock);
    let err = fresh.token().await.expect_err("reuse");
    assert!(err.is_login_required(), "{err:?}");
    assert_eq!(server.attendium.counters().refresh_reuses, 1);
    assert_nothing_stored(&fresh).await;
}

#[tokio::test]
async fn logout_revokes_and_forgets_the_session() {
    let (config, clock) = config(Quirks::default());
    let server = serve(config).await;
    let dir = tempfile::tempdir().expect("dir");
    let auth = client(&server, dir.path(), &clock);
    let token = login(&auth, LoginOptions::default()).await.expect("login");
    let refresh = token.refresh_token.clone().expect("refresh token");
    assert_eq!(auth.logout().await.expect("logout"), Logout::Revoked);
    assert!(!server.attendium.refresh_token_active(refresh.secret()));
    assert!(
        !server
            .attendium
            .access_token_active(token.access_token.secret())
    );
    assert_nothing_stored(&auth).await;
    assert_eq!(auth.logout().await.expect("again"), Logout::NotLoggedIn);
    let err = auth.token().await.expect_err("logged out");
    assert!(err.is_login_required(), "{err:?}");
}

#[tokio::test]
async fn sessions_are_kept_per_issuer_and_logout_touches_only_the_one_named() {
    let (config_a, clock) = config(Quirks::default());
    let (config_b, _) = config(Quirks::default());
    let (server_a, server_b) = (serve(config_a).await, serve(config_b).await);
    let dir = tempfile::tempdir().expect("dir");
    let a = client(&server_a, dir.path(), &clock);
    let b = client(&server_b, dir.path(), &clock);
    let token_a = login(&a, LoginOptions::default()).await.expect("login a");
    // A login to a second issuer keeps the first session.
    let token_b = login(&b, LoginOptions::default()).await.expect("login b");
    let stored_a = a.stored_session().await.expect("read a").expect("a kept");
    assert_eq!(stored_a.refresh_token, token_a.refresh_token);
    // Logging out of the second touches only its session.
    assert_eq!(b.logout().await.expect("logout b"), Logout::Revoked);
    assert_nothing_stored(&b).await;
    let refresh_b = token_b.refresh_token.expect("refresh b");
    assert!(!server_b.attendium.refresh_token_active(refresh_b.secret()));
    let refresh_a = token_a.refresh_token.expect("refresh a");
    assert!(server_a.attendium.refresh_token_active(refresh_a.secret()));
    let reopened = client(&server_a, dir.path(), &clock);
    assert_eq!(
        reopened
            .token()
            .await
            .expect("a still logged in")
            .access_token,
        token_a.access_token
    );
}

#[tokio::test]
async fn the_new_token_hook_hears_each_token_the_provider_gets() {
    let (config, clock) = config(Quirks::default());
    let server = serve(config).await;
    let dir = tempfile::tempdir().expect("dir");
    let heard = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = Arc::clone(&heard);
    let auth = AttendiumAuth::builder(transport())
        .issuer(server.attendium.issuer())
        .store_dir(dir.path())
        .clock(Arc::new(clock.clone()))
        .on_new_token(move |_| {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        })
        .build()
        .expect("client");
    login(&auth, LoginOptions::default()).await.expect("login");
    auth.token().await.expect("token");
    // The stored session, read by this process's provider.
    assert_eq!(heard.load(std::sync::atomic::Ordering::SeqCst), 1);
    clock.advance(Duration::from_secs(2 * 3600));
    auth.token().await.expect("refresh");
    assert_eq!(heard.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(server.attendium.refreshes(), 1);
}

#[tokio::test]
async fn secrets_never_reach_debug_or_errors() {
    let (config, clock) = config(Quirks::default());
    let server = serve(config).await;
    let dir = tempfile::tempdir().expect("dir");
    let auth = client(&server, dir.path(), &clock);
    let login_in_progress = auth
        .start_login(LoginOptions::default())
        .await
        .expect("start");
    let url = login_in_progress.authorization_url().clone();
    let state = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("state");
    assert!(!format!("{login_in_progress:?}").contains(&state));
    let browser = tokio::spawn(browse(url));
    let token = login_in_progress
        .finish(Duration::from_secs(10))
        .await
        .expect("login");
    browser.await.expect("browser").expect("browsed");
    for shown in [format!("{auth:?}"), format!("{token:?}")] {
        assert!(!shown.contains(token.access_token.secret()));
        assert!(!shown.contains(token.refresh_token.as_ref().expect("refresh").secret()));
    }
    // The session file is private.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(attendium::session::session_file(dir.path(), auth.issuer()))
            .expect("file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

/// The sandbox's Attendium lives at `{base}/attendium`: an issuer with a path, whose
/// RFC 8414 document sits at `/.well-known/oauth-authorization-server/attendium`.
#[tokio::test]
async fn logs_in_to_an_issuer_with_a_path() {
    let clock = ManualClock::default();
    let sandbox = sandbox::Sandbox::builder()
        .attendium(AttendiumConfig::new().clock(Arc::new(clock.clone())))
        .start()
        .await
        .expect("sandbox");
    let server = sandbox.attendium().expect("attendium");
    assert_eq!(server.issuer(), format!("{}/attendium", sandbox.base_url()));
    let dir = tempfile::tempdir().expect("dir");
    let auth = AttendiumAuth::builder(transport())
        .issuer(server.issuer())
        .store_dir(dir.path())
        .clock(Arc::new(clock.clone()))
        .build()
        .expect("client");
    let token = login(&auth, LoginOptions::default()).await.expect("login");
    assert!(server.access_token_active(token.access_token.secret()));
    assert_eq!(
        server
            .counters()
            .requests_to("/.well-known/oauth-authorization-server/attendium"),
        1
    );
}

/// Rewrites JSON answers whose request path ends with `path`, as a server that differs
/// from the sandbox would answer.
struct RewriteJson {
    inner: Arc<dyn HttpTransport>,
    path: &'static str,
    edit: fn(&mut serde_json::Map<String, serde_json::Value>),
}

#[async_trait::async_trait]
impl HttpTransport for RewriteJson {
    async fn send(
        &self,
        request: auth_core::HttpRequest,
    ) -> Result<auth_core::HttpResponse, auth_core::TransportError> {
        let rewrite = request.uri().path().ends_with(self.path);
        let mut response = self.inner.send(request).await?;
        if rewrite
            && let Ok(serde_json::Value::Object(mut map)) =
                serde_json::from_slice::<serde_json::Value>(response.body())
        {
            (self.edit)(&mut map);
            *response.body_mut() = Bytes::from(serde_json::Value::Object(map).to_string());
            response.headers_mut().remove(http::header::CONTENT_LENGTH);
        }
        Ok(response)
    }
}

#[tokio::test]
async fn metadata_without_endpoints_falls_back_to_the_documented_paths() {
    let (config, clock) = config(Quirks::default());
    let server = serve(config).await;
    let dir = tempfile::tempdir().expect("dir");
    let transport = Arc::new(RewriteJson {
        inner: transport(),
        path: "/.well-known/oauth-authorization-server",
        edit: |metadata| {
            metadata.remove("token_endpoint");
            metadata.remove("registration_endpoint");
        },
    });
    let auth = AttendiumAuth::builder(transport)
        .issuer(server.attendium.issuer())
        .store_dir(dir.path())
        .clock(Arc::new(clock.clone()))
        .build()
        .expect("client");
    let metadata = auth.metadata().await.expect("metadata");
    assert_eq!(
        metadata.token_endpoint.as_str(),
        format!("{}/oauth2/token", server.attendium.issuer())
    );
    let token = login(&auth, LoginOptions::default()).await.expect("login");
    assert!(
        server
            .attendium
            .access_token_active(token.access_token.secret())
    );
    assert_eq!(server.attendium.counters().registrations, 1);
}

#[tokio::test]
async fn a_registration_that_is_not_a_public_client_is_refused() {
    let (config, clock) = config(Quirks::default());
    let server = serve(config).await;
    let dir = tempfile::tempdir().expect("dir");
    let transport = Arc::new(RewriteJson {
        inner: transport(),
        path: "/oauth2/register",
        edit: |client| {
            client.insert(
                "token_endpoint_auth_method".into(),
                "client_secret_basic".into(),
            );
        },
    });
    let auth = AttendiumAuth::builder(transport)
        .issuer(server.attendium.issuer())
        .store_dir(dir.path())
        .clock(Arc::new(clock.clone()))
        .build()
        .expect("client");
    let err = auth
        .start_login(LoginOptions::default())
        .await
        .expect_err("not public");
    assert!(matches!(err, Error::UnsupportedServer { .. }), "{err:?}");
    assert_nothing_stored(&auth).await;
}
