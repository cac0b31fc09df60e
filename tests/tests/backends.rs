//! The same scenarios over every HTTP backend: reqwest, hyper, and a transport written in
//! a few lines by a user (the README's). Each must give identical results, which shows
//! the transport trait is the real seam: neither API crate changes to run on any of them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use std::time::Duration;

use attendium::{AttendiumAuth, GraphQlClient, LoginOptions};
use auth_core::clock::ManualClock;
use auth_core::transport::{HttpRequest, HttpResponse, HttpTransport, TransportError};
use communico::{Client, ClientSecret, Event, EventQuery, date};
use futures_util::TryStreamExt;
use sandbox::Sandbox;
use sandbox::attendium::{Attendium, AttendiumConfig};
use sandbox::communico::CommunicoConfig;
use url::Url;

/// The README's "bring your own transport": a few lines that count requests and delegate
/// to whichever stack the user already has.
struct Counting<T> {
    inner: T,
    requests: AtomicU64,
}

#[async_trait::async_trait]
impl<T: HttpTransport> HttpTransport for Counting<T> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.inner.send(request).await
    }
}

fn backends() -> Vec<(&'static str, Arc<dyn HttpTransport>)> {
    vec![
        (
            "reqwest",
            Arc::new(http_reqwest::ReqwestTransport::new().expect("reqwest")),
        ),
        (
            "hyper",
            Arc::new(http_hyper::HyperTransport::new().expect("hyper")),
        ),
        (
            "user's own",
            Arc::new(Counting {
                inner: http_hyper::HyperTransport::new().expect("hyper"),
                requests: AtomicU64::new(0),
            }),
        ),
    ]
}

/// What a scenario observed, compared across backends.
#[derive(Debug, PartialEq)]
struct CommunicoOutcome {
    event_ids: Vec<u64>,
    serialized: Vec<serde_json::Value>,
    token_requests: u64,
    total: Option<u64>,
}

/// A month of events streamed in pages, with every token revoked after the first page:
/// the stream must cost exactly one more token and neither drop nor repeat an event.
async fn stream_a_month_with_a_revocation(transport: Arc<dyn HttpTransport>) -> CommunicoOutcome {
    let config = CommunicoConfig::default()
        .first_day(date("2026-12-01").expect("date"))
        .events_per_day(20)
        .events(31 * 20);
    let sandbox = Sandbox::builder()
        .communico(config)
        .start()
        .await
        .expect("sandbox");
    let api = sandbox.communico().expect("communico");
    let client = Client::builder()
        .base_url(api.base_url())
        .credentials(api.key(), ClientSecret::new(api.secret()))
        .shared_transport(transport)
        .build()
        .expect("client");
    let (from, to) = (
        date("2026-12-01").expect("date"),
        date("2026-12-31").expect("date"),
    );
    let mut stream = client
        .events(EventQuery::new().start_date(from).end_date(to))
        .expect("query");
    let mut events: Vec<Event> = Vec::new();
    while let Some(event) = stream.try_next().await.expect("event") {
        events.push(event);
        if events.len() == 200 {
            api.revoke_all_tokens();
        }
    }
    let expected = api.published_event_ids(from, to);
    let event_ids: Vec<u64> = events.iter().filter_map(|e| e.event_id).collect();
    assert_eq!(event_ids, expected, "every published event, once, in order");
    CommunicoOutcome {
        serialized: events
            .iter()
            .map(|e| serde_json::to_value(e).expect("serializable"))
            .collect(),
        event_ids,
        token_requests: api.token_requests(),
        total: stream.total(),
    }
}

#[tokio::test]
async fn communico_stream_with_a_revocation_is_identical_on_every_backend() {
    let mut outcomes = Vec::new();
    for (name, transport) in backends() {
        let outcome = stream_a_month_with_a_revocation(transport).await;
        assert!(outcome.event_ids.len() > 400, "{name}: several pages");
        assert_eq!(
            outcome.token_requests, 2,
            "{name}: one extra token for the revocation"
        );
        outcomes.push((name, outcome));
    }
    let (first_name, first) = &outcomes[0];
    for (name, outcome) in &outcomes[1..] {
        assert_eq!(outcome, first, "{name} differs from {first_name}");
    }
}

#[tokio::test]
async fn the_users_transport_sees_every_request() {
    let counting = Arc::new(Counting {
        inner: http_reqwest::ReqwestTransport::new().expect("reqwest"),
        requests: AtomicU64::new(0),
    });
    let outcome = stream_a_month_with_a_revocation(counting.clone()).await;
    // Two tokens, the pages, and the one page replayed after the revocation. Pages after
    // the first repeat the last two events of the one before (exactly-once listings).
    let pages = 1 + outcome.event_ids.len().saturating_sub(200).div_ceil(198) as u64;
    assert_eq!(counting.requests.load(Ordering::Relaxed), 2 + pages + 1);
}

#[derive(Debug, PartialEq)]
struct AttendiumOutcome {
    me_after_login: String,
    me_after_refresh: String,
    registrations: u64,
    code_exchanges: u64,
    refreshes: u64,
    access_token_changed: bool,
    refresh_token_rotated: bool,
}

/// Discovery, registration, PKCE login, `me`, expiry, refresh, `me` again.
async fn log_in_refresh_and_ask_who_i_am(transport: Arc<dyn HttpTransport>) -> AttendiumOutcome {
    let clock = ManualClock::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let issuer =
        Url::parse(&format!("http://{}", listener.local_addr().expect("addr"))).expect("url");
    let server = Attendium::new(
        AttendiumConfig::new()
            .user_id("ada")
            .clock(Arc::new(clock.clone())),
        issuer,
    )
    .expect("server");
    let router = server.router();
    let serving = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });

    let dir = tempfile::tempdir().expect("dir");
    let auth = AttendiumAuth::builder(transport.clone())
        .issuer(server.issuer())
        .store_dir(dir.path())
        .clock(Arc::new(clock.clone()))
        .build()
        .expect("client");
    let login = auth
        .start_login(LoginOptions::default())
        .await
        .expect("start");
    let url = login.authorization_url().clone();
    let browser = {
        let transport = transport.clone();
        tokio::spawn(async move {
            sandbox::attendium::follow_authorization(transport.as_ref(), &url).await
        })
    };
    let first = login.finish(Duration::from_secs(10)).await.expect("login");
    browser.await.expect("browser").expect("browsed");

    let graphql = GraphQlClient::new(
        Url::parse(&server.graphql_endpoint()).expect("endpoint"),
        transport,
        auth.token_provider(),
    )
    .expect("graphql");
    let me = || async {
        let response = graphql
            .query::<attendium::generated::Me>(attendium::generated::me::Variables)
            .await
            .expect("me");
        response.complete().expect("data").me.expect("signed in").id
    };
    let me_after_login = me().await;
    clock.advance(Duration::from_secs(2 * 3600));
    let me_after_refresh = me().await;
    let refreshed = auth.token().await.expect("token");
    let counters = server.counters();
    serving.abort();
    AttendiumOutcome {
        me_after_login,
        me_after_refresh,
        registrations: counters.registrations,
        code_exchanges: counters.token_requests_for("authorization_code"),
        refreshes: counters.refreshes,
        access_token_changed: refreshed.access_token != first.access_token,
        refresh_token_rotated: refreshed.refresh_token != first.refresh_token,
    }
}

#[tokio::test]
async fn attendium_login_refresh_and_me_are_identical_on_every_backend() {
    // Every backend must observe exactly this.
    for (name, transport) in backends() {
        let outcome = log_in_refresh_and_ask_who_i_am(transport).await;
        assert_eq!(
            outcome,
            AttendiumOutcome {
                me_after_login: "ada".into(),
                me_after_refresh: "ada".into(),
                registrations: 1,
                code_exchanges: 1,
                refreshes: 1,
                access_token_changed: true,
                refresh_token_rotated: true,
            },
            "{name}"
        );
    }
}
