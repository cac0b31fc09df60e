//! The server's memory: clients, codes, grants and tokens, with the rules that tie them
//! together (single-use codes, rotation, family revocation). No HTTP here.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::config::{Approval, AttendiumConfig, Quirks, RefreshRotation};
use super::faults::{ArmedFaults, CallbackTampering};
use super::random::{RandomUnavailable, TokenSource};
use super::{Counters, PendingId};

/// A registered public client.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    pub(crate) client_id: String,
    pub(crate) client_name: Option<String>,
    pub(crate) redirect_uris: Vec<String>,
    pub(crate) grant_types: Vec<String>,
}

/// One authorization: the code and every token issued from it form a family that is
/// revoked as a whole.
struct Grant {
    client_id: String,
    user_id: String,
    scope: Option<String>,
    revoked: bool,
}

struct CodeRecord {
    grant_id: u64,
    client_id: String,
    redirect_uri: String,
    code_challenge: String,
    expires_at: SystemTime,
    used: bool,
}

struct AccessRecord {
    grant_id: u64,
    expires_at: SystemTime,
    revoked: bool,
}

struct RefreshRecord {
    grant_id: u64,
    expires_at: Option<SystemTime>,
    /// Spent by a rotation: presenting it again is a reuse.
    spent: bool,
}

/// A validated authorization request waiting for the user's answer.
pub(crate) struct AuthorizationRequest {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) code_challenge: String,
    pub(crate) scope: Option<String>,
}

/// What a user answered to an authorization request.
#[derive(Debug)]
pub(crate) enum Decision {
    Approve { user_id: String },
    Deny,
}

pub(crate) struct PendingEntry {
    pub(crate) id: PendingId,
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) scope: Option<String>,
    pub(crate) answer: tokio::sync::oneshot::Sender<Decision>,
}

/// Tokens for a token response.
pub(crate) struct TokenSet {
    pub(crate) access_token: String,
    pub(crate) refresh_token: Option<String>,
    pub(crate) expires_in: Duration,
    pub(crate) scope: Option<String>,
}

/// A refused token or revocation request: an RFC 6749 §5.2 error code and a description
/// that never contains a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GrantError {
    pub(crate) code: GrantErrorCode,
    pub(crate) description: &'static str,
}

/// The RFC 6749 §5.2 error codes the grants use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GrantErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    InvalidScope,
    UnauthorizedClient,
    ServerError,
}

impl GrantErrorCode {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::InvalidScope => "invalid_scope",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::ServerError => "server_error",
        }
    }
}

fn refuse(code: GrantErrorCode, description: &'static str) -> GrantError {
    GrantError { code, description }
}

impl From<RandomUnavailable> for GrantError {
    fn from(_: RandomUnavailable) -> Self {
        refuse(GrantErrorCode::ServerError, "no randomness available")
    }
}

/// Everything behind the server's one lock. Never held across an `.await`.
pub(crate) struct State {
    pub(crate) quirks: Quirks,
    pub(crate) approval: Approval,
    pub(crate) user_id: String,
    access_token_ttl: Duration,
    refresh_token_ttl: Option<Duration>,
    code_ttl: Duration,
    tokens: TokenSource,
    pub(crate) clients: BTreeMap<String, Client>,
    codes: HashMap<String, CodeRecord>,
    grants: HashMap<u64, Grant>,
    access: HashMap<String, AccessRecord>,
    refresh: HashMap<String, RefreshRecord>,
    next_grant_id: u64,
    pub(crate) pending: Vec<PendingEntry>,
    next_pending_id: u64,
    pub(crate) counters: Counters,
    pub(crate) faults: ArmedFaults,
    pub(crate) tampering: CallbackTampering,
    /// Replaces `issuer` in the metadata when set.
    pub(crate) metadata_issuer: Option<String>,
}

impl State {
    pub(crate) fn new(config: &AttendiumConfig) -> Self {
        Self {
            quirks: config.quirks,
            approval: config.approval.clone(),
            user_id: config.user_id.clone(),
            access_token_ttl: config.access_token_ttl,
            refresh_token_ttl: config.refresh_token_ttl,
            code_ttl: config.code_ttl,
            tokens: TokenSource::new(config.randomness),
            clients: BTreeMap::new(),
            codes: HashMap::new(),
            grants: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            next_grant_id: 1,
            pending: Vec::new(),
            next_pending_id: 1,
            counters: Counters::default(),
            faults: ArmedFaults::default(),
            tampering: CallbackTampering::None,
            metadata_issuer: None,
        }
    }

    /// Registers a public client and returns its id.
    pub(crate) fn register(
        &mut self,
        client_name: Option<String>,
        redirect_uris: Vec<String>,
        grant_types: Vec<String>,
    ) -> Result<Client, RandomUnavailable> {
        let client_id = self.tokens.token()?;
        let client = Client {
            client_id: client_id.clone(),
            client_name,
            redirect_uris,
            grant_types,
        };
        self.clients.insert(client_id, client.clone());
        Ok(client)
    }

    pub(crate) fn next_pending_id(&mut self) -> PendingId {
        let id = PendingId(self.next_pending_id);
        self.next_pending_id += 1;
        id
    }

    /// Issues a code for an approved request, opening a new grant.
    pub(crate) fn issue_code(
        &mut self,
        request: &AuthorizationRequest,
        user_id: String,
        now: SystemTime,
    ) -> Result<String, RandomUnavailable> {
        let code = self.tokens.token()?;
        let grant_id = self.next_grant_id;
        self.next_grant_id += 1;
        self.grants.insert(
            grant_id,
            Grant {
                client_id: request.client_id.clone(),
                user_id,
                scope: request.scope.clone(),
                revoked: false,
            },
        );
        self.codes.insert(
            code.clone(),
            CodeRecord {
                grant_id,
                client_id: request.client_id.clone(),
                redirect_uri: request.redirect_uri.clone(),
                code_challenge: request.code_challenge.clone(),
                expires_at: now + self.code_ttl,
                used: false,
            },
        );
        self.counters.authorizations += 1;
        Ok(code)
    }

    fn known_client(&self, client_id: &str) -> Result<&Client, GrantError> {
        self.clients
            .get(client_id)
            .ok_or_else(|| refuse(GrantErrorCode::InvalidClient, "unknown client"))
    }

    /// The `authorization_code` grant (RFC 6749 §4.1.3, RFC 7636 §4.6).
    pub(crate) fn exchange_code(
        &mut self,
        client_id: &str,
        code: &str,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
        now: SystemTime,
    ) -> Result<TokenSet, GrantError> {
        let client = self.known_client(client_id)?;
        // RFC 7591 §2: refresh tokens only for clients registered for that grant.
        let with_refresh_token = client.grant_types.iter().any(|g| g == "refresh_token");
        if !client.grant_types.iter().any(|g| g == "authorization_code") {
            return Err(refuse(
                GrantErrorCode::UnauthorizedClient,
                "the client is not registered for the authorization_code grant",
            ));
        }
        let record = self
            .codes
            .get_mut(code)
            .ok_or_else(|| refuse(GrantErrorCode::InvalidGrant, "unknown authorization code"))?;
        if record.client_id != client_id {
            return Err(refuse(
                GrantErrorCode::InvalidGrant,
                "the authorization code was issued to another client",
            ));
        }
        let grant_id = record.grant_id;
        if record.used {
            // RFC 6749 §4.1.2: a code used twice is refused, and the tokens issued from it
            // should be revoked (RFC 9700 §4.5.3.1).
            self.counters.code_reuses += 1;
            self.revoke_grant(grant_id);
            return Err(refuse(
                GrantErrorCode::InvalidGrant,
                "the authorization code was already used",
            ));
        }
        // Any attempt spends the code, so that a stolen code cannot be tried repeatedly.
        record.used = true;
        if now >= record.expires_at {
            return Err(refuse(
                GrantErrorCode::InvalidGrant,
                "the authorization code has expired",
            ));
        }
        // RFC 6749 §4.1.3: redirect_uri is required when the authorization request had one,
        // and it always has here.
        if redirect_uri != Some(record.redirect_uri.as_str()) {
            return Err(refuse(
                GrantErrorCode::InvalidGrant,
                "redirect_uri does not match the authorization request",
            ));
        }
        let verifier = code_verifier.ok_or_else(|| {
            refuse(
                GrantErrorCode::InvalidRequest,
                "missing parameter `code_verifier`",
            )
        })?;
        if !verifier_is_well_formed(verifier) {
            return Err(refuse(
                GrantErrorCode::InvalidRequest,
                "code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~",
            ));
        }
        if !challenge_matches(verifier, &record.code_challenge) {
            return Err(refuse(
                GrantErrorCode::InvalidGrant,
                "PKCE verification failed: code_verifier does not match code_challenge",
            ));
        }
        let scope = self.grants.get(&grant_id).and_then(|g| g.scope.clone());
        self.issue_tokens(grant_id, scope, with_refresh_token, now)
    }

    /// The `refresh_token` grant (RFC 6749 §6) with rotation and reuse detection
    /// (RFC 9700 §4.14.2).
    pub(crate) fn refresh(
        &mut self,
        client_id: &str,
        refresh_token: &str,
        scope: Option<&str>,
        now: SystemTime,
    ) -> Result<TokenSet, GrantError> {
        let client = self.known_client(client_id)?;
        if !client.grant_types.iter().any(|g| g == "refresh_token") {
            return Err(refuse(
                GrantErrorCode::UnauthorizedClient,
                "the client is not registered for the refresh_token grant",
            ));
        }
        let record = self
            .refresh
            .get(refresh_token)
            .ok_or_else(|| refuse(GrantErrorCode::InvalidGrant, "unknown refresh token"))?;
        let grant_id = record.grant_id;
        let (spent, expires_at) = (record.spent, record.expires_at);
        let grant = self
            .grants
            .get(&grant_id)
            .ok_or_else(|| refuse(GrantErrorCode::InvalidGrant, "unknown refresh token"))?;
        if grant.client_id != client_id {
            return Err(refuse(
                GrantErrorCode::InvalidGrant,
                "the refresh token was issued to another client",
            ));
        }
        if spent {
            self.counters.refresh_reuses += 1;
            self.revoke_grant(grant_id);
            return Err(refuse(
                GrantErrorCode::InvalidGrant,
                "the refresh token was already used; the grant is revoked",
            ));
        }
        if grant.revoked {
            return Err(refuse(
                GrantErrorCode::InvalidGrant,
                "the grant was revoked",
            ));
        }
        if expires_at.is_some_and(|at| now >= at) {
            return Err(refuse(
                GrantErrorCode::InvalidGrant,
                "the refresh token has expired",
            ));
        }
        // RFC 6749 §6: a requested scope must not exceed the original grant.
        let granted = grant.scope.clone();
        let scope = match scope {
            None => granted,
            Some(requested) => {
                let allowed: Vec<&str> =
                    granted.as_deref().unwrap_or_default().split(' ').collect();
                if requested.split(' ').any(|s| !allowed.contains(&s)) {
                    return Err(refuse(
                        GrantErrorCode::InvalidScope,
                        "the requested scope exceeds the original grant",
                    ));
                }
                Some(requested.to_owned())
            }
        };
        let rotate = self.quirks.refresh_rotation == RefreshRotation::Rotate;
        if rotate && let Some(record) = self.refresh.get_mut(refresh_token) {
            record.spent = true;
        }
        let tokens = self.issue_tokens(grant_id, scope, rotate, now)?;
        self.counters.refreshes += 1;
        Ok(tokens)
    }

    fn issue_tokens(
        &mut self,
        grant_id: u64,
        scope: Option<String>,
        with_refresh_token: bool,
        now: SystemTime,
    ) -> Result<TokenSet, GrantError> {
        let access_token = self.tokens.token()?;
        let refresh_token = if with_refresh_token {
            Some(self.tokens.token()?)
        } else {
            None
        };
        self.access.insert(
            access_token.clone(),
            AccessRecord {
                grant_id,
                expires_at: now + self.access_token_ttl,
                revoked: false,
            },
        );
        if let Some(token) = &refresh_token {
            self.refresh.insert(
                token.clone(),
                RefreshRecord {
                    grant_id,
                    expires_at: self.refresh_token_ttl.map(|ttl| now + ttl),
                    spent: false,
                },
            );
        }
        Ok(TokenSet {
            access_token,
            refresh_token,
            expires_in: self.access_token_ttl,
            scope,
        })
    }

    fn revoke_grant(&mut self, grant_id: u64) {
        if let Some(grant) = self.grants.get_mut(&grant_id) {
            grant.revoked = true;
        }
    }

    /// RFC 7009 §2.1: revokes `token` if this client holds it. An unknown token is not an
    /// error (§2.2). Revoking a refresh token ends the whole grant; revoking an access
    /// token ends only that token.
    pub(crate) fn revoke(&mut self, client_id: &str, token: &str) -> Result<(), GrantError> {
        self.known_client(client_id)?;
        let grant_id = if let Some(record) = self.refresh.get(token) {
            Some((record.grant_id, true))
        } else {
            self.access
                .get(token)
                .map(|record| (record.grant_id, false))
        };
        let Some((grant_id, is_refresh)) = grant_id else {
            return Ok(());
        };
        let owner = self.grants.get(&grant_id).map(|g| g.client_id.as_str());
        if owner != Some(client_id) {
            return Err(refuse(
                GrantErrorCode::InvalidGrant,
                "the token was issued to another client",
            ));
        }
        if is_refresh {
            self.revoke_grant(grant_id);
        } else if let Some(record) = self.access.get_mut(token) {
            record.revoked = true;
        }
        self.counters.revocations += 1;
        Ok(())
    }

    /// The user an access token speaks for, if it is valid now.
    pub(crate) fn bearer_user(&self, access_token: &str, now: SystemTime) -> Option<&str> {
        let record = self.access.get(access_token)?;
        let grant = self.grants.get(&record.grant_id)?;
        if record.revoked || grant.revoked || now >= record.expires_at {
            return None;
        }
        Some(grant.user_id.as_str())
    }

    /// Whether a refresh token would be accepted now (not spent, not revoked, not expired).
    pub(crate) fn refresh_token_active(&self, refresh_token: &str, now: SystemTime) -> bool {
        let Some(record) = self.refresh.get(refresh_token) else {
            return false;
        };
        let revoked = self.grants.get(&record.grant_id).is_none_or(|g| g.revoked);
        !record.spent && !revoked && record.expires_at.is_none_or(|at| now < at)
    }

    /// Issues an access token directly, as if a login for `user_id` had happened, so that
    /// resource tests need no browser flow. The grant belongs to a built-in client.
    pub(crate) fn issue_direct(
        &mut self,
        user_id: &str,
        now: SystemTime,
    ) -> Result<TokenSet, GrantError> {
        let grant_id = self.next_grant_id;
        self.next_grant_id += 1;
        self.grants.insert(
            grant_id,
            Grant {
                client_id: String::new(),
                user_id: user_id.to_owned(),
                scope: None,
                revoked: false,
            },
        );
        self.issue_tokens(grant_id, None, false, now)
    }

    /// Grants opened so far and how many of them are revoked.
    pub(crate) fn grant_counts(&self) -> (usize, usize) {
        let revoked = self.grants.values().filter(|g| g.revoked).count();
        (self.grants.len(), revoked)
    }
}

/// RFC 7636 §4.1: 43 to 128 characters of `A-Z a-z 0-9 - . _ ~`.
fn verifier_is_well_formed(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// RFC 7636 §4.6: `BASE64URL-ENCODE(SHA256(ASCII(code_verifier))) == code_challenge`,
/// compared in constant time.
fn challenge_matches(verifier: &str, challenge: &str) -> bool {
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    bool::from(computed.as_bytes().ct_eq(challenge.as_bytes()))
}

/// RFC 7636 §4.2: an S256 challenge is 43 base64url characters.
pub(crate) fn challenge_is_well_formed(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attendium::config::TokenRandomness;

    /// RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn state() -> (State, String, SystemTime) {
        let config = AttendiumConfig::new().randomness(TokenRandomness::Seeded(1));
        let mut state = State::new(&config);
        let client = state
            .register(
                None,
                vec!["http://127.0.0.1:1/cb".into()],
                vec!["authorization_code".into(), "refresh_token".into()],
            )
            .unwrap();
        (state, client.client_id, SystemTime::UNIX_EPOCH)
    }

    fn code(state: &mut State, client_id: &str, now: SystemTime) -> String {
        let request = AuthorizationRequest {
            client_id: client_id.to_owned(),
            redirect_uri: "http://127.0.0.1:1/cb".into(),
            code_challenge: CHALLENGE.into(),
            scope: Some("read write".into()),
        };
        state.issue_code(&request, "u1".into(), now).unwrap()
    }

    /// A code issued and exchanged as the client would: the tokens of a new grant.
    fn grant(state: &mut State, client_id: &str, now: SystemTime) -> TokenSet {
        let code = code(state, client_id, now);
        state
            .exchange_code(
                client_id,
                &code,
                Some("http://127.0.0.1:1/cb"),
                Some(VERIFIER),
                now,
            )
            .unwrap()
    }

    #[test]
    fn rfc7636_appendix_b_challenge_matches_its_verifier() {
        assert!(challenge_matches(VERIFIER, CHALLENGE));
        assert!(!challenge_matches(&VERIFIER.replace('d', "e"), CHALLENGE));
        assert!(challenge_is_well_formed(CHALLENGE));
        assert!(!challenge_is_well_formed("plain-challenge"));
    }

    #[test]
    fn verifier_shape_follows_rfc7636_section_4_1() {
        for (verifier, ok) in [
            (VERIFIER, true),
            (&"a".repeat(42)[..], false),
            (&"a".repeat(128)[..], true),
            (&"a".repeat(129)[..], false),
            (&format!("{}+", "a".repeat(43))[..], false),
        ] {
            assert_eq!(verifier_is_well_formed(verifier), ok, "{verifier}");
        }
    }

    #[test]
    fn code_is_single_use_and_reuse_revokes_its_tokens() {
        let (mut state, client, now) = state();
        let code = code(&mut state, &client, now);
        let uri = Some("http://127.0.0.1:1/cb");
        let tokens = state
            .exchange_code(&client, &code, uri, Some(VERIFIER), now)
            .unwrap();
        assert_eq!(state.bearer_user(&tokens.access_token, now), Some("u1"));
        let error = state
            .exchange_code(&client, &code, uri, Some(VERIFIER), now)
            .err()
            .unwrap();
        assert_eq!(error.code, GrantErrorCode::InvalidGrant);
        assert_eq!(state.bearer_user(&tokens.access_token, now), None);
        let refresh = tokens.refresh_token.unwrap();
        assert!(!state.refresh_token_active(&refresh, now));
    }

    #[test]
    fn code_exchange_refusals() {
        let uri = Some("http://127.0.0.1:1/cb");
        // (name, redirect_uri, code_verifier, after expiry, expected error)
        type Case<'a> = (
            &'a str,
            Option<&'a str>,
            Option<&'a str>,
            bool,
            GrantErrorCode,
        );
        let cases: [Case<'_>; 5] = [
            (
                "wrong verifier",
                uri,
                Some(&"x".repeat(43)),
                false,
                GrantErrorCode::InvalidGrant,
            ),
            (
                "no verifier",
                uri,
                None,
                false,
                GrantErrorCode::InvalidRequest,
            ),
            (
                "other redirect",
                Some("http://127.0.0.1:2/cb"),
                Some(VERIFIER),
                false,
                GrantErrorCode::InvalidGrant,
            ),
            (
                "no redirect",
                None,
                Some(VERIFIER),
                false,
                GrantErrorCode::InvalidGrant,
            ),
            (
                "expired",
                uri,
                Some(VERIFIER),
                true,
                GrantErrorCode::InvalidGrant,
            ),
        ];
        for (name, redirect, verifier, late, expected) in cases {
            let (mut state, client, now) = state();
            let code = code(&mut state, &client, now);
            let at = if late {
                now + DEFAULT_CODE_TTL_FOR_TESTS
            } else {
                now
            };
            let error = state
                .exchange_code(&client, &code, redirect, verifier, at)
                .err()
                .unwrap();
            assert_eq!(error.code, expected, "{name}");
        }
    }

    const DEFAULT_CODE_TTL_FOR_TESTS: Duration = crate::attendium::config::DEFAULT_CODE_TTL;

    #[test]
    fn unknown_client_is_invalid_client() {
        let (mut state, client, now) = state();
        let code = code(&mut state, &client, now);
        let error = state
            .exchange_code("nobody", &code, None, Some(VERIFIER), now)
            .err()
            .unwrap();
        assert_eq!(error.code, GrantErrorCode::InvalidClient);
    }

    #[test]
    fn refresh_rotates_and_reuse_revokes_the_family() {
        let (mut state, client, now) = state();
        let first = grant(&mut state, &client, now);
        let r1 = first.refresh_token.unwrap();
        let second = state.refresh(&client, &r1, None, now).unwrap();
        let r2 = second.refresh_token.clone().unwrap();
        assert_ne!(r1, r2);
        assert_eq!(second.scope.as_deref(), Some("read write"));
        assert!(state.refresh_token_active(&r2, now));
        // The spent token comes back: everything in the family dies.
        let error = state.refresh(&client, &r1, None, now).err().unwrap();
        assert_eq!(error.code, GrantErrorCode::InvalidGrant);
        assert!(!state.refresh_token_active(&r2, now));
        assert_eq!(state.bearer_user(&second.access_token, now), None);
        assert_eq!(state.counters.refresh_reuses, 1);
        assert_eq!(state.counters.refreshes, 1);
    }

    #[test]
    fn refresh_refuses_wider_scope() {
        let (mut state, client, now) = state();
        let first = grant(&mut state, &client, now);
        let r1 = first.refresh_token.unwrap();
        let error = state
            .refresh(&client, &r1, Some("admin"), now)
            .err()
            .unwrap();
        assert_eq!(error.code, GrantErrorCode::InvalidScope);
        let narrowed = state.refresh(&client, &r1, Some("read"), now).unwrap();
        assert_eq!(narrowed.scope.as_deref(), Some("read"));
    }

    #[test]
    fn access_tokens_expire_by_the_clock() {
        let (mut state, _, now) = state();
        let tokens = state.issue_direct("u9", now).unwrap();
        assert_eq!(state.bearer_user(&tokens.access_token, now), Some("u9"));
        let later = now + tokens.expires_in;
        assert_eq!(state.bearer_user(&tokens.access_token, later), None);
    }

    #[test]
    fn revoking_a_refresh_token_ends_the_grant() {
        let (mut state, client, now) = state();
        let tokens = grant(&mut state, &client, now);
        let refresh = tokens.refresh_token.unwrap();
        state.revoke(&client, &refresh).unwrap();
        assert!(!state.refresh_token_active(&refresh, now));
        assert_eq!(state.bearer_user(&tokens.access_token, now), None);
        // Unknown tokens are fine (RFC 7009 §2.2); unknown clients are not.
        state.revoke(&client, "no-such-token").unwrap();
        let error = state.revoke("nobody", &refresh).err().unwrap();
        assert_eq!(error.code, GrantErrorCode::InvalidClient);
    }
}
