//! The OAuth 2.0 grants, each as a pure request builder and response parser.
//!
//! Nothing here performs I/O: a grant builds an [`HttpRequest`](crate::HttpRequest) that
//! the caller sends with any [`HttpTransport`](crate::HttpTransport), then parses the
//! [`HttpResponse`](crate::HttpResponse). The one exception is each module's
//! [`TokenSource`](crate::TokenSource) adapter, which sends through the transport it is
//! given so that a [`TokenProvider`](crate::TokenProvider) cache can drive the grant.
//!
//! - [`client_credentials`]: a confidential client acting for itself (RFC 6749 §4.4);
//! - [`authorization_code`]: a user logging in through a browser, with PKCE (RFC 6749
//!   §4.1, RFC 7636) and the RFC 9207 issuer check;
//! - [`refresh`]: renewing a token with a refresh token (RFC 6749 §6), with rotation.

pub mod authorization_code;
pub mod client_credentials;
pub mod refresh;
