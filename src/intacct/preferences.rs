//! The API user's formatting preferences, which decide how Intacct writes dates and times.
//!
//! Intacct renders dates, timestamps and filter values in the API user's preferences, not in a
//! fixed format: a user with a day/month date format or a 12-hour clock makes every timestamp
//! this client parses (and every filter it sends) mean something else. So before any read the
//! pipeline asks the gateway (`readByName` USERINFO for the user's RECORDNO, then
//! `readUserFormatting`) and refuses to run, with a message naming the preference to change,
//! unless the date format is month/day/year (`/mdY`), the clock is 24-hour, and the user's
//! GMT offset is one the configured `intacct.time_zone` takes. The estuary connector
//! (source-sage-intacct) makes the same calls and refuses to run on the same preferences.
//!
//! Guesses, written down: the exact `readUserFormatting` field set is not published; the
//! fields read here (`locale`, `dateformat`, `gmtoffset`, `clock`) are the ones a production
//! connector reads. The offset is accepted when it equals the time zone's offset at any
//! instant of the year around `now` (a user preference is a fixed zone choice, while the
//! pipeline's zone may observe daylight saving time).

use chrono::{DateTime, Duration, Offset, TimeZone, Utc};
use chrono_tz::Tz;

use crate::error::{Error, Result};
use crate::intacct::response::RecordPage;

/// What `readUserFormatting` says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserFormatting {
    /// `locale`, e.g. `en_US`.
    pub locale: Option<String>,
    /// `dateformat`, e.g. `/mdY`.
    pub date_format: Option<String>,
    /// `gmtoffset`, e.g. `-0800`.
    pub gmt_offset: Option<String>,
    /// `clock`: `24` or `12`.
    pub clock: Option<String>,
}

impl UserFormatting {
    /// The preferences in the first row of a `readUserFormatting` answer (element names are
    /// matched case-insensitively).
    pub fn from_page(page: &RecordPage) -> Result<UserFormatting> {
        if page.is_empty() {
            return Err(malformed("readUserFormatting returned no preferences"));
        }
        let get = |name: &str| {
            page.columns()
                .iter()
                .position(|c| c.eq_ignore_ascii_case(name))
                .and_then(|c| page.value(0, c))
                .map(|v| v.trim().to_owned())
        };
        Ok(UserFormatting {
            locale: get("locale"),
            date_format: get("dateformat"),
            gmt_offset: get("gmtoffset"),
            clock: get("clock"),
        })
    }
}

fn malformed(detail: &str) -> Error {
    Error::MalformedResponse {
        kind: crate::error::MalformedKind::UnexpectedStructure,
        detail: detail.to_owned(),
    }
}

fn refuse(message: String) -> Error {
    Error::Config {
        location: "the Intacct API user's preferences".into(),
        message,
    }
}

/// Seconds east of UTC of `+HHMM`/`-HH:MM`/`+H` text.
fn parse_offset(text: &str) -> Option<i32> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => (1, text),
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (hours, minutes) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().ok()?, 0),
        3 | 4 => {
            let split = digits.len() - 2;
            (
                digits[..split].parse::<i32>().ok()?,
                digits[split..].parse::<i32>().ok()?,
            )
        }
        _ => return None,
    };
    (hours <= 14 && minutes < 60).then_some(sign * (hours * 3_600 + minutes * 60))
}

/// How the API user's preferences differ from what the pipeline reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Mismatch {
    /// The date format is not month/day/year (`/mdY`).
    DateFormat(Option<String>),
    /// The clock is not 24-hour.
    Clock(Option<String>),
    /// No GMT offset came back.
    NoOffset,
    /// The offset is not an offset.
    BadOffset(String),
    /// The offset is one `zone` never takes.
    Offset {
        /// The user's offset, as Intacct wrote it.
        offset: String,
        /// `intacct.time_zone`.
        zone: Tz,
    },
}

impl Mismatch {
    /// What is wrong.
    pub(crate) fn detail(&self) -> String {
        match self {
            Mismatch::DateFormat(other) => format!("the API user's date format is {other:?}"),
            Mismatch::Clock(other) => format!("the API user's clock is {other:?}"),
            Mismatch::NoOffset => "readUserFormatting gave no GMT offset for the API user".into(),
            Mismatch::BadOffset(text) => {
                format!("the API user's GMT offset {text:?} is not an offset")
            }
            Mismatch::Offset { offset, zone } => {
                format!("the API user's GMT offset is {offset} but intacct.time_zone is {zone}")
            }
        }
    }

    /// What to change, in one line.
    pub(crate) fn fix(&self) -> String {
        match self {
            Mismatch::DateFormat(_) => "set the user's Date format preference to MM/DD/YYYY (readUserFormatting dateformat \"/mdY\")".into(),
            Mismatch::Clock(_) => "set the user's Time format preference to a 24-hour clock (readUserFormatting clock \"24\")".into(),
            Mismatch::NoOffset | Mismatch::BadOffset(_) => {
                "set the user's Time zone preference to the zone in intacct.time_zone".into()
            }
            Mismatch::Offset { zone, .. } => format!(
                "set the user's Time zone preference to {zone} (or intacct.time_zone to the user's zone)"
            ),
        }
    }

    /// Why it matters.
    fn reason(&self) -> &'static str {
        match self {
            Mismatch::DateFormat(_) => "Intacct writes every date and timestamp in it",
            _ => "Intacct writes every timestamp in the user's zone and clock",
        }
    }
}

/// How the preferences differ from month/day/year with a 24-hour clock and a GMT offset
/// `time_zone` takes in the year around `now` (`None`: they do not).
pub(crate) fn mismatch(
    prefs: &UserFormatting,
    time_zone: Tz,
    now: DateTime<Utc>,
) -> Option<Mismatch> {
    match prefs.date_format.as_deref() {
        Some("/mdY") => {}
        other => return Some(Mismatch::DateFormat(other.map(str::to_owned))),
    }
    match prefs.clock.as_deref() {
        Some("24") => {}
        other => return Some(Mismatch::Clock(other.map(str::to_owned))),
    }
    let Some(text) = prefs.gmt_offset.as_deref() else {
        return Some(Mismatch::NoOffset);
    };
    let Some(offset) = parse_offset(text) else {
        return Some(Mismatch::BadOffset(text.to_owned()));
    };
    let taken: Vec<i32> = (0..=52)
        .map(|week| now - Duration::days(182) + Duration::weeks(week))
        .map(|t| {
            time_zone
                .offset_from_utc_datetime(&t.naive_utc())
                .fix()
                .local_minus_utc()
        })
        .collect();
    (!taken.contains(&offset)).then(|| Mismatch::Offset {
        offset: text.to_owned(),
        zone: time_zone,
    })
}

/// Refuses to run unless the preferences are month/day/year with a 24-hour clock and a GMT
/// offset `time_zone` takes in the year around `now`; the error says which preference to
/// change and to what.
pub(super) fn check(prefs: &UserFormatting, time_zone: Tz, now: DateTime<Utc>) -> Result<()> {
    match mismatch(prefs, time_zone, now) {
        None => Ok(()),
        Some(m) => Err(refuse(format!(
            "{}; {}, because {}",
            m.detail(),
            m.fix(),
            m.reason()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefs(date: &str, clock: &str, offset: &str) -> UserFormatting {
        UserFormatting {
            locale: Some("en_US".into()),
            date_format: Some(date.into()),
            gmt_offset: Some(offset.into()),
            clock: Some(clock.into()),
        }
    }

    #[test]
    fn only_month_day_year_24_hours_in_the_configured_zone_passes() {
        let la = chrono_tz::America::Los_Angeles;
        let now = Utc.with_ymd_and_hms(2026, 1, 15, 0, 0, 0).unwrap();
        check(&prefs("/mdY", "24", "-0800"), la, now).unwrap();
        // Daylight saving time is a zone the user may have chosen too.
        check(&prefs("/mdY", "24", "-07:00"), la, now).unwrap();
        let err = check(&prefs("/dmY", "24", "-0800"), la, now).unwrap_err();
        assert!(matches!(err, Error::Config { .. }));
        assert!(err.to_string().contains("Date format"), "{err}");
        let err = check(&prefs("/mdY", "12", "-0800"), la, now).unwrap_err();
        assert!(err.to_string().contains("Time format"), "{err}");
        let err = check(&prefs("/mdY", "24", "+0000"), la, now).unwrap_err();
        assert!(err.to_string().contains("Time zone"), "{err}");
        assert!(err.to_string().contains("America/Los_Angeles"), "{err}");
        check(&prefs("/mdY", "24", "+0000"), chrono_tz::UTC, now).unwrap();
        assert_eq!(parse_offset("+0530"), Some(19_800));
        assert_eq!(parse_offset("-8"), Some(-28_800));
        assert_eq!(parse_offset("x"), None);
    }
}
