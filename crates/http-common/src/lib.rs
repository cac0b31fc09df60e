//! What the HTTP transports of attend-rs share that is not OAuth.
//!
//! `auth-core` defines the [`HttpTransport`](auth_core::HttpTransport) contract (never
//! follow a redirect, time out, cap the body, say whether a retry helps) and nothing about
//! sockets. The two backends, `http-reqwest` and `http-hyper`, honour it the same way by
//! sharing this crate, and share nothing with each other:
//!
//! - [`LimitedBody`]: the body cap, applied to the **decoded** body, and the refusal of a
//!   content coding the transport could not decode ([`body`]);
//! - [`failure`]: which failures a retry can help (a rejected certificate is final, a
//!   broken connection is not), which answers show that a server does not speak TLS, and
//!   [`HyperRustls`], the recognition of the error types of the stack both backends run on,
//!   over [`error_chain`], which walks an error's causes through the `io::Error`s that wrap
//!   them;
//! - [`RequestLabel`]: how a message names the request (`METHOD scheme://host:port/path`)
//!   without its query string, user info or header values;
//! - [`ProxyEnv`]: which proxies the environment names, loopback always excluded;
//! - [`Exchange`]: the Tokio runtime check every `send` starts with, and the `tracing`
//!   debug event every exchange ends with;
//! - [`user_agent`].
//!
//! It depends on `auth-core` (for [`TransportError`](auth_core::TransportError)) and on the
//! error types of hyper and rustls, never on an API crate.
//!
//! ```
//! use http_common::{LimitedBody, RequestLabel};
//!
//! let request = http::Request::get("https://api.example.test/v1/events?key=s3cr3t").body(())?;
//! let label = RequestLabel::of(&request);
//! let mut body = LimitedBody::start(&label, 8, &http::HeaderMap::new(), None)?;
//! body.push(b"12345")?;
//! let err = body.push(b"6789").unwrap_err();
//! assert_eq!(err.kind(), auth_core::TransportErrorKind::BodyTooLarge);
//! assert!(!err.to_string().contains("s3cr3t"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod body;
pub mod error_chain;
mod exchange;
pub mod failure;
mod proxy_env;
mod request_label;

pub use body::LimitedBody;
pub use exchange::Exchange;
pub use failure::HyperRustls;
pub use proxy_env::{LOOPBACK_NO_PROXY, ProxyEnv};
pub use request_label::RequestLabel;

/// The `User-Agent` a transport crate sends: `"<crate>/<version> auth-core/<version>"`.
///
/// ```
/// let agent = http_common::user_agent("http-hyper", "1.2.3");
/// assert_eq!(agent, format!("http-hyper/1.2.3 auth-core/{}", auth_core::VERSION));
/// ```
pub fn user_agent(crate_name: &str, crate_version: &str) -> String {
    format!(
        "{crate_name}/{crate_version} auth-core/{}",
        auth_core::VERSION
    )
}
