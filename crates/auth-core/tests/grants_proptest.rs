//! Property tests for the grant parsers and encoders: no input, however malformed, makes
//! them panic, secrets never reach error messages, and encodings round-trip.

use std::time::{Duration, SystemTime};

use auth_core::callback::Callback;
use auth_core::client_auth::{basic_authorization, form_encode_component};
use auth_core::discovery::AuthorizationServerMetadata;
use auth_core::grant::refresh::parse_refresh_response;
use auth_core::registration::RegisteredClient;
use auth_core::revocation::parse_revocation_response;
use auth_core::token::{TokenParseOptions, parse_token_response};
use auth_core::{BasicEncoding, ClientId, ClientSecret, HttpResponse, RefreshToken, pkce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use proptest::prelude::*;
use serde_json::{Map, Value};
use url::Url;
use url::form_urlencoded;

/// Member names the parsers look at, so that generated objects hit the interesting paths
/// often, mixed with arbitrary names.
const KEYS: &[&str] = &[
    "access_token",
    "token_type",
    "expires_in",
    "refresh_token",
    "scope",
    "error",
    "error_description",
    "error_uri",
    "id_token",
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "registration_endpoint",
    "revocation_endpoint",
    "code_challenge_methods_supported",
    "authorization_response_iss_parameter_supported",
    "grant_types_supported",
    "client_id",
    "client_secret",
    "client_id_issued_at",
    "client_secret_expires_at",
    "registration_access_token",
    "registration_client_uri",
    "redirect_uris",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(KEYS).prop_map(String::from),
        1 => ".{0,12}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        ".{0,40}".prop_map(Value::from),
        // Strings the parsers treat specially: digits, URLs, token types.
        "-?[0-9]{1,25}".prop_map(Value::from),
        "(https?|ftp)://[a-z0-9.:\\[\\]]{1,20}/[a-z/]{0,10}".prop_map(Value::from),
        proptest::sample::select(&["Bearer", "bearer", "S256", "invalid_grant", ""][..])
            .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((key(), inner), 0..8)
                .prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn json_object() -> impl Strategy<Value = Map<String, Value>> {
    proptest::collection::vec((key(), json_value()), 0..12)
        .prop_map(|members| members.into_iter().collect())
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        3 => proptest::sample::select(&[200u16, 201, 204, 400, 401, 404, 429, 500, 502, 503][..]),
        1 => 100u16..=999,
    ]
}

fn content_type() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(prop_oneof![
        Just("application/json".to_owned()),
        Just("text/html; charset=utf-8".to_owned()),
        "[ -~]{0,30}",
    ])
}

fn response(status: u16, content_type: Option<&str>, body: Vec<u8>) -> HttpResponse {
    let mut builder = http::Response::builder().status(status);
    if let Some(value) = content_type.and_then(|ct| http::HeaderValue::from_str(ct).ok()) {
        builder = builder.header(http::header::CONTENT_TYPE, value);
    }
    builder.body(Bytes::from(body)).expect("a valid status")
}

/// Runs every response parser of the crate on one response; none may panic.
fn parse_everything(response: &HttpResponse) {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let issuer = Url::parse("https://as.example").expect("valid");
    let _ = parse_token_response(response, now, TokenParseOptions::default());
    let _ = parse_token_response(
        response,
        SystemTime::UNIX_EPOCH,
        TokenParseOptions::default(),
    );
    let _ = parse_refresh_response(
        response,
        &RefreshToken::new("old"),
        now,
        TokenParseOptions::default().with_default_expires_in(None),
    );
    let _ = AuthorizationServerMetadata::parse(response, &issuer);
    let _ = RegisteredClient::parse(response);
    let _ = parse_revocation_response(response);
}

proptest! {
    #[test]
    fn parsers_never_panic_on_arbitrary_bytes(
        status in status(),
        content_type in content_type(),
        body in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        parse_everything(&response(status, content_type.as_deref(), body));
    }

    #[test]
    fn parsers_never_panic_on_arbitrary_json(
        status in status(),
        content_type in content_type(),
        value in prop_oneof![json_value(), json_object().prop_map(Value::Object)],
    ) {
        let body = serde_json::to_vec(&value).expect("serialisable");
        parse_everything(&response(status, content_type.as_deref(), body));
    }

    #[test]
    fn token_parse_errors_never_show_the_tokens(
        status in status(),
        mut object in json_object(),
        access in "[A-Za-z0-9]{24,40}",
        refresh in "[A-Za-z0-9]{24,40}",
    ) {
        let access = format!("AT{access}");
        let refresh = format!("RT{refresh}");
        object.insert("access_token".into(), Value::from(access.clone()));
        object.insert("refresh_token".into(), Value::from(refresh.clone()));
        let body = serde_json::to_vec(&Value::Object(object)).expect("serialisable");
        let response = response(status, Some("application/json"), body);
        let now = SystemTime::UNIX_EPOCH;
        let results = [
            parse_token_response(&response, now, TokenParseOptions::default()).map(|_| ()),
            parse_refresh_response(&response, &RefreshToken::new("old"), now, TokenParseOptions::default()).map(|_| ()),
        ];
        for result in results {
            if let Err(err) = result {
                let text = format!("{err} {err:?}");
                prop_assert!(!text.contains(&access), "{}", text);
                prop_assert!(!text.contains(&refresh), "{}", text);
            }
        }
    }

    #[test]
    fn callback_parser_never_panics(query in ".{0,200}", raw in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = Callback::from_query(&query);
        let _ = Callback::from_query(&String::from_utf8_lossy(&raw));
        if let Ok(url) = Url::parse(&format!("http://127.0.0.1:8400/cb?{query}")) {
            let _ = Callback::from_url(&url);
        }
    }

    #[test]
    fn callback_parser_recovers_what_was_sent(
        code in ".{1,60}",
        state in ".{1,60}",
        iss in proptest::option::of(".{1,60}"),
        description in proptest::option::of("[ -~]{1,60}"),
    ) {
        let mut url = Url::parse("http://127.0.0.1:8400/cb").expect("valid");
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("code", &code).append_pair("state", &state);
            if let Some(iss) = &iss {
                query.append_pair("iss", iss);
            }
            if let Some(description) = &description {
                query.append_pair("error_description", description);
            }
        }
        let callback = Callback::from_url(&url).expect("no duplicates");
        prop_assert_eq!(callback.code.as_ref().map(|c| c.secret()), Some(code.as_str()));
        prop_assert_eq!(callback.state.as_ref().map(|s| s.secret()), Some(state.as_str()));
        prop_assert_eq!(callback.iss.as_deref(), iss.as_deref());
        let debug = format!("{callback:?}");
        // Only check values unlikely to occur in the Debug text by chance.
        if code.len() >= 8 {
            prop_assert!(!debug.contains(&code));
        }
        if description.is_some() {
            prop_assert!(callback.error_description.is_some());
        }
    }

    #[test]
    fn form_encoding_round_trips(name in ".{0,20}", value in ".{0,80}") {
        let encoded = format!("{}={}", form_encode_component(&name), form_encode_component(&value));
        let pairs: Vec<(String, String)> = form_urlencoded::parse(encoded.as_bytes()).into_owned().collect();
        prop_assert_eq!(pairs, vec![(name, value)]);
    }

    #[test]
    fn rfc6749_basic_encoding_round_trips(id in ".{1,30}", secret in ".{0,60}") {
        let header = basic_authorization(
            &ClientId::new(id.clone()),
            &ClientSecret::new(secret.clone()),
            BasicEncoding::FormUrlEncoded,
        );
        let Ok(header) = header else {
            return Err(TestCaseError::fail("base64 output is always a valid header"));
        };
        let text = header.to_str().expect("ASCII");
        let decoded = STANDARD.decode(text.trim_start_matches("Basic ")).expect("base64");
        let decoded = String::from_utf8(decoded).expect("form encoding is ASCII");
        // Form encoding escapes `:`, so the first colon is the separator.
        let (enc_id, enc_secret) = decoded.split_once(':').expect("a separator");
        let decode = |s: &str| -> String {
            form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        prop_assert_eq!(decode(enc_id), id);
        prop_assert_eq!(decode(enc_secret), secret);
    }

    #[test]
    fn verifier_rules_hold(value in "[A-Za-z0-9._~-]{0,140}|.{0,140}") {
        let allowed = (43..=128).contains(&value.len())
            && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        match pkce::verifier_from(&value) {
            Ok(verifier) => {
                prop_assert!(allowed);
                let challenge = pkce::challenge_s256(&verifier);
                prop_assert_eq!(challenge.len(), 43);
                prop_assert!(challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            }
            Err(_) => prop_assert!(!allowed),
        }
    }
}
