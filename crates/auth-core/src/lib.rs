//! A transport-agnostic OAuth 2.0 client core.
//!
//! `auth-core` holds everything an OAuth 2.0 client needs except the network:
//!
//! - [`transport::HttpTransport`], a small object-safe trait over [`http`] types that the
//!   `http-reqwest` and `http-hyper` crates implement (or you do, in a few lines);
//! - every grant as a pure request builder and response parser: client credentials
//!   ([`grant::client_credentials`]), authorization code with PKCE
//!   ([`grant::authorization_code`], [`pkce`], [`callback`]), refresh with rotation
//!   ([`grant::refresh`]), dynamic client registration ([`registration`], RFC 7591),
//!   metadata discovery ([`discovery`], RFC 8414) and revocation ([`revocation`], RFC 7009);
//! - [`TokenProvider`], the one trait API clients depend on, and [`CachingProvider`], a
//!   cache whose hit is lock-free and whose refresh is single-flight;
//! - [`store::TokenStore`] with memory and file stores, and the retry layer
//!   [`retry::Retry`].
//!
//! It depends on no HTTP library, no TLS stack and no async runtime: time and sleeping are
//! injected ([`clock`]), so it can be embedded in tools that never speak HTTP.
//!
//! Secrets ([`ClientSecret`], [`AccessToken`], [`RefreshToken`], [`AuthorizationCode`],
//! [`PkceCodeVerifier`], [`CsrfState`]) never appear in `Debug` output or error messages.

pub mod callback;
pub mod client_auth;
pub mod clock;
pub mod discovery;
mod error;
pub mod grant;
pub mod oauth_error;
pub mod persistent;
pub mod pkce;
pub mod provider;
pub mod registration;
pub mod response;
pub mod retry;
pub mod revocation;
pub mod secret;
pub mod secure_url;
pub mod store;
pub mod token;
pub mod token_cache;
pub mod transport;

pub use client_auth::{BasicEncoding, ClientAuth};
pub use error::Error;
pub use oauth_error::{ErrorCode, OAuthError};
pub use provider::{TokenFuture, TokenProvider, TokenSource, TypedToken};
pub use secret::{
    AccessToken, AuthorizationCode, ClientId, ClientSecret, CsrfState, PkceCodeVerifier,
    RefreshToken, RegistrationAccessToken,
};
pub use token::{Token, TokenParseOptions, TokenType};
pub use transport::{HttpRequest, HttpResponse, HttpTransport, TransportError, TransportErrorKind};

/// This crate's version, for user agents that name it (`auth-core/<VERSION>`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

// Re-exports of the cache, store and retry layer.
pub use persistent::{LockingStore, PersistentSource, WhenUnavailable};
pub use retry::{Retry, RetryPolicy};
pub use store::{FileStore, MemoryStore, TokenStore};
pub use token_cache::{CachingProvider, CachingProviderBuilder};

// Re-exports of the grants.
pub use callback::Callback;
pub use discovery::AuthorizationServerMetadata;
pub use grant::authorization_code::{AuthorizationRequest, IssParameter, PendingAuthorization};
pub use grant::client_credentials::{ClientCredentialsGrant, ClientCredentialsSource};
pub use grant::refresh::RefreshSource;
pub use registration::{ClientMetadata, RegisteredClient};
pub use revocation::TokenTypeHint;
