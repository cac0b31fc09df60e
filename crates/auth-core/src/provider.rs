//! The traits that callers and token sources meet at.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_trait::async_trait;

use crate::Error;
use crate::secret::AccessToken;
use crate::token::{Token, TokenType};

/// Gives a valid access token, and forgets one the server rejected.
///
/// API clients hold an `Arc<dyn TokenProvider>` and know nothing of grants: on every
/// request they ask for [`token`](TokenProvider::token); on a `401` they call
/// [`invalidate`](TokenProvider::invalidate) with the token that failed and ask again,
/// once.
///
/// `token` returns a [`TokenFuture`] rather than being an `async fn`, so that the trait
/// stays object-safe while a cached token is handed out without allocating: every API
/// request asks for a token, and nearly every time the answer is already there.
///
/// ```
/// use auth_core::{AccessToken, Error, TokenFuture, TokenProvider};
///
/// /// A fixed token, for a script that got one elsewhere.
/// struct Static(AccessToken);
///
/// impl TokenProvider for Static {
///     fn token(&self) -> TokenFuture<'_> {
///         TokenFuture::ready(Ok(self.0.clone()))
///     }
///     fn invalidate(&self, _rejected: &AccessToken) {}
/// }
///
/// /// One that has to wait for its token.
/// struct Asking;
///
/// impl TokenProvider for Asking {
///     fn token(&self) -> TokenFuture<'_> {
///         TokenFuture::new(async {
///             // ... ask something, await it ...
///             Ok(AccessToken::new("fetched"))
///         })
///     }
///     fn invalidate(&self, _rejected: &AccessToken) {}
/// }
/// ```
pub trait TokenProvider: Send + Sync {
    /// A token that is valid now (refreshed or fetched if needed).
    fn token(&self) -> TokenFuture<'_>;

    /// Forgets `rejected` if it is still the current token, so the next
    /// [`token`](TokenProvider::token) fetches a new one. If a newer token has arrived in
    /// the meantime, it is kept: a late `invalidate` never throws away a good token.
    fn invalidate(&self, rejected: &AccessToken);

    /// A token that is valid now, with its `token_type` (RFC 6749 §7.1), so that the
    /// client can refuse a type it does not implement instead of sending it as `Bearer`
    /// ([`TypedToken::bearer_header`]).
    ///
    /// The default answers [`token`](TokenProvider::token) as a `Bearer` token: right
    /// for a provider that only ever has bearer tokens. Providers that obtain tokens from
    /// a server ([`crate::CachingProvider`]) report the type the server sent.
    fn typed_token(&self) -> TokenFuture<'_, TypedToken> {
        let token = self.token();
        TokenFuture::new(async move { token.await.map(TypedToken::bearer) })
    }
}

impl<T: TokenProvider + ?Sized> TokenProvider for Arc<T> {
    fn token(&self) -> TokenFuture<'_> {
        (**self).token()
    }
    fn invalidate(&self, rejected: &AccessToken) {
        (**self).invalidate(rejected)
    }
    fn typed_token(&self) -> TokenFuture<'_, TypedToken> {
        (**self).typed_token()
    }
}

impl<T: TokenProvider + ?Sized> TokenProvider for Box<T> {
    fn token(&self) -> TokenFuture<'_> {
        (**self).token()
    }
    fn invalidate(&self, rejected: &AccessToken) {
        (**self).invalidate(rejected)
    }
    fn typed_token(&self) -> TokenFuture<'_, TypedToken> {
        (**self).typed_token()
    }
}

/// An access token with its `token_type`, as [`TokenProvider::typed_token`] gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TypedToken {
    /// The access token.
    pub access_token: AccessToken,
    /// Its type, as the server sent it (`Bearer` when it sent none).
    pub token_type: TokenType,
}

impl TypedToken {
    /// A `Bearer` token.
    pub fn bearer(access_token: AccessToken) -> Self {
        Self {
            access_token,
            token_type: TokenType::Bearer,
        }
    }

    /// A token of the given type.
    pub fn new(access_token: AccessToken, token_type: TokenType) -> Self {
        Self {
            access_token,
            token_type,
        }
    }

    /// The `Authorization` header for a `Bearer` token (RFC 6750 §2.1), marked
    /// sensitive.
    ///
    /// # Errors
    /// [`Error::UnsupportedTokenType`] naming the type when it is not `Bearer` (in any
    /// letter case): a DPoP- or MAC-bound token needs a proof this crate does not make,
    /// and RFC 6749 §7.1 forbids using a token whose type the client does not understand.
    ///
    /// ```
    /// use auth_core::{AccessToken, Error, TokenType, TypedToken};
    ///
    /// let bearer = TypedToken::bearer(AccessToken::new("abc"));
    /// assert_eq!(bearer.bearer_header()?, "Bearer abc");
    /// let dpop = TypedToken::new(AccessToken::new("abc"), TokenType::parse("DPoP"));
    /// assert!(matches!(dpop.bearer_header(), Err(Error::UnsupportedTokenType { .. })));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn bearer_header(&self) -> Result<http::HeaderValue, Error> {
        match &self.token_type {
            TokenType::Bearer => {
                crate::token::authorization_header(&TokenType::Bearer, &self.access_token)
            }
            TokenType::Other(other) => Err(Error::UnsupportedTokenType {
                token_type: other
                    .chars()
                    .filter(char::is_ascii_graphic)
                    .take(40)
                    .collect(),
            }),
        }
    }
}

/// The future [`TokenProvider::token`] (and, with `T` = [`TypedToken`],
/// [`TokenProvider::typed_token`]) returns: complete at once, with no allocation, when the
/// answer is already known ([`TokenFuture::ready`]), and a boxed future otherwise
/// ([`TokenFuture::new`]).
#[must_use = "futures do nothing unless awaited"]
pub struct TokenFuture<'a, T = AccessToken>(Answer<'a, T>);

type BoxedAnswer<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

enum Answer<'a, T> {
    /// `None` once handed out.
    Ready(Option<Result<T, Error>>),
    Later(BoxedAnswer<'a, T>),
}

impl<'a, T> TokenFuture<'a, T> {
    /// A future that is already complete.
    pub fn ready(result: Result<T, Error>) -> Self {
        Self(Answer::Ready(Some(result)))
    }

    /// A future that completes when `future` does.
    pub fn new(future: impl Future<Output = Result<T, Error>> + Send + 'a) -> Self {
        Self(Answer::Later(Box::pin(future)))
    }
}

// Nothing is pinned structurally: the boxed future is pinned by its box.
impl<T> Unpin for TokenFuture<'_, T> {}

impl<T> Future for TokenFuture<'_, T> {
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.0 {
            Answer::Ready(result) => Poll::Ready(result.take().unwrap_or_else(|| {
                // Polling a finished future is a caller's bug; answer it with an error
                // rather than a panic.
                Err(Error::invalid_config(
                    "a token future was polled after it completed",
                ))
            })),
            Answer::Later(future) => future.as_mut().poll(cx),
        }
    }
}

impl<T> fmt::Debug for TokenFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Answer::Ready(_) => "TokenFuture(ready)",
            Answer::Later(_) => "TokenFuture(pending)",
        })
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
