//! Comparing what the pipeline wrote with the simulator's ground truth, value by value: the
//! simulator's wire text against a staged or loaded value of the column's type.

use chrono::{Duration, NaiveDate};
use intacct_snowflake::manifest::schemas::ColumnType;

use super::wall_clock::WallClock;

/// A decimal's text in canonical form: no `+`, no leading zeros, no trailing fraction zeros,
/// `0` for zero, so equal values have equal text.
pub(crate) fn canonical_decimal(text: &str) -> String {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let magnitude = if frac.is_empty() {
        int.to_owned()
    } else {
        format!("{int}.{frac}")
    };
    if negative && magnitude != "0" {
        format!("-{magnitude}")
    } else {
        magnitude
    }
}

/// An Intacct wire value equals a SQL API wire value of the column's type; `timestamps` holds
/// the instant of every timestamp text.
pub(crate) fn same_value(
    column_type: ColumnType,
    intacct: Option<&str>,
    snowflake: Option<&str>,
    timestamps: &WallClock,
) -> bool {
    let (Some(i), Some(s)) = (intacct, snowflake) else {
        return intacct.is_none() && snowflake.is_none();
    };
    match column_type {
        ColumnType::Text => i == s,
        ColumnType::Integer => {
            i.trim().parse::<f64>().ok() == s.parse::<f64>().ok() && s.parse::<i64>().is_ok()
        }
        // Compared as values: a DECIMAL or PERCENT column carries up to 18 fraction digits.
        ColumnType::Decimal { .. } => canonical_decimal(i.trim()) == canonical_decimal(s),
        ColumnType::Boolean => i.eq_ignore_ascii_case(s),
        ColumnType::Date => {
            let days: i64 = s.parse().unwrap();
            let date = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + Duration::days(days);
            NaiveDate::parse_from_str(i, "%m/%d/%Y").ok() == Some(date)
        }
        ColumnType::Timestamp => {
            let secs: i64 = s.split(['.', ' ']).next().unwrap().parse().unwrap();
            timestamps.instant(i).timestamp() == secs
        }
    }
}
