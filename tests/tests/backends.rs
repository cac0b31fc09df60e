//! The same scenarios over every HTTP backend: reqwest, hyper, and a transport written in
//! a few lines by a user (the README's). Each must give identical results, which shows
//! the transport trait is the real seam: neither API crate changes to run on any of them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use auth_core::transport::{HttpRequest, HttpResponse, HttpTransport, TransportError};
use communico::{Client, ClientSecret, Event, EventQuery, date};
use futures_util::TryStreamExt;
use sandbox::Sandbox;
use sandbox::communico::CommunicoConfig;

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
    // Two tokens, four pages, and the one page replayed after the revocation.
    let pages = outcome.event_ids.len().div_ceil(200) as u64;
    assert_eq!(counting.requests.load(Ordering::Relaxed), 2 + pages + 1);
}
