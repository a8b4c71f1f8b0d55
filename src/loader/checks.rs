//! The read-only statements `check` sends: the session's role and warehouse, whether the
//! schema exists, a role's grants, and Snowflake's listing of the stage under a path.

use super::names::Names;
use super::sql::{Ident, Literal, Sql, render};
use crate::error::Result;

const SESSION: &str = include_str!("../../sql/check_session.sql");
const SCHEMA: &str = include_str!("../../sql/check_schema.sql");
const GRANTS: &str = include_str!("../../sql/check_grants.sql");
const STAGE: &str = include_str!("../../sql/check_stage.sql");

/// `SELECT CURRENT_ROLE() AS "ROLE", CURRENT_WAREHOUSE() AS "WAREHOUSE"`.
pub(crate) fn session() -> Result<Sql> {
    render("check_session.sql", SESSION, &[])
}

/// `SHOW SCHEMAS LIKE '<schema>' IN DATABASE "<database>"`.
pub(crate) fn schema(names: &Names) -> Result<Sql> {
    render(
        "check_schema.sql",
        SCHEMA,
        &[
            ("schema_name", Literal::new(names.schema.name())?.into()),
            ("database", (&names.database).into()),
        ],
    )
}

/// `SHOW GRANTS TO ROLE "<role>"`.
pub(crate) fn grants_to_role(role: &str) -> Result<Sql> {
    render(
        "check_grants.sql",
        GRANTS,
        &[("role", Ident::new(role)?.into())],
    )
}

/// `LIST @<stage>/<path>`.
pub(crate) fn list_stage(names: &Names, path: &str) -> Result<Sql> {
    render(
        "check_stage.sql",
        STAGE,
        &[
            ("stage", names.qualified(&names.stage).into()),
            ("path", Sql::stage_path(path)?.into()),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statements_name_the_pipeline_objects_quoted() {
        let names = Names::new("FINANCE", "RAW_DATA", "INTACCT_STAGE", "FMT").unwrap();
        assert_eq!(
            session().unwrap().as_str(),
            "SELECT CURRENT_ROLE() AS \"ROLE\", CURRENT_WAREHOUSE() AS \"WAREHOUSE\""
        );
        assert_eq!(
            schema(&names).unwrap().as_str(),
            "SHOW SCHEMAS LIKE 'RAW_DATA' IN DATABASE \"FINANCE\""
        );
        assert_eq!(
            grants_to_role("INTACCT_LOADER").unwrap().as_str(),
            "SHOW GRANTS TO ROLE \"INTACCT_LOADER\""
        );
        assert_eq!(
            list_stage(&names, "_check/abc.txt").unwrap().as_str(),
            "LIST @\"FINANCE\".\"RAW_DATA\".\"INTACCT_STAGE\"/_check/abc.txt"
        );
        assert!(list_stage(&names, "../x").is_err());
    }
}
