//! An RFC 8252 §7.3 loopback redirect receiver for browser logins.
//!
//! A native app or CLI that logs a person in through their browser needs somewhere for
//! the authorization server to send the browser back to. RFC 8252 §7.3 says: listen on
//! the loopback interface, on any free port, and use `http://127.0.0.1:{port}/{path}` as
//! the redirect URI. This crate does exactly that and nothing more:
//!
//! 1. [`LoopbackReceiver::bind`] opens the listener first, so that the exact redirect URI
//!    (with its port) is known before the client registers or builds the authorization
//!    URL: some servers compare the port exactly.
//! 2. [`LoopbackReceiver::wait`] serves requests until the one that matches the path
//!    arrives, answering anything else (`/favicon.ico`, a probe) with `404` and waiting on.
//!    The browser gets a short page saying it may close the tab.
//! 3. The listener closes when `wait` returns or the receiver is dropped: a second callback
//!    finds nothing listening.
//!
//! The callback URL is returned as received; checking `state`, `iss` and exchanging the
//! code is the OAuth layer's job (`auth-core`'s `PendingAuthorization`). This crate never
//! logs the query string, which holds the code and state.
//!
//! ```no_run
//! use std::time::Duration;
//! use auth_loopback::{LoopbackConfig, LoopbackReceiver};
//!
//! # async fn run() -> Result<(), auth_loopback::Error> {
//! let receiver = LoopbackReceiver::bind(LoopbackConfig::default()).await?;
//! println!("redirect URI: {}", receiver.redirect_uri());
//! // ... build the authorization URL with that redirect URI, show it to the person ...
//! let callback = receiver.wait(Duration::from_secs(300)).await?;
//! assert_eq!(callback.path(), "/callback");
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use url::Url;

/// The largest request head read from the browser. Callback URLs are short; anything
/// larger is not a callback.
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// How long one connection may take to send its request head. Browsers open speculative
/// connections and leave them idle; each connection is served on its own task, so an
/// idle one never delays the real callback.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything that can go wrong while receiving the callback.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The listener could not be opened (port in use, no IPv6): choose another port or
    /// address family.
    #[error("could not listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// No callback arrived in time: start the login again.
    #[error("no login callback arrived within {} seconds: start the login again", .0.as_secs())]
    TimedOut(Duration),
    /// The configured callback path is not usable (it must start with `/`).
    #[error("invalid callback path {0:?}: it must start with '/' and hold no query")]
    InvalidPath(String),
    /// Accepting connections failed.
    #[error("the login listener failed: {0}")]
    Accept(#[source] io::Error),
}

/// Which loopback address to listen on (RFC 8252 §7.3 recommends the IP literal over
/// `localhost`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LoopbackHost {
    /// `127.0.0.1`.
    #[default]
    Ipv4,
    /// `[::1]`.
    Ipv6,
}

/// Where and how to listen.
///
/// ```
/// use auth_loopback::{LoopbackConfig, LoopbackHost};
///
/// let config = LoopbackConfig::default()
///     .with_host(LoopbackHost::Ipv6)
///     .with_port(8400)
///     .with_path("/oauth/callback");
/// assert_eq!(config.port, 8400);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoopbackConfig {
    /// The address family.
    pub host: LoopbackHost,
    /// The port; `0` lets the system choose a free one.
    pub port: u16,
    /// The callback path, `/callback` by default.
    pub path: String,
}

impl Default for LoopbackConfig {
    fn default() -> Self {
        Self {
            host: LoopbackHost::Ipv4,
            port: 0,
            path: "/callback".to_owned(),
        }
    }
}

impl LoopbackConfig {
    /// Sets the address family.
    #[must_use]
    pub fn with_host(mut self, host: LoopbackHost) -> Self {
        self.host = host;
        self
    }

    /// Sets the port (`0` for any free port).
    #[must_use]
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Sets the callback path.
    #[must_use]
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }
}

/// A bound listener waiting for one authorization callback.
pub struct LoopbackReceiver {
    listener: TcpListener,
    redirect_uri: Url,
}

impl fmt::Debug for LoopbackReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopbackReceiver")
            .field("redirect_uri", &self.redirect_uri.as_str())
            .finish_non_exhaustive()
    }
}

impl LoopbackReceiver {
    /// Opens the listener. The redirect URI is known from here on.
    pub async fn bind(config: LoopbackConfig) -> Result<Self, Error> {
        if !config.path.starts_with('/') || config.path.contains(['?', '#']) {
            return Err(Error::InvalidPath(config.path));
        }
        let addr = match config.host {
            LoopbackHost::Ipv4 => SocketAddr::from((Ipv4Addr::LOCALHOST, config.port)),
            LoopbackHost::Ipv6 => SocketAddr::from((Ipv6Addr::LOCALHOST, config.port)),
        };
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| Error::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| Error::Bind { addr, source })?;
        let redirect_uri = Url::parse(&format!("http://{local}{}", config.path))
            .map_err(|_| Error::InvalidPath(config.path.clone()))?;
        Ok(Self {
            listener,
            redirect_uri,
        })
    }

    /// The exact redirect URI to register and to send in the authorization request.
    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// The port the listener is bound to.
    pub fn port(&self) -> u16 {
        self.redirect_uri.port().unwrap_or(0)
    }

    /// Serves requests until the callback arrives or `timeout` passes, then closes the
    /// listener. Returns the callback URL as the browser requested it (the redirect URI
    /// with the server's query parameters).
    pub async fn wait(self, timeout: Duration) -> Result<Url, Error> {
        match tokio::time::timeout(timeout, self.serve()).await {
            Ok(result) => result,
            Err(_) => Err(Error::TimedOut(timeout)),
        }
    }

    async fn serve(self) -> Result<Url, Error> {
        let (found_tx, mut found_rx) = mpsc::channel::<Url>(1);
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let (stream, _) = accepted.map_err(Error::Accept)?;
                    let redirect_uri = self.redirect_uri.clone();
                    let found_tx = found_tx.clone();
                    connections.spawn(async move {
                        if let Some(url) = handle(stream, &redirect_uri).await {
                            let _ = found_tx.send(url).await;
                        }
                    });
                }
                Some(url) = found_rx.recv() => {
                    // Give other in-flight connections no further service: dropping the
                    // set aborts them, dropping the listener refuses new ones.
                    connections.abort_all();
                    return Ok(url);
                }
                // Reap finished connection tasks so the set does not grow without bound.
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    }
}

/// Serves one connection; returns the callback URL if this was the callback.
async fn handle(mut stream: TcpStream, redirect_uri: &Url) -> Option<Url> {
    let head = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await {
        Ok(Some(head)) => head,
        _ => return None,
    };
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    let target = match request.parse(&head) {
        Ok(httparse::Status::Complete(_)) => request.path.map(str::to_owned),
        _ => None,
    };
    let Some(target) = target else {
        respond(&mut stream, "400 Bad Request", PAGE_NOT_FOUND).await;
        return None;
    };
    let Ok(url) = redirect_uri.join(&target) else {
        respond(&mut stream, "400 Bad Request", PAGE_NOT_FOUND).await;
        return None;
    };
    if url.path() != redirect_uri.path() {
        tracing::debug!(path = url.path(), "not the callback path; answering 404");
        respond(&mut stream, "404 Not Found", PAGE_NOT_FOUND).await;
        return None;
    }
    if request.method != Some("GET") {
        respond(&mut stream, "405 Method Not Allowed", PAGE_NOT_FOUND).await;
        return None;
    }
    let failed = url.query_pairs().any(|(key, _)| key == "error");
    let page = if failed { PAGE_FAILED } else { PAGE_DONE };
    respond(&mut stream, "200 OK", page).await;
    Some(url)
}

/// Reads until the end of the request head (`\r\n\r\n`), at most [`MAX_HEAD_BYTES`].
async fn read_head(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        head.extend_from_slice(&chunk[..n]);
        if head.windows(4).any(|w| w == b"\r\n\r\n") {
            return Some(head);
        }
        if head.len() > MAX_HEAD_BYTES {
            return None;
        }
    }
}

async fn respond(stream: &mut TcpStream, status: &str, body: &str) {
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\ncache-control: no-store\r\nreferrer-policy: no-referrer\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    // The browser may already have gone; nothing to do about a failed write.
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

const PAGE_DONE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Signed in</title></head>\
<body><h1>You are signed in.</h1><p>You may close this tab and return to the terminal.</p></body></html>";

const PAGE_FAILED: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign-in failed</title></head>\
<body><h1>Sign-in did not complete.</h1><p>You may close this tab; the terminal says what happened.</p></body></html>";

const PAGE_NOT_FOUND: &str = "<!doctype html><html><body><p>Not found.</p></body></html>";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn rejects_bad_paths() {
        for path in ["callback", "/cb?x=1", "/cb#f"] {
            let err = LoopbackReceiver::bind(LoopbackConfig::default().with_path(path))
                .await
                .unwrap_err();
            assert!(matches!(err, Error::InvalidPath(_)), "{path}");
        }
    }

    #[tokio::test]
    async fn redirect_uri_names_the_bound_port() {
        let receiver = LoopbackReceiver::bind(LoopbackConfig::default())
            .await
            .unwrap();
        let uri = receiver.redirect_uri();
        assert_eq!(uri.scheme(), "http");
        assert_eq!(uri.host_str(), Some("127.0.0.1"));
        assert_ne!(receiver.port(), 0);
        assert_eq!(uri.path(), "/callback");
    }
}
