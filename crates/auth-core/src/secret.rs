//! Newtypes for every credential the OAuth flows handle.
//!
//! Each type keeps its value in a [`secrecy::SecretString`] (wiped from memory when the
//! last copy is dropped), prints as `TypeName(<redacted>)` in `Debug`, and has no
//! `Display` and no `Serialize`: the value comes out only through an explicit
//! [`secret()`](AccessToken::secret) call. Clones share one allocation, so handing a
//! cached token to many callers costs a reference-count increment.
//!
//! Equality is constant-time (via [`subtle`]), so comparing a received `state` with the
//! expected one leaks nothing through timing.

use std::fmt;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

macro_rules! secret_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone)]
        pub struct $name(Arc<SecretString>);

        impl $name {
            /// Wraps a value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(Arc::new(SecretString::from(value.into())))
            }

            /// The secret value. Call this only where the value is sent or stored.
            pub fn secret(&self) -> &str {
                self.0.expose_secret()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                constant_time_eq(self.secret(), other.secret())
            }
        }

        impl Eq for $name {}

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::new(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }
    };
}

secret_type! {
    /// A confidential client's secret (RFC 6749 §2.3.1).
    ///
    /// ```
    /// use auth_core::ClientSecret;
    /// let secret = ClientSecret::new("s3cr3t");
    /// assert_eq!(format!("{secret:?}"), "ClientSecret(<redacted>)");
    /// assert_eq!(secret.secret(), "s3cr3t");
    /// ```
    ClientSecret
}

secret_type! {
    /// A bearer access token (RFC 6750).
    AccessToken
}

secret_type! {
    /// A refresh token (RFC 6749 §1.5). Servers may rotate it on every use.
    RefreshToken
}

secret_type! {
    /// An authorization code received on the redirect URI (RFC 6749 §4.1.2).
    AuthorizationCode
}

secret_type! {
    /// A PKCE code verifier (RFC 7636 §4.1): 43 to 128 characters of
    /// `A-Z a-z 0-9 - . _ ~`. Create one with [`crate::pkce::new_verifier`].
    PkceCodeVerifier
}

secret_type! {
    /// The opaque `state` value that binds an authorization response to the request that
    /// asked for it (RFC 6749 §10.12). Compare with `==`, which is constant-time.
    CsrfState
}

secret_type! {
    /// The `registration_access_token` a server may return from dynamic client
    /// registration (RFC 7591 §3.2.1).
    RegistrationAccessToken
}

/// Compares two strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A client identifier (RFC 6749 §2.2). Not a secret: it appears in URLs.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ClientId(String);

impl ClientId {
    /// Wraps a client identifier.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The identifier.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ClientId").field(&self.0).finish()
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for ClientId {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<String> for ClientId {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALUE: &str = "very-secret-value-123";

    fn assert_redacted(debug: String, name: &str) {
        assert!(!debug.contains(VALUE), "{name} leaked its value: {debug}");
        assert_eq!(debug, format!("{name}(<redacted>)"));
    }

    #[test]
    fn debug_never_prints_any_secret_type() {
        assert_redacted(format!("{:?}", ClientSecret::new(VALUE)), "ClientSecret");
        assert_redacted(format!("{:?}", AccessToken::new(VALUE)), "AccessToken");
        assert_redacted(format!("{:?}", RefreshToken::new(VALUE)), "RefreshToken");
        assert_redacted(
            format!("{:?}", AuthorizationCode::new(VALUE)),
            "AuthorizationCode",
        );
        assert_redacted(
            format!("{:?}", PkceCodeVerifier::new(VALUE)),
            "PkceCodeVerifier",
        );
        assert_redacted(format!("{:?}", CsrfState::new(VALUE)), "CsrfState");
        assert_redacted(
            format!("{:?}", RegistrationAccessToken::new(VALUE)),
            "RegistrationAccessToken",
        );
        // Pretty debug goes through the same impl.
        assert!(!format!("{:#?}", Some(AccessToken::new(VALUE))).contains(VALUE));
    }

    #[test]
    fn equality_compares_values() {
        assert_eq!(CsrfState::new("abc"), CsrfState::new("abc"));
        assert_ne!(CsrfState::new("abc"), CsrfState::new("abd"));
        assert_ne!(CsrfState::new("abc"), CsrfState::new("abcd"));
        assert!(constant_time_eq("", ""));
    }

    #[test]
    fn clones_share_the_value() {
        let a = AccessToken::new(VALUE);
        let b = a.clone();
        assert_eq!(a.secret().as_ptr(), b.secret().as_ptr());
    }
}
