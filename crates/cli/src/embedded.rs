//! The sandbox, started in this process for `--sandbox`, and served for other programs by
//! `attend sandbox serve`.

use std::io;
use std::net::SocketAddr;

use jiff::civil::Date;
use sandbox::Sandbox;
use sandbox::attendium::{Attendium, AttendiumConfig};
use sandbox::communico::CommunicoConfig;
use tokio::task::JoinHandle;

use crate::exit::{Failure, Kind};

/// Events per day in the embedded data set (the sandbox's default mix).
pub(crate) const EVENTS_PER_DAY: u32 = 30;

/// Days of events in the embedded data set.
pub(crate) const DAYS: usize = 365;

/// The Communico data set `--sandbox` serves: a year of events from `first_day`, the same
/// for the same day (the sandbox's data set is generated from a fixed seed).
pub(crate) fn communico_config(first_day: Date) -> CommunicoConfig {
    CommunicoConfig::default()
        .first_day(first_day)
        .events_per_day(EVENTS_PER_DAY)
        .events(DAYS * EVENTS_PER_DAY as usize)
}

/// Today in the system's time zone: the default first day of the data set.
pub(crate) fn today() -> Date {
    jiff::Zoned::now().date()
}

/// Starts the Communico sandbox on a free loopback port.
pub(crate) async fn start_communico(config: CommunicoConfig) -> Result<Sandbox, Failure> {
    Sandbox::builder()
        .communico(config)
        .start()
        .await
        .map_err(|e| sandbox_failure(&e))
}

/// A running Attendium sandbox: authorization server and GraphQL endpoint. It approves
/// every login as its demo user, so a login completes without a person.
pub(crate) struct AttendiumServer {
    server: Attendium,
    task: JoinHandle<()>,
}

impl AttendiumServer {
    /// Binds `127.0.0.1:port` (0: any free port) and serves.
    pub(crate) async fn start(port: u16) -> Result<Self, Failure> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| bind_failure(port, &e))?;
        let addr: SocketAddr = listener.local_addr().map_err(|e| sandbox_failure(&e))?;
        let issuer = url::Url::parse(&format!("http://{addr}"))
            .map_err(|e| Failure::new(Kind::Unexpected, format!("bad sandbox issuer: {e}")))?;
        let server = Attendium::new(AttendiumConfig::new(), issuer).map_err(|e| {
            Failure::new(Kind::Unexpected, format!("cannot start the sandbox: {e}"))
        })?;
        let router = server.router();
        let task = tokio::spawn(async move {
            // Accept errors on a loopback socket leave nothing to report to: the server
            // stops answering and the command using it reports the failed request.
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self { server, task })
    }

    /// The issuer URL, `http://127.0.0.1:<port>`.
    pub(crate) fn issuer(&self) -> &str {
        self.server.issuer()
    }

    /// The GraphQL endpoint.
    pub(crate) fn graphql_endpoint(&self) -> String {
        self.server.graphql_endpoint()
    }
}

impl Drop for AttendiumServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn sandbox_failure(error: &io::Error) -> Failure {
    Failure::io("a loopback port for the sandbox", error)
}

fn bind_failure(port: u16, error: &io::Error) -> Failure {
    Failure::new(
        Kind::Io,
        format!("cannot listen on 127.0.0.1:{port}: {error}"),
    )
    .next("choose another --port, or leave it out for any free port")
}
