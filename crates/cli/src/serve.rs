//! `attend sandbox serve`: the sandbox for other programs, on one loopback port, until
//! Ctrl-C.
//!
//! The Attendium sandbox is mounted on the listening port (its issuer is that origin); the
//! Communico sandbox runs on a port of its own and is reached through `/communico/` on
//! the same port, relayed as is, so a program needs one address and `--port` fixes it.

use std::io::Write;
use std::sync::Arc;

use auth_core::HttpTransport;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use sandbox::attendium::{Attendium, AttendiumConfig};

use crate::cli::ServeArgs;
use crate::embedded;
use crate::exit::{Failure, Kind};

/// The largest request body relayed to the Communico sandbox.
const MAX_RELAYED_BODY: usize = 1024 * 1024;

struct Relay {
    transport: Arc<dyn HttpTransport>,
    /// The Communico sandbox's origin, `http://127.0.0.1:<port>`.
    origin: String,
}

/// Serves until Ctrl-C.
pub(crate) async fn run(args: ServeArgs, transport: Arc<dyn HttpTransport>) -> Result<(), Failure> {
    let first_day = args.from.unwrap_or_else(embedded::today);
    let config = embedded::communico_config(first_day).events(args.events);
    let communico_sandbox = embedded::start_communico(config).await?;
    let Some(communico) = communico_sandbox.communico() else {
        return Err(Failure::new(
            Kind::Unexpected,
            "the Communico sandbox did not start",
        ));
    };
    let port = args.port.unwrap_or(0);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| {
            Failure::new(Kind::Io, format!("cannot listen on 127.0.0.1:{port}: {e}"))
                .next("choose another --port, or leave it out for any free port")
        })?;
    let addr = listener
        .local_addr()
        .map_err(|e| Failure::io("the sandbox's port", &e))?;
    let origin = format!("http://{addr}");
    let issuer = url::Url::parse(&origin)
        .map_err(|e| Failure::new(Kind::Unexpected, format!("bad sandbox origin: {e}")))?;
    let attendium = Attendium::new(AttendiumConfig::new(), issuer)
        .map_err(|e| Failure::new(Kind::Unexpected, format!("cannot start the sandbox: {e}")))?;
    let relay = Arc::new(Relay {
        transport,
        origin: communico_sandbox.base_url(),
    });
    let communico_prefix = sandbox::communico::PREFIX;
    let router = attendium.router().merge(
        axum::Router::new()
            .route(
                &format!("{communico_prefix}/{{*rest}}"),
                axum::routing::any(relay_request),
            )
            .with_state(relay),
    );

    // Listen for Ctrl-C before saying the server is up, so that an interrupt sent as soon
    // as the banner appears stops it gracefully instead of killing it.
    let interrupted = interrupt_signal()?;

    let communico_url = format!("{origin}{communico_prefix}");
    let mut out = std::io::stdout().lock();
    // Demo credentials only: the sandbox has no real secrets, so printing them is the point.
    writeln!(
        out,
        "Sandbox running (Ctrl-C to stop).\n\n\
         Communico API:      {communico_url}\n  \
           COMMUNICO_BASE_URL={communico_url}\n  \
           COMMUNICO_CLIENT_KEY={key}\n  \
           COMMUNICO_CLIENT_SECRET={secret}\n  \
           data: {events} events, {per_day} a day from {first_day}\n\n\
         Attendium issuer:   {origin}\n  \
           ATTENDIUM_ISSUER={origin}\n  \
           ATTENDIUM_API_URL={graphql}\n  \
           logins are approved at once as the demo user\n",
        key = communico.key(),
        secret = communico.secret(),
        events = communico.event_count(),
        per_day = embedded::EVENTS_PER_DAY,
        graphql = attendium.graphql_endpoint(),
    )?;
    out.flush()?;
    drop(out);

    axum::serve(listener, router)
        .with_graceful_shutdown(interrupted)
        .await
        .map_err(|e| Failure::io("the sandbox's port", &e))?;
    eprintln!("Sandbox stopped.");
    communico_sandbox.shutdown().await;
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

/// Relays one request to the Communico sandbox, path and query unchanged.
async fn relay_request(State(relay): State<Arc<Relay>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned());
    let body = match axum::body::to_bytes(body, MAX_RELAYED_BODY).await {
        Ok(body) => body,
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response(),
    };
    let mut forward = http::Request::new(body);
    *forward.method_mut() = parts.method;
    *forward.uri_mut() = match format!("{}{path_and_query}", relay.origin).parse() {
        Ok(uri) => uri,
        Err(_) => return (StatusCode::BAD_REQUEST, "bad request target").into_response(),
    };
    for (name, value) in &parts.headers {
        if name != http::header::HOST && name != http::header::CONTENT_LENGTH {
            forward.headers_mut().append(name, value.clone());
        }
    }
    match relay.transport.send(forward).await {
        Ok(answer) => {
            let (mut parts, body) = answer.into_parts();
            // Hop-by-hop headers describe the other connection, not this one.
            parts.headers.remove(http::header::TRANSFER_ENCODING);
            parts.headers.remove(http::header::CONNECTION);
            Response::from_parts(parts, Body::from(body))
        }
        Err(e) => (StatusCode::BAD_GATEWAY, format!("sandbox relay: {e}")).into_response(),
    }
}
