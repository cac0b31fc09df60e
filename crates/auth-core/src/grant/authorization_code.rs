//! The authorization code grant with PKCE (RFC 6749 §4.1, RFC 7636), for a user who logs
//! in through a browser.
//!
//! 1. [`AuthorizationRequest::build`] gives the URL to open in the browser and a
//!    [`PendingAuthorization`] to keep in memory until the browser comes back;
//! 2. the redirect is parsed into a [`Callback`] and
//!    [`PendingAuthorization::validate`] checks `state` and `iss` and extracts the code;
//! 3. [`PendingAuthorization::exchange_request`] builds the token request, whose answer
//!    [`crate::token::parse_token_response`] reads.
//!
//! ```
//! use std::time::SystemTime;
//! use auth_core::grant::authorization_code::AuthorizationRequest;
//! use auth_core::callback::Callback;
//! use auth_core::{ClientAuth, token};
//! use url::Url;
//!
//! let (url, pending) = AuthorizationRequest::new(
//!     Url::parse("https://api.attendium.com/oauth2/authorize")?,
//!     "my-client-id",
//!     Url::parse("http://127.0.0.1:8400/callback")?,
//! )
//! .build()?;
//! assert_eq!(url.query_pairs().find(|(k, _)| k == "code_challenge_method").unwrap().1, "S256");
//!
//! // ... the browser comes back to the redirect URI with the same state:
//! let state = url.query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
//! let back = Url::parse(&format!("http://127.0.0.1:8400/callback?code=c0de&state={state}"))?;
//! let code = pending.validate(&Callback::from_url(&back)?)?;
//!
//! let client = ClientAuth::public("my-client-id");
//! let token_endpoint = Url::parse("https://api.attendium.com/oauth2/token")?;
//! let request = pending.exchange_request(&token_endpoint, &client, &code)?;
//! // Send `request` once (it is marked never to be retried), then:
//! let response = http::Response::new(bytes::Bytes::from_static(
//!     br#"{"access_token":"at","refresh_token":"rt","expires_in":3600}"#,
//! ));
//! let token = token::parse_token_response(&response, SystemTime::now(), Default::default())?;
//! assert!(token.refresh_token.is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use url::Url;

use crate::Error;
use crate::callback::Callback;
use crate::client_auth::{ClientAuth, form_post};
use crate::discovery::AuthorizationServerMetadata;
use crate::oauth_error::OAuthError;
use crate::pkce;
use crate::secret::{AuthorizationCode, ClientId, CsrfState, PkceCodeVerifier, constant_time_eq};
use crate::secure_url::{display_url, ensure_secure, is_loopback};
use crate::transport::{HttpRequest, Idempotency};

/// Parameters this builder sets itself; an extra parameter may not repeat them (RFC 6749
/// §3.1 forbids a parameter twice).
const RESERVED: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
];

/// How to treat the `iss` parameter of the authorization response (RFC 9207).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum IssParameter {
    /// Check `iss` when the response has one; accept a response without it (for servers
    /// that do not implement RFC 9207).
    #[default]
    IfPresent,
    /// Reject a response without `iss`: the server advertised
    /// `authorization_response_iss_parameter_supported` (RFC 9207 §2.4).
    Required,
}

/// A builder for the authorization request URL (RFC 6749 §4.1.1 with PKCE).
///
/// Always uses `response_type=code`, a fresh `state` and an `S256` code challenge.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    authorization_endpoint: Url,
    client_id: ClientId,
    redirect_uri: Url,
    scopes: Vec<String>,
    extra: Vec<(String, String)>,
    issuer: Option<(String, IssParameter)>,
}

impl AuthorizationRequest {
    /// A request to `authorization_endpoint` for `client_id`, coming back to
    /// `redirect_uri`. The redirect URI is sent exactly as given and must match the
    /// registered one exactly on many servers (see RFC 8252 §7.3 for loopback ports).
    pub fn new(
        authorization_endpoint: Url,
        client_id: impl Into<ClientId>,
        redirect_uri: Url,
    ) -> Self {
        Self {
            authorization_endpoint,
            client_id: client_id.into(),
            redirect_uri,
            scopes: Vec::new(),
            extra: Vec::new(),
            issuer: None,
        }
    }

    /// A request configured from discovered metadata: its authorization endpoint, its
    /// issuer as the expected `iss`, and `iss` required when the server advertises
    /// `authorization_response_iss_parameter_supported`.
    pub fn from_metadata(
        metadata: &AuthorizationServerMetadata,
        client_id: impl Into<ClientId>,
        redirect_uri: Url,
    ) -> Self {
        let iss = if metadata.authorization_response_iss_parameter_supported {
            IssParameter::Required
        } else {
            IssParameter::IfPresent
        };
        Self::new(
            metadata.authorization_endpoint.clone(),
            client_id,
            redirect_uri,
        )
        .expected_issuer(metadata.issuer.clone(), iss)
    }

    /// Adds one scope.
    #[must_use]
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scopes.push(scope.into());
        self
    }

    /// Adds several scopes.
    #[must_use]
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes.extend(scopes.into_iter().map(Into::into));
        self
    }

    /// Adds another parameter (for example `prompt=consent` or `login_hint`). A
    /// parameter this builder sets itself, or one given twice, makes
    /// [`build`](Self::build) fail.
    #[must_use]
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    /// Sets the issuer the authorization response must come from (RFC 9207): its `iss`
    /// parameter is compared with `issuer` as strings. Without an expected issuer, `iss`
    /// is not checked.
    #[must_use]
    pub fn expected_issuer(mut self, issuer: impl Into<String>, iss: IssParameter) -> Self {
        self.issuer = Some((issuer.into(), iss));
        self
    }

    /// Builds the URL to open in the browser, with a fresh verifier and state from the
    /// OS CSPRNG, and what is needed to check the answer.
    ///
    /// The URL carries the `state`: open it, do not log it.
    ///
    /// Fails with [`Error::InsecureUrl`] if the authorization endpoint is not `https`
    /// (or loopback), and [`Error::InvalidConfig`] if the redirect URI is plain `http`
    /// to a remote host or has a fragment (RFC 6749 §3.1.2), a scope holds a space or a
    /// character RFC 6749 §3.3 forbids, or a parameter is given twice.
    pub fn build(self) -> Result<(Url, PendingAuthorization), Error> {
        let verifier = pkce::new_verifier()?;
        let state = pkce::new_state()?;
        self.build_with(verifier, state)
    }

    /// [`build`](Self::build) with a given verifier and state, for callers that make
    /// their own (and for reproducible tests).
    pub fn build_with(
        self,
        verifier: PkceCodeVerifier,
        state: CsrfState,
    ) -> Result<(Url, PendingAuthorization), Error> {
        ensure_secure(&self.authorization_endpoint)?;
        if self.authorization_endpoint.fragment().is_some() {
            return Err(Error::invalid_config(
                "the authorization endpoint must not have a fragment (RFC 6749 §3.1)",
            ));
        }
        check_redirect_uri(&self.redirect_uri)?;
        // The verifier may have come from a caller: check it as RFC 7636 §4.1 requires.
        pkce::verifier_from(verifier.secret())?;
        if state.secret().is_empty() {
            return Err(Error::invalid_config("the state must not be empty"));
        }
        for scope in &self.scopes {
            check_scope_token(scope)?;
        }
        let mut names: Vec<String> = self
            .authorization_endpoint
            .query_pairs()
            .map(|(name, _)| name.into_owned())
            .collect();
        if let Some(name) = names.iter().find(|n| RESERVED.contains(&n.as_str())) {
            return Err(Error::invalid_config(format!(
                "the authorization endpoint already has a `{name}` parameter"
            )));
        }
        for (name, _) in &self.extra {
            if RESERVED.contains(&name.as_str()) || names.contains(name) {
                return Err(Error::invalid_config(format!(
                    "the parameter `{name}` would be sent twice (RFC 6749 §3.1)"
                )));
            }
            names.push(name.clone());
        }

        let mut url = self.authorization_endpoint;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", self.client_id.as_str())
                .append_pair("redirect_uri", self.redirect_uri.as_str());
            if !self.scopes.is_empty() {
                query.append_pair("scope", &self.scopes.join(" "));
            }
            query
                .append_pair("state", state.secret())
                .append_pair("code_challenge", &pkce::challenge_s256(&verifier))
                .append_pair("code_challenge_method", pkce::CHALLENGE_METHOD_S256);
            for (name, value) in &self.extra {
                query.append_pair(name, value);
            }
        }
        Ok((
            url,
            PendingAuthorization {
                state,
                verifier,
                redirect_uri: self.redirect_uri,
                client_id: self.client_id,
                issuer: self.issuer,
            },
        ))
    }
}

/// Redirect URIs: `https`, plain `http` only to loopback (RFC 8252 §7.3), or a
/// private-use scheme (RFC 8252 §7.1); never a fragment (RFC 6749 §3.1.2).
fn check_redirect_uri(uri: &Url) -> Result<(), Error> {
    if uri.fragment().is_some() {
        return Err(Error::invalid_config(
            "the redirect URI must not have a fragment (RFC 6749 §3.1.2)",
        ));
    }
    if uri.cannot_be_a_base() {
        return Err(Error::invalid_config(format!(
            "the redirect URI with scheme `{}` cannot receive a redirect",
            uri.scheme()
        )));
    }
    if uri.scheme() == "http" && !is_loopback(uri) {
        return Err(Error::invalid_config(format!(
            "the redirect URI {} must use https (plain http is allowed only to loopback addresses)",
            display_url(uri)
        )));
    }
    Ok(())
}

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
fn check_scope_token(scope: &str) -> Result<(), Error> {
    let valid = !scope.is_empty()
        && scope
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
    if valid {
        Ok(())
    } else {
        Err(Error::invalid_config(format!(
            "`{}` is not a valid scope (RFC 6749 §3.3: no spaces, quotes or backslashes)",
            crate::response::snippet(scope.as_bytes())
        )))
    }
}

/// What must be remembered between sending the user to the authorization endpoint and
/// their return: the `state`, the PKCE verifier, the redirect URI and the expected
/// issuer.
///
/// Keep it in memory for the few minutes a login takes; it is deliberately neither
/// `Clone` nor serialisable. `Debug` shows the state and verifier redacted.
#[derive(Debug)]
pub struct PendingAuthorization {
    state: CsrfState,
    verifier: PkceCodeVerifier,
    redirect_uri: Url,
    client_id: ClientId,
    issuer: Option<(String, IssParameter)>,
}

impl PendingAuthorization {
    /// Whether `callback` carries this request's `state` (compared in constant time).
    /// A loopback listener uses it to tell the genuine redirect from stray or forged
    /// requests, which it ignores (RFC 6749 §10.12); [`validate`](Self::validate) still
    /// checks everything.
    pub fn state_matches(&self, callback: &Callback) -> bool {
        callback
            .state
            .as_ref()
            .is_some_and(|state| constant_time_eq(state.secret(), self.state.secret()))
    }

    /// Checks an authorization response and returns its code.
    ///
    /// In this order:
    /// 1. `iss` (RFC 9207 §2.4), when an issuer is expected: it must equal it exactly; a
    ///    missing `iss` is accepted only with [`IssParameter::IfPresent`];
    /// 2. `state`, compared in constant time: missing or different is
    ///    [`Error::CallbackRejected`], even for an error response, because an unchecked
    ///    error description is attacker-controlled text;
    /// 3. `error`: [`Error::OAuth`] with the code and description (`access_denied` when
    ///    the user declined);
    /// 4. `code`: missing is [`Error::CallbackRejected`].
    pub fn validate(&self, callback: &Callback) -> Result<AuthorizationCode, Error> {
        if let Some((issuer, requirement)) = &self.issuer {
            match &callback.iss {
                Some(iss) if iss == issuer => {}
                Some(_) => {
                    return Err(Error::callback(format!(
                        "the response names another issuer than `{issuer}` (RFC 9207): it may come from a mix-up attack"
                    )));
                }
                None if *requirement == IssParameter::Required => {
                    return Err(Error::callback(
                        "the response has no `iss` although the server promises one (RFC 9207)",
                    ));
                }
                None => {}
            }
        }
        match &callback.state {
            None => {
                return Err(Error::callback("the response has no `state`"));
            }
            Some(state) if !constant_time_eq(state.secret(), self.state.secret()) => {
                return Err(Error::callback(
                    "the `state` does not match the request (a stale or forged response)",
                ));
            }
            Some(_) => {}
        }
        if let Some(code) = &callback.error {
            let mut err = OAuthError::new(code.clone());
            err.description = callback.error_description.clone();
            err.uri = callback.error_uri.clone();
            return Err(Error::OAuth(err));
        }
        callback
            .code
            .clone()
            .ok_or_else(|| Error::callback("the response has neither `code` nor `error`"))
    }

    /// Builds the code exchange (RFC 6749 §4.1.3, RFC 7636 §4.5): `grant_type`,
    /// `code`, `redirect_uri` and `code_verifier`, with the client authenticated as
    /// `client` (a public client sends its `client_id`).
    ///
    /// The request is marked [`Idempotency::Never`]: a code is single-use, and a server
    /// that sees it twice may revoke every token issued for it (RFC 6749 §4.1.2).
    /// `client` must have the client id the authorization request was made for.
    pub fn exchange_request(
        &self,
        token_endpoint: &Url,
        client: &ClientAuth,
        code: &AuthorizationCode,
    ) -> Result<HttpRequest, Error> {
        if client.client_id() != &self.client_id {
            return Err(Error::invalid_config(format!(
                "the code was issued to client `{}`, not `{}`",
                self.client_id,
                client.client_id()
            )));
        }
        form_post(
            token_endpoint,
            Some(client),
            &[
                ("grant_type", "authorization_code"),
                ("code", code.secret()),
                ("redirect_uri", self.redirect_uri.as_str()),
                ("code_verifier", self.verifier.secret()),
            ],
            Idempotency::Never,
        )
    }

    /// The `state` sent, for callers that keep several logins apart by it.
    pub fn state(&self) -> &CsrfState {
        &self.state
    }

    /// The redirect URI sent, which the browser comes back to.
    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// The client the request was made for.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The issuer `iss` is checked against, if any.
    pub fn expected_issuer(&self) -> Option<&str> {
        self.issuer.as_ref().map(|(issuer, _)| issuer.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth_error::ErrorCode;
    use crate::transport::RequestOptions;
    use crate::{BasicEncoding, ClientSecret};

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const STATE: &str = "STATE-af0ifjsldkj";

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn request() -> AuthorizationRequest {
        AuthorizationRequest::new(
            url("https://api.attendium.com/oauth2/authorize"),
            "client-1",
            url("http://127.0.0.1:8400/callback"),
        )
    }

    fn pending(issuer: Option<(&str, IssParameter)>) -> PendingAuthorization {
        let mut req = request();
        if let Some((issuer, iss)) = issuer {
            req = req.expected_issuer(issuer, iss);
        }
        req.build_with(PkceCodeVerifier::new(VERIFIER), CsrfState::new(STATE))
            .unwrap()
            .1
    }

    fn callback(query: &str) -> Callback {
        Callback::from_query(query).unwrap()
    }

    #[test]
    fn builds_the_attendium_authorization_url() {
        let (u, p) = request()
            .scopes(["read", "write"])
            .param("prompt", "consent")
            .build_with(PkceCodeVerifier::new(VERIFIER), CsrfState::new(STATE))
            .unwrap();
        assert_eq!(
            u.as_str(),
            "https://api.attendium.com/oauth2/authorize?response_type=code&client_id=client-1\
             &redirect_uri=http%3A%2F%2F127.0.0.1%3A8400%2Fcallback&scope=read+write\
             &state=STATE-af0ifjsldkj&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\
             &code_challenge_method=S256&prompt=consent"
        );
        assert_eq!(p.redirect_uri().as_str(), "http://127.0.0.1:8400/callback");
        assert_eq!(p.client_id().as_str(), "client-1");
        assert_eq!(p.state(), &CsrfState::new(STATE));
    }

    #[test]
    fn build_makes_fresh_secrets_each_time() {
        let (a, pa) = request().build().unwrap();
        let (b, pb) = request().build().unwrap();
        assert_ne!(a, b);
        assert_ne!(pa.state(), pb.state());
        let challenge = a
            .query_pairs()
            .find(|(k, _)| k == "code_challenge")
            .unwrap()
            .1;
        assert_eq!(challenge, pkce::challenge_s256(&pa.verifier));
    }

    #[test]
    fn endpoint_query_is_kept() {
        let (u, _) = AuthorizationRequest::new(
            url("https://as.example/authorize?tenant=t1"),
            "c",
            url("https://app.example/cb"),
        )
        .build()
        .unwrap();
        assert!(
            u.as_str()
                .starts_with("https://as.example/authorize?tenant=t1&response_type=code")
        );
    }

    #[test]
    fn insecure_endpoints_and_bad_settings_are_refused_before_a_url_exists() {
        let build = |r: AuthorizationRequest| r.build().map(|_| ());
        assert!(matches!(
            build(AuthorizationRequest::new(
                url("http://as.example/authorize"),
                "c",
                url("https://app.example/cb")
            )),
            Err(Error::InsecureUrl { .. })
        ));
        for (redirect, ok) in [
            ("http://app.example/cb", false),
            ("https://app.example/cb#frag", false),
            ("data:text/html,hi", false),
            ("http://localhost:1234/cb", true),
            ("http://[::1]:1234/cb", true),
            ("com.example.app:/oauth2redirect", true),
        ] {
            let result = build(AuthorizationRequest::new(
                url("https://as.example/authorize"),
                "c",
                url(redirect),
            ));
            assert_eq!(result.is_ok(), ok, "{redirect}: {result:?}");
        }
        for bad in [
            request().scope("two words"),
            request().scope(""),
            request().scope("quo\"te"),
            request().param("state", "mine"),
            request().param("a", "1").param("a", "2"),
            AuthorizationRequest::new(
                url("https://as.example/authorize?client_id=x"),
                "c",
                url("https://app.example/cb"),
            ),
        ] {
            assert!(matches!(build(bad), Err(Error::InvalidConfig { .. })));
        }
        assert!(
            request()
                .build_with(PkceCodeVerifier::new("short"), CsrfState::new(STATE))
                .is_err()
        );
        assert!(
            request()
                .build_with(PkceCodeVerifier::new(VERIFIER), CsrfState::new(""))
                .is_err()
        );
    }

    #[test]
    fn validate_accepts_matching_state() {
        let p = pending(None);
        let code = p
            .validate(&callback(&format!("code=the-code&state={STATE}")))
            .unwrap();
        assert_eq!(code.secret(), "the-code");
    }

    #[test]
    fn validate_rejects_wrong_or_missing_state() {
        let p = pending(None);
        for query in [
            "code=c".to_owned(),
            "code=c&state=".to_owned(),
            "code=c&state=other".to_owned(),
            format!("code=c&state={STATE}x"),
            // An error response must carry the state too.
            "error=access_denied".to_owned(),
            "error=access_denied&state=wrong".to_owned(),
        ] {
            assert!(
                matches!(
                    p.validate(&callback(&query)),
                    Err(Error::CallbackRejected { .. })
                ),
                "{query}"
            );
        }
    }

    #[test]
    fn validate_checks_iss_per_rfc9207() {
        let issuer = "https://as.example/t1";
        let enc = "https%3A%2F%2Fas.example%2Ft1";
        let cases = [
            // (expected issuer, callback iss, accepted)
            (None, Some("https%3A%2F%2Fanything"), true),
            (Some((issuer, IssParameter::IfPresent)), None, true),
            (Some((issuer, IssParameter::IfPresent)), Some(enc), true),
            (
                Some((issuer, IssParameter::IfPresent)),
                Some("https%3A%2F%2Fevil.example"),
                false,
            ),
            (
                Some((issuer, IssParameter::IfPresent)),
                Some("https%3A%2F%2Fas.example%2Ft1%2F"),
                false,
            ),
            (Some((issuer, IssParameter::Required)), None, false),
            (Some((issuer, IssParameter::Required)), Some(enc), true),
        ];
        for (expected, iss, accepted) in cases {
            let p = pending(expected);
            let mut query = format!("code=c&state={STATE}");
            if let Some(iss) = iss {
                query.push_str(&format!("&iss={iss}"));
            }
            match (accepted, p.validate(&callback(&query))) {
                (true, Ok(_)) | (false, Err(Error::CallbackRejected { .. })) => {}
                (_, other) => panic!("{expected:?} {iss:?}: {other:?}"),
            }
        }
        // A mismatched iss is rejected before the error is believed.
        let p = pending(Some((issuer, IssParameter::IfPresent)));
        assert!(matches!(
            p.validate(&callback(&format!(
                "error=access_denied&state={STATE}&iss=https%3A%2F%2Fevil"
            ))),
            Err(Error::CallbackRejected { .. })
        ));
    }

    #[test]
    fn state_matches_only_this_requests_state() {
        let p = pending(Some(("https://api.attendium.com", IssParameter::Required)));
        // (query, matches): the state alone decides, whatever else the callback holds.
        let cases = [
            (format!("code=c&state={STATE}"), true),
            (format!("error=access_denied&state={STATE}"), true),
            (
                format!("code=c&state={STATE}&iss=https%3A%2F%2Fevil.example"),
                true,
            ),
            ("code=c&state=forged".to_owned(), false),
            (format!("code=c&state={STATE}x"), false),
            ("code=c".to_owned(), false),
            (String::new(), false),
        ];
        for (query, matches) in cases {
            assert_eq!(p.state_matches(&callback(&query)), matches, "{query}");
        }
    }

    #[test]
    fn validate_turns_error_responses_into_oauth_errors() {
        let p = pending(None);
        let err = p
            .validate(&callback(&format!(
                "error=access_denied&error_description=User+declined&state={STATE}"
            )))
            .unwrap_err();
        match &err {
            Error::OAuth(e) => {
                assert_eq!(e.code, ErrorCode::AccessDenied);
                assert_eq!(e.description.as_deref(), Some("User declined"));
                assert_eq!(e.status, None);
            }
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("access_denied"));
        assert!(matches!(
            p.validate(&callback(&format!("state={STATE}"))),
            Err(Error::CallbackRejected { .. })
        ));
    }

    #[test]
    fn from_metadata_requires_iss_when_advertised() {
        let body = r#"{"issuer":"https://as.example","authorization_endpoint":"https://as.example/a",
            "token_endpoint":"https://as.example/t","authorization_response_iss_parameter_supported":true}"#;
        let response = http::Response::new(bytes::Bytes::from_static(body.as_bytes()));
        let metadata =
            AuthorizationServerMetadata::parse(&response, &url("https://as.example")).unwrap();
        let (u, p) =
            AuthorizationRequest::from_metadata(&metadata, "c", url("http://127.0.0.1:9/cb"))
                .build_with(PkceCodeVerifier::new(VERIFIER), CsrfState::new(STATE))
                .unwrap();
        assert!(u.as_str().starts_with("https://as.example/a?"));
        assert_eq!(p.expected_issuer(), Some("https://as.example"));
        assert!(
            p.validate(&callback(&format!("code=c&state={STATE}")))
                .is_err()
        );
        assert!(
            p.validate(&callback(&format!(
                "code=c&state={STATE}&iss=https%3A%2F%2Fas.example"
            )))
            .is_ok()
        );
    }

    #[test]
    fn exchange_request_for_a_public_client() {
        let p = pending(None);
        let req = p
            .exchange_request(
                &url("https://api.attendium.com/oauth2/token"),
                &ClientAuth::public("client-1"),
                &AuthorizationCode::new("the code"),
            )
            .unwrap();
        assert_eq!(req.method(), http::Method::POST);
        assert_eq!(
            req.body(),
            &format!(
                "grant_type=authorization_code&code=the+code\
                 &redirect_uri=http%3A%2F%2F127.0.0.1%3A8400%2Fcallback\
                 &code_verifier={VERIFIER}&client_id=client-1"
            )
        );
        assert_eq!(RequestOptions::of(&req).idempotency, Idempotency::Never);
        assert!(req.headers().get(http::header::AUTHORIZATION).is_none());
    }

    #[test]
    fn exchange_request_refuses_another_client_or_an_insecure_endpoint() {
        let p = pending(None);
        let code = AuthorizationCode::new("c");
        assert!(matches!(
            p.exchange_request(
                &url("https://as.example/token"),
                &ClientAuth::public("someone-else"),
                &code
            ),
            Err(Error::InvalidConfig { .. })
        ));
        assert!(matches!(
            p.exchange_request(
                &url("http://as.example/token"),
                &ClientAuth::basic("client-1", ClientSecret::new("s"), BasicEncoding::Raw),
                &code
            ),
            Err(Error::InsecureUrl { .. })
        ));
    }

    #[test]
    fn debug_and_errors_leak_no_state_verifier_or_code() {
        let p = pending(Some(("https://as.example", IssParameter::Required)));
        let debug = format!("{p:?} {p:#?}");
        assert!(
            !debug.contains(STATE) && !debug.contains(VERIFIER),
            "{debug}"
        );
        let errors = [
            p.validate(&callback(
                "code=SECRETCODE&state=SECRETSTATE&iss=https%3A%2F%2Fas.example",
            ))
            .unwrap_err(),
            p.validate(&callback(
                "code=SECRETCODE&state=SECRETSTATE&iss=https%3A%2F%2Fevil",
            ))
            .unwrap_err(),
            p.validate(&callback("code=SECRETCODE&state=SECRETSTATE"))
                .unwrap_err(),
        ];
        for err in errors {
            let text = format!("{err} {err:?}");
            assert!(!text.contains("SECRET") && !text.contains(STATE), "{text}");
        }
        let req = p
            .exchange_request(
                &url("https://as.example/token"),
                &ClientAuth::post("client-1", ClientSecret::new("SECRETSECRET")),
                &AuthorizationCode::new("SECRETCODE"),
            )
            .unwrap();
        assert!(!format!("{:?}", req.headers()).contains("SECRET"));
    }
}
