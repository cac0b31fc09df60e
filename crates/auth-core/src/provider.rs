//! The traits that callers and token sources meet at.

use std::sync::Arc;

use async_trait::async_trait;

use crate::Error;
use crate::secret::AccessToken;
use crate::token::Token;

/// Gives a valid access token, and forgets one the server rejected.
///
/// API clients hold an `Arc<dyn TokenProvider>` and know nothing of grants: on every
/// request they ask for [`token`](TokenProvider::token); on a `401` they call
/// [`invalidate`](TokenProvider::invalidate) with the token that failed and ask again,
/// once.
///
/// ```
/// use auth_core::{AccessToken, Error, TokenProvider};
///
/// /// A fixed token, for a script that got one elsewhere.
/// struct Static(AccessToken);
///
/// #[async_trait::async_trait]
/// impl TokenProvider for Static {
///     async fn token(&self) -> Result<AccessToken, Error> {
///         Ok(self.0.clone())
///     }
///     fn invalidate(&self, _rejected: &AccessToken) {}
/// }
/// ```
#[async_trait]
pub trait TokenProvider: Send + Sync {
    /// A token that is valid now (refreshed or fetched if needed).
    async fn token(&self) -> Result<AccessToken, Error>;

    /// Forgets `rejected` if it is still the current token, so the next
    /// [`token`](TokenProvider::token) fetches a new one. If a newer token has arrived in
    /// the meantime, it is kept: a late `invalidate` never throws away a good token.
    fn invalidate(&self, rejected: &AccessToken);
}

#[async_trait]
impl<T: TokenProvider + ?Sized> TokenProvider for Arc<T> {
    async fn token(&self) -> Result<AccessToken, Error> {
        (**self).token().await
    }
    fn invalidate(&self, rejected: &AccessToken) {
        (**self).invalidate(rejected)
    }
}

#[async_trait]
impl<T: TokenProvider + ?Sized> TokenProvider for Box<T> {
    async fn token(&self) -> Result<AccessToken, Error> {
        (**self).token().await
    }
    fn invalidate(&self, rejected: &AccessToken) {
        (**self).invalidate(rejected)
    }
}

/// Obtains a new token: the slow path behind a [`crate::CachingProvider`].
///
/// `current` is the last token obtained, even if it has expired or was invalidated, so
/// that a refreshing source can use its refresh token; it is `None` only before the first
/// successful fetch.
#[async_trait]
pub trait TokenSource: Send + Sync {
    /// Fetches a token.
    async fn fetch(&self, current: Option<&Token>) -> Result<Token, Error>;
}

#[async_trait]
impl<T: TokenSource + ?Sized> TokenSource for Arc<T> {
    async fn fetch(&self, current: Option<&Token>) -> Result<Token, Error> {
        (**self).fetch(current).await
    }
}

#[async_trait]
impl<T: TokenSource + ?Sized> TokenSource for Box<T> {
    async fn fetch(&self, current: Option<&Token>) -> Result<Token, Error> {
        (**self).fetch(current).await
    }
}
