//! `attend sandbox event ...`: changes the events of a running `attend sandbox serve`
//! (add, edit, cancel, reschedule, delete) through its sandbox-only routes
//! (`/_sandbox/communico/events`), so that a second `communico sync` has something to
//! find. Only loopback sandboxes are accepted: the real API has no such routes.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use auth_core::HttpTransport;
use auth_core::transport::RequestOptions;
use bytes::Bytes;
use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

use crate::exit::{Failure, Kind};

/// The sandbox-only path of the routes (`sandbox::communico::admin::ADMIN_PREFIX`).
const ADMIN_EVENTS: &str = "/_sandbox/communico/events";

#[derive(Debug, Args)]
pub(crate) struct SandboxEventArgs {
    /// The running sandbox: its address or its Communico base URL, as `attend sandbox
    /// serve` prints them (loopback only).
    #[arg(long, env = "COMMUNICO_BASE_URL", value_name = "URL")]
    pub(crate) url: String,
    #[command(subcommand)]
    pub(crate) command: EventChange,
}

#[derive(Debug, Subcommand)]
pub(crate) enum EventChange {
    /// Publish a new event; prints its eventId.
    Add {
        /// `title`.
        #[arg(long)]
        title: String,
        /// `eventStart`, local time: "YYYY-MM-DD HH:MM[:SS]".
        #[arg(long, value_name = "TIME")]
        start: String,
        /// `eventEnd`, local time.
        #[arg(long, value_name = "TIME")]
        end: String,
        /// `locationId` (415-434) [default: 415].
        #[arg(long = "location-id", value_name = "ID")]
        location_id: Option<u64>,
        /// `subTitle`.
        #[arg(long)]
        sub_title: Option<String>,
    },
    /// Change an event's title, times or branch.
    Edit {
        /// The event's id.
        id: u64,
        /// New `title`.
        #[arg(long)]
        title: Option<String>,
        /// New `eventStart`.
        #[arg(long, value_name = "TIME")]
        start: Option<String>,
        /// New `eventEnd`.
        #[arg(long, value_name = "TIME")]
        end: Option<String>,
        /// New `locationId`.
        #[arg(long = "location-id", value_name = "ID")]
        location_id: Option<u64>,
        /// New `subTitle`.
        #[arg(long)]
        sub_title: Option<String>,
    },
    /// Cancel an event (it stays listed with `modified: "canceled"`).
    Cancel {
        /// The event's id.
        id: u64,
    },
    /// Reschedule an event: it is marked `rescheduled` and a replacement is published;
    /// prints both ids.
    Reschedule {
        /// The event's id.
        id: u64,
        /// The replacement's `eventStart`.
        #[arg(long, value_name = "TIME")]
        start: String,
        /// The replacement's `eventEnd`.
        #[arg(long, value_name = "TIME")]
        end: String,
    },
    /// Delete an event: it leaves every listing.
    Delete {
        /// The event's id.
        id: u64,
    },
}

/// Sends the change and prints the sandbox's answer (one JSON object) on stdout.
pub(crate) async fn run(
    args: SandboxEventArgs,
    transport: Arc<dyn HttpTransport>,
) -> Result<(), Failure> {
    let base = admin_url(&args.url)?;
    let (method, path, body) = request_of(args.command);
    let mut request = http::Request::builder()
        .method(method)
        .uri(format!("{base}{path}"))
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Bytes::from(Value::Object(body).to_string()))
        .map_err(|e| Failure::usage(format!("cannot build the request: {e}")))?;
    RequestOptions::default()
        .with_timeout(Duration::from_secs(10))
        .apply(&mut request);
    let response = transport.send(request).await.map_err(|e| {
        Failure::new(Kind::Network, e.to_string())
            .next("check that `attend sandbox serve` is running at --url")
    })?;
    let status = response.status();
    let answer: Value = serde_json::from_slice(response.body()).map_err(|_| {
        Failure::new(
            Kind::Api,
            format!("{base} answered {status} with something that is not the sandbox's JSON"),
        )
        .next("check that --url is an `attend sandbox serve` address")
    })?;
    if !status.is_success() {
        let message = answer["error"].as_str().unwrap_or("no reason given");
        let kind = if status.is_client_error() {
            Kind::Usage
        } else {
            Kind::Api
        };
        return Err(Failure::new(
            kind,
            format!("the sandbox refused: {message}"),
        ));
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "{answer}")?;
    out.flush()?;
    Ok(())
}

/// The routes' URL on the sandbox at `url` (its origin, or any URL on it).
fn admin_url(url: &str) -> Result<String, Failure> {
    let parsed = url::Url::parse(url)
        .map_err(|e| Failure::usage(format!("--url `{url}` is not a URL: {e}")))?;
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    if parsed.scheme() != "http" || !loopback {
        return Err(Failure::usage(format!(
            "--url `{url}` is not a local sandbox (http on a loopback address)"
        ))
        .next("give the address `attend sandbox serve` printed"));
    }
    let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
    let host = parsed.host_str().unwrap_or("127.0.0.1");
    Ok(format!("http://{host}{port}{ADMIN_EVENTS}"))
}

fn put(body: &mut Map<String, Value>, name: &str, value: Option<Value>) {
    if let Some(value) = value {
        body.insert(name.to_owned(), value);
    }
}

fn request_of(change: EventChange) -> (http::Method, String, Map<String, Value>) {
    use http::Method;
    let mut body = Map::new();
    match change {
        EventChange::Add {
            title,
            start,
            end,
            location_id,
            sub_title,
        } => {
            put(&mut body, "title", Some(json!(title)));
            put(&mut body, "start", Some(json!(start)));
            put(&mut body, "end", Some(json!(end)));
            put(&mut body, "locationId", location_id.map(|l| json!(l)));
            put(&mut body, "subTitle", sub_title.map(|s| json!(s)));
            (Method::POST, String::new(), body)
        }
        EventChange::Edit {
            id,
            title,
            start,
            end,
            location_id,
            sub_title,
        } => {
            put(&mut body, "title", title.map(|t| json!(t)));
            put(&mut body, "start", start.map(|t| json!(t)));
            put(&mut body, "end", end.map(|t| json!(t)));
            put(&mut body, "locationId", location_id.map(|l| json!(l)));
            put(&mut body, "subTitle", sub_title.map(|s| json!(s)));
            (Method::PATCH, format!("/{id}"), body)
        }
        EventChange::Cancel { id } => (Method::POST, format!("/{id}/cancel"), body),
        EventChange::Reschedule { id, start, end } => {
            put(&mut body, "start", Some(json!(start)));
            put(&mut body, "end", Some(json!(end)));
            (Method::POST, format!("/{id}/reschedule"), body)
        }
        EventChange::Delete { id } => (Method::DELETE, format!("/{id}"), body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_sandboxes_are_accepted_whatever_url_of_theirs_is_given() {
        assert_eq!(
            admin_url("http://127.0.0.1:8080/communico").unwrap(),
            "http://127.0.0.1:8080/_sandbox/communico/events"
        );
        assert_eq!(
            admin_url("http://localhost:9").unwrap(),
            "http://localhost:9/_sandbox/communico/events"
        );
        for bad in ["https://api.communico.co", "http://10.0.0.1:80", "nonsense"] {
            assert!(admin_url(bad).is_err(), "{bad}");
        }
    }
}
