//! The crate's one error type.

/// Everything that can go wrong talking to Attendium.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An OAuth or transport failure from `auth-core` (network, server refusal,
    /// malformed answer, insecure URL).
    #[error(transparent)]
    Auth(#[from] auth_core::Error),

    // GraphQL errors (graphql.rs).
}
