//! Against the sandbox behaving as servers in the field do: listings that change between
//! pages, pages without `total` or `start`, a lower cap, a byte-order mark, a broken
//! title, `scope` as an array. Each listing must hand out every event once.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;

use common::Harness;
use communico::{Event, EventQuery, ReservationQuery, date};
use futures_util::TryStreamExt;
use jiff::civil::Date;
use sandbox::communico::{CommunicoConfig, CommunicoSandbox, EventEdit, Fault, FaultTarget, Quirk};

const DAY: &str = "2024-05-01";

fn day() -> Date {
    date(DAY).unwrap()
}

/// One day of events, in pages of `limit`.
fn one_day(limit: u32) -> EventQuery {
    EventQuery::new()
        .start_date(day())
        .end_date(day())
        .limit(limit)
}

/// 30 events on one day, pages capped at 10 by the server: the set-up of the reports.
async fn thirty_capped_at_ten() -> Harness {
    Harness::start(
        CommunicoConfig::default()
            .events(30)
            .events_per_day(30)
            .limit_cap(10),
    )
    .await
}

fn ids(events: &[Event]) -> Vec<u64> {
    events.iter().map(|e| e.event_id.unwrap()).collect()
}

fn assert_once(ids: &[u64]) {
    let unique: HashSet<_> = ids.iter().collect();
    assert_eq!(
        unique.len(),
        ids.len(),
        "an event was handed out twice: {ids:?}"
    );
}

fn published(api: &CommunicoSandbox) -> Vec<u64> {
    api.published_event_ids(day(), day())
}

async fn list(h: &Harness, query: EventQuery) -> Vec<Event> {
    h.client()
        .events(query)
        .unwrap()
        .try_collect()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_event_published_before_the_cursor_between_pages_repeats_nothing() {
    let h = thirty_capped_at_ten().await;
    let before = published(h.api());
    // After page one is served, an event sorting before it is published.
    h.api().inject(Fault::ShiftByInsert, 1);
    let mut stream = h.client().events(one_day(200)).unwrap();
    let mut events = Vec::new();
    while let Some(event) = stream.try_next().await.unwrap() {
        events.push(event);
    }
    let got = ids(&events);
    assert_once(&got);
    let after = published(h.api());
    assert_eq!(after.len(), before.len() + 1);
    // Every event once, the new one included (found by the second pass).
    let got: HashSet<u64> = got.into_iter().collect();
    assert_eq!(got, after.iter().copied().collect());
    assert!(stream.shifts() >= 1);
    assert_eq!(stream.passes(), 2);
}

#[tokio::test]
async fn an_event_deleted_before_the_cursor_costs_no_event_that_stayed() {
    let h = thirty_capped_at_ten().await;
    let before = published(h.api());
    h.api().inject(Fault::ShiftByDelete, 1);
    let got = ids(&list(&h, one_day(200)).await);
    assert_once(&got);
    let after = published(h.api());
    assert_eq!(after.len(), before.len() - 1);
    // Every event that existed throughout is there; the deleted one was handed out
    // before it was deleted (it opened page one).
    for id in &after {
        assert!(got.contains(id), "{id} existed throughout but is missing");
    }
    assert_eq!(got.len(), before.len());
}

#[tokio::test]
async fn shifts_on_several_pages_and_both_ways_still_hand_out_each_event_once() {
    let h = Harness::start(CommunicoConfig::default().events(120).events_per_day(120)).await;
    let before = published(h.api());
    for fault in [
        Fault::ShiftByInsert,
        Fault::ShiftByDelete,
        Fault::ShiftByInsert,
        Fault::ShiftByDelete,
    ] {
        h.api().inject(fault, 1);
    }
    let got = ids(&list(&h, one_day(15)).await);
    assert_once(&got);
    let after: HashSet<u64> = published(h.api()).into_iter().collect();
    for id in before.iter().filter(|id| after.contains(id)) {
        assert!(got.contains(id), "{id} existed throughout but is missing");
    }
}

#[tokio::test]
async fn no_total_no_start_echo_and_a_lower_cap_still_list_every_event_once() {
    let h = Harness::start(CommunicoConfig::default().events(300).events_per_day(100)).await;
    let api = h.api();
    api.arm(Quirk::NoTotal);
    api.arm(Quirk::NoStartEcho);
    api.arm(Quirk::LimitCap(7));
    let query = EventQuery::new()
        .start_date(day())
        .end_date(date("2024-05-03").unwrap());
    let mut stream = h.client().events(query).unwrap();
    let mut events = Vec::new();
    while let Some(event) = stream.try_next().await.unwrap() {
        events.push(event);
    }
    let expected = api.published_event_ids(day(), date("2024-05-03").unwrap());
    assert_eq!(ids(&events), expected);
    assert_eq!(stream.total(), None);
    // Pages of 7 overlapping by 2, then one page that brings nothing new: no endless
    // loop, no early stop at the first page shorter than the 200 asked for.
    let requests = api.requests("/v3/attend/events");
    assert_eq!(requests, 2 + (expected.len() as u64 - 7) / 5);
}

#[tokio::test]
async fn other_lists_come_whole_without_total_or_start_under_a_lower_cap() {
    let h = Harness::start(CommunicoConfig::default()).await;
    let client = h.client();
    let query = ReservationQuery::new()
        .start_date(day())
        .end_date(date("2024-05-31").unwrap());
    let plain = client.reservations(&query).await.unwrap();
    let rooms = client.rooms().await.unwrap();
    assert!(plain.len() > 30, "{}", plain.len());
    h.api().arm(Quirk::NoTotal);
    h.api().arm(Quirk::NoStartEcho);
    h.api().arm(Quirk::LimitCap(9));
    assert_eq!(client.reservations(&query).await.unwrap(), plain);
    assert_eq!(client.rooms().await.unwrap(), rooms);
}

#[tokio::test]
async fn a_byte_order_mark_before_the_token_and_the_pages_is_skipped() {
    let h = thirty_capped_at_ten().await;
    h.api().arm(Quirk::Bom(FaultTarget::Token));
    h.api().arm(Quirk::Bom(FaultTarget::Data));
    let got = ids(&list(&h, one_day(200)).await);
    assert_eq!(got, published(h.api()));
    assert_eq!(h.api().tokens_issued(), 1);
}

#[tokio::test]
async fn scope_as_an_array_in_the_token_answer_is_accepted() {
    let h = thirty_capped_at_ten().await;
    h.api().arm(Quirk::ScopeArray);
    let got = ids(&list(&h, one_day(200)).await);
    assert_eq!(got, published(h.api()));
}

#[tokio::test]
async fn one_title_with_a_lone_surrogate_costs_only_its_broken_half() {
    let h = thirty_capped_at_ten().await;
    let expected = published(h.api());
    let broken = expected[4];
    let title = h.api().event(broken).unwrap().title;
    h.api().arm(Quirk::LoneSurrogateInTitle(broken));
    let mut stream = h.client().events(one_day(200)).unwrap();
    let mut events = Vec::new();
    while let Some(event) = stream.try_next().await.unwrap() {
        events.push(event);
    }
    // The whole listing, each event once, the one title mended.
    assert_eq!(ids(&events), expected);
    let event = events.iter().find(|e| e.event_id == Some(broken)).unwrap();
    assert_eq!(event.title.as_deref(), Some(&*format!("{title}\u{FFFD}")));
    assert_eq!(stream.invalid_text_count(), 1);
}

#[tokio::test]
async fn one_title_with_bytes_that_are_not_utf8_costs_only_those_bytes() {
    let h = thirty_capped_at_ten().await;
    let expected = published(h.api());
    let broken = expected[12];
    h.api().arm(Quirk::InvalidUtf8InTitle(broken));
    let event = h.client().event(broken, &[]).await.unwrap();
    assert!(event.title.unwrap().ends_with('\u{FFFD}'));
    let mut stream = h.client().events(one_day(200)).unwrap();
    let mut got = Vec::new();
    while let Some(event) = stream.try_next().await.unwrap() {
        got.push(event.event_id.unwrap());
    }
    assert_eq!(got, expected);
    assert_eq!(stream.invalid_text_count(), 1);
}

#[tokio::test]
async fn answers_that_are_not_json_stay_typed_errors() {
    let h = thirty_capped_at_ten().await;
    let client = h.builder().no_retry().build().unwrap();
    h.api().inject(Fault::HtmlPage { status: 200 }, 1);
    let err = client
        .events(one_day(200))
        .unwrap()
        .try_next()
        .await
        .unwrap_err();
    assert!(
        matches!(err, communico::Error::UnexpectedBody { .. }),
        "{err:?}"
    );
    h.api().inject(Fault::MalformedJson, 1);
    let err = client
        .events(one_day(200))
        .unwrap()
        .try_next()
        .await
        .unwrap_err();
    assert!(
        matches!(err, communico::Error::InvalidResponse { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn events_added_and_moved_between_listings_show_in_the_next_one() {
    let h = thirty_capped_at_ten().await;
    let api = h.api();
    let at = |hour| day().at(hour, 0, 0, 0);
    let added = api
        .add_event(&EventEdit::new("Chess Club", at(7), at(8)))
        .unwrap();
    let first = list(&h, one_day(200)).await;
    assert_eq!(first[0].event_id, Some(added), "07:00 sorts first");
    api.update_event(added, |e| {
        e.start = at(21);
        e.end = at(22);
    })
    .unwrap();
    let second = ids(&list(&h, one_day(200)).await);
    assert_eq!(second.last(), Some(&added));
    assert_eq!(second, published(api));
}

mod schedules {
    //! Random inserts, deletions and moves between pages, against the sandbox.

    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Change {
        /// Publish an event at this hour of one of the three days.
        Insert { day: i8, hour: i8 },
        /// Delete the n-th event (modulo how many there are).
        Delete(usize),
        /// Move the n-th event to this hour of one of the three days.
        Move { nth: usize, day: i8, hour: i8 },
    }

    fn change() -> impl Strategy<Value = Change> {
        prop_oneof![
            (1i8..=3, 0i8..24).prop_map(|(day, hour)| Change::Insert { day, hour }),
            any::<usize>().prop_map(Change::Delete),
            (any::<usize>(), 1i8..=3, 0i8..24).prop_map(|(nth, day, hour)| Change::Move {
                nth,
                day,
                hour
            }),
        ]
    }

    fn apply(api: &CommunicoSandbox, change: &Change, deleted: &mut HashSet<u64>) {
        let at = |d: i8, h: i8| jiff::civil::date(2024, 5, d).at(h, 0, 0, 0);
        let ids = api.event_ids();
        match *change {
            Change::Insert { day, hour } => {
                api.add_event(&EventEdit::new("Pop-up", at(day, hour), at(day, hour)))
                    .unwrap();
            }
            Change::Delete(n) => {
                let id = ids[n % ids.len()];
                api.delete_event(id).unwrap();
                deleted.insert(id);
            }
            Change::Move { nth, day, hour } => {
                api.update_event(ids[nth % ids.len()], |e| {
                    e.start = at(day, hour);
                    e.end = at(day, hour);
                })
                .unwrap();
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        #[test]
        fn every_event_that_stays_is_handed_out_exactly_once(
            schedule in prop::collection::vec((0usize..10, change()), 0..8),
            page in 5u32..20,
        ) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let h = Harness::start(CommunicoConfig::default().events(90).events_per_day(30)).await;
                let api = h.api();
                let (from, to) = (day(), date("2024-05-03").unwrap());
                let before: HashSet<u64> = api.published_event_ids(from, to).into_iter().collect();
                let query = EventQuery::new().start_date(from).end_date(to).limit(page);
                let mut stream = h.client().events(query).unwrap();
                let mut got = Vec::new();
                let mut deleted = HashSet::new();
                let mut pages = 0;
                loop {
                    if stream.buffered_len() == 0 {
                        // Between pages: what is scheduled for this one happens now.
                        for (_, change) in schedule.iter().filter(|(p, _)| *p == pages) {
                            apply(api, change, &mut deleted);
                        }
                        pages += 1;
                    }
                    match stream.try_next().await.unwrap() {
                        Some(event) => got.push(event.event_id.unwrap()),
                        None => break,
                    }
                }
                assert_once(&got);
                let after: HashSet<u64> = api.published_event_ids(from, to).into_iter().collect();
                for id in before.intersection(&after) {
                    assert!(got.contains(id), "{id} stayed throughout but is missing: {schedule:?}");
                }
                for id in &got {
                    assert!(before.contains(id) || after.contains(id) || deleted.contains(id),
                        "{id} was never in the listing");
                }
            });
        }
    }
}
