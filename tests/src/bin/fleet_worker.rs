//! One process of a fleet, for `tests/fleet.rs`: gets tokens through `auth-core`'s
//! `PersistentSource` over a Redis store (or, without `FLEET_REDIS`, through a cache of
//! its own) and prints each as `TOKEN <value>` on stdout.
//!
//! Configured by environment variables (all but the first two optional):
//! - `FLEET_GRANT`: `refresh` (a public client's rotating refresh token, read from the
//!   store) or `client_credentials` (HTTP Basic with the raw `id:secret`, as Communico);
//! - `FLEET_TOKEN_URL`: the token endpoint;
//! - `FLEET_CLIENT_ID`, `FLEET_CLIENT_SECRET`;
//! - `FLEET_REDIS`, `FLEET_KEY`: the shared store;
//! - `FLEET_LEASE_MS` (2000), `FLEET_MARGIN_SECS` (1);
//! - `FLEET_ROUNDS` (1) tokens to get, `FLEET_ROUND_MS` (0) apart;
//! - `FLEET_STALL`: `before` hangs inside the first fetch after printing `HOLDING` (the
//!   lease is held; the test kills the process), `after:<ms>` sleeps that long after the
//!   first fetch, before the token is saved, after printing `FETCHED` (a holder whose
//!   lease runs out).
//!
//! A store that is down is retried every 100 ms for 30 s (each try prints
//! `UNAVAILABLE`). Any other failure prints `ERROR <message>` on stderr and exits with 1.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use auth_core::clock::{Sleep, sleep_fn};
use auth_core::grant::client_credentials::{ClientCredentialsGrant, ClientCredentialsSource};
use auth_core::grant::refresh::RefreshSource;
use auth_core::{
    BasicEncoding, ClientAuth, ClientSecret, Error, HttpTransport, PersistentSource, Token,
    TokenProvider, TokenSource, WhenUnavailable,
};
use store_redis::RedisStore;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn env_u64(name: &str, default: u64) -> u64 {
    env(name).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Wraps a source to stall its first fetch as `FLEET_STALL` says.
struct Stalling<S> {
    inner: S,
    stall: Option<String>,
    stalled: AtomicBool,
}

#[async_trait]
impl<S: TokenSource> TokenSource for Stalling<S> {
    async fn fetch(&self, current: Option<&Token>) -> Result<Token, Error> {
        let first = !self.stalled.swap(true, Ordering::SeqCst);
        match self.stall.as_deref() {
            Some("before") if first => {
                say("HOLDING");
                loop {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                }
            }
            Some(after) if first && after.starts_with("after:") => {
                let token = self.inner.fetch(current).await?;
                say("FETCHED");
                let ms = after["after:".len()..].parse().unwrap_or(0);
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok(token)
            }
            _ => self.inner.fetch(current).await,
        }
    }
}

fn provider() -> Result<Arc<dyn TokenProvider>, String> {
    let transport: Arc<dyn HttpTransport> =
        Arc::new(http_reqwest::ReqwestTransport::new().map_err(|e| e.to_string())?);
    let token_url = url::Url::parse(&env("FLEET_TOKEN_URL").ok_or("FLEET_TOKEN_URL is not set")?)
        .map_err(|e| e.to_string())?;
    let client_id = env("FLEET_CLIENT_ID").unwrap_or_default();
    let grant = env("FLEET_GRANT").ok_or("FLEET_GRANT is not set")?;
    let source: Box<dyn TokenSource> = match grant.as_str() {
        "refresh" => Box::new(RefreshSource::new(
            token_url,
            ClientAuth::public(client_id),
            transport,
        )),
        "client_credentials" => {
            let secret = ClientSecret::new(env("FLEET_CLIENT_SECRET").unwrap_or_default());
            let client = ClientAuth::basic(client_id, secret, BasicEncoding::Raw);
            Box::new(ClientCredentialsSource::new(
                ClientCredentialsGrant::new(token_url, client),
                transport,
            ))
        }
        other => {
            return Err(format!(
                "FLEET_GRANT {other} is not refresh or client_credentials"
            ));
        }
    };
    let source = Stalling {
        inner: source,
        stall: env("FLEET_STALL"),
        stalled: AtomicBool::new(false),
    };
    let margin = Duration::from_secs(env_u64("FLEET_MARGIN_SECS", 1));
    let sleep: Arc<dyn Sleep> = Arc::new(sleep_fn(|d| Box::pin(tokio::time::sleep(d))));
    let Some(url) = env("FLEET_REDIS") else {
        return Ok(Arc::new(
            auth_core::CachingProvider::builder(source)
                .refresh_margin(margin)
                .build(),
        ));
    };
    let store = RedisStore::open(&url, env("FLEET_KEY").unwrap_or_else(|| "fleet".into()))
        .map_err(|e| e.to_string())?
        .lease(Duration::from_millis(env_u64("FLEET_LEASE_MS", 2000)))
        .timeout(Duration::from_millis(500));
    let policy = if grant == "client_credentials" {
        WhenUnavailable::FetchLocally
    } else {
        WhenUnavailable::Fail
    };
    Ok(Arc::new(
        PersistentSource::builder(source, store, sleep)
            .refresh_margin(margin)
            .poll_interval(Duration::from_millis(10))
            .lock_timeout(Duration::from_secs(20))
            .when_unavailable(policy)
            .build()
            .into_provider(),
    ))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let provider = match provider() {
        Ok(provider) => provider,
        Err(e) => {
            eprintln!("ERROR {e}");
            std::process::exit(2);
        }
    };
    let rounds = env_u64("FLEET_ROUNDS", 1);
    let pause = Duration::from_millis(env_u64("FLEET_ROUND_MS", 0));
    for round in 0..rounds {
        if round > 0 {
            tokio::time::sleep(pause).await;
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match provider.token().await {
                Ok(token) => {
                    say(&format!("TOKEN {}", token.secret()));
                    break;
                }
                Err(Error::StoreUnavailable { .. }) if Instant::now() < deadline => {
                    say("UNAVAILABLE");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => {
                    eprintln!("ERROR {e}");
                    std::process::exit(1);
                }
            }
        }
    }
}
