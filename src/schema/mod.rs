//! Intacct field metadata to Arrow schemas; record pages to Arrow record batches.
//!
//! Types come only from Intacct's own metadata (`lookup`/`inspect`), never from sample values,
//! so a ZIP code `00640` stays text and money stays an exact decimal:
//!
//! | Intacct type | Arrow type |
//! |---|---|
//! | TEXT, ENUM, anything unknown | Utf8 |
//! | INTEGER, SEQUENCE | Int64 |
//! | CURRENCY | Decimal128(38, [`DECIMAL_SCALE`]) (10 fraction digits, 28 integer digits) |
//! | DECIMAL, PERCENT | Decimal128(38, [`WIDE_DECIMAL_SCALE`]) (18 fraction digits, 20 integer digits) |
//! | a decimal whose `maxLength` no Decimal128(38, s) holds | Utf8, marked `kept_as_text` |
//! | DATE | Date32 |
//! | TIMESTAMP | Timestamp(µs, "UTC"), converted from the tenant's time zone |
//! | BOOLEAN | Boolean |
//!
//! The scale of a decimal column comes from metadata, never from sample values. `lookup`
//! publishes no precision or scale, so the type decides: amounts (CURRENCY) carry a few
//! fraction digits but may be long (`-74428823021669.4`), while exchange rates
//! (`1.0843920000`) and percentages (`33.333333333333`) carry many, so DECIMAL and PERCENT
//! get the wider scale. Where `inspect` gives a `maxLength` L (at most L digits), a column of
//! L ≤ 19 digits gets scale L, which holds every split of L digits exactly; a longer one has
//! no Decimal128(38, s) that holds every value, so it is kept as text, and its field says so
//! in the Arrow (and Parquet) schema metadata ([`KEPT_AS_TEXT_METADATA`]).
//!
//! Values are parsed without loss or not at all: a sign, unscaled integers (`100`), trailing
//! zeros and `12.0` in an INTEGER field are read exactly; more fraction digits than the
//! scale, more digits than 38, exponents and separators are bad values, never rounded.
//!
//! Every schema ends with three loader columns: `_BATCH_ID` (Utf8), `_EXTRACTED_AT`
//! (Timestamp µs UTC) and `_DELETED` (Boolean, true only for rows of the delete feed).
//!
//! Invariants: a value that does not parse as its declared type is never a silent NULL.
//! In a key column (RECORDNO, the object's delete key) or a watermark column (WHENMODIFIED,
//! WHENCREATED, AUWHENCREATED) it stops the page with an [`Error::Value`] naming object,
//! RECORDNO, field and value: a row without its key cannot be merged, and one without its
//! timestamp could move a watermark past itself. In any other column it is quarantined when
//! the pipeline quarantines (the default): the value becomes NULL, the row stays, and a
//! [`QuarantinedRow`] keeps the value exactly as sent, so nothing is lost and the run report
//! counts it per field; with quarantine off it is an [`Error::Value`] too. Columns a page carries that the
//! metadata does not list are dropped and counted (the metadata is the source of truth and the
//! table's shape must not depend on which page came first); metadata fields a page lacks are
//! NULL.

mod select;
pub(crate) mod values;

pub use select::{FieldSelection, ObjectSchema, check_key_present, object_schema};

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
use crate::intacct::response::{FieldMeta, IntacctType, ObjectMeta, RecordPage};

/// Fraction digits of a CURRENCY column (see the module docs).
pub const DECIMAL_SCALE: i8 = 10;
/// Fraction digits of a DECIMAL or PERCENT column: exchange rates and percentages carry
/// many digits.
pub const WIDE_DECIMAL_SCALE: i8 = 18;
/// The Arrow field metadata key set on a column kept as text although Intacct types it as a
/// number; its value says why.
pub const KEPT_AS_TEXT_METADATA: &str = "intacct.kept_as_text";
/// The longest `maxLength` (in digits) every split of which one Decimal128(38, s) holds.
const MAX_EXACT_DIGITS: u32 = 19;
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
    /// Decimal128(38, scale).
    Decimal {
        /// Fraction digits.
        scale: i8,
    },
    /// Date32.
    Date,
    /// Timestamp(µs, UTC).
    Timestamp,
    /// Boolean.
    Boolean,
}

impl ColumnKind {
    /// The kind for an Intacct type, with no length known.
    pub fn of(data_type: &IntacctType) -> ColumnKind {
        match data_type {
            IntacctType::Text | IntacctType::Enum | IntacctType::Other(_) => ColumnKind::Text,
            IntacctType::Integer | IntacctType::Sequence => ColumnKind::Integer,
            IntacctType::Currency => ColumnKind::Decimal {
                scale: DECIMAL_SCALE,
            },
            IntacctType::Decimal | IntacctType::Percent => ColumnKind::Decimal {
                scale: WIDE_DECIMAL_SCALE,
            },
            IntacctType::Boolean => ColumnKind::Boolean,
            IntacctType::Date => ColumnKind::Date,
            IntacctType::Timestamp => ColumnKind::Timestamp,
        }
    }

    /// The kind of a field, and why a numeric field is kept as text when it is: a decimal
    /// with a `maxLength` of L ≤ 19 digits gets scale L; a longer one is text.
    pub fn of_field(field: &FieldMeta) -> (ColumnKind, Option<String>) {
        let kind = ColumnKind::of(&field.data_type);
        match (kind, field.max_length) {
            (ColumnKind::Decimal { .. }, Some(digits)) if digits <= MAX_EXACT_DIGITS => {
                // Scale L leaves 38 − L ≥ L integer digits: every split of L digits fits.
                (
                    ColumnKind::Decimal {
                        scale: digits as i8,
                    },
                    None,
                )
            }
            (ColumnKind::Decimal { .. }, Some(digits)) => (
                ColumnKind::Text,
                Some(format!(
                    "{:?} with maxLength {digits}: no Decimal128(38, s) holds every value of \
                     {digits} digits exactly",
                    field.data_type
                )),
            ),
            _ => (kind, None),
        }
    }

    fn data_type(self) -> DataType {
        match self {
            ColumnKind::Text => DataType::Utf8,
            ColumnKind::Integer => DataType::Int64,
            ColumnKind::Decimal { scale } => DataType::Decimal128(DECIMAL_PRECISION, scale),
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
            ColumnKind::Decimal { .. } => {
                "a decimal within the column's scale and 38 digits, without exponent or separators"
            }
            ColumnKind::Date => "a date MM/DD/YYYY",
            ColumnKind::Timestamp => "a timestamp MM/DD/YYYY HH:MM:SS (or MM/DD/YYYY)",
            ColumnKind::Boolean => "a boolean (true/false)",
        }
    }

    /// [`ColumnKind::expected`], with a decimal column's scale spelt out.
    pub fn expected_text(self) -> String {
        match self {
            ColumnKind::Decimal { scale } => format!(
                "a decimal with at most {scale} fraction digits and {} integer digits, \
                 without exponent or separators",
                i16::from(DECIMAL_PRECISION) - i16::from(scale)
            ),
            other => other.expected().to_owned(),
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
    /// A bad value here stops the object instead of being quarantined: the key, the delete
    /// key and the watermark columns.
    pub strict: bool,
    /// Why a field Intacct types as a number is kept as text, when it is.
    pub kept_as_text: Option<String>,
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
        let (kind, kept_as_text) = ColumnKind::of_field(field);
        columns.push(ColumnPlan {
            strict: is_strict(&object.name, &field.name),
            column,
            field: field.name.clone(),
            kind,
            kept_as_text,
        });
    }
    let mut fields: Vec<Field> = columns
        .iter()
        .map(|c| {
            let field = Field::new(&c.column, c.kind.data_type(), true);
            match &c.kept_as_text {
                Some(why) => field.with_metadata(std::collections::HashMap::from([(
                    KEPT_AS_TEXT_METADATA.to_owned(),
                    why.clone(),
                )])),
                None => field,
            }
        })
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

impl SchemaPlan {
    /// Makes `fields` strict besides the built-in ones (a pipeline's configured key and
    /// watermark field): a bad value there stops the object instead of being quarantined.
    /// Strictness is not part of the fingerprint, which only the columns and types decide.
    pub fn mark_strict(&mut self, fields: &[&str]) {
        for column in &mut self.columns {
            if fields.iter().any(|f| column.field.eq_ignore_ascii_case(f)) {
                column.strict = true;
            }
        }
    }
}

/// True for the fields whose bad value stops the object: those every read needs
/// ([`crate::intacct::objects::is_required_field`]).
fn is_strict(object: &str, field: &str) -> bool {
    crate::intacct::objects::is_required_field(object, field)
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
    /// Quarantine bad values of non-key columns (set them NULL and keep them aside) instead
    /// of failing.
    pub quarantine: bool,
}

/// A value set aside because it did not fit its column's type: the row was staged with the
/// value NULL. (The delete feed also sets whole AUDITHISTORY rows aside in this shape.)
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
    /// Every row of the page (a quarantined value is NULL in it).
    pub batch: RecordBatch,
    /// Values set aside (only when quarantine is on), in row order.
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
            ColumnKind::Decimal { scale } => {
                let mut b = Decimal128Builder::with_capacity(rows)
                    .with_precision_and_scale(DECIMAL_PRECISION, scale)
                    .map_err(|e| arrow_error(plan, e))?;
                for row in 0..rows {
                    b.append_option(typed(value(row), row, column, &mut bad, |t| {
                        values::parse_decimal(t, scale as u32)
                    }));
                }
                Arc::new(b.finish())
            }
            ColumnKind::Date => {
                let mut b = Date32Builder::with_capacity(rows);
                for row in 0..rows {
                    b.append_option(typed(value(row), row, column, &mut bad, |t| {
                        values::parse_local_date(t).map(values::date32)
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
    let batch =
        RecordBatch::try_new(plan.schema.clone(), arrays).map_err(|e| arrow_error(plan, e))?;

    let record_no_index = page.column_index(RECORD_NO_COLUMN);
    let record_no = |row: usize| record_no_index.and_then(|c| page.value(row, c));
    let mut quarantined = Vec::new();
    if !bad.is_empty() {
        bad.sort_by_key(|(row, _, _)| *row);
        // A bad key or watermark stops the page whatever the setting; the first one found
        // (in row order) is named.
        let stop = bad
            .iter()
            .find(|(_, column, _)| column.strict || !ctx.quarantine);
        if let Some(&(row, column, value)) = stop {
            return Err(Error::Value {
                object: plan.object.clone(),
                record_no: record_no(row).map(str::to_owned),
                field: column.field.clone(),
                value: crate::error::plain_snippet(value.as_bytes(), 80),
                expected: column.kind.expected(),
            });
        }
        // Every other bad value is already NULL in its column (the parser refused it).
        for (row, column, value) in &bad {
            quarantined.push(QuarantinedRow {
                object: plan.object.clone(),
                record_no: record_no(*row).map(str::to_owned),
                field: column.field.clone(),
                value: (*value).to_owned(),
                expected: column.kind.expected_text(),
            });
        }
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

fn arrow_error(plan: &SchemaPlan, source: arrow::error::ArrowError) -> Error {
    Error::Arrow {
        object: plan.object.clone(),
        source,
    }
}

#[cfg(test)]
mod tests;
