//! Where `attend` keeps tokens between runs: `--store` / `ATTEND_STORE`.
//!
//! - A directory: Attendium sessions in `sessions/` (one file per issuer) and the
//!   Communico token in `communico/` (one file per base URL and client key), each file
//!   private to the user, refreshed under a lock file beside it. Right for one machine.
//! - `redis://host:port/db` (loopback) or `rediss://host:port/db` (TLS): the same, kept
//!   in Redis under `attend:attendium:<issuer>` and `attend:communico:<base> <key>`, with
//!   a lease and fencing, so that runs on many machines share one session or one token.
//!   When Redis is down, a Communico run fetches a token of its own (with a warning); an
//!   Attendium refresh fails and the session is kept.

use std::path::PathBuf;
use std::sync::Arc;

use attendium::AttendiumAuthBuilder;
use auth_core::clock::{Sleep, sleep_fn};
use auth_core::grant::client_credentials::{ClientCredentialsGrant, ClientCredentialsSource};
use auth_core::persistent::LockingStore;
use auth_core::store::FileStore;
use auth_core::{
    BasicEncoding, ClientAuth, ClientSecret, HttpTransport, PersistentSource, TokenProvider,
    WhenUnavailable,
};
use store_redis::RedisStore;

use crate::exit::Failure;

/// What `--store` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoreSpec {
    /// A directory on this machine.
    Dir(PathBuf),
    /// A Redis URL (`redis://` or `rediss://`).
    Redis(String),
}

/// Reads a `--store` value: a `redis://` or `rediss://` URL, else a directory.
pub(crate) fn parse(value: &str) -> Result<StoreSpec, String> {
    let lower = value.trim().to_ascii_lowercase();
    if lower.starts_with("redis://") || lower.starts_with("rediss://") {
        Ok(StoreSpec::Redis(value.trim().to_owned()))
    } else if lower.contains("://") {
        Err("a store is a directory or a redis://host:port/db URL".to_owned())
    } else if value.is_empty() {
        Err("the store directory is empty".to_owned())
    } else {
        Ok(StoreSpec::Dir(PathBuf::from(value)))
    }
}

fn sleep() -> Arc<dyn Sleep> {
    Arc::new(sleep_fn(|d| Box::pin(tokio::time::sleep(d))))
}

fn redis(url: &str, key: String) -> Result<RedisStore, Failure> {
    RedisStore::open(url, key).map_err(|e| {
        Failure::usage(e.to_string()).next("check --store (or ATTEND_STORE): redis://host:port/db")
    })
}

fn create_dir(dir: &std::path::Path) -> Result<(), Failure> {
    std::fs::create_dir_all(dir).map_err(|e| {
        Failure::io(&dir.display().to_string(), &e)
            .next("check --store (or ATTEND_STORE): the directory must be writable")
    })
}

impl StoreSpec {
    /// Keeps the Attendium session for `issuer` in this store.
    pub(crate) fn configure_attendium(
        &self,
        builder: AttendiumAuthBuilder,
        issuer: &str,
    ) -> Result<AttendiumAuthBuilder, Failure> {
        match self {
            StoreSpec::Dir(dir) => {
                create_dir(dir)?;
                Ok(builder.store_dir(dir))
            }
            StoreSpec::Redis(url) => {
                let store = redis(url, format!("attend:attendium:{issuer}"))?;
                Ok(builder.session_store(Arc::new(store)))
            }
        }
    }

    /// A provider of Communico client-credentials tokens shared through this store.
    pub(crate) fn communico_tokens(
        &self,
        base: &str,
        key: &str,
        secret: &str,
        transport: Arc<dyn HttpTransport>,
    ) -> Result<Arc<dyn TokenProvider>, Failure> {
        let base = base.trim_end_matches('/');
        let endpoint = url::Url::parse(&format!("{base}/v3/token")).map_err(|e| {
            Failure::usage(format!("the Communico base URL {base} is not usable: {e}"))
        })?;
        let client = ClientAuth::basic(key, ClientSecret::new(secret), BasicEncoding::Raw);
        let source =
            ClientCredentialsSource::new(ClientCredentialsGrant::new(endpoint, client), transport);
        let store: Arc<dyn LockingStore> = match self {
            StoreSpec::Dir(dir) => {
                let dir = dir.join("communico");
                create_dir(&dir)?;
                Arc::new(FileStore::new(dir.join(format!(
                    "{}.json",
                    auth_core::store::file_name_for(&format!("{base} {key}"))
                ))))
            }
            StoreSpec::Redis(url) => {
                Arc::new(redis(url, format!("attend:communico:{base} {key}"))?)
            }
        };
        // Two fetches of a client-credentials token cost one more token request: with the
        // store down, this run fetches its own.
        let provider = PersistentSource::builder(source, store, sleep())
            .when_unavailable(WhenUnavailable::FetchLocally)
            .build()
            .into_provider();
        Ok(Arc::new(provider))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_is_a_directory_or_a_redis_url() {
        assert_eq!(
            parse("redis://127.0.0.1:6379/0"),
            Ok(StoreSpec::Redis("redis://127.0.0.1:6379/0".into()))
        );
        assert_eq!(
            parse("REDISS://cache.example:6380/1"),
            Ok(StoreSpec::Redis("REDISS://cache.example:6380/1".into()))
        );
        assert_eq!(
            parse("/home/me/.config/attend"),
            Ok(StoreSpec::Dir("/home/me/.config/attend".into()))
        );
        assert!(parse("https://example.com/store").is_err());
        assert!(parse("").is_err());
    }
}
