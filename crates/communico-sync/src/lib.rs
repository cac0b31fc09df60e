//! A local SQLite mirror of a Communico library's events, with an exact change feed.

mod change;
mod error;
mod schema;

pub use change::{Change, ChangeKind};
pub use error::Error;
