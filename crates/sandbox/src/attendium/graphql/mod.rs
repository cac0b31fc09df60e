//! `POST /graphql` (being written).

mod schema;

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::Inner;

/// The SDL served.
pub const SCHEMA_SDL: &str = "";

pub(crate) async fn graphql(State(_inner): State<Arc<Inner>>) -> Response {
    StatusCode::NOT_IMPLEMENTED.into_response()
}
