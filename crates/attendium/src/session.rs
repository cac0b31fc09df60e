//! The stored session and its refresh, single-flight within and across processes.
//!
//! Attendium may rotate refresh tokens and may treat a reused one as theft, revoking the
//! whole grant. So a refresh token must never be spent twice. The session's provider is
//! `auth-core`'s [`PersistentSource`](auth_core::PersistentSource) over the session's
//! [`LockingStore`] (a file with a lock file beside it, or a fleet's Redis): it takes the
//! store's lock, re-reads the store, uses a token another process already refreshed, and
//! otherwise refreshes, saves the rotated token and releases the lock. [`SessionSource`]
//! is only the Attendium part: which client the session belongs to, and what a refused
//! refresh means.
//!
//! Sessions are kept per issuer: [`session_file`] names the file of one issuer's session
//! in a store directory, so that a login to a second issuer keeps the first session and
//! logging out of one touches no other.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::clock::Clock;
use auth_core::grant::refresh::{parse_refresh_response, refresh_request};
use auth_core::persistent::LockingStore;
use auth_core::transport::{Idempotency, RequestOptions};
use auth_core::{
    ClientAuth, ErrorCode, HttpTransport, RefreshToken, Token, TokenParseOptions, TokenSource,
};
use serde_json::Value;
use url::Url;

use crate::Error;
use crate::auth::Discovery;
use crate::clients::ClientRegistry;

/// The key in [`Token::extra`] naming the issuer a stored session belongs to.
pub const ISSUER_KEY: &str = "attendium:issuer";
/// The key in [`Token::extra`] naming the client a stored session was issued to.
pub const CLIENT_ID_KEY: &str = "attendium:client_id";

/// How long to wait for another process's refresh before giving up: long enough for it
/// to discover the server and refresh, each within the transport's default timeout.
pub(crate) const LOCK_TIMEOUT: Duration = Duration::from_secs(90);
const LOCK_POLL: Duration = Duration::from_millis(25);

/// The file holding `issuer`'s session in the store directory `dir`:
/// `dir/sessions/<issuer>.json`, the issuer's URL with every character other than
/// letters, digits, `-` and `.` written as `_` and its hexadecimal code (so distinct
/// issuers never share a file). The refresh lock is the same path with `.lock` appended.
///
/// ```
/// let issuer = url::Url::parse("https://api.attendium.com")?;
/// let path = attendium::session::session_file("/home/me/.config/attend".as_ref(), &issuer);
/// assert_eq!(
///     path,
///     std::path::Path::new("/home/me/.config/attend/sessions/https_3a_2f_2fapi.attendium.com_2f.json")
/// );
/// # Ok::<(), url::ParseError>(())
/// ```
pub fn session_file(dir: &Path, issuer: &Url) -> PathBuf {
    let name = auth_core::store::file_name_for(issuer.as_str());
    dir.join("sessions").join(format!("{name}.json"))
}

/// Moves a session kept by earlier versions in `dir/session.json` to its issuer's own
/// file, if it belongs to `issuer` and that file does not exist yet. Best effort: a
/// file that cannot be read or moved is left where it is.
pub(crate) fn adopt_legacy_session(dir: &Path, issuer: &Url) {
    let legacy = dir.join("session.json");
    let target = session_file(dir, issuer);
    if target.exists() {
        return;
    }
    let Ok(bytes) = std::fs::read(&legacy) else {
        return;
    };
    let belongs = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| v.get("extra")?.get(ISSUER_KEY)?.as_str().map(str::to_owned))
        .is_some_and(|stored| stored == issuer.as_str());
    if belongs
        && let Some(parent) = target.parent()
        && std::fs::create_dir_all(parent).is_ok()
        && std::fs::rename(&legacy, &target).is_ok()
    {
        tracing::info!(path = %target.display(), "moved the session to its issuer's own file");
    }
}

/// Marks `token` as belonging to `issuer` and `client_id`.
pub(crate) fn tag(token: &mut Token, issuer: &Url, client_id: &str) {
    token
        .extra
        .insert(ISSUER_KEY.into(), Value::from(issuer.as_str()));
    token
        .extra
        .insert(CLIENT_ID_KEY.into(), Value::from(client_id));
}

/// The client id a stored token was issued to, if it belongs to `issuer`.
pub(crate) fn client_id_for(token: &Token, issuer: &Url) -> Option<String> {
    let stored_issuer = token.extra.get(ISSUER_KEY)?.as_str()?;
    if stored_issuer != issuer.as_str() {
        return None;
    }
    Some(token.extra.get(CLIENT_ID_KEY)?.as_str()?.to_owned())
}

/// Whether the server rotated the refresh token at the session's last refresh: `false`
/// when its answer kept the same one (no `refresh_token`, or the same value back).
const ROTATES_KEY: &str = "attendium:rotates";

/// How a refresh of `stored` may be retried. Sent exactly once unless the server is
/// known not to rotate (its last refresh kept the refresh token): then resending cannot
/// spend a token twice, and a retry layer may repeat it like any idempotent call. Before
/// the first refresh nothing is known, so it is sent once (RFC 9700 §4.14.2: reusing a
/// rotated refresh token may revoke the grant).
fn refresh_idempotency(stored: &Token) -> Idempotency {
    match stored.extra.get(ROTATES_KEY).and_then(Value::as_bool) {
        Some(false) => Idempotency::Retryable,
        _ => Idempotency::Never,
    }
}

/// Records in `token` whether the refresh that produced it, sent with `sent`, rotated.
fn note_rotation(token: &mut Token, sent: &RefreshToken) {
    let rotated = token.refresh_token.as_ref() != Some(sent);
    token.extra.insert(ROTATES_KEY.into(), Value::Bool(rotated));
}

/// Refreshes the session handed to it (the stored one, read under the store's lock by
/// the `PersistentSource` in front of it).
pub(crate) struct SessionSource {
    pub(crate) issuer: Url,
    pub(crate) transport: Arc<dyn HttpTransport>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) parse_options: TokenParseOptions,
    pub(crate) discovery: Arc<Discovery>,
    pub(crate) clients: Arc<ClientRegistry>,
}

impl SessionSource {
    async fn refresh(&self, stored: Option<&Token>) -> Result<Token, Error> {
        let Some(stored) = stored else {
            return Err(Error::LoginRequired { reason: None });
        };
        let Some(client_id) = client_id_for(stored, &self.issuer) else {
            return Err(Error::LoginRequired {
                reason: Some("the stored session belongs to another server".into()),
            });
        };
        let Some(refresh_token) = stored.refresh_token.clone() else {
            return Err(Error::LoginRequired {
                reason: Some("the session has expired and holds no refresh token".into()),
            });
        };
        let metadata = self.discovery.metadata().await?;
        let client = ClientAuth::public(client_id.as_str());
        let mut request = refresh_request(&metadata.token_endpoint, &client, &refresh_token, None)?;
        let options = RequestOptions::of(&request).with_idempotency(refresh_idempotency(stored));
        request.extensions_mut().insert(options);
        let response = self.transport.send(request).await?;
        match parse_refresh_response(
            &response,
            &refresh_token,
            self.clock.now(),
            self.parse_options,
        ) {
            Ok(mut token) => {
                tag(&mut token, &self.issuer, &client_id);
                note_rotation(&mut token, &refresh_token);
                tracing::debug!("session refreshed");
                Ok(token)
            }
            Err(auth_core::Error::OAuth(e)) if e.code == ErrorCode::InvalidClient => {
                // The registration is gone: register again at the next login.
                self.clients.forget_issuer(&self.issuer)?;
                Err(Error::LoginRequired {
                    reason: Some("the server no longer knows this client".into()),
                })
            }
            Err(other) => Err(other.into()),
        }
    }
}

#[async_trait]
impl TokenSource for SessionSource {
    /// A `LoginRequired` answer has the store cleared by the `PersistentSource`.
    async fn fetch(&self, current: Option<&Token>) -> Result<Token, auth_core::Error> {
        self.refresh(current).await.map_err(to_core)
    }
}

/// The provider speaks `auth_core::Error`; keep what Attendium's error says in it, so
/// that `From<auth_core::Error>` gives the same variant back.
fn to_core(err: Error) -> auth_core::Error {
    match err {
        Error::Auth(e) => e,
        Error::LoginRequired { reason } => auth_core::Error::LoginRequired { reason },
        other => auth_core::Error::Store {
            path: None,
            reason: other.to_string(),
            source: None,
        },
    }
}

/// Takes `store`'s refresh lock, waiting up to [`LOCK_TIMEOUT`] for another process to
/// release it: for a login's save and a logout, which must not interleave with a
/// refresh.
pub(crate) async fn lock(store: &dyn LockingStore) -> Result<auth_core::persistent::Lease, Error> {
    let started = std::time::Instant::now();
    loop {
        if let Some(lease) = store.try_lock().await? {
            return Ok(lease);
        }
        if started.elapsed() >= LOCK_TIMEOUT {
            return Err(Error::SessionLocked {
                path: store.describe(),
            });
        }
        tokio::time::sleep(LOCK_POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::AccessToken;
    use auth_core::store::FileStore;

    #[test]
    fn a_refresh_is_retryable_only_once_the_server_is_known_not_to_rotate() {
        let sent = RefreshToken::new("rt-1");
        let mut fresh = Token::bearer(AccessToken::new("a"), None);
        // Nothing known yet: sent once.
        assert_eq!(refresh_idempotency(&fresh), Idempotency::Never);
        // The answer kept the refresh token: the next refresh may be retried.
        fresh.refresh_token = Some(sent.clone());
        note_rotation(&mut fresh, &sent);
        assert_eq!(refresh_idempotency(&fresh), Idempotency::Retryable);
        // The answer rotated it: never again resent.
        let mut rotated = Token::bearer(AccessToken::new("b"), None);
        rotated.refresh_token = Some(RefreshToken::new("rt-2"));
        note_rotation(&mut rotated, &sent);
        assert_eq!(refresh_idempotency(&rotated), Idempotency::Never);
    }

    #[test]
    fn tags_name_issuer_and_client() {
        let issuer = Url::parse("https://as.example").unwrap();
        let mut token = Token::bearer(AccessToken::new("a"), None);
        assert_eq!(client_id_for(&token, &issuer), None);
        tag(&mut token, &issuer, "cid");
        assert_eq!(client_id_for(&token, &issuer).as_deref(), Some("cid"));
        let other = Url::parse("https://other.example").unwrap();
        assert_eq!(client_id_for(&token, &other), None);
    }

    #[test]
    fn each_issuer_has_its_own_session_file() {
        let dir = Path::new("/store");
        let files: std::collections::BTreeSet<_> = [
            "https://as.example",
            "https://as.example/tenant",
            "https://as.example/tenant_2f",
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8081",
        ]
        .iter()
        .map(|u| session_file(dir, &Url::parse(u).unwrap()))
        .collect();
        assert_eq!(files.len(), 5);
        for file in files {
            assert_eq!(file.parent(), Some(Path::new("/store/sessions")));
        }
    }

    #[tokio::test]
    async fn the_lock_is_exclusive_across_handles() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.json");
        let first = lock(&FileStore::new(&path)).await.unwrap();
        let second = FileStore::new(&path);
        assert!(second.try_lock().await.unwrap().is_none());
        drop(first);
        assert!(second.try_lock().await.unwrap().is_some());
    }
}
