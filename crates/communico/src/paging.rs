//! The paging rules shared by the event stream and the list endpoints.
//!
//! The API pages by `start` (an offset) and `limit`, and reports `total`. It caps `limit`
//! silently (reference §1a, §4.7), so the next offset is always the previous one plus the
//! number of entries actually received, never plus the limit asked for. Paging stops at
//! an empty page, when the offset reaches the latest `total` (which may change between
//! pages), or, when the server gives no `total`, at a page shorter than the limit asked
//! for. With a `total`, a short page is not the end: it may just be the cap. The offset
//! saturates: paging stops once it reaches `u64::MAX`.
//!
//! A server that ignores `start` is caught when it echoes a different `start`. One that
//! ignores `start`, echoes nothing and sends no `total` would hand out the same full page
//! forever, so without a `total` paging stops with [`Error::InvalidResponse`] at the
//! [`MAX_PAGES_WITHOUT_TOTAL`]th page that would not end it; that page is not recorded, so
//! the next offset still points at it.

use http::StatusCode;

use crate::Error;

/// The most pages fetched while the server reports no `total`: 10,000 (two million
/// entries at [`MAX_PAGE_SIZE`](crate::MAX_PAGE_SIZE)). Every real answer seen carries a
/// `total` (reference §1c), so reaching this means the server is ignoring `start`.
pub(crate) const MAX_PAGES_WITHOUT_TOTAL: u64 = 10_000;

/// Where paging is, and whether it is over.
#[derive(Debug, Clone)]
pub(crate) struct Pager {
    next: u64,
    received: u64,
    limit: u32,
    total: Option<u64>,
    pages: u64,
    done: bool,
}

impl Pager {
    pub(crate) fn new(start: u64, limit: u32) -> Self {
        Self {
            next: start,
            received: 0,
            limit,
            total: None,
            pages: 0,
            done: false,
        }
    }

    /// The offset of the next page to ask for, or `None` when paging is over.
    pub(crate) fn next_start(&self) -> Option<u64> {
        (!self.done).then_some(self.next)
    }

    /// Records a page of `count` entries that the server says starts at `echoed_start`.
    pub(crate) fn record(
        &mut self,
        echoed_start: Option<u64>,
        count: usize,
        total: Option<u64>,
    ) -> Result<(), Error> {
        if let Some(echo) = echoed_start {
            // A server that ignores `start` would send the first page forever.
            if echo != self.next && count > 0 {
                self.done = true;
                return Err(Error::InvalidResponse {
                    status: StatusCode::OK,
                    reason: format!(
                        "asked for entries from offset {} but the page starts at {echo}",
                        self.next
                    ),
                });
            }
        }
        let total = total.or(self.total);
        let count = count as u64;
        // A caller may start at any offset: saturate rather than overflow, and stop there.
        let next = self.next.saturating_add(count);
        let done = count == 0
            || next == u64::MAX
            || match total {
                Some(total) => next >= total,
                None => count < u64::from(self.limit),
            };
        let pages = self.pages.saturating_add(1);
        if !done && total.is_none() && pages >= MAX_PAGES_WITHOUT_TOTAL {
            self.done = true;
            return Err(Error::InvalidResponse {
                status: StatusCode::OK,
                reason: format!(
                    "{pages} full pages without a `total` or an echoed `start`: \
                     the server seems to ignore `start`; stopped at offset {}",
                    self.next
                ),
            });
        }
        self.total = total;
        self.next = next;
        self.received = self.received.saturating_add(count);
        self.pages = pages;
        self.done = done;
        Ok(())
    }

    /// The latest `total`, once a page has arrived.
    pub(crate) fn total(&self) -> Option<u64> {
        self.total
    }

    /// Entries received so far.
    pub(crate) fn received(&self) -> u64 {
        self.received
    }

    /// The offset the next page would start at.
    pub(crate) fn next_offset(&self) -> u64 {
        self.next
    }

    /// Whether paging is over.
    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    pub(crate) fn stop(&mut self) {
        self.done = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a pager against a list of (echoed start, count, total) answers and returns the
    /// offsets asked for.
    fn run(limit: u32, answers: &[(Option<u64>, usize, Option<u64>)]) -> Vec<u64> {
        let mut pager = Pager::new(0, limit);
        let mut asked = Vec::new();
        for &(echo, count, total) in answers {
            let Some(start) = pager.next_start() else {
                break;
            };
            asked.push(start);
            pager.record(echo, count, total).unwrap();
        }
        assert!(pager.is_done(), "paging should be over after {asked:?}");
        asked
    }

    #[test]
    fn silent_cap_advances_by_received() {
        // Asked for 200, the server gives 50 at a time; total 120.
        let asked = run(
            200,
            &[
                (Some(0), 50, Some(120)),
                (Some(50), 50, Some(120)),
                (Some(100), 20, Some(120)),
            ],
        );
        assert_eq!(asked, [0, 50, 100]);
    }

    #[test]
    fn stops_at_total_short_or_empty_page() {
        assert_eq!(
            run(200, &[(None, 200, Some(400)), (None, 200, Some(400))]),
            [0, 200]
        );
        // No total: a short page ends it.
        assert_eq!(run(200, &[(None, 200, None), (None, 10, None)]), [0, 200]);
        // Total says more, but the page is empty (events deleted meanwhile).
        assert_eq!(
            run(200, &[(None, 200, Some(500)), (None, 0, Some(500))]),
            [0, 200]
        );
    }

    #[test]
    fn follows_a_changing_total() {
        // Grows from 300 to 450 between pages, then shrinks to 420.
        assert_eq!(
            run(
                200,
                &[
                    (None, 200, Some(300)),
                    (None, 200, Some(450)),
                    (None, 20, Some(420))
                ]
            ),
            [0, 200, 400]
        );
    }

    #[test]
    fn a_huge_start_saturates_and_stops_at_u64_max() {
        let mut pager = Pager::new(u64::MAX - 5, 200);
        pager.record(None, 200, None).unwrap();
        assert_eq!(pager.next_offset(), u64::MAX);
        assert_eq!(pager.received(), 200);
        assert_eq!(pager.next_start(), None);
        // A total beyond reach does not keep it going either.
        let mut pager = Pager::new(u64::MAX - 1, 10);
        pager
            .record(Some(u64::MAX - 1), 10, Some(u64::MAX))
            .unwrap();
        assert_eq!(pager.next_start(), None);
    }

    #[test]
    fn full_pages_without_a_total_stop_at_the_page_bound() {
        let mut pager = Pager::new(0, 10);
        for _ in 1..MAX_PAGES_WITHOUT_TOTAL {
            pager.record(None, 10, None).unwrap();
        }
        let before = pager.next_offset();
        let err = pager.record(None, 10, None).unwrap_err();
        assert!(matches!(err, Error::InvalidResponse { .. }), "{err:?}");
        assert_eq!(pager.next_start(), None);
        // The refused page is not counted: resuming asks for it again.
        assert_eq!(pager.next_offset(), before);
        assert_eq!(pager.received(), before);
    }

    #[test]
    fn the_page_bound_does_not_apply_with_a_total_or_at_the_end() {
        let mut pager = Pager::new(0, 10);
        for _ in 1..MAX_PAGES_WITHOUT_TOTAL {
            pager.record(None, 10, None).unwrap();
        }
        // A short page at the bound is the end, not an error.
        pager.record(None, 3, None).unwrap();
        assert_eq!(pager.next_start(), None);
        let mut pager = Pager::new(0, 1);
        let total = MAX_PAGES_WITHOUT_TOTAL + 5;
        for _ in 0..total {
            pager.record(None, 1, Some(total)).unwrap();
        }
        assert_eq!(pager.next_start(), None);
        assert_eq!(pager.received(), total);
    }

    #[test]
    fn a_server_ignoring_start_is_an_error() {
        let mut pager = Pager::new(0, 10);
        pager.record(Some(0), 10, Some(100)).unwrap();
        assert!(pager.record(Some(0), 10, Some(100)).is_err());
        assert_eq!(pager.next_start(), None);
    }
}
