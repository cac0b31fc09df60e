//! The client: configuration, authentication and one method per endpoint.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use auth_core::clock::{Clock, Sleep, SystemClock};
use auth_core::grant::client_credentials::{ClientCredentialsGrant, ClientCredentialsSource};
use auth_core::retry::{Retry, RetryPolicy};
use auth_core::token::{TokenType, authorization_header};
use auth_core::token_cache::CachingProvider;
use auth_core::transport::{
    HttpRequest, HttpResponse, HttpTransport, RequestOptions, TransportError,
};
use auth_core::{BasicEncoding, ClientAuth, ClientSecret, TokenProvider};
use bytes::Bytes;
use http::StatusCode;
use http::header::{ACCEPT, HeaderValue};
use serde::de::DeserializeOwned;
use url::Url;

use crate::Error;
use crate::envelope::{self, Page};
use crate::event::{Event, Registrant};
use crate::lookup::{AgeGroup, EventType, Location};
use crate::paging::{Listed, Lister};
use crate::query::{EventField, EventQuery, MAX_PAGE_SIZE, QueryString, ReservationQuery};
use crate::reserve::{Reservation, Room};
use crate::stream::EventStream;

/// The production API host (reference §1).
pub const DEFAULT_BASE_URL: &str = "https://api.communico.co";

/// The default time a single request may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

pub(crate) const EVENTS_PATH: &str = "/v3/attend/events";
const TOKEN_PATH: &str = "/v3/token";

/// A Communico Client API client. Cheap to clone: clones share the token cache and the
/// transport.
///
/// ```no_run
/// use communico::{date, Client, EventQuery};
/// use futures_util::TryStreamExt;
///
/// # async fn run() -> Result<(), communico::Error> {
/// let client = Client::builder()
///     .credentials("my-key", auth_core::ClientSecret::new("my-secret"))
///     .build()?;
/// let query = EventQuery::new()
///     .start_date(date("2024-05-01")?)
///     .end_date(date("2024-05-31")?);
/// let mut events = client.events(query)?;
/// while let Some(event) = events.try_next().await? {
///     println!("{:?} of {:?}: {:?}", events.received(), events.total(), event.title);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    base: String,
    transport: Arc<dyn HttpTransport>,
    tokens: Arc<dyn TokenProvider>,
    timeout: Duration,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

enum RetrySetting {
    Default,
    Policy(RetryPolicy),
    Off,
}

/// Configures a [`Client`]; made by [`Client::builder`].
pub struct ClientBuilder {
    base_url: String,
    key: Option<String>,
    secret: Option<ClientSecret>,
    transport: Option<Arc<dyn HttpTransport>>,
    tokens: Option<Arc<dyn TokenProvider>>,
    retry: RetrySetting,
    sleep: Option<Arc<dyn Sleep>>,
    clock: Option<Arc<dyn Clock>>,
    timeout: Duration,
    refresh_margin: Option<Duration>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("key", &self.key)
            .field("secret", &self.secret)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.into(),
            key: None,
            secret: None,
            transport: None,
            tokens: None,
            retry: RetrySetting::Default,
            sleep: None,
            clock: None,
            timeout: DEFAULT_TIMEOUT,
            refresh_margin: None,
        }
    }
}

impl ClientBuilder {
    /// The API's base URL (default [`DEFAULT_BASE_URL`]); a path prefix is kept. Must be
    /// `https`, or `http` to a loopback address (for a local sandbox).
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The client key and secret. They are sent as HTTP Basic over the raw
    /// `base64(key:secret)`, the encoding Communico expects (no form-encoding first).
    #[must_use]
    pub fn credentials(mut self, key: impl Into<String>, secret: ClientSecret) -> Self {
        self.key = Some(key.into());
        self.secret = Some(secret);
        self
    }

    /// The HTTP transport (any `auth-core` transport). With the `reqwest` feature (on by
    /// default), a reqwest transport is made when none is given.
    #[must_use]
    pub fn transport(mut self, transport: impl HttpTransport + 'static) -> Self {
        self.transport = Some(Arc::new(transport));
        self
    }

    /// The HTTP transport, already shared.
    #[must_use]
    pub fn shared_transport(mut self, transport: Arc<dyn HttpTransport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// A token provider to use instead of the client-credentials grant against
    /// `/v3/token` (for example one shared between several clients). The credentials are
    /// then not needed.
    #[must_use]
    pub fn token_provider(mut self, tokens: Arc<dyn TokenProvider>) -> Self {
        self.tokens = Some(tokens);
        self
    }

    /// The policy of `auth-core`'s retry layer, which retries `429`, `502`, `503`, `504`
    /// and connection failures honouring `Retry-After` (default:
    /// [`RetryPolicy::default`]).
    #[must_use]
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = RetrySetting::Policy(policy);
        self
    }

    /// Sends every request once, with no retry layer.
    #[must_use]
    pub fn no_retry(mut self) -> Self {
        self.retry = RetrySetting::Off;
        self
    }

    /// How the retry layer waits. With the `reqwest` feature, tokio's sleep is the
    /// default; without it a sleep must be given unless retries are off.
    #[must_use]
    pub fn sleep(mut self, sleep: Arc<dyn Sleep>) -> Self {
        self.sleep = Some(sleep);
        self
    }

    /// The clock deciding token expiry and reading `Retry-After` dates (the system
    /// clock by default).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// How long one request may take, the `/v3/token` request included (default
    /// [`DEFAULT_TIMEOUT`]). A provider given with
    /// [`token_provider`](ClientBuilder::token_provider) keeps its own timeouts.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long before expiry a token is renewed (the cache's default otherwise).
    #[must_use]
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = Some(margin);
        self
    }

    /// Checks the configuration and builds the client. Sends nothing.
    pub fn build(self) -> Result<Client, Error> {
        let base = base_url(&self.base_url)?;
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let raw_transport = match self.transport {
            Some(t) => t,
            None => default_transport()?,
        };
        let transport: Arc<dyn HttpTransport> = match self.retry {
            RetrySetting::Off => raw_transport,
            setting => {
                let sleep = match self.sleep {
                    Some(s) => s,
                    None => default_sleep()?,
                };
                let policy = match setting {
                    RetrySetting::Policy(p) => p,
                    _ => RetryPolicy::default(),
                };
                Arc::new(
                    Retry::new(raw_transport, sleep)
                        .with_policy(policy)
                        .with_clock(clock.clone()),
                )
            }
        };
        let tokens = match self.tokens {
            Some(t) => t,
            None => {
                let (Some(key), Some(secret)) = (self.key, self.secret) else {
                    return Err(Error::invalid_config(
                        "the client key and secret are needed (ClientBuilder::credentials)",
                    ));
                };
                let endpoint = Url::parse(&format!("{base}{TOKEN_PATH}"))
                    .map_err(|e| Error::invalid_config(format!("bad token URL: {e}")))?;
                let client = ClientAuth::basic(key, secret, BasicEncoding::Raw);
                // The grant builds its request without a timeout, which would leave the
                // transport's default in force: give it the client's.
                let token_transport = WithTimeout {
                    inner: transport.clone(),
                    timeout: self.timeout,
                };
                let source = ClientCredentialsSource::new(
                    ClientCredentialsGrant::new(endpoint, client),
                    token_transport,
                )
                .with_clock(clock.clone());
                let mut cache = CachingProvider::builder(source).clock(clock);
                if let Some(margin) = self.refresh_margin {
                    cache = cache.refresh_margin(margin);
                }
                Arc::new(cache.build())
            }
        };
        Ok(Client {
            inner: Arc::new(Inner {
                base,
                transport,
                tokens,
                timeout: self.timeout,
            }),
        })
    }
}

/// Sends through `inner`, giving `timeout` to every request that has none of its own.
struct WithTimeout {
    inner: Arc<dyn HttpTransport>,
    timeout: Duration,
}

#[async_trait::async_trait]
impl HttpTransport for WithTimeout {
    async fn send(&self, mut request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let options = RequestOptions::of(&request);
        if options.timeout.is_none() {
            options.with_timeout(self.timeout).apply(&mut request);
        }
        self.inner.send(request).await
    }
}

/// Checks the base URL and returns it without a trailing slash.
fn base_url(text: &str) -> Result<String, Error> {
    let url = Url::parse(text.trim()).map_err(|e| {
        Error::invalid_config(format!(
            "`{}` is not a valid base URL: {e}",
            auth_core::response::snippet(text.as_bytes())
        ))
    })?;
    // Bearer tokens travel to this URL: https, or plain http to loopback only.
    auth_core::secure_url::ensure_secure(&url)?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid_config(
            "the base URL must not have a query or a fragment",
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(feature = "reqwest")]
fn default_transport() -> Result<Arc<dyn HttpTransport>, Error> {
    let transport = http_reqwest::ReqwestTransport::new()
        .map_err(|e| Error::invalid_config(format!("cannot build the HTTP transport: {e}")))?;
    Ok(Arc::new(transport))
}

#[cfg(not(feature = "reqwest"))]
fn default_transport() -> Result<Arc<dyn HttpTransport>, Error> {
    Err(Error::invalid_config(
        "no HTTP transport: pass one to ClientBuilder::transport (or enable the `reqwest` feature)",
    ))
}

#[cfg(feature = "reqwest")]
fn default_sleep() -> Result<Arc<dyn Sleep>, Error> {
    Ok(Arc::new(auth_core::clock::sleep_fn(|d| {
        Box::pin(tokio::time::sleep(d))
    })))
}

#[cfg(not(feature = "reqwest"))]
fn default_sleep() -> Result<Arc<dyn Sleep>, Error> {
    Err(Error::invalid_config(
        "the retry layer needs a sleep: pass one to ClientBuilder::sleep, or call no_retry",
    ))
}

impl Client {
    /// A builder with the production base URL.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The base URL in use, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// Sends `GET {base}{path}?{query}` with a bearer token and reads the envelope's
    /// `data`. A `401` (or an envelope saying 401) invalidates the token and replays the
    /// request once with a new one.
    pub(crate) async fn get<D: DeserializeOwned>(
        &self,
        path: &str,
        query: &str,
    ) -> Result<D, Error> {
        self.get_counted(path, query).await.map(|(data, _)| data)
    }

    /// [`get`](Client::get), and how many strings of the answer had invalid text
    /// replaced with U+FFFD.
    pub(crate) async fn get_counted<D: DeserializeOwned>(
        &self,
        path: &str,
        query: &str,
    ) -> Result<(D, u32), Error> {
        let mut url = String::with_capacity(self.inner.base.len() + path.len() + query.len() + 1);
        url.push_str(&self.inner.base);
        url.push_str(path);
        if !query.is_empty() {
            url.push('?');
            url.push_str(query);
        }
        let mut replayed = false;
        loop {
            let token = self.inner.tokens.token().await?;
            let request = self.request(&url, authorization_header(&TokenType::Bearer, &token)?)?;
            let response = self.inner.transport.send(request).await?;
            let result = if response.status() == StatusCode::UNAUTHORIZED {
                Err(Error::Unauthorized {
                    status: StatusCode::UNAUTHORIZED,
                })
            } else {
                envelope::parse_counted(&response, path)
            };
            match result {
                Err(Error::Unauthorized { .. }) if !replayed => {
                    // Expired or revoked before the cache knew: forget it, fetch a new
                    // one, and send the same request again, once.
                    self.inner.tokens.invalidate(&token);
                    replayed = true;
                }
                other => return other,
            }
        }
    }

    fn request(&self, url: &str, authorization: HeaderValue) -> Result<HttpRequest, Error> {
        let mut request = http::Request::get(url)
            .header(ACCEPT, "application/json")
            .header(http::header::AUTHORIZATION, authorization)
            .body(Bytes::new())
            .map_err(|e| Error::invalid_query(format!("cannot build the request: {e}")))?;
        RequestOptions::default()
            .with_timeout(self.inner.timeout)
            .apply(&mut request);
        Ok(request)
    }

    /// Events matching `query`, as a stream that pages through all of them.
    ///
    /// The query is checked first ([`EventQuery::validate`]); nothing is sent until the
    /// stream is polled. See [`EventStream`] for the paging rules.
    pub fn events(&self, query: EventQuery) -> Result<EventStream, Error> {
        query.validate()?;
        Ok(EventStream::new(self.clone(), query))
    }

    /// One page of events, at offset `start` (`query`'s own offset is ignored).
    pub async fn events_page(&self, query: &EventQuery, start: u64) -> Result<Page<Event>, Error> {
        let qs = query.to_query_string(start, query.page_size())?;
        self.get(EVENTS_PATH, &qs).await
    }

    /// One event, with the optional `fields` asked for. `data` is the event itself.
    pub async fn event(&self, event_id: u64, fields: &[EventField]) -> Result<Event, Error> {
        let mut q = QueryString::default();
        q.list("fields", fields.iter().map(EventField::as_str));
        self.get(&format!("{EVENTS_PATH}/{event_id}"), &q.finish())
            .await
    }

    /// The registrants of an event, every page. The API returns 10 a page unless asked
    /// for more (reference §1a, §4.7), so this pages like the other lists.
    pub async fn registrants(&self, event_id: u64) -> Result<Vec<Registrant>, Error> {
        let path = format!("{EVENTS_PATH}/{event_id}/registrants");
        self.collect_pages(&path, page_query).await
    }

    /// The event types (`/v3/attend/types`), every page. No client is known to page this
    /// list; `start` and `limit` are sent anyway, since the API ignores parameters it
    /// does not take (reference §1a), and without them a list may stop at the default
    /// page of 10 (§4.7).
    pub async fn event_types(&self) -> Result<Vec<EventType>, Error> {
        self.collect_pages("/v3/attend/types", page_query).await
    }

    /// The age groups (`/v3/attend/ages`), every page (paged as
    /// [`event_types`](Client::event_types) is).
    pub async fn age_groups(&self) -> Result<Vec<AgeGroup>, Error> {
        self.collect_pages("/v3/attend/ages", page_query).await
    }

    /// Every location (`/v3/client/locations`), with `id` and `name` asked for.
    pub async fn locations(&self) -> Result<Vec<Location>, Error> {
        self.collect_pages("/v3/client/locations", |start, limit| {
            let mut q = page_params(start, limit);
            q.list("fields", ["id", "name"]);
            q.finish()
        })
        .await
    }

    /// Every room (`/v3/reserve/rooms`), paged.
    pub async fn rooms(&self) -> Result<Vec<Room>, Error> {
        self.collect_pages("/v3/reserve/rooms", page_query).await
    }

    /// Reservations matching `query`: one series of requests per status (the API fails
    /// on a repeated `status` key), merged in the order the statuses were given, each
    /// status paged to its end.
    pub async fn reservations(&self, query: &ReservationQuery) -> Result<Vec<Reservation>, Error> {
        query.validate()?;
        let mut all = Vec::new();
        for status in query.statuses_to_query() {
            let mut part = self
                .collect_pages("/v3/reserve/reservations", |start, limit| {
                    query.build_query_string(status, start, limit)
                })
                .await?;
            all.append(&mut part);
        }
        Ok(all)
    }

    /// One reservation, with the members named in `fields`.
    pub async fn reservation(
        &self,
        reservation_id: u64,
        fields: &[&str],
    ) -> Result<Reservation, Error> {
        let mut q = QueryString::default();
        q.list("fields", fields);
        self.get(
            &format!("/v3/reserve/reservations/{reservation_id}"),
            &q.finish(),
        )
        .await
    }

    /// Fetches every page of a list endpoint, `query` giving the query string of the page
    /// at an offset and size.
    ///
    /// Each entry comes once, and none that stays in the list throughout is lost while
    /// entries are added or removed between pages (the rules of [`EventStream`]).
    async fn collect_pages<T, F>(&self, path: &str, query: F) -> Result<Vec<T>, Error>
    where
        T: DeserializeOwned + Listed + serde::Serialize,
        F: Fn(u64, u32) -> String,
    {
        let mut lister = Lister::new(0, MAX_PAGE_SIZE);
        let mut all = Vec::new();
        while let Some(start) = lister.next_start() {
            let page: Page<T> = self.get(path, &query(start, MAX_PAGE_SIZE)).await?;
            all.extend(lister.record(page.start, page.entries, page.total)?);
        }
        lister.finish()?;
        Ok(all)
    }
}

/// `start` and `limit`, for a list endpoint to add its own parameters to.
fn page_params(start: u64, limit: u32) -> QueryString {
    let mut q = QueryString::default();
    q.pair("start", &start.to_string())
        .pair("limit", &limit.to_string());
    q
}

fn page_query(start: u64, limit: u32) -> String {
    page_params(start, limit).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked() {
        assert_eq!(
            base_url("https://api.communico.co/").unwrap(),
            "https://api.communico.co"
        );
        assert_eq!(
            base_url("http://127.0.0.1:8080/communico/").unwrap(),
            "http://127.0.0.1:8080/communico"
        );
        assert!(matches!(
            base_url("http://api.communico.co"),
            Err(Error::InvalidConfig { .. })
        ));
        assert!(matches!(
            base_url("not a url"),
            Err(Error::InvalidConfig { .. })
        ));
        assert!(matches!(
            base_url("https://a.example/?x=1"),
            Err(Error::InvalidConfig { .. })
        ));
    }

    #[test]
    fn builder_debug_hides_the_secret() {
        let builder = Client::builder().credentials("key", ClientSecret::new("s3cr3t-value"));
        let debug = format!("{builder:?}");
        assert!(debug.contains("key") && !debug.contains("s3cr3t-value"));
    }

    #[test]
    fn missing_credentials_is_a_config_error() {
        let transport = auth_core::transport::from_fn(|_req: HttpRequest| async {
            Ok(http::Response::new(Bytes::new()))
        });
        let err = Client::builder()
            .transport(transport)
            .no_retry()
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }));
    }

    #[cfg(feature = "reqwest")]
    #[test]
    fn the_reqwest_feature_supplies_a_transport_and_a_sleep() {
        let client = Client::builder()
            .credentials("key", ClientSecret::new("secret"))
            .build()
            .unwrap();
        assert_eq!(client.base_url(), DEFAULT_BASE_URL);
    }

    #[cfg(not(feature = "reqwest"))]
    #[test]
    fn without_the_reqwest_feature_retries_need_a_sleep() {
        let transport = auth_core::transport::from_fn(|_req: HttpRequest| async {
            Ok(http::Response::new(Bytes::new()))
        });
        let err = Client::builder()
            .credentials("key", ClientSecret::new("secret"))
            .transport(transport)
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }));
    }

    /// Method, path and query, and timeout of each request sent.
    type Log = Arc<std::sync::Mutex<Vec<(String, String, Option<Duration>)>>>;

    /// A fake API: `/v3/token` issues a token, every other path answers an empty page.
    /// Records the method, the path and query, and the timeout of every request.
    fn recording_client(log: Log) -> ClientBuilder {
        let transport = auth_core::transport::from_fn(move |request: HttpRequest| {
            let log = log.clone();
            async move {
                log.lock().unwrap().push((
                    request.method().to_string(),
                    request
                        .uri()
                        .path_and_query()
                        .map(|p| p.to_string())
                        .unwrap_or_default(),
                    RequestOptions::of(&request).timeout,
                ));
                let body: &'static [u8] = if request.uri().path() == TOKEN_PATH {
                    br#"{"access_token":"at","token_type":"Bearer","expires_in":3600}"#
                } else {
                    br#"{"status":"success","code":200,"data":{"total":0,"start":0,"entries":[]}}"#
                };
                Ok(http::Response::new(Bytes::from_static(body)))
            }
        });
        Client::builder()
            .base_url("http://127.0.0.1:9")
            .credentials("key", ClientSecret::new("secret"))
            .transport(transport)
            .no_retry()
    }

    #[tokio::test]
    async fn the_timeout_applies_to_the_token_request_too() {
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let client = recording_client(log.clone())
            .timeout(Duration::from_secs(7))
            .build()
            .unwrap();
        client.rooms().await.unwrap();
        let log = log.lock().unwrap().clone();
        assert_eq!(log.len(), 2, "{log:?}");
        assert_eq!(log[0].0, "POST");
        assert_eq!(log[0].1, TOKEN_PATH);
        for (_, _, timeout) in &log {
            assert_eq!(*timeout, Some(Duration::from_secs(7)), "{log:?}");
        }
    }

    #[tokio::test]
    async fn every_list_endpoint_asks_for_pages() {
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let client = recording_client(log.clone()).build().unwrap();
        client.registrants(100_000).await.unwrap();
        client.event_types().await.unwrap();
        client.age_groups().await.unwrap();
        client.locations().await.unwrap();
        client.rooms().await.unwrap();
        let asked: Vec<String> = log
            .lock()
            .unwrap()
            .iter()
            .skip(1)
            .map(|(_, uri, _)| uri.clone())
            .collect();
        assert_eq!(
            asked,
            [
                "/v3/attend/events/100000/registrants?start=0&limit=200",
                "/v3/attend/types?start=0&limit=200",
                "/v3/attend/ages?start=0&limit=200",
                "/v3/client/locations?start=0&limit=200&fields=id,name",
                "/v3/reserve/rooms?start=0&limit=200",
            ]
        );
    }

    #[tokio::test]
    async fn an_invalid_reservation_query_sends_nothing() {
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let client = recording_client(log.clone()).build().unwrap();
        let query = ReservationQuery::new()
            .start_date(crate::date("2024-05-10").unwrap())
            .end_date(crate::date("2024-05-09").unwrap());
        let err = client.reservations(&query).await.unwrap_err();
        assert!(matches!(err, Error::InvalidQuery { .. }), "{err:?}");
        assert!(log.lock().unwrap().is_empty());
    }
}
