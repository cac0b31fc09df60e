//! The paging rules shared by the event stream and the list endpoints.
//!
//! The API pages by `start` (an offset) and `limit`, and reports `total`. It caps `limit`
//! silently (reference §1a, §4.7), so the next offset is always the previous one plus the
//! number of entries actually received, never plus the limit asked for. Paging stops at
//! an empty page, when the offset reaches the latest `total` (which may change between
//! pages), or, when the server gives no `total`, at a page shorter than the limit asked
//! for. With a `total`, a short page is not the end: it may just be the cap.

use http::StatusCode;

use crate::Error;

/// Where paging is, and whether it is over.
#[derive(Debug, Clone)]
pub(crate) struct Pager {
    next: u64,
    received: u64,
    limit: u32,
    total: Option<u64>,
    done: bool,
}

impl Pager {
    pub(crate) fn new(start: u64, limit: u32) -> Self {
        Self {
            next: start,
            received: 0,
            limit,
            total: None,
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
        if total.is_some() {
            self.total = total;
        }
        let count = count as u64;
        self.next += count;
        self.received += count;
        self.done = count == 0
            || match self.total {
                Some(total) => self.next >= total,
                None => count < u64::from(self.limit),
            };
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
    fn a_server_ignoring_start_is_an_error() {
        let mut pager = Pager::new(0, 10);
        pager.record(Some(0), 10, Some(100)).unwrap();
        assert!(pager.record(Some(0), 10, Some(100)).is_err());
        assert_eq!(pager.next_start(), None);
    }
}
