//! `attend sandbox serve`: both sandbox services on one loopback port, for other
//! programs, until Ctrl-C.

use std::io::Write;

use crate::cli::ServeArgs;
use crate::embedded;
use crate::exit::{Failure, Kind};

/// Serves until Ctrl-C.
pub(crate) async fn run(args: ServeArgs) -> Result<(), Failure> {
    let first_day = args.from.unwrap_or_else(embedded::today);
    let sandbox = embedded::start(embedded::Services {
        communico: Some(embedded::communico_config(first_day).events(args.events as usize)),
        attendium: Some(embedded::attendium_config()),
        port: args.port,
    })
    .await?;
    let (Some(communico), Some(attendium)) = (sandbox.communico(), sandbox.attendium()) else {
        return Err(Failure::new(
            Kind::Unexpected,
            "the sandbox started without its services",
        ));
    };
    // Listen for Ctrl-C before saying the server is up, so that an interrupt sent as soon
    // as the banner appears stops it gracefully instead of killing it.
    let interrupted = interrupt_signal()?;

    let communico_url = communico.base_url();
    let issuer = attendium.issuer();
    let mut out = std::io::stdout().lock();
    // Demo credentials only: the sandbox has no real secrets, so printing them is the point.
    writeln!(
        out,
        "Sandbox running on {origin} (Ctrl-C to stop).\n\n\
         Communico API:      {communico_url}\n  \
           COMMUNICO_BASE_URL={communico_url}\n  \
           COMMUNICO_CLIENT_KEY={key}\n  \
           COMMUNICO_CLIENT_SECRET={secret}\n  \
           data: {events} events, {per_day} a day from {first_day}\n  \
           change them: attend sandbox event --url {communico_url} add|edit|cancel|reschedule|delete\n\n\
         Attendium issuer:   {issuer}\n  \
           ATTENDIUM_ISSUER={issuer}\n  \
           ATTENDIUM_API_URL={graphql}\n  \
           logins are approved at once as the demo user\n",
        origin = sandbox.base_url(),
        key = communico.key(),
        secret = communico.secret(),
        events = communico.event_count(),
        per_day = embedded::EVENTS_PER_DAY,
        graphql = attendium.graphql_endpoint(),
    )?;
    out.flush()?;
    drop(out);

    interrupted.await;
    sandbox.shutdown().await;
    eprintln!("Sandbox stopped.");
    Ok(())
}

/// Resolves at Ctrl-C. The handler is installed now, not at the first poll.
fn interrupt_signal() -> Result<impl Future<Output = ()>, Failure> {
    let cannot = |e: std::io::Error| {
        Failure::new(Kind::Unexpected, format!("cannot listen for Ctrl-C: {e}"))
    };
    #[cfg(unix)]
    let mut signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(cannot)?;
    #[cfg(windows)]
    let mut signal = tokio::signal::windows::ctrl_c().map_err(cannot)?;
    Ok(async move {
        signal.recv().await;
    })
}
