//! Events as a [`Stream`], one page at a time.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::Error;
use crate::client::{Client, EVENTS_PATH};
use crate::envelope::Page;
use crate::event::Event;
use crate::paging::Lister;
use crate::query::EventQuery;

type PageFuture = Pin<Box<dyn Future<Output = Result<(Page<Event>, u32), Error>> + Send>>;

/// The events matching a query, fetched a page at a time as the stream is polled; made by
/// [`Client::events`].
///
/// **Each event at most once, none lost.** The API has no snapshot: events published,
/// deleted or moved between two requests shift the offsets of every later page. The
/// stream asks for `sortBy=eventStart&sortOrder=ascending` unless the query names an
/// order, starts each page two events before the cursor and checks that they are the
/// last two it read; when they are not, it finds its place again by `eventId` (reading
/// the range before the cursor again when it has to), and a pass that saw any change is
/// followed by another pass over the whole listing that hands out only what was not
/// handed out yet. So, while the listing changes under it:
///
/// - no `eventId` is handed out twice;
/// - every event that is in the listing from the first request to the last is handed
///   out, wherever it moves;
/// - an event published mid-listing is handed out if it sorts after the cursor, or if it
///   is there when another pass is made; one deleted mid-listing may have been handed
///   out before it was deleted;
/// - a listing that changes during each of 4 passes ends with
///   [`Error::ListingUnstable`] instead of a silent gap.
///
/// On a listing that does not change, this costs two repeated events a page and
/// nothing else ([`shifts`](EventStream::shifts) stays 0, [`passes`](EventStream::passes)
/// 1). Events without an `eventId` are compared by their content.
///
/// Other rules:
///
/// - Pages are at most [`MAX_PAGE_SIZE`](crate::MAX_PAGE_SIZE) long; the next page starts
///   after the entries actually received, so a server that caps `limit` silently loses
///   nothing.
/// - A pass ends when the offset reaches `total` (re-read on every page) or a page brings
///   nothing new; without a `total`, at a page shorter than an earlier one. A `start`
///   that is not echoed is not needed.
/// - A server that ignores `start` ends the stream with [`Error::InvalidResponse`]: at
///   once if it echoes another `start`; if it echoes nothing and sends no `total`, at
///   the 10,000th page of a pass.
/// - At most one page is held: the next is fetched only when the current one has been
///   handed out. Besides the page, the stream keeps the `eventId`s handed out (about 10
///   bytes each, 1 MiB for 100,000 events), which "at most once" needs if the listing
///   turns out to have changed.
/// - A token that expires or is revoked mid-stream is replaced (one token request) and
///   the same page is asked for again, so no event is repeated or skipped.
/// - The first error ends the stream; [`next_offset`](EventStream::next_offset) says where
///   to resume with [`EventQuery::start`].
///
/// [`total`](EventStream::total) is known once the first page has arrived, for a
/// progress bar.
pub struct EventStream {
    client: Client,
    query: EventQuery,
    pager: Lister,
    page: std::vec::IntoIter<Event>,
    pending: Option<PageFuture>,
    failed: bool,
    invalid_text: u64,
}

impl fmt::Debug for EventStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream")
            .field("query", &self.query)
            .field("total", &self.pager.total())
            .field("received", &self.pager.received())
            .field("buffered", &self.page.len())
            .finish_non_exhaustive()
    }
}

impl EventStream {
    pub(crate) fn new(client: Client, query: EventQuery) -> Self {
        let query = query.with_stable_order();
        let pager = Lister::new(query.first_offset(), query.page_size());
        Self {
            client,
            query,
            pager,
            page: Vec::new().into_iter(),
            pending: None,
            failed: false,
            invalid_text: 0,
        }
    }

    /// How many events match, as the latest page said; `None` before the first page.
    pub fn total(&self) -> Option<u64> {
        self.pager.total()
    }

    /// How many events have been received from the server so far (handed out or still
    /// in the current page).
    pub fn received(&self) -> u64 {
        self.pager.received()
    }

    /// The offset the next page would be asked from: where to resume after an error.
    pub fn next_offset(&self) -> u64 {
        self.pager.next_offset()
    }

    /// How many times the listing was seen to shift under the cursor (events published,
    /// deleted or moved between pages). 0 for a listing that did not change.
    pub fn shifts(&self) -> u64 {
        self.pager.shifts()
    }

    /// How many passes over the listing have been made: 1, or more when a change was
    /// seen and the listing is read again.
    pub fn passes(&self) -> u32 {
        self.pager.passes()
    }

    /// How many of the events handed out so far had invalid text (an escape of half a
    /// surrogate pair, or bytes that are not UTF-8) in a member such as the title, handed
    /// out with U+FFFD in its place rather than costing the page. Each answer mended is
    /// also logged as a `tracing` warning.
    pub fn invalid_text_count(&self) -> u64 {
        self.invalid_text
    }

    /// How many events of the current page are still to be handed out.
    pub fn buffered_len(&self) -> usize {
        self.page.len()
    }

    fn start_fetch(&mut self, start: u64) -> Result<PageFuture, Error> {
        let query_string = self.query.to_query_string(start, self.query.page_size())?;
        let client = self.client.clone();
        Ok(Box::pin(async move {
            client
                .get_counted::<Page<Event>>(EVENTS_PATH, &query_string)
                .await
        }))
    }
}

impl Stream for EventStream {
    type Item = Result<Event, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(event) = this.page.next() {
                return Poll::Ready(Some(Ok(event)));
            }
            if this.failed {
                return Poll::Ready(None);
            }
            let future = match this.pending.as_mut() {
                Some(future) => future,
                None => {
                    let Some(start) = this.pager.next_start() else {
                        if let Err(error) = this.pager.finish() {
                            this.failed = true;
                            return Poll::Ready(Some(Err(error)));
                        }
                        return Poll::Ready(None);
                    };
                    // Release the spent page's buffer before the next one arrives.
                    this.page = Vec::new().into_iter();
                    match this.start_fetch(start) {
                        Ok(future) => this.pending.insert(future),
                        Err(error) => {
                            this.failed = true;
                            return Poll::Ready(Some(Err(error)));
                        }
                    }
                }
            };
            let result = match future.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(result) => result,
            };
            this.pending = None;
            let recorded = result.and_then(|(page, mended)| {
                let entries = this.pager.record(page.start, page.entries, page.total)?;
                if mended > 0 {
                    // Only pages that needed mending are searched: count the events
                    // handed out that carry a replacement character.
                    let hit = entries.iter().filter(|e| has_replacement(e)).count();
                    this.invalid_text = this.invalid_text.saturating_add(hit as u64);
                }
                Ok(entries)
            });
            match recorded {
                Ok(entries) => this.page = entries.into_iter(),
                Err(error) => {
                    this.failed = true;
                    this.pager.stop();
                    return Poll::Ready(Some(Err(error)));
                }
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let buffered = self.page.len();
        // `total` may change between pages, so there is no upper bound until the end.
        if self.failed || (self.pager.is_done() && self.pending.is_none()) {
            (buffered, Some(buffered))
        } else {
            (buffered, None)
        }
    }
}

fn has_replacement(event: &Event) -> bool {
    serde_json::to_string(event).is_ok_and(|text| text.contains('\u{FFFD}'))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use auth_core::transport::{HttpRequest, from_fn};
    use auth_core::{AccessToken, TokenProvider};
    use bytes::Bytes;
    use futures_util::StreamExt;
    use serde_json::json;

    use super::*;

    struct StaticToken;

    impl TokenProvider for StaticToken {
        fn token(&self) -> auth_core::TokenFuture<'_> {
            auth_core::TokenFuture::ready(Ok(AccessToken::new("t")))
        }
        fn invalidate(&self, _rejected: &AccessToken) {}
    }

    /// A fake events endpoint over ids `0..count`: pages capped at `cap`, reporting the
    /// total `reported(page_number)` (`None`: no total).
    fn client(
        count: u64,
        cap: u64,
        reported: fn(usize) -> Option<u64>,
        requests: Arc<AtomicUsize>,
        starts: Arc<Mutex<Vec<u64>>>,
    ) -> Client {
        let transport = from_fn(move |request: HttpRequest| {
            let requests = requests.clone();
            let starts = starts.clone();
            async move {
                let n = requests.fetch_add(1, Ordering::SeqCst);
                let query = request.uri().query().unwrap_or("").to_owned();
                let start: u64 = query
                    .split('&')
                    .find_map(|p| p.strip_prefix("start="))
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                starts.lock().unwrap().push(start);
                let entries: Vec<_> = (start..count.min(start + cap))
                    .map(|id| json!({"eventId": id, "title": format!("e{id}")}))
                    .collect();
                let mut data = json!({"start": start, "limit": 200, "entries": entries});
                if let Some(total) = reported(n) {
                    data["total"] = json!(total);
                }
                let body = json!({"status": "success", "code": 200, "data": data});
                Ok(http::Response::builder()
                    .status(201)
                    .body(Bytes::from(serde_json::to_vec(&body).unwrap()))
                    .unwrap())
            }
        });
        Client::builder()
            .base_url("http://127.0.0.1:9")
            .transport(transport)
            .token_provider(Arc::new(StaticToken))
            .no_retry()
            .build()
            .unwrap()
    }

    async fn run(
        count: u64,
        cap: u64,
        reported: fn(usize) -> Option<u64>,
    ) -> (Vec<u64>, Vec<u64>, Option<u64>) {
        let requests = Arc::new(AtomicUsize::new(0));
        let starts = Arc::new(Mutex::new(Vec::new()));
        let client = client(count, cap, reported, requests, starts.clone());
        let mut stream = client.events(EventQuery::new()).unwrap();
        let mut ids = Vec::new();
        while let Some(event) = stream.next().await {
            ids.push(event.unwrap().event_id.unwrap());
        }
        let starts = starts.lock().unwrap().clone();
        (ids, starts, stream.total())
    }

    #[test]
    fn streams_and_clients_can_cross_threads() {
        fn send_sync<T: Send + Sync>() {}
        fn send<T: Send>() {}
        send_sync::<Client>();
        send::<EventStream>();
        send::<Result<Event, Error>>();
    }

    #[tokio::test]
    async fn survives_a_total_that_grows_and_a_silent_cap() {
        // The first page says 450, later pages 500; the server gives 120 at a time. Pages
        // overlap by two; the changed total makes a second pass, which finds nothing new.
        let (ids, starts, total) = run(500, 120, |n| Some(if n == 0 { 450 } else { 500 })).await;
        assert_eq!(ids, (0..500).collect::<Vec<_>>());
        assert_eq!(starts, [0, 118, 236, 354, 472, 0, 118, 236, 354, 472]);
        assert_eq!(total, Some(500));
    }

    #[tokio::test]
    async fn stops_at_a_total_that_shrinks() {
        // 500 exist but the total drops to 240 after the first page: a second pass
        // confirms the listing as it now is.
        let (ids, starts, _) = run(500, 200, |n| Some(if n == 0 { 500 } else { 240 })).await;
        assert_eq!(ids, (0..398).collect::<Vec<_>>());
        assert_eq!(starts, [0, 198, 0, 198]);
    }

    #[tokio::test]
    async fn without_a_total_a_short_page_ends_it() {
        let (ids, starts, total) = run(450, 200, |_| None).await;
        assert_eq!(ids, (0..450).collect::<Vec<_>>());
        assert_eq!(starts, [0, 198, 396]);
        assert_eq!(total, None);
    }

    #[tokio::test]
    async fn an_empty_first_page_is_an_empty_stream() {
        let (ids, starts, total) = run(0, 200, |_| Some(0)).await;
        assert!(ids.is_empty());
        assert_eq!(starts, [0]);
        assert_eq!(total, Some(0));
    }

    #[tokio::test]
    async fn a_server_ignoring_start_without_echo_or_total_ends_in_an_error() {
        // Always the same full page: no `start` echoed, no `total`.
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        let transport = from_fn(move |request: HttpRequest| {
            counter.fetch_add(1, Ordering::SeqCst);
            let limit: u64 = request
                .uri()
                .query()
                .unwrap_or("")
                .split('&')
                .find_map(|p| p.strip_prefix("limit="))
                .and_then(|s| s.parse().ok())
                .unwrap();
            async move {
                let entries: Vec<_> = (0..limit).map(|id| json!({"eventId": id})).collect();
                let body = json!({"status": "success", "data": {"entries": entries}});
                Ok(http::Response::new(Bytes::from(
                    serde_json::to_vec(&body).unwrap(),
                )))
            }
        });
        let client = Client::builder()
            .base_url("http://127.0.0.1:9")
            .transport(transport)
            .token_provider(Arc::new(StaticToken))
            .no_retry()
            .build()
            .unwrap();
        let mut stream = client.events(EventQuery::new().limit(1)).unwrap();
        let mut received = 0u64;
        let error = loop {
            match stream.next().await {
                Some(Ok(_)) => received += 1,
                Some(Err(error)) => break error,
                None => panic!("the stream ended without an error after {received} events"),
            }
        };
        assert!(matches!(error, Error::InvalidResponse { .. }), "{error:?}");
        assert!(stream.next().await.is_none());
        let bound = crate::paging::MAX_PAGES_WITHOUT_TOTAL;
        assert_eq!(requests.load(Ordering::SeqCst) as u64, bound);
        // The same event every time: handed out once.
        assert_eq!(received, 1);
        assert_eq!(stream.next_offset(), bound - 1);
    }

    #[tokio::test]
    async fn pages_are_fetched_only_when_the_previous_one_is_spent() {
        let requests = Arc::new(AtomicUsize::new(0));
        let starts = Arc::new(Mutex::new(Vec::new()));
        let client = client(1000, 200, |_| Some(1000), requests.clone(), starts);
        let mut stream = client.events(EventQuery::new()).unwrap();
        assert_eq!(
            requests.load(Ordering::SeqCst),
            0,
            "nothing is sent before polling"
        );
        for i in 0..450 {
            stream.next().await.unwrap().unwrap();
            // Pages after the first repeat two events, so bring 198 new ones; no page is
            // fetched ahead.
            let page = if i < 200 { 1 } else { (i - 200) / 198 + 2 };
            assert_eq!(requests.load(Ordering::SeqCst), page);
            assert!(stream.buffered_len() < 200);
        }
        assert_eq!(stream.received(), 596);
        assert_eq!(stream.next_offset(), 596);
    }
}
