//! Exactly-once paging, shared by the event stream and the list endpoints.
//!
//! The API pages by `start` (an offset) and `limit`, reports `total`, caps `limit`
//! silently (reference §1a, §4.7), and gives no snapshot: an event published, deleted or
//! moved between two requests shifts every offset after it. Paging by offsets alone then
//! repeats an entry (an insert before the cursor) or skips one (a deletion before it).
//! [`Lister`] reads a listing so that each entry is handed out at most once and none that
//! stays in the listing throughout is lost:
//!
//! - **Overlap.** Each page after the first is asked from [`OVERLAP`] entries before the
//!   cursor, so its first entries should be the last ones already read. When they are,
//!   nothing moved before the cursor and the rest of the page is new.
//! - **Shift.** When they are not, the page is searched for the last entries read (the
//!   anchor). Found at another place, the entries after the anchor are the ones not yet
//!   read, whatever moved before it. Not found (several entries before the cursor were
//!   deleted), the range before the cursor is read again, stepping back a page and then
//!   twice as far each time, until the anchor shows up or the listing's first offset is
//!   reached, from where everything is read again.
//! - **Once.** Entities with an id (events, rooms, reservations, locations) are
//!   remembered by id and never handed out twice. Entries without one (registrants, event
//!   types, age groups) are compared by content and counted, so that two equal entries
//!   are both kept.
//! - **Verify.** Any sign that the listing changed during a pass (a shift, an entry
//!   met twice, a `total` that changed) makes the end of the pass the start of another
//!   one from the first offset, handing out only what was not handed out yet; this finds
//!   an entry that moved from after the cursor to before it. After [`MAX_PASSES`] passes
//!   that all saw changes, the listing ends with [`Error::ListingUnstable`] rather than
//!   a silent gap.
//!
//! The end of a pass: the offset reaches the latest `total`; or a page brings nothing
//! beyond the overlap; or, without a `total`, a page is shorter than an earlier one
//! (shorter than the first page is not enough: that may be the server's cap). The offset
//! saturates at `u64::MAX`. A server that ignores `start` is caught when it echoes
//! another `start`; one that echoes nothing and sends no `total` is stopped with
//! [`Error::InvalidResponse`] at the [`MAX_PAGES_WITHOUT_TOTAL`]th page of a pass that
//! would not end it.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};

use http::StatusCode;
use serde::Serialize;

use crate::Error;

/// The most pages fetched in one pass while the server reports no `total`: 10,000 (two
/// million entries at [`MAX_PAGE_SIZE`](crate::MAX_PAGE_SIZE)). Every real answer seen
/// carries a `total` (reference §1c), so reaching this means the server ignores `start`.
pub(crate) const MAX_PAGES_WITHOUT_TOTAL: u64 = 10_000;

/// How many already-read entries each page after the first repeats, to check that
/// nothing moved before the cursor.
pub(crate) const OVERLAP: u64 = 2;

/// How many passes a listing may take when every one of them sees a change.
pub(crate) const MAX_PASSES: u32 = 4;

/// How many of the last entries read are remembered to find the place again after a
/// shift.
const ANCHORS: usize = 8;

/// What identifies an entry: its id, or a hash of its content for entries without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    /// An id: the same id is the same entity, handed out once.
    Id(u64),
    /// A content hash: equal entries are counted, not merged.
    Content(u64),
}

/// An entry of a paged list.
pub(crate) trait Listed {
    /// The entry's id, when it has one.
    fn id(&self) -> Option<u64>;
}

/// The key of `entry`: its id, or a hash of its JSON form.
pub(crate) fn key_of<T: Listed + Serialize>(entry: &T) -> Key {
    match entry.id() {
        Some(id) => Key::Id(id),
        None => {
            let mut hasher = DefaultHasher::new();
            // Serializing a model to JSON cannot fail (string keys, finite numbers); an
            // empty form would only make equal-looking entries count together.
            serde_json::to_vec(entry)
                .unwrap_or_default()
                .hash(&mut hasher);
            Key::Content(hasher.finish())
        }
    }
}

/// Where a listing is, and whether it is over.
#[derive(Debug, Clone)]
pub(crate) struct Lister {
    first: u64,
    limit: u32,
    /// The offset after the last entry read in this pass.
    next: u64,
    /// The offset the next request asks for, and how many entries before `next` it
    /// repeats.
    asked: u64,
    overlap: u64,
    /// While the anchor is lost: how far back the next request steps.
    step: Option<u64>,
    /// The keys of the last entries read in this pass, oldest first.
    anchors: VecDeque<Key>,
    total: Option<u64>,
    pass_total: Option<u64>,
    longest: usize,
    /// The ids handed out: 10 to 20 bytes an entity, the price of "at most once" when
    /// the listing changes (a pass cannot know in advance that another will follow).
    handed_ids: HashSet<u64>,
    /// Ids met in this pass, kept only in passes after the first (in the first, every id
    /// met was handed out).
    pass_ids: HashSet<u64>,
    /// Entries without an id: how many equal ones were handed out, and met in this pass.
    handed_content: HashMap<u64, u32>,
    pass_content: HashMap<u64, u32>,
    changed: bool,
    passes: u32,
    received: u64,
    shifts: u64,
    pass_pages: u64,
    done: bool,
    /// An error to report once the entries of the last page are handed out.
    pending: Option<Error>,
}

impl Lister {
    pub(crate) fn new(first: u64, limit: u32) -> Self {
        Self {
            first,
            limit,
            next: first,
            asked: first,
            overlap: 0,
            step: None,
            anchors: VecDeque::with_capacity(ANCHORS),
            total: None,
            pass_total: None,
            longest: 0,
            handed_ids: HashSet::new(),
            pass_ids: HashSet::new(),
            handed_content: HashMap::new(),
            pass_content: HashMap::new(),
            changed: false,
            passes: 1,
            received: 0,
            shifts: 0,
            pass_pages: 0,
            done: false,
            pending: None,
        }
    }

    /// The offset of the next page to ask for, or `None` when the listing is over.
    pub(crate) fn next_start(&mut self) -> Option<u64> {
        if self.done {
            return None;
        }
        let read = self.next - self.first;
        match self.step {
            Some(step) => {
                self.asked = self.next.saturating_sub(step).max(self.first);
                self.overlap = self.next - self.asked;
            }
            None => {
                // No overlap while the server gives a single entry a page: it would
                // leave no room for anything new.
                let room = (self.longest as u64).saturating_sub(1);
                self.overlap = OVERLAP.min(self.anchors.len() as u64).min(read).min(room);
                self.asked = self.next - self.overlap;
            }
        }
        Some(self.asked)
    }

    /// Reads a page asked for at the last [`next_start`](Self::next_start), which the
    /// server says starts at `echoed_start` and counts `total` entries in all, and returns
    /// the entries to hand out: those not handed out before, in the listing's order.
    pub(crate) fn record<T: Listed + Serialize>(
        &mut self,
        echoed_start: Option<u64>,
        entries: Vec<T>,
        total: Option<u64>,
    ) -> Result<Vec<T>, Error> {
        if let Some(echo) = echoed_start {
            // A server that ignores `start` would send the first page forever.
            if echo != self.asked && !entries.is_empty() {
                self.done = true;
                return Err(Error::InvalidResponse {
                    status: StatusCode::OK,
                    reason: format!(
                        "asked for entries from offset {} but the page starts at {echo}",
                        self.asked
                    ),
                });
            }
        }
        let keys: Vec<Key> = entries.iter().map(key_of).collect();
        let longest_before = self.longest;
        self.longest = self.longest.max(keys.len());
        if let Some(total) = total {
            if self.pass_total.is_some_and(|t| t != total) {
                self.changed = true;
            }
            self.pass_total = Some(total);
            self.total = Some(total);
        }

        let Some(from) = self.place(&keys) else {
            // The anchor is not in this page: step further back and ask again.
            return Ok(Vec::new());
        };
        let pages = self.pass_pages.saturating_add(1);
        let next = self.asked.saturating_add(keys.len() as u64);
        // With a `total`, a short page may be the server's cap: only a short page with
        // nothing after the entries already read ends the pass early. Without one, a page
        // shorter than an earlier one does.
        let short = keys.len() < longest_before;
        let end = keys.is_empty()
            || next == u64::MAX
            || match self.total {
                Some(total) => next >= total || (short && from >= keys.len()),
                None => short,
            };
        if !end && self.total.is_none() && pages >= MAX_PAGES_WITHOUT_TOTAL {
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
        self.pass_pages = pages;
        // In place: on an unchanging listing only the two repeated entries move.
        let mut out = entries;
        out.drain(..from.min(out.len()));
        let mut new_keys = keys[from.min(keys.len())..].iter();
        let mut page_ids = HashSet::new();
        out.retain(|_| {
            new_keys
                .next()
                .is_some_and(|&key| self.take(key, &mut page_ids))
        });
        self.received = self.received.saturating_add(out.len() as u64);
        self.next = next;
        if end {
            self.end_pass();
        }
        Ok(out)
    }

    /// Where in `keys` the entries not yet read in this pass begin, or `None` when the
    /// page must be asked for again from further back.
    fn place(&mut self, keys: &[Key]) -> Option<usize> {
        let overlap = self.overlap as usize;
        if self.anchors.is_empty() || overlap == 0 {
            // Nothing to check against (the first page of a pass, or a server giving
            // one entry a page); entries met twice still reveal a change.
            return Some(0);
        }
        if self.step.is_none() && overlap <= self.anchors.len() && keys.len() >= overlap {
            let expected = self.anchors.iter().skip(self.anchors.len() - overlap);
            if keys[..overlap].iter().eq(expected) {
                return Some(overlap);
            }
        }
        // Something moved before the cursor: find the last entries read.
        let last = overlap - 1;
        for (age, anchor) in self.anchors.iter().rev().enumerate() {
            let found = keys
                .iter()
                .enumerate()
                .filter(|(_, k)| *k == anchor)
                .min_by_key(|(j, _)| j.abs_diff(last));
            if let Some((j, _)) = found {
                self.changed = true;
                self.shifts = self.shifts.saturating_add(1);
                self.step = None;
                // Anchors newer than the one found were read already: skip them where
                // they follow it.
                let newer: Vec<Key> = self.anchors.iter().rev().take(age).rev().copied().collect();
                let mut from = j + 1;
                for k in newer {
                    if keys.get(from) == Some(&k) {
                        from += 1;
                    }
                }
                return Some(from);
            }
        }
        self.changed = true;
        self.shifts = self.shifts.saturating_add(1);
        if self.asked > self.first {
            let step = self
                .step
                .map_or(u64::from(self.limit), |s| s.saturating_mul(2));
            self.step = Some(step.max(self.next - self.asked + 1));
            return None;
        }
        // Back at the first offset without finding the place: read everything again from
        // here, handing out only what was not handed out.
        self.restart_pass();
        self.asked = self.first;
        Some(0)
    }

    /// Counts `key` as read in this pass and says whether to hand its entry out.
    /// `page_ids` holds the ids already taken from the same page.
    fn take(&mut self, key: Key, page_ids: &mut HashSet<u64>) -> bool {
        if self.anchors.len() == ANCHORS {
            self.anchors.pop_front();
        }
        self.anchors.push_back(key);
        match key {
            Key::Id(id) => {
                let new = self.handed_ids.insert(id);
                let again = if self.passes == 1 {
                    !new
                } else {
                    !self.pass_ids.insert(id)
                };
                // One page is one answer, a snapshot: an id it holds twice is the
                // server's own duplicate, handed out once, and no sign of a shift.
                let repeated_in_page = !page_ids.insert(id);
                if again && !repeated_in_page {
                    // The same entity twice in one pass: it moved past the cursor.
                    self.changed = true;
                }
                new
            }
            Key::Content(hash) => {
                let seen = self.pass_content.entry(hash).or_insert(0);
                *seen += 1;
                let seen = *seen;
                let out = self.handed_content.entry(hash).or_insert(0);
                if seen > *out {
                    *out = seen;
                    true
                } else {
                    false
                }
            }
        }
    }

    fn restart_pass(&mut self) {
        self.next = self.first;
        self.step = None;
        self.anchors.clear();
        self.pass_ids.clear();
        self.pass_content.clear();
        self.pass_total = None;
        self.pass_pages = 0;
    }

    /// At the end of a pass: over, or another pass when this one saw a change.
    fn end_pass(&mut self) {
        if !self.changed {
            self.done = true;
        } else if self.passes >= MAX_PASSES {
            self.done = true;
            self.pending = Some(Error::ListingUnstable {
                passes: self.passes,
                received: self.received,
            });
        } else {
            self.passes += 1;
            self.changed = false;
            self.restart_pass();
        }
    }

    /// Once [`next_start`](Self::next_start) says the listing is over: whether it ended
    /// complete, or the error that ended it (after the last page's entries).
    pub(crate) fn finish(&mut self) -> Result<(), Error> {
        self.pending.take().map_or(Ok(()), Err)
    }

    /// The latest `total`, once a page has arrived.
    pub(crate) fn total(&self) -> Option<u64> {
        self.total
    }

    /// Entries handed out so far.
    pub(crate) fn received(&self) -> u64 {
        self.received
    }

    /// The offset the next page would continue from.
    pub(crate) fn next_offset(&self) -> u64 {
        self.next
    }

    /// How many times the listing was seen to shift under the cursor.
    pub(crate) fn shifts(&self) -> u64 {
        self.shifts
    }

    /// How many passes the listing has taken so far (1 when nothing changed).
    pub(crate) fn passes(&self) -> u32 {
        self.passes
    }

    /// Whether the listing is over.
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

    #[derive(Debug, Clone, Copy, PartialEq, Serialize)]
    struct Id(u64);

    impl Listed for Id {
        fn id(&self) -> Option<u64> {
            Some(self.0)
        }
    }

    #[derive(Debug, Clone, PartialEq, Serialize)]
    struct Anon(&'static str);

    impl Listed for Anon {
        fn id(&self) -> Option<u64> {
            None
        }
    }

    /// A listing that changes: `change(page_number, &mut list)` runs after each page is
    /// served. The server caps pages at `cap` and reports a total when `with_total`.
    fn run(
        initial: Vec<u64>,
        limit: u32,
        cap: usize,
        with_total: bool,
        mut change: impl FnMut(usize, &mut Vec<u64>),
    ) -> (Result<Vec<u64>, Error>, Vec<u64>, Lister) {
        let mut list = initial;
        let mut lister = Lister::new(0, limit);
        let mut out = Vec::new();
        let mut asked = Vec::new();
        let mut n = 0;
        while let Some(start) = lister.next_start() {
            asked.push(start);
            let from = (start as usize).min(list.len());
            let page: Vec<Id> = list[from..]
                .iter()
                .take(cap.min(limit as usize))
                .map(|&i| Id(i))
                .collect();
            let total = with_total.then_some(list.len() as u64);
            change(n, &mut list);
            n += 1;
            match lister.record(Some(start), page, total) {
                Ok(page) => out.extend(page.into_iter().map(|e| e.0)),
                Err(e) => return (Err(e), asked, lister),
            }
            assert!(n < 10_000, "endless paging: {asked:?}");
        }
        if let Err(e) = lister.finish() {
            return (Err(e), asked, lister);
        }
        (Ok(out), asked, lister)
    }

    #[test]
    fn an_unchanging_listing_takes_one_pass_with_overlapping_pages() {
        let (ids, asked, lister) = run((0..45).collect(), 10, 100, true, |_, _| {});
        assert_eq!(ids.unwrap(), (0..45).collect::<Vec<_>>());
        assert_eq!(asked, [0, 8, 16, 24, 32, 40]);
        assert_eq!((lister.passes(), lister.shifts()), (1, 0));
    }

    #[test]
    fn an_id_a_page_holds_twice_is_handed_out_once_without_another_pass() {
        let (ids, _, lister) = run(vec![1, 2, 1, 3], 10, 10, true, |_, _| {});
        assert_eq!(ids.unwrap(), [1, 2, 3]);
        assert_eq!((lister.passes(), lister.shifts()), (1, 0));
    }

    #[test]
    fn a_silent_cap_and_a_missing_total_lose_nothing() {
        // Asked for 200, given 7 at a time, no total.
        let (ids, _, lister) = run((0..50).collect(), 200, 7, false, |_, _| {});
        assert_eq!(ids.unwrap(), (0..50).collect::<Vec<_>>());
        assert_eq!(lister.passes(), 1);
        // Exactly one page short of the cap: still ends.
        let (ids, asked, _) = run((0..5).collect(), 200, 7, false, |_, _| {});
        assert_eq!(ids.unwrap(), (0..5).collect::<Vec<_>>());
        assert_eq!(asked, [0, 3]);
    }

    #[test]
    fn an_insert_before_the_cursor_repeats_nothing() {
        let (ids, _, lister) = run((0..30).collect(), 10, 10, true, |n, list| {
            if n == 0 {
                list.insert(0, 1000);
            }
        });
        let mut ids = ids.unwrap();
        assert_eq!(ids.len(), 31, "{ids:?}");
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 31);
        assert!(lister.shifts() >= 1);
    }

    #[test]
    fn deletions_before_the_cursor_skip_nothing_that_stayed() {
        for deleted in 1..=12 {
            let (ids, _, _) = run((0..60).collect(), 10, 10, true, |n, list| {
                if n == 1 {
                    list.drain(0..deleted);
                }
            });
            let ids = ids.unwrap();
            let mut sorted = ids.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), ids.len(), "repeated: {ids:?}");
            for id in deleted as u64..60 {
                assert!(
                    ids.contains(&id),
                    "{deleted} deleted: {id} missing from {ids:?}"
                );
            }
        }
    }

    #[test]
    fn an_entry_moving_before_the_cursor_is_found_by_another_pass() {
        let (ids, _, lister) = run((0..40).collect(), 10, 10, true, |n, list| {
            if n == 1 {
                // 35 moves to the front; 3 is deleted at the same time.
                list.retain(|&i| i != 35 && i != 3);
                list.insert(0, 35);
            }
        });
        let ids = ids.unwrap();
        assert!(ids.contains(&35), "{ids:?}");
        assert_eq!(ids.len(), 40);
        assert!(lister.passes() >= 2);
    }

    #[test]
    fn a_listing_that_never_settles_is_an_error_not_a_gap() {
        let mut next = 10_000;
        let (result, _, _) = run((0..100).collect(), 10, 10, true, |_, list| {
            list.insert(0, next);
            next += 1;
        });
        assert!(
            matches!(
                result,
                Err(Error::ListingUnstable {
                    passes: MAX_PASSES,
                    ..
                })
            ),
            "{result:?}"
        );
    }

    #[test]
    fn equal_entries_without_ids_are_all_kept() {
        let list = ["a", "", "", "b", "", "c", "", "", "d", "e", "", "f"];
        let mut lister = Lister::new(0, 4);
        let mut out = Vec::new();
        while let Some(start) = lister.next_start() {
            let page: Vec<Anon> = list
                .iter()
                .skip(start as usize)
                .take(4)
                .map(|s| Anon(s))
                .collect();
            out.extend(lister.record(None, page, Some(list.len() as u64)).unwrap());
        }
        let out: Vec<&str> = out.into_iter().map(|a| a.0).collect();
        assert_eq!(out, list);
    }

    #[test]
    fn a_huge_start_saturates_and_stops_at_u64_max() {
        let mut lister = Lister::new(u64::MAX - 5, 200);
        assert_eq!(lister.next_start(), Some(u64::MAX - 5));
        let page: Vec<Id> = (0..200).map(Id).collect();
        let out = lister.record(None, page, None).unwrap();
        assert_eq!(out.len(), 200);
        assert_eq!(lister.next_start(), None);
    }

    #[test]
    fn full_pages_without_a_total_stop_at_the_page_bound() {
        // A server that ignores `start`: the same page, no echo, no total.
        let mut lister = Lister::new(0, 1);
        let mut pages = 0;
        let error = loop {
            let Some(_) = lister.next_start() else {
                panic!("ended without an error after {pages} pages");
            };
            pages += 1;
            if let Err(e) = lister.record(None, vec![Id(0)], None) {
                break e;
            }
        };
        assert!(matches!(error, Error::InvalidResponse { .. }), "{error:?}");
        assert_eq!(pages, MAX_PAGES_WITHOUT_TOTAL);
        assert_eq!(lister.received(), 1);
        assert_eq!(lister.next_start(), None);
    }

    #[test]
    fn a_server_ignoring_start_is_an_error() {
        let mut lister = Lister::new(0, 10);
        lister.next_start();
        let page = |n| (0..n).map(Id).collect::<Vec<_>>();
        lister.record(Some(0), page(10), Some(100)).unwrap();
        lister.next_start();
        assert!(lister.record(Some(0), page(10), Some(100)).is_err());
        assert_eq!(lister.next_start(), None);
    }
}
