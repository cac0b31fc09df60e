//! Sandbox-only HTTP routes that change the Communico data set while it is served, so
//! that a program (or `attend sandbox event`) can add, edit, cancel, reschedule and delete
//! events between two listings. They call the mutation methods of
//! [`CommunicoSandbox`]; the real API has nothing like them, which is why they live
//! outside the API's prefix, under [`ADMIN_PREFIX`].
//!
//! | request | body (JSON) | answer |
//! | --- | --- | --- |
//! | `POST /_sandbox/communico/events` | `title`, `start`, `end`, optional `subTitle`, `locationId` | `201 {"eventId": N}` |
//! | `PATCH /_sandbox/communico/events/{id}` | any of `title`, `subTitle`, `start`, `end`, `locationId` | `200 {"eventId": N}` |
//! | `POST /_sandbox/communico/events/{id}/cancel` | none | `200 {"eventId": N}` |
//! | `POST /_sandbox/communico/events/{id}/reschedule` | `start`, `end` | `201 {"eventId": N, "newEventId": M}` |
//! | `DELETE /_sandbox/communico/events/{id}` | none | `200 {"eventId": N}` |
//!
//! Times are the API's library-local wall times, `YYYY-MM-DD HH:MM:SS` (or with a `T`).
//! Failures answer `{"error": "..."}`: `404` for an unknown event, `400` for a body that
//! cannot be used, `405` for another method.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::Response;
use jiff::civil::DateTime;
use serde_json::{Map, Value, json};

use crate::communico::{CommunicoSandbox, EditError, EventEdit};

/// Where the routes are mounted, beside the API's [`PREFIX`](crate::communico::PREFIX).
pub const ADMIN_PREFIX: &str = "/_sandbox/communico";

/// The largest request body read, in bytes.
const MAX_BODY: usize = 64 * 1024;

/// The routes, to be nested under [`ADMIN_PREFIX`].
pub(crate) fn router(sandbox: CommunicoSandbox) -> axum::Router {
    axum::Router::new().fallback(handle).with_state(sandbox)
}

fn answer(status: StatusCode, body: &Value) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

/// A refused request: its status and the reason given in `{"error": ...}`.
struct Refusal {
    status: StatusCode,
    message: String,
}

impl Refusal {
    fn response(self) -> Response {
        answer(self.status, &json!({"error": self.message}))
    }
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Refusal {
    Refusal {
        status,
        message: message.into(),
    }
}

fn edit_failure(error: &EditError) -> Refusal {
    let status = match error {
        EditError::UnknownEvent(_) => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    };
    refuse(status, error.to_string())
}

async fn handle(State(sandbox): State<CommunicoSandbox>, request: Request) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let body = match axum::body::to_bytes(request.into_body(), MAX_BODY).await {
        Ok(body) => body,
        Err(_) => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is over {MAX_BODY} bytes"),
            )
            .response();
        }
    };
    let fields = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(map)) => map,
            _ => {
                return refuse(StatusCode::BAD_REQUEST, "the body must be a JSON object")
                    .response();
            }
        }
    };
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let id = |s: &str| s.parse::<u64>().ok();
    let result = match (&method, segments.as_slice()) {
        (&Method::POST, ["events"]) => add(&sandbox, &fields),
        (&Method::PATCH, ["events", n]) if id(n).is_some() => {
            edit(&sandbox, id(n).unwrap_or_default(), &fields)
        }
        (&Method::POST, ["events", n, "cancel"]) if id(n).is_some() => {
            let n = id(n).unwrap_or_default();
            sandbox
                .cancel_event(n)
                .map(|()| (StatusCode::OK, json!({"eventId": n})))
                .map_err(|e| edit_failure(&e))
        }
        (&Method::POST, ["events", n, "reschedule"]) if id(n).is_some() => {
            reschedule(&sandbox, id(n).unwrap_or_default(), &fields)
        }
        (&Method::DELETE, ["events", n]) if id(n).is_some() => {
            let n = id(n).unwrap_or_default();
            sandbox
                .delete_event(n)
                .map(|()| (StatusCode::OK, json!({"eventId": n})))
                .map_err(|e| edit_failure(&e))
        }
        (_, ["events"] | ["events", _] | ["events", _, "cancel" | "reschedule"]) => Err(refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{method} is not allowed on {path}"),
        )),
        _ => Err(refuse(
            StatusCode::NOT_FOUND,
            format!("no sandbox route {path}"),
        )),
    };
    match result {
        Ok((status, body)) => answer(status, &body),
        Err(refusal) => refusal.response(),
    }
}

type Outcome = Result<(StatusCode, Value), Refusal>;

fn text(fields: &Map<String, Value>, name: &str) -> Result<Option<String>, Refusal> {
    match fields.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(refuse(
            StatusCode::BAD_REQUEST,
            format!("`{name}` must be a string"),
        )),
    }
}

fn time(fields: &Map<String, Value>, name: &str) -> Result<Option<DateTime>, Refusal> {
    let Some(raw) = text(fields, name)? else {
        return Ok(None);
    };
    raw.trim()
        .replacen(' ', "T", 1)
        .parse::<DateTime>()
        .map(Some)
        .map_err(|_| {
            refuse(
                StatusCode::BAD_REQUEST,
                format!("`{name}` must be a local time such as 2025-11-03 17:00:00, not `{raw}`"),
            )
        })
}

fn location(fields: &Map<String, Value>) -> Result<Option<u64>, Refusal> {
    match fields.get("locationId") {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| refuse(StatusCode::BAD_REQUEST, "`locationId` must be a number")),
    }
}

fn required<T>(value: Option<T>, name: &str) -> Result<T, Refusal> {
    value.ok_or_else(|| refuse(StatusCode::BAD_REQUEST, format!("`{name}` is required")))
}

fn add(sandbox: &CommunicoSandbox, fields: &Map<String, Value>) -> Outcome {
    let title = required(text(fields, "title")?, "title")?;
    let start = required(time(fields, "start")?, "start")?;
    let end = required(time(fields, "end")?, "end")?;
    let mut event = EventEdit::new(title, start, end);
    if let Some(sub_title) = text(fields, "subTitle")? {
        event = event.sub_title(sub_title);
    }
    if let Some(location) = location(fields)? {
        event = event.location_id(location);
    }
    let id = sandbox.add_event(&event).map_err(|e| edit_failure(&e))?;
    Ok((StatusCode::CREATED, json!({"eventId": id})))
}

fn edit(sandbox: &CommunicoSandbox, id: u64, fields: &Map<String, Value>) -> Outcome {
    let title = text(fields, "title")?;
    let sub_title = text(fields, "subTitle")?;
    let start = time(fields, "start")?;
    let end = time(fields, "end")?;
    let location = location(fields)?;
    sandbox
        .update_event(id, |event| {
            if let Some(title) = title {
                event.title = title;
            }
            if let Some(sub_title) = sub_title {
                event.sub_title = sub_title;
            }
            if let Some(start) = start {
                event.start = start;
            }
            if let Some(end) = end {
                event.end = end;
            }
            if let Some(location) = location {
                event.location_id = location;
            }
        })
        .map_err(|e| edit_failure(&e))?;
    Ok((StatusCode::OK, json!({"eventId": id})))
}

fn reschedule(sandbox: &CommunicoSandbox, id: u64, fields: &Map<String, Value>) -> Outcome {
    let start = required(time(fields, "start")?, "start")?;
    let end = required(time(fields, "end")?, "end")?;
    let new_id = sandbox
        .reschedule_event(id, start, end)
        .map_err(|e| edit_failure(&e))?;
    Ok((
        StatusCode::CREATED,
        json!({"eventId": id, "newEventId": new_id}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Sandbox;
    use crate::communico::CommunicoConfig;
    use jiff::civil::date;

    async fn call(base: &str, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = base.trim_start_matches("http://");
        let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let request = format!(
            "{method} {ADMIN_PREFIX}{path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        socket.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        socket.read_to_string(&mut answer).await.unwrap();
        let status = answer[9..12].parse().unwrap();
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    }

    #[tokio::test]
    async fn every_route_changes_what_the_api_serves() {
        let sandbox = Sandbox::communico_only(
            CommunicoConfig::default()
                .events(60)
                .first_day(date(2025, 11, 1)),
        )
        .await
        .unwrap();
        let base = sandbox.base_url();
        let s = sandbox.communico().unwrap();
        let ids = s.published_event_ids(date(2025, 11, 1), date(2025, 11, 2));

        let (status, body) = call(
            &base,
            Method::POST,
            "/events",
            Some(json!({"title": "Chess Club", "start": "2025-11-02 17:00:00", "end": "2025-11-02T18:00", "locationId": 416})),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        let added = body["eventId"].as_u64().unwrap();
        assert_eq!(s.event(added).unwrap().title, "Chess Club");
        assert_eq!(s.event(added).unwrap().location_id, 416);

        let (status, _) = call(
            &base,
            Method::PATCH,
            &format!("/events/{}", ids[0]),
            Some(json!({"title": "Renamed"})),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(s.event(ids[0]).unwrap().title, "Renamed");

        let (status, _) = call(
            &base,
            Method::POST,
            &format!("/events/{}/cancel", ids[1]),
            None,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(s.event_json(ids[1], &[]).unwrap()["modified"], "canceled");

        let (status, body) = call(
            &base,
            Method::POST,
            &format!("/events/{}/reschedule", ids[2]),
            Some(json!({"start": "2025-11-05 10:00:00", "end": "2025-11-05 11:00:00"})),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        let replacement = body["newEventId"].as_u64().unwrap();
        assert_eq!(
            s.event_json(ids[2], &[]).unwrap()["newEventId"],
            replacement
        );

        let (status, _) = call(&base, Method::DELETE, &format!("/events/{}", ids[3]), None).await;
        assert_eq!(status, 200);
        assert!(s.event(ids[3]).is_none());

        // Failures say what is wrong.
        let (status, body) =
            call(&base, Method::DELETE, &format!("/events/{}", ids[3]), None).await;
        assert_eq!(status, 404);
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains(&ids[3].to_string())
        );
        let (status, body) = call(
            &base,
            Method::POST,
            "/events",
            Some(json!({"title": "x", "start": "soon", "end": "2025-11-02 18:00:00"})),
        )
        .await;
        assert_eq!(status, 400);
        assert!(body["error"].as_str().unwrap().contains("`start`"));
        let (status, _) = call(&base, Method::GET, "/events", None).await;
        assert_eq!(status, 405);
    }
}
