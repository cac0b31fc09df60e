//! The authorization endpoint (RFC 6749 §4.1.1), S256 PKCE only, with RFC 8252 §7.3
//! loopback matching and RFC 9207 `iss`.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use url::{Host, Url};

use super::config::{Approval, CallbackIss, LoopbackPorts};
use super::faults::{CallbackTampering, OAuthEndpoint};
use super::http_util::{Params, endpoint_fault_response, html_page};
use super::state::{AuthorizationRequest, Decision, PendingEntry, challenge_is_well_formed};
use super::{Inner, PendingId};

/// Whether `requested` names one of `registered`. Exact string comparison, except that
/// with [`LoopbackPorts::AnyPort`] a loopback IP literal redirect may use any port
/// (RFC 8252 §7.3; `localhost` is not an IP literal and is compared exactly, §8.3).
pub(crate) fn redirect_uri_matches(
    requested: &str,
    registered: &[String],
    ports: LoopbackPorts,
) -> bool {
    if registered.iter().any(|uri| uri == requested) {
        return true;
    }
    if ports == LoopbackPorts::Exact {
        return false;
    }
    let Some(requested) = loopback_ip_without_port(requested) else {
        return false;
    };
    registered
        .iter()
        .filter_map(|uri| loopback_ip_without_port(uri))
        .any(|uri| uri == requested)
}

fn loopback_ip_without_port(uri: &str) -> Option<Url> {
    let mut url = Url::parse(uri).ok()?;
    let loopback_ip = match url.host()? {
        Host::Ipv4(ip) => IpAddr::V4(ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(ip).is_loopback(),
        Host::Domain(_) => false,
    };
    if url.scheme() != "http" || !loopback_ip {
        return None;
    }
    url.set_port(None).ok()?;
    Some(url)
}

/// Where a valid redirect goes and what it always carries.
struct Redirect<'a> {
    uri: &'a str,
    state: Option<&'a str>,
    iss: Option<&'a str>,
}

impl Redirect<'_> {
    fn with(&self, pairs: &[(&str, &str)]) -> Response {
        let Ok(mut url) = Url::parse(self.uri) else {
            // The URI was matched against a registered, parsed one.
            return bad_request("The redirect URI is invalid.");
        };
        {
            let mut query = url.query_pairs_mut();
            for (name, value) in pairs {
                query.append_pair(name, value);
            }
            if let Some(state) = self.state {
                query.append_pair("state", state);
            }
            if let Some(iss) = self.iss {
                query.append_pair("iss", iss);
            }
        }
        let Ok(location) = HeaderValue::from_str(url.as_str()) else {
            return bad_request("The redirect URI is invalid.");
        };
        let mut response = StatusCode::FOUND.into_response();
        response.headers_mut().insert(header::LOCATION, location);
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }

    /// RFC 6749 §4.1.2.1.
    fn error(&self, error: &str, description: &str) -> Response {
        self.with(&[("error", error), ("error_description", description)])
    }
}

/// RFC 6749 §4.1.2.1: errors about the client or redirect URI are shown to the person,
/// never redirected (an open redirector otherwise).
fn bad_request(message: &str) -> Response {
    html_page(
        StatusCode::BAD_REQUEST,
        "Invalid authorization request",
        message,
    )
}

/// Removes a waiting request whose browser went away.
struct PendingGuard<'a> {
    inner: &'a Inner,
    id: PendingId,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        self.inner
            .lock()
            .pending
            .retain(|entry| entry.id != self.id);
    }
}

/// `GET /oauth2/authorize`.
pub(crate) async fn authorize(State(inner): State<Arc<Inner>>, uri: Uri) -> Response {
    if let Some(fault) = inner.endpoint_fault(OAuthEndpoint::Authorization) {
        return endpoint_fault_response(fault);
    }
    let Ok(params) = Params::parse(uri.query().unwrap_or_default().as_bytes()) else {
        return bad_request("A parameter is repeated.");
    };
    let Some(client_id) = params.get("client_id") else {
        return bad_request("The client_id parameter is missing.");
    };
    let Some(redirect_uri) = params.get("redirect_uri") else {
        return bad_request("The redirect_uri parameter is missing.");
    };
    let (quirks, approval, user_id, tampering) = {
        let state = inner.lock();
        let Some(client) = state.clients.get(client_id) else {
            return bad_request("The client is unknown.");
        };
        if !redirect_uri_matches(
            redirect_uri,
            &client.redirect_uris,
            state.quirks.loopback_ports,
        ) {
            return bad_request("The redirect_uri is not registered for this client.");
        }
        (
            state.quirks,
            state.approval.clone(),
            state.user_id.clone(),
            state.tampering.clone(),
        )
    };
    let mut redirect = Redirect {
        uri: redirect_uri,
        state: params.get("state"),
        iss: (quirks.callback_iss == CallbackIss::Included).then_some(inner.issuer.as_str()),
    };
    match &tampering {
        CallbackTampering::None => {}
        CallbackTampering::WrongState => redirect.state = Some("tampered-state"),
        CallbackTampering::MissingState => redirect.state = None,
        CallbackTampering::WrongIss(iss) => redirect.iss = Some(iss),
    }
    match params.get("response_type") {
        Some("code") => {}
        None => return redirect.error("invalid_request", "response_type is missing"),
        Some(_) => {
            return redirect.error(
                "unsupported_response_type",
                "only the code response type is supported",
            );
        }
    }
    let Some(code_challenge) = params.get("code_challenge") else {
        return redirect.error("invalid_request", "code_challenge is required (PKCE)");
    };
    // RFC 7636 §4.3: a missing method means `plain`, which this server refuses.
    if params.get("code_challenge_method") != Some("S256") {
        return redirect.error(
            "invalid_request",
            "transform algorithm not supported: code_challenge_method must be S256",
        );
    }
    if !challenge_is_well_formed(code_challenge) {
        return redirect.error("invalid_request", "code_challenge is not a S256 challenge");
    }
    if params.get("state").is_none() {
        return redirect.error("invalid_request", "state is required");
    }
    let request = AuthorizationRequest {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        code_challenge: code_challenge.to_owned(),
        scope: params.get("scope").map(str::to_owned),
    };
    let decision = match approval {
        Approval::AutoApprove => Decision::Approve { user_id },
        Approval::AutoDeny => Decision::Deny,
        Approval::Manual => {
            let (answer, answered) = tokio::sync::oneshot::channel();
            let id = {
                let mut state = inner.lock();
                let id = state.next_pending_id();
                state.pending.push(PendingEntry {
                    id,
                    client_id: request.client_id.clone(),
                    redirect_uri: request.redirect_uri.clone(),
                    scope: request.scope.clone(),
                    answer,
                });
                id
            };
            inner.pending_changed.notify_waiters();
            let _guard = PendingGuard { inner: &inner, id };
            match answered.await {
                Ok(decision) => decision,
                Err(_) => {
                    return html_page(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "Authorization abandoned",
                        "Nobody answered this authorization request.",
                    );
                }
            }
        }
    };
    match decision {
        Decision::Deny => redirect.error("access_denied", "the user denied the request"),
        Decision::Approve { user_id } => {
            let now = inner.now();
            let issued = inner.lock().issue_code(&request, user_id, now);
            match issued {
                Ok(code) => redirect.with(&[("code", &code)]),
                Err(_) => redirect.error("server_error", "no randomness available"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_matching_follows_the_quirk() {
        let registered = vec![
            "http://127.0.0.1:5000/cb".to_owned(),
            "http://localhost:5000/cb".to_owned(),
            "https://app.example/cb".to_owned(),
        ];
        let cases = [
            ("http://127.0.0.1:5000/cb", LoopbackPorts::Exact, true),
            ("http://127.0.0.1:6000/cb", LoopbackPorts::Exact, false),
            ("http://127.0.0.1:6000/cb", LoopbackPorts::AnyPort, true),
            ("http://127.0.0.1/cb", LoopbackPorts::AnyPort, true),
            ("http://127.0.0.1:6000/other", LoopbackPorts::AnyPort, false),
            ("http://localhost:6000/cb", LoopbackPorts::AnyPort, false),
            ("http://[::1]:6000/cb", LoopbackPorts::AnyPort, false),
            ("https://app.example:444/cb", LoopbackPorts::AnyPort, false),
            ("https://app.example/cb", LoopbackPorts::Exact, true),
        ];
        for (requested, ports, expected) in cases {
            assert_eq!(
                redirect_uri_matches(requested, &registered, ports),
                expected,
                "{requested} {ports:?}"
            );
        }
    }

    #[test]
    fn redirect_keeps_the_registered_query_and_adds_state_and_iss() {
        let redirect = Redirect {
            uri: "http://127.0.0.1:1/cb?app=1",
            state: Some("s t"),
            iss: Some("http://127.0.0.1:2"),
        };
        let response = redirect.error("access_denied", "no");
        assert_eq!(response.status(), StatusCode::FOUND);
        let location = response.headers()[header::LOCATION].to_str().unwrap();
        assert_eq!(
            location,
            "http://127.0.0.1:1/cb?app=1&error=access_denied&error_description=no&state=s+t&iss=http%3A%2F%2F127.0.0.1%3A2"
        );
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::attendium::registration::redirect_uri_acceptable;

    proptest! {
        /// A registered URI always matches itself; nothing panics on odd input.
        #[test]
        fn redirect_matching_is_total(uri in "[a-z:/.\\[\\]0-9%?#@]{0,60}", other in "[a-z:/.\\[\\]0-9%?#@]{0,60}") {
            let registered = vec![uri.clone()];
            for ports in [LoopbackPorts::AnyPort, LoopbackPorts::Exact] {
                prop_assert!(redirect_uri_matches(&uri, &registered, ports));
                let _ = redirect_uri_matches(&other, &registered, ports);
            }
            let _ = redirect_uri_acceptable(&uri);
        }

        /// Any port of a registered loopback IP redirect matches under RFC 8252 §7.3.
        #[test]
        fn any_loopback_port_matches(registered_port in 1u16.., requested_port in 1u16..) {
            let registered = vec![format!("http://127.0.0.1:{registered_port}/cb")];
            let requested = format!("http://127.0.0.1:{requested_port}/cb");
            prop_assert!(redirect_uri_matches(&requested, &registered, LoopbackPorts::AnyPort));
            prop_assert_eq!(
                redirect_uri_matches(&requested, &registered, LoopbackPorts::Exact),
                registered_port == requested_port
            );
        }
    }
}
