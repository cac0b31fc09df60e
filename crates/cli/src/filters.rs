//! Filters that can match nothing: names and ids checked against the lookups the API
//! offers (`/v3/attend/types`, `/v3/attend/ages`, `/v3/client/locations`, reference
//! §2d-§2f), with the closest known names in the warning. The API itself answers an
//! unknown name with zero events and no word of why.

use communico::Client;

use crate::cli::EventFilters;

/// The event statuses the API is documented to use (reference §2b: `published`; other
/// values hide an event).
const EVENT_STATUSES: &[&str] = &["published"];

/// How many suggestions a warning gives at most.
const SUGGESTIONS: usize = 3;

/// The known names closest to `name`, best first: a case-insensitive similarity
/// (normalised Damerau-Levenshtein, and Jaro-Winkler for shared prefixes) above a floor,
/// so an unrelated name gets no suggestion rather than a random one.
pub(crate) fn closest<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let wanted = name.to_lowercase();
    let mut scored: Vec<(f64, &str)> = known
        .into_iter()
        .filter_map(|candidate| {
            let lower = candidate.to_lowercase();
            let edit = strsim::normalized_damerau_levenshtein(&wanted, &lower);
            let prefix = strsim::jaro_winkler(&wanted, &lower);
            let contains =
                !wanted.is_empty() && (lower.contains(&wanted) || wanted.contains(&lower));
            let score = edit
                .max(prefix - 0.15)
                .max(if contains { 0.8 } else { 0.0 });
            (score >= 0.6).then_some((score, candidate))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored
        .into_iter()
        .take(SUGGESTIONS)
        .map(|(_, s)| s.to_owned())
        .collect()
}

/// `` `a`, `b` or `c` ``.
pub(crate) fn quoted_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// One warning for a value that is not among the `known` ones.
fn unknown(option: &str, value: &str, what: &str, known: &[String], lookup: &str) -> String {
    let closest = closest(value, known.iter().map(String::as_str));
    let hint = if closest.is_empty() {
        // Nothing is close: a few known names show what the names look like.
        let some: Vec<String> = known.iter().take(SUGGESTIONS).cloned().collect();
        format!(
            "known ones include {}; `attend communico {lookup}` lists them all",
            quoted_list(&some)
        )
    } else {
        format!("did you mean {}?", quoted_list(&closest))
    };
    format!("{option} `{value}` is not {what} the API knows, so it matches no event; {hint}")
}

/// Warnings for the events filters that match nothing. Lookups are asked only for the
/// filters given; a lookup that fails is skipped (the events request will say what is
/// wrong, if anything), so a check never stops the command.
pub(crate) async fn event_filter_warnings(client: &Client, args: &EventFilters) -> Vec<String> {
    let mut warnings = Vec::new();
    let status = args.status.trim();
    if !EVENT_STATUSES
        .iter()
        .any(|s| s.eq_ignore_ascii_case(status))
    {
        let known: Vec<String> = EVENT_STATUSES.iter().map(|s| (*s).to_owned()).collect();
        warnings.push(format!(
            "--status `{status}` is not an event status the API documents, so it likely \
             matches no event; the documented one is {}",
            quoted_list(&known)
        ));
    }
    let (types, ages, locations) = tokio::join!(
        async {
            if args.types.is_empty() {
                return None;
            }
            lookup(client.event_types().await, "types")
                .map(|list| list.into_iter().filter_map(|t| t.name).collect::<Vec<_>>())
        },
        async {
            if args.ages.is_empty() {
                return None;
            }
            lookup(client.age_groups().await, "ages")
                .map(|list| list.into_iter().filter_map(|a| a.name).collect::<Vec<_>>())
        },
        async {
            if args.location_ids.is_empty() {
                return None;
            }
            lookup(client.locations().await, "locations")
        },
    );
    if let Some(known) = types {
        for name in unmatched(&args.types, &known) {
            warnings.push(unknown("--type", name, "an event type", &known, "types"));
        }
    }
    if let Some(known) = ages {
        for name in unmatched(&args.ages, &known) {
            warnings.push(unknown("--age", name, "an age group", &known, "ages"));
        }
    }
    if let Some(locations) = locations {
        for id in &args.location_ids {
            if !locations.iter().any(|l| l.id == Some(*id)) {
                let known: Vec<String> = locations
                    .iter()
                    .filter_map(|l| Some(format!("{} ({})", l.id?, l.name.as_deref()?)))
                    .collect();
                // Ids have no spelling to be close to: name a few branches instead.
                let some: Vec<String> = known.iter().take(SUGGESTIONS).cloned().collect();
                let hint = if some.is_empty() {
                    "`attend communico locations` lists them".to_owned()
                } else {
                    format!(
                        "branches include {}; `attend communico locations` lists them all",
                        some.join(", ")
                    )
                };
                warnings.push(format!(
                    "--location-id {id} is not a branch the API knows, so it matches no event; {hint}"
                ));
            }
        }
    }
    warnings
}

/// The names in `given` that none of `known` matches, as the API reads them: each value
/// split at commas (the API joins and splits lists that way), compared without regard to
/// ASCII case.
fn unmatched<'a>(given: &'a [String], known: &[String]) -> Vec<&'a str> {
    given
        .iter()
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .filter(|name| !known.iter().any(|k| k.eq_ignore_ascii_case(name)))
        .collect()
}

fn lookup<T>(answer: Result<Vec<T>, communico::Error>, which: &str) -> Option<Vec<T>> {
    match answer {
        Ok(list) if !list.is_empty() => Some(list),
        // An empty lookup says nothing about the names: better no warning than a wrong one.
        Ok(_) => None,
        Err(e) => {
            tracing::debug!(lookup = which, error = %e, "filter check skipped");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_names_are_the_likely_typos() {
        let known = ["Storytime", "Book Club", "Family Program", "Computer Class"];
        assert_eq!(closest("Storytme", known), ["Storytime"]);
        assert_eq!(closest("storytime", known), ["Storytime"]);
        assert_eq!(closest("book", known), ["Book Club"]);
        assert!(closest("NoSuchType", known).is_empty());
        assert!(closest("", known).is_empty());
    }

    #[test]
    fn names_match_as_the_api_reads_them_comma_split_and_in_any_case() {
        let known = vec!["Storytime".to_owned(), "Bus Trips".to_owned()];
        let given = vec![
            "storytime".to_owned(),
            "Storytime, bus trips".to_owned(),
            "Story time".to_owned(),
        ];
        assert_eq!(unmatched(&given, &known), ["Story time"]);
    }

    #[test]
    fn lists_read_as_a_sentence() {
        assert_eq!(quoted_list(&["a".into()]), "`a`");
        assert_eq!(
            quoted_list(&["a".into(), "b".into(), "c".into()]),
            "`a`, `b` or `c`"
        );
    }
}
