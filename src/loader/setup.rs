//! What `init` makes sure of before the tables: the database (with `create_database`), the
//! schema, the Parquet file format with the options COPY needs, and the external stage.
//!
//! A loader's role, as a careful administrator leaves it, holds USAGE on the database and the
//! schema and CREATE TABLE / VIEW / STAGE / FILE FORMAT in the schema, nothing more (the
//! README's set-up, `sql/grants.example.sql`). Snowflake checks a CREATE's privilege before it
//! looks at IF NOT EXISTS, so `CREATE SCHEMA IF NOT EXISTS` fails for that role even when the
//! schema is there. So `init` looks first (`SHOW … LIKE`, which needs no warehouse and lists
//! what the role can see) and creates only what is missing ([`Setup::create_if_missing`], the
//! one rule for every kind of object). A create Snowflake refuses for privileges (`003001`)
//! becomes [`Error::SnowflakeSetup`] naming the object and the `GRANT … TO ROLE …` an
//! administrator runs.
//!
//! A file format that exists may lack what COPY needs (`CREATE … IF NOT EXISTS` keeps it as it
//! is): it is described (`DESC FILE FORMAT`) and compared with [`FORMAT_OPTIONS`], the options
//! `sql/parquet_file_format.sql` sets. Wrong options are set with `ALTER FILE FORMAT … SET`
//! (which its owner may run); a wrong TYPE, or an ALTER refused, is an error naming the format,
//! the options and the fix. A stage that exists must read the pipeline's stage URL.

use super::names::Names;
use super::sql::{Ident, Literal, Part, Sql, render};
use super::{ExternalStage, ddl};
use crate::error::{Error, Result};
use crate::snowflake::{SnowflakeClient, Statement, StatementOutcome, identifier_as_written};

const SHOW_OBJECTS: &str = include_str!("../../sql/show_objects.sql");
const DESCRIBE_FILE_FORMAT: &str = include_str!("../../sql/describe_file_format.sql");
const ALTER_FILE_FORMAT: &str = include_str!("../../sql/alter_file_format.sql");

/// The options the loader's COPY needs of its file format, as `DESC FILE FORMAT` shows them:
/// exactly what `sql/parquet_file_format.sql` creates it with. Without `USE_LOGICAL_TYPE =
/// TRUE`, Parquet timestamps load as their raw integers.
pub(crate) const FORMAT_OPTIONS: &[(&str, &str)] = &[
    ("TYPE", "PARQUET"),
    ("USE_LOGICAL_TYPE", "TRUE"),
    ("BINARY_AS_TEXT", "FALSE"),
];

/// What the loader's role needs in the schema, as the README's set-up grants it.
const SCHEMA_PRIVILEGES: &str = "CREATE TABLE, CREATE VIEW, CREATE STAGE, CREATE FILE FORMAT";

/// A kind of object `init` may create.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectKind {
    /// The pipeline's database (only with `snowflake.create_database`).
    Database,
    /// The pipeline's schema.
    Schema,
    /// The Parquet file format.
    FileFormat,
    /// The external stage.
    Stage,
    /// A table in the schema.
    Table,
    /// A view in the schema.
    View,
}

impl ObjectKind {
    /// What SHOW lists them as.
    fn plural(self) -> &'static str {
        match self {
            ObjectKind::Database => "DATABASES",
            ObjectKind::Schema => "SCHEMAS",
            ObjectKind::FileFormat => "FILE FORMATS",
            ObjectKind::Stage => "STAGES",
            ObjectKind::Table => "TABLES",
            ObjectKind::View => "VIEWS",
        }
    }

    /// How a message names one.
    fn noun(self) -> &'static str {
        match self {
            ObjectKind::Database => "database",
            ObjectKind::Schema => "schema",
            ObjectKind::FileFormat => "file format",
            ObjectKind::Stage => "stage",
            ObjectKind::Table => "table",
            ObjectKind::View => "view",
        }
    }

    /// The privilege creating one needs in the schema (objects of the schema only).
    fn schema_privilege(self) -> Option<&'static str> {
        match self {
            ObjectKind::Database | ObjectKind::Schema => None,
            ObjectKind::FileFormat => Some("CREATE FILE FORMAT"),
            ObjectKind::Stage => Some("CREATE STAGE"),
            ObjectKind::Table => Some("CREATE TABLE"),
            ObjectKind::View => Some("CREATE VIEW"),
        }
    }
}

/// Whether [`Setup::create_if_missing`] found the object or made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    /// It was there: nothing was sent.
    Existed,
    /// It was missing and was created.
    Created,
}

/// `SHOW <KIND>S LIKE '<name>' [IN DATABASE "D" | IN SCHEMA "D"."S"]`.
pub(crate) fn show(names: &Names, kind: ObjectKind, name: &Ident) -> Result<Sql> {
    let scope = match kind {
        ObjectKind::Database => None,
        ObjectKind::Schema => Some(Sql::join(
            [Sql::trusted("DATABASE"), names.database.sql()],
            " ",
        )),
        _ => Some(Sql::join(
            [
                Sql::trusted("SCHEMA"),
                Sql::join([names.database.sql(), names.schema.sql()], "."),
            ],
            " ",
        )),
    };
    let mut bindings: Vec<(&str, Part)> = vec![
        ("objects", Sql::trusted(kind.plural()).into()),
        ("name", Literal::new(name.name())?.into()),
        ("scoped", scope.is_some().into()),
    ];
    if let Some(scope) = scope {
        bindings.push(("scope", scope.into()));
    }
    render("show_objects.sql", SHOW_OBJECTS, &bindings)
}

/// `DESC FILE FORMAT` of the pipeline's format.
pub(crate) fn describe_file_format(names: &Names) -> Result<Sql> {
    render(
        "describe_file_format.sql",
        DESCRIBE_FILE_FORMAT,
        &[("file_format", names.qualified(&names.file_format).into())],
    )
}

/// `ALTER FILE FORMAT … SET` of `options` (taken from [`FORMAT_OPTIONS`]).
fn alter_file_format(names: &Names, options: &[(&'static str, &'static str)]) -> Result<Sql> {
    let items = options
        .iter()
        .map(|(option, value)| {
            vec![
                ("option", Sql::trusted(option).into()),
                ("value", Sql::trusted(value).into()),
            ]
        })
        .collect();
    render(
        "alter_file_format.sql",
        ALTER_FILE_FORMAT,
        &[
            ("file_format", names.qualified(&names.file_format).into()),
            ("options", Part::Each(items)),
        ],
    )
}

/// One of [`FORMAT_OPTIONS`] a described format does not have as needed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WrongOption {
    /// The option (`USE_LOGICAL_TYPE`).
    pub(crate) option: &'static str,
    /// What the loader needs (`TRUE`).
    pub(crate) wanted: &'static str,
    /// What the format has; `None` when `DESC FILE FORMAT` does not list it.
    pub(crate) found: Option<String>,
}

/// The [`FORMAT_OPTIONS`] a `DESC FILE FORMAT` answer (`(property, property_value)` rows)
/// does not show as needed.
pub(crate) fn wrong_format_options(described: &[(String, Option<String>)]) -> Vec<WrongOption> {
    FORMAT_OPTIONS
        .iter()
        .filter_map(|(option, wanted)| {
            let found = described
                .iter()
                .find(|(property, _)| property.eq_ignore_ascii_case(option))
                .and_then(|(_, value)| value.clone());
            match &found {
                Some(value) if value.trim().eq_ignore_ascii_case(wanted) => None,
                _ => Some(WrongOption {
                    option,
                    wanted,
                    found,
                }),
            }
        })
        .collect()
}

/// A stage URL as compared: no surrounding brackets or quotes, no trailing `/`, the scheme in
/// lower case.
fn comparable_url(url: &str) -> String {
    let trimmed = url
        .trim()
        .trim_start_matches(['[', '"'])
        .trim_end_matches([']', '"'])
        .trim_end_matches('/');
    match trimmed.split_once("://") {
        Some((scheme, rest)) => format!("{}://{rest}", scheme.to_ascii_lowercase()),
        None => trimmed.to_owned(),
    }
}

/// `init`'s view of the account: the client, the pipeline's names, and what to tell an
/// administrator when the role lacks a grant.
pub struct Setup<'a> {
    client: &'a SnowflakeClient,
    names: &'a Names,
    pipeline: &'a str,
    advice: Advice<'a>,
}

impl<'a> Setup<'a> {
    /// For `client` (whose role grants are named for) and `names`.
    pub fn new(client: &'a SnowflakeClient, names: &'a Names, pipeline: &'a str) -> Setup<'a> {
        Setup {
            client,
            names,
            pipeline,
            advice: Advice::new(names, client.role()),
        }
    }

    /// Makes sure of the database (created only with `create_database`), the schema, the file
    /// format (with [`FORMAT_OPTIONS`]), the run history table and the stage; returns the statements that changed
    /// something (creates and alters, not the reads).
    pub async fn prepare(&self, stage: &ExternalStage) -> Result<Vec<Sql>> {
        let names = self.names;
        let mut sent = Vec::new();
        let mut note = |presence: Presence, sql: Sql| {
            if presence == Presence::Created {
                sent.push(sql);
            }
        };
        let database = ddl::create_database(names)?;
        if stage.create_database {
            let presence = self
                .create_if_missing(ObjectKind::Database, &names.database, &database)
                .await?;
            note(presence, database);
        } else if self
            .find(ObjectKind::Database, &names.database)
            .await?
            .is_none()
        {
            return Err(self.advice.missing_database());
        }
        let schema = ddl::create_schema(names)?;
        let presence = self
            .create_if_missing(ObjectKind::Schema, &names.schema, &schema)
            .await?;
        note(presence, schema);
        let format = ddl::file_format(names)?;
        let presence = self
            .create_if_missing(ObjectKind::FileFormat, &names.file_format, &format)
            .await?;
        note(presence, format);
        // The run history: every command records itself there at its end.
        let runs = super::runs::create_table(names)?;
        let presence = self
            .create_if_missing(
                ObjectKind::Table,
                &Ident::exact(super::runs::RUNS_TABLE)?,
                &runs,
            )
            .await?;
        note(presence, runs);
        if let Some(alter) = self.fix_file_format().await? {
            sent.push(alter);
        }
        sent.extend(self.ensure_stage(stage).await?);
        Ok(sent)
    }

    /// Creates an object with `create` unless `SHOW … LIKE` finds it. A create Snowflake
    /// refuses for privileges is an [`Error::SnowflakeSetup`] naming the grant it needs. The
    /// one rule for every object `init` makes.
    pub async fn create_if_missing(
        &self,
        kind: ObjectKind,
        name: &Ident,
        create: &Sql,
    ) -> Result<Presence> {
        if self.find(kind, name).await?.is_some() {
            tracing::info!(object = %self.advice.written(kind, name), "exists; kept as it is");
            return Ok(Presence::Existed);
        }
        self.execute(kind, name, create).await?;
        tracing::info!(object = %self.advice.written(kind, name), "created");
        Ok(Presence::Created)
    }

    /// Runs one DDL statement about an object of `kind`; a refusal for privileges names the
    /// grant.
    pub async fn execute(&self, kind: ObjectKind, name: &Ident, sql: &Sql) -> Result<()> {
        match self.run(sql).await {
            Ok(_) => Ok(()),
            Err(error) => Err(self.advice.refused(kind, name, error)),
        }
    }

    /// The `SHOW … LIKE` row of the object named exactly `name`, as (column, value) pairs.
    async fn find(
        &self,
        kind: ObjectKind,
        name: &Ident,
    ) -> Result<Option<Vec<(String, Option<String>)>>> {
        let outcome = self.run(&show(self.names, kind, name)?).await?;
        Ok((0..outcome.rows.len())
            .find(|&row| outcome.value(row, "name") == Some(name.name()))
            .map(|row| {
                outcome
                    .columns
                    .iter()
                    .zip(&outcome.rows[row])
                    .map(|(column, value)| (column.name.to_ascii_lowercase(), value.clone()))
                    .collect()
            }))
    }

    /// Sets the options the format lacks; `None` when it has them all.
    async fn fix_file_format(&self) -> Result<Option<Sql>> {
        let names = self.names;
        let outcome = self.run(&describe_file_format(names)?).await?;
        let described: Vec<(String, Option<String>)> = (0..outcome.rows.len())
            .filter_map(|row| {
                let property = outcome.value(row, "property")?.to_owned();
                Some((
                    property,
                    outcome.value(row, "property_value").map(str::to_owned),
                ))
            })
            .collect();
        let wrong = wrong_format_options(&described);
        if wrong.is_empty() {
            return Ok(None);
        }
        let format = names.qualified_written(&names.file_format);
        let object = format!("file format {format}");
        let found = wrong
            .iter()
            .map(|w| {
                format!(
                    "{} = {}",
                    w.option,
                    w.found.as_deref().unwrap_or("(not shown)")
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let needed = wrong
            .iter()
            .map(|w| format!("{} = {}", w.option, w.wanted))
            .collect::<Vec<_>>()
            .join(", ");
        if wrong.iter().any(|w| w.option == "TYPE") {
            return Err(Error::SnowflakeSetup {
                object,
                message: format!(
                    "exists with {found}, and the loader's COPY needs {needed}. A format's type cannot be altered: its owner drops it (DROP FILE FORMAT {format};) and `init` creates it again, or name another format in snowflake.file_format"
                ),
            });
        }
        let options: Vec<(&'static str, &'static str)> =
            wrong.iter().map(|w| (w.option, w.wanted)).collect();
        let alter = alter_file_format(names, &options)?;
        match self.run(&alter).await {
            Ok(_) => {
                tracing::warn!(file_format = %format, was = %found, now = %needed, "file format lacked options the loader needs; altered");
                Ok(Some(alter))
            }
            Err(Error::Statement { code, message, .. }) if code == "003001" => {
                Err(Error::SnowflakeSetup {
                    object,
                    message: format!(
                        "exists with {found}, and the loader's COPY needs {needed} (without USE_LOGICAL_TYPE = TRUE, Parquet timestamps load as raw integers); the role {} may not alter it ({code}: {}). Its owner runs: {alter}; (or name another format in snowflake.file_format, which `init` then creates)",
                        self.advice.role,
                        one_line(&message),
                    ),
                })
            }
            Err(other) => Err(other),
        }
    }

    /// Creates the stage when missing; one that exists must read `stage.url`.
    async fn ensure_stage(&self, stage: &ExternalStage) -> Result<Option<Sql>> {
        let names = self.names;
        let create = ddl::external_stage(names, &stage.url, stage.storage_integration.as_deref())?;
        match self.find(ObjectKind::Stage, &names.stage).await? {
            None => match self.run(&create).await {
                Ok(_) => Ok(Some(create)),
                Err(Error::Statement { code, message, .. })
                    if code == "002003" && message.contains("ntegration") =>
                {
                    Err(self.advice.integration_refused(
                        stage.storage_integration.as_deref().unwrap_or("?"),
                        &code,
                        &message,
                    ))
                }
                Err(error) => Err(self.advice.refused(ObjectKind::Stage, &names.stage, error)),
            },
            Some(row) => {
                let url = row
                    .iter()
                    .find(|(column, _)| column == "url")
                    .and_then(|(_, value)| value.as_deref());
                match url {
                    Some(url) if comparable_url(url) != comparable_url(&stage.url) => {
                        let written = names.qualified_written(&names.stage);
                        Err(Error::SnowflakeSetup {
                            object: format!("stage {written}"),
                            message: format!(
                                "exists and reads {url}, but the pipeline stages its files at {}: its owner points it there (ALTER STAGE {written} SET URL = '{}';) or drops it for `init` to create, or name another stage in snowflake.stage_name",
                                stage.url, stage.url
                            ),
                        })
                    }
                    _ => Ok(None),
                }
            }
        }
    }

    async fn run(&self, sql: &Sql) -> Result<StatementOutcome> {
        self.client
            .execute(&Statement::new(
                sql.to_string(),
                format!("intacct-snowflake:{}:init", self.pipeline),
            ))
            .await
    }
}

/// What to tell an administrator: the statements that give the loader's role what it lacks,
/// with the pipeline's names and role as written in SQL.
pub(crate) struct Advice<'a> {
    names: &'a Names,
    /// The role grants are named for: the configured one, as written in SQL.
    role: String,
}

impl<'a> Advice<'a> {
    /// For `names` and the configured role (`None`: the user's default role, unnamed).
    pub(crate) fn new(names: &'a Names, role: Option<&str>) -> Advice<'a> {
        Advice {
            names,
            role: role.map_or_else(|| "<the loader's role>".to_owned(), identifier_as_written),
        }
    }

    /// The error for a database that is not there (or not visible to the role) when `init`
    /// is not to create it.
    pub(crate) fn missing_database(&self) -> Error {
        let database = self.names.database.written();
        let role = &self.role;
        Error::SnowflakeSetup {
            object: format!("database {database}"),
            message: format!(
                "does not exist, or the role {role} has no USAGE on it. An administrator runs: CREATE DATABASE {database}; GRANT USAGE ON DATABASE {database} TO ROLE {role}; (or set snowflake.create_database = true for a role that holds CREATE DATABASE ON ACCOUNT)"
            ),
        }
    }

    /// `error` as the grant it asks for, when Snowflake refused a statement about the object
    /// for privileges (`003001`); else `error` unchanged.
    pub(crate) fn refused(&self, kind: ObjectKind, name: &Ident, error: Error) -> Error {
        let Error::Statement { code, message, .. } = &error else {
            return error;
        };
        if code != "003001" {
            return error;
        }
        let role = &self.role;
        let schema = self.names.schema_written();
        let database = self.names.database.written();
        let fix = match kind {
            ObjectKind::Database => format!(
                "An administrator creates it (CREATE DATABASE {database}; GRANT USAGE ON DATABASE {database} TO ROLE {role};) and snowflake.create_database is set to false, or grants the role: GRANT CREATE DATABASE ON ACCOUNT TO ROLE {role};"
            ),
            ObjectKind::Schema => format!(
                "An administrator creates it and grants the loader's role what it needs there: CREATE SCHEMA {schema}; GRANT USAGE ON SCHEMA {schema} TO ROLE {role}; GRANT {SCHEMA_PRIVILEGES} ON SCHEMA {schema} TO ROLE {role}; (or lets the role create schemas: GRANT CREATE SCHEMA ON DATABASE {database} TO ROLE {role};)"
            ),
            _ => format!(
                "An administrator runs: GRANT {} ON SCHEMA {schema} TO ROLE {role};",
                kind.schema_privilege().unwrap_or("USAGE")
            ),
        };
        Error::SnowflakeSetup {
            object: self.written(kind, name),
            message: format!(
                "the role {role} may not create it ({code}: {}). {fix}",
                one_line(message)
            ),
        }
    }

    /// A stage Snowflake refused because of its storage integration.
    pub(crate) fn integration_refused(
        &self,
        integration: &str,
        code: &str,
        message: &str,
    ) -> Error {
        let integration = identifier_as_written(integration);
        let role = &self.role;
        Error::SnowflakeSetup {
            object: self.written(ObjectKind::Stage, &self.names.stage),
            message: format!(
                "cannot be created: the storage integration {integration} does not exist or the role {role} may not use it ({code}: {}). An administrator creates it (see the README's Snowflake set-up) and runs: GRANT USAGE ON INTEGRATION {integration} TO ROLE {role};",
                one_line(message)
            ),
        }
    }

    /// `kind NAME`, the name qualified as a person writes it.
    pub(crate) fn written(&self, kind: ObjectKind, name: &Ident) -> String {
        let names = self.names;
        let qualified = match kind {
            ObjectKind::Database => name.written(),
            ObjectKind::Schema => format!("{}.{}", names.database.written(), name.written()),
            _ => names.qualified_written(name),
        };
        format!("{} {qualified}", kind.noun())
    }
}

/// Snowflake's message on one line (its lines joined).
fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names::stored("FINANCE", "INTACCT_RAW", "INTACCT_STAGE", "INTACCT_PARQUET").unwrap()
    }

    fn refusal(code: &str, message: &str) -> Error {
        Error::Statement {
            code: code.into(),
            sql_state: "42501".into(),
            message: message.into(),
            statement_handle: Some("h".into()),
            http_status: 422,
        }
    }

    #[test]
    fn show_names_the_kind_the_exact_name_and_where() {
        let names = names();
        let rendered = |kind, name: &str| {
            show(&names, kind, &Ident::exact(name).unwrap())
                .unwrap()
                .to_string()
        };
        assert_eq!(
            rendered(ObjectKind::Database, "FINANCE"),
            "SHOW DATABASES LIKE 'FINANCE'"
        );
        assert_eq!(
            rendered(ObjectKind::Schema, "INTACCT_RAW"),
            "SHOW SCHEMAS LIKE 'INTACCT_RAW' IN DATABASE \"FINANCE\""
        );
        assert_eq!(
            rendered(ObjectKind::FileFormat, "it's"),
            "SHOW FILE FORMATS LIKE 'it''s' IN SCHEMA \"FINANCE\".\"INTACCT_RAW\""
        );
        assert_eq!(
            rendered(ObjectKind::Stage, "INTACCT_STAGE"),
            "SHOW STAGES LIKE 'INTACCT_STAGE' IN SCHEMA \"FINANCE\".\"INTACCT_RAW\""
        );
        assert_eq!(
            describe_file_format(&names).unwrap().to_string(),
            "DESC FILE FORMAT \"FINANCE\".\"INTACCT_RAW\".\"INTACCT_PARQUET\""
        );
        assert_eq!(
            alter_file_format(
                &names,
                &[("USE_LOGICAL_TYPE", "TRUE"), ("BINARY_AS_TEXT", "FALSE")]
            )
            .unwrap()
            .to_string(),
            "ALTER FILE FORMAT \"FINANCE\".\"INTACCT_RAW\".\"INTACCT_PARQUET\" SET USE_LOGICAL_TYPE = TRUE BINARY_AS_TEXT = FALSE"
        );
    }

    #[test]
    fn the_options_checked_are_the_ones_the_format_is_created_with() {
        let created = ddl::file_format(&names()).unwrap().to_string();
        for (option, value) in FORMAT_OPTIONS {
            assert!(
                created.contains(&format!("{option} = {value}")),
                "{option} = {value} is not in {created}"
            );
        }
        assert_eq!(
            created.matches(" = ").count(),
            FORMAT_OPTIONS.len(),
            "the template sets an option the check does not know: {created}"
        );
    }

    #[test]
    fn a_described_format_is_wrong_where_it_differs_or_does_not_say() {
        let described = |rows: &[(&str, Option<&str>)]| -> Vec<(String, Option<String>)> {
            rows.iter()
                .map(|(p, v)| (p.to_string(), v.map(str::to_owned)))
                .collect()
        };
        let good = described(&[
            ("TYPE", Some("PARQUET")),
            ("BINARY_AS_TEXT", Some("FALSE")),
            ("USE_LOGICAL_TYPE", Some("true")),
            ("TRIM_SPACE", Some("FALSE")),
        ]);
        assert!(wrong_format_options(&good).is_empty());
        let bare = described(&[("TYPE", Some("PARQUET")), ("BINARY_AS_TEXT", Some("TRUE"))]);
        let wrong = |option, wanted, found: Option<&str>| WrongOption {
            option,
            wanted,
            found: found.map(str::to_owned),
        };
        assert_eq!(
            wrong_format_options(&bare),
            vec![
                wrong("USE_LOGICAL_TYPE", "TRUE", None),
                wrong("BINARY_AS_TEXT", "FALSE", Some("TRUE")),
            ]
        );
        let csv = described(&[("TYPE", Some("CSV"))]);
        assert_eq!(
            wrong_format_options(&csv)[0],
            wrong("TYPE", "PARQUET", Some("CSV"))
        );
    }

    #[test]
    fn stage_urls_compare_without_brackets_slashes_or_scheme_case() {
        assert_eq!(
            comparable_url("[\"S3://bucket/stage/\"]"),
            comparable_url("s3://bucket/stage")
        );
        assert_ne!(
            comparable_url("s3://bucket/stage/"),
            comparable_url("s3://bucket/other/")
        );
    }

    #[test]
    fn a_refused_create_names_the_grant_an_administrator_runs() {
        let names = names();
        let advice = Advice::new(&names, Some("INTACCT_LOADER"));
        let message = |kind, name: &str| {
            match advice.refused(
            kind,
            &Ident::exact(name).unwrap(),
            refusal(
                "003001",
                "SQL access control error:\nInsufficient privileges to operate on schema 'INTACCT_RAW'",
            ),
        ) {
            Error::SnowflakeSetup { object, message } => (object, message),
            other => panic!("expected a set-up error, got {other:?}"),
        }
        };
        let (object, text) = message(ObjectKind::FileFormat, "INTACCT_PARQUET");
        assert_eq!(object, "file format FINANCE.INTACCT_RAW.INTACCT_PARQUET");
        assert!(
            text.contains(
                "GRANT CREATE FILE FORMAT ON SCHEMA FINANCE.INTACCT_RAW TO ROLE INTACCT_LOADER;"
            ) && text.contains("003001: SQL access control error: Insufficient privileges"),
            "{text}"
        );
        let (object, text) = message(ObjectKind::Schema, "INTACCT_RAW");
        assert_eq!(object, "schema FINANCE.INTACCT_RAW");
        assert!(
            text.contains("GRANT CREATE SCHEMA ON DATABASE FINANCE TO ROLE INTACCT_LOADER;")
                && text.contains("CREATE SCHEMA FINANCE.INTACCT_RAW;"),
            "{text}"
        );
        let (_, text) = message(ObjectKind::Database, "FINANCE");
        assert!(
            text.contains("GRANT CREATE DATABASE ON ACCOUNT TO ROLE INTACCT_LOADER;"),
            "{text}"
        );
        for (kind, privilege) in [
            (ObjectKind::Stage, "CREATE STAGE"),
            (ObjectKind::Table, "CREATE TABLE"),
            (ObjectKind::View, "CREATE VIEW"),
        ] {
            let (_, text) = message(kind, "X");
            assert!(
                text.contains(&format!(
                    "GRANT {privilege} ON SCHEMA FINANCE.INTACCT_RAW TO ROLE INTACCT_LOADER;"
                )),
                "{text}"
            );
        }
        // Not a privilege refusal: unchanged.
        assert!(matches!(
            advice.refused(
                ObjectKind::Table,
                &Ident::exact("X").unwrap(),
                refusal("002043", "gone")
            ),
            Error::Statement { .. }
        ));
        // Names that need quotes are quoted; no role configured is said so.
        let odd = Names::stored("Finance", "raw", "S", "F").unwrap();
        let unnamed = Advice::new(&odd, None);
        match unnamed.missing_database() {
            Error::SnowflakeSetup { object, message } => {
                assert_eq!(object, "database \"Finance\"");
                assert!(
                    message.contains(
                        "GRANT USAGE ON DATABASE \"Finance\" TO ROLE <the loader's role>;"
                    ),
                    "{message}"
                );
            }
            other => panic!("expected a set-up error, got {other:?}"),
        }
    }

    /// Every privilege a message asks for is one the README's grants give (so the set-up
    /// written there is the one `init` needs), and the file grants nothing else to the role.
    #[test]
    fn the_grants_asked_for_are_the_readme_grants() {
        let grants = include_str!("../../sql/grants.example.sql");
        let schema_line = grants
            .lines()
            .find(|l| l.starts_with("GRANT CREATE") && l.contains(" ON SCHEMA "))
            .expect("a GRANT of the schema privileges");
        assert_eq!(
            schema_line,
            format!(
                "GRANT {SCHEMA_PRIVILEGES} ON SCHEMA FINANCE.INTACCT_RAW TO ROLE INTACCT_LOADER;"
            )
        );
        for kind in [
            ObjectKind::FileFormat,
            ObjectKind::Stage,
            ObjectKind::Table,
            ObjectKind::View,
        ] {
            let privilege = kind.schema_privilege().unwrap();
            assert!(
                SCHEMA_PRIVILEGES.split(", ").any(|p| p == privilege),
                "{privilege}"
            );
        }
        let mut granted: Vec<&str> = grants.lines().filter(|l| l.starts_with("GRANT ")).collect();
        granted.sort_unstable();
        assert_eq!(
            granted,
            [
                schema_line,
                "GRANT USAGE ON DATABASE FINANCE TO ROLE INTACCT_LOADER;",
                "GRANT USAGE ON INTEGRATION INTACCT_S3 TO ROLE INTACCT_LOADER;",
                "GRANT USAGE ON SCHEMA FINANCE.INTACCT_RAW TO ROLE INTACCT_LOADER;",
                "GRANT USAGE ON WAREHOUSE LOAD_WH TO ROLE INTACCT_LOADER;",
            ]
        );
        let readme = include_str!("../../pipelines/README.md");
        let statements: String = grants
            .lines()
            .filter(|l| !l.starts_with("--"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(
            readme.contains(&statements),
            "pipelines/README.md does not show sql/grants.example.sql's statements as they are"
        );
    }
}
