//! The Snowflake names one pipeline uses: database, schema, external stage, file format, and
//! per object its target table `<OBJECT>` and staging table `<OBJECT>_STG`. Every name is a
//! checked [`Ident`], so everything built from them is quoted.

use super::sql::{Ident, Literal, Sql};
use crate::error::Result;

/// Which of an object's two tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableRole {
    /// `<OBJECT>`: the merged, queryable table.
    Target,
    /// `<OBJECT>_STG`: transient, persistent staging that COPY loads into.
    Staging,
    /// `<OBJECT>__RESET`: where `reset` rebuilds the object before swapping it in.
    Reset,
}

/// The name of one of an object's tables: `<OBJECT>` or `<OBJECT>_STG`.
pub(super) fn table_name(object: &str, role: TableRole) -> String {
    match role {
        TableRole::Target => object.to_owned(),
        TableRole::Staging => format!("{object}_STG"),
        TableRole::Reset => format!("{object}__RESET"),
    }
}

/// The names of one pipeline's Snowflake objects.
#[derive(Clone, Debug)]
pub struct Names {
    /// The database.
    pub database: Ident,
    /// The schema in it.
    pub schema: Ident,
    /// The external stage.
    pub stage: Ident,
    /// The Parquet file format.
    pub file_format: Ident,
}

impl Names {
    /// Checks every name, each upper-cased as an unquoted identifier is.
    pub fn new(database: &str, schema: &str, stage: &str, file_format: &str) -> Result<Names> {
        Names::stored(
            &database.to_uppercase(),
            &schema.to_uppercase(),
            &stage.to_uppercase(),
            &file_format.to_uppercase(),
        )
    }

    /// Checks every name, each kept exactly as Snowflake stores it (what a pipeline's settings
    /// hold: unquoted names upper-cased, quoted ones as written).
    pub fn stored(database: &str, schema: &str, stage: &str, file_format: &str) -> Result<Names> {
        Ok(Names {
            database: Ident::exact(database)?,
            schema: Ident::exact(schema)?,
            stage: Ident::exact(stage)?,
            file_format: Ident::exact(file_format)?,
        })
    }

    /// `"DATABASE"."SCHEMA"."NAME"`.
    pub fn qualified(&self, name: &Ident) -> Sql {
        Sql::join([self.database.sql(), self.schema.sql(), name.sql()], ".")
    }

    /// `DATABASE.SCHEMA.NAME` as a string literal (what `FORMAT_NAME = '…'` takes): plain
    /// parts as they are, any other part double-quoted.
    pub fn qualified_literal(&self, name: &Ident) -> Result<Literal> {
        Literal::new(&self.qualified_written(name))
    }

    /// `DATABASE.SCHEMA.NAME` as a person writes it (for messages).
    pub fn qualified_written(&self, name: &Ident) -> String {
        format!(
            "{}.{}.{}",
            self.database.written(),
            self.schema.written(),
            name.written()
        )
    }

    /// `DATABASE.SCHEMA` as a person writes it (for messages).
    pub fn schema_written(&self) -> String {
        format!("{}.{}", self.database.written(), self.schema.written())
    }

    /// The qualified name of one of an object's tables.
    pub fn table(&self, object: &str, role: TableRole) -> Result<Sql> {
        Ok(self.qualified(&Ident::new(&table_name(object, role))?))
    }

    /// The qualified name of a view or table that is not an object's.
    pub fn other(&self, name: &str) -> Result<Sql> {
        Ok(self.qualified(&Ident::new(name)?))
    }
}
