//! The event stream: paging under the `limit` cap, token expiry and revocation mid-stream.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::Harness;
use communico::{Event, EventQuery, date};
use futures_util::{StreamExt, TryStreamExt};
use sandbox::communico::{CommunicoConfig, Fault};

fn month() -> EventQuery {
    EventQuery::new()
        .start_date(date("2024-05-01").unwrap())
        .end_date(date("2024-05-31").unwrap())
}

fn ids(events: &[Event]) -> Vec<u64> {
    events.iter().map(|e| e.event_id.unwrap()).collect()
}

/// How many requests a listing of `n` entries takes in pages of `size`: every page after
/// the first repeats the last two entries of the one before.
fn pages(n: usize, size: usize) -> u64 {
    if n <= size {
        1
    } else {
        1 + (n - size).div_ceil(size - 2) as u64
    }
}

fn assert_no_duplicates(ids: &[u64]) {
    let unique: HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate events");
}

#[tokio::test]
async fn a_month_streams_in_full_under_a_silent_limit_cap() {
    // The server caps `limit` at 50 while the client asks for 200.
    let h = Harness::start(CommunicoConfig::default().limit_cap(50)).await;
    let expected = h
        .api()
        .published_event_ids(date("2024-05-01").unwrap(), date("2024-05-31").unwrap());
    assert!(
        expected.len() > 500,
        "a month should hold hundreds of events"
    );

    let mut stream = h.client().events(month()).unwrap();
    assert_eq!(stream.total(), None);
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(stream.total(), Some(expected.len() as u64));
    let mut events = vec![first];
    while let Some(event) = stream.try_next().await.unwrap() {
        // At most one page is held.
        assert!(stream.buffered_len() < 50);
        events.push(event);
    }
    assert_eq!(ids(&events), expected);
    assert_eq!(stream.received(), expected.len() as u64);
    // Pages of 50, advanced by what was received: no extra request beyond the last page.
    assert_eq!(
        h.api().requests("/v3/attend/events"),
        pages(expected.len(), 50)
    );
    assert_eq!(h.api().token_requests(), 1);
}

#[tokio::test]
async fn page_boundary_equal_to_total_ends_without_an_extra_request() {
    let h = Harness::start(CommunicoConfig::default().events_per_day(40)).await;
    // 5 days of 40 events, minus private/draft ones: some number; ask in pages of 7.
    let query = EventQuery::new()
        .start_date(date("2024-05-01").unwrap())
        .end_date(date("2024-05-05").unwrap())
        .limit(7);
    let events: Vec<Event> = h
        .client()
        .events(query)
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let expected = h
        .api()
        .published_event_ids(date("2024-05-01").unwrap(), date("2024-05-05").unwrap());
    assert_eq!(ids(&events), expected);
    assert_eq!(
        h.api().requests("/v3/attend/events"),
        pages(expected.len(), 7)
    );
}

#[tokio::test]
async fn token_expiry_mid_stream_costs_one_token_and_loses_nothing() {
    let h = Harness::start(CommunicoConfig::default().token_ttl(Duration::from_secs(600))).await;
    let client = h
        .builder()
        .refresh_margin(Duration::from_secs(30))
        .build()
        .unwrap();
    let expected = h
        .api()
        .published_event_ids(date("2024-05-01").unwrap(), date("2024-05-31").unwrap());
    let mut stream = client.events(month()).unwrap();
    let mut events = Vec::new();
    // Read exactly the first page.
    for _ in 0..200 {
        events.push(stream.try_next().await.unwrap().unwrap());
    }
    assert_eq!(h.api().tokens_issued(), 1);
    // The token expires (for the server and for the client's cache alike).
    h.clock.advance(Duration::from_secs(601));
    while let Some(event) = stream.try_next().await.unwrap() {
        events.push(event);
    }
    let got = ids(&events);
    assert_no_duplicates(&got);
    assert_eq!(got, expected);
    assert_eq!(h.api().tokens_issued(), 2);
    assert_eq!(h.api().token_requests(), 2);
}

#[tokio::test]
async fn token_expiring_unnoticed_by_the_client_is_replaced_after_a_401() {
    // The server's tokens last 600 s but the client's clock does not move: the cache
    // thinks the token is fresh and learns otherwise from a 401.
    let h = Harness::start(CommunicoConfig::default().token_ttl(Duration::from_secs(600))).await;
    let client = h
        .builder()
        .clock(std::sync::Arc::new(auth_core::clock::ManualClock::default()))
        .build()
        .unwrap();
    let expected = h
        .api()
        .published_event_ids(date("2024-05-01").unwrap(), date("2024-05-31").unwrap());
    let mut stream = client.events(month()).unwrap();
    let mut events = Vec::new();
    for _ in 0..200 {
        events.push(stream.try_next().await.unwrap().unwrap());
    }
    h.clock.advance(Duration::from_secs(601));
    while let Some(event) = stream.try_next().await.unwrap() {
        events.push(event);
    }
    assert_eq!(ids(&events), expected);
    assert_eq!(h.api().token_requests(), 2);
    // One page was asked for twice: the rejected attempt and its replay.
    assert_eq!(
        h.api().requests("/v3/attend/events"),
        pages(expected.len(), 200) + 1
    );
}

#[tokio::test]
async fn revocation_mid_stream_costs_one_token_and_loses_nothing() {
    let h = Harness::start(CommunicoConfig::default()).await;
    let client = h.client();
    let expected = h
        .api()
        .published_event_ids(date("2024-05-01").unwrap(), date("2024-05-31").unwrap());
    let mut stream = client.events(month()).unwrap();
    let mut events = Vec::new();
    for _ in 0..400 {
        events.push(stream.try_next().await.unwrap().unwrap());
    }
    h.api().revoke_all_tokens();
    while let Some(event) = stream.try_next().await.unwrap() {
        events.push(event);
    }
    let got = ids(&events);
    assert_no_duplicates(&got);
    assert_eq!(got, expected);
    assert_eq!(h.api().token_requests(), 2);
}

#[tokio::test]
async fn an_injected_revocation_is_replayed_once() {
    let h = Harness::start(CommunicoConfig::default()).await;
    let client = h.client();
    let expected = h
        .api()
        .published_event_ids(date("2024-05-01").unwrap(), date("2024-05-31").unwrap());
    let mut stream = client.events(month()).unwrap();
    let mut events = vec![stream.try_next().await.unwrap().unwrap()];
    h.api().inject(Fault::RevokeToken, 1);
    while let Some(event) = stream.try_next().await.unwrap() {
        events.push(event);
    }
    assert_eq!(ids(&events), expected);
    assert_eq!(h.api().tokens_issued(), 2);
}

#[tokio::test]
async fn an_error_ends_the_stream_and_says_where_to_resume() {
    let h = Harness::start(CommunicoConfig::default()).await;
    let client = h.builder().no_retry().build().unwrap();
    let expected = h
        .api()
        .published_event_ids(date("2024-05-01").unwrap(), date("2024-05-31").unwrap());
    let mut stream = client.events(month()).unwrap();
    let mut events = Vec::new();
    for _ in 0..200 {
        events.push(stream.try_next().await.unwrap().unwrap());
    }
    h.api().inject(Fault::HtmlPage { status: 500 }, 1);
    assert!(stream.next().await.unwrap().is_err());
    assert!(stream.next().await.is_none());
    let resume = stream.next_offset();
    assert_eq!(resume, 200);
    let rest: Vec<Event> = client
        .events(month().start(resume))
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    events.extend(rest);
    assert_eq!(ids(&events), expected);
}
