//! Every transport conformance scenario, run against every HTTP backend: swapping the
//! backend is proven here, not promised.

use attend_tests::conformance;
use auth_core::transport::TransportSettings;
use http_hyper::HyperTransport;
use http_reqwest::ReqwestTransport;

fn hyper(settings: TransportSettings) -> HyperTransport {
    HyperTransport::builder()
        .settings(settings)
        .build()
        .expect("the hyper transport builds")
}

fn reqwest(settings: TransportSettings) -> ReqwestTransport {
    ReqwestTransport::builder()
        .settings(settings)
        .build()
        .expect("the reqwest transport builds")
}

/// One test per scenario, in a module per backend, so a failure names both.
macro_rules! conformance_suite {
    ($backend:ident, $make:path, $crate_name:literal) => {
        mod $backend {
            use super::*;

            #[tokio::test]
            async fn round_trip() {
                conformance::round_trip($make).await;
            }

            #[tokio::test]
            async fn get_keeps_the_query_and_sends_no_body() {
                conformance::get_keeps_the_query_and_sends_no_body($make).await;
            }

            #[tokio::test]
            async fn redirects_are_not_followed() {
                conformance::redirects_are_not_followed($make).await;
            }

            #[tokio::test]
            async fn request_timeout_gives_a_retryable_timeout() {
                conformance::request_timeout_gives_a_retryable_timeout($make).await;
            }

            #[tokio::test]
            async fn settings_timeout_applies_by_default() {
                conformance::settings_timeout_applies_by_default($make).await;
            }

            #[tokio::test]
            async fn timeout_covers_a_stalled_body() {
                conformance::timeout_covers_a_stalled_body($make).await;
            }

            #[tokio::test]
            async fn closed_port_is_a_retryable_connect_error() {
                conformance::closed_port_is_a_retryable_connect_error($make).await;
            }

            #[tokio::test]
            async fn declared_oversized_body_is_refused() {
                conformance::declared_oversized_body_is_refused($make).await;
            }

            #[tokio::test]
            async fn chunked_oversized_body_is_refused() {
                conformance::chunked_oversized_body_is_refused($make).await;
            }

            #[tokio::test]
            async fn body_at_the_cap_is_accepted() {
                conformance::body_at_the_cap_is_accepted($make).await;
            }

            #[tokio::test]
            async fn head_response_length_is_not_a_body() {
                conformance::head_response_length_is_not_a_body($make).await;
            }

            #[tokio::test]
            async fn user_agent_names_the_crate() {
                conformance::user_agent_names_the_crate($make, $crate_name).await;
            }

            #[tokio::test]
            async fn statuses_are_passed_through() {
                conformance::statuses_are_passed_through($make).await;
            }

            #[tokio::test]
            async fn repeated_response_headers_are_kept() {
                conformance::repeated_response_headers_are_kept($make).await;
            }

            #[tokio::test]
            async fn broken_answers_are_errors() {
                conformance::broken_answers_are_errors($make).await;
            }

            #[tokio::test]
            async fn relative_url_is_an_invalid_request() {
                conformance::relative_url_is_an_invalid_request($make).await;
            }

            #[tokio::test]
            async fn errors_never_show_secrets() {
                conformance::errors_never_show_secrets($make).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn concurrent_requests_share_one_transport() {
                conformance::concurrent_requests_share_one_transport($make).await;
            }

            #[tokio::test]
            async fn compressed_bodies_are_decoded() {
                conformance::compressed_bodies_are_decoded($make).await;
            }

            #[tokio::test]
            async fn the_cap_applies_to_the_decoded_body() {
                conformance::the_cap_applies_to_the_decoded_body($make).await;
            }

            #[tokio::test]
            async fn undecodable_codings_are_refused_by_name() {
                conformance::undecodable_codings_are_refused_by_name($make).await;
            }

            #[tokio::test]
            async fn corrupt_and_empty_coded_bodies() {
                conformance::corrupt_and_empty_coded_bodies($make).await;
            }

            #[tokio::test]
            async fn https_to_a_plain_http_port_is_not_tls() {
                conformance::https_to_a_plain_http_port_is_not_tls($make).await;
            }

            #[test]
            fn sending_outside_a_runtime_is_an_error() {
                conformance::sending_outside_a_runtime_is_an_error($make);
            }

            #[test]
            #[should_panic(expected = "disabled")]
            fn a_runtime_without_drivers_panics() {
                conformance::a_runtime_without_drivers_panics($make);
            }
        }
    };
}

conformance_suite!(over_hyper, super::hyper, "http-hyper");
conformance_suite!(over_reqwest, super::reqwest, "http-reqwest");
