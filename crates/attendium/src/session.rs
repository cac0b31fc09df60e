//! The stored session and its refresh, single-flight within and across processes.
//!
//! Attendium may rotate refresh tokens and may treat a reused one as theft, revoking the
//! whole grant. So a refresh token must never be spent twice:
//!
//! - within a process, the [`auth_core::token_cache::CachingProvider`] in front of
//!   [`SessionSource`] lets only one refresh run at a time;
//! - across processes (two `attend` commands in two terminals), [`SessionSource`] holds
//!   an exclusive lock on a file beside the store while it refreshes, and re-reads the
//!   store under the lock: if another process already refreshed, its token is used and
//!   nothing is sent.
//!
//! The rotated refresh token is written to the store before the new access token is
//! returned, so a crash right after a refresh loses nothing.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use auth_core::clock::Clock;
use auth_core::grant::refresh::{parse_refresh_response, refresh_request};
use auth_core::store::TokenStore;
use auth_core::{ClientAuth, ErrorCode, HttpTransport, Token, TokenParseOptions, TokenSource};
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
const LOCK_TIMEOUT: Duration = Duration::from_secs(90);
const LOCK_POLL: Duration = Duration::from_millis(25);

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

/// Gives the session's token: the stored one while it is fresh, else a refreshed one.
pub(crate) struct SessionSource {
    pub(crate) issuer: Url,
    pub(crate) transport: Arc<dyn HttpTransport>,
    pub(crate) store: Arc<dyn TokenStore>,
    pub(crate) lock_path: Option<PathBuf>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) margin: Duration,
    pub(crate) parse_options: TokenParseOptions,
    pub(crate) discovery: Arc<Discovery>,
    pub(crate) clients: Arc<ClientRegistry>,
}

impl SessionSource {
    async fn fetch_locked(&self, current: Option<&Token>) -> Result<Token, Error> {
        let stored = self.store.load().await?;
        let Some(stored) = stored else {
            return Err(Error::LoginRequired { reason: None });
        };
        let Some(client_id) = client_id_for(&stored, &self.issuer) else {
            return Err(Error::LoginRequired {
                reason: Some("the stored session belongs to another server".into()),
            });
        };
        // Another process (or this one, before a restart) may have refreshed already:
        // a fresh stored token we have not been handed yet is the answer.
        let newer = current.is_none_or(|c| c.access_token != stored.access_token);
        if newer && stored.is_fresh(self.clock.now(), self.margin) {
            return Ok(stored);
        }
        let Some(refresh_token) = stored.refresh_token.clone() else {
            return Err(Error::LoginRequired {
                reason: Some("the session has expired and holds no refresh token".into()),
            });
        };
        let metadata = self.discovery.metadata().await?;
        let client = ClientAuth::public(client_id.as_str());
        let request = refresh_request(&metadata.token_endpoint, &client, &refresh_token, None)?;
        let response = self.transport.send(request).await?;
        match parse_refresh_response(
            &response,
            &refresh_token,
            self.clock.now(),
            self.parse_options,
        ) {
            Ok(mut token) => {
                tag(&mut token, &self.issuer, &client_id);
                // Store first: the old refresh token may already be dead.
                self.store.save(&token).await?;
                tracing::debug!("session refreshed");
                Ok(token)
            }
            Err(auth_core::Error::LoginRequired { reason }) => {
                self.store.clear().await?;
                Err(Error::LoginRequired { reason })
            }
            Err(auth_core::Error::OAuth(e)) if e.code == ErrorCode::InvalidClient => {
                // The registration is gone: register again at the next login.
                self.clients.forget_issuer(&self.issuer)?;
                self.store.clear().await?;
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
    async fn fetch(&self, current: Option<&Token>) -> Result<Token, auth_core::Error> {
        let _lock = match &self.lock_path {
            Some(path) => Some(lock(path.clone()).await.map_err(to_core)?),
            None => None,
        };
        self.fetch_locked(current).await.map_err(to_core)
    }
}

/// The provider speaks `auth_core::Error`; keep what Attendium's error says in it, so
/// that `From<auth_core::Error>` gives the same variant back.
fn to_core(err: Error) -> auth_core::Error {
    match err {
        Error::Auth(e) => e,
        Error::LoginRequired { reason } => auth_core::Error::LoginRequired { reason },
        Error::SessionLocked { path } => auth_core::Error::Store {
            path: Some(path),
            reason: LOCK_TIMED_OUT.to_owned(),
            source: Some(Arc::new(std::io::Error::from(std::io::ErrorKind::TimedOut))),
        },
        other => auth_core::Error::Store {
            path: None,
            reason: other.to_string(),
            source: None,
        },
    }
}

/// The reason of the store error a lock timeout travels in through the token cache.
pub(crate) const LOCK_TIMED_OUT: &str = "timed out waiting for the session lock";

/// An exclusive lock on `path`, released when dropped (and by the OS if the process
/// dies). Polls `try_lock` so that no thread blocks while another process refreshes.
pub(crate) async fn lock(path: PathBuf) -> Result<File, Error> {
    let io = |e: std::io::Error| {
        Error::Auth(auth_core::Error::Store {
            path: Some(path.display().to_string()),
            reason: "the session lock file cannot be opened".into(),
            source: Some(Arc::new(e)),
        })
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io)?;
    let deadline = Instant::now() + LOCK_TIMEOUT;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                tokio::time::sleep(LOCK_POLL).await;
            }
            Err(TryLockError::WouldBlock) => {
                return Err(Error::SessionLocked {
                    path: path.display().to_string(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::AccessToken;

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

    #[tokio::test]
    async fn the_lock_is_exclusive_across_handles() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.lock");
        let first = lock(path.clone()).await.unwrap();
        let second = OpenOptions::new().write(true).open(&path).unwrap();
        assert!(matches!(second.try_lock(), Err(TryLockError::WouldBlock)));
        drop(first);
        assert!(second.try_lock().is_ok());
    }
}
