//! The statements that load one batch: `COPY INTO` the staging table (the manifest's files,
//! chunked at [`FILES_PER_COPY`]), the count of the batch's staging rows that guards the
//! MERGE, `MERGE` into the target, `DELETE` the batch's staging rows (after the MERGE, and
//! before the files are copied again when the count differs). Pure: a batch's facts in,
//! rendered statements out; the number of statements depends only on the number of files
//! divided by 1,000, never on rows.
//!
//! Guess (Snowflake documents Parquet's DECIMAL as loaded into NUMBER, not how a value wider
//! than 19 digits travels through the VARIANT that `MATCH_BY_COLUMN_NAME` reads a Parquet row
//! as): a `Decimal128(38, s)` value of 20 or more digits (money of ten billion or more at scale
//! 10, any value of 10 or more at scale 18) loads into `NUMBER(38, s)` exactly, never through a
//! float. The emulator keeps it exact; `sql/README.md` ("To confirm on a real account") has the
//! query that settles it.

use super::names::{Names, TableRole};
use super::sql::{Ident, Literal, Part, Sql, render};
use crate::error::{Error, Result};
use crate::manifest::BatchKeys;
use crate::manifest::schemas::{BatchSchema, ColumnType};

/// Snowflake's limit on the names in one `FILES = (…)` list.
pub(crate) const FILES_PER_COPY: usize = 1000;

const COPY: &str = include_str!("../../sql/copy_into_staging.sql");
const MERGE: &str = include_str!("../../sql/merge_from_staging.sql");
const DELETE: &str = include_str!("../../sql/delete_staged_batch.sql");
const COUNT: &str = include_str!("../../sql/count_staged_batch.sql");

/// The `COPY INTO` statements of one batch: one per `FILES_PER_COPY` files, in order.
///
/// `files` are stage-relative paths (`<OBJECT>/<batch_id>/part-00001.parquet`), all under the
/// object's directory. `force` loads files whatever Snowflake's load metadata says: replays,
/// and a batch whose staging rows were not all there after its first COPY.
pub fn copy_into(names: &Names, object: &str, files: &[String], force: bool) -> Result<Vec<Sql>> {
    let prefix = format!("{object}/");
    files
        .chunks(FILES_PER_COPY)
        .map(|chunk| {
            let listed = chunk
                .iter()
                .map(|path| {
                    let relative = path.strip_prefix(&prefix).ok_or_else(|| {
                        Error::InvalidRequest(format!(
                            "staged file {path} is not under the object's directory {prefix}"
                        ))
                    })?;
                    Literal::new(Sql::stage_path(relative)?.as_str())
                })
                .collect::<Result<Vec<Literal>>>()?;
            render(
                "copy_into_staging.sql",
                COPY,
                &[
                    (
                        "staging_table",
                        names.table(object, TableRole::Staging)?.into(),
                    ),
                    ("stage", names.qualified(&names.stage).into()),
                    ("object_path", Sql::stage_path(object)?.into()),
                    ("files", Part::Literals(listed)),
                    (
                        "file_format",
                        names.qualified_literal(&names.file_format)?.into(),
                    ),
                    ("force", force.into()),
                ],
            )
        })
        .collect()
}

/// What the MERGE of one batch needs to know.
#[derive(Clone, Debug)]
pub(crate) struct MergeSpec<'a> {
    /// The batch's columns (from the persisted schema).
    pub schema: &'a BatchSchema,
    /// The `_BATCH_ID` its rows carry.
    pub rows_batch_id: &'a str,
    /// The column tombstones name their records by (an ID for natural-key objects, the
    /// header key for line objects); `None`: tombstones carry RECORDNO.
    pub delete_key: Option<&'a str>,
    /// The batch's merge key and watermark field.
    pub keys: &'a BatchKeys,
}

/// The MERGE of one batch from staging into the target table (`sql/merge_from_staging.sql`,
/// which holds the whole statement): this finds the columns it names in the batch's schema.
pub(crate) fn merge(names: &Names, spec: &MergeSpec<'_>) -> Result<Sql> {
    merge_into(names, spec, TableRole::Target)
}

/// The same MERGE into another of the object's tables (`reset` merges into
/// `<OBJECT>__RESET`).
pub(crate) fn merge_into(names: &Names, spec: &MergeSpec<'_>, into: TableRole) -> Result<Sql> {
    let schema = spec.schema;
    let object = &schema.object;
    let require = |name: &str| -> Result<Ident> {
        schema
            .column(name)
            .map(|c| Ident::new(&c.name))
            .transpose()?
            .ok_or_else(|| Error::Schema {
                object: object.clone(),
                message: format!("the batch has no {name} column, which loading needs"),
            })
    };
    let key = require(&spec.keys.key)?;
    let modified = require(&spec.keys.watermark_field)?;
    // The template names the bookkeeping columns itself; a batch without them cannot load.
    let batch_col = require(crate::schema::BATCH_ID_COLUMN)?;
    let extracted = require(crate::schema::EXTRACTED_AT_COLUMN)?;
    let deleted = require(crate::schema::DELETED_COLUMN)?;
    // Tombstones that carry the merge key match directly; any other column they carry is
    // expanded to the keys of the records that have it.
    let tombstone_key = spec.delete_key.unwrap_or(crate::schema::RECORD_NO_COLUMN);
    let delete_key = (tombstone_key != spec.keys.key)
        .then(|| require(tombstone_key))
        .transpose()?;
    let creation = ["AUWHENCREATED", "WHENCREATED"]
        .into_iter()
        .find_map(|name| {
            schema
                .column(name)
                .filter(|c| c.column_type == ColumnType::Timestamp)
        })
        .map(|c| Ident::new(&c.name))
        .transpose()?;
    let columns: Vec<Ident> = schema
        .columns
        .iter()
        .map(|c| Ident::new(&c.name))
        .collect::<Result<_>>()?;
    let column_items = |wanted: &dyn Fn(&Ident) -> bool| {
        Part::Each(
            columns
                .iter()
                .filter(|c| wanted(c))
                .map(|c| vec![("column", c.into())])
                .collect(),
        )
    };
    let mut bindings: Vec<(&str, Part)> = vec![
        ("target_table", names.table(object, into)?.into()),
        (
            "staging_table",
            names.table(object, TableRole::Staging)?.into(),
        ),
        ("batch_id", Literal::new(spec.rows_batch_id)?.into()),
        ("key", (&key).into()),
        ("modified", (&modified).into()),
        ("columns", Part::Idents(columns.clone())),
        (
            "change_time",
            Part::Coalesce([modified.clone()].into_iter().chain(creation).collect()),
        ),
        ("update_columns", column_items(&|c| *c != key)),
        ("expand_tombstones", delete_key.is_some().into()),
    ];
    if let Some(delete_key) = delete_key {
        let carried = [&delete_key, &modified, &batch_col, &extracted];
        let row = columns
            .iter()
            .map(|c| {
                let from_keys = *c == key;
                let from_tombstone = !from_keys && carried.contains(&c);
                let marks_deleted = !from_keys && !from_tombstone && *c == deleted;
                vec![
                    ("column", c.into()),
                    ("from_keys", from_keys.into()),
                    ("from_tombstone", from_tombstone.into()),
                    ("marks_deleted", marks_deleted.into()),
                    (
                        "unknown",
                        (!from_keys && !from_tombstone && !marks_deleted).into(),
                    ),
                ]
            })
            .collect();
        bindings.push(("delete_key", delete_key.into()));
        bindings.push(("tombstone_row", Part::Each(row)));
    }
    render("merge_from_staging.sql", MERGE, &bindings)
}

/// The query that counts one batch's rows in staging (column `ROWS_STAGED`).
pub(crate) fn count_staged(names: &Names, object: &str, rows_batch_id: &str) -> Result<Sql> {
    render(
        "count_staged_batch.sql",
        COUNT,
        &[
            (
                "staging_table",
                names.table(object, TableRole::Staging)?.into(),
            ),
            ("batch_id", Literal::new(rows_batch_id)?.into()),
        ],
    )
}

/// The DELETE that removes one batch's rows from staging after its MERGE (and before its
/// files are copied again, when staging did not hold exactly its rows).
pub(crate) fn delete_staged(names: &Names, object: &str, rows_batch_id: &str) -> Result<Sql> {
    render(
        "delete_staged_batch.sql",
        DELETE,
        &[
            (
                "staging_table",
                names.table(object, TableRole::Staging)?.into(),
            ),
            ("batch_id", Literal::new(rows_batch_id)?.into()),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::schemas::SchemaColumn;

    fn names() -> Names {
        Names::new("INTACCT", "RAW", "INTACCT_STAGE", "INTACCT_PARQUET").unwrap()
    }

    fn vendor() -> BatchSchema {
        let col = |name: &str, column_type| SchemaColumn {
            name: name.into(),
            column_type,
        };
        BatchSchema {
            object: "VENDOR".into(),
            fingerprint: "f".into(),
            columns: vec![
                col("RECORDNO", ColumnType::Integer),
                col("VENDORID", ColumnType::Text),
                col("WHENCREATED", ColumnType::Timestamp),
                col("WHENMODIFIED", ColumnType::Timestamp),
                col("_BATCH_ID", ColumnType::Text),
                col("_EXTRACTED_AT", ColumnType::Timestamp),
                col("_DELETED", ColumnType::Boolean),
            ],
        }
    }

    #[test]
    fn copy_lists_files_relative_to_the_object_in_chunks_of_a_thousand() {
        let files: Vec<String> = (1..=2001)
            .map(|i| format!("VENDOR/b1/part-{i:05}.parquet"))
            .collect();
        let statements = copy_into(&names(), "VENDOR", &files, false).unwrap();
        assert_eq!(statements.len(), 3);
        let first = statements[0].as_str();
        assert!(first.starts_with("COPY INTO \"INTACCT\".\"RAW\".\"VENDOR_STG\"\n  FROM @\"INTACCT\".\"RAW\".\"INTACCT_STAGE\"/VENDOR/\n  FILES = ('b1/part-00001.parquet', "), "{first}");
        assert!(first.contains("FORCE = FALSE"));
        assert_eq!(first.matches(".parquet'").count(), 1000);
        assert_eq!(statements[2].as_str().matches(".parquet'").count(), 1);
        let replay = copy_into(&names(), "VENDOR", &files[..1], true).unwrap();
        assert!(
            replay[0].as_str().ends_with("FORCE = TRUE"),
            "{}",
            replay[0]
        );
    }

    #[test]
    fn copy_refuses_paths_outside_the_object_or_with_quotes() {
        for bad in [
            "APBILL/b/part-1.parquet",
            "VENDOR/b/x'); DROP TABLE t; --.parquet",
            "VENDOR/../x.parquet",
        ] {
            assert!(
                matches!(
                    copy_into(&names(), "VENDOR", &[bad.to_owned()], false),
                    Err(Error::InvalidRequest(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn merge_dedups_by_key_and_guards_by_change_time() {
        let sql = merge(
            &names(),
            &MergeSpec {
                schema: &vendor(),
                rows_batch_id: "b'1",
                delete_key: None,
                keys: &BatchKeys::default(),
            },
        )
        .unwrap();
        let text = sql.as_str();
        assert!(
            text.starts_with("MERGE INTO \"INTACCT\".\"RAW\".\"VENDOR\" t"),
            "{text}"
        );
        assert!(
            text.contains("WHERE b.\"_BATCH_ID\" = 'b''1' AND b.\"RECORDNO\" IS NOT NULL"),
            "{text}"
        );
        assert!(text.contains("QUALIFY ROW_NUMBER() OVER (PARTITION BY u.\"RECORDNO\" ORDER BY COALESCE(u.\"WHENMODIFIED\", u.\"WHENCREATED\") DESC NULLS LAST, u.\"_DELETED\" DESC, u.\"_EXTRACTED_AT\" DESC) = 1"), "{text}");
        assert!(text.contains("WHEN MATCHED AND NOT s.\"_DELETED\" AND (COALESCE(s.\"WHENMODIFIED\", s.\"WHENCREATED\") > COALESCE(t.\"WHENMODIFIED\", t.\"WHENCREATED\")"), "{text}");
        assert!(!text.contains("SELECT *"));
        assert!(!text.contains("UNION"));
    }

    #[test]
    fn merge_expands_tombstones_named_by_another_column() {
        let sql = merge(
            &names(),
            &MergeSpec {
                schema: &vendor(),
                rows_batch_id: "b1",
                delete_key: Some("VENDORID"),
                keys: &BatchKeys::default(),
            },
        )
        .unwrap();
        let text = sql.as_str();
        assert!(text.contains("UNION ALL SELECT k.\"RECORDNO\" AS \"RECORDNO\", d.\"VENDORID\" AS \"VENDORID\", NULL AS \"WHENCREATED\", d.\"WHENMODIFIED\" AS \"WHENMODIFIED\", d.\"_BATCH_ID\" AS \"_BATCH_ID\", d.\"_EXTRACTED_AT\" AS \"_EXTRACTED_AT\", TRUE AS \"_DELETED\""), "{text}");
        assert!(
            text.contains(
                "FROM \"INTACCT\".\"RAW\".\"VENDOR\" WHERE \"VENDORID\" IS NOT NULL UNION SELECT"
            ),
            "{text}"
        );
        assert!(
            text.contains("AND d.\"RECORDNO\" IS NULL AND d.\"_DELETED\""),
            "{text}"
        );
        let missing = merge(
            &names(),
            &MergeSpec {
                schema: &vendor(),
                rows_batch_id: "b1",
                delete_key: Some("NOPE"),
                keys: &BatchKeys::default(),
            },
        )
        .unwrap_err();
        assert!(matches!(missing, Error::Schema { .. }), "{missing}");
    }

    #[test]
    fn merge_on_a_configured_key_and_watermark_field() {
        let keys = BatchKeys {
            key: "VENDORID".into(),
            watermark_field: "WHENCREATED".into(),
        };
        // VENDOR's tombstones carry VENDORID: with VENDORID as the key they match directly.
        let sql = merge(
            &names(),
            &MergeSpec {
                schema: &vendor(),
                rows_batch_id: "b1",
                delete_key: Some("VENDORID"),
                keys: &keys,
            },
        )
        .unwrap();
        let text = sql.as_str();
        assert!(
            text.contains("ON t.\"VENDORID\" = s.\"VENDORID\""),
            "{text}"
        );
        assert!(text.contains("AND b.\"VENDORID\" IS NOT NULL"), "{text}");
        assert!(
            text.contains("PARTITION BY u.\"VENDORID\" ORDER BY COALESCE(u.\"WHENCREATED\""),
            "{text}"
        );
        assert!(!text.contains("UNION"), "{text}");
        assert!(text.contains("\"RECORDNO\" = s.\"RECORDNO\""), "{text}");
        // Tombstones that carry RECORDNO are expanded to the VENDORIDs of those records.
        let sql = merge(
            &names(),
            &MergeSpec {
                schema: &vendor(),
                rows_batch_id: "b1",
                delete_key: None,
                keys: &keys,
            },
        )
        .unwrap();
        let text = sql.as_str();
        assert!(
            text.contains(
                "UNION ALL SELECT d.\"RECORDNO\" AS \"RECORDNO\", k.\"VENDORID\" AS \"VENDORID\""
            ),
            "{text}"
        );
        assert!(
            text.contains("ON k.\"RECORDNO\" = d.\"RECORDNO\""),
            "{text}"
        );
    }

    #[test]
    fn cleanup_deletes_by_batch_never_truncates() {
        let sql = delete_staged(&names(), "VENDOR", "b1").unwrap();
        assert_eq!(
            sql.as_str(),
            "DELETE FROM \"INTACCT\".\"RAW\".\"VENDOR_STG\" WHERE \"_BATCH_ID\" = 'b1'"
        );
    }

    #[test]
    fn the_count_reads_one_batch_of_staging() {
        let sql = count_staged(&names(), "VENDOR", "b'1").unwrap();
        assert_eq!(
            sql.as_str(),
            "SELECT COUNT(*) AS ROWS_STAGED FROM \"INTACCT\".\"RAW\".\"VENDOR_STG\" WHERE \"_BATCH_ID\" = 'b''1'"
        );
    }
}
