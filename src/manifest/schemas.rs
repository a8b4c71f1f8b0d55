//! Each batch's column names and types, persisted on the stage beside the manifest.
//!
//! A batch's [`BatchSchema`] is written once per schema fingerprint, at
//! `_schemas/<OBJECT>/<fingerprint>.json`, before the batch is created in the manifest (whose
//! `batch_created` names the fingerprint). `init`, schema evolution and replay read it from
//! the stage alone, so none of them ever needs Intacct.
//!
//! Invariants: a schema file is written create-once and never replaced; a second writer of
//! the same fingerprint finds an equal file (the fingerprint is a hash of the columns and types),
//! and an unequal one is an error, never silently overwritten.

use arrow::datatypes::{DataType, Schema, TimeUnit};
use bytes::Bytes;

use super::parse_file;
use crate::error::{Corruption, Error, ManifestFile, Result};
use crate::stage::{CreateOutcome, Stage};

/// The type of one persisted column: the Arrow types the stage writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ColumnType {
    /// Int64.
    Integer,
    /// Decimal128(precision, scale).
    Decimal {
        /// Total digits.
        precision: u8,
        /// Fraction digits.
        scale: i8,
    },
    /// Utf8.
    Text,
    /// Boolean.
    Boolean,
    /// Date32.
    Date,
    /// Timestamp(µs, UTC).
    Timestamp,
}

impl ColumnType {
    /// The persisted type of an Arrow type, or `None` for a type the stage never writes.
    pub fn of_arrow(data_type: &DataType) -> Option<ColumnType> {
        Some(match data_type {
            DataType::Int64 => ColumnType::Integer,
            DataType::Decimal128(precision, scale) => ColumnType::Decimal {
                precision: *precision,
                scale: *scale,
            },
            DataType::Utf8 | DataType::LargeUtf8 => ColumnType::Text,
            DataType::Boolean => ColumnType::Boolean,
            DataType::Date32 => ColumnType::Date,
            DataType::Timestamp(TimeUnit::Microsecond, Some(tz)) if tz.as_ref() == "UTC" => {
                ColumnType::Timestamp
            }
            _ => return None,
        })
    }
}

impl ColumnType {
    /// The Arrow type files of this column carry.
    pub fn arrow(self) -> DataType {
        match self {
            ColumnType::Integer => DataType::Int64,
            ColumnType::Decimal { precision, scale } => DataType::Decimal128(precision, scale),
            ColumnType::Text => DataType::Utf8,
            ColumnType::Boolean => DataType::Boolean,
            ColumnType::Date => DataType::Date32,
            ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        }
    }
}

/// One column of a batch, in file order.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SchemaColumn {
    /// The column name (as in the Parquet files).
    pub name: String,
    /// Its type.
    #[serde(flatten)]
    pub column_type: ColumnType,
}

/// What a load changed (or would change) in an object's table: the loader only ever adds a
/// column or widens one's type (see `crate::loader`'s DDL), and each change is recorded in
/// the manifest (`schema_changes`) before its statement is sent.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SchemaChange {
    /// The Intacct object.
    pub object: String,
    /// The table changed (the object's target table).
    pub table: String,
    /// The column, as Snowflake names it.
    pub column: String,
    /// Added or widened.
    pub kind: SchemaChangeKind,
    /// The type before (`None` for an added column), as DDL writes it.
    pub old_type: Option<String>,
    /// The type after, as DDL writes it (`NUMBER(38,2)`, `VARCHAR`).
    pub new_type: String,
}

/// How a column changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchemaChangeKind {
    /// `ALTER TABLE … ADD COLUMN`: older rows hold NULL in it until a backfill re-reads them.
    Added,
    /// `ALTER TABLE … ALTER COLUMN … SET DATA TYPE`: a larger precision or length.
    Widened,
}

impl std::fmt::Display for SchemaChangeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SchemaChangeKind::Added => "added",
            SchemaChangeKind::Widened => "widened",
        })
    }
}

impl std::fmt::Display for SchemaChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.old_type {
            None => write!(
                f,
                "{}.{} added as {}",
                self.table, self.column, self.new_type
            ),
            Some(old) => write!(
                f,
                "{}.{} {} from {old} to {}",
                self.table, self.column, self.kind, self.new_type
            ),
        }
    }
}

/// The columns of every batch with one fingerprint.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BatchSchema {
    /// The Intacct object.
    pub object: String,
    /// [`crate::schema::schema_fingerprint`] of the columns.
    pub fingerprint: String,
    /// Every column of the files, loader columns included, in order.
    pub columns: Vec<SchemaColumn>,
}

impl BatchSchema {
    /// The persisted form of an Arrow schema.
    pub fn from_arrow(object: &str, fingerprint: &str, schema: &Schema) -> Result<BatchSchema> {
        let columns = schema
            .fields()
            .iter()
            .map(|field| {
                ColumnType::of_arrow(field.data_type())
                    .map(|column_type| SchemaColumn {
                        name: field.name().clone(),
                        column_type,
                    })
                    .ok_or_else(|| Error::Schema {
                        object: object.to_owned(),
                        message: format!(
                            "column {} has Arrow type {}, which the loader cannot map",
                            field.name(),
                            field.data_type()
                        ),
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(BatchSchema {
            object: object.to_owned(),
            fingerprint: fingerprint.to_owned(),
            columns,
        })
    }

    /// The Arrow schema of the batch's files (every column nullable but the loader's own).
    pub fn arrow(&self) -> Schema {
        Schema::new(
            self.columns
                .iter()
                .map(|c| {
                    let nullable = !matches!(
                        c.name.as_str(),
                        crate::schema::BATCH_ID_COLUMN
                            | crate::schema::EXTRACTED_AT_COLUMN
                            | crate::schema::DELETED_COLUMN
                    );
                    arrow::datatypes::Field::new(&c.name, c.column_type.arrow(), nullable)
                })
                .collect::<Vec<_>>(),
        )
    }

    /// The column named `name` (case-insensitive).
    pub fn column(&self, name: &str) -> Option<&SchemaColumn> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

/// Where the schema of `fingerprint` lives on the stage.
pub fn schema_path(object: &str, fingerprint: &str) -> String {
    format!("_schemas/{object}/{fingerprint}.json")
}

/// Writes `schema` once; an equal file already there is fine, an unequal one is an error.
pub async fn persist(stage: &Stage, schema: &BatchSchema) -> Result<()> {
    let path = schema_path(&schema.object, &schema.fingerprint);
    let body = serde_json::to_vec_pretty(schema).expect("schema serialises");
    match stage.put_create(&path, Bytes::from(body)).await? {
        CreateOutcome::Created => Ok(()),
        CreateOutcome::AlreadyExists => {
            let found = load(stage, &schema.object, &schema.fingerprint).await?;
            if found == *schema {
                Ok(())
            } else {
                Err(Error::ManifestCorrupt {
                    path,
                    problem: Corruption::SchemaDiffers,
                })
            }
        }
    }
}

/// Reads the schema of `fingerprint`.
pub async fn load(stage: &Stage, object: &str, fingerprint: &str) -> Result<BatchSchema> {
    let path = schema_path(object, fingerprint);
    let Some(body) = stage.get(&path).await? else {
        return Err(Error::ManifestCorrupt {
            path,
            problem: Corruption::SchemaMissing,
        });
    };
    let schema: BatchSchema = parse_file(&path, ManifestFile::BatchSchema, &body)?;
    if schema.object != object || schema.fingerprint != fingerprint {
        return Err(Error::ManifestCorrupt {
            path,
            problem: Corruption::SchemaOfAnother {
                object: schema.object,
                fingerprint: schema.fingerprint,
            },
        });
    }
    Ok(schema)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::Field;

    #[test]
    fn every_stage_type_maps_and_round_trips() {
        let schema = Schema::new(vec![
            Field::new("RECORDNO", DataType::Int64, true),
            Field::new("AMOUNT", DataType::Decimal128(38, 10), true),
            Field::new("NAME", DataType::Utf8, true),
            Field::new("ACTIVE", DataType::Boolean, true),
            Field::new("WHENDUE", DataType::Date32, true),
            Field::new(
                "WHENMODIFIED",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
        ]);
        let persisted = BatchSchema::from_arrow("APBILL", "f1", &schema).unwrap();
        let types: Vec<ColumnType> = persisted.columns.iter().map(|c| c.column_type).collect();
        assert_eq!(
            types,
            [
                ColumnType::Integer,
                ColumnType::Decimal {
                    precision: 38,
                    scale: 10
                },
                ColumnType::Text,
                ColumnType::Boolean,
                ColumnType::Date,
                ColumnType::Timestamp
            ]
        );
        let text = serde_json::to_string(&persisted).unwrap();
        assert!(
            text.contains(r#"{"name":"AMOUNT","type":"decimal","precision":38,"scale":10}"#),
            "{text}"
        );
        let back: BatchSchema = serde_json::from_str(&text).unwrap();
        assert_eq!(back, persisted);
        assert_eq!(back.arrow().fields(), schema.fields());
    }

    #[test]
    fn an_unmappable_type_names_object_and_column() {
        let schema = Schema::new(vec![Field::new("X", DataType::Float64, true)]);
        let err = BatchSchema::from_arrow("VENDOR", "f", &schema).unwrap_err();
        assert!(
            matches!(&err, Error::Schema { object, message } if object == "VENDOR" && message.contains("column X")),
            "{err}"
        );
    }
}
