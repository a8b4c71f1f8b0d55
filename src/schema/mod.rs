//! Intacct field metadata to Arrow schemas; record pages to Arrow record batches.
//!
//! Types come only from Intacct's own metadata (`lookup`/`inspect`), never from sample values,
//! so a ZIP code `00640` stays text and money stays an exact decimal:
//!
//! | Intacct type | Arrow type |
//! |---|---|
//! | TEXT, ENUM, anything unknown | Utf8 |
//! | INTEGER, SEQUENCE | Int64 |
//! | CURRENCY, DECIMAL, PERCENT | Decimal128(38, [`DECIMAL_SCALE`]) |
//! | DATE | Date32 |
//! | TIMESTAMP | Timestamp(µs, "UTC"), converted from the tenant's time zone |
//! | BOOLEAN | Boolean |
//!
//! Intacct publishes no precision or scale, so every decimal field gets the same generous
//! scale: [`DECIMAL_SCALE`] fraction digits hold currency amounts, exchange rates and
//! percentages exactly while leaving 28 integer digits. A value with more fraction digits is
//! an error, never a rounding.
//!
//! Every schema ends with three loader columns: `_BATCH_ID` (Utf8), `_EXTRACTED_AT`
//! (Timestamp µs UTC) and `_DELETED` (Boolean, true only for rows of the delete feed).
//!
//! Invariants: a value that does not parse as its declared type is an [`Error::Value`]
//! naming object, RECORDNO, field and value — or, when the pipeline opts in, its whole row is
//! set aside as a [`QuarantinedRow`] — never a silent NULL. Columns a page carries that the
//! metadata does not list are dropped and counted (the metadata is the source of truth and the
//! table's shape must not depend on which page came first); metadata fields a page lacks are
//! NULL.

pub(crate) mod values;

pub(crate) use values::parse_local_timestamp;

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Decimal128Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::intacct::names::column_name;
use crate::intacct::response::{IntacctType, ObjectMeta, RecordPage};

/// Fraction digits of every decimal column (see the module docs for why it is fixed).
pub const DECIMAL_SCALE: i8 = 10;
/// Precision of every decimal column: the most Decimal128 (and Snowflake NUMBER) holds.
pub const DECIMAL_PRECISION: u8 = 38;
/// The batch id column.
pub const BATCH_ID_COLUMN: &str = "_BATCH_ID";
/// The extraction time column.
pub const EXTRACTED_AT_COLUMN: &str = "_EXTRACTED_AT";
/// The soft-delete flag column.
pub const DELETED_COLUMN: &str = "_DELETED";
/// The column whose value names a record in errors.
pub const RECORD_NO_COLUMN: &str = "RECORDNO";

/// How one column is typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    /// Utf8, kept byte-exact.
    Text,
    /// Int64.
    Integer,
    /// Decimal128(38, [`DECIMAL_SCALE`]).
    Decimal,
    /// Date32.
    Date,
    /// Timestamp(µs, UTC).
    Timestamp,
    /// Boolean.
    Boolean,
}

impl ColumnKind {
    /// The kind for an Intacct type.
    pub fn of(data_type: &IntacctType) -> ColumnKind {
        match data_type {
            IntacctType::Text | IntacctType::Enum | IntacctType::Other(_) => ColumnKind::Text,
            IntacctType::Integer | IntacctType::Sequence => ColumnKind::Integer,
            IntacctType::Decimal | IntacctType::Currency | IntacctType::Percent => {
                ColumnKind::Decimal
            }
            IntacctType::Boolean => ColumnKind::Boolean,
            IntacctType::Date => ColumnKind::Date,
            IntacctType::Timestamp => ColumnKind::Timestamp,
        }
    }

    fn data_type(self) -> DataType {
        match self {
            ColumnKind::Text => DataType::Utf8,
            ColumnKind::Integer => DataType::Int64,
            ColumnKind::Decimal => DataType::Decimal128(DECIMAL_PRECISION, DECIMAL_SCALE),
            ColumnKind::Date => DataType::Date32,
            ColumnKind::Timestamp => utc_micros(),
            ColumnKind::Boolean => DataType::Boolean,
        }
    }

    /// What a value of this kind must look like, for error messages.
    pub fn expected(self) -> &'static str {
        match self {
            ColumnKind::Text => "text",
            ColumnKind::Integer => "an integer (64-bit)",
            ColumnKind::Decimal => "a decimal with at most 10 fraction digits and no exponent",
            ColumnKind::Date => "a date MM/DD/YYYY",
            ColumnKind::Timestamp => "a timestamp MM/DD/YYYY HH:MM:SS (or MM/DD/YYYY)",
            ColumnKind::Boolean => "a boolean (true/false)",
        }
    }
}

fn utc_micros() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// One data column of a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnPlan {
    /// The Snowflake column (and Arrow field) name.
    pub column: String,
    /// The Intacct field it comes from.
    pub field: String,
    /// Its type.
    pub kind: ColumnKind,
}

/// The Arrow shape of one object: data columns from metadata, then the loader columns.
#[derive(Clone, Debug)]
pub struct SchemaPlan {
    /// The Intacct object.
    pub object: String,
    /// Data columns in metadata order.
    pub columns: Vec<ColumnPlan>,
    /// The Arrow schema (data columns, then `_BATCH_ID`, `_EXTRACTED_AT`, `_DELETED`).
    pub schema: SchemaRef,
    /// [`schema_fingerprint`] of this plan.
    pub fingerprint: String,
}

/// Builds the plan for an object. Two fields that map to the same column are an error.
pub fn arrow_schema(object: &ObjectMeta) -> Result<SchemaPlan> {
    let mut columns: Vec<ColumnPlan> = Vec::with_capacity(object.fields.len());
    for field in &object.fields {
        let column = column_name(&field.name);
        if let Some(other) = columns.iter().find(|c| c.column == column) {
            return Err(Error::Schema {
                object: object.name.clone(),
                message: format!(
                    "fields {} and {} both map to column {column}",
                    other.field, field.name
                ),
            });
        }
        columns.push(ColumnPlan {
            column,
            field: field.name.clone(),
            kind: ColumnKind::of(&field.data_type),
        });
    }
    let mut fields: Vec<Field> = columns
        .iter()
        .map(|c| Field::new(&c.column, c.kind.data_type(), true))
        .collect();
    fields.push(Field::new(BATCH_ID_COLUMN, DataType::Utf8, false));
    fields.push(Field::new(EXTRACTED_AT_COLUMN, utc_micros(), false));
    fields.push(Field::new(DELETED_COLUMN, DataType::Boolean, false));
    let fingerprint = schema_fingerprint(&object.name, &columns);
    Ok(SchemaPlan {
        object: object.name.clone(),
        columns,
        schema: Arc::new(Schema::new(fields)),
        fingerprint,
    })
}

/// sha256 (hex) of a canonical description: one line per column, `column<TAB>arrow type`,
/// after a version line. Equal fingerprints mean files of two batches load into one table.
pub fn schema_fingerprint(object: &str, columns: &[ColumnPlan]) -> String {
    let mut canonical = format!("intacct-snowflake schema v1\t{object}\n");
    for c in columns {
        canonical.push_str(&format!("{}\t{:?}\n", c.column, c.kind.data_type()));
    }
    for (name, dt) in [
        (BATCH_ID_COLUMN, DataType::Utf8),
        (EXTRACTED_AT_COLUMN, utc_micros()),
        (DELETED_COLUMN, DataType::Boolean),
    ] {
        canonical.push_str(&format!("{name}\t{dt:?}\n"));
    }
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// Everything a page's rows share besides their values.
#[derive(Clone, Debug)]
pub struct BatchContext<'a> {
    /// The batch id written to `_BATCH_ID`.
    pub batch_id: &'a str,
    /// Written to `_EXTRACTED_AT`.
    pub extracted_at: DateTime<Utc>,
    /// The tenant's time zone, in which Intacct writes timestamps.
    pub time_zone: chrono_tz::Tz,
    /// True for rows of the delete feed (`_DELETED`).
    pub deleted: bool,
    /// Set bad rows aside instead of failing.
    pub quarantine: bool,
}

/// A row set aside because one of its values did not fit its type.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QuarantinedRow {
    /// The object.
    pub object: String,
    /// The row's RECORDNO, when it has one.
    pub record_no: Option<String>,
    /// The Intacct field.
    pub field: String,
    /// The value as sent.
    pub value: String,
    /// What was expected.
    pub expected: String,
}

/// A converted page.
#[derive(Debug)]
pub struct ConvertedPage {
    /// The rows that converted.
    pub batch: RecordBatch,
    /// Rows set aside (only when quarantine is on).
    pub quarantined: Vec<QuarantinedRow>,
    /// Values in columns the metadata does not list (dropped).
    pub unknown_column_values: u64,
}

/// Converts a page into a record batch of `plan`'s schema.
pub fn record_batch(
    plan: &SchemaPlan,
    page: &RecordPage,
    ctx: &BatchContext<'_>,
) -> Result<ConvertedPage> {
    let rows = page.len();
    let mut bad: Vec<(usize, &ColumnPlan, &str)> = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(plan.columns.len() + 3);
    for column in &plan.columns {
        let index = page.column_index(&column.column);
        let value = |row: usize| index.and_then(|c| page.value(row, c));
        let array: ArrayRef = match column.kind {
            ColumnKind::Text => {
                let mut b = StringBuilder::with_capacity(rows, rows * 16);
                for row in 0..rows {
                    b.append_option(value(row));
                }
                Arc::new(b.finish())
            }
            ColumnKind::Integer => {
                let mut b = Int64Builder::with_capacity(rows);
                for row in 0..rows {
                    b.append_option(typed(
                        value(row),
                        row,
                        column,
                        &mut bad,
                        values::parse_integer,
                    ));
                }
                Arc::new(b.finish())
            }
            ColumnKind::Decimal => {
                let scale = DECIMAL_SCALE as u32;
                let mut b = Decimal128Builder::with_capacity(rows)
                    .with_precision_and_scale(DECIMAL_PRECISION, DECIMAL_SCALE)
                    .map_err(|e| arrow_error(plan, e))?;
                for row in 0..rows {
                    b.append_option(typed(value(row), row, column, &mut bad, |t| {
                        values::parse_decimal(t, scale)
                    }));
                }
                Arc::new(b.finish())
            }
            ColumnKind::Date => {
                let mut b = Date32Builder::with_capacity(rows);
                for row in 0..rows {
                    b.append_option(typed(value(row), row, column, &mut bad, |t| {
                        values::parse_date(t).map(values::date32)
                    }));
                }
                Arc::new(b.finish())
            }
            ColumnKind::Timestamp => {
                let tz = ctx.time_zone;
                let mut b = TimestampMicrosecondBuilder::with_capacity(rows).with_timezone("UTC");
                for row in 0..rows {
                    b.append_option(typed(value(row), row, column, &mut bad, |t| {
                        values::parse_local_timestamp(t).map(|l| values::local_to_utc_micros(l, tz))
                    }));
                }
                Arc::new(b.finish())
            }
            ColumnKind::Boolean => {
                let mut b = BooleanBuilder::with_capacity(rows);
                for row in 0..rows {
                    b.append_option(typed(
                        value(row),
                        row,
                        column,
                        &mut bad,
                        values::parse_boolean,
                    ));
                }
                Arc::new(b.finish())
            }
        };
        arrays.push(array);
    }
    let mut batch_ids = StringBuilder::with_capacity(rows, rows * ctx.batch_id.len());
    let mut extracted = TimestampMicrosecondBuilder::with_capacity(rows).with_timezone("UTC");
    let mut deleted = BooleanBuilder::with_capacity(rows);
    let extracted_micros = ctx.extracted_at.timestamp_micros();
    for _ in 0..rows {
        batch_ids.append_value(ctx.batch_id);
        extracted.append_value(extracted_micros);
        deleted.append_value(ctx.deleted);
    }
    arrays.push(Arc::new(batch_ids.finish()));
    arrays.push(Arc::new(extracted.finish()));
    arrays.push(Arc::new(deleted.finish()));
    let mut batch =
        RecordBatch::try_new(plan.schema.clone(), arrays).map_err(|e| arrow_error(plan, e))?;

    let record_no_index = page.column_index(RECORD_NO_COLUMN);
    let record_no = |row: usize| record_no_index.and_then(|c| page.value(row, c));
    let mut quarantined = Vec::new();
    if !bad.is_empty() {
        bad.sort_by_key(|(row, _, _)| *row);
        if !ctx.quarantine {
            let (row, column, value) = bad[0];
            return Err(Error::Value {
                object: plan.object.clone(),
                record_no: record_no(row).map(str::to_owned),
                field: column.field.clone(),
                value: crate::error::plain_snippet(value.as_bytes(), 80),
                expected: column.kind.expected(),
            });
        }
        let mut keep = vec![true; rows];
        for (row, column, value) in &bad {
            keep[*row] = false;
            quarantined.push(QuarantinedRow {
                object: plan.object.clone(),
                record_no: record_no(*row).map(str::to_owned),
                field: column.field.clone(),
                value: (*value).to_owned(),
                expected: column.kind.expected().to_owned(),
            });
        }
        let mask = arrow::array::BooleanArray::from(keep);
        batch =
            arrow::compute::filter_record_batch(&batch, &mask).map_err(|e| arrow_error(plan, e))?;
    }

    let unknown_column_values = page
        .columns()
        .iter()
        .enumerate()
        .filter(|(_, name)| !plan.columns.iter().any(|c| &c.column == *name))
        .map(|(c, _)| (0..rows).filter(|&r| page.value(r, c).is_some()).count() as u64)
        .sum();
    Ok(ConvertedPage {
        batch,
        quarantined,
        unknown_column_values,
    })
}

fn typed<'p, T>(
    text: Option<&'p str>,
    row: usize,
    column: &'p ColumnPlan,
    bad: &mut Vec<(usize, &'p ColumnPlan, &'p str)>,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Option<T> {
    let text = text?;
    let parsed = parse(text);
    if parsed.is_none() {
        bad.push((row, column, text));
    }
    parsed
}

fn arrow_error(plan: &SchemaPlan, e: arrow::error::ArrowError) -> Error {
    Error::Schema {
        object: plan.object.clone(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests;
