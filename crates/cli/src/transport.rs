//! The HTTP stack `--http` picks; both implement `auth_core::HttpTransport`, so nothing
//! else in the tool knows which one is in use.

use std::sync::Arc;

use auth_core::HttpTransport;

use crate::cli::HttpBackend;
use crate::exit::{Failure, Kind};

/// Builds the chosen transport.
pub(crate) fn build(backend: HttpBackend) -> Result<Arc<dyn HttpTransport>, Failure> {
    let built: Result<Arc<dyn HttpTransport>, String> = match backend {
        HttpBackend::Reqwest => http_reqwest::ReqwestTransport::new()
            .map(|t| Arc::new(t) as Arc<dyn HttpTransport>)
            .map_err(|e| e.to_string()),
        HttpBackend::Hyper => http_hyper::HyperTransport::new()
            .map(|t| Arc::new(t) as Arc<dyn HttpTransport>)
            .map_err(|e| e.to_string()),
    };
    built.map_err(|e| {
        Failure::new(
            Kind::Unexpected,
            format!("cannot set up HTTP ({backend:?}): {e}"),
        )
        .next("try the other backend with --http")
    })
}
