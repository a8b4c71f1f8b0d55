//! The statements that load one batch: `COPY INTO` the staging table (the manifest's files,
//! chunked at [`FILES_PER_COPY`]), `MERGE` into the target, `DELETE` the batch's staging rows.
//! Pure: a batch's facts in, rendered statements out; the number of statements depends only on
//! the number of files divided by 1,000, never on rows.

use super::names::{Names, TableRole};
use super::sql::{Ident, Literal, Sql, render};
use crate::error::{Error, Result};
use crate::manifest::BatchKeys;
use crate::manifest::schemas::{BatchSchema, ColumnType};

/// Snowflake's limit on the names in one `FILES = (…)` list.
pub(crate) const FILES_PER_COPY: usize = 1000;

const COPY: &str = include_str!("../../sql/copy_into_staging.sql");
const MERGE: &str = include_str!("../../sql/merge_from_staging.sql");
const DELETE: &str = include_str!("../../sql/delete_staged_batch.sql");

/// The `COPY INTO` statements of one batch: one per `FILES_PER_COPY` files, in order.
///
/// `files` are stage-relative paths (`<OBJECT>/<batch_id>/part-00001.parquet`), all under the
/// object's directory. `force` reloads files Snowflake has loaded before (replays only).
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
                    Ok(Literal::new(Sql::stage_path(relative)?.as_str())?.sql())
                })
                .collect::<Result<Vec<Sql>>>()?;
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
                    ("files", Sql::join(listed, ", ").into()),
                    (
                        "file_format",
                        names.qualified_literal(&names.file_format)?.into(),
                    ),
                    (
                        "force",
                        Sql::trusted(if force { "TRUE" } else { "FALSE" }).into(),
                    ),
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

/// The MERGE of one batch from staging into the target table.
pub(crate) fn merge(names: &Names, spec: &MergeSpec<'_>) -> Result<Sql> {
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
    // Tombstones that carry the merge key match directly; any other column they carry is
    // expanded to the keys of the records that have it.
    let tombstone_key = spec.delete_key.unwrap_or(crate::schema::RECORD_NO_COLUMN);
    let delete_key = (tombstone_key != spec.keys.key).then_some(tombstone_key);
    let batch_col = require(crate::schema::BATCH_ID_COLUMN)?;
    let extracted = require(crate::schema::EXTRACTED_AT_COLUMN)?;
    let deleted = require(crate::schema::DELETED_COLUMN)?;
    let creation = ["AUWHENCREATED", "WHENCREATED"]
        .into_iter()
        .find_map(|name| {
            schema
                .column(name)
                .filter(|c| c.column_type == ColumnType::Timestamp)
        });
    let creation = creation.map(|c| Ident::new(&c.name)).transpose()?;
    let change_time = |alias: &'static str| -> Sql {
        let m = qualify(alias, &modified);
        match &creation {
            Some(c) => Sql::join(
                [
                    Sql::trusted("COALESCE("),
                    m,
                    Sql::trusted(", "),
                    qualify(alias, c),
                    Sql::trusted(")"),
                ],
                "",
            ),
            None => m,
        }
    };
    let columns: Vec<Ident> = schema
        .columns
        .iter()
        .map(|c| Ident::new(&c.name))
        .collect::<Result<_>>()?;
    let staging = names.table(object, TableRole::Staging)?;
    let target = names.table(object, TableRole::Target)?;
    let batch_literal = Literal::new(spec.rows_batch_id)?.sql();
    let list = |alias: Option<&'static str>| -> Sql {
        Sql::join(
            columns.iter().map(|c| match alias {
                Some(a) => qualify(a, c),
                None => c.sql(),
            }),
            ", ",
        )
    };
    let in_batch = |alias: &'static str| -> Sql {
        Sql::join(
            [
                qualify(alias, &batch_col),
                Sql::trusted(" = "),
                batch_literal.clone(),
            ],
            "",
        )
    };
    let keyed = Sql::join(
        [
            Sql::trusted("SELECT "),
            list(Some("b")),
            Sql::trusted(" FROM "),
            staging.clone(),
            Sql::trusted(" b WHERE "),
            in_batch("b"),
            Sql::trusted(" AND "),
            qualify("b", &key),
            Sql::trusted(" IS NOT NULL"),
        ],
        "",
    );
    let rows = match delete_key {
        None => keyed,
        Some(delete_key) => {
            let dk = require(delete_key)?;
            let expanded_columns = Sql::join(
                columns.iter().map(|c| {
                    let value = if *c == key {
                        qualify("k", &key)
                    } else if [&dk, &modified, &batch_col, &extracted].contains(&c) {
                        qualify("d", c)
                    } else if *c == deleted {
                        Sql::trusted("TRUE")
                    } else {
                        Sql::trusted("NULL")
                    };
                    Sql::join([value, Sql::trusted(" AS "), c.sql()], "")
                }),
                ", ",
            );
            let known = Sql::join(
                [
                    Sql::trusted("SELECT "),
                    key.sql(),
                    Sql::trusted(", "),
                    dk.sql(),
                    Sql::trusted(" FROM "),
                    target.clone(),
                    Sql::trusted(" WHERE "),
                    dk.sql(),
                    Sql::trusted(" IS NOT NULL UNION SELECT "),
                    key.sql(),
                    Sql::trusted(", "),
                    dk.sql(),
                    Sql::trusted(" FROM "),
                    staging.clone(),
                    Sql::trusted(" WHERE "),
                    batch_col.sql(),
                    Sql::trusted(" = "),
                    batch_literal.clone(),
                    Sql::trusted(" AND "),
                    key.sql(),
                    Sql::trusted(" IS NOT NULL AND "),
                    dk.sql(),
                    Sql::trusted(" IS NOT NULL"),
                ],
                "",
            );
            Sql::join(
                [
                    keyed,
                    Sql::trusted(" UNION ALL SELECT "),
                    expanded_columns,
                    Sql::trusted(" FROM "),
                    staging.clone(),
                    Sql::trusted(" d JOIN ("),
                    known,
                    Sql::trusted(") k ON "),
                    qualify("k", &dk),
                    Sql::trusted(" = "),
                    qualify("d", &dk),
                    Sql::trusted(" WHERE "),
                    in_batch("d"),
                    Sql::trusted(" AND "),
                    qualify("d", &key),
                    Sql::trusted(" IS NULL AND "),
                    qualify("d", &deleted),
                ],
                "",
            )
        }
    };
    let source = Sql::join(
        [
            Sql::trusted("SELECT "),
            list(Some("u")),
            Sql::trusted(" FROM ("),
            rows,
            Sql::trusted(") u QUALIFY ROW_NUMBER() OVER (PARTITION BY "),
            qualify("u", &key),
            Sql::trusted(" ORDER BY "),
            change_time("u"),
            Sql::trusted(" DESC NULLS LAST, "),
            qualify("u", &deleted),
            Sql::trusted(" DESC, "),
            qualify("u", &extracted),
            Sql::trusted(" DESC) = 1"),
        ],
        "",
    );
    let (ct_s, ct_t) = (change_time("s"), change_time("t"));
    let not_deleted_t = Sql::join(
        [
            Sql::trusted("NOT COALESCE("),
            qualify("t", &deleted),
            Sql::trusted(", FALSE)"),
        ],
        "",
    );
    // `s` is newer than `t`: a later change time, or no change time on the target, or the same
    // instant and `tie` (a tombstone wins a tie over a live row; a live row re-read at the
    // same instant wins only when it was extracted later).
    let newer_or_tie = |tie: Sql| {
        Sql::join(
            [
                ct_s.clone(),
                Sql::trusted(" > "),
                ct_t.clone(),
                Sql::trusted(" OR "),
                ct_t.clone(),
                Sql::trusted(" IS NULL OR ("),
                ct_s.clone(),
                Sql::trusted(" = "),
                ct_t.clone(),
                Sql::trusted(" AND "),
                tie,
                Sql::trusted(")"),
            ],
            "",
        )
    };
    let tombstone_newer = newer_or_tie(not_deleted_t.clone());
    let newer = newer_or_tie(Sql::join(
        [
            qualify("s", &extracted),
            Sql::trusted(" > "),
            qualify("t", &extracted),
            Sql::trusted(" AND "),
            not_deleted_t,
        ],
        "",
    ));
    let assign = |c: &Ident, value: Sql| Sql::join([c.sql(), Sql::trusted(" = "), value], "");
    let tombstone_set = Sql::join(
        [
            assign(&deleted, Sql::trusted("TRUE")),
            assign(&modified, qualify("s", &modified)),
            assign(&batch_col, qualify("s", &batch_col)),
            assign(&extracted, qualify("s", &extracted)),
        ],
        ", ",
    );
    let update_set = Sql::join(
        columns
            .iter()
            .filter(|c| **c != key)
            .map(|c| assign(c, qualify("s", c))),
        ", ",
    );
    render(
        "merge_from_staging.sql",
        MERGE,
        &[
            ("target_table", target.into()),
            ("source", source.into()),
            ("key", key.clone().into()),
            ("tombstone_newer", tombstone_newer.into()),
            ("newer", newer.into()),
            ("tombstone_set", tombstone_set.into()),
            ("update_set", update_set.into()),
            ("insert_columns", list(None).into()),
            ("insert_values", list(Some("s")).into()),
        ],
    )
}

/// The DELETE that removes one batch's rows from staging after its MERGE.
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

fn qualify(alias: &'static str, column: &Ident) -> Sql {
    Sql::join([Sql::trusted(alias), column.sql()], ".")
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
}
