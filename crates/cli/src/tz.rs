//! The library's time zone: `--tz NAME` (or `ATTEND_TZ`), else the system's.
//!
//! The Communico API speaks in the library's naive wall times and filters by the
//! library's dates. So `today`, `tomorrow` and `+N` count in that zone, and an iCalendar
//! file names it (`TZID`, RFC 5545 §3.2.19) so calendars in other zones show each event
//! at the right hour. Names are looked up in the system's tz database, or in the copy
//! bundled into the binary when the system has none.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::exit::Failure;

/// A time zone with the name an iCalendar file calls it by.
#[derive(Debug, Clone)]
pub(crate) struct Zone {
    tz: TimeZone,
    name: String,
}

impl Zone {
    /// The zone `--tz` names, or else the system's; `None` when neither is known (the
    /// system's cannot be determined), in which case times stay floating.
    ///
    /// # Errors
    ///
    /// A usage failure naming `--tz` and the closest known names when the name is not
    /// in the tz database.
    pub(crate) fn resolve(tz_option: Option<&str>) -> Result<Option<Zone>, Failure> {
        match tz_option.map(str::trim).filter(|n| !n.is_empty()) {
            Some(name) => Zone::named(name).map(Some),
            None => Ok(Zone::system()),
        }
    }

    /// The zone of an IANA name (`America/New_York`).
    pub(crate) fn named(name: &str) -> Result<Zone, Failure> {
        match TimeZone::get(name) {
            Ok(tz) => Ok(Zone {
                name: tz.iana_name().unwrap_or(name).to_owned(),
                tz,
            }),
            Err(_) => {
                let known: Vec<String> =
                    jiff::tz::db().available().map(|n| n.to_string()).collect();
                let closest = crate::filters::closest(name, known.iter().map(String::as_str));
                let next = if closest.is_empty() {
                    "use an IANA time zone name such as America/New_York".to_owned()
                } else {
                    format!("did you mean {}?", crate::filters::quoted_list(&closest))
                };
                Err(Failure::usage(format!(
                    "--tz (or ATTEND_TZ) `{name}` is not a time zone in the tz database"
                ))
                .next(next))
            }
        }
    }

    /// The system's zone (`TZ`, else `/etc/localtime`), if it can be determined.
    fn system() -> Option<Zone> {
        match TimeZone::try_system() {
            Ok(tz) => {
                // A zone from a POSIX TZ string or an unnamed TZif file has no IANA
                // name; iCalendar only needs a name unique within the file.
                let name = tz.iana_name().unwrap_or("Local").to_owned();
                Some(Zone { tz, name })
            }
            Err(e) => {
                tracing::debug!(error = %e, "no system time zone: times stay floating");
                None
            }
        }
    }

    /// The name `TZID` gives.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The zone itself.
    pub(crate) fn tz(&self) -> &TimeZone {
        &self.tz
    }

    /// Today's date in this zone.
    pub(crate) fn today(&self) -> Date {
        Timestamp::now().to_zoned(self.tz.clone()).date()
    }
}

/// Today in the zone, or in the system's (UTC when even that is unknown).
pub(crate) fn today_in(zone: Option<&Zone>) -> Date {
    zone.map_or_else(crate::embedded::today, Zone::today)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iana_names_resolve_and_typos_get_suggestions() {
        let zone = Zone::resolve(Some("America/New_York")).unwrap().unwrap();
        assert_eq!(zone.name(), "America/New_York");
        let failure = Zone::resolve(Some("America/New_Yrok")).unwrap_err();
        let message = failure.to_string();
        assert!(message.contains("--tz"), "{message}");
        assert!(message.contains("America/New_York"), "{message}");
    }

    #[test]
    fn the_tz_database_is_bundled_for_machines_without_one() {
        // The copy jiff falls back on when neither TZDIR nor /usr/share/zoneinfo holds one.
        let bundled = jiff::tz::TimeZoneDatabase::bundled();
        assert!(!bundled.is_definitively_empty());
        assert!(bundled.get("America/Chicago").is_ok());
    }

    #[test]
    fn dates_differ_across_the_date_line() {
        // UTC+14 and UTC-11 are 25 hours apart: never on the same date.
        let east = Zone::named("Pacific/Kiritimati").unwrap().today();
        let west = Zone::named("Pacific/Pago_Pago").unwrap().today();
        assert_ne!(east, west);
    }
}
