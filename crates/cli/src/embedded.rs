//! The sandbox, started in this process for `--sandbox`, and served for other programs by
//! `attend sandbox serve`.

use jiff::civil::Date;
use sandbox::Sandbox;
use sandbox::attendium::AttendiumConfig;
use sandbox::communico::CommunicoConfig;

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

/// The Attendium sandbox: it approves every login as its demo user, so a login completes
/// without a person.
pub(crate) fn attendium_config() -> AttendiumConfig {
    AttendiumConfig::new()
}

/// Today in the system's time zone: the default first day of the data set.
pub(crate) fn today() -> Date {
    jiff::Zoned::now().date()
}

/// Which services to start, and where.
#[derive(Debug, Default)]
pub(crate) struct Services {
    pub(crate) communico: Option<CommunicoConfig>,
    pub(crate) attendium: Option<AttendiumConfig>,
    /// `None`: any free port.
    pub(crate) port: Option<u16>,
}

/// Starts the sandbox on `127.0.0.1`, on the current runtime.
pub(crate) async fn start(services: Services) -> Result<Sandbox, Failure> {
    let mut builder = Sandbox::builder();
    if let Some(config) = services.communico {
        builder = builder.communico(config);
    }
    if let Some(config) = services.attendium {
        builder = builder.attendium(config);
    }
    if let Some(port) = services.port {
        builder = builder.port(port);
    }
    builder.start().await.map_err(|e| {
        let at = services
            .port
            .map_or_else(|| "a free port".to_owned(), |p| format!("port {p}"));
        let failure = Failure::new(
            Kind::Io,
            format!("cannot start the sandbox on 127.0.0.1, {at}: {e}"),
        );
        match services.port {
            Some(_) => failure.next("choose another --port, or leave it out for any free port"),
            None => failure.next(
                "check that the loopback interface (127.0.0.1) is up and not blocked, \
                 or run again with -v for details",
            ),
        }
    })
}
