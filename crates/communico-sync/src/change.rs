//! What changed about one event between the mirror and a listing, and the change feed's
//! records.

use std::fmt;

use serde_json::Value;

/// The kinds of change a sync reports, as the feed spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ChangeKind {
    /// An event id the mirror has never held.
    Added,
    /// Any difference in any member the API sent that is not one of the changes below.
    Updated,
    /// The API's `modified` member became `canceled`.
    Canceled,
    /// The API's `modified` member became `rescheduled` (`newEventId` names the
    /// replacement, which is reported as [`Added`](ChangeKind::Added)).
    Rescheduled,
    /// An event whose start lies in the synced window is missing from a complete listing
    /// of that window.
    Removed,
    /// An event marked removed appears in a listing again.
    Restored,
}

impl ChangeKind {
    /// Every kind, in the order of the summary line.
    pub const ALL: [ChangeKind; 6] = [
        ChangeKind::Added,
        ChangeKind::Updated,
        ChangeKind::Canceled,
        ChangeKind::Rescheduled,
        ChangeKind::Removed,
        ChangeKind::Restored,
    ];

    /// The name in the feed and in the `changes` table: `added`, `updated`, `canceled`,
    /// `rescheduled`, `removed` or `restored`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Updated => "updated",
            ChangeKind::Canceled => "canceled",
            ChangeKind::Rescheduled => "rescheduled",
            ChangeKind::Removed => "removed",
            ChangeKind::Restored => "restored",
        }
    }

    /// The kind named `name` (as [`as_str`](ChangeKind::as_str) writes it).
    pub fn parse(name: &str) -> Option<ChangeKind> {
        ChangeKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The API's `modified` member, read as [`communico::Event::is_canceled`] and
/// [`communico::Event::is_rescheduled`] read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Modified {
    None,
    Canceled,
    Rescheduled,
}

impl Modified {
    pub(crate) fn of(modified: Option<&str>) -> Modified {
        let m = modified.unwrap_or("").trim();
        if m.eq_ignore_ascii_case("canceled") || m.eq_ignore_ascii_case("cancelled") {
            Modified::Canceled
        } else if m.eq_ignore_ascii_case("rescheduled") {
            Modified::Rescheduled
        } else {
            Modified::None
        }
    }
}

/// What the mirror holds of an event before the listing is applied.
#[derive(Debug)]
pub(crate) struct Stored {
    /// The event's JSON text.
    pub(crate) raw: String,
    pub(crate) modified: Option<String>,
    pub(crate) removed: bool,
}

/// The change from `old` (the mirror's row, if any) to the event as listed now: `None`
/// when nothing differs. Members are compared as JSON values, so the order in which the
/// server writes them does not matter, while any difference in any value does.
pub(crate) fn classify(
    old: Option<&Stored>,
    new: &Value,
    new_modified: Modified,
) -> Option<ChangeKind> {
    let Some(old) = old else {
        return Some(ChangeKind::Added);
    };
    if old.removed {
        return Some(ChangeKind::Restored);
    }
    // A stored text that no longer parses cannot equal anything: rewrite it.
    let same = serde_json::from_str::<Value>(&old.raw).is_ok_and(|old| &old == new);
    if same {
        return None;
    }
    let old_modified = Modified::of(old.modified.as_deref());
    match new_modified {
        Modified::Canceled if old_modified != Modified::Canceled => Some(ChangeKind::Canceled),
        Modified::Rescheduled if old_modified != Modified::Rescheduled => {
            Some(ChangeKind::Rescheduled)
        }
        _ => Some(ChangeKind::Updated),
    }
}

/// One record of the change feed, as the `changes` table keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Change {
    /// The record's sequence number in the `changes` table (increasing across syncs).
    pub seq: i64,
    /// The sync that made the change (`syncs.sync_id`).
    pub sync_id: i64,
    /// When it was recorded: RFC 3339, UTC.
    pub at: String,
    /// What changed.
    pub kind: ChangeKind,
    /// The event's `eventId`.
    pub event_id: u64,
    /// The event's JSON text as listed; `None` for [`ChangeKind::Removed`].
    pub event: Option<String>,
}

impl Change {
    /// The feed's line for this change, without the line end:
    /// `{"change":"added","eventId":8890,"event":{...}}`, the `event` member left out for
    /// a removal. The event is written as the mirror stores it (every member the API
    /// sent).
    ///
    /// ```
    /// # fn feed(mirror: &communico_sync::Mirror, sync_id: i64) -> Result<(), communico_sync::Error> {
    /// mirror.for_each_change(sync_id, |change| {
    ///     println!("{}", change.to_json_line());
    ///     Ok(())
    /// })?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn to_json_line(&self) -> String {
        let mut line = String::with_capacity(48 + self.event.as_ref().map_or(0, String::len));
        line.push_str("{\"change\":\"");
        line.push_str(self.kind.as_str());
        line.push_str("\",\"eventId\":");
        line.push_str(&self.event_id.to_string());
        if let Some(event) = &self.event {
            line.push_str(",\"event\":");
            line.push_str(event);
        }
        line.push('}');
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stored(raw: Value, removed: bool) -> Stored {
        Stored {
            modified: raw["modified"].as_str().map(str::to_owned),
            raw: raw.to_string(),
            removed,
        }
    }

    fn modified(v: &Value) -> Modified {
        Modified::of(v["modified"].as_str())
    }

    #[test]
    fn classification_table() {
        let base = json!({"eventId": 1, "title": "Knitting", "modified": "", "roomName": null});
        let with = |patch: Value| {
            let mut v = base.clone();
            for (k, val) in patch.as_object().unwrap() {
                v[k] = val.clone();
            }
            v
        };
        let cases: Vec<(Option<Stored>, Value, Option<ChangeKind>)> = vec![
            (None, base.clone(), Some(ChangeKind::Added)),
            (Some(stored(base.clone(), false)), base.clone(), None),
            (
                Some(stored(base.clone(), false)),
                with(json!({"title": "Knitting club"})),
                Some(ChangeKind::Updated),
            ),
            // null and "" and absent are three different values.
            (
                Some(stored(base.clone(), false)),
                with(json!({"roomName": ""})),
                Some(ChangeKind::Updated),
            ),
            (
                Some(stored(base.clone(), false)),
                json!({"eventId": 1, "title": "Knitting", "modified": ""}),
                Some(ChangeKind::Updated),
            ),
            // A member the crate does not model is compared too.
            (
                Some(stored(with(json!({"custom": [1]})), false)),
                with(json!({"custom": [2]})),
                Some(ChangeKind::Updated),
            ),
            (
                Some(stored(base.clone(), false)),
                with(json!({"modified": "canceled"})),
                Some(ChangeKind::Canceled),
            ),
            (
                Some(stored(base.clone(), false)),
                with(json!({"modified": "rescheduled", "newEventId": 9})),
                Some(ChangeKind::Rescheduled),
            ),
            // Already canceled, edited again: an update.
            (
                Some(stored(with(json!({"modified": "canceled"})), false)),
                with(json!({"modified": "canceled", "title": "x"})),
                Some(ChangeKind::Updated),
            ),
            // Un-canceled: an update.
            (
                Some(stored(with(json!({"modified": "canceled"})), false)),
                base.clone(),
                Some(ChangeKind::Updated),
            ),
            // A removed event that comes back, changed or not.
            (
                Some(stored(base.clone(), true)),
                base.clone(),
                Some(ChangeKind::Restored),
            ),
            (
                Some(stored(base.clone(), true)),
                with(json!({"modified": "canceled"})),
                Some(ChangeKind::Restored),
            ),
            // A damaged stored text is rewritten.
            (
                Some(Stored {
                    raw: "{not json".into(),
                    modified: None,
                    removed: false,
                }),
                base.clone(),
                Some(ChangeKind::Updated),
            ),
        ];
        for (old, new, want) in cases {
            assert_eq!(
                classify(old.as_ref(), &new, modified(&new)),
                want,
                "{old:?} -> {new}"
            );
        }
    }

    #[test]
    fn member_order_is_not_a_change() {
        let old = Stored {
            raw: r#"{"title":"a","eventId":1}"#.into(),
            modified: None,
            removed: false,
        };
        let new = json!({"eventId": 1, "title": "a"});
        assert_eq!(classify(Some(&old), &new, Modified::None), None);
    }

    #[test]
    fn feed_lines_have_the_documented_shape() {
        let mut change = Change {
            seq: 1,
            sync_id: 1,
            at: "2026-01-01T00:00:00Z".into(),
            kind: ChangeKind::Added,
            event_id: 8890,
            event: Some(r#"{"eventId":8890,"title":"Q"}"#.into()),
        };
        let line: Value = serde_json::from_str(&change.to_json_line()).unwrap();
        assert_eq!(
            line,
            json!({"change": "added", "eventId": 8890, "event": {"eventId": 8890, "title": "Q"}})
        );
        change.kind = ChangeKind::Removed;
        change.event = None;
        assert_eq!(
            change.to_json_line(),
            r#"{"change":"removed","eventId":8890}"#
        );
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in ChangeKind::ALL {
            assert_eq!(ChangeKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ChangeKind::parse("unchanged"), None);
        assert_eq!(Modified::of(Some(" Cancelled ")), Modified::Canceled);
    }
}
