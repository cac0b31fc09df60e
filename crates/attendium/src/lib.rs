//! Client for the Attendium API.
//!
//! Attendium authenticates with OAuth 2.0: metadata discovery (RFC 8414), dynamic client
//! registration (RFC 7591) as a public client, the authorization-code grant with PKCE on a
//! loopback redirect (RFC 8252), and refresh-token rotation. Its data is behind a GraphQL
//! endpoint; typed operations are generated from `schemas/` by `cargo xtask codegen`.

mod auth;
mod clients;
mod error;
pub mod generated;
pub mod graphql;
pub mod session;

pub use auth::{
    AttendiumAuth, AttendiumAuthBuilder, DEFAULT_CLIENT_NAME, DEFAULT_ISSUER, DOCUMENTED_PATHS,
    LoginInProgress, LoginOptions, Logout,
};
/// Why the browser login's loopback listener failed, inside [`Error::Loopback`].
pub use auth_loopback::Error as LoopbackError;
pub use auth_loopback::LoopbackHost;
pub use error::Error;
pub use graphql::{GraphQlClient, GraphQlError, Response as GraphQlResponse};
