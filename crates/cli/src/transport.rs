//! The HTTP stack `--http` picks, under the retry layer that every command shares; both
//! stacks implement `auth_core::HttpTransport`, so nothing else in the tool knows which
//! one is in use.

use std::sync::Arc;
use std::time::Duration;

use auth_core::clock::sleep_fn;
use auth_core::{HttpTransport, Retry, RetryPolicy};

use crate::cli::HttpBackend;
use crate::exit::{Failure, Kind};

/// Builds the chosen transport, wrapped in `auth-core`'s retry layer with `deadline`
/// (`--timeout`) as the time one request may take with all its retries. Communico and
/// Attendium requests both go through it, so they retry alike: idempotent requests
/// only, after a connection failure, a timeout, `429`, `502`, `503` or `504`.
pub(crate) fn build(
    backend: HttpBackend,
    deadline: Duration,
) -> Result<Arc<dyn HttpTransport>, Failure> {
    let built: Result<Arc<dyn HttpTransport>, String> = match backend {
        HttpBackend::Reqwest => http_reqwest::ReqwestTransport::new()
            .map(|t| Arc::new(t) as Arc<dyn HttpTransport>)
            .map_err(|e| e.to_string()),
        HttpBackend::Hyper => http_hyper::HyperTransport::new()
            .map(|t| Arc::new(t) as Arc<dyn HttpTransport>)
            .map_err(|e| e.to_string()),
    };
    let raw = built.map_err(|e| {
        Failure::new(
            Kind::Unexpected,
            format!("cannot set up HTTP ({backend:?}): {e}"),
        )
        .next("try the other backend with --http")
    })?;
    let sleep = sleep_fn(|d| Box::pin(tokio::time::sleep(d)));
    Ok(Arc::new(Retry::new(raw, Arc::new(sleep)).with_policy(
        RetryPolicy::default().with_deadline(deadline),
    )))
}
