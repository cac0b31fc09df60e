//! Authorization server metadata discovery (RFC 8414), with the OpenID Connect Discovery
//! location as a fallback.
//!
//! Discovery is two pure steps around the caller's transport:
//!
//! 1. [`metadata_urls`] lists the documents to try, in order, and
//!    [`metadata_request`] builds the `GET` for one of them;
//! 2. [`AuthorizationServerMetadata::parse`] reads the answer and checks that it describes
//!    the issuer the client was configured with (RFC 8414 §3.3: otherwise an attacker who
//!    controls one document could point the client at their own endpoints).
//!
//! A `404` from one location means "try the next": [`is_not_found`] tells that apart
//! from real failures, which must not be papered over by falling back.
//!
//! ```
//! use auth_core::discovery::{is_not_found, metadata_request, metadata_urls, AuthorizationServerMetadata};
//! use auth_core::{Error, HttpRequest, HttpResponse};
//!
//! /// Whatever sends requests: an HTTP client, a cache, a file.
//! fn send(request: HttpRequest) -> HttpResponse {
//!     let body = if request.uri().path() == "/.well-known/oauth-authorization-server" {
//!         r#"{"issuer":"https://as.example","authorization_endpoint":"https://as.example/authorize","token_endpoint":"https://as.example/token"}"#
//!     } else {
//!         ""
//!     };
//!     let status = if body.is_empty() { 404 } else { 200 };
//!     http::Response::builder().status(status).body(bytes::Bytes::from(body)).expect("valid")
//! }
//!
//! let issuer = url::Url::parse("https://as.example")?;
//! let mut outcome = None;
//! for url in metadata_urls(&issuer)? {
//!     let response = send(metadata_request(&url)?);
//!     match AuthorizationServerMetadata::parse(&response, &issuer) {
//!         Err(e) if is_not_found(&e) => outcome = Some(Err(e)), // try the next location
//!         result => {
//!             outcome = Some(result);
//!             break;
//!         }
//!     }
//! }
//! let metadata = outcome.expect("at least one location")?;
//! assert_eq!(metadata.token_endpoint.as_str(), "https://as.example/token");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use bytes::Bytes;
use http::StatusCode;
use http::header::ACCEPT;
use serde_json::{Map, Value};
use url::Url;

use crate::Error;
use crate::response::{self, opt_str, str_list};
use crate::secure_url::{display_url, ensure_secure};
use crate::transport::HttpRequest;

/// The RFC 8414 well-known suffix.
pub const OAUTH_WELL_KNOWN: &str = ".well-known/oauth-authorization-server";

/// The OpenID Connect Discovery 1.0 §4 well-known suffix.
pub const OPENID_WELL_KNOWN: &str = ".well-known/openid-configuration";

/// The metadata locations for `issuer`, in the order to try them:
///
/// 1. RFC 8414 §3.1: the well-known segment goes between the host and the issuer's
///    path (`https://h/t1` → `https://h/.well-known/oauth-authorization-server/t1`);
/// 2. OpenID Connect Discovery: appended to the issuer
///    (`https://h/t1/.well-known/openid-configuration`).
///
/// A terminating `/` of the issuer's path is dropped first (RFC 8414 §3.1). The issuer
/// must be `https` (plain `http` only to a loopback address) and have no query or
/// fragment (RFC 8414 §2).
///
/// ```
/// use auth_core::discovery::metadata_urls;
///
/// let urls = metadata_urls(&url::Url::parse("https://h.example/t1")?)?;
/// assert_eq!(urls[0].as_str(), "https://h.example/.well-known/oauth-authorization-server/t1");
/// assert_eq!(urls[1].as_str(), "https://h.example/t1/.well-known/openid-configuration");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn metadata_urls(issuer: &Url) -> Result<Vec<Url>, Error> {
    check_issuer(issuer)?;
    let path = issuer.path().trim_end_matches('/');
    let mut rfc8414 = issuer.clone();
    rfc8414.set_path(&format!("/{OAUTH_WELL_KNOWN}{path}"));
    let mut openid = issuer.clone();
    openid.set_path(&format!("{path}/{OPENID_WELL_KNOWN}"));
    Ok(vec![rfc8414, openid])
}

/// A `GET` for a metadata document, asking for JSON. Refuses a location that is neither
/// `https` nor loopback: the document decides where credentials will be sent.
pub fn metadata_request(url: &Url) -> Result<HttpRequest, Error> {
    ensure_secure(url)?;
    http::Request::get(url.as_str())
        .header(ACCEPT, "application/json")
        .body(Bytes::new())
        .map_err(|_| Error::invalid_config("the metadata URL cannot be used in a request"))
}

/// Whether `err` says the metadata document does not exist at that location (HTTP 404
/// or 410), so that the next of [`metadata_urls`] should be tried. Any other error
/// (a server error, a wrong issuer, a malformed document) is final.
pub fn is_not_found(err: &Error) -> bool {
    matches!(
        err.status(),
        Some(StatusCode::NOT_FOUND) | Some(StatusCode::GONE)
    )
}

fn check_issuer(issuer: &Url) -> Result<(), Error> {
    ensure_secure(issuer)?;
    if issuer.query().is_some() || issuer.fragment().is_some() {
        return Err(Error::invalid_config(format!(
            "the issuer {} must not have a query or fragment (RFC 8414 §2)",
            display_url(issuer)
        )));
    }
    Ok(())
}

/// What an authorization server says about itself (RFC 8414 §2), checked.
///
/// Holds no secret, so it can be cached with `serde`. Deserialising does not repeat the
/// checks of [`parse`](Self::parse): read back only what was written after a `parse`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct AuthorizationServerMetadata {
    /// The issuer identifier, exactly as the server sent it (it equals the configured
    /// issuer: [`parse`](Self::parse) checked). Compare RFC 9207 `iss` parameters with it.
    pub issuer: String,
    /// Where the browser is sent to log in.
    pub authorization_endpoint: Url,
    /// Where codes and refresh tokens are exchanged.
    pub token_endpoint: Url,
    /// Dynamic client registration (RFC 7591), if offered.
    pub registration_endpoint: Option<Url>,
    /// Token revocation (RFC 7009), if offered.
    pub revocation_endpoint: Option<Url>,
    /// The PKCE methods supported; `None` when the server does not say.
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// Whether the server sends `iss` in authorization responses (RFC 9207 §3); when it
    /// does, a callback without `iss` must be rejected.
    pub authorization_response_iss_parameter_supported: bool,
    /// The grant types supported; `None` when the server does not say (RFC 8414 then
    /// implies `authorization_code` and `implicit`).
    pub grant_types_supported: Option<Vec<String>>,
    /// The response types supported.
    pub response_types_supported: Vec<String>,
    /// The scopes supported, if listed.
    pub scopes_supported: Option<Vec<String>>,
    /// The client authentication methods the token endpoint accepts, if listed.
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// Every other member, as sent.
    pub extra: Map<String, Value>,
}

impl AuthorizationServerMetadata {
    /// Parses and checks a metadata document.
    ///
    /// - The `issuer` member must equal `expected_issuer` exactly (RFC 8414 §3.3), as
    ///   strings: no case folding, no path normalisation. One allowance is forced by
    ///   [`Url`] itself: it cannot record whether an issuer without a path was written
    ///   with a trailing `/`, so `https://h` and `https://h/` both match a configured
    ///   `https://h`. Anything else is [`Error::Discovery`].
    /// - `authorization_endpoint` and `token_endpoint` are required; every endpoint must
    ///   be `https` (or loopback `http`), else [`Error::Discovery`]. A relative endpoint
    ///   is resolved against the issuer.
    /// - An error status or a non-JSON body gives the same errors as the token endpoint
    ///   ([`Error::UnexpectedResponse`], [`Error::OAuth`]); see [`is_not_found`].
    pub fn parse(response: &crate::HttpResponse, expected_issuer: &Url) -> Result<Self, Error> {
        let map = response::oauth_json(response)?;
        Self::from_json(map, expected_issuer)
    }

    /// Checks and reads a metadata document already parsed as a JSON object, with the
    /// same rules as [`parse`](Self::parse).
    pub fn from_json(mut map: Map<String, Value>, expected_issuer: &Url) -> Result<Self, Error> {
        check_issuer(expected_issuer)?;
        let issuer = opt_str(&map, "issuer")?
            .ok_or_else(|| Error::discovery("the document has no `issuer`"))?;
        if !issuer_matches(&issuer, expected_issuer) {
            return Err(Error::discovery(format!(
                "the document describes the issuer `{}`, not the configured `{}` (RFC 8414 §3.3)",
                response::snippet(issuer.as_bytes()),
                expected_issuer
            )));
        }
        let endpoint = |map: &Map<String, Value>, key: &str| -> Result<Option<Url>, Error> {
            let Some(value) = opt_str(map, key)? else {
                return Ok(None);
            };
            let url = match Url::parse(&value) {
                Ok(url) => url,
                Err(url::ParseError::RelativeUrlWithoutBase) => expected_issuer
                    .join(&value)
                    .map_err(|_| Error::discovery(format!("`{key}` is not a valid URL")))?,
                Err(_) => return Err(Error::discovery(format!("`{key}` is not a valid URL"))),
            };
            if ensure_secure(&url).is_err() {
                return Err(Error::discovery(format!(
                    "`{key}` ({}) is neither https nor a loopback address",
                    display_url(&url)
                )));
            }
            Ok(Some(url))
        };
        let required = |map: &Map<String, Value>, key: &str| -> Result<Url, Error> {
            endpoint(map, key)?.ok_or_else(|| Error::discovery(format!("`{key}` is missing")))
        };
        let optional_list = |map: &Map<String, Value>, key: &str| -> Result<_, Error> {
            Ok(match map.get(key) {
                None | Some(Value::Null) => None,
                Some(_) => Some(str_list(map, key)?),
            })
        };
        let metadata = Self {
            authorization_endpoint: required(&map, "authorization_endpoint")?,
            token_endpoint: required(&map, "token_endpoint")?,
            registration_endpoint: endpoint(&map, "registration_endpoint")?,
            revocation_endpoint: endpoint(&map, "revocation_endpoint")?,
            code_challenge_methods_supported: optional_list(
                &map,
                "code_challenge_methods_supported",
            )?,
            authorization_response_iss_parameter_supported: match map
                .get("authorization_response_iss_parameter_supported")
            {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => {
                    return Err(Error::invalid_response(
                        "`authorization_response_iss_parameter_supported` should be a boolean",
                    ));
                }
            },
            grant_types_supported: optional_list(&map, "grant_types_supported")?,
            response_types_supported: str_list(&map, "response_types_supported")?,
            scopes_supported: optional_list(&map, "scopes_supported")?,
            token_endpoint_auth_methods_supported: optional_list(
                &map,
                "token_endpoint_auth_methods_supported",
            )?,
            issuer,
            extra: Map::new(),
        };
        for known in [
            "issuer",
            "authorization_endpoint",
            "token_endpoint",
            "registration_endpoint",
            "revocation_endpoint",
            "code_challenge_methods_supported",
            "authorization_response_iss_parameter_supported",
            "grant_types_supported",
            "response_types_supported",
            "scopes_supported",
            "token_endpoint_auth_methods_supported",
        ] {
            map.remove(known);
        }
        Ok(Self {
            extra: map,
            ..metadata
        })
    }

    /// Checks that the server accepts PKCE with `S256`. A server that does not list its
    /// methods passes (many support PKCE without advertising it); one that lists them
    /// without `S256` is [`Error::Discovery`].
    pub fn require_pkce_s256(&self) -> Result<(), Error> {
        match &self.code_challenge_methods_supported {
            Some(methods)
                if !methods
                    .iter()
                    .any(|m| m == crate::pkce::CHALLENGE_METHOD_S256) =>
            {
                Err(Error::discovery(
                    "the server does not list PKCE `S256` in `code_challenge_methods_supported`",
                ))
            }
            _ => Ok(()),
        }
    }

    /// Whether the server says it supports `grant_type`. When it does not list its grant
    /// types, RFC 8414 §2 implies `authorization_code` and `implicit`.
    pub fn supports_grant_type(&self, grant_type: &str) -> bool {
        match &self.grant_types_supported {
            Some(types) => types.iter().any(|t| t == grant_type),
            None => matches!(grant_type, "authorization_code" | "implicit"),
        }
    }
}

/// RFC 8414 §3.3 exact comparison, allowing only what [`Url`] cannot represent: whether
/// a path-less issuer had a trailing `/`.
fn issuer_matches(issuer: &str, expected: &Url) -> bool {
    let configured = expected.as_str();
    issuer == configured
        || (expected.path() == "/"
            && configured.strip_suffix('/') == Some(issuer)
            && !issuer.ends_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HttpResponse;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn response(status: u16, body: &str) -> HttpResponse {
        http::Response::builder()
            .status(status)
            .body(Bytes::from(body.to_owned()))
            .unwrap()
    }

    fn doc(issuer: &str, extra: &str) -> String {
        format!(
            r#"{{"issuer":"{issuer}","authorization_endpoint":"https://as.example/oauth2/authorize","token_endpoint":"https://as.example/oauth2/token"{extra}}}"#
        )
    }

    #[test]
    fn well_known_urls_follow_rfc8414_section_3_1() {
        let cases = [
            (
                "https://as.example",
                "https://as.example/.well-known/oauth-authorization-server",
                "https://as.example/.well-known/openid-configuration",
            ),
            (
                "https://as.example/t1",
                "https://as.example/.well-known/oauth-authorization-server/t1",
                "https://as.example/t1/.well-known/openid-configuration",
            ),
            (
                "https://as.example/t1/",
                "https://as.example/.well-known/oauth-authorization-server/t1",
                "https://as.example/t1/.well-known/openid-configuration",
            ),
            (
                "https://as.example:8443/a/b",
                "https://as.example:8443/.well-known/oauth-authorization-server/a/b",
                "https://as.example:8443/a/b/.well-known/openid-configuration",
            ),
            (
                "http://127.0.0.1:9000",
                "http://127.0.0.1:9000/.well-known/oauth-authorization-server",
                "http://127.0.0.1:9000/.well-known/openid-configuration",
            ),
        ];
        for (issuer, first, second) in cases {
            let urls = metadata_urls(&url(issuer)).unwrap();
            assert_eq!(urls.len(), 2);
            assert_eq!(urls[0].as_str(), first, "{issuer}");
            assert_eq!(urls[1].as_str(), second, "{issuer}");
        }
    }

    #[test]
    fn bad_issuers_are_refused() {
        assert!(matches!(
            metadata_urls(&url("http://as.example")),
            Err(Error::InsecureUrl { .. })
        ));
        assert!(matches!(
            metadata_urls(&url("https://as.example/?a=b")),
            Err(Error::InvalidConfig { .. })
        ));
        assert!(matches!(
            metadata_urls(&url("https://as.example/#f")),
            Err(Error::InvalidConfig { .. })
        ));
        assert!(matches!(
            metadata_request(&url("http://as.example/.well-known/x")),
            Err(Error::InsecureUrl { .. })
        ));
    }

    #[test]
    fn parses_a_full_document() {
        let body = doc(
            "https://as.example",
            r#","registration_endpoint":"https://as.example/oauth2/register",
               "revocation_endpoint":"/oauth2/revoke",
               "code_challenge_methods_supported":["S256"],
               "authorization_response_iss_parameter_supported":true,
               "grant_types_supported":["authorization_code","refresh_token"],
               "response_types_supported":["code"],
               "scopes_supported":["read"],
               "token_endpoint_auth_methods_supported":["none"],
               "service_documentation":"https://docs.example""#,
        );
        let m =
            AuthorizationServerMetadata::parse(&response(200, &body), &url("https://as.example"))
                .unwrap();
        assert_eq!(m.issuer, "https://as.example");
        assert_eq!(
            m.authorization_endpoint.as_str(),
            "https://as.example/oauth2/authorize"
        );
        assert_eq!(
            m.registration_endpoint.as_ref().unwrap().as_str(),
            "https://as.example/oauth2/register"
        );
        // Relative endpoints are resolved against the issuer.
        assert_eq!(
            m.revocation_endpoint.as_ref().unwrap().as_str(),
            "https://as.example/oauth2/revoke"
        );
        assert!(m.authorization_response_iss_parameter_supported);
        assert!(m.require_pkce_s256().is_ok());
        assert!(m.supports_grant_type("refresh_token"));
        assert!(!m.supports_grant_type("client_credentials"));
        assert_eq!(m.response_types_supported, ["code"]);
        assert_eq!(m.scopes_supported.as_deref().unwrap(), ["read"]);
        assert!(m.extra.contains_key("service_documentation"));
        assert!(!m.extra.contains_key("issuer"));
    }

    #[test]
    fn minimal_document_has_defaults() {
        let m = AuthorizationServerMetadata::parse(
            &response(200, &doc("https://as.example", "")),
            &url("https://as.example"),
        )
        .unwrap();
        assert!(m.registration_endpoint.is_none());
        assert!(m.code_challenge_methods_supported.is_none());
        assert!(!m.authorization_response_iss_parameter_supported);
        assert!(m.require_pkce_s256().is_ok());
        assert!(m.supports_grant_type("authorization_code"));
    }

    #[test]
    fn issuer_must_match_exactly() {
        let cases = [
            ("https://as.example", "https://as.example", true),
            // Url cannot tell these apart for a path-less issuer.
            ("https://as.example/", "https://as.example", true),
            ("https://as.example", "https://as.example/", true),
            ("https://as.example/t1", "https://as.example/t1", true),
            ("https://as.example/t1/", "https://as.example/t1", false),
            ("https://as.example/t1", "https://as.example/t1/", false),
            ("https://AS.example", "https://as.example", false),
            ("https://evil.example", "https://as.example", false),
            ("https://as.example:443", "https://as.example", false),
            ("http://as.example", "https://as.example", false),
            ("https://as.example/t2", "https://as.example/t1", false),
        ];
        for (sent, configured, ok) in cases {
            let result = AuthorizationServerMetadata::parse(
                &response(200, &doc(sent, "")),
                &url(configured),
            );
            match (ok, result) {
                (true, Ok(m)) => assert_eq!(m.issuer, sent),
                (false, Err(Error::Discovery { reason })) => {
                    assert!(reason.contains("issuer"), "{reason}")
                }
                (_, other) => panic!("{sent} vs {configured}: {other:?}"),
            }
        }
        let no_issuer =
            r#"{"authorization_endpoint":"https://a/x","token_endpoint":"https://a/y"}"#;
        assert!(matches!(
            AuthorizationServerMetadata::parse(&response(200, no_issuer), &url("https://a")),
            Err(Error::Discovery { .. })
        ));
    }

    #[test]
    fn insecure_or_missing_endpoints_are_refused() {
        for (body, field) in [
            (
                r#"{"issuer":"https://as.example","authorization_endpoint":"http://as.example/a","token_endpoint":"https://as.example/t"}"#,
                "authorization_endpoint",
            ),
            (
                r#"{"issuer":"https://as.example","authorization_endpoint":"https://as.example/a","token_endpoint":"http://evil.example/t"}"#,
                "token_endpoint",
            ),
            (
                r#"{"issuer":"https://as.example","authorization_endpoint":"https://as.example/a"}"#,
                "token_endpoint",
            ),
            (
                r#"{"issuer":"https://as.example","token_endpoint":"https://as.example/t"}"#,
                "authorization_endpoint",
            ),
            (
                r#"{"issuer":"https://as.example","authorization_endpoint":"https://as.example/a","token_endpoint":"https://as.example/t","registration_endpoint":"ftp://as.example/r"}"#,
                "registration_endpoint",
            ),
            (
                r#"{"issuer":"https://as.example","authorization_endpoint":"https://as.example/a","token_endpoint":"https://as.example/t","revocation_endpoint":"https://[bad"}"#,
                "revocation_endpoint",
            ),
        ] {
            match AuthorizationServerMetadata::parse(
                &response(200, body),
                &url("https://as.example"),
            ) {
                Err(Error::Discovery { reason }) => assert!(reason.contains(field), "{reason}"),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn pkce_requirement() {
        let m = AuthorizationServerMetadata::parse(
            &response(
                200,
                &doc(
                    "https://as.example",
                    r#","code_challenge_methods_supported":["plain"]"#,
                ),
            ),
            &url("https://as.example"),
        )
        .unwrap();
        assert!(matches!(
            m.require_pkce_s256(),
            Err(Error::Discovery { .. })
        ));
    }

    #[test]
    fn not_found_is_distinguished_from_failure() {
        let issuer = url("https://as.example");
        let parse =
            |status, body| AuthorizationServerMetadata::parse(&response(status, body), &issuer);
        assert!(is_not_found(
            &parse(404, "<html>Not Found</html>").unwrap_err()
        ));
        assert!(is_not_found(
            &parse(404, r#"{"error":"not_found"}"#).unwrap_err()
        ));
        assert!(is_not_found(&parse(410, "").unwrap_err()));
        assert!(!is_not_found(&parse(500, "oops").unwrap_err()));
        assert!(!is_not_found(&parse(200, "<html>").unwrap_err()));
        assert!(!is_not_found(
            &parse(200, &doc("https://evil.example", "")).unwrap_err()
        ));
    }

    #[test]
    fn wrong_types_are_invalid_responses() {
        let issuer = url("https://as.example");
        for extra in [
            r#","authorization_response_iss_parameter_supported":"yes""#,
            r#","scopes_supported":[1]"#,
            r#","code_challenge_methods_supported":{}"#,
        ] {
            assert!(matches!(
                AuthorizationServerMetadata::parse(
                    &response(200, &doc("https://as.example", extra)),
                    &issuer
                ),
                Err(Error::InvalidResponse { .. })
            ));
        }
    }

    #[test]
    fn serde_round_trip() {
        let m = AuthorizationServerMetadata::parse(
            &response(200, &doc("https://as.example", r#","x":1"#)),
            &url("https://as.example"),
        )
        .unwrap();
        let json = serde_json::to_string(&m).unwrap();
        let back: AuthorizationServerMetadata = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
    }
}
