//! A faithful Communico Client API, following the project's fact sheet of the API.
//!
//! What it does as the real service does (or as the fact sheet infers it does):
//! - `POST /v3/token` takes HTTP Basic over the **raw** `base64(key:secret)` (or
//!   `client_id`/`client_secret` in the form body) and issues 40-hex bearer tokens with
//!   `expires_in`; tokens expire after the configured TTL, by the configured clock.
//! - Data answers are `201 Created` by default (configurable), in the
//!   `{"status":"success","code":200,"data":…}` envelope; an unknown or expired token gets
//!   `401`.
//! - On every list endpoint `limit` defaults to 10 (also when the query is empty) and is
//!   capped silently (250 by default) while the requested value is echoed; `start` is an
//!   offset; `total` counts every match.
//! - Optional event members appear only when named in `fields`.
//! - Event filters: `startDate`/`endDate` (checked: `2016-11-31` is a `400`), `status`,
//!   `privateEvents`, `types` and `ages` by name, one or many `locationId`, `term`,
//!   `searchTags`, `sortBy`/`sortOrder`. Lists are comma-joined and split after
//!   decoding, as PHP does.
//! - Reservations fail with an HTML `500` ("Slim Application Error") when `status` is
//!   repeated, as reported of the real service.
//!
//! Faults ([`Fault`]) replace the next answers; counters say what was asked.
//!
//! The data set can be changed while it is served ([`CommunicoSandbox::add_event`],
//! [`update_event`](CommunicoSandbox::update_event),
//! [`cancel_event`](CommunicoSandbox::cancel_event),
//! [`reschedule_event`](CommunicoSandbox::reschedule_event),
//! [`delete_event`](CommunicoSandbox::delete_event)): every request after a change sees
//! it, in listings, filters, `total` and single events alike.

pub mod admin;
mod data;
mod edit;
mod faults;

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, SystemTime};

use auth_core::clock::{Clock, SystemClock};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use jiff::civil::Date;
use serde_json::{Value, json};

use data::{AGES, DataSet, LOCATIONS, TYPES};
pub use edit::{EditError, EventEdit};
pub use faults::{Fault, FaultTarget, Quirk};

/// The most events a data set holds ([`CommunicoConfig::events`]).
pub const MAX_EVENTS: usize = 1_000_000;

/// The path prefix the Communico service is mounted under.
pub const PREFIX: &str = "/communico";

const TOKEN_PATH: &str = "/v3/token";

/// How the Communico sandbox behaves and what data it serves.
#[derive(Clone)]
#[must_use]
pub struct CommunicoConfig {
    key: String,
    secret: String,
    token_ttl: Duration,
    events: usize,
    first_day: Date,
    events_per_day: u32,
    limit_cap: u32,
    default_limit: u32,
    success_status: u16,
    seed: u64,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for CommunicoConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommunicoConfig")
            .field("key", &self.key)
            .field("token_ttl", &self.token_ttl)
            .field("events", &self.events)
            .field("first_day", &self.first_day)
            .field("events_per_day", &self.events_per_day)
            .field("limit_cap", &self.limit_cap)
            .field("success_status", &self.success_status)
            .finish_non_exhaustive()
    }
}

impl Default for CommunicoConfig {
    /// Key `sandbox-key`, secret `sandbox-secret`, tokens for an hour, 2,000 events
    /// from 2024-05-01 at 30 a day, `limit` capped at 250, answers `201`.
    fn default() -> Self {
        Self {
            key: "sandbox-key".into(),
            secret: "sandbox-secret".into(),
            token_ttl: Duration::from_secs(3600),
            events: 2000,
            first_day: Date::constant(2024, 5, 1),
            events_per_day: 30,
            limit_cap: 250,
            default_limit: 10,
            success_status: 201,
            seed: 42,
            clock: Arc::new(SystemClock),
        }
    }
}

impl CommunicoConfig {
    /// The client key and secret the token endpoint accepts.
    pub fn credentials(mut self, key: impl Into<String>, secret: impl Into<String>) -> Self {
        self.key = key.into();
        self.secret = secret.into();
        self
    }

    /// How long issued tokens live (`expires_in`).
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = ttl;
        self
    }

    /// How many events the data set holds, at most [`MAX_EVENTS`] (a larger count is
    /// clamped: the data set lives in memory, about 150 bytes an event and more).
    pub fn events(mut self, count: usize) -> Self {
        self.events = count.min(MAX_EVENTS);
        self
    }

    /// The day of the first event.
    pub fn first_day(mut self, day: Date) -> Self {
        self.first_day = day;
        self
    }

    /// How many events fall on each day.
    pub fn events_per_day(mut self, count: u32) -> Self {
        self.events_per_day = count.max(1);
        self
    }

    /// The silent cap on `limit`.
    pub fn limit_cap(mut self, cap: u32) -> Self {
        self.limit_cap = cap.max(1);
        self
    }

    /// The status of successful data answers (`201` by default, as documented; the live
    /// service is reported to answer `200`).
    pub fn success_status(mut self, status: u16) -> Self {
        self.success_status = status;
        self
    }

    /// The seed of the data set.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The clock that decides token expiry (share a manual clock with the client under
    /// test to expire tokens without waiting).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

/// What the handlers share.
struct Shared {
    config: CommunicoConfig,
    data: RwLock<DataSet>,
    tokens: Mutex<HashMap<String, SystemTime>>,
    token_seq: AtomicU64,
    faults: Mutex<VecDeque<(FaultTarget, Fault)>>,
    quirks: Mutex<Vec<Quirk>>,
    counts: Mutex<HashMap<String, u64>>,
    token_requests: AtomicU64,
    tokens_issued: AtomicU64,
    data_bytes: AtomicU64,
    // The matches of the last filtered query, so paging through it costs one pass.
    last_filter: Mutex<Option<(String, Arc<Vec<u32>>)>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A handler that panicked cannot leave these maps half-updated: use them as they are.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn read(data: &RwLock<DataSet>) -> RwLockReadGuard<'_, DataSet> {
    data.read().unwrap_or_else(PoisonError::into_inner)
}

fn write(data: &RwLock<DataSet>) -> RwLockWriteGuard<'_, DataSet> {
    // Every change is one `Vec` operation after its checks: a panic cannot split one.
    data.write().unwrap_or_else(PoisonError::into_inner)
}

/// The running Communico service: its URL, credentials, counters and fault controls.
/// Cheap to clone.
#[derive(Clone)]
pub struct CommunicoSandbox {
    shared: Arc<Shared>,
    base_url: String,
}

impl fmt::Debug for CommunicoSandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommunicoSandbox")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl CommunicoSandbox {
    pub(crate) fn new(config: CommunicoConfig, origin: &str) -> (Self, axum::Router) {
        let data = DataSet::generate(
            config.events,
            config.first_day,
            config.events_per_day,
            config.seed,
        );
        let shared = Arc::new(Shared {
            config,
            data: RwLock::new(data),
            tokens: Mutex::new(HashMap::new()),
            token_seq: AtomicU64::new(0),
            faults: Mutex::new(VecDeque::new()),
            quirks: Mutex::new(Vec::new()),
            counts: Mutex::new(HashMap::new()),
            token_requests: AtomicU64::new(0),
            tokens_issued: AtomicU64::new(0),
            data_bytes: AtomicU64::new(0),
            last_filter: Mutex::new(None),
        });
        let router = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        (
            Self {
                shared,
                base_url: format!("{origin}{PREFIX}"),
            },
            router,
        )
    }

    /// The base URL to give a client (`http://127.0.0.1:<port>/communico`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The client key the token endpoint accepts.
    pub fn key(&self) -> &str {
        &self.shared.config.key
    }

    /// The client secret the token endpoint accepts.
    pub fn secret(&self) -> &str {
        &self.shared.config.secret
    }

    /// How many requests reached `/v3/token` (accepted or not).
    pub fn token_requests(&self) -> u64 {
        self.shared.token_requests.load(Ordering::SeqCst)
    }

    /// How many body bytes successful data answers have put on the wire (compressed
    /// when [`Quirk::Gzip`] is armed).
    pub fn data_bytes_sent(&self) -> u64 {
        self.shared.data_bytes.load(Ordering::SeqCst)
    }

    /// How many tokens were issued.
    pub fn tokens_issued(&self) -> u64 {
        self.shared.tokens_issued.load(Ordering::SeqCst)
    }

    /// How many requests reached `path` (for example `/v3/attend/events`), whatever
    /// the answer.
    pub fn requests(&self, path: &str) -> u64 {
        lock(&self.shared.counts).get(path).copied().unwrap_or(0)
    }

    /// Every path asked for, with its count.
    pub fn request_counts(&self) -> HashMap<String, u64> {
        lock(&self.shared.counts).clone()
    }

    /// Makes the next `times` data requests fail with `fault`, after any already queued.
    pub fn inject(&self, fault: Fault, times: usize) {
        self.inject_into(FaultTarget::Data, fault, times);
    }

    /// Makes the next `times` requests of `target` fail with `fault`.
    pub fn inject_into(&self, target: FaultTarget, fault: Fault, times: usize) {
        let mut faults = lock(&self.shared.faults);
        for _ in 0..times {
            faults.push_back((target, fault.clone()));
        }
    }

    /// Answers with `quirk` from now on, until [`disarm`](Self::disarm)ed.
    pub fn arm(&self, quirk: Quirk) {
        let mut quirks = lock(&self.shared.quirks);
        if !quirks.contains(&quirk) {
            quirks.push(quirk);
        }
    }

    /// Stops answering with `quirk`.
    pub fn disarm(&self, quirk: &Quirk) {
        lock(&self.shared.quirks).retain(|q| q != quirk);
    }

    /// Faults still queued.
    pub fn pending_faults(&self) -> usize {
        lock(&self.shared.faults).len()
    }

    /// Revokes every token issued so far: their next use gets `401`.
    pub fn revoke_all_tokens(&self) {
        lock(&self.shared.tokens).clear();
    }

    /// How many events the data set holds.
    pub fn event_count(&self) -> usize {
        read(&self.shared.data).events.len()
    }

    /// The ids of the events on days `from..=to` that a query with no other filter than
    /// these dates (and `status=published`, no private events) returns, in the order of
    /// `sortBy=eventStart&sortOrder=ascending` (ties by `eventId`): the order a client's
    /// event stream asks for.
    pub fn published_event_ids(&self, from: Date, to: Date) -> Vec<u64> {
        let data = read(&self.shared.data);
        let mut events: Vec<&data::EventRec> = data
            .events
            .iter()
            .filter(|e| {
                e.day >= from && e.day <= to && e.status() == "published" && !e.is_private()
            })
            .collect();
        events.sort_by_key(|e| (e.start, e.id));
        events.into_iter().map(|e| e.id).collect()
    }

    /// The last day that has events.
    pub fn last_day(&self) -> Date {
        read(&self.shared.data)
            .events
            .last()
            .map_or(self.shared.config.first_day, |e| e.day)
    }

    /// Every event's id, in the default order of listings (by day, then as added).
    pub fn event_ids(&self) -> Vec<u64> {
        read(&self.shared.data)
            .events
            .iter()
            .map(|e| e.id)
            .collect()
    }

    /// The event as `GET /v3/attend/events/{id}` serves it with these optional `fields`
    /// (the `data` member), or `None` when there is no such event.
    pub fn event_json(&self, event_id: u64, fields: &[&str]) -> Option<Value> {
        read(&self.shared.data)
            .get(event_id)
            .map(|e| e.render(&|f| fields.contains(&f)))
    }

    /// The settable members of an event, as they are now.
    pub fn event(&self, event_id: u64) -> Option<EventEdit> {
        read(&self.shared.data).get(event_id).map(|e| EventEdit {
            title: e.title().to_owned(),
            sub_title: e.sub_title().to_owned(),
            start: e.start,
            end: e.end,
            location_id: e.location_id(),
        })
    }

    /// Publishes a new event (published, public, drop-in, `modified` `""`) and returns
    /// its `eventId`, larger than any before. Listings, filters, `total` and
    /// `/v3/attend/events/{id}` serve it from the next request on; in the default order
    /// it comes after the events already on its day.
    ///
    /// # Errors
    /// [`EditError::UnknownLocation`], [`EditError::EndBeforeStart`].
    pub fn add_event(&self, event: &EventEdit) -> Result<u64, EditError> {
        let location = check(event)?;
        let now = self.now();
        let mut data = write(&self.shared.data);
        Ok(data.add(&fields(event, location), now, None))
    }

    /// Changes an event's settable members through `edit` and stamps
    /// `eventLastUpdated`. A new start date moves it to that day's listings.
    ///
    /// # Errors
    /// [`EditError::UnknownEvent`], or what [`add_event`](Self::add_event) refuses; then
    /// nothing changes.
    pub fn update_event(
        &self,
        event_id: u64,
        edit: impl FnOnce(&mut EventEdit),
    ) -> Result<(), EditError> {
        let now = self.now();
        let mut data = write(&self.shared.data);
        let position = data
            .position(event_id)
            .ok_or(EditError::UnknownEvent(event_id))?;
        let e = &data.events[position];
        let mut event = EventEdit {
            title: e.title().to_owned(),
            sub_title: e.sub_title().to_owned(),
            start: e.start,
            end: e.end,
            location_id: e.location_id(),
        };
        edit(&mut event);
        let location = check(&event)?;
        data.update(position, &fields(&event, location), now);
        Ok(())
    }

    /// Cancels an event the way the API shows it: it stays listed, with `modified`
    /// `"canceled"` (reference E6), and `eventLastUpdated` stamped.
    ///
    /// # Errors
    /// [`EditError::UnknownEvent`].
    pub fn cancel_event(&self, event_id: u64) -> Result<(), EditError> {
        let now = self.now();
        let mut data = write(&self.shared.data);
        let position = data
            .position(event_id)
            .ok_or(EditError::UnknownEvent(event_id))?;
        data.cancel(position, now);
        Ok(())
    }

    /// Reschedules an event the way the API shows it (reference E7): the event stays
    /// listed with `modified` `"rescheduled"` and `newEventId` naming a replacement, a
    /// copy at `start`..`end` with the same `recurringId`, whose id is returned.
    ///
    /// # Errors
    /// [`EditError::UnknownEvent`], [`EditError::EndBeforeStart`].
    pub fn reschedule_event(
        &self,
        event_id: u64,
        start: jiff::civil::DateTime,
        end: jiff::civil::DateTime,
    ) -> Result<u64, EditError> {
        if end < start {
            return Err(EditError::EndBeforeStart { start, end });
        }
        let now = self.now();
        let mut data = write(&self.shared.data);
        let position = data
            .position(event_id)
            .ok_or(EditError::UnknownEvent(event_id))?;
        Ok(data.reschedule(position, start, end, now))
    }

    /// Deletes an event: it leaves every listing, `total` drops, and
    /// `/v3/attend/events/{id}` answers `404`.
    ///
    /// # Errors
    /// [`EditError::UnknownEvent`].
    pub fn delete_event(&self, event_id: u64) -> Result<(), EditError> {
        let mut data = write(&self.shared.data);
        let position = data
            .position(event_id)
            .ok_or(EditError::UnknownEvent(event_id))?;
        data.remove(position);
        Ok(())
    }

    /// The configured clock's time as a UTC wall time, for `eventLastUpdated`.
    fn now(&self) -> jiff::civil::DateTime {
        civil_now(self.shared.config.clock.as_ref())
    }
}

/// The location index of an edit, after checking it.
fn check(event: &EventEdit) -> Result<u8, EditError> {
    if event.end < event.start {
        return Err(EditError::EndBeforeStart {
            start: event.start,
            end: event.end,
        });
    }
    data::location_index(event.location_id).ok_or(EditError::UnknownLocation(event.location_id))
}

fn fields(event: &EventEdit, location: u8) -> data::Fields<'_> {
    data::Fields {
        title: &event.title,
        sub_title: &event.sub_title,
        start: event.start,
        end: event.end,
        location,
    }
}

/// Splits a query string into decoded pairs (`+` is a space, as PHP reads it).
fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

fn last<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Every value of `key`, comma lists split (after decoding, as PHP's `explode` would).
fn list(pairs: &[(String, String)], key: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == key)
        .flat_map(|(_, v)| v.split(','))
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

fn respond(status: u16, content_type: &str, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    if let Ok(value) = header::HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

fn json_response(status: u16, value: &Value) -> Response {
    respond(
        status,
        "application/json",
        serde_json::to_vec(value).unwrap_or_default(),
    )
}

fn error_envelope(status: u16, message: &str) -> Response {
    json_response(
        status,
        &json!({"status": "error", "code": status, "message": message}),
    )
}

fn slim_error_page() -> Response {
    respond(
        500,
        "text/html; charset=UTF-8",
        b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"><title>Slim Application Error</title></head><body><h1>Slim Application Error</h1><p>A website error has occurred. Sorry for the temporary inconvenience.</p></body></html>".to_vec(),
    )
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().trim_end_matches('/').to_owned();
    *lock(&shared.counts).entry(path.clone()).or_insert(0) += 1;
    let is_token = path == TOKEN_PATH;
    if is_token {
        shared.token_requests.fetch_add(1, Ordering::SeqCst);
    }
    let target = if is_token {
        FaultTarget::Token
    } else {
        FaultTarget::Data
    };
    let fault = {
        let mut faults = lock(&shared.faults);
        match faults.iter().position(|(t, _)| *t == target) {
            Some(i) => faults.remove(i).map(|(_, f)| f),
            None => None,
        }
    };
    let mut shift = None;
    if let Some(fault) = fault {
        match fault {
            Fault::Slow(delay) => tokio::time::sleep(delay).await,
            Fault::ShiftByInsert | Fault::ShiftByDelete => shift = Some(fault),
            other => return fault_response(&shared, &parts.headers, other),
        }
    }
    if is_token {
        if parts.method != Method::POST {
            return error_envelope(405, "Method not allowed");
        }
        let body = axum::body::to_bytes(body, 64 * 1024)
            .await
            .unwrap_or_default();
        return token(&shared, &parts.headers, &body);
    }
    if parts.method != Method::GET {
        return error_envelope(405, "Method not allowed");
    }
    if !authorized(&shared, &parts.headers) {
        return error_envelope(401, "Invalid or expired access token");
    }
    let q = pairs(parts.uri.query());
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["v3", "attend", "events"] => events(&shared, &q, shift.as_ref()),
        ["v3", "attend", "events", id] => match id
            .parse::<u64>()
            .ok()
            .and_then(|id| read(&shared.data).get(id).cloned())
        {
            Some(e) => {
                let fields: HashSet<String> = list(&q, "fields").into_iter().collect();
                let quirks = lock(&shared.quirks).clone();
                success(&shared, render_event(&e, &fields, &quirks))
            }
            None => error_envelope(404, "Event not found"),
        },
        ["v3", "attend", "events", id, "registrants"] => {
            match id
                .parse::<u64>()
                .ok()
                .and_then(|id| read(&shared.data).get(id).cloned())
            {
                Some(e) => {
                    let entries = (0..e.registrants)
                        .map(|i| match i % 7 {
                            0 => json!({"librarycard": ""}),
                            3 => json!({"librarycard": null}),
                            _ => json!({"librarycard": format!("2123400{:07}", e.id % 10_000 * 100 + u64::from(i))}),
                        })
                        .collect();
                    paged(&shared, &q, entries)
                }
                None => error_envelope(404, "Event not found"),
            }
        }
        ["v3", "attend", "types"] => paged(
            &shared,
            &q,
            TYPES.iter().map(|t| json!({"name": t})).collect(),
        ),
        ["v3", "attend", "ages"] => paged(&shared, &q, AGES.iter().map(|a| json!(a)).collect()),
        ["v3", "client", "locations"] => paged(
            &shared,
            &q,
            LOCATIONS
                .iter()
                .map(|(id, name)| json!({"id": id, "name": name}))
                .collect(),
        ),
        ["v3", "reserve", "rooms"] => paged(&shared, &q, rooms()),
        ["v3", "reserve", "reservations"] => reservations(&shared, &q),
        ["v3", "reserve", "reservations", id] => {
            let fields: HashSet<String> = list(&q, "fields").into_iter().collect();
            match id.parse::<u64>().ok().and_then(|id| {
                read(&shared.data)
                    .reservations
                    .iter()
                    .find(|r| r.id == id)
                    .cloned()
            }) {
                Some(r) => success(&shared, r.render(&|f| fields.contains(f))),
                None => error_envelope(404, "Reservation not found"),
            }
        }
        _ => error_envelope(404, "Not found"),
    }
}

fn fault_response(shared: &Shared, headers: &HeaderMap, fault: Fault) -> Response {
    match fault {
        Fault::Status(status) => error_envelope(status, "Injected failure"),
        Fault::RateLimited { retry_after_secs } => {
            let mut r = error_envelope(429, "Too many requests");
            r.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(retry_after_secs));
            r
        }
        Fault::Unavailable { retry_after_secs } => {
            let mut r = respond(
                503,
                "text/html",
                b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>".to_vec(),
            );
            if let Some(secs) = retry_after_secs {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
            }
            r
        }
        Fault::HtmlPage { status } => respond(
            status,
            "text/html; charset=UTF-8",
            format!("<!DOCTYPE html>\n<html><head><title>{status} Error</title></head><body><h1>Something went wrong</h1><p>The server encountered an error ({status}).</p></body></html>").into_bytes(),
        ),
        Fault::MalformedJson => respond(
            shared.config.success_status,
            "application/json",
            br#"{"status":"success","code":200,"data":{"total":3,"start":0,"entries":[{"eventId":1,"title":"Tru"#.to_vec(),
        ),
        Fault::ErrorEnvelope { code } => json_response(
            shared.config.success_status,
            &json!({"status": "error", "code": code, "message": "Injected envelope error"}),
        ),
        Fault::RevokeToken => {
            if let Some(token) = bearer(headers) {
                lock(&shared.tokens).remove(token);
            }
            error_envelope(401, "Invalid or expired access token")
        }
        // Handled before this point: slow and shifted answers are still answers.
        Fault::Slow(_) | Fault::ShiftByInsert | Fault::ShiftByDelete => {
            error_envelope(500, "unreachable")
        }
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

fn authorized(shared: &Shared, headers: &HeaderMap) -> bool {
    let Some(token) = bearer(headers) else {
        return false;
    };
    let now = shared.config.clock.now();
    let mut tokens = lock(&shared.tokens);
    match tokens.get(token) {
        Some(expires) if *expires > now => true,
        Some(_) => {
            tokens.remove(token);
            false
        }
        None => false,
    }
}

fn token(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Response {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    let expected = format!("{}:{}", shared.config.key, shared.config.secret);
    // Communico decodes Basic as the raw `key:secret`, not RFC 6749's form-encoded pair.
    let basic_ok = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| {
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()
        })
        .is_some_and(|raw| raw == expected.as_bytes());
    let post_ok = last(&form, "client_id") == Some(shared.config.key.as_str())
        && last(&form, "client_secret") == Some(shared.config.secret.as_str());
    if !(basic_ok || post_ok) {
        return json_response(
            401,
            &json!({"error": "invalid_client", "error_description": "Client authentication failed"}),
        );
    }
    if last(&form, "grant_type") != Some("client_credentials") {
        return json_response(
            400,
            &json!({"error": "unsupported_grant_type", "error_description": "The grant type is not supported"}),
        );
    }
    let n = shared.token_seq.fetch_add(1, Ordering::SeqCst);
    let a = data_hash(shared.config.seed ^ n);
    let b = data_hash(a ^ n.rotate_left(17));
    let access_token = format!("{a:016x}{b:016x}{:08x}", (a ^ b) as u32);
    let expires = shared.config.clock.now() + shared.config.token_ttl;
    lock(&shared.tokens).insert(access_token.clone(), expires);
    shared.tokens_issued.fetch_add(1, Ordering::SeqCst);
    let quirks = lock(&shared.quirks).clone();
    let scope = if quirks.contains(&Quirk::ScopeArray) {
        json!(["EVENTS", "ROOMS"])
    } else {
        json!("EVENTS")
    };
    let mut body = serde_json::to_vec(&json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": shared.config.token_ttl.as_secs(),
        "scope": scope,
    }))
    .unwrap_or_default();
    if quirks.contains(&Quirk::Bom(FaultTarget::Token)) {
        body.splice(0..0, BOM);
    }
    respond(200, "application/json", body)
}

fn data_hash(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// Stands for a lone surrogate escape in a title until the answer is serialized.
const LONE_SURROGATE_MARK: &str = "\u{E000}lone-surrogate\u{E000}";
/// Stands for a byte that is not UTF-8 in a title until the answer is serialized.
const INVALID_UTF8_MARK: &str = "\u{E000}invalid-utf8\u{E000}";

/// An event as served, with the title quirks armed for it marked.
fn render_event(e: &data::EventRec, fields: &HashSet<String>, quirks: &[Quirk]) -> Value {
    let mut value = e.render(&|f| fields.contains(f));
    for quirk in quirks {
        let mark = match quirk {
            Quirk::LoneSurrogateInTitle(id) if *id == e.id => LONE_SURROGATE_MARK,
            Quirk::InvalidUtf8InTitle(id) if *id == e.id => INVALID_UTF8_MARK,
            _ => continue,
        };
        if let Some(Value::String(title)) = value.get_mut("title") {
            title.push_str(mark);
        }
    }
    value
}

fn replace_all(body: Vec<u8>, mark: &str, with: &[u8]) -> Vec<u8> {
    let mark = mark.as_bytes();
    if !body.windows(mark.len()).any(|w| w == mark) {
        return body;
    }
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i..].starts_with(mark) {
            out.extend_from_slice(with);
            i += mark.len();
        } else {
            out.push(body[i]);
            i += 1;
        }
    }
    out
}

fn success(shared: &Shared, mut data: Value) -> Response {
    let quirks = lock(&shared.quirks).clone();
    if let Some(page) = data.as_object_mut().filter(|d| d.contains_key("entries")) {
        if quirks.contains(&Quirk::NoTotal) {
            page.remove("total");
        }
        if quirks.contains(&Quirk::NoStartEcho) {
            page.remove("start");
        }
    }
    let mut body = serde_json::to_vec(&json!({"status": "success", "code": 200, "data": data}))
        .unwrap_or_default();
    if quirks.iter().any(|q| {
        matches!(
            q,
            Quirk::LoneSurrogateInTitle(_) | Quirk::InvalidUtf8InTitle(_)
        )
    }) {
        body = replace_all(body, LONE_SURROGATE_MARK, br"\ud83c");
        body = replace_all(body, INVALID_UTF8_MARK, &[0xFF]);
    }
    if quirks.contains(&Quirk::Bom(FaultTarget::Data)) {
        body.splice(0..0, BOM);
    }
    if quirks.contains(&Quirk::Gzip) {
        return gzip_chunked(shared, body);
    }
    shared
        .data_bytes
        .fetch_add(body.len() as u64, Ordering::SeqCst);
    respond(shared.config.success_status, "application/json", body)
}

/// `body` gzip-compressed, sent in chunks of 1 KiB (no `Content-Length`).
fn gzip_chunked(shared: &Shared, body: Vec<u8>) -> Response {
    let status = shared.config.success_status;
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a `Vec` cannot fail.
    let compressed = match encoder.write_all(&body).and_then(|()| encoder.finish()) {
        Ok(bytes) => bytes,
        Err(_) => return error_envelope(500, "gzip failed"),
    };
    shared
        .data_bytes
        .fetch_add(compressed.len() as u64, Ordering::SeqCst);
    let chunks: Vec<Result<bytes::Bytes, std::convert::Infallible>> = compressed
        .chunks(1024)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    let mut response = Response::new(Body::from_stream(futures_util::stream::iter(chunks)));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::CONTENT_ENCODING,
        header::HeaderValue::from_static("gzip"),
    );
    response
}

/// `start` and `limit` as the server reads them: `limit` defaults to 10 and is capped
/// silently; the value asked for is what gets echoed.
fn window(shared: &Shared, q: &[(String, String)]) -> (usize, u64, usize) {
    let start = last(q, "start")
        .and_then(|s| s.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let asked = last(q, "limit")
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(u64::from(shared.config.default_limit));
    let cap = lock(&shared.quirks)
        .iter()
        .filter_map(|q| match q {
            Quirk::LimitCap(cap) => Some(*cap),
            _ => None,
        })
        .fold(shared.config.limit_cap, u32::min);
    let effective = asked.min(u64::from(cap)) as usize;
    (start, asked, effective)
}

/// One page of a list endpoint: like every list, 10 entries unless `limit` says
/// otherwise, even with no query at all (reference §1a, §4.7).
fn paged(shared: &Shared, q: &[(String, String)], entries: Vec<Value>) -> Response {
    let total = entries.len();
    let (start, asked, effective) = window(shared, q);
    let page: Vec<Value> = entries.into_iter().skip(start).take(effective).collect();
    success(
        shared,
        json!({"total": total, "start": start, "limit": asked, "entries": page}),
    )
}

fn rooms() -> Vec<Value> {
    LOCATIONS
        .iter()
        .enumerate()
        .flat_map(|(i, (loc_id, _))| {
            data::rooms_of(i as u8).into_iter().map(move |room| {
                json!({
                    "roomId": room,
                    "name": data::room_name(room),
                    "locationId": loc_id,
                    "roomType": if room % 10 == 1 { Value::from("Meeting") } else { Value::Null },
                    "setupTime": 15,
                    "breakdownTime": if room % 10 == 1 { 15 } else { 0 },
                    "staffBookable": true,
                })
            })
        })
        .collect()
}

fn parse_date(text: &str) -> Option<Date> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i16> {
        let s = text.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    Date::new(
        num(0..4)?,
        i8::try_from(num(5..7)?).ok()?,
        i8::try_from(num(8..10)?).ok()?,
    )
    .ok()
}

/// The date window of a query, or the message of the `400` for an invalid date.
fn date_window(q: &[(String, String)]) -> Result<(Option<Date>, Option<Date>), String> {
    let read = |key: &str| match last(q, key) {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => parse_date(s.trim())
            .map(Some)
            .ok_or_else(|| format!("Invalid {key}")),
    };
    Ok((read("startDate")?, read("endDate")?))
}

fn events(shared: &Shared, q: &[(String, String)], shift: Option<&Fault>) -> Response {
    let (from, to) = match date_window(q) {
        Ok(w) => w,
        Err(message) => return error_envelope(400, &message),
    };
    let mut key: Vec<&(String, String)> = q
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "start" | "limit" | "fields"))
        .collect();
    key.sort();
    let data = read(&shared.data);
    // The indices of a cached result are only valid for the state they were made of.
    let key = format!("{}:{key:?}", data.generation);
    let cached = lock(&shared.last_filter)
        .as_ref()
        .filter(|(k, _)| *k == key)
        .map(|(_, m)| m.clone());
    let matches = match cached {
        Some(m) => m,
        None => {
            let m = Arc::new(filter_events(&data, q, from, to));
            *lock(&shared.last_filter) = Some((key, m.clone()));
            m
        }
    };
    let (start, asked, effective) = window(shared, q);
    let fields: HashSet<String> = list(q, "fields").into_iter().collect();
    let quirks = lock(&shared.quirks).clone();
    let entries: Vec<Value> = matches
        .iter()
        .skip(start)
        .take(effective)
        .map(|&i| render_event(&data.events[i as usize], &fields, &quirks))
        .collect();
    let first = matches.get(start).map(|&i| data.events[i as usize].clone());
    let total = matches.len();
    drop(data);
    if let (Some(shift), Some(first)) = (shift, first) {
        apply_shift(shared, shift, &first);
    }
    success(
        shared,
        json!({
            "total": total,
            "start": start,
            "limit": asked,
            "startDate": from.map(data::fmt_date),
            "endDate": to.map(data::fmt_date),
            "entries": entries,
        }),
    )
}

/// After a page whose first event is `first`: publish an event sorting before it, or
/// delete it.
fn apply_shift(shared: &Shared, shift: &Fault, first: &data::EventRec) {
    let now = civil_now(shared.config.clock.as_ref());
    let mut data = write(&shared.data);
    let Some(position) = data.position(first.id) else {
        return;
    };
    if *shift == Fault::ShiftByDelete {
        data.remove(position);
        return;
    }
    let start = first.day.to_datetime(jiff::civil::Time::midnight());
    let fields = data::Fields {
        title: "Pop-up Storytime",
        sub_title: "",
        start,
        end: start
            .checked_add(jiff::Span::new().minutes(30))
            .unwrap_or(start),
        location: data::location_index(first.location_id()).unwrap_or(0),
    };
    data.add(&fields, now, Some(position));
}

/// `clock`'s time as a UTC wall time in whole seconds, for `eventLastUpdated`.
fn civil_now(clock: &dyn Clock) -> jiff::civil::DateTime {
    jiff::Timestamp::try_from(clock.now())
        .and_then(|t| jiff::Timestamp::from_second(t.as_second()))
        .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).datetime())
        .unwrap_or_default()
}

fn filter_events(
    data: &DataSet,
    q: &[(String, String)],
    from: Option<Date>,
    to: Option<Date>,
) -> Vec<u32> {
    let events = &data.events;
    // Events are stored by day: find the window by binary search.
    let lo = from.map_or(0, |d| events.partition_point(|e| e.day < d));
    let hi = to.map_or(events.len(), |d| events.partition_point(|e| e.day <= d));
    let status = last(q, "status").map(str::to_ascii_lowercase);
    let private = last(q, "privateEvents").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let lower =
        |v: Vec<String>| -> Vec<String> { v.into_iter().map(|s| s.to_lowercase()).collect() };
    let types = lower(list(q, "types"));
    let ages = lower(list(q, "ages"));
    let tags = lower(list(q, "searchTags"));
    let locations: Vec<u64> = list(q, "locationId")
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
    let term = last(q, "term")
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty());
    let mut out: Vec<u32> = (lo..hi.max(lo))
        .filter(|&i| {
            let e = &events[i];
            status.as_deref().is_none_or(|s| e.status() == s)
                && (private || !e.is_private())
                && (types.is_empty() || e.type_names().any(|t| types.contains(&t.to_lowercase())))
                && (ages.is_empty() || e.age_names().any(|a| ages.contains(&a.to_lowercase())))
                && (tags.is_empty()
                    || e.search_tags()
                        .iter()
                        .any(|t| tags.contains(&t.to_lowercase())))
                && (locations.is_empty() || locations.contains(&e.location_id()))
                && term.as_deref().is_none_or(|t| {
                    e.title().to_lowercase().contains(t)
                        || e.sub_title().to_lowercase().contains(t)
                        || e.short_description().to_lowercase().contains(t)
                })
        })
        .map(|i| i as u32)
        .collect();
    if let Some(by) = last(q, "sortBy") {
        let descending = last(q, "sortOrder").is_some_and(|o| o.eq_ignore_ascii_case("descending"));
        match by {
            // Ties in the order of ids, which do not move when events are added or removed.
            "eventStart" => out.sort_by_key(|&i| (events[i as usize].start, events[i as usize].id)),
            "eventLastUpdated" => {
                out.sort_by_key(|&i| (events[i as usize].updated, events[i as usize].id));
            }
            "title" => out.sort_by_key(|&i| (events[i as usize].title(), events[i as usize].id)),
            _ => {}
        }
        if descending {
            out.reverse();
        }
    }
    out
}

fn reservations(shared: &Shared, q: &[(String, String)]) -> Response {
    // Reported of the real service: a repeated `status` key crashes the framework.
    if q.iter().filter(|(k, _)| k == "status").count() > 1 {
        return slim_error_page();
    }
    let (from, to) = match date_window(q) {
        Ok(w) => w,
        Err(message) => return error_envelope(400, &message),
    };
    let status = last(q, "status").map(str::to_ascii_lowercase);
    let location = last(q, "locationId").and_then(|s| s.trim().parse::<u64>().ok());
    let room = last(q, "roomId").and_then(|s| s.trim().parse::<u64>().ok());
    let fields: HashSet<String> = list(q, "fields").into_iter().collect();
    let data = read(&shared.data);
    let matching: Vec<&data::ReservationRec> = data
        .reservations
        .iter()
        .filter(|r| {
            status.as_deref().is_none_or(|s| r.status == s)
                && location.is_none_or(|l| LOCATIONS[usize::from(r.location)].0 == l)
                && room.is_none_or(|id| r.room == id)
                && from.is_none_or(|d| r.start.date() >= d)
                && to.is_none_or(|d| r.start.date() <= d)
        })
        .collect();
    let (start, asked, effective) = window(shared, q);
    let entries: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(effective)
        .map(|r| r.render(&|f| fields.contains(f)))
        .collect();
    success(
        shared,
        json!({"total": matching.len(), "start": start, "limit": asked, "entries": entries}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_strict() {
        assert!(parse_date("2024-02-29").is_some());
        for bad in ["2016-11-31", "2023-06-5", "2023-13-01", "+024-01-01", ""] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
    }

    #[tokio::test]
    async fn list_pages_hold_ten_entries_when_limit_is_omitted() {
        let (sandbox, _) = CommunicoSandbox::new(CommunicoConfig::default().events(0), "");
        let entries: Vec<Value> = (0..25).map(|i| json!(i)).collect();
        for (query, len, limit) in [
            ("", 10, 10),
            ("start=20", 5, 10),
            ("start=0&limit=200", 25, 200),
            ("limit=300", 25, 300),
        ] {
            let response = paged(&sandbox.shared, &pairs(Some(query)), entries.clone());
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            let page: Value = serde_json::from_slice(&body).unwrap();
            let data = &page["data"];
            assert_eq!(data["entries"].as_array().unwrap().len(), len, "{query:?}");
            assert_eq!(data["limit"], limit, "{query:?}");
            assert_eq!(data["total"], 25, "{query:?}");
        }
    }

    #[test]
    fn the_default_data_has_events_with_more_than_a_default_page_of_registrants() {
        let c = CommunicoConfig::default();
        let data = DataSet::generate(c.events, c.first_day, c.events_per_day, c.seed);
        let over = |n: u32| data.events.iter().any(|e| e.registrants > n);
        assert!(over(c.default_limit));
        assert!(!over(c.limit_cap));
    }

    async fn body(response: Response) -> Value {
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        serde_json::from_slice(&body).unwrap()
    }

    /// The ids and `total` of a full events listing for `query`.
    async fn listing(sandbox: &CommunicoSandbox, query: &str) -> (Vec<u64>, u64) {
        let q = pairs(Some(&format!("{query}&limit=250")));
        let page = body(events(&sandbox.shared, &q, None)).await;
        let ids = page["data"]["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["eventId"].as_u64().unwrap())
            .collect();
        (ids, page["data"]["total"].as_u64().unwrap())
    }

    #[tokio::test]
    async fn changes_show_in_listings_totals_and_single_events() {
        let config = CommunicoConfig::default().events(60).events_per_day(30);
        let (sandbox, _) = CommunicoSandbox::new(config, "");
        let day1 = "startDate=2024-05-01&endDate=2024-05-01";
        let day2 = "startDate=2024-05-02&endDate=2024-05-02";
        let (before, total) = listing(&sandbox, day1).await;
        let n = before.len();
        assert_eq!(total, n as u64);
        let (_, day2_total) = listing(&sandbox, day2).await;

        let at = |d: i8, h: i8| jiff::civil::date(2024, 5, d).at(h, 0, 0, 0);
        let id = sandbox
            .add_event(&EventEdit::new("Chess Club", at(1, 8), at(1, 9)).location_id(416))
            .unwrap();
        assert_eq!(id, 100_060);
        let (ids, total) = listing(&sandbox, day1).await;
        assert_eq!(total, n as u64 + 1);
        assert_eq!(ids[..n], before[..]);
        assert_eq!(ids[n], id);
        // Sorted by start, 08:00 comes first (every generated event starts at 09:00 or later
        // except all-day ones, which start at midnight).
        let (sorted, _) = listing(&sandbox, &format!("{day1}&sortBy=eventStart")).await;
        let first_timed = sorted.iter().position(|&e| e == id).unwrap();
        assert!(first_timed < 5, "{sorted:?}");
        let (found, _) = listing(&sandbox, &format!("{day1}&term=chess")).await;
        assert_eq!(found, [id]);
        let event = sandbox.event_json(id, &[]).unwrap();
        assert_eq!(event["title"], "Chess Club");
        assert_eq!(event["locationId"], 416);
        assert_eq!(event["modified"], "");

        let stamp = event["eventLastUpdated"].clone();
        sandbox
            .update_event(id, |e| {
                e.title = "Chess & Checkers".into();
                e.start = at(2, 8);
                e.end = at(2, 10);
            })
            .unwrap();
        assert_eq!(listing(&sandbox, day1).await.0, before);
        let (ids, total) = listing(&sandbox, day2).await;
        assert_eq!((ids.last(), total), (Some(&id), day2_total + 1));
        let event = sandbox.event_json(id, &[]).unwrap();
        assert_eq!(event["title"], "Chess & Checkers");
        assert_eq!(event["eventStart"], "2024-05-02 08:00:00");
        assert_ne!(event["eventLastUpdated"], stamp);

        sandbox.cancel_event(id).unwrap();
        assert_eq!(sandbox.event_json(id, &[]).unwrap()["modified"], "canceled");
        assert_eq!(
            listing(&sandbox, day2).await.1,
            day2_total + 1,
            "canceled events stay listed"
        );

        let original = before[3];
        let recurring = sandbox.event_json(original, &[]).unwrap()["recurringId"].clone();
        let copy = sandbox
            .reschedule_event(original, at(2, 12), at(2, 13))
            .unwrap();
        let moved = sandbox.event_json(original, &[]).unwrap();
        assert_eq!(moved["modified"], "rescheduled");
        assert_eq!(moved["newEventId"], copy);
        let replacement = sandbox.event_json(copy, &[]).unwrap();
        assert_eq!(replacement["recurringId"], recurring);
        assert_eq!(replacement["modified"], "");
        assert_eq!(replacement["eventStart"], "2024-05-02 12:00:00");
        assert!(listing(&sandbox, day2).await.0.contains(&copy));
        assert!(listing(&sandbox, day1).await.0.contains(&original));

        sandbox.delete_event(before[0]).unwrap();
        let (ids, total) = listing(&sandbox, day1).await;
        assert_eq!((ids.len(), total), (n - 1, n as u64 - 1));
        assert_eq!(ids, before[1..]);
        assert!(sandbox.event_json(before[0], &[]).is_none());
        assert_eq!(
            sandbox.delete_event(before[0]),
            Err(EditError::UnknownEvent(before[0]))
        );
        assert_eq!(
            sandbox.add_event(&EventEdit::new("x", at(1, 8), at(1, 9)).location_id(1)),
            Err(EditError::UnknownLocation(1))
        );
        assert!(matches!(
            sandbox.update_event(id, |e| e.end = at(1, 1)),
            Err(EditError::EndBeforeStart { .. })
        ));
        assert_eq!(sandbox.event_ids().len(), 61);
    }

    async fn raw(response: Response) -> (HeaderMap, Vec<u8>) {
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (headers, body.to_vec())
    }

    #[tokio::test]
    async fn quirks_change_the_answers_as_armed() {
        let config = CommunicoConfig::default().events(60);
        let (sandbox, _) = CommunicoSandbox::new(config, "");
        let q = pairs(Some("startDate=2024-05-01&endDate=2024-05-01&limit=20"));
        let id = sandbox.event_ids()[0];
        sandbox.arm(Quirk::NoTotal);
        sandbox.arm(Quirk::NoStartEcho);
        sandbox.arm(Quirk::LimitCap(7));
        sandbox.arm(Quirk::Bom(FaultTarget::Data));
        sandbox.arm(Quirk::LoneSurrogateInTitle(id));
        sandbox.arm(Quirk::InvalidUtf8InTitle(sandbox.event_ids()[1]));
        let (_, body) = raw(events(&sandbox.shared, &q, None)).await;
        assert!(body.starts_with(&BOM));
        let text = String::from_utf8_lossy(&body[3..]).into_owned();
        assert!(text.contains(r#"\ud83c""#), "{text}");
        assert!(text.contains("\u{FFFD}\""), "the FF byte: {text}");
        let clean = text.replace(r"\ud83c", "");
        let page: Value = serde_json::from_str(&clean).unwrap();
        assert!(page["data"].get("total").is_none() && page["data"].get("start").is_none());
        assert_eq!(page["data"]["entries"].as_array().unwrap().len(), 7);

        sandbox.disarm(&Quirk::Bom(FaultTarget::Data));
        sandbox.disarm(&Quirk::LoneSurrogateInTitle(id));
        sandbox.disarm(&Quirk::InvalidUtf8InTitle(sandbox.event_ids()[1]));
        sandbox.arm(Quirk::Gzip);
        let (headers, body) = raw(events(&sandbox.shared, &q, None)).await;
        assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
        assert!(headers.get(header::CONTENT_LENGTH).is_none());
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut plain)
            .unwrap();
        let page: Value = serde_json::from_slice(&plain).unwrap();
        assert_eq!(page["status"], "success");

        sandbox.arm(Quirk::ScopeArray);
        sandbox.arm(Quirk::Bom(FaultTarget::Token));
        let mut basic = HeaderMap::new();
        let credentials =
            base64::engine::general_purpose::STANDARD.encode("sandbox-key:sandbox-secret");
        basic.insert(
            header::AUTHORIZATION,
            format!("Basic {credentials}").parse().unwrap(),
        );
        let (_, body) = raw(token(
            &sandbox.shared,
            &basic,
            b"grant_type=client_credentials",
        ))
        .await;
        assert!(body.starts_with(&BOM));
        let answer: Value = serde_json::from_slice(&body[3..]).unwrap();
        assert_eq!(answer["scope"], json!(["EVENTS", "ROOMS"]));
    }

    #[tokio::test]
    async fn shifts_move_the_offsets_after_the_page() {
        let config = CommunicoConfig::default().events(60);
        let (sandbox, _) = CommunicoSandbox::new(config, "");
        let day = "startDate=2024-05-01&endDate=2024-05-01&sortBy=eventStart";
        let (before, total) = listing(&sandbox, day).await;
        let q = pairs(Some(&format!("{day}&limit=10")));
        raw(events(&sandbox.shared, &q, Some(&Fault::ShiftByInsert))).await;
        let (after, grown) = listing(&sandbox, day).await;
        assert_eq!(grown, total + 1);
        let added = *after.iter().find(|id| !before.contains(id)).unwrap();
        assert!(after.iter().position(|&e| e == added).unwrap() < 10);
        assert_eq!(
            after[10..],
            before[9..],
            "every later offset moved up by one"
        );

        raw(events(&sandbox.shared, &q, Some(&Fault::ShiftByDelete))).await;
        let (last, shrunk) = listing(&sandbox, day).await;
        assert_eq!(shrunk, total);
        assert_eq!(last[..], after[1..]);
    }

    #[test]
    fn lists_split_after_decoding() {
        let q = pairs(Some(
            "types=Storytime,Art%2FCrafts%2FHobbies&types=Music&ages=Adults%20%2818%2B%29",
        ));
        assert_eq!(
            list(&q, "types"),
            ["Storytime", "Art/Crafts/Hobbies", "Music"]
        );
        assert_eq!(list(&q, "ages"), ["Adults (18+)"]);
    }
}
