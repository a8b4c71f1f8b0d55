//! Wire text of instants: `MM/DD/YYYY HH:MM:SS` and `MM/DD/YYYY` in the tenant time zone.
//!
//! Invariant: rendering always starts from the UTC instant, which is well defined, so a
//! local time that is skipped or repeated at a DST change still renders deterministically
//! (a repeated hour simply renders twice, as Intacct's wall-clock text would).

use chrono::{DateTime, Datelike, NaiveDateTime, Timelike};
use chrono_tz::Tz;

fn local(tz: Tz, secs: i64) -> NaiveDateTime {
    DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .with_timezone(&tz)
        .naive_local()
}

/// `MM/DD/YYYY HH:MM:SS` of a Unix second in `tz`.
pub(crate) fn timestamp(tz: Tz, secs: i64) -> String {
    let t = local(tz, secs);
    format!(
        "{:02}/{:02}/{:04} {:02}:{:02}:{:02}",
        t.month(),
        t.day(),
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `MM/DD/YYYY` of a Unix second in `tz`.
pub(crate) fn date(tz: Tz, secs: i64) -> String {
    let t = local(tz, secs);
    format!("{:02}/{:02}/{:04}", t.month(), t.day(), t.year())
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
    }

    #[test]
    fn a_repeated_local_hour_renders_the_same_text_for_two_instants() {
        // 2024-11-03 01:30 happens twice in Los Angeles: at 08:30Z (PDT) and 09:30Z (PST).
        let tz = chrono_tz::America::Los_Angeles;
        assert_eq!(timestamp(tz, 1_730_622_600), "11/03/2024 01:30:00");
        assert_eq!(timestamp(tz, 1_730_626_200), "11/03/2024 01:30:00");
    }
}
