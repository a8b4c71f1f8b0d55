//! Wire text of instants: `MM/DD/YYYY HH:MM:SS` and `MM/DD/YYYY` in the tenant time zone.
//!
//! Invariant: rendering always starts from the UTC instant, which is well defined, so a
//! local time that is skipped or repeated at a DST change still renders deterministically
//! (a repeated hour simply renders twice, as Intacct's wall-clock text would).

use chrono::{DateTime, Datelike, NaiveDateTime, Timelike};
use chrono_tz::Tz;

pub(crate) fn local(tz: Tz, secs: i64) -> NaiveDateTime {
    let utc = DateTime::from_timestamp(secs, 0).unwrap_or_default();
    if tz == chrono_tz::UTC {
        utc.naive_utc()
    } else {
        utc.with_timezone(&tz).naive_local()
    }
}

/// Appends `v` as `width` zero-padded digits (digits by hand: this runs millions of times).
fn push_digits(out: &mut String, v: u32, width: u32) {
    for i in (0..width).rev() {
        let d = v / 10u32.pow(i) % 10;
        out.push(char::from(b'0' + d as u8));
    }
}

fn push_date(out: &mut String, t: &NaiveDateTime) {
    push_digits(out, t.month(), 2);
    out.push('/');
    push_digits(out, t.day(), 2);
    out.push('/');
    push_digits(out, t.year().clamp(0, 9999) as u32, 4);
}

/// `MM/DD/YYYY HH:MM:SS` of a Unix second in `tz`.
pub(crate) fn timestamp(tz: Tz, secs: i64) -> String {
    let t = local(tz, secs);
    let mut out = String::with_capacity(19);
    push_date(&mut out, &t);
    out.push(' ');
    push_digits(&mut out, t.hour(), 2);
    out.push(':');
    push_digits(&mut out, t.minute(), 2);
    out.push(':');
    push_digits(&mut out, t.second(), 2);
    out
}

/// `MM/DD/YYYY` of a Unix second in `tz`.
pub(crate) fn date(tz: Tz, secs: i64) -> String {
    let t = local(tz, secs);
    let mut out = String::with_capacity(10);
    push_date(&mut out, &t);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_in_the_tenant_zone() {
        // 2024-03-10T10:30:05Z is 03:30:05 PDT, just after the spring-forward gap.
        let secs = 1_710_066_605;
        assert_eq!(timestamp(chrono_tz::UTC, secs), "03/10/2024 10:30:05");
        assert_eq!(
            timestamp(chrono_tz::America::Los_Angeles, secs),
            "03/10/2024 03:30:05"
        );
        assert_eq!(date(chrono_tz::America::Los_Angeles, secs), "03/10/2024");
        assert_eq!(timestamp(chrono_tz::UTC, 0), "01/01/1970 00:00:00");
        assert_eq!(
            timestamp(chrono_tz::UTC, 253_402_300_799),
            "12/31/9999 23:59:59"
        );
    }

    #[test]
    fn a_repeated_local_hour_renders_the_same_text_for_two_instants() {
        // 2024-11-03 01:30 happens twice in Los Angeles: at 08:30Z (PDT) and 09:30Z (PST).
        let tz = chrono_tz::America::Los_Angeles;
        assert_eq!(timestamp(tz, 1_730_622_600), "11/03/2024 01:30:00");
        assert_eq!(timestamp(tz, 1_730_626_200), "11/03/2024 01:30:00");
    }
}
