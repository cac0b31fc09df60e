//! In-process fake servers for tests, benches and the CLI.
//!
//! A [`Sandbox`] is one HTTP server on `127.0.0.1:0` (a free port) hosting one or more
//! services, each under its own path prefix so that they never collide:
//!
//! - [`communico`]: a faithful Communico Client API (`/communico/v3/...`): token
//!   issuance with expiring tokens, the events, registrants, lookup, room and
//!   reservation endpoints over a deterministic data set, with fault injection and
//!   request counters.
//! - [`attendium`]: an OAuth 2.0 authorization server (discovery, registration, PKCE
//!   authorization, token with refresh rotation, revocation) and the bearer-protected
//!   `/graphql`, with the issuer `{base_url}/attendium` and switchable quirks and faults.
//!
//! Each service lives in its own module and contributes an [`axum::Router`] mounted by
//! [`SandboxBuilder::start`]; adding a service means adding a module, a builder method and
//! an accessor on [`Sandbox`], nothing else.
//!
//! The server runs on the tokio runtime it is started from and stops when the
//! [`Sandbox`] is dropped or [`Sandbox::shutdown`] is awaited.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! use sandbox::{Sandbox, communico::CommunicoConfig};
//!
//! let sandbox = Sandbox::builder()
//!     .communico(CommunicoConfig::default().events(100))
//!     .start()
//!     .await?;
//! let communico = sandbox.communico().expect("configured above");
//! assert!(communico.base_url().starts_with("http://127.0.0.1:"));
//! assert_eq!(communico.token_requests(), 0);
//! assert!(sandbox.attendium().is_none());
//! sandbox.shutdown().await;
//! # Ok(())
//! # }
//! ```

pub mod attendium;
pub mod communico;

use std::fmt;
use std::io;
use std::net::SocketAddr;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running sandbox server. Dropping it stops the server (in the background);
/// [`Sandbox::shutdown`] stops it and waits.
pub struct Sandbox {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    communico: Option<communico::CommunicoSandbox>,
    attendium: Option<attendium::Attendium>,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("addr", &self.addr)
            .field("communico", &self.communico.is_some())
            .field("attendium", &self.attendium.as_ref().map(|a| a.issuer()))
            .finish_non_exhaustive()
    }
}

/// The issuer path of the Attendium service: the issuer is `{base_url}/attendium`, so its
/// RFC 8414 metadata sits at `/.well-known/oauth-authorization-server/attendium`, outside
/// the issuer's path, as RFC 8414 §3.1 places it for issuers with a path.
pub const ATTENDIUM_PATH: &str = "/attendium";

/// Chooses the services of a [`Sandbox`]; made by [`Sandbox::builder`].
#[derive(Debug, Default)]
#[must_use]
pub struct SandboxBuilder {
    communico: Option<communico::CommunicoConfig>,
    attendium: Option<attendium::AttendiumConfig>,
    port: u16,
}

impl SandboxBuilder {
    /// Hosts a Communico Client API under [`communico::PREFIX`].
    pub fn communico(mut self, config: communico::CommunicoConfig) -> Self {
        self.communico = Some(config);
        self
    }

    /// Hosts an Attendium authorization server and GraphQL endpoint with the issuer
    /// `{base_url}`[`ATTENDIUM_PATH`].
    pub fn attendium(mut self, config: attendium::AttendiumConfig) -> Self {
        self.attendium = Some(config);
        self
    }

    /// Listens on this port of `127.0.0.1` instead of any free one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Binds `127.0.0.1` (on any free port unless [`port`](Self::port) was given) and
    /// starts serving on the current tokio runtime.
    ///
    /// # Errors
    /// When the socket cannot be bound.
    pub async fn start(self) -> io::Result<Sandbox> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port)).await?;
        let addr = listener.local_addr()?;
        let base = format!("http://{addr}");
        let mut router = axum::Router::new();
        let communico = self.communico.map(|config| {
            let (service, routes) = communico::CommunicoSandbox::new(config, &base);
            router = std::mem::take(&mut router).nest_service(communico::PREFIX, routes);
            router = std::mem::take(&mut router).nest_service(
                communico::admin::ADMIN_PREFIX,
                communico::admin::router(service.clone()),
            );
            service
        });
        let attendium = match self.attendium {
            Some(config) => {
                let issuer = url::Url::parse(&format!("{base}{ATTENDIUM_PATH}"))
                    .map_err(|e| io::Error::other(format!("sandbox issuer: {e}")))?;
                let service = attendium::Attendium::new(config, issuer)
                    .map_err(|e| io::Error::other(format!("sandbox issuer: {e}")))?;
                // Merged, not nested: the RFC 8414 document lives outside the issuer path.
                router = router.merge(service.router());
                Some(service)
            }
            None => None,
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let server = axum::serve(listener, router).with_graceful_shutdown(async move {
                // A dropped sender also means stop.
                let _ = stopped.await;
            });
            // The only errors are accept errors on a loopback socket: nothing to report
            // to, and the sandbox simply stops answering.
            let _ = server.await;
        });
        Ok(Sandbox {
            addr,
            stop: Some(stop),
            task: Some(task),
            communico,
            attendium,
        })
    }
}

impl Sandbox {
    /// A builder with no service yet.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// A sandbox hosting only the Communico API, with `config`.
    ///
    /// # Errors
    /// When the socket cannot be bound.
    pub async fn communico_only(config: communico::CommunicoConfig) -> io::Result<Sandbox> {
        Sandbox::builder().communico(config).start().await
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`, with no trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The Communico service, if it was configured.
    pub fn communico(&self) -> Option<&communico::CommunicoSandbox> {
        self.communico.as_ref()
    }

    /// The Attendium service, if it was configured.
    pub fn attendium(&self) -> Option<&attendium::Attendium> {
        self.attendium.as_ref()
    }

    /// Stops the server and waits until it has stopped.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
