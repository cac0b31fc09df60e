//! An RFC 8252 §7.3 loopback redirect receiver for browser logins.
//!
//! A native app or CLI that logs a person in through their browser needs somewhere for
//! the authorization server to send the browser back to. RFC 8252 §7.3 says: listen on
//! the loopback interface, on any free port, and use `http://127.0.0.1:{port}/{path}` as
//! the redirect URI. This crate does exactly that and nothing more:
//!
//! 1. [`LoopbackReceiver::bind`] opens the listener first, so that the exact redirect URI
//!    (with its port) is known before the client registers or builds the authorization
//!    URL: some servers compare the port exactly. A `localhost` redirect URI
//!    ([`LoopbackHost::Localhost`]) listens on both `127.0.0.1` and `[::1]`, since the
//!    browser may resolve the name to either (RFC 8252 §8.3); an IP literal listens on
//!    that family only.
//! 2. [`LoopbackReceiver::receive`] serves requests until a request to the callback path
//!    arrives that the caller's `accept` function takes. Anything else on another path
//!    (`/favicon.ico`, a probe) gets `404`; a request to the callback path that `accept`
//!    refuses (a stray or forged one) gets the caller's error page, and the wait goes
//!    on until the timeout.
//! 3. The browser that brought the accepted callback is *not* answered yet: its
//!    connection is held open in the returned [`PendingCallback`] until the caller knows
//!    how the login ended and gives the page that says so
//!    ([`PendingCallback::respond`]), or until the answer timeout passes (a neutral page
//!    that sends the person to the terminal).
//! 4. The listener closes when `receive` returns or the receiver is dropped: a second
//!    callback finds nothing listening.
//!
//! This crate knows nothing of OAuth: the caller decides which callbacks are genuine (for
//! OAuth, the one whose `state` matches) and what the pages say. It never logs the query
//! string, which holds the code and state, and escapes every text it puts in a page.
//!
//! ```no_run
//! use std::time::Duration;
//! use auth_loopback::{LoopbackConfig, LoopbackReceiver, Page, Verdict};
//!
//! # async fn run() -> Result<(), auth_loopback::Error> {
//! let receiver = LoopbackReceiver::bind(LoopbackConfig::default()).await?;
//! println!("redirect URI: {}", receiver.redirect_uri());
//! // ... build the authorization URL with that redirect URI, show it to the person ...
//! let expected_state = "s3cr3t";
//! let callback = receiver
//!     .receive(Duration::from_secs(300), |url| {
//!         if url.query_pairs().any(|(k, v)| k == "state" && v == expected_state) {
//!             Verdict::Accept
//!         } else {
//!             Verdict::Reject(Page::failure("Not this login", "This response belongs to another sign-in."))
//!         }
//!     })
//!     .await?;
//! assert_eq!(callback.url().path(), "/callback");
//! // ... check the callback, exchange the code ...
//! callback.respond(Page::success("Signed in", "You may close this tab.")).await;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use url::Url;

/// The largest request head read from the browser. Callback URLs are short; anything
/// larger is not a callback.
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// How long one connection may take to send its request head. Browsers open speculative
/// connections and leave them idle; each connection is served on its own task, so an
/// idle one never delays the real callback.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The default [`LoopbackConfig::answer_timeout`].
pub const DEFAULT_ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

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

/// Which loopback address to listen on (RFC 8252 §7.3 recommends an IP literal; §8.3
/// says that a `localhost` redirect URI must be served on both families).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LoopbackHost {
    /// `127.0.0.1`.
    #[default]
    Ipv4,
    /// `[::1]`.
    Ipv6,
    /// `localhost`, listening on both `127.0.0.1` and `[::1]` (IPv4 alone where the
    /// system has no IPv6), for servers that register only `localhost` redirect URIs.
    Localhost,
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
    /// How long the browser that brought the accepted callback waits for the outcome
    /// page before getting a neutral one (60 s by default).
    pub answer_timeout: Duration,
}

impl Default for LoopbackConfig {
    fn default() -> Self {
        Self {
            host: LoopbackHost::Ipv4,
            port: 0,
            path: "/callback".to_owned(),
            answer_timeout: DEFAULT_ANSWER_TIMEOUT,
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

    /// Sets how long the accepted callback's browser waits for its page.
    #[must_use]
    pub fn with_answer_timeout(mut self, timeout: Duration) -> Self {
        self.answer_timeout = timeout;
        self
    }
}

/// Whether a request to the callback path is the one being waited for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// It is: stop listening and hand it to the caller, keeping the browser waiting for
    /// the outcome page.
    Accept,
    /// It is not (a stray or forged request): answer it with this page and keep waiting.
    Reject(Page),
}

/// Whether a page reports success or failure; decides its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PageKind {
    /// `200 OK`.
    Success,
    /// `400 Bad Request`.
    Failure,
}

/// A short HTML page for the browser: a heading and a sentence, both plain text (they
/// are HTML-escaped here, so a server's `error_description` cannot inject markup).
///
/// ```
/// use auth_loopback::Page;
///
/// let page = Page::failure("Sign-in refused", "The server said: <b>no</b>");
/// assert!(page.html().contains("&lt;b&gt;no&lt;/b&gt;"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Page {
    /// Success or failure.
    pub kind: PageKind,
    /// The title and heading.
    pub heading: String,
    /// The sentence under it.
    pub detail: String,
}

impl Page {
    /// A page saying that things went well.
    pub fn success(heading: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            kind: PageKind::Success,
            heading: heading.into(),
            detail: detail.into(),
        }
    }

    /// A page saying that things did not.
    pub fn failure(heading: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            kind: PageKind::Failure,
            heading: heading.into(),
            detail: detail.into(),
        }
    }

    /// The page sent when the caller gives none in time: it claims nothing.
    fn undecided() -> Self {
        Self::failure(
            "Return to the terminal",
            "The sign-in was received; the terminal says how it ended. You may close this tab.",
        )
    }

    fn status(&self) -> &'static str {
        match self.kind {
            PageKind::Success => "200 OK",
            PageKind::Failure => "400 Bad Request",
        }
    }

    /// The page as HTML, its texts escaped.
    pub fn html(&self) -> String {
        let heading = escape_html(&self.heading);
        format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>{heading}</title></head>\
<body><h1>{heading}</h1><p>{}</p></body></html>",
            escape_html(&self.detail)
        )
    }
}

/// Escapes the five characters that matter in HTML text and attribute values.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The accepted callback, with the browser still waiting for its page.
///
/// Give the outcome with [`respond`](Self::respond). Dropped without an answer, or
/// answered after the [answer timeout](LoopbackConfig::answer_timeout), the browser gets
/// a neutral page that sends the person to the terminal.
pub struct PendingCallback {
    url: Url,
    answer: oneshot::Sender<(Page, oneshot::Sender<()>)>,
}

impl fmt::Debug for PendingCallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The query holds the code and state.
        f.debug_struct("PendingCallback")
            .field("path", &self.url.path())
            .finish_non_exhaustive()
    }
}

impl PendingCallback {
    /// The callback URL as the browser requested it (the redirect URI with the server's
    /// query parameters).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Answers the browser with `page`, closes its connection, and returns once the page
    /// is written (so that a program may exit right after). Returns at once if the
    /// browser has gone or the answer timeout has passed.
    pub async fn respond(self, page: Page) {
        let (written, done) = oneshot::channel();
        if self.answer.send((page, written)).is_ok() {
            let _ = done.await;
        }
    }
}

/// A bound listener waiting for one authorization callback.
pub struct LoopbackReceiver {
    listeners: Vec<TcpListener>,
    redirect_uri: Url,
    answer_timeout: Duration,
}

impl fmt::Debug for LoopbackReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopbackReceiver")
            .field("redirect_uri", &self.redirect_uri.as_str())
            .field("listeners", &self.listeners.len())
            .finish_non_exhaustive()
    }
}

/// How many times a `localhost` receiver on a system-chosen port tries for a port free
/// in both families.
const DUAL_BIND_TRIES: usize = 8;

impl LoopbackReceiver {
    /// Opens the listener (two, for [`LoopbackHost::Localhost`]). The redirect URI is
    /// known from here on.
    pub async fn bind(config: LoopbackConfig) -> Result<Self, Error> {
        if !config.path.starts_with('/') || config.path.contains(['?', '#']) {
            return Err(Error::InvalidPath(config.path));
        }
        let (listeners, host) = match config.host {
            LoopbackHost::Ipv4 => (
                vec![listen(SocketAddr::from((Ipv4Addr::LOCALHOST, config.port))).await?],
                None,
            ),
            LoopbackHost::Ipv6 => (
                vec![listen(SocketAddr::from((Ipv6Addr::LOCALHOST, config.port))).await?],
                None,
            ),
            LoopbackHost::Localhost => (bind_both(config.port).await?, Some("localhost")),
        };
        let local = listeners[0].local_addr().map_err(|source| Error::Bind {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, config.port)),
            source,
        })?;
        let authority = match host {
            Some(name) => format!("{name}:{}", local.port()),
            None => local.to_string(),
        };
        let redirect_uri = Url::parse(&format!("http://{authority}{}", config.path))
            .map_err(|_| Error::InvalidPath(config.path.clone()))?;
        Ok(Self {
            listeners,
            redirect_uri,
            answer_timeout: config.answer_timeout,
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

    /// The addresses listened on: one, or two for [`LoopbackHost::Localhost`] where the
    /// system has IPv6.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }

    /// Serves requests until a `GET` of the callback path that `accept` takes arrives,
    /// or `timeout` passes; then closes the listener. Callbacks `accept` rejects are
    /// answered with its page and the wait goes on. The accepted one's browser waits for
    /// [`PendingCallback::respond`].
    ///
    /// # Errors
    ///
    /// [`Error::TimedOut`] when no accepted callback came within `timeout`;
    /// [`Error::Accept`] when the listener fails.
    pub async fn receive<F>(self, timeout: Duration, accept: F) -> Result<PendingCallback, Error>
    where
        F: FnMut(&Url) -> Verdict + Send,
    {
        match tokio::time::timeout(timeout, self.serve(accept)).await {
            Ok(result) => result,
            Err(_) => Err(Error::TimedOut(timeout)),
        }
    }

    async fn serve<F>(self, mut accept: F) -> Result<PendingCallback, Error>
    where
        F: FnMut(&Url) -> Verdict + Send,
    {
        let (found_tx, mut found_rx) = mpsc::channel::<(Url, TcpStream)>(8);
        let mut connections = JoinSet::new();
        let (first, second) = match self.listeners.as_slice() {
            [first] => (first, None),
            [first, second, ..] => (first, Some(second)),
            // `bind` always opens at least one.
            [] => return Err(Error::Accept(io::Error::other("no listener"))),
        };
        loop {
            let accepted = tokio::select! {
                accepted = first.accept() => accepted,
                accepted = accept_on(second) => accepted,
                Some((url, stream)) = found_rx.recv() => {
                    match accept(&url) {
                        Verdict::Accept => {
                            // Other in-flight connections get no further service:
                            // dropping the set aborts them, dropping the listeners refuses
                            // new ones. The browser's own connection lives on.
                            connections.abort_all();
                            let (answer, page) = oneshot::channel();
                            tokio::spawn(answer_when_known(stream, page, self.answer_timeout));
                            return Ok(PendingCallback { url, answer });
                        }
                        Verdict::Reject(page) => {
                            tracing::debug!("a callback the caller does not expect; answering it and waiting on");
                            connections.spawn(async move {
                                let mut stream = stream;
                                respond(&mut stream, page.status(), &page.html()).await;
                            });
                        }
                    }
                    continue;
                }
                // Reap finished connection tasks so the set does not grow without bound.
                Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            };
            let (stream, _) = accepted.map_err(Error::Accept)?;
            let redirect_uri = self.redirect_uri.clone();
            let found_tx = found_tx.clone();
            connections.spawn(async move {
                if let Some(callback) = handle(stream, &redirect_uri).await {
                    let _ = found_tx.send(callback).await;
                }
            });
        }
    }
}

/// Accepts on the second listener, or never when there is none.
async fn accept_on(listener: Option<&TcpListener>) -> io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(listener) => listener.accept().await,
        None => std::future::pending().await,
    }
}

async fn listen(addr: SocketAddr) -> Result<TcpListener, Error> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Bind { addr, source })
}

/// `127.0.0.1` and `[::1]` on the same port. Without IPv6 on the system, IPv4 alone.
async fn bind_both(port: u16) -> Result<Vec<TcpListener>, Error> {
    let mut last = None;
    for _ in 0..DUAL_BIND_TRIES {
        let v4 = listen(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
        let chosen = v4
            .local_addr()
            .map_err(|source| Error::Bind {
                addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
                source,
            })?
            .port();
        let addr = SocketAddr::from((Ipv6Addr::LOCALHOST, chosen));
        match TcpListener::bind(addr).await {
            Ok(v6) => return Ok(vec![v4, v6]),
            // No IPv6 here: the browser can only reach IPv4.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::AddrNotAvailable | io::ErrorKind::Unsupported
                ) || e.raw_os_error() == Some(EAFNOSUPPORT) =>
            {
                return Ok(vec![v4]);
            }
            // The port is taken in the other family: with a system-chosen port, try
            // another; with a given one, that is the caller's to solve.
            Err(source) if port == 0 => last = Some(Error::Bind { addr, source }),
            Err(source) => return Err(Error::Bind { addr, source }),
        }
    }
    Err(last.unwrap_or_else(|| Error::Accept(io::Error::other("no free port"))))
}

/// `EAFNOSUPPORT` on Linux and the BSDs' `EAFNOSUPPORT` (47): a kernel without IPv6.
#[cfg(target_os = "linux")]
const EAFNOSUPPORT: i32 = 97;
#[cfg(not(target_os = "linux"))]
const EAFNOSUPPORT: i32 = 47;

/// Waits for the caller's page (or the timeout) and answers the browser with it, then
/// tells the caller the page is written.
async fn answer_when_known(
    mut stream: TcpStream,
    answer: oneshot::Receiver<(Page, oneshot::Sender<()>)>,
    wait: Duration,
) {
    let (page, written) = match tokio::time::timeout(wait, answer).await {
        Ok(Ok((page, written))) => (page, Some(written)),
        // Dropped without an answer, or too late: claim nothing.
        _ => (Page::undecided(), None),
    };
    // A browser that stops reading must not hold the caller: the page is small, so this
    // only waits on a peer that is gone.
    let _ = tokio::time::timeout(
        READ_TIMEOUT,
        respond(&mut stream, page.status(), &page.html()),
    )
    .await;
    if let Some(written) = written {
        let _ = written.send(());
    }
}

/// Serves one connection; returns it with the URL if this is a `GET` of the callback
/// path, for the caller to judge and answer.
async fn handle(mut stream: TcpStream, redirect_uri: &Url) -> Option<(Url, TcpStream)> {
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
    Some((url, stream))
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

    #[test]
    fn a_pending_callbacks_debug_leaves_out_the_query() {
        let (answer, _) = oneshot::channel();
        let pending = PendingCallback {
            url: Url::parse("http://127.0.0.1:1/callback?code=SECRET_CODE&state=SECRET_STATE")
                .unwrap(),
            answer,
        };
        let debug = format!("{pending:?}");
        assert!(!debug.contains("SECRET"), "{debug}");
        assert!(debug.contains("/callback"), "{debug}");
    }

    #[test]
    fn pages_escape_their_texts_and_have_the_status_of_their_kind() {
        let page = Page::failure("<h1>x</h1>", "a \"b\" & 'c'\u{1b}[2J");
        let html = page.html();
        assert!(html.contains("&lt;h1&gt;x&lt;/h1&gt;"), "{html}");
        assert!(
            html.contains("a &quot;b&quot; &amp; &#39;c&#39; [2J"),
            "{html}"
        );
        assert!(!html.contains('\u{1b}'), "{html}");
        assert_eq!(page.status(), "400 Bad Request");
        assert_eq!(Page::success("a", "b").status(), "200 OK");
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
