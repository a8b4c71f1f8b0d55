//! Decoding of the SQL API v2 value encodings (pure).
//!
//! Every value in a result's `data` arrives as a JSON string (or `null`); its meaning depends on
//! the column's `rowType` entry. This module owns that mapping, exactly as Snowflake's
//! "handling responses" page defines the default output formats:
//!
//! | type | wire | decoded |
//! |---|---|---|
//! | `fixed` (NUMBER) | decimal text `"1.50"` | [`SqlValue::Number`]: unscaled `i128` + scale, never `f64` |
//! | `real` (FLOAT) | `"1.5"`, `"NaN"`, `"inf"` | [`SqlValue::Float`] |
//! | `text` | as is | [`SqlValue::Text`] |
//! | `boolean` | `"true"` / `"false"` | [`SqlValue::Boolean`] |
//! | `date` | days since 1970-01-01 | [`SqlValue::Date`] |
//! | `time` | seconds since midnight, 9 decimals | [`SqlValue::Time`] |
//! | `timestamp_ntz` | seconds since epoch, 9 decimals | [`SqlValue::TimestampNtz`] (wall clock) |
//! | `timestamp_ltz` | seconds since epoch, 9 decimals | [`SqlValue::TimestampLtz`] (an instant, UTC) |
//! | `timestamp_tz` | `"<seconds> <offset minutes + 1440>"` | [`SqlValue::TimestampTz`] |
//! | `binary` | hex | [`SqlValue::Binary`] |
//! | `variant`, `object`, `array` | JSON text | [`SqlValue::Variant`] |
//!
//! A JSON `null` is [`SqlValue::Null`]. Type names are matched case-insensitively (the OpenAPI
//! examples spell them upper-case, the service lower-case). A wire string that does not match its
//! type's encoding is an error, never a guess.
//!
//! DML counts come in two forms, both read here: the response's `stats` object
//! (`numRowsInserted`, `numRowsUpdated`, `numRowsDeleted`, and the duplicate count) and the
//! result columns (`number of rows inserted`, `number of rows updated`, `number of rows deleted`,
//! `number of multi-joined rows updated`). The duplicate count has two names: the SQL API's
//! published OpenAPI spec (snowflakedb/snowflake-rest-api-specs, `specifications/sqlapi.yaml`)
//! calls it `numDuplicateRowsUpdated`, while the answers Snowflake's drivers read call it
//! `numDmlDuplicates`; either is read (the spec's name first when both come).

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};

use crate::error::{Error, Result};

/// An exact decimal: `unscaled · 10^-scale`. NUMBER values are kept this way so that money never
/// passes through a float.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Decimal {
    /// The digits without the decimal point, with the sign.
    pub unscaled: i128,
    /// Digits after the decimal point.
    pub scale: u32,
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scale == 0 {
            return write!(f, "{}", self.unscaled);
        }
        let sign = if self.unscaled < 0 { "-" } else { "" };
        let digits = self.unscaled.unsigned_abs().to_string();
        let scale = self.scale as usize;
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{int}.{frac}")
    }
}

/// One decoded SQL value.
#[derive(Clone, Debug, PartialEq)]
pub enum SqlValue {
    /// SQL NULL.
    Null,
    /// NUMBER / DECIMAL / INT (`fixed`).
    Number(Decimal),
    /// FLOAT / DOUBLE (`real`).
    Float(f64),
    /// VARCHAR / TEXT.
    Text(String),
    /// BOOLEAN.
    Boolean(bool),
    /// DATE.
    Date(NaiveDate),
    /// TIME.
    Time(NaiveTime),
    /// TIMESTAMP_NTZ: a wall-clock time with no zone.
    TimestampNtz(NaiveDateTime),
    /// TIMESTAMP_LTZ: an instant.
    TimestampLtz(DateTime<Utc>),
    /// TIMESTAMP_TZ: an instant with the offset it was stored with.
    TimestampTz(DateTime<FixedOffset>),
    /// BINARY.
    Binary(Vec<u8>),
    /// VARIANT, OBJECT or ARRAY: JSON text.
    Variant(String),
}

impl fmt::Display for SqlValue {
    /// The value as a person reads it: NUMBER exactly, dates ISO 8601, instants RFC 3339.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SqlValue::Null => f.write_str("NULL"),
            SqlValue::Number(d) => write!(f, "{d}"),
            SqlValue::Float(x) => write!(f, "{x}"),
            SqlValue::Text(t) | SqlValue::Variant(t) => f.write_str(t),
            SqlValue::Boolean(b) => write!(f, "{b}"),
            SqlValue::Date(d) => write!(f, "{d}"),
            SqlValue::Time(t) => write!(f, "{t}"),
            SqlValue::TimestampNtz(t) => write!(f, "{t}"),
            SqlValue::TimestampLtz(t) => write!(f, "{}", t.to_rfc3339()),
            SqlValue::TimestampTz(t) => write!(f, "{}", t.to_rfc3339()),
            SqlValue::Binary(bytes) => f.write_str(&hex::encode_upper(bytes)),
        }
    }
}

/// Rows inserted, updated and deleted by a DML statement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DmlStats {
    /// Rows inserted.
    pub inserted: u64,
    /// Rows updated.
    pub updated: u64,
    /// Rows deleted.
    pub deleted: u64,
    /// Rows updated more than once (multi-joined rows of an UPDATE or MERGE).
    pub duplicates_updated: u64,
}

/// The `stats` object of a DML response.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireStats {
    #[serde(default)]
    num_rows_inserted: Option<u64>,
    #[serde(default)]
    num_rows_updated: Option<u64>,
    #[serde(default)]
    num_rows_deleted: Option<u64>,
    #[serde(default)]
    num_duplicate_rows_updated: Option<u64>,
    /// The same count under the name the drivers read.
    #[serde(default)]
    num_dml_duplicates: Option<u64>,
}

impl From<WireStats> for DmlStats {
    fn from(w: WireStats) -> DmlStats {
        DmlStats {
            inserted: w.num_rows_inserted.unwrap_or(0),
            updated: w.num_rows_updated.unwrap_or(0),
            deleted: w.num_rows_deleted.unwrap_or(0),
            duplicates_updated: w
                .num_duplicate_rows_updated
                .or(w.num_dml_duplicates)
                .unwrap_or(0),
        }
    }
}

/// DML counts from the result columns (`number of rows inserted`, ...), summed over the rows;
/// `None` when no such column is present.
pub(super) fn dml_stats_from_columns<S: AsRef<str>>(
    column_names: &[S],
    rows: &[Vec<Option<String>>],
) -> Result<Option<DmlStats>> {
    let find = |wanted: &str| {
        column_names
            .iter()
            .position(|n| n.as_ref().eq_ignore_ascii_case(wanted))
    };
    let inserted = find("number of rows inserted");
    let updated = find("number of rows updated");
    let deleted = find("number of rows deleted");
    let duplicates = find("number of multi-joined rows updated");
    if inserted.is_none() && updated.is_none() && deleted.is_none() && duplicates.is_none() {
        return Ok(None);
    }
    let sum = |index: Option<usize>, name: &str| -> Result<u64> {
        let Some(i) = index else { return Ok(0) };
        let mut total = 0u64;
        for row in rows {
            if let Some(Some(text)) = row.get(i) {
                total += text.parse::<u64>().map_err(|_| Error::SnowflakeResponse {
                    detail: format!("column {name:?} holds {text:?}, not a row count"),
                })?;
            }
        }
        Ok(total)
    };
    Ok(Some(DmlStats {
        inserted: sum(inserted, "number of rows inserted")?,
        updated: sum(updated, "number of rows updated")?,
        deleted: sum(deleted, "number of rows deleted")?,
        duplicates_updated: sum(duplicates, "number of multi-joined rows updated")?,
    }))
}

/// Decodes one wire value of a column of type `type_name` (as in `rowType[].type`).
pub(super) fn decode(type_name: &str, raw: Option<&str>) -> Result<SqlValue> {
    let Some(text) = raw else {
        return Ok(SqlValue::Null);
    };
    let kind = type_name.to_ascii_lowercase();
    let bad = |expected: &str| Error::SnowflakeResponse {
        detail: format!("value {text:?} of a {kind} column is not {expected}"),
    };
    Ok(match kind.as_str() {
        "fixed" | "number" | "decimal" => {
            SqlValue::Number(parse_decimal(text).ok_or_else(|| bad("a decimal number"))?)
        }
        "real" | "float" | "double" => {
            SqlValue::Float(text.parse::<f64>().map_err(|_| bad("a float"))?)
        }
        "text" | "varchar" | "string" | "char" => SqlValue::Text(text.to_owned()),
        "boolean" => match text {
            "true" => SqlValue::Boolean(true),
            "false" => SqlValue::Boolean(false),
            _ => return Err(bad("true or false")),
        },
        "date" => {
            let days: i64 = text.parse().map_err(|_| bad("days since 1970-01-01"))?;
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("the epoch is a date");
            SqlValue::Date(
                epoch
                    .checked_add_signed(
                        chrono::Duration::try_days(days).ok_or_else(|| bad("a date in range"))?,
                    )
                    .ok_or_else(|| bad("a date in range"))?,
            )
        }
        "time" => {
            let nanos = parse_epoch_nanos(text).ok_or_else(|| bad("seconds since midnight"))?;
            let secs =
                u32::try_from(nanos.div_euclid(1_000_000_000)).map_err(|_| bad("a time of day"))?;
            let sub = nanos.rem_euclid(1_000_000_000) as u32;
            SqlValue::Time(
                NaiveTime::from_num_seconds_from_midnight_opt(secs, sub)
                    .ok_or_else(|| bad("a time of day"))?,
            )
        }
        "timestamp_ntz" => SqlValue::TimestampNtz(
            instant(text)
                .ok_or_else(|| bad("seconds since the epoch"))?
                .naive_utc(),
        ),
        "timestamp_ltz" => {
            SqlValue::TimestampLtz(instant(text).ok_or_else(|| bad("seconds since the epoch"))?)
        }
        "timestamp_tz" => {
            let (secs, offset) = text
                .split_once(' ')
                .ok_or_else(|| bad("\"<seconds> <offset minutes + 1440>\""))?;
            let utc = instant(secs).ok_or_else(|| bad("seconds since the epoch"))?;
            let encoded: i32 = offset.parse().map_err(|_| bad("an encoded offset"))?;
            let zone = FixedOffset::east_opt((encoded - 1440) * 60)
                .ok_or_else(|| bad("an offset within ±24 h"))?;
            SqlValue::TimestampTz(utc.with_timezone(&zone))
        }
        "binary" => SqlValue::Binary(hex::decode(text).map_err(|_| bad("hex"))?),
        "variant" | "object" | "array" => SqlValue::Variant(text.to_owned()),
        _ => {
            return Err(Error::SnowflakeResponse {
                detail: format!("column type {type_name:?} is not one this client decodes"),
            });
        }
    })
}

/// `"-12.3400"` → unscaled -123400, scale 4. Digits only, an optional sign and one point.
pub(super) fn parse_decimal(text: &str) -> Option<Decimal> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut unscaled: i128 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        unscaled = unscaled
            .checked_mul(10)?
            .checked_add(i128::from(b - b'0'))?;
    }
    Some(Decimal {
        unscaled: if negative { -unscaled } else { unscaled },
        scale: u32::try_from(frac.len()).ok()?,
    })
}

/// `"1616173619.123456789"` (or `"-1.5"`) → nanoseconds since the epoch, exactly.
fn parse_epoch_nanos(text: &str) -> Option<i128> {
    let decimal = parse_decimal(text)?;
    if decimal.scale > 9 {
        return None;
    }
    decimal.unscaled.checked_mul(10i128.pow(9 - decimal.scale))
}

fn instant(text: &str) -> Option<DateTime<Utc>> {
    let nanos = parse_epoch_nanos(text)?;
    let secs = i64::try_from(nanos.div_euclid(1_000_000_000)).ok()?;
    DateTime::from_timestamp(secs, nanos.rem_euclid(1_000_000_000) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, TimeZone, Timelike};

    fn d(unscaled: i128, scale: u32) -> SqlValue {
        SqlValue::Number(Decimal { unscaled, scale })
    }

    #[test]
    fn numbers_stay_exact() {
        assert_eq!(decode("fixed", Some("123")).unwrap(), d(123, 0));
        assert_eq!(decode("fixed", Some("1.50")).unwrap(), d(150, 2));
        assert_eq!(decode("FIXED", Some("-0.05")).unwrap(), d(-5, 2));
        // 38 digits: more than f64 or i64 hold.
        let big = "12345678901234567890123456789012.345678";
        let SqlValue::Number(n) = decode("fixed", Some(big)).unwrap() else {
            panic!()
        };
        assert_eq!(n.to_string(), big);
        assert_eq!(
            Decimal {
                unscaled: -5,
                scale: 3
            }
            .to_string(),
            "-0.005"
        );
        for bad in ["", "1e5", "1.2.3", "abc", "-", "."] {
            assert!(
                matches!(
                    decode("fixed", Some(bad)),
                    Err(Error::SnowflakeResponse { .. })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn floats_text_booleans_binary_variant() {
        assert_eq!(decode("real", Some("1.5")).unwrap(), SqlValue::Float(1.5));
        assert_eq!(
            decode("real", Some("1.0E10")).unwrap(),
            SqlValue::Float(1e10)
        );
        assert!(matches!(decode("real", Some("NaN")).unwrap(), SqlValue::Float(f) if f.is_nan()));
        assert_eq!(
            decode("text", Some("abc")).unwrap(),
            SqlValue::Text("abc".into())
        );
        assert_eq!(
            decode("boolean", Some("true")).unwrap(),
            SqlValue::Boolean(true)
        );
        assert_eq!(
            decode("boolean", Some("false")).unwrap(),
            SqlValue::Boolean(false)
        );
        assert!(decode("boolean", Some("True")).is_err());
        assert_eq!(
            decode("binary", Some("0A1B")).unwrap(),
            SqlValue::Binary(vec![0x0a, 0x1b])
        );
        assert_eq!(
            decode("variant", Some("{\"a\":1}")).unwrap(),
            SqlValue::Variant("{\"a\":1}".into())
        );
        assert_eq!(decode("text", None).unwrap(), SqlValue::Null);
        assert_eq!(decode("timestamp_tz", None).unwrap(), SqlValue::Null);
        assert!(matches!(
            decode("geography", Some("x")),
            Err(Error::SnowflakeResponse { .. })
        ));
    }

    #[test]
    fn dates_and_times_from_the_reference_examples() {
        // "18262" = 2020-01-01.
        assert_eq!(
            decode("date", Some("18262")).unwrap(),
            SqlValue::Date(NaiveDate::from_ymd_opt(2020, 1, 1).unwrap())
        );
        assert_eq!(
            decode("date", Some("-1")).unwrap(),
            SqlValue::Date(NaiveDate::from_ymd_opt(1969, 12, 31).unwrap())
        );
        assert_eq!(
            decode("time", Some("45296.789000000")).unwrap(),
            SqlValue::Time(NaiveTime::from_hms_milli_opt(12, 34, 56, 789).unwrap())
        );
        // "1616173619.000000000" = 2021-03-19T17:06:59Z.
        let want = Utc.with_ymd_and_hms(2021, 3, 19, 17, 6, 59).unwrap();
        assert_eq!(
            decode("timestamp_ntz", Some("1616173619.000000000")).unwrap(),
            SqlValue::TimestampNtz(want.naive_utc())
        );
        assert_eq!(
            decode("timestamp_ltz", Some("1616173619.000000000")).unwrap(),
            SqlValue::TimestampLtz(want)
        );
        let SqlValue::TimestampNtz(ns) =
            decode("timestamp_ntz", Some("1704112496.789000001")).unwrap()
        else {
            panic!()
        };
        assert_eq!(ns.nanosecond(), 789_000_001);
        // Before the epoch: -1.5 s is 23:59:58.5 on 1969-12-31.
        let SqlValue::TimestampNtz(before) = decode("timestamp_ntz", Some("-1.500000000")).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (before.year(), before.second(), before.nanosecond()),
            (1969, 58, 500_000_000)
        );
    }

    #[test]
    fn timestamp_tz_offsets_are_minutes_plus_1440() {
        let at = |text: &str| match decode("timestamp_tz", Some(text)).unwrap() {
            SqlValue::TimestampTz(t) => t,
            other => panic!("{other:?}"),
        };
        let plus_one = at("1616173619.000000000 1500");
        assert_eq!(plus_one.offset().local_minus_utc(), 3600);
        assert_eq!(
            plus_one.with_timezone(&Utc),
            Utc.with_ymd_and_hms(2021, 3, 19, 17, 6, 59).unwrap()
        );
        assert_eq!(plus_one.hour(), 18);
        let minus_six = at("1616173619.000000000 1080");
        assert_eq!(minus_six.offset().local_minus_utc(), -6 * 3600);
        assert_eq!(minus_six.hour(), 11);
        assert_eq!(at("0.000000000 1440").offset().local_minus_utc(), 0);
        assert_eq!(at("0.000000000 1770").offset().local_minus_utc(), 330 * 60);
        assert!(decode("timestamp_tz", Some("1616173619.000000000")).is_err());
        assert!(decode("timestamp_tz", Some("1616173619.000000000 5000")).is_err());
    }

    #[test]
    fn dml_stats_from_the_stats_object() {
        let body = r#"{"numRowsInserted": 12, "numRowsUpdated": 9, "numRowsDeleted": 8, "numDuplicateRowsUpdated": 20}"#;
        let stats: DmlStats = serde_json::from_str::<WireStats>(body).unwrap().into();
        assert_eq!(
            stats,
            DmlStats {
                inserted: 12,
                updated: 9,
                deleted: 8,
                duplicates_updated: 20
            }
        );
        // The name the drivers read, as Snowflake's answers (and the emulator's) carry it.
        let drivers = r#"{"numRowsInserted": 3, "numRowsUpdated": 2, "numRowsDeleted": 0, "numDmlDuplicates": 5}"#;
        let stats: DmlStats = serde_json::from_str::<WireStats>(drivers).unwrap().into();
        assert_eq!(
            stats,
            DmlStats {
                inserted: 3,
                updated: 2,
                deleted: 0,
                duplicates_updated: 5
            }
        );
        let partial: DmlStats = serde_json::from_str::<WireStats>(r#"{"numRowsUpdated": 1}"#)
            .unwrap()
            .into();
        assert_eq!(
            partial,
            DmlStats {
                updated: 1,
                ..DmlStats::default()
            }
        );
    }

    #[test]
    fn dml_stats_from_result_columns() {
        let names = ["number of rows inserted", "number of rows updated"];
        let rows = vec![vec![Some("4".to_owned()), Some("1".to_owned())]];
        assert_eq!(
            dml_stats_from_columns(&names, &rows).unwrap(),
            Some(DmlStats {
                inserted: 4,
                updated: 1,
                ..DmlStats::default()
            })
        );
        let names = ["number of rows deleted"];
        let rows = vec![vec![Some("7".to_owned())]];
        assert_eq!(
            dml_stats_from_columns(&names, &rows).unwrap(),
            Some(DmlStats {
                deleted: 7,
                ..DmlStats::default()
            })
        );
        assert_eq!(dml_stats_from_columns(&["status"], &[]).unwrap(), None);
        let bad = vec![vec![Some("x".to_owned())]];
        assert!(matches!(
            dml_stats_from_columns(&["number of rows deleted"], &bad),
            Err(Error::SnowflakeResponse { .. })
        ));
    }
}
