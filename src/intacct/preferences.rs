//! The API user's formatting preferences, which decide how Intacct writes dates, times and
//! numbers; and what Sage requires of the user to read the audit trail.
//!
//! Intacct renders dates, timestamps and filter values in the API user's preferences, not in a
//! fixed format: a user with a day/month date format or a 12-hour clock makes every timestamp
//! this client parses (and every filter it sends) mean something else. So before any read the
//! pipeline asks the gateway (`readByName` USERINFO for the user's RECORDNO, then
//! `readUserFormatting`) and refuses to run, with a message naming the preference to change,
//! unless:
//! * the date format is month/day/year (`/mdY`) and the clock is 24-hour;
//! * the locale is `en_US`: the locale may change how numbers and amounts are written, and
//!   this client reads them only as en_US writes them (`1234.56`), so any other locale is
//!   refused rather than guessed at;
//! * the user's GMT offset is the offset `intacct.time_zone` has at the run's `now`. Intacct
//!   writes every timestamp in the user's zone; a zone that only matches some of the year
//!   (`Europe/London` for a user set to GMT) would read every summer timestamp an hour off.
//!
//! The estuary connector (source-sage-intacct) makes the same calls and refuses to run on the
//! same preferences (`locale` other than `en_US`, `clock` other than `24`, `dateformat` other
//! than `/mdY`), and takes `gmtoffset` as the user's fixed offset.
//!
//! Guesses, written down: the exact `readUserFormatting` field set is not published; the
//! fields read here (`locale`, `dateformat`, `gmtoffset`, `clock`) are the ones a production
//! connector reads, and what a non-US locale changes in the XML API's numbers is not
//! documented (hence the refusal).
//!
//! # The audit trail
//!
//! [`AUDIT_TRAIL_PERMISSION`] says what Sage requires of the API user to read AUDITHISTORY,
//! for every message that reports a refusal. Sage's reference for the object (Company
//! console, Audit trails, developer.intacct.com) says it: "To work with this object the user
//! associated with the API session must have View permission for custom reports. That
//! permission can be enabled under the Platform Services subscription." It is neither a
//! permission on AUDITHISTORY itself (there is none to grant) nor admin privileges.

use chrono::{DateTime, Offset, TimeZone, Utc};
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

/// What Sage requires of the API user to read AUDITHISTORY, and where to grant it: the fix a
/// refused delete feed (or a permission probe) names.
pub const AUDIT_TRAIL_PERMISSION: &str = "to read AUDITHISTORY Sage requires the Web \
     Services user to have View permission for custom reports, which the Platform Services \
     subscription enables: subscribe the company to Platform Services, then give the user (or \
     its role) View on custom reports";

/// The locale this client reads numbers in.
const LOCALE: &str = "en_US";

/// How the API user's preferences differ from what the pipeline reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Mismatch {
    /// The date format is not month/day/year (`/mdY`).
    DateFormat(Option<String>),
    /// The clock is not 24-hour.
    Clock(Option<String>),
    /// The locale is not `en_US`.
    Locale(Option<String>),
    /// No GMT offset came back.
    NoOffset,
    /// The offset is not an offset.
    BadOffset(String),
    /// The offset is not the one `zone` has at `at`.
    Offset {
        /// The user's offset, seconds east of UTC.
        offset: i32,
        /// `intacct.time_zone`.
        zone: Tz,
        /// The offset `zone` has at `at`, seconds east of UTC.
        zone_offset: i32,
        /// The run's now.
        at: DateTime<Utc>,
    },
}

impl Mismatch {
    /// What is wrong.
    pub(crate) fn detail(&self) -> String {
        match self {
            Mismatch::DateFormat(other) => format!("the API user's date format is {other:?}"),
            Mismatch::Clock(other) => format!("the API user's clock is {other:?}"),
            Mismatch::Locale(other) => format!("the API user's locale is {other:?}"),
            Mismatch::NoOffset => "readUserFormatting gave no GMT offset for the API user".into(),
            Mismatch::BadOffset(text) => {
                format!("the API user's GMT offset {text:?} is not an offset")
            }
            Mismatch::Offset {
                offset,
                zone,
                zone_offset,
                at,
            } => format!(
                "the API user's GMT offset is {} but intacct.time_zone {zone} is at {} on {}, \
                 so Intacct's timestamps would be read {} off",
                show_offset(*offset),
                show_offset(*zone_offset),
                at.format("%Y-%m-%d %H:%M UTC"),
                show_duration(offset - zone_offset),
            ),
        }
    }

    /// What to change, in one line.
    pub(crate) fn fix(&self) -> String {
        match self {
            Mismatch::DateFormat(_) => "set the user's Date format preference to MM/DD/YYYY (readUserFormatting dateformat \"/mdY\")".into(),
            Mismatch::Clock(_) => "set the user's Time format preference to a 24-hour clock (readUserFormatting clock \"24\")".into(),
            Mismatch::Locale(_) => format!(
                "set the user's Locale preference to English (United States) (readUserFormatting locale \"{LOCALE}\")"
            ),
            Mismatch::NoOffset | Mismatch::BadOffset(_) => {
                "set the user's Time zone preference to the zone in intacct.time_zone".into()
            }
            Mismatch::Offset {
                zone, zone_offset, ..
            } => format!(
                "set the user's Time zone preference in Intacct to {zone} (or to a zone at {} now), or set intacct.time_zone in the pipeline to the zone the user's preference names",
                show_offset(*zone_offset)
            ),
        }
    }

    /// Why it matters.
    fn reason(&self) -> &'static str {
        match self {
            Mismatch::DateFormat(_) => "Intacct writes every date and timestamp in it",
            Mismatch::Locale(_) => {
                "another locale may write numbers and amounts in a form this client does not read"
            }
            _ => "Intacct writes every timestamp in the user's zone and clock",
        }
    }
}

/// How the preferences differ from month/day/year with a 24-hour clock, in the `en_US`
/// locale, at the GMT offset `time_zone` has at `now` (`None`: they do not).
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
    match prefs.locale.as_deref() {
        Some(LOCALE) => {}
        other => return Some(Mismatch::Locale(other.map(str::to_owned))),
    }
    let Some(text) = prefs.gmt_offset.as_deref() else {
        return Some(Mismatch::NoOffset);
    };
    let Some(offset) = parse_offset(text) else {
        return Some(Mismatch::BadOffset(text.to_owned()));
    };
    let zone_offset = time_zone
        .offset_from_utc_datetime(&now.naive_utc())
        .fix()
        .local_minus_utc();
    (offset != zone_offset).then_some(Mismatch::Offset {
        offset,
        zone: time_zone,
        zone_offset,
        at: now,
    })
}

/// Refuses to run unless the preferences are month/day/year with a 24-hour clock, in the
/// `en_US` locale, at the GMT offset `time_zone` has at `now`; the error says which
/// preference to change and to what.
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

/// `+HHMM` of seconds east of UTC.
fn show_offset(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let secs = secs.abs();
    format!("{sign}{:02}{:02}", secs / 3_600, secs % 3_600 / 60)
}

/// `1 h`, `30 min`, `5 h 30 min` of a difference in seconds.
fn show_duration(secs: i32) -> String {
    let secs = secs.abs();
    match (secs / 3_600, secs % 3_600 / 60) {
        (h, 0) => format!("{h} h"),
        (0, m) => format!("{m} min"),
        (h, m) => format!("{h} h {m} min"),
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
    fn only_month_day_year_24_hours_en_us_in_the_configured_zone_passes() {
        let la = chrono_tz::America::Los_Angeles;
        let now = Utc.with_ymd_and_hms(2026, 1, 15, 0, 0, 0).unwrap();
        check(&prefs("/mdY", "24", "-0800"), la, now).unwrap();
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

    #[test]
    fn the_offset_must_be_the_one_the_zone_has_now() {
        let london = chrono_tz::Europe::London;
        let summer = Utc.with_ymd_and_hms(2026, 7, 1, 12, 0, 0).unwrap();
        let winter = Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap();
        // A user set to GMT matches London only in winter: in summer every timestamp would
        // read an hour off.
        check(&prefs("/mdY", "24", "+0000"), london, winter).unwrap();
        let err = check(&prefs("/mdY", "24", "+0000"), london, summer).unwrap_err();
        assert!(matches!(err, Error::Config { .. }));
        let text = err.to_string();
        for says in [
            "+0000",
            "+0100",
            "1 h",
            "Time zone",
            "intacct.time_zone",
            "Europe/London",
        ] {
            assert!(text.contains(says), "{says}: {text}");
        }
        check(&prefs("/mdY", "24", "+0100"), london, summer).unwrap();
        // Los Angeles in January is -0800; the summer offset no longer passes.
        let la = chrono_tz::America::Los_Angeles;
        let err = check(&prefs("/mdY", "24", "-07:00"), la, winter).unwrap_err();
        assert!(err.to_string().contains("-0700"), "{err}");
        assert!(err.to_string().contains("-0800"), "{err}");
        assert_eq!(show_duration(-19_800), "5 h 30 min");
    }

    #[test]
    fn the_check_command_reads_the_locale_and_the_offset_now_as_mismatches() {
        let london = chrono_tz::Europe::London;
        let summer = Utc.with_ymd_and_hms(2026, 7, 1, 12, 0, 0).unwrap();
        let mut german = prefs("/mdY", "24", "+0100");
        german.locale = Some("de_DE".into());
        let m = mismatch(&german, london, summer).unwrap();
        assert_eq!(m, Mismatch::Locale(Some("de_DE".into())));
        assert!(m.fix().contains("Locale preference"), "{}", m.fix());
        let m = mismatch(&prefs("/mdY", "24", "+0000"), london, summer).unwrap();
        assert_eq!(
            m,
            Mismatch::Offset {
                offset: 0,
                zone: london,
                zone_offset: 3_600,
                at: summer
            }
        );
        assert!(m.detail().contains("read 1 h off"), "{}", m.detail());
        assert!(m.fix().contains("a zone at +0100 now"), "{}", m.fix());
        assert_eq!(
            mismatch(&prefs("/mdY", "24", "+01:00"), london, summer),
            None
        );
    }

    #[test]
    fn a_locale_other_than_en_us_is_refused_naming_the_preference() {
        let la = chrono_tz::America::Los_Angeles;
        let now = Utc.with_ymd_and_hms(2026, 1, 15, 0, 0, 0).unwrap();
        for locale in [Some("de_DE"), Some("fr_FR"), Some("en_GB"), None] {
            let mut p = prefs("/mdY", "24", "-0800");
            p.locale = locale.map(str::to_owned);
            let err = check(&p, la, now).unwrap_err();
            assert!(matches!(err, Error::Config { .. }), "{err}");
            let text = err.to_string();
            assert!(text.contains("Locale"), "{text}");
            assert!(text.contains("en_US"), "{text}");
        }
    }

    #[test]
    fn the_audit_trail_permission_names_what_sage_requires() {
        for says in [
            "View permission for custom reports",
            "Platform Services",
            "Web Services user",
        ] {
            assert!(AUDIT_TRAIL_PERMISSION.contains(says), "{says}");
        }
    }
}
