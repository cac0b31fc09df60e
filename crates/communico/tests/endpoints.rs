//! Every endpoint against the sandbox.

#![allow(clippy::unwrap_used)]

mod common;

use common::Harness;
use communico::{
    EventField, EventQuery, RegistrationState, ReservationQuery, ReservationStatus, date,
};
use futures_util::TryStreamExt;
use sandbox::communico::CommunicoConfig;

fn may() -> EventQuery {
    EventQuery::new()
        .start_date(date("2024-05-01").unwrap())
        .end_date(date("2024-05-03").unwrap())
}

#[tokio::test]
async fn events_page_with_201_answers_and_default_fields_only() {
    let h = Harness::start(CommunicoConfig::default()).await;
    let page = h.client().events_page(&may().limit(20), 0).await.unwrap();
    assert_eq!(page.entries.len(), 20);
    assert_eq!(page.start, Some(0));
    assert_eq!(page.start_date.as_deref(), Some("2024-05-01"));
    let expected = h
        .api()
        .published_event_ids(date("2024-05-01").unwrap(), date("2024-05-03").unwrap());
    assert_eq!(page.total, Some(expected.len() as u64));
    for event in &page.entries {
        assert!(event.event_id.is_some() && event.title.is_some());
        // Optional members are absent unless asked for.
        assert!(event.ages.is_none() && !event.extra.contains_key("ages"));
        assert!(event.registration.is_none() && !event.extra.contains_key("registration"));
    }
    assert_eq!(h.api().requests("/v3/attend/events"), 1);
    assert_eq!(h.api().token_requests(), 1);
}

#[tokio::test]
async fn plain_200_answers_work_too() {
    let h = Harness::start(CommunicoConfig::default().success_status(200)).await;
    let page = h.client().events_page(&may().limit(5), 0).await.unwrap();
    assert_eq!(page.entries.len(), 5);
}

#[tokio::test]
async fn optional_fields_arrive_when_asked_for() {
    let h = Harness::start(CommunicoConfig::default()).await;
    let query = may()
        .fields(EventField::REGISTRATION.iter().cloned())
        .fields([EventField::Ages, EventField::Types]);
    let events: Vec<_> = h
        .client()
        .events(query)
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert!(
        events
            .iter()
            .all(|e| e.registration.is_some() && e.types.is_some())
    );
    assert!(
        events
            .iter()
            .all(|e| e.registration_state() != RegistrationState::Unknown)
    );
    for state in ["open", "full", "waitlist", "third", "dropin"] {
        assert!(
            events.iter().any(|e| matches!(
                (state, e.registration_state()),
                (
                    "open",
                    RegistrationState::Open {
                        spots_left: Some(_)
                    }
                ) | ("full", RegistrationState::Full)
                    | ("waitlist", RegistrationState::Waitlist)
                    | ("third", RegistrationState::ThirdParty { url: Some(_) })
                    | ("dropin", RegistrationState::NotRequired)
            )),
            "no event in state {state}"
        );
    }
    // `ages` can be null in the data set (sparse events) and stays distinguishable.
    assert!(
        events
            .iter()
            .any(|e| e.ages.is_none() && e.was_null("ages"))
    );
}

#[tokio::test]
async fn filters_by_names_with_special_characters_locations_and_term() {
    let h = Harness::start(CommunicoConfig::default()).await;
    let client = h.client();
    let crafts: Vec<_> = client
        .events(
            may()
                .types(["Art/Crafts/Hobbies"])
                .fields([EventField::Types]),
        )
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert!(!crafts.is_empty());
    assert!(crafts.iter().all(|e| {
        e.types
            .as_ref()
            .unwrap()
            .iter()
            .any(|t| t == "Art/Crafts/Hobbies")
    }));

    let adults: Vec<_> = client
        .events(may().ages(["Adults (18+)"]).fields([EventField::Ages]))
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert!(!adults.is_empty());
    assert!(
        adults
            .iter()
            .all(|e| e.ages.as_ref().unwrap().iter().any(|a| a == "Adults (18+)"))
    );

    let two_branches: Vec<_> = client
        .events(may().location_ids([416, 434]))
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert!(!two_branches.is_empty());
    assert!(
        two_branches
            .iter()
            .all(|e| matches!(e.location_id, Some(416 | 434)))
    );

    let knitting: Vec<_> = client
        .events(may().term("knitting"))
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert!(!knitting.is_empty());
    assert!(
        knitting
            .iter()
            .all(|e| e.title.as_deref() == Some("Knitting Club"))
    );
}

#[tokio::test]
async fn one_event_with_fields_and_unknown_id() {
    let h = Harness::start(CommunicoConfig::default()).await;
    let client = h.client();
    let event = client
        .event(100_005, &[EventField::EventImage, EventField::Ages])
        .await
        .unwrap();
    assert_eq!(event.event_id, Some(100_005));
    assert!(event.event_image.is_some() || event.was_null("eventImage"));
    assert!(event.types.is_none());
    assert!(matches!(
        client.event(1, &[]).await,
        Err(communico::Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn registrants_of_an_event() {
    let h = Harness::start(CommunicoConfig::default()).await;
    let client = h.client();
    let full: Vec<_> = client
        .events(may().fields(EventField::REGISTRATION.iter().cloned()))
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    // More registrants than the API's default page of 10: every one must arrive.
    let event = full
        .iter()
        .find(|e| {
            e.registration_state() == RegistrationState::Full
                && e.total_registrants.is_some_and(|n| n > 10)
        })
        .unwrap();
    let registrants = client.registrants(event.event_id.unwrap()).await.unwrap();
    assert_eq!(registrants.len() as u64, event.total_registrants.unwrap());
    // No page repeated: the cards given are all different.
    let cards: Vec<_> = registrants
        .iter()
        .filter_map(|r| r.library_card.as_deref().filter(|c| !c.is_empty()))
        .collect();
    let distinct: std::collections::HashSet<_> = cards.iter().collect();
    assert_eq!(distinct.len(), cards.len(), "{cards:?}");
    assert!(
        registrants
            .iter()
            .any(|r| r.library_card.as_deref() == Some(""))
    );
    assert!(
        registrants
            .iter()
            .any(|r| r.library_card.is_none() && r.was_null("librarycard"))
    );
}

#[tokio::test]
async fn lookup_lists() {
    let h = Harness::start(CommunicoConfig::default()).await;
    let client = h.client();
    let types = client.event_types().await.unwrap();
    assert!(
        types
            .iter()
            .any(|t| t.name.as_deref() == Some("Computers/Technology"))
    );
    let ages = client.age_groups().await.unwrap();
    assert!(
        ages.iter()
            .any(|a| a.name.as_deref() == Some("Adults (18+)"))
    );
    // Ages come as bare strings and are written back as such.
    assert_eq!(
        serde_json::to_value(&ages[0]).unwrap(),
        serde_json::json!(ages[0].name.clone().unwrap())
    );
    let locations = client.locations().await.unwrap();
    assert_eq!(locations.len(), 20);
    assert!(
        locations
            .iter()
            .any(|l| l.id == Some(434) && l.name.as_deref() == Some("West Toledo"))
    );
    let rooms = client.rooms().await.unwrap();
    assert_eq!(rooms.len(), 40);
    assert!(
        rooms
            .iter()
            .all(|r| r.name.is_some() && r.location_id.is_some())
    );
}

#[tokio::test]
async fn reservations_make_one_call_per_status_and_merge() {
    let h = Harness::start(CommunicoConfig::default()).await;
    let client = h.client();
    let query = ReservationQuery::new()
        .start_date(date("2024-05-01").unwrap())
        .end_date(date("2024-05-31").unwrap())
        .statuses([ReservationStatus::Approved, ReservationStatus::Pending])
        .fields(["contactName", "layout"]);
    let merged = client.reservations(&query).await.unwrap();
    let approved = merged
        .iter()
        .filter(|r| r.status.as_deref() == Some("approved"))
        .count();
    let pending = merged
        .iter()
        .filter(|r| r.status.as_deref() == Some("pending"))
        .count();
    assert!(approved > 0 && pending > 0);
    assert_eq!(approved + pending, merged.len());
    assert!(
        merged
            .iter()
            .all(|r| r.contact_name.is_some() && r.layout.is_some())
    );
    // Approved first, then pending: the order the statuses were given.
    let first_pending = merged
        .iter()
        .position(|r| r.status.as_deref() == Some("pending"))
        .unwrap();
    assert!(
        merged[first_pending..]
            .iter()
            .all(|r| r.status.as_deref() == Some("pending"))
    );
    assert_eq!(h.api().requests("/v3/reserve/reservations"), 2);

    let one = &merged[0];
    let again = client
        .reservation(one.reservation_id.unwrap(), &["contactEmail"])
        .await
        .unwrap();
    assert_eq!(again.reservation_id, one.reservation_id);
    assert!(again.contact_email.is_some() && again.contact_name.is_none());
}

#[tokio::test]
async fn invalid_dates_are_refused_before_any_request() {
    let h = Harness::start(CommunicoConfig::default()).await;
    let client = h.client();
    assert!(matches!(
        date("2016-11-31"),
        Err(communico::Error::InvalidQuery { .. })
    ));
    let backwards = EventQuery::new()
        .start_date(date("2024-05-10").unwrap())
        .end_date(date("2024-05-01").unwrap());
    assert!(matches!(
        client.events(backwards.clone()),
        Err(communico::Error::InvalidQuery { .. })
    ));
    assert!(matches!(
        client.events_page(&backwards, 0).await,
        Err(communico::Error::InvalidQuery { .. })
    ));
    let backwards = ReservationQuery::new()
        .start_date(date("2024-05-10").unwrap())
        .end_date(date("2024-05-01").unwrap());
    assert!(client.reservations(&backwards).await.is_err());
    assert_eq!(h.api().token_requests(), 0);
    assert!(h.api().request_counts().is_empty());
}

#[tokio::test]
async fn events_serialize_back_to_exactly_what_the_server_sent() {
    let h = Harness::start(CommunicoConfig::default()).await;
    let api = h.api();
    let query = EventQuery::new()
        .start_date(date("2024-05-01").unwrap())
        .end_date(date("2024-05-31").unwrap())
        .fields(EventField::ALL.iter().cloned())
        .visibility(communico::Visibility::IncludePrivate)
        .status(None)
        // The order the stream asks for when the query names none.
        .sort("eventStart", communico::SortOrder::Ascending);
    let events: Vec<_> = h
        .client()
        .events(query.clone())
        .unwrap()
        .try_collect()
        .await
        .unwrap();

    // The same pages, read as plain JSON.
    http_reqwest::install_crypto_provider();
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(format!("{}/v3/token", api.base_url()))
        .basic_auth(api.key(), Some(api.secret()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut raw = Vec::new();
    while raw.len() < events.len() {
        let url = format!(
            "{}/v3/attend/events?{}",
            api.base_url(),
            query.to_query_string(raw.len() as u64, 200).unwrap()
        );
        let page: serde_json::Value = http
            .get(url)
            .bearer_auth(token["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        raw.extend(page["data"]["entries"].as_array().unwrap().iter().cloned());
    }
    assert_eq!(raw.len(), events.len());
    for (event, sent) in events.iter().zip(&raw) {
        assert_eq!(&serde_json::to_value(event).unwrap(), sent);
    }
    // The mix is there: HTML kept as given, nulls kept, canceled and all-day events.
    assert!(events.iter().any(|e| {
        e.description
            .as_deref()
            .is_some_and(|d| d.contains("&amp;"))
    }));
    assert!(events.iter().any(|e| e.is_canceled()));
    assert!(
        events
            .iter()
            .any(|e| e.is_rescheduled() && e.new_event_id.is_some())
    );
    assert!(
        events
            .iter()
            .any(|e| e.is_all_day() && e.was_null("roomName"))
    );
    assert!(events.iter().any(|e| e.is_multi_day()));
    assert!(
        events
            .iter()
            .any(|e| e.event_start.is_none() && e.was_null("eventStart"))
    );
    assert!(events.iter().any(|e| e.private_event == Some(true)));
}
