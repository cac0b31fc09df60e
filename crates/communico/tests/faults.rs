//! Error handling against injected faults: 401 replay, Retry-After, HTML and malformed
//! bodies, error envelopes, timeouts, and credentials.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::Harness;
use communico::{Client, ClientSecret, Error};
use sandbox::communico::{CommunicoConfig, Fault, FaultTarget};

const EVENTS: &str = "/v3/attend/events/100000";

#[tokio::test]
async fn a_401_invalidates_the_token_and_replays_once() {
    let h = Harness::start(CommunicoConfig::default()).await;
    let client = h.client();
    client.event(100_000, &[]).await.unwrap();
    h.api().inject(Fault::RevokeToken, 1);
    let event = client.event(100_000, &[]).await.unwrap();
    assert_eq!(event.event_id, Some(100_000));
    assert_eq!(h.api().tokens_issued(), 2);
    assert_eq!(h.api().requests(EVENTS), 3);
}

#[tokio::test]
async fn a_second_401_is_reported_not_replayed_forever() {
    let h = Harness::start(CommunicoConfig::default()).await;
    let client = h.client();
    h.api().inject(Fault::RevokeToken, 2);
    match client.event(100_000, &[]).await {
        Err(Error::Unauthorized { status }) => assert_eq!(status, 401),
        other => panic!("{other:?}"),
    }
    assert_eq!(h.api().requests(EVENTS), 2);
    assert_eq!(h.api().tokens_issued(), 2);
}

#[tokio::test]
async fn retry_after_is_honoured_with_the_injected_sleep() {
    let h = Harness::start(CommunicoConfig::default()).await;
    let client = h.client();
    h.api().inject(
        Fault::RateLimited {
            retry_after_secs: 7,
        },
        1,
    );
    h.api().inject(
        Fault::Unavailable {
            retry_after_secs: Some(2),
        },
        1,
    );
    let event = client.event(100_000, &[]).await.unwrap();
    assert_eq!(event.event_id, Some(100_000));
    assert_eq!(h.api().requests(EVENTS), 3);
    let sleeps = h.sleeps.taken();
    assert!(sleeps.contains(&Duration::from_secs(7)), "{sleeps:?}");
    assert!(sleeps.contains(&Duration::from_secs(2)), "{sleeps:?}");
}

#[tokio::test]
async fn when_retries_run_out_the_last_answer_is_the_error() {
    let h = Harness::start(CommunicoConfig::default()).await;
    let client = h.client();
    h.api().inject(
        Fault::RateLimited {
            retry_after_secs: 1,
        },
        3,
    );
    match client.event(100_000, &[]).await {
        Err(Error::RateLimited { retry_after }) => {
            assert_eq!(retry_after, Some(Duration::from_secs(1)));
        }
        other => panic!("{other:?}"),
    }
    // The default policy makes three attempts.
    assert_eq!(h.api().requests(EVENTS), 3);
    assert_eq!(h.sleeps.taken(), [Duration::from_secs(1); 2]);
}

#[tokio::test]
async fn without_retries_a_429_is_rate_limited() {
    let h = Harness::start(CommunicoConfig::default()).await;
    let client = h.builder().no_retry().build().unwrap();
    h.api().inject(
        Fault::RateLimited {
            retry_after_secs: 30,
        },
        1,
    );
    match client.event(100_000, &[]).await {
        Err(
            e @ Error::RateLimited {
                retry_after: Some(d),
            },
        ) => {
            assert_eq!(d, Duration::from_secs(30));
            assert!(e.is_retryable());
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn html_pages_are_typed_errors_with_status_and_snippet() {
    let h = Harness::start(CommunicoConfig::default()).await;
    let client = h.builder().no_retry().build().unwrap();
    for status in [500u16, 200, 502] {
        h.api().inject(Fault::HtmlPage { status }, 1);
        match client.event(100_000, &[]).await {
            Err(Error::UnexpectedBody {
                status: got,
                content_type,
                snippet,
            }) => {
                assert_eq!(got.as_u16(), status);
                assert!(content_type.unwrap().starts_with("text/html"));
                assert!(snippet.contains("Something went wrong"), "{snippet}");
            }
            other => panic!("{status}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn malformed_json_and_error_envelopes_are_typed_errors() {
    let h = Harness::start(CommunicoConfig::default()).await;
    let client = h.builder().no_retry().build().unwrap();
    h.api().inject(Fault::MalformedJson, 1);
    assert!(matches!(
        client.event_types().await,
        Err(Error::InvalidResponse { status, .. }) if status == 201
    ));
    h.api().inject(Fault::ErrorEnvelope { code: 500 }, 1);
    match client.event_types().await {
        Err(Error::Server {
            status,
            code,
            message,
        }) => {
            assert_eq!((status.as_u16(), code), (201, Some(500)));
            assert_eq!(message, "Injected envelope error");
        }
        other => panic!("{other:?}"),
    }
    h.api().inject(Fault::Status(400), 1);
    assert!(matches!(
        client.age_groups().await,
        Err(Error::Server {
            code: Some(400),
            ..
        })
    ));
}

#[tokio::test]
async fn a_slow_answer_times_out() {
    let h = Harness::start(CommunicoConfig::default()).await;
    let client = h
        .builder()
        .no_retry()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    client.event_types().await.unwrap();
    h.api().inject(Fault::Slow(Duration::from_secs(30)), 1);
    match client.event_types().await {
        Err(Error::Transport(e)) => assert_eq!(e.kind(), auth_core::TransportErrorKind::Timeout),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_secret_with_colon_slash_and_plus_is_sent_raw() {
    let secret = "p:a/ss+w=rd";
    let h = Harness::start(CommunicoConfig::default().credentials("key-1", secret)).await;
    let client = h.client();
    client.event_types().await.unwrap();
    assert_eq!(h.api().tokens_issued(), 1);

    // The RFC 6749 encoding (form-encode, then base64) is refused by this server.
    let endpoint = url::Url::parse(&format!("{}/v3/token", h.api().base_url())).unwrap();
    let rfc = auth_core::ClientAuth::basic(
        "key-1",
        ClientSecret::new(secret),
        auth_core::BasicEncoding::FormUrlEncoded,
    );
    let grant = auth_core::grant::client_credentials::ClientCredentialsGrant::new(endpoint, rfc);
    let transport = http_reqwest::ReqwestTransport::new().unwrap();
    let response = auth_core::HttpTransport::send(&transport, grant.request().unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn wrong_credentials_are_an_auth_error_that_never_shows_the_secret() {
    let h = Harness::start(CommunicoConfig::default()).await;
    let client = Client::builder()
        .base_url(h.api().base_url())
        .credentials("sandbox-key", ClientSecret::new("not-the-secret-42"))
        .transport(http_reqwest::ReqwestTransport::new().unwrap())
        .sleep(h.sleeps.sleep())
        .build()
        .unwrap();
    let err = client.event_types().await.unwrap_err();
    assert!(matches!(err, Error::Auth(_)), "{err:?}");
    for text in [err.to_string(), format!("{err:?}"), format!("{client:?}")] {
        assert!(!text.contains("not-the-secret-42"), "{text}");
    }
    assert_eq!(h.api().requests("/v3/attend/types"), 0);
}

#[tokio::test]
async fn token_endpoint_failures_are_auth_errors() {
    let h = Harness::start(CommunicoConfig::default()).await;
    let client = h.builder().no_retry().build().unwrap();
    h.api()
        .inject_into(FaultTarget::Token, Fault::HtmlPage { status: 500 }, 1);
    assert!(matches!(client.event_types().await, Err(Error::Auth(_))));
    // The next attempt gets a token.
    client.event_types().await.unwrap();
}

#[tokio::test]
async fn plain_http_to_a_remote_host_is_refused_before_sending() {
    let err = Client::builder()
        .base_url("http://api.communico.co")
        .credentials("k", ClientSecret::new("s"))
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidConfig { .. }));
}
