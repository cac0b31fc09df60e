//! The Attendium stand-in over real HTTP on 127.0.0.1: discovery, registration, the PKCE
//! login, refresh rotation, revocation, `/graphql`, quirks, faults and counters.

// Test helpers panic on a broken test setup; that is their job.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use auth_core::clock::ManualClock;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sandbox::attendium::{
    Approval, Attendium, AttendiumConfig, CallbackIss, CallbackTampering, DiscoveryDocuments,
    EndpointFault, ExpiresInFormat, FaultTimes, GraphqlFault, LoopbackPorts, OAuthEndpoint, Quirks,
    RefreshRotation, RegistrationStatus, TokenRandomness, TokenTypeCase,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

/// RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const STATE: &str = "state-value-1";

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

// ---------------------------------------------------------------------------------------
// A server on 127.0.0.1:0 and a minimal HTTP/1.1 client.

struct Server {
    attendium: Attendium,
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn start(config: AttendiumConfig) -> Server {
    start_at(config, "").await
}

/// Serves with the issuer `http://127.0.0.1:PORT{path}`.
async fn start_at(config: AttendiumConfig, path: &str) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let issuer = Url::parse(&format!("http://{addr}{path}")).unwrap();
    let attendium = Attendium::new(config, issuer).unwrap();
    let router = attendium.router();
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    Server {
        attendium,
        addr,
        task,
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The query parameters of a redirect's `Location`.
    fn redirect_params(&self) -> Vec<(String, String)> {
        let location = self.header("location").expect("a Location header");
        let url = Url::parse(location).unwrap();
        url.query_pairs().into_owned().collect()
    }
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// One request on a fresh connection (`Connection: close`, so the body ends at EOF).
async fn send(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

async fn get(addr: SocketAddr, target: &str) -> Reply {
    send(addr, "GET", target, &[], b"").await
}

async fn post_form(addr: SocketAddr, path: &str, pairs: &[(&str, &str)]) -> Reply {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    send(
        addr,
        "POST",
        path,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    )
    .await
}

async fn post_json(addr: SocketAddr, path: &str, headers: &[(&str, &str)], body: &Value) -> Reply {
    let mut all = vec![("Content-Type", "application/json")];
    all.extend_from_slice(headers);
    send(addr, "POST", path, &all, body.to_string().as_bytes()).await
}

// ---------------------------------------------------------------------------------------
// Flow steps.

const REDIRECT: &str = "http://127.0.0.1:50123/callback";

async fn register(server: &Server, redirect_uri: &str) -> String {
    let reply = post_json(
        server.addr,
        "/oauth2/register",
        &[],
        &json!({
            "redirect_uris": [redirect_uri],
            "client_name": "attend",
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
        }),
    )
    .await;
    assert!(matches!(reply.status, 200 | 201), "{}", reply.text());
    reply.json()["client_id"].as_str().unwrap().to_owned()
}

fn authorize_target(client_id: &str, redirect_uri: &str, verifier: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("scope", "read"),
            ("state", STATE),
            ("code_challenge", &challenge(verifier)),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    format!("/oauth2/authorize?{query}")
}

/// Authorizes (auto-approval) and returns the code.
async fn authorize(server: &Server, client_id: &str, redirect_uri: &str) -> String {
    let reply = get(
        server.addr,
        &authorize_target(client_id, redirect_uri, VERIFIER),
    )
    .await;
    assert_eq!(reply.status, 302, "{}", reply.text());
    let params = reply.redirect_params();
    assert_eq!(param(&params, "state"), Some(STATE));
    param(&params, "code").unwrap().to_owned()
}

async fn exchange(server: &Server, client_id: &str, code: &str, verifier: &str) -> Reply {
    post_form(
        server.addr,
        "/oauth2/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
            ("code", code),
            ("code_verifier", verifier),
        ],
    )
    .await
}

async fn refresh(server: &Server, client_id: &str, refresh_token: &str) -> Reply {
    post_form(
        server.addr,
        "/oauth2/token",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", client_id),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

/// Registers, authorizes and exchanges; returns the client id and the token response.
async fn login(server: &Server) -> (String, Value) {
    let client_id = register(server, REDIRECT).await;
    let code = authorize(server, &client_id, REDIRECT).await;
    let reply = exchange(server, &client_id, &code, VERIFIER).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    (client_id, reply.json())
}

async fn graphql(server: &Server, token: Option<&str>, query: &str) -> Reply {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = bearer
        .as_deref()
        .map(|b| vec![("Authorization", b)])
        .unwrap_or_default();
    post_json(
        server.addr,
        "/graphql",
        &headers,
        &json!({ "query": query }),
    )
    .await
}

// ---------------------------------------------------------------------------------------
// Discovery.

#[tokio::test]
async fn discovery_serves_rfc8414_and_openid_documents_with_absolute_endpoints() {
    let server = start(AttendiumConfig::new()).await;
    let base = format!("http://{}", server.addr);
    let oauth = get(server.addr, "/.well-known/oauth-authorization-server").await;
    let openid = get(server.addr, "/.well-known/openid-configuration").await;
    assert_eq!((oauth.status, openid.status), (200, 200));
    assert_eq!(oauth.header("content-type"), Some("application/json"));
    let metadata = oauth.json();
    assert_eq!(metadata, openid.json());
    assert_eq!(metadata["issuer"], base.as_str());
    assert_eq!(server.attendium.issuer(), base);
    assert_eq!(
        metadata["authorization_endpoint"],
        format!("{base}/oauth2/authorize")
    );
    assert_eq!(metadata["token_endpoint"], format!("{base}/oauth2/token"));
    assert_eq!(
        metadata["registration_endpoint"],
        format!("{base}/oauth2/register")
    );
    assert_eq!(
        metadata["revocation_endpoint"],
        format!("{base}/oauth2/revoke")
    );
    assert_eq!(
        metadata["code_challenge_methods_supported"],
        json!(["S256"])
    );
    assert_eq!(
        metadata["token_endpoint_auth_methods_supported"],
        json!(["none"])
    );
    assert_eq!(
        metadata["grant_types_supported"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(metadata["response_types_supported"], json!(["code"]));
    assert_eq!(
        metadata["authorization_response_iss_parameter_supported"],
        true
    );
    assert_eq!(
        server.attendium.metadata_url(),
        format!("{base}/.well-known/oauth-authorization-server")
    );
}

#[tokio::test]
async fn openid_only_quirk_hides_the_rfc8414_document() {
    let quirks = Quirks::default()
        .with_discovery(DiscoveryDocuments::OpenIdOnly)
        .with_callback_iss(CallbackIss::Omitted);
    let server = start(AttendiumConfig::new().quirks(quirks)).await;
    let oauth = get(server.addr, "/.well-known/oauth-authorization-server").await;
    assert_eq!(oauth.status, 404);
    let openid = get(server.addr, "/.well-known/openid-configuration").await;
    assert_eq!(openid.status, 200);
    assert_eq!(
        openid.json()["authorization_response_iss_parameter_supported"],
        false
    );
}

#[tokio::test]
async fn issuer_with_a_path_places_documents_per_rfc8414_section_3_1() {
    let server = start_at(AttendiumConfig::new(), "/tenant").await;
    let base = format!("http://{}/tenant", server.addr);
    let oauth = get(
        server.addr,
        "/.well-known/oauth-authorization-server/tenant",
    )
    .await;
    assert_eq!(oauth.status, 200);
    assert_eq!(oauth.json()["issuer"], base.as_str());
    assert_eq!(
        oauth.json()["token_endpoint"],
        format!("{base}/oauth2/token")
    );
    let openid = get(server.addr, "/tenant/.well-known/openid-configuration").await;
    assert_eq!(openid.status, 200);
    // Not at the root: that would be another issuer's document.
    assert_eq!(
        get(server.addr, "/.well-known/oauth-authorization-server")
            .await
            .status,
        404
    );
}

#[test]
fn issuer_must_be_a_plain_http_url() {
    for issuer in [
        "ftp://127.0.0.1",
        "http://127.0.0.1/?a=1",
        "http://u:p@127.0.0.1",
        "http://127.0.0.1/#f",
    ] {
        let url = Url::parse(issuer).unwrap();
        assert!(
            Attendium::new(AttendiumConfig::new(), url).is_err(),
            "{issuer}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Registration.

#[tokio::test]
async fn registration_answers_201_or_200_by_quirk() {
    for (status, expected) in [
        (RegistrationStatus::Created, 201),
        (RegistrationStatus::Ok, 200),
    ] {
        let quirks = Quirks::default().with_registration_status(status);
        let server = start(AttendiumConfig::new().quirks(quirks)).await;
        let reply = post_json(
            server.addr,
            "/oauth2/register",
            &[],
            &json!({ "redirect_uris": [REDIRECT], "client_name": "attend" }),
        )
        .await;
        assert_eq!(reply.status, expected);
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        let body = reply.json();
        assert!(body["client_id"].as_str().is_some_and(|id| !id.is_empty()));
        assert!(body["client_id_issued_at"].is_u64());
        assert!(body.get("client_secret").is_none());
        assert_eq!(body["client_name"], "attend");
        assert_eq!(body["redirect_uris"], json!([REDIRECT]));
        assert_eq!(body["token_endpoint_auth_method"], "none");
        assert_eq!(
            body["grant_types"],
            json!(["authorization_code", "refresh_token"])
        );
        assert_eq!(server.attendium.registrations(), 1);
        assert_eq!(server.attendium.clients()[0].client_id, body["client_id"]);
    }
}

#[tokio::test]
async fn registration_refuses_non_loopback_http_and_confidential_clients() {
    let server = start(AttendiumConfig::new()).await;
    let cases = [
        (
            json!({ "redirect_uris": ["http://example.com/cb"] }),
            "invalid_redirect_uri",
        ),
        (json!({ "client_name": "no uris" }), "invalid_redirect_uri"),
        (
            json!({ "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "client_secret_basic" }),
            "invalid_client_metadata",
        ),
    ];
    for (body, error) in cases {
        let reply = post_json(server.addr, "/oauth2/register", &[], &body).await;
        assert_eq!(reply.status, 400, "{body}");
        assert_eq!(reply.json()["error"], error, "{body}");
    }
    assert_eq!(server.attendium.registrations(), 0);
}

// ---------------------------------------------------------------------------------------
// Authorization.

#[tokio::test]
async fn auto_approval_redirects_with_code_state_and_iss() {
    let server = start(AttendiumConfig::new()).await;
    let client_id = register(&server, REDIRECT).await;
    let reply = get(
        server.addr,
        &authorize_target(&client_id, REDIRECT, VERIFIER),
    )
    .await;
    assert_eq!(reply.status, 302);
    let location = reply.header("location").unwrap();
    assert!(
        location.starts_with("http://127.0.0.1:50123/callback?code="),
        "{location}"
    );
    let params = reply.redirect_params();
    assert_eq!(param(&params, "state"), Some(STATE));
    assert_eq!(param(&params, "iss"), Some(server.attendium.issuer()));
    assert_eq!(server.attendium.counters().authorizations, 1);
}

#[tokio::test]
async fn iss_omitted_quirk_leaves_iss_out() {
    let quirks = Quirks::default().with_callback_iss(CallbackIss::Omitted);
    let server = start(AttendiumConfig::new().quirks(quirks)).await;
    let client_id = register(&server, REDIRECT).await;
    let reply = get(
        server.addr,
        &authorize_target(&client_id, REDIRECT, VERIFIER),
    )
    .await;
    let params = reply.redirect_params();
    assert!(param(&params, "code").is_some());
    assert_eq!(param(&params, "iss"), None);
}

#[tokio::test]
async fn loopback_port_matching_follows_the_quirk() {
    let other_port = "http://127.0.0.1:50999/callback";
    for (ports, expected) in [(LoopbackPorts::AnyPort, 302), (LoopbackPorts::Exact, 400)] {
        let quirks = Quirks::default().with_loopback_ports(ports);
        let server = start(AttendiumConfig::new().quirks(quirks)).await;
        let client_id = register(&server, REDIRECT).await;
        let reply = get(
            server.addr,
            &authorize_target(&client_id, other_port, VERIFIER),
        )
        .await;
        assert_eq!(reply.status, expected, "{ports:?}");
        if expected == 302 {
            assert!(reply.header("location").unwrap().starts_with(other_port));
        }
    }
}

#[tokio::test]
async fn client_and_redirect_errors_get_a_page_not_a_redirect() {
    let server = start(AttendiumConfig::new()).await;
    let client_id = register(&server, REDIRECT).await;
    for target in [
        authorize_target("unknown-client", REDIRECT, VERIFIER),
        authorize_target(&client_id, "http://127.0.0.1:50123/elsewhere", VERIFIER),
        authorize_target(&client_id, "https://evil.example/cb", VERIFIER),
    ] {
        let reply = get(server.addr, &target).await;
        assert_eq!(reply.status, 400, "{target}");
        assert!(reply.header("location").is_none());
        assert!(
            reply
                .header("content-type")
                .unwrap()
                .starts_with("text/html")
        );
    }
}

#[tokio::test]
async fn request_errors_after_client_validation_are_redirected() {
    let server = start(AttendiumConfig::new()).await;
    let client_id = register(&server, REDIRECT).await;
    let base = authorize_target(&client_id, REDIRECT, VERIFIER);
    let cases = [
        (
            base.replace("code_challenge_method=S256", "code_challenge_method=plain"),
            "invalid_request",
        ),
        (
            base.replace("&code_challenge_method=S256", ""),
            "invalid_request",
        ),
        (
            base.replace("response_type=code", "response_type=token"),
            "unsupported_response_type",
        ),
        (
            base.replace(&format!("&state={STATE}"), ""),
            "invalid_request",
        ),
    ];
    for (target, error) in cases {
        let reply = get(server.addr, &target).await;
        assert_eq!(reply.status, 302, "{target}");
        let params = reply.redirect_params();
        assert_eq!(param(&params, "error"), Some(error), "{target}");
        assert!(param(&params, "code").is_none());
        assert_eq!(param(&params, "iss"), Some(server.attendium.issuer()));
    }
}

#[tokio::test]
async fn manual_approval_waits_for_the_test_to_approve_or_deny() {
    let server = start(AttendiumConfig::new().approval(Approval::Manual)).await;
    let client_id = register(&server, REDIRECT).await;
    let addr = server.addr;
    for approve in [true, false] {
        let target = authorize_target(&client_id, REDIRECT, VERIFIER);
        let browser = tokio::spawn(async move { get(addr, &target).await });
        let pending = server.attendium.next_pending_authorization().await;
        assert_eq!(pending.client_id, client_id);
        assert_eq!(pending.redirect_uri, REDIRECT);
        assert_eq!(pending.scope.as_deref(), Some("read"));
        assert!(!format!("{pending:?}").contains(STATE));
        if approve {
            server.attendium.approve_as(pending.id, "user-7").unwrap();
        } else {
            server.attendium.deny(pending.id).unwrap();
        }
        let reply = browser.await.unwrap();
        assert_eq!(reply.status, 302);
        let params = reply.redirect_params();
        assert_eq!(param(&params, "state"), Some(STATE));
        if approve {
            let code = param(&params, "code").unwrap();
            let tokens = exchange(&server, &client_id, code, VERIFIER).await.json();
            let access = tokens["access_token"].as_str().unwrap();
            let me = graphql(&server, Some(access), "{ me { id } }").await.json();
            assert_eq!(me, json!({ "data": { "me": { "id": "user-7" } } }));
        } else {
            assert_eq!(param(&params, "error"), Some("access_denied"));
            assert!(param(&params, "code").is_none());
        }
        // Answered requests leave the queue; answering again is an error.
        assert!(server.attendium.pending_authorizations().is_empty());
        assert!(server.attendium.approve(pending.id).is_err());
    }
}

#[tokio::test]
async fn auto_deny_redirects_with_access_denied() {
    let server = start(AttendiumConfig::new().approval(Approval::AutoDeny)).await;
    let client_id = register(&server, REDIRECT).await;
    let reply = get(
        server.addr,
        &authorize_target(&client_id, REDIRECT, VERIFIER),
    )
    .await;
    let params = reply.redirect_params();
    assert_eq!(param(&params, "error"), Some("access_denied"));
    assert_eq!(param(&params, "state"), Some(STATE));
}

#[tokio::test]
async fn callback_tampering_breaks_state_or_iss_on_purpose() {
    let server = start(AttendiumConfig::new()).await;
    let client_id = register(&server, REDIRECT).await;
    let cases = [
        (
            CallbackTampering::WrongState,
            Some("tampered-state"),
            Some(server.attendium.issuer().to_owned()),
        ),
        (
            CallbackTampering::MissingState,
            None,
            Some(server.attendium.issuer().to_owned()),
        ),
        (
            CallbackTampering::WrongIss("https://attacker.example".into()),
            Some(STATE),
            Some("https://attacker.example".to_owned()),
        ),
        (
            CallbackTampering::None,
            Some(STATE),
            Some(server.attendium.issuer().to_owned()),
        ),
    ];
    for (tampering, state, iss) in cases {
        server.attendium.set_callback_tampering(tampering.clone());
        let reply = get(
            server.addr,
            &authorize_target(&client_id, REDIRECT, VERIFIER),
        )
        .await;
        let params = reply.redirect_params();
        assert_eq!(param(&params, "state"), state, "{tampering:?}");
        assert_eq!(param(&params, "iss"), iss.as_deref(), "{tampering:?}");
        assert!(param(&params, "code").is_some());
    }
}

#[tokio::test]
async fn metadata_issuer_can_be_made_to_mismatch() {
    let server = start(AttendiumConfig::new()).await;
    server
        .attendium
        .set_metadata_issuer(Some("https://other.example"));
    let metadata = get(server.addr, "/.well-known/oauth-authorization-server")
        .await
        .json();
    assert_eq!(metadata["issuer"], "https://other.example");
    assert_eq!(
        metadata["token_endpoint"],
        server.attendium.token_endpoint()
    );
    server.attendium.clear_faults();
    let metadata = get(server.addr, "/.well-known/openid-configuration")
        .await
        .json();
    assert_eq!(metadata["issuer"], server.attendium.issuer());
}

// ---------------------------------------------------------------------------------------
// Token endpoint.

#[tokio::test]
async fn code_exchange_returns_bearer_tokens() {
    let server = start(AttendiumConfig::new()).await;
    let (_, tokens) = login(&server).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert_eq!(tokens["scope"], "read");
    assert!(
        tokens["access_token"]
            .as_str()
            .is_some_and(|t| t.len() >= 43)
    );
    assert!(
        tokens["refresh_token"]
            .as_str()
            .is_some_and(|t| t.len() >= 43)
    );
    assert_eq!(
        server
            .attendium
            .counters()
            .token_requests_for("authorization_code"),
        1
    );
}

#[tokio::test]
async fn token_quirks_shape_the_response() {
    let quirks = Quirks::default()
        .with_expires_in(ExpiresInFormat::String)
        .with_token_type(TokenTypeCase::Lowercase);
    let config = AttendiumConfig::new()
        .quirks(quirks)
        .access_token_ttl(Duration::from_secs(120));
    let server = start(config).await;
    let (_, tokens) = login(&server).await;
    assert_eq!(tokens["token_type"], "bearer");
    assert_eq!(tokens["expires_in"], "120");
}

#[tokio::test]
async fn pkce_mismatch_is_invalid_grant_and_spends_the_code() {
    let server = start(AttendiumConfig::new()).await;
    let client_id = register(&server, REDIRECT).await;
    let code = authorize(&server, &client_id, REDIRECT).await;
    let wrong = "x".repeat(43);
    let reply = exchange(&server, &client_id, &code, &wrong).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error"], "invalid_grant");
    assert!(!reply.text().contains(&code) && !reply.text().contains(&wrong));
    let retry = exchange(&server, &client_id, &code, VERIFIER).await;
    assert_eq!(retry.json()["error"], "invalid_grant");
}

#[tokio::test]
async fn reused_code_is_refused_and_revokes_what_it_issued() {
    let server = start(AttendiumConfig::new()).await;
    let client_id = register(&server, REDIRECT).await;
    let code = authorize(&server, &client_id, REDIRECT).await;
    let tokens = exchange(&server, &client_id, &code, VERIFIER).await.json();
    let access = tokens["access_token"].as_str().unwrap();
    assert!(server.attendium.access_token_active(access));
    let again = exchange(&server, &client_id, &code, VERIFIER).await;
    assert_eq!(again.status, 400);
    assert_eq!(again.json()["error"], "invalid_grant");
    assert!(!server.attendium.access_token_active(access));
    assert_eq!(
        graphql(&server, Some(access), "{ me { id } }").await.status,
        401
    );
    assert_eq!(server.attendium.counters().code_reuses, 1);
}

#[tokio::test]
async fn unknown_client_and_client_authentication_are_invalid_client() {
    let server = start(AttendiumConfig::new()).await;
    let (_, tokens) = login(&server).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let reply = refresh(&server, "nobody", refresh_token).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json()["error"], "invalid_client");
    let basic = send(
        server.addr,
        "POST",
        "/oauth2/token",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Authorization", "Basic YTpi"),
        ],
        b"grant_type=refresh_token&client_id=a&refresh_token=b",
    )
    .await;
    assert_eq!(basic.status, 401);
    assert_eq!(basic.json()["error"], "invalid_client");
    let unsupported = post_form(
        server.addr,
        "/oauth2/token",
        &[("grant_type", "password"), ("client_id", "x")],
    )
    .await;
    assert_eq!(unsupported.json()["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    let server = start(AttendiumConfig::new()).await;
    let (client_id, first) = login(&server).await;
    let r1 = first["refresh_token"].as_str().unwrap().to_owned();
    let second = refresh(&server, &client_id, &r1).await;
    assert_eq!(second.status, 200, "{}", second.text());
    let second = second.json();
    let r2 = second["refresh_token"].as_str().unwrap().to_owned();
    let a2 = second["access_token"].as_str().unwrap().to_owned();
    assert_ne!(r1, r2);
    assert_eq!(second["scope"], "read");
    assert_eq!(server.attendium.refreshes(), 1);

    // r1 comes back: it was spent, so the family dies, r2 and a2 included.
    let reuse = refresh(&server, &client_id, &r1).await;
    assert_eq!(reuse.status, 400);
    assert_eq!(reuse.json()["error"], "invalid_grant");
    assert!(!server.attendium.refresh_token_active(&r2));
    assert!(!server.attendium.access_token_active(&a2));
    assert_eq!(
        refresh(&server, &client_id, &r2).await.json()["error"],
        "invalid_grant"
    );
    assert_eq!(
        graphql(&server, Some(&a2), "{ me { id } }").await.status,
        401
    );

    let counters = server.attendium.counters();
    assert_eq!(counters.refreshes, 1);
    assert_eq!(counters.refresh_reuses, 1);
    assert_eq!(counters.token_requests_for("refresh_token"), 3);
    assert_eq!(server.attendium.grants().revoked, 1);
}

#[tokio::test]
async fn without_rotation_the_refresh_token_stays_valid() {
    let quirks = Quirks::default().with_refresh_rotation(RefreshRotation::Reuse);
    let server = start(AttendiumConfig::new().quirks(quirks)).await;
    let (client_id, first) = login(&server).await;
    let r1 = first["refresh_token"].as_str().unwrap();
    for _ in 0..2 {
        let reply = refresh(&server, &client_id, r1).await.json();
        assert!(reply.get("refresh_token").is_none());
        assert!(reply["access_token"].is_string());
    }
    assert_eq!(server.attendium.refreshes(), 2);
}

#[tokio::test]
async fn access_tokens_expire_on_the_injected_clock() {
    let clock = ManualClock::default();
    let config = AttendiumConfig::new()
        .clock(Arc::new(clock.clone()))
        .access_token_ttl(Duration::from_secs(60));
    let server = start(config).await;
    let (client_id, tokens) = login(&server).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        graphql(&server, Some(access), "{ me { id } }").await.status,
        200
    );
    clock.advance(Duration::from_secs(60));
    assert_eq!(
        graphql(&server, Some(access), "{ me { id } }").await.status,
        401
    );
    // The refresh token outlives it.
    let renewed = refresh(
        &server,
        &client_id,
        tokens["refresh_token"].as_str().unwrap(),
    )
    .await
    .json();
    let access = renewed["access_token"].as_str().unwrap();
    assert_eq!(
        graphql(&server, Some(access), "{ me { id } }").await.status,
        200
    );
}

#[tokio::test]
async fn refresh_tokens_and_codes_expire_on_the_injected_clock() {
    let clock = ManualClock::default();
    let config = AttendiumConfig::new()
        .clock(Arc::new(clock.clone()))
        .refresh_token_ttl(Some(Duration::from_secs(600)))
        .code_ttl(Duration::from_secs(30));
    let server = start(config).await;
    let (client_id, tokens) = login(&server).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    clock.advance(Duration::from_secs(600));
    let expired = refresh(&server, &client_id, refresh_token).await;
    assert_eq!(expired.json()["error"], "invalid_grant");

    let code = authorize(&server, &client_id, REDIRECT).await;
    clock.advance(Duration::from_secs(30));
    let late = exchange(&server, &client_id, &code, VERIFIER).await;
    assert_eq!(late.json()["error"], "invalid_grant");
}

#[tokio::test]
async fn seeded_randomness_repeats_tokens_across_servers() {
    let mut seen = Vec::new();
    for _ in 0..2 {
        let server = start(AttendiumConfig::new().randomness(TokenRandomness::Seeded(42))).await;
        let (client_id, tokens) = login(&server).await;
        seen.push((
            client_id,
            tokens["access_token"].clone(),
            tokens["refresh_token"].clone(),
        ));
    }
    assert_eq!(seen[0], seen[1]);
}

// ---------------------------------------------------------------------------------------
// Revocation.

#[tokio::test]
async fn revocation_answers_200_and_revoking_a_refresh_token_ends_the_grant() {
    let server = start(AttendiumConfig::new()).await;
    let (client_id, tokens) = login(&server).await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let unknown = post_form(
        server.addr,
        "/oauth2/revoke",
        &[("client_id", &client_id), ("token", "never-issued")],
    )
    .await;
    assert_eq!(unknown.status, 200);
    let revoked = post_form(
        server.addr,
        "/oauth2/revoke",
        &[
            ("client_id", &client_id),
            ("token", refresh_token),
            ("token_type_hint", "refresh_token"),
        ],
    )
    .await;
    assert_eq!(revoked.status, 200);
    assert!(!server.attendium.refresh_token_active(refresh_token));
    assert!(!server.attendium.access_token_active(access));
    assert_eq!(
        refresh(&server, &client_id, refresh_token).await.json()["error"],
        "invalid_grant"
    );
    // Twice is fine too (RFC 7009 §2.2).
    let again = post_form(
        server.addr,
        "/oauth2/revoke",
        &[("client_id", &client_id), ("token", refresh_token)],
    )
    .await;
    assert_eq!(again.status, 200);
    let missing = post_form(server.addr, "/oauth2/revoke", &[("client_id", &client_id)]).await;
    assert_eq!(missing.json()["error"], "invalid_request");
    let stranger = post_form(
        server.addr,
        "/oauth2/revoke",
        &[("client_id", "nobody"), ("token", access)],
    )
    .await;
    assert_eq!(stranger.status, 401);
    // Both requests named a known token.
    assert_eq!(server.attendium.counters().revocations, 2);
}

#[tokio::test]
async fn revoking_an_access_token_ends_only_that_token() {
    let server = start(AttendiumConfig::new()).await;
    let (client_id, tokens) = login(&server).await;
    let access = tokens["access_token"].as_str().unwrap();
    let reply = post_form(
        server.addr,
        "/oauth2/revoke",
        &[("client_id", &client_id), ("token", access)],
    )
    .await;
    assert_eq!(reply.status, 200);
    assert!(!server.attendium.access_token_active(access));
    assert!(
        server
            .attendium
            .refresh_token_active(tokens["refresh_token"].as_str().unwrap())
    );
}

// ---------------------------------------------------------------------------------------
// Faults and counters.

#[tokio::test]
async fn endpoint_faults_fire_the_armed_number_of_times() {
    let server = start(AttendiumConfig::new()).await;
    server.attendium.inject_endpoint_fault(
        OAuthEndpoint::Token,
        EndpointFault::BadGatewayHtml,
        FaultTimes::Once,
    );
    server.attendium.inject_endpoint_fault(
        OAuthEndpoint::Metadata,
        EndpointFault::TemporarilyUnavailable,
        FaultTimes::Times(2),
    );
    let client_id = register(&server, REDIRECT).await;
    let code = authorize(&server, &client_id, REDIRECT).await;
    let failed = exchange(&server, &client_id, &code, VERIFIER).await;
    assert_eq!(failed.status, 502);
    assert!(
        failed
            .header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    // The fault struck before the code was looked at: it is still good.
    assert_eq!(
        exchange(&server, &client_id, &code, VERIFIER).await.status,
        200
    );
    for _ in 0..2 {
        let reply = get(server.addr, "/.well-known/openid-configuration").await;
        assert_eq!(reply.status, 503);
        assert_eq!(reply.json()["error"], "temporarily_unavailable");
    }
    assert_eq!(
        get(server.addr, "/.well-known/openid-configuration")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn counters_count_requests_per_path_and_grant_type() {
    let server = start(AttendiumConfig::new()).await;
    let (client_id, tokens) = login(&server).await;
    refresh(
        &server,
        &client_id,
        tokens["refresh_token"].as_str().unwrap(),
    )
    .await;
    get(server.addr, "/.well-known/oauth-authorization-server").await;
    let counters = server.attendium.counters();
    assert_eq!(counters.requests_to("/oauth2/register"), 1);
    assert_eq!(counters.requests_to("/oauth2/authorize"), 1);
    assert_eq!(counters.requests_to("/oauth2/token"), 2);
    assert_eq!(
        counters.requests_to("/.well-known/oauth-authorization-server"),
        1
    );
    assert_eq!(counters.token_requests_for("authorization_code"), 1);
    assert_eq!(counters.token_requests_for("refresh_token"), 1);
    assert_eq!(counters.registrations, 1);
    assert_eq!(counters.refreshes, 1);
    server.attendium.reset_counters();
    assert_eq!(server.attendium.counters(), Default::default());
}

#[tokio::test]
async fn secrets_stay_out_of_debug_output() {
    let server = start(AttendiumConfig::new()).await;
    let issued = server.attendium.issue_access_token("u").unwrap();
    let (_, tokens) = login(&server).await;
    let debug = format!(
        "{:?} {:?} {:?}",
        issued,
        server.attendium,
        server.attendium.counters()
    );
    assert!(!debug.contains(issued.secret()));
    assert!(!debug.contains(tokens["access_token"].as_str().unwrap()));
    assert!(!debug.contains(tokens["refresh_token"].as_str().unwrap()));
}

// ---------------------------------------------------------------------------------------
// GraphQL.

#[tokio::test]
async fn graphql_me_needs_a_token_from_this_server() {
    let server = start(AttendiumConfig::new().user_id("user-1")).await;
    let missing = graphql(&server, None, "{ me { id } }").await;
    assert_eq!(missing.status, 401);
    assert_eq!(
        missing.header("www-authenticate"),
        Some("Bearer realm=\"attendium\"")
    );
    let forged = graphql(&server, Some("forged"), "{ me { id } }").await;
    assert_eq!(forged.status, 401);
    assert!(
        forged
            .header("www-authenticate")
            .unwrap()
            .contains("error=\"invalid_token\"")
    );

    let (_, tokens) = login(&server).await;
    let reply = graphql(&server, tokens["access_token"].as_str(), "{ me { id } }").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(
        reply.json(),
        json!({ "data": { "me": { "id": "user-1" } } })
    );

    let direct = server.attendium.issue_access_token("user-2").unwrap();
    let reply = graphql(&server, Some(direct.secret()), "{ me { id } }").await;
    assert_eq!(
        reply.json(),
        json!({ "data": { "me": { "id": "user-2" } } })
    );
}

#[tokio::test]
async fn graphql_negotiates_the_response_media_type() {
    let server = start(AttendiumConfig::new()).await;
    let token = server.attendium.issue_access_token("u").unwrap();
    let bearer = format!("Bearer {}", token.secret());
    let invalid = json!({ "query": "{ me { nope } }" });
    let modern = post_json(
        server.addr,
        "/graphql",
        &[
            ("Authorization", &bearer),
            (
                "Accept",
                "application/graphql-response+json, application/json;q=0.9",
            ),
        ],
        &invalid,
    )
    .await;
    assert_eq!(modern.status, 400);
    assert_eq!(
        modern.header("content-type"),
        Some("application/graphql-response+json")
    );
    assert!(modern.json().get("data").is_none());
    let legacy = post_json(
        server.addr,
        "/graphql",
        &[("Authorization", &bearer)],
        &invalid,
    )
    .await;
    assert_eq!(legacy.status, 200);
    assert_eq!(
        legacy.json()["errors"][0]["message"],
        "Unknown field \"nope\" on type \"User\"."
    );
    let not_json = send(
        server.addr,
        "POST",
        "/graphql",
        &[("Authorization", &bearer), ("Content-Type", "text/plain")],
        b"{}",
    )
    .await;
    assert_eq!(not_json.status, 415);
    let no_query = post_json(
        server.addr,
        "/graphql",
        &[("Authorization", &bearer)],
        &json!({ "variables": {} }),
    )
    .await;
    assert_eq!(no_query.status, 400);
}

#[tokio::test]
async fn graphql_faults_take_each_documented_shape() {
    let server = start(AttendiumConfig::new().user_id("user-1")).await;
    let token = server.attendium.issue_access_token("user-1").unwrap();
    let token = Some(token.secret());

    server
        .attendium
        .inject_graphql_fault(GraphqlFault::Errors, FaultTimes::Once);
    let errors = graphql(&server, token, "{ me { id } }").await;
    assert_eq!(errors.status, 200);
    let body = errors.json();
    assert_eq!(body["data"], Value::Null);
    assert_eq!(body["errors"][0]["path"], json!(["me"]), "{body}");
    assert_eq!(
        body["errors"][0]["locations"],
        json!([{ "line": 1, "column": 3 }])
    );
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "INTERNAL_SERVER_ERROR"
    );

    server
        .attendium
        .inject_graphql_fault(GraphqlFault::PartialData, FaultTimes::Once);
    let partial = graphql(&server, token, "{ me { id } alias: __typename }")
        .await
        .json();
    assert_eq!(partial["data"], json!({ "me": null, "alias": "Query" }));
    assert_eq!(partial["errors"][0]["path"], json!(["me"]));
    assert_eq!(
        partial["errors"][0]["message"],
        "Simulated failure of this field"
    );
    // Nothing nullable to fail: the data stays whole and the error has no path.
    server
        .attendium
        .inject_graphql_fault(GraphqlFault::PartialData, FaultTimes::Once);
    let whole = graphql(&server, token, "{ __typename }").await.json();
    assert_eq!(whole["data"], json!({ "__typename": "Query" }));
    assert_eq!(whole["errors"][0]["extensions"]["code"], "PARTIAL_RESULT");
    assert!(whole["errors"][0].get("path").is_none(), "{whole}");

    server
        .attendium
        .inject_graphql_fault(GraphqlFault::Unauthorized, FaultTimes::Once);
    let unauthorized = graphql(&server, token, "{ me { id } }").await;
    assert_eq!(unauthorized.status, 401);
    assert!(
        unauthorized
            .header("www-authenticate")
            .unwrap()
            .starts_with("Bearer")
    );

    server
        .attendium
        .inject_graphql_fault(GraphqlFault::BadGatewayHtml, FaultTimes::Once);
    let gateway = graphql(&server, token, "{ me { id } }").await;
    assert_eq!(gateway.status, 502);
    assert!(
        gateway
            .header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(gateway.text().contains("<html>"));

    server
        .attendium
        .inject_graphql_fault(GraphqlFault::RequestError, FaultTimes::Once);
    let refused = graphql(&server, token, "{ me { id } }").await;
    assert_eq!(refused.status, 400);
    assert!(refused.json().get("data").is_none());
    assert_eq!(
        refused.json()["errors"][0]["extensions"]["code"],
        "BAD_REQUEST"
    );

    server
        .attendium
        .inject_graphql_fault(GraphqlFault::TooManyRequests, FaultTimes::Once);
    let limited = graphql(&server, token, "{ me { id } }").await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), Some("1"));

    // Each fault fired once; the next request is served normally.
    let healthy = graphql(&server, token, "{ me { id } }").await;
    assert_eq!(
        healthy.json(),
        json!({ "data": { "me": { "id": "user-1" } } })
    );
    assert_eq!(server.attendium.counters().requests_to("/graphql"), 8);

    server
        .attendium
        .inject_graphql_fault(GraphqlFault::Unauthorized, FaultTimes::Always);
    for _ in 0..3 {
        assert_eq!(graphql(&server, token, "{ me { id } }").await.status, 401);
    }
    server.attendium.clear_faults();
    assert_eq!(graphql(&server, token, "{ me { id } }").await.status, 200);
}

/// The graphql-js introspection query with every option on (what `xtask schema pull` runs).
const INTROSPECTION_QUERY: &str =
    include_str!("../src/attendium/graphql/testdata/introspection_query.graphql");

/// What a schema declares, one comparable line per item: types with their interfaces,
/// fields and arguments with their types, enum values, input fields, union members,
/// deprecations and descriptions.
type Signatures = std::collections::BTreeSet<String>;

fn render_type(ty: &async_graphql::parser::types::Type) -> String {
    ty.to_string()
}

fn render_type_ref(ty: &Value) -> String {
    match ty["kind"].as_str().unwrap() {
        "NON_NULL" => format!("{}!", render_type_ref(&ty["ofType"])),
        "LIST" => format!("[{}]", render_type_ref(&ty["ofType"])),
        _ => ty["name"].as_str().unwrap().to_owned(),
    }
}

/// `@deprecated` and its reason, as introspection reports it (GraphQL spec §3.13.3).
fn sdl_deprecation(
    directives: &[async_graphql::Positioned<async_graphql::parser::types::ConstDirective>],
) -> String {
    directives
        .iter()
        .find(|d| d.node.name.node.as_str() == "deprecated")
        .map(|d| match d.node.get_argument("reason").map(|r| &r.node) {
            Some(async_graphql::Value::String(reason)) => format!(" @deprecated({reason})"),
            _ => " @deprecated(No longer supported)".to_owned(),
        })
        .unwrap_or_default()
}

fn introspected_deprecation(item: &Value) -> String {
    if item["isDeprecated"] == true {
        format!(
            " @deprecated({})",
            item["deprecationReason"].as_str().unwrap_or_default()
        )
    } else {
        String::new()
    }
}

fn describe(out: &mut Signatures, owner: &str, description: Option<&str>) {
    if let Some(text) = description.filter(|t| !t.is_empty()) {
        out.insert(format!("{owner} \"{text}\""));
    }
}

/// Every item the SDL declares.
fn sdl_signatures(sdl: &str) -> Signatures {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
    let document = async_graphql::parser::parse_schema(sdl).unwrap();
    let mut out = Signatures::new();
    for definition in &document.definitions {
        let TypeSystemDefinition::Type(def) = definition else {
            continue;
        };
        let def = &def.node;
        let name = def.name.node.as_str();
        describe(
            &mut out,
            name,
            def.description.as_ref().map(|d| d.node.as_str()),
        );
        let (keyword, fields, implements) = match &def.kind {
            TypeKind::Object(o) => ("type", Some(&o.fields), o.implements.clone()),
            TypeKind::Interface(i) => ("interface", Some(&i.fields), i.implements.clone()),
            TypeKind::Scalar => ("scalar", None, Vec::new()),
            TypeKind::Union(u) => {
                let members: Vec<&str> = u.members.iter().map(|m| m.node.as_str()).collect();
                out.insert(format!("union {name} = {}", members.join(" | ")));
                continue;
            }
            TypeKind::Enum(e) => {
                out.insert(format!("enum {name}"));
                for v in &e.values {
                    let v = &v.node;
                    let value = format!("{name}::{}", v.value.node);
                    describe(
                        &mut out,
                        &value,
                        v.description.as_ref().map(|d| d.node.as_str()),
                    );
                    out.insert(format!("{value}{}", sdl_deprecation(&v.directives)));
                }
                continue;
            }
            TypeKind::InputObject(i) => {
                out.insert(format!("input {name}"));
                for f in &i.fields {
                    let f = &f.node;
                    out.insert(format!(
                        "{name}.{}: {}",
                        f.name.node,
                        render_type(&f.ty.node)
                    ));
                }
                continue;
            }
        };
        let mut interfaces: Vec<&str> = implements.iter().map(|i| i.node.as_str()).collect();
        interfaces.sort_unstable();
        out.insert(format!("{keyword} {name} [{}]", interfaces.join(", ")));
        // A field declared twice the same way is served once, with its first description.
        let mut seen = std::collections::HashSet::new();
        for f in fields.into_iter().flatten() {
            let f = &f.node;
            if !seen.insert(f.name.node.as_str()) {
                continue;
            }
            let args: Vec<String> = f
                .arguments
                .iter()
                .map(|a| format!("{}: {}", a.node.name.node, render_type(&a.node.ty.node)))
                .collect();
            let field = format!("{name}.{}", f.name.node);
            describe(
                &mut out,
                &field,
                f.description.as_ref().map(|d| d.node.as_str()),
            );
            out.insert(format!(
                "{field}({}): {}{}",
                args.join(", "),
                render_type(&f.ty.node),
                sdl_deprecation(&f.directives)
            ));
        }
    }
    out
}

/// The same, read from an introspection result (minus what every server has).
fn introspected_signatures(schema: &Value) -> Signatures {
    let builtin = ["String", "Boolean", "ID", "Int", "Float"];
    let mut out = Signatures::new();
    for ty in schema["types"].as_array().unwrap() {
        let name = ty["name"].as_str().unwrap();
        if name.starts_with("__") || builtin.contains(&name) {
            continue;
        }
        describe(&mut out, name, ty["description"].as_str());
        let keyword = match ty["kind"].as_str().unwrap() {
            "OBJECT" => "type",
            "SCALAR" => "scalar",
            "INTERFACE" => "interface",
            "UNION" => {
                let members: Vec<&str> = ty["possibleTypes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t["name"].as_str().unwrap())
                    .collect();
                out.insert(format!("union {name} = {}", members.join(" | ")));
                continue;
            }
            "ENUM" => {
                out.insert(format!("enum {name}"));
                for v in ty["enumValues"].as_array().unwrap() {
                    let value = format!("{name}::{}", v["name"].as_str().unwrap());
                    describe(&mut out, &value, v["description"].as_str());
                    out.insert(format!("{value}{}", introspected_deprecation(v)));
                }
                continue;
            }
            _ => {
                out.insert(format!("input {name}"));
                for f in ty["inputFields"].as_array().unwrap() {
                    out.insert(format!(
                        "{name}.{}: {}",
                        f["name"].as_str().unwrap(),
                        render_type_ref(&f["type"])
                    ));
                }
                continue;
            }
        };
        let mut interfaces: Vec<&str> = ty["interfaces"]
            .as_array()
            .map(|list| list.iter().map(|i| i["name"].as_str().unwrap()).collect())
            .unwrap_or_default();
        interfaces.sort_unstable();
        out.insert(format!("{keyword} {name} [{}]", interfaces.join(", ")));
        if keyword == "scalar" {
            continue;
        }
        for f in ty["fields"].as_array().unwrap() {
            let args: Vec<String> = f["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| {
                    format!(
                        "{}: {}",
                        a["name"].as_str().unwrap(),
                        render_type_ref(&a["type"])
                    )
                })
                .collect();
            let field = format!("{name}.{}", f["name"].as_str().unwrap());
            describe(&mut out, &field, f["description"].as_str());
            out.insert(format!(
                "{field}({}): {}{}",
                args.join(", "),
                render_type_ref(&f["type"]),
                introspected_deprecation(f)
            ));
        }
    }
    out
}

/// Asks `server` for its schema by introspection, as `xtask schema pull` does.
async fn introspect(server: &Server) -> Value {
    let token = server.attendium.issue_access_token("u").unwrap();
    let reply = graphql(server, Some(token.secret()), INTROSPECTION_QUERY).await;
    assert_eq!(reply.status, 200);
    let mut body = reply.json();
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["__schema"].take()
}

/// Compares two sets and shows the first differences, not two huge sets.
fn assert_same(left: &Signatures, right: &Signatures, what: &str) {
    let missing: Vec<&String> = right.difference(left).take(10).collect();
    let extra: Vec<&String> = left.difference(right).take(10).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{what}: introspection lacks {missing:#?} and adds {extra:#?}"
    );
}

/// `/graphql` serves exactly `schemas/attendium.graphql`: its introspection answer, over
/// HTTP as `xtask schema pull` reads it, declares the same items.
#[tokio::test]
async fn introspection_over_http_matches_the_sdl_in_schemas() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schemas/attendium.graphql"
    );
    let sdl = std::fs::read_to_string(path).unwrap();
    assert_eq!(
        sdl,
        sandbox::attendium::SCHEMA_SDL,
        "the served SDL differs from {path}"
    );

    let server = start(AttendiumConfig::new()).await;
    let schema = introspect(&server).await;
    assert_eq!(schema["queryType"]["name"], "Query");
    let introspected = introspected_signatures(&schema);
    assert_same(&introspected, &sdl_signatures(&sdl), path);
    assert!(introspected.iter().any(|s| s.starts_with("Query.me(")));
}

/// GitHub's public schema (from the `@octokit/graphql-schema` npm package, see
/// `tests/data/github/README.md`) with Attendium's documented `Query.me: User` added.
fn large_schema() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/data/github/schema.graphql"
    );
    let sdl = std::fs::read_to_string(path).unwrap();
    // `type Query implements Node {`: the field goes first in its body.
    let query = sdl.find("\ntype Query ").unwrap();
    let at = query + sdl[query..].find("{\n").unwrap() + 2;
    format!(
        "{}  \"\"\"\n  The signed-in user.\n  \"\"\"\n  me: User\n\n{}",
        &sdl[..at],
        &sdl[at..]
    )
}

#[tokio::test]
async fn a_large_real_schema_is_served_as_written() {
    let sdl = large_schema();
    let server = start(AttendiumConfig::new().schema_sdl(sdl.clone())).await;
    let schema = introspect(&server).await;
    assert_eq!(schema["mutationType"]["name"], "Mutation");
    let introspected = introspected_signatures(&schema);
    assert!(introspected.len() > 10_000, "{}", introspected.len());
    // Two known differences, both the engine's (async-graphql 7): its schema check
    // refuses a non-null field implementing a nullable interface field (issue #1692), so
    // `User.email` is declared as `ProfileOwner.email` is; and its introspection lists
    // only the types reachable from the root types, which the union
    // `OrganizationOrUser` is not. Everything else is served as written.
    let mut written = sdl_signatures(&sdl);
    for line in [
        "User.email(): String!",
        "union OrganizationOrUser = Organization | User",
        "OrganizationOrUser \"Used for argument of CreateProjectV2 mutation.\"",
    ] {
        assert!(written.remove(line), "{line}");
    }
    written.insert("User.email(): String".to_owned());
    assert_same(&introspected, &written, "tests/data/github/schema.graphql");

    let token = server.attendium.issue_access_token("user-9").unwrap();
    let reply = graphql(
        &server,
        Some(token.secret()),
        "{ me { id login } viewer { createdAt status { emoji } } node(id: \"x\") { __typename id } }",
    )
    .await;
    assert_eq!(
        reply.json(),
        json!({ "data": {
            "me": { "id": "user-9", "login": "User.login" },
            "viewer": { "createdAt": "2024-05-01T12:30:00Z", "status": { "emoji": "UserStatus.emoji" } },
            "node": { "__typename": "AddedToMergeQueueEvent", "id": "AddedToMergeQueueEvent.id" },
        } })
    );
}

/// Fields the sandbox does not model answer samples of their type: scalars (built-in and
/// custom), enums, lists, non-null, nested objects, interfaces and unions (the first
/// possible type), with arguments and variables checked by the engine.
#[tokio::test]
async fn fields_the_sandbox_does_not_model_get_well_typed_samples() {
    let sdl = r#"
        schema { query: Root }
        scalar DateTime
        scalar Money
        enum Status { ACTIVE INACTIVE }
        interface Named { name: String! }
        union Thing = Room | Event
        type Root {
          me: Person
          rooms(first: Int = 10, status: Status): [Room!]!
          search(text: String!): [Thing]
          named: Named
        }
        type Person implements Named { id: ID! name: String! joined: DateTime! }
        type Room implements Named { name: String! seats: Int! price: Money status: Status! tags: [[String!]] }
        type Event implements Named { name: String! ratio: Float flagged: Boolean! }
    "#;
    let server = start(AttendiumConfig::new().schema_sdl(sdl)).await;
    let token = server.attendium.issue_access_token("user-3").unwrap();
    let body = json!({
        "query": "query Q($s: Status, $t: String!) {
            me { id name joined }
            rooms(status: $s) { ...R }
            search(text: $t) { __typename ... on Event { name } ... on Room { seats } }
            named { __typename name }
        }
        fragment R on Room { name seats price status tags }",
        "variables": { "s": "ACTIVE", "t": "x" },
    });
    let bearer = format!("Bearer {}", token.secret());
    let reply = post_json(
        server.addr,
        "/graphql",
        &[("Authorization", &bearer)],
        &body,
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        json!({ "data": {
            "me": { "id": "user-3", "name": "Person.name", "joined": "2024-05-01T12:30:00Z" },
            "rooms": [{
                "name": "Room.name",
                "seats": 1,
                "price": "sample Money",
                "status": "ACTIVE",
                "tags": [["Room.tags"]],
            }],
            "search": [{ "__typename": "Room", "seats": 1 }],
            "named": { "__typename": "Person", "name": "Person.name" },
        } })
    );

    // A variable of the wrong type is refused by the engine before execution.
    let wrong = json!({ "query": "query Q($s: Status) { rooms(status: $s) { name } }", "variables": { "s": "GONE" } });
    let reply = post_json(
        server.addr,
        "/graphql",
        &[("Authorization", &bearer)],
        &wrong,
    )
    .await;
    let answer = reply.json();
    assert!(answer.get("data").is_none(), "{answer}");
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("GONE"),
        "{answer}"
    );
}

/// Invalid operations get the engine's validation errors, with `locations`, and no data.
#[tokio::test]
async fn invalid_operations_get_the_engines_validation_errors_with_locations() {
    let server = start(AttendiumConfig::new()).await;
    let token = server.attendium.issue_access_token("u").unwrap();
    let token = Some(token.secret());

    let unknown = graphql(&server, token, "{\n  me {\n    nope\n  }\n}")
        .await
        .json();
    assert!(unknown.get("data").is_none(), "{unknown}");
    assert_eq!(
        unknown["errors"][0]["message"],
        "Unknown field \"nope\" on type \"User\"."
    );
    assert_eq!(
        unknown["errors"][0]["locations"],
        json!([{ "line": 3, "column": 5 }])
    );

    let syntax = graphql(&server, token, "{ me { id }").await.json();
    assert!(syntax.get("data").is_none(), "{syntax}");
    assert!(syntax["errors"][0]["locations"].is_array(), "{syntax}");

    let unused = graphql(&server, token, "{ me { id } }\nfragment F on User { id }")
        .await
        .json();
    assert_eq!(
        unused["errors"][0]["locations"],
        json!([{ "line": 2, "column": 1 }]),
        "{unused}"
    );

    let many = graphql(
        &server,
        token,
        "query A { me { id } } query B { me { id } }",
    )
    .await
    .json();
    assert!(many.get("data").is_none(), "{many}");
}

/// Queries built to be expensive are refused quickly, never answered exponentially.
#[tokio::test]
async fn hostile_queries_are_refused_quickly() {
    let server = start(AttendiumConfig::new()).await;
    let token = server.attendium.issue_access_token("u").unwrap();
    let token = Some(token.secret());

    let deep = format!("{}{}", "{ me ".repeat(500), "}".repeat(500));
    let answer = graphql(&server, token, &deep).await.json();
    assert!(answer.get("data").is_none(), "{answer}");

    let long = format!("{{ me {{ id }} }} # {}", "x".repeat(70_000));
    let answer = graphql(&server, token, &long).await.json();
    assert_eq!(
        answer["errors"][0]["message"],
        "The query is longer than 65536 bytes."
    );

    // Each fragment spreads the next twice: 2^40 paths if expanded naively.
    let mut fragments = String::new();
    for i in 0..40 {
        fragments.push_str(&format!(
            "fragment F{i} on User {{ id ...F{n} ...F{n} }}\n",
            n = i + 1
        ));
    }
    fragments.push_str("fragment F40 on User { id }\n");
    let query = format!("{{ me {{ ...F0 }} }}\n{fragments}");
    let answer = graphql(&server, token, &query).await.json();
    assert!(answer.get("data").is_none(), "{answer}");

    // Thousands of aliases over every type and field exceed the complexity limit.
    let aliases: Vec<String> = (0..2000)
        .map(|i| format!("f{i}: fields {{ name }}"))
        .collect();
    let fan_out = format!(
        "{{ __schema {{ types {{ ...T }} }} }}\nfragment T on __Type {{ {} }}",
        aliases.join(" ")
    );
    let answer = graphql(&server, token, &fan_out).await.json();
    assert!(answer.get("data").is_none(), "{:.500}", answer.to_string());
    assert_eq!(answer["errors"][0]["message"], "Query is too complex.");
}

#[test]
fn an_sdl_that_cannot_be_served_is_refused_at_start_up() {
    let issuer = Url::parse("http://127.0.0.1:1").unwrap();
    for (sdl, expected) in [
        ("type Query { me: User", "does not parse"),
        ("type User { id: ID! }", "no query type"),
        ("type Query { me: Nope }", "not a valid schema"),
        (
            "type Query { a: Int }\nextend type Nope { b: Int }",
            "`Nope`",
        ),
        (
            "type Query { a: Int a: String }",
            "`Query.a` is declared twice",
        ),
    ] {
        let err = Attendium::new(AttendiumConfig::new().schema_sdl(sdl), issuer.clone())
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{sdl}: {err}");
    }
}
