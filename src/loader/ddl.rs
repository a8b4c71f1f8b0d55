//! DDL from persisted batch schemas: the target and staging tables of an object, the columns
//! a new schema adds, the file format and the external stage. Pure: schemas in, statements out.
//!
//! Types map one to one from what the stage writes (see [`crate::manifest::schemas`]):
//! Int64 → `NUMBER(38,0)`, Decimal128(p,s) → `NUMBER(p,s)`, Utf8 → `VARCHAR`, Boolean →
//! `BOOLEAN`, Date32 → `DATE`, Timestamp(µs, UTC) → `TIMESTAMP_TZ`.
//!
//! Evolution only ever adds: a column the table lacks is added (`ALTER TABLE … ADD COLUMN`, to
//! staging and target); a column whose type changed is widened where Snowflake allows it
//! (`NUMBER(p,s)` to a larger precision at the same scale; `VARCHAR(n)` to a longer one) and
//! otherwise refused with an error naming object, column, old and new type; nothing is dropped.
//! Data tables are created with `CREATE … IF NOT EXISTS` only, never `CREATE OR REPLACE`.
//! Every change evolution makes to a target table is also described as a [`SchemaChange`]
//! ([`target_changes`]), which the load records in the manifest before sending the DDL.
//!
//! `reset` rebuilds an object in `<OBJECT>__RESET` (the only table created `OR REPLACE`: it
//! holds nothing until it is swapped in), then swaps it with the live table and drops the old
//! rows ([`reset_table`], [`swap_tables`], [`drop_reset_table`]).

use std::collections::BTreeMap;

use super::names::{Names, TableRole, table_name};
use super::sql::{Ident, Literal, Part, Sql, render};
use crate::error::{Error, Result};
use crate::manifest::schemas::{BatchSchema, ColumnType, SchemaChange, SchemaChangeKind};

/// A Snowflake column type, as this loader creates it or as `INFORMATION_SCHEMA` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SnowflakeType {
    /// `NUMBER(precision, scale)`.
    Number {
        /// Total digits.
        precision: u32,
        /// Fraction digits.
        scale: u32,
    },
    /// `VARCHAR`, with its length when known.
    Varchar(Option<u64>),
    /// `BOOLEAN`.
    Boolean,
    /// `DATE`.
    Date,
    /// `TIMESTAMP_TZ`.
    TimestampTz,
    /// Anything else, by its reported name.
    Other(String),
}

impl SnowflakeType {
    /// The type a persisted column is created with.
    pub(crate) fn of(column_type: ColumnType) -> SnowflakeType {
        match column_type {
            ColumnType::Integer => SnowflakeType::Number {
                precision: 38,
                scale: 0,
            },
            ColumnType::Decimal { precision, scale } => SnowflakeType::Number {
                precision: u32::from(precision),
                scale: scale.max(0) as u32,
            },
            ColumnType::Text => SnowflakeType::Varchar(None),
            ColumnType::Boolean => SnowflakeType::Boolean,
            ColumnType::Date => SnowflakeType::Date,
            ColumnType::Timestamp => SnowflakeType::TimestampTz,
        }
    }

    /// Reads an `INFORMATION_SCHEMA.COLUMNS` row's `DATA_TYPE` (with precision, scale and
    /// character length).
    pub(crate) fn from_information_schema(
        data_type: &str,
        precision: Option<u32>,
        scale: Option<u32>,
        length: Option<u64>,
    ) -> SnowflakeType {
        let upper = data_type.trim().to_ascii_uppercase();
        let base = upper.split('(').next().unwrap_or("").trim();
        match base {
            "NUMBER" | "DECIMAL" | "NUMERIC" | "INT" | "INTEGER" | "BIGINT" | "SMALLINT"
            | "TINYINT" | "BYTEINT" | "FIXED" => SnowflakeType::Number {
                precision: precision.unwrap_or(38),
                scale: scale.unwrap_or(0),
            },
            "TEXT" | "VARCHAR" | "STRING" | "CHAR" | "CHARACTER" => SnowflakeType::Varchar(length),
            "BOOLEAN" => SnowflakeType::Boolean,
            "DATE" => SnowflakeType::Date,
            "TIMESTAMP_TZ" | "TIMESTAMP WITH TIME ZONE" | "TIMESTAMPTZ" => {
                SnowflakeType::TimestampTz
            }
            _ => SnowflakeType::Other(upper),
        }
    }

    /// The type as written in DDL.
    pub(crate) fn sql(&self) -> Sql {
        match self {
            SnowflakeType::Number { precision, scale } => Sql::join(
                [
                    Sql::trusted("NUMBER("),
                    Sql::number(u64::from(*precision)),
                    Sql::trusted(","),
                    Sql::number(u64::from(*scale)),
                    Sql::trusted(")"),
                ],
                "",
            ),
            SnowflakeType::Varchar(None) => Sql::trusted("VARCHAR"),
            SnowflakeType::Varchar(Some(n)) => Sql::join(
                [Sql::trusted("VARCHAR("), Sql::number(*n), Sql::trusted(")")],
                "",
            ),
            SnowflakeType::Boolean => Sql::trusted("BOOLEAN"),
            SnowflakeType::Date => Sql::trusted("DATE"),
            SnowflakeType::TimestampTz => Sql::trusted("TIMESTAMP_TZ"),
            SnowflakeType::Other(_) => Sql::trusted("VARIANT"),
        }
    }

    fn describe(&self) -> String {
        match self {
            SnowflakeType::Other(name) => name.clone(),
            other => other.sql().to_string(),
        }
    }
}

/// A column as a table has it now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ExistingColumn {
    /// Canonical (upper-case) name.
    pub name: String,
    /// Its type.
    pub column_type: SnowflakeType,
}

const CREATE_TABLE: &str = include_str!("../../sql/create_table.sql");
const CREATE_STAGING_TABLE: &str = include_str!("../../sql/create_staging_table.sql");
const ADD_COLUMN: &str = include_str!("../../sql/add_column.sql");
const WIDEN_COLUMN: &str = include_str!("../../sql/widen_column.sql");
const FILE_FORMAT: &str = include_str!("../../sql/parquet_file_format.sql");
const EXTERNAL_STAGE: &str = include_str!("../../sql/external_stage.sql");
const EXTERNAL_STAGE_LOCAL: &str = include_str!("../../sql/external_stage_local.sql");
const CREATE_DATABASE: &str = include_str!("../../sql/create_database.sql");
const CREATE_SCHEMA: &str = include_str!("../../sql/create_schema.sql");
const TABLE_COLUMNS: &str = include_str!("../../sql/table_columns.sql");
const CREATE_RESET_TABLE: &str = include_str!("../../sql/create_reset_table.sql");
const SWAP_TABLE: &str = include_str!("../../sql/swap_table.sql");
const DROP_RESET_TABLE: &str = include_str!("../../sql/drop_reset_table.sql");

/// `CREATE DATABASE IF NOT EXISTS` for the configured database.
pub(crate) fn create_database(names: &Names) -> Result<Sql> {
    render(
        "create_database.sql",
        CREATE_DATABASE,
        &[("database", (&names.database).into())],
    )
}

/// `CREATE SCHEMA IF NOT EXISTS` for the configured database and schema.
pub(crate) fn create_schema(names: &Names) -> Result<Sql> {
    render(
        "create_schema.sql",
        CREATE_SCHEMA,
        &[
            ("database", (&names.database).into()),
            ("schema", (&names.schema).into()),
        ],
    )
}

/// The Parquet file format.
pub(crate) fn file_format(names: &Names) -> Result<Sql> {
    render(
        "parquet_file_format.sql",
        FILE_FORMAT,
        &[("file_format", names.qualified(&names.file_format).into())],
    )
}

/// The external stage over `stage_url` (with the storage integration when there is one).
pub(crate) fn external_stage(
    names: &Names,
    stage_url: &str,
    storage_integration: Option<&str>,
) -> Result<Sql> {
    let common: Vec<(&str, Part)> = vec![
        ("stage", names.qualified(&names.stage).into()),
        ("stage_url", Literal::new(stage_url)?.into()),
        ("file_format", names.qualified(&names.file_format).into()),
    ];
    match storage_integration {
        Some(integration) => {
            let mut bindings = common;
            bindings.push(("storage_integration", Ident::exact(integration)?.into()));
            render("external_stage.sql", EXTERNAL_STAGE, &bindings)
        }
        None => render("external_stage_local.sql", EXTERNAL_STAGE_LOCAL, &common),
    }
}

/// `CREATE [TRANSIENT] TABLE IF NOT EXISTS` of one table of the object, from a schema.
pub fn create_table(names: &Names, schema: &BatchSchema, role: TableRole) -> Result<Sql> {
    let columns = schema
        .columns
        .iter()
        .map(|c| {
            Ok(vec![
                ("column", Ident::new(&c.name)?.into()),
                ("column_type", SnowflakeType::of(c.column_type).sql().into()),
            ])
        })
        .collect::<Result<Vec<_>>>()?;
    let bindings = [
        ("table", names.table(&schema.object, role)?.into()),
        ("columns", Part::Each(columns)),
    ];
    match role {
        TableRole::Target => render("create_table.sql", CREATE_TABLE, &bindings),
        TableRole::Staging => render("create_staging_table.sql", CREATE_STAGING_TABLE, &bindings),
        TableRole::Reset => render("create_reset_table.sql", CREATE_RESET_TABLE, &bindings),
    }
}

/// `CREATE OR REPLACE TABLE <OBJECT>__RESET`: `schema`'s columns, then every column only the
/// live table has (`live`, its columns now), with the live table's type.
pub(crate) fn reset_table(
    names: &Names,
    schema: &BatchSchema,
    live: &[ExistingColumn],
) -> Result<Sql> {
    let mut columns = schema
        .columns
        .iter()
        .map(|c| Ok((Ident::new(&c.name)?, SnowflakeType::of(c.column_type))))
        .collect::<Result<Vec<_>>>()?;
    for column in live {
        if !columns.iter().any(|(name, _)| name.name() == column.name) {
            columns.push((Ident::new(&column.name)?, column.column_type.clone()));
        }
    }
    let columns = columns
        .into_iter()
        .map(|(column, column_type)| {
            vec![
                ("column", column.into()),
                ("column_type", column_type.sql().into()),
            ]
        })
        .collect();
    render(
        "create_reset_table.sql",
        CREATE_RESET_TABLE,
        &[
            (
                "table",
                names.table(&schema.object, TableRole::Reset)?.into(),
            ),
            ("columns", Part::Each(columns)),
        ],
    )
}

/// `ALTER TABLE <OBJECT> SWAP WITH <OBJECT>__RESET`.
pub(crate) fn swap_tables(names: &Names, object: &str) -> Result<Sql> {
    render(
        "swap_table.sql",
        SWAP_TABLE,
        &[
            ("table", names.table(object, TableRole::Target)?.into()),
            ("reset_table", names.table(object, TableRole::Reset)?.into()),
        ],
    )
}

/// `DROP TABLE IF EXISTS <OBJECT>__RESET`.
pub(crate) fn drop_reset_table(names: &Names, object: &str) -> Result<Sql> {
    render(
        "drop_reset_table.sql",
        DROP_RESET_TABLE,
        &[("reset_table", names.table(object, TableRole::Reset)?.into())],
    )
}

/// What evolving the object's target table to `schema` changes, as [`SchemaChange`]s: each
/// column added, each type widened (nothing when the table does not exist yet: creating it is
/// no change). A refused change is left to [`evolve`], which fails naming it.
pub(crate) fn target_changes(schema: &BatchSchema, tables: &TableColumns) -> Vec<SchemaChange> {
    let table = table_name(&schema.object.to_uppercase(), TableRole::Target);
    let Some(existing) = tables.get(&table) else {
        return vec![];
    };
    let mut changes = Vec::new();
    for column in &schema.columns {
        let name = column.name.to_uppercase();
        let wanted = SnowflakeType::of(column.column_type);
        let change = match existing.iter().find(|e| e.name == name) {
            None => (SchemaChangeKind::Added, None, wanted),
            Some(found) => match widening(&found.column_type, &wanted) {
                Widening::Widen(to) => (
                    SchemaChangeKind::Widened,
                    Some(found.column_type.describe()),
                    to,
                ),
                Widening::Same | Widening::Refused(_) => continue,
            },
        };
        changes.push(SchemaChange {
            object: schema.object.clone(),
            table: table.clone(),
            column: name,
            kind: change.0,
            old_type: change.1,
            new_type: change.2.describe(),
        });
    }
    changes
}

/// The statements that bring the object's staging table (alone) up to `schema`: what a
/// `reset` needs before its COPY, leaving the live table as it is.
pub(crate) fn staging_statements(
    names: &Names,
    schema: &BatchSchema,
    tables: &TableColumns,
) -> Result<Vec<Sql>> {
    match tables.get(&table_name(
        &schema.object.to_uppercase(),
        TableRole::Staging,
    )) {
        None => Ok(vec![create_table(names, schema, TableRole::Staging)?]),
        Some(existing) => evolve(names, schema, TableRole::Staging, existing),
    }
}

/// The query that lists every column of every table in the configured schema.
pub(crate) fn table_columns(names: &Names) -> Result<Sql> {
    render(
        "table_columns.sql",
        TABLE_COLUMNS,
        &[
            ("database", (&names.database).into()),
            ("schema_name", Literal::new(names.schema.name())?.into()),
        ],
    )
}

/// The statements that bring one existing table up to `schema`: columns added, widened where
/// Snowflake allows it. A narrowing or incompatible change is an error naming object, column,
/// old and new type.
pub(crate) fn evolve(
    names: &Names,
    schema: &BatchSchema,
    role: TableRole,
    existing: &[ExistingColumn],
) -> Result<Vec<Sql>> {
    let table = names.table(&schema.object, role)?;
    let mut statements = Vec::new();
    for column in &schema.columns {
        let ident = Ident::new(&column.name)?;
        let wanted = SnowflakeType::of(column.column_type);
        let Some(found) = existing.iter().find(|e| e.name == ident.name()) else {
            statements.push(render(
                "add_column.sql",
                ADD_COLUMN,
                &[
                    ("table", table.clone().into()),
                    ("column", ident.into()),
                    ("column_type", wanted.sql().into()),
                ],
            )?);
            continue;
        };
        match widening(&found.column_type, &wanted) {
            Widening::Same => {}
            Widening::Widen(to) => statements.push(render(
                "widen_column.sql",
                WIDEN_COLUMN,
                &[
                    ("table", table.clone().into()),
                    ("column", ident.into()),
                    ("column_type", to.sql().into()),
                ],
            )?),
            Widening::Refused(why) => {
                return Err(Error::Schema {
                    object: schema.object.clone(),
                    message: format!(
                        "column {} of {} is {} in Snowflake but {} in the batch's files: {why}; nothing was changed (add a new column or migrate the table by hand)",
                        ident.name(),
                        table_name(&schema.object, role),
                        found.column_type.describe(),
                        wanted.describe(),
                    ),
                });
            }
        }
    }
    Ok(statements)
}

/// Every table's columns by canonical (upper-case) table name: what `INFORMATION_SCHEMA`
/// reports, kept current with [`remember`] as DDL runs.
pub(crate) type TableColumns = BTreeMap<String, Vec<ExistingColumn>>;

/// The statements that bring the object's staging and target tables up to `schema`, given
/// the columns they have now: `CREATE … IF NOT EXISTS` for a table `tables` lacks, the
/// [`evolve`] statements for one it has.
pub(crate) fn table_statements(
    names: &Names,
    schema: &BatchSchema,
    tables: &TableColumns,
) -> Result<Vec<Sql>> {
    let mut statements = Vec::new();
    for role in [TableRole::Staging, TableRole::Target] {
        match tables.get(&table_name(&schema.object.to_uppercase(), role)) {
            None => statements.push(create_table(names, schema, role)?),
            Some(existing) => statements.extend(evolve(names, schema, role, existing)?),
        }
    }
    Ok(statements)
}

/// Records that both of the object's tables have `schema`'s columns (once its
/// [`table_statements`] ran), keeping columns only older or newer schemas have and the wider
/// of two NUMBER precisions.
pub(crate) fn remember(tables: &mut TableColumns, schema: &BatchSchema) {
    for role in [TableRole::Staging, TableRole::Target] {
        let existing = tables
            .entry(table_name(&schema.object.to_uppercase(), role))
            .or_default();
        for column in &schema.columns {
            let name = column.name.to_uppercase();
            let column_type = SnowflakeType::of(column.column_type);
            match existing.iter_mut().find(|e| e.name == name) {
                Some(found) => {
                    if let (
                        SnowflakeType::Number { precision: old, .. },
                        SnowflakeType::Number { precision: new, .. },
                    ) = (&found.column_type, &column_type)
                        && new > old
                    {
                        found.column_type = column_type;
                    }
                }
                None => existing.push(ExistingColumn { name, column_type }),
            }
        }
    }
}

enum Widening {
    Same,
    Widen(SnowflakeType),
    Refused(&'static str),
}

/// What it takes to store `wanted` values in a column of type `found`.
fn widening(found: &SnowflakeType, wanted: &SnowflakeType) -> Widening {
    use SnowflakeType as T;
    match (found, wanted) {
        (a, b) if a == b => Widening::Same,
        (
            T::Number {
                precision: p1,
                scale: s1,
            },
            T::Number {
                precision: p2,
                scale: s2,
            },
        ) => {
            if s1 != s2 {
                Widening::Refused("Snowflake cannot change the scale of a NUMBER column")
            } else if p2 <= p1 {
                Widening::Same
            } else {
                Widening::Widen(wanted.clone())
            }
        }
        // A VARCHAR of any length holds text; only a shorter declared length needs widening.
        (T::Varchar(Some(n)), T::Varchar(_)) if *n < 16_777_216 => {
            Widening::Widen(T::Varchar(Some(16_777_216)))
        }
        (T::Varchar(_), T::Varchar(_)) => Widening::Same,
        _ => Widening::Refused("the types are not compatible"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::schemas::SchemaColumn;

    fn names() -> Names {
        Names::new("INTACCT", "RAW", "INTACCT_STAGE", "INTACCT_PARQUET").unwrap()
    }

    fn schema(columns: &[(&str, ColumnType)]) -> BatchSchema {
        BatchSchema {
            object: "VENDOR".into(),
            fingerprint: "f".into(),
            columns: columns
                .iter()
                .map(|(name, t)| SchemaColumn {
                    name: (*name).into(),
                    column_type: *t,
                })
                .collect(),
        }
    }

    #[test]
    fn tables_are_created_if_missing_never_replaced() {
        let s = schema(&[
            ("RECORDNO", ColumnType::Integer),
            (
                "TOTALDUE",
                ColumnType::Decimal {
                    precision: 38,
                    scale: 10,
                },
            ),
            ("x\"; DROP TABLE y; --", ColumnType::Text),
            ("WHENMODIFIED", ColumnType::Timestamp),
            ("WHENDUE", ColumnType::Date),
            ("_DELETED", ColumnType::Boolean),
        ]);
        let target = create_table(&names(), &s, TableRole::Target).unwrap();
        assert_eq!(
            target.as_str(),
            "CREATE TABLE IF NOT EXISTS \"INTACCT\".\"RAW\".\"VENDOR\" (\n  \"RECORDNO\" NUMBER(38,0),\n  \"TOTALDUE\" NUMBER(38,10),\n  \"X\"\"; DROP TABLE Y; --\" VARCHAR,\n  \"WHENMODIFIED\" TIMESTAMP_TZ,\n  \"WHENDUE\" DATE,\n  \"_DELETED\" BOOLEAN\n)"
        );
        let staging = create_table(&names(), &s, TableRole::Staging).unwrap();
        assert!(
            staging.as_str().starts_with(
                "CREATE TRANSIENT TABLE IF NOT EXISTS \"INTACCT\".\"RAW\".\"VENDOR_STG\" ("
            ),
            "{staging}"
        );
        assert!(!target.as_str().contains("REPLACE"));
    }

    #[test]
    fn evolution_adds_and_widens_and_refuses_by_name() {
        let s = schema(&[
            ("RECORDNO", ColumnType::Integer),
            ("NAME", ColumnType::Text),
            ("NEW_FIELD", ColumnType::Boolean),
        ]);
        let existing = vec![
            ExistingColumn {
                name: "RECORDNO".into(),
                column_type: SnowflakeType::Number {
                    precision: 18,
                    scale: 0,
                },
            },
            ExistingColumn {
                name: "NAME".into(),
                column_type: SnowflakeType::Varchar(Some(100)),
            },
            ExistingColumn {
                name: "DROPPED_IN_INTACCT".into(),
                column_type: SnowflakeType::Date,
            },
        ];
        let statements: Vec<String> = evolve(&names(), &s, TableRole::Target, &existing)
            .unwrap()
            .into_iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            statements,
            [
                "ALTER TABLE \"INTACCT\".\"RAW\".\"VENDOR\" ALTER COLUMN \"RECORDNO\" SET DATA TYPE NUMBER(38,0)",
                "ALTER TABLE \"INTACCT\".\"RAW\".\"VENDOR\" ALTER COLUMN \"NAME\" SET DATA TYPE VARCHAR(16777216)",
                "ALTER TABLE \"INTACCT\".\"RAW\".\"VENDOR\" ADD COLUMN IF NOT EXISTS \"NEW_FIELD\" BOOLEAN",
            ]
        );
        let changed = vec![ExistingColumn {
            name: "NAME".into(),
            column_type: SnowflakeType::Number {
                precision: 38,
                scale: 0,
            },
        }];
        let err = evolve(&names(), &s, TableRole::Staging, &changed).unwrap_err();
        match err {
            Error::Schema { object, message } => {
                assert_eq!(object, "VENDOR");
                assert!(
                    message.contains(
                        "column NAME of VENDOR_STG is NUMBER(38,0) in Snowflake but VARCHAR"
                    ),
                    "{message}"
                );
            }
            other => panic!("expected a schema error, got {other:?}"),
        }
        let scale = vec![ExistingColumn {
            name: "RECORDNO".into(),
            column_type: SnowflakeType::Number {
                precision: 38,
                scale: 2,
            },
        }];
        assert!(matches!(
            evolve(&names(), &s, TableRole::Target, &scale),
            Err(Error::Schema { .. })
        ));
    }

    #[test]
    fn target_changes_name_each_added_and_widened_column_and_nothing_for_a_new_table() {
        let s = schema(&[
            ("RECORDNO", ColumnType::Integer),
            ("NAME", ColumnType::Text),
            ("TIER", ColumnType::Text),
        ]);
        let mut tables = TableColumns::new();
        assert_eq!(target_changes(&s, &tables), vec![]);
        tables.insert(
            "VENDOR".into(),
            vec![
                ExistingColumn {
                    name: "RECORDNO".into(),
                    column_type: SnowflakeType::Number {
                        precision: 18,
                        scale: 0,
                    },
                },
                ExistingColumn {
                    name: "NAME".into(),
                    column_type: SnowflakeType::Varchar(Some(16_777_216)),
                },
            ],
        );
        // The staging table's columns are not the target's: only VENDOR counts.
        tables.insert("VENDOR_STG".into(), vec![]);
        assert_eq!(
            target_changes(&s, &tables),
            vec![
                SchemaChange {
                    object: "VENDOR".into(),
                    table: "VENDOR".into(),
                    column: "RECORDNO".into(),
                    kind: SchemaChangeKind::Widened,
                    old_type: Some("NUMBER(18,0)".into()),
                    new_type: "NUMBER(38,0)".into(),
                },
                SchemaChange {
                    object: "VENDOR".into(),
                    table: "VENDOR".into(),
                    column: "TIER".into(),
                    kind: SchemaChangeKind::Added,
                    old_type: None,
                    new_type: "VARCHAR".into(),
                },
            ]
        );
    }

    #[test]
    fn a_reset_table_keeps_the_live_tables_other_columns_and_swaps_in_one_statement() {
        let s = schema(&[
            ("RECORDNO", ColumnType::Integer),
            ("TIER", ColumnType::Text),
        ]);
        let live = vec![
            ExistingColumn {
                name: "RECORDNO".into(),
                column_type: SnowflakeType::Number {
                    precision: 38,
                    scale: 0,
                },
            },
            ExistingColumn {
                name: "OLD_FIELD".into(),
                column_type: SnowflakeType::Date,
            },
        ];
        assert_eq!(
            reset_table(&names(), &s, &live).unwrap().as_str(),
            "CREATE OR REPLACE TABLE \"INTACCT\".\"RAW\".\"VENDOR__RESET\" (\n  \"RECORDNO\" NUMBER(38,0),\n  \"TIER\" VARCHAR,\n  \"OLD_FIELD\" DATE\n)"
        );
        assert_eq!(
            swap_tables(&names(), "VENDOR").unwrap().as_str(),
            "ALTER TABLE \"INTACCT\".\"RAW\".\"VENDOR\" SWAP WITH \"INTACCT\".\"RAW\".\"VENDOR__RESET\""
        );
        assert_eq!(
            drop_reset_table(&names(), "VENDOR").unwrap().as_str(),
            "DROP TABLE IF EXISTS \"INTACCT\".\"RAW\".\"VENDOR__RESET\""
        );
    }

    #[test]
    fn information_schema_names_map_back() {
        assert_eq!(
            SnowflakeType::from_information_schema("TEXT", None, None, Some(16_777_216)),
            SnowflakeType::Varchar(Some(16_777_216))
        );
        assert_eq!(
            SnowflakeType::from_information_schema("NUMBER", Some(38), Some(10), None),
            SnowflakeType::of(ColumnType::Decimal {
                precision: 38,
                scale: 10
            })
        );
        assert_eq!(
            SnowflakeType::from_information_schema("TIMESTAMP_TZ", None, None, None),
            SnowflakeType::TimestampTz
        );
    }
}
