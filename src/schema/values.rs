//! Strict parsers from Intacct wire text to typed values.
//!
//! Each parser accepts exactly the forms the gateway sends and rejects everything else with
//! `None`; the caller turns a rejection into an error naming object, record, field and value.
//! Nothing is guessed: no exponents, no thousands separators, no two-digit years.

use chrono::{NaiveDate, NaiveDateTime};

/// An integer: optional sign, then ASCII digits, optionally followed by `.` and zeros (the
/// gateway writes some INTEGER fields as `12.0`); must fit in i64. A non-zero fraction is a
/// rejection, never a truncation.
pub(crate) fn parse_integer(text: &str) -> Option<i64> {
    let text = match text.split_once('.') {
        Some((int, frac)) if !frac.is_empty() && frac.bytes().all(|b| b == b'0') => int,
        Some(_) => return None,
        None => text,
    };
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A decimal as an unscaled i128 at `scale` fraction digits: optional sign, digits, optional
/// `.` and digits (at least one digit overall). More fraction digits than `scale` is a
/// rejection, never a rounding, so every stored value is exactly the one Intacct sent.
pub(crate) fn parse_decimal(text: &str, scale: u32) -> Option<i128> {
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (int_part, frac_part) = match body.split_once('.') {
        Some((i, f)) => (i, f),
        None => (body, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let frac_trimmed = frac_part.trim_end_matches('0');
    if frac_trimmed.len() > scale as usize {
        return None;
    }
    let mut value: i128 = 0;
    for b in int_part.bytes() {
        value = value.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    let mut frac_digits = 0u32;
    for b in frac_trimmed.bytes() {
        value = value.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
        frac_digits += 1;
    }
    value = value.checked_mul(10i128.checked_pow(scale - frac_digits)?)?;
    // Decimal128(38, s) holds at most 38 digits.
    if value.unsigned_abs() >= 10u128.pow(38) {
        return None;
    }
    Some(if negative { -value } else { value })
}

/// A boolean: `true`/`false` in any case, or `T`/`F`.
pub(crate) fn parse_boolean(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") || text == "T" {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") || text == "F" {
        Some(false)
    } else {
        None
    }
}

/// Dates and timestamps: the strict wall-clock parsers live with the gateway's time formats.
pub(crate) use crate::intacct::tenant_time::{parse_local_date, parse_local_timestamp};

/// A date as days since 1970-01-01 (Arrow's `Date32`).
pub(crate) fn date32(date: NaiveDate) -> i32 {
    let days = date.signed_duration_since(NaiveDate::default()).num_days();
    // NaiveDate's range (±262,000 years) fits in i32 days.
    days as i32
}

/// A wall-clock time in the tenant's zone as microseconds since the Unix epoch, UTC, by the
/// same DST rules the client uses for watermarks ([`crate::intacct::tenant_time`]): a repeated
/// hour is the earlier instant, a skipped hour takes the offset in force before the gap.
pub(crate) fn local_to_utc_micros(local: NaiveDateTime, tz: chrono_tz::Tz) -> i64 {
    crate::intacct::tenant_time::local_to_utc(local, tz).timestamp_micros()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_strict() {
        assert_eq!(parse_integer("42"), Some(42));
        assert_eq!(parse_integer("-7"), Some(-7));
        assert_eq!(parse_integer("+7"), Some(7));
        // INTEGER fields the gateway writes with a zero fraction.
        assert_eq!(parse_integer("12.0"), Some(12));
        assert_eq!(parse_integer("-3.00"), Some(-3));
        for bad in [
            "",
            "-",
            "1.5",
            "1.",
            ".0",
            "1.0.0",
            "1e3",
            " 1",
            "1,000",
            "99999999999999999999",
        ] {
            assert_eq!(parse_integer(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn decimals_keep_every_digit_or_refuse() {
        assert_eq!(parse_decimal("1234.56", 10), Some(12_345_600_000_000));
        assert_eq!(parse_decimal("-0.5", 10), Some(-5_000_000_000));
        assert_eq!(parse_decimal(".5", 2), Some(50));
        assert_eq!(parse_decimal("5.", 2), Some(500));
        assert_eq!(parse_decimal("0.1250000", 3), Some(125));
        assert_eq!(parse_decimal("0.1255", 3), None);
        for bad in ["", ".", "-", "1e5", "1,000.00", "1.2.3", "abc", " 1"] {
            assert_eq!(parse_decimal(bad, 10), None, "{bad:?}");
        }
        // Values real tenants send: negative, unscaled, long amounts; rates and percentages
        // with many digits.
        assert_eq!(
            parse_decimal("-74428823021669.4", 10),
            Some(-744_288_230_216_694_000_000_000)
        );
        assert_eq!(parse_decimal("100", 2), Some(10_000));
        assert_eq!(parse_decimal("-100", 10), Some(-1_000_000_000_000));
        assert_eq!(
            parse_decimal("1.0843920000", 18),
            Some(1_084_392_000_000_000_000)
        );
        assert_eq!(
            parse_decimal("33.333333333333333", 18),
            Some(33_333_333_333_333_333_000)
        );
        assert_eq!(parse_decimal("-0", 2), Some(0));
        // 28 integer digits fit at scale 10; 29 do not.
        assert!(parse_decimal(&"9".repeat(28), 10).is_some());
        assert_eq!(parse_decimal(&"9".repeat(29), 10), None);
    }

    #[test]
    fn booleans() {
        assert_eq!(parse_boolean("true"), Some(true));
        assert_eq!(parse_boolean("FALSE"), Some(false));
        assert_eq!(parse_boolean("T"), Some(true));
        assert_eq!(parse_boolean("F"), Some(false));
        assert_eq!(parse_boolean("yes"), None);
        assert_eq!(parse_boolean("1"), None);
    }

    #[test]
    fn dates() {
        assert_eq!(
            parse_local_date("07/24/2017"),
            NaiveDate::from_ymd_opt(2017, 7, 24)
        );
        assert_eq!(
            parse_local_date("1/2/2020"),
            NaiveDate::from_ymd_opt(2020, 1, 2)
        );
        for bad in [
            "2017-07-24",
            "13/01/2017",
            "02/30/2020",
            "07/24/17",
            "07/24/2017 ",
        ] {
            assert_eq!(parse_local_date(bad), None, "{bad:?}");
        }
        assert_eq!(date32(NaiveDate::from_ymd_opt(1970, 1, 2).unwrap()), 1);
        assert_eq!(date32(NaiveDate::from_ymd_opt(1969, 12, 31).unwrap()), -1);
    }

    #[test]
    fn timestamps_convert_from_the_tenant_zone() {
        let la: chrono_tz::Tz = "America/Los_Angeles".parse().unwrap();
        let local = parse_local_timestamp("07/24/2017 15:19:46").unwrap();
        // PDT is UTC-7: 22:19:46 UTC; 1500934786 s since the epoch.
        assert_eq!(local_to_utc_micros(local, la), 1_500_934_786_000_000);
        assert_eq!(
            local_to_utc_micros(local, chrono_tz::UTC),
            1_500_909_586_000_000
        );
        let midnight = parse_local_timestamp("01/01/1970").unwrap();
        assert_eq!(local_to_utc_micros(midnight, chrono_tz::UTC), 0);
        assert_eq!(parse_local_timestamp("07/24/2017 25:00:00"), None);
        assert_eq!(parse_local_timestamp("07/24/2017T15:19:46"), None);
    }

    #[test]
    fn daylight_saving_edges_are_documented_choices() {
        let la: chrono_tz::Tz = "America/Los_Angeles".parse().unwrap();
        // 2021-11-07 01:30 happens twice; the earlier (PDT, UTC-7) is 08:30 UTC.
        let ambiguous = parse_local_timestamp("11/07/2021 01:30:00").unwrap();
        let expected = chrono::NaiveDate::from_ymd_opt(2021, 11, 7)
            .unwrap()
            .and_hms_opt(8, 30, 0)
            .unwrap()
            .and_utc()
            .timestamp_micros();
        assert_eq!(local_to_utc_micros(ambiguous, la), expected);
        // 2021-03-14 02:30 does not exist; read with PST (UTC-8): 10:30 UTC.
        let gap = parse_local_timestamp("03/14/2021 02:30:00").unwrap();
        let expected = chrono::NaiveDate::from_ymd_opt(2021, 3, 14)
            .unwrap()
            .and_hms_opt(10, 30, 0)
            .unwrap()
            .and_utc()
            .timestamp_micros();
        assert_eq!(local_to_utc_micros(gap, la), expected);
    }
}
