//! Instants inside the tool, wall-clock text at the gateway.
//!
//! Intacct timestamps carry no zone: `MM/DD/YYYY HH:MM:SS` (24 h) in the tenant's configured
//! time zone, and dates `MM/DD/YYYY`. Inside the tool every watermark is a UTC instant; these
//! pure functions are the only place that crosses between the two.
//!
//! Invariants:
//! * [`render`] then [`parse`] gives back the same instant for every whole-second instant
//!   outside a repeated (fall-back) hour;
//! * [`parse`] then [`render`] gives back the same text for every valid local time, so a value
//!   read from a record and re-rendered compares equal at the gateway (the keyset relies on it);
//! * a local time that occurs twice (DST fall-back) is read as the **earlier** instant; a local
//!   time that does not exist (DST spring-forward gap) is read with the offset in force just
//!   before the gap, i.e. shifted forward by the gap (02:30 in a one-hour gap is 03:30).

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::error::{Error, MalformedKind, Result};

/// The gateway's timestamp format.
pub const TIMESTAMP_FORMAT: &str = "%m/%d/%Y %H:%M:%S";

/// The gateway's date format.
pub const DATE_FORMAT: &str = "%m/%d/%Y";

/// An instant as the tenant's wall-clock text, `MM/DD/YYYY HH:MM:SS` (sub-seconds dropped).
pub fn render(instant: DateTime<Utc>, tz: Tz) -> String {
    instant
        .with_timezone(&tz)
        .format(TIMESTAMP_FORMAT)
        .to_string()
}

/// Tenant wall-clock text (`MM/DD/YYYY HH:MM:SS` or `MM/DD/YYYY`, meaning midnight) as an
/// instant. See the module docs for DST gaps and repeats.
pub fn parse(text: &str, tz: Tz) -> Result<DateTime<Utc>> {
    let text = text.trim();
    let naive = NaiveDateTime::parse_from_str(text, TIMESTAMP_FORMAT)
        .or_else(|_| {
            NaiveDate::parse_from_str(text, DATE_FORMAT)
                .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight is valid"))
        })
        .map_err(|_| Error::MalformedResponse {
            kind: MalformedKind::UnexpectedStructure,
            detail: format!("timestamp {text:?} is neither MM/DD/YYYY HH:MM:SS nor MM/DD/YYYY"),
        })?;
    Ok(local_to_utc(naive, tz))
}

/// Re-renders tenant text through [`parse`] and [`render`]: a date becomes its midnight.
pub fn normalize(text: &str, tz: Tz) -> Result<String> {
    parse(text, tz).map(|instant| render(instant, tz))
}

/// A tenant wall-clock time as an instant, by the DST rules in the module docs.
pub fn local_to_utc(naive: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(earlier, later) => earlier.min(later).with_timezone(&Utc),
        LocalResult::None => {
            // Inside a gap: use the offset in force a few hours earlier (before the gap).
            let before = (1..=26)
                .filter_map(|h| {
                    tz.from_local_datetime(&(naive - chrono::Duration::hours(h)))
                        .earliest()
                })
                .next()
                .expect("a zone has a valid local time within a day of any gap");
            let offset = chrono::Offset::fix(before.offset());
            (naive - offset).and_utc()
        }
    }
}

/// `MM/DD/YYYY` (one- or two-digit month and day) as a calendar date; anything else is `None`.
///
/// Hand-written rather than chrono's format-driven parser: it runs once per value of every
/// date column, and several times faster.
pub fn parse_local_date(text: &str) -> Option<NaiveDate> {
    let mut parts = text.split('/');
    let month = small_number(parts.next()?, 2)?;
    let day = small_number(parts.next()?, 2)?;
    let year_text = parts.next()?;
    if parts.next().is_some() || year_text.len() != 4 {
        return None;
    }
    let year = small_number(year_text, 4)?;
    NaiveDate::from_ymd_opt(year as i32, month, day)
}

/// `MM/DD/YYYY HH:MM:SS` (24 h), or `MM/DD/YYYY` meaning midnight, as a wall-clock time in
/// no zone; anything else (surrounding spaces included) is `None`. [`local_to_utc`] makes it
/// an instant.
pub fn parse_local_timestamp(text: &str) -> Option<NaiveDateTime> {
    let (date_text, time_text) = match text.split_once(' ') {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let date = parse_local_date(date_text)?;
    let time = match time_text {
        None => NaiveTime::MIN,
        Some(t) => {
            let mut parts = t.split(':');
            let h = small_number(parts.next()?, 2)?;
            let m = small_number(parts.next()?, 2)?;
            let s = small_number(parts.next()?, 2)?;
            if parts.next().is_some() {
                return None;
            }
            NaiveTime::from_hms_opt(h, m, s)?
        }
    };
    Some(date.and_time(time))
}

fn small_number(text: &str, max_len: usize) -> Option<u32> {
    if text.is_empty() || text.len() > max_len || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    #[test]
    fn renders_in_the_tenant_zone() {
        // 2024-01-31 21:05:00 UTC is 13:05:00 in Los Angeles (PST, UTC-8).
        let t = utc(2024, 1, 31, 21, 5, 0);
        assert_eq!(
            render(t, chrono_tz::America::Los_Angeles),
            "01/31/2024 13:05:00"
        );
        assert_eq!(render(t, chrono_tz::UTC), "01/31/2024 21:05:00");
    }

    #[test]
    fn parses_timestamps_and_dates() {
        let tz = chrono_tz::America::Los_Angeles;
        assert_eq!(
            parse("07/24/2017 15:19:46", tz).unwrap(),
            utc(2017, 7, 24, 22, 19, 46) // PDT, UTC-7
        );
        assert_eq!(parse("07/24/2017", tz).unwrap(), utc(2017, 7, 24, 7, 0, 0));
        assert!(parse("2017-07-24", tz).is_err());
        assert!(parse("", tz).is_err());
    }

    #[test]
    fn repeated_local_time_is_the_earlier_instant() {
        // 2024-11-03 01:30 happens twice in Los Angeles: PDT (08:30Z) then PST (09:30Z).
        let tz = chrono_tz::America::Los_Angeles;
        assert_eq!(
            parse("11/03/2024 01:30:00", tz).unwrap(),
            utc(2024, 11, 3, 8, 30, 0)
        );
    }

    #[test]
    fn nonexistent_local_time_shifts_forward() {
        // 2024-03-10 02:30 does not exist in Los Angeles; read with PST (UTC-8) it is
        // 10:30Z, which is 03:30 PDT.
        let tz = chrono_tz::America::Los_Angeles;
        let t = parse("03/10/2024 02:30:00", tz).unwrap();
        assert_eq!(t, utc(2024, 3, 10, 10, 30, 0));
        assert_eq!(render(t, tz), "03/10/2024 03:30:00");
    }

    #[test]
    fn normalize_turns_dates_into_midnight() {
        assert_eq!(
            normalize("02/29/2024", chrono_tz::Europe::Berlin).unwrap(),
            "02/29/2024 00:00:00"
        );
    }

    fn zones() -> impl Strategy<Value = Tz> {
        prop_oneof![
            Just(chrono_tz::UTC),
            Just(chrono_tz::America::Los_Angeles),
            Just(chrono_tz::Europe::Berlin),
            Just(chrono_tz::Australia::Lord_Howe),
            Just(chrono_tz::Asia::Kolkata),
        ]
    }

    proptest! {
        #[test]
        fn render_parse_round_trips_outside_repeated_hours(
            secs in 0i64..4_102_444_800, // 1970..2100
            tz in zones(),
        ) {
            let t = DateTime::<Utc>::from_timestamp(secs, 0).unwrap();
            let text = render(t, tz);
            let back = parse(&text, tz).unwrap();
            let naive = NaiveDateTime::parse_from_str(&text, TIMESTAMP_FORMAT).unwrap();
            match tz.from_local_datetime(&naive) {
                LocalResult::Ambiguous(..) => prop_assert!(back <= t),
                _ => prop_assert_eq!(back, t),
            }
            // The hand-written wall-clock parser reads what chrono's reads.
            prop_assert_eq!(parse_local_timestamp(&text), Some(naive));
            prop_assert_eq!(parse_local_date(&text[..10]), Some(naive.date()));
            // Text always survives parse then render, ambiguous or not.
            prop_assert_eq!(render(back, tz), text);
        }
    }
}
