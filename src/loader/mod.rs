//! The load half: staged batches into Snowflake through the SQL API.
//!
//! * `sql` — the renderer: each `sql/*.sql` template holds its whole statement, filled with
//!   typed values (checked identifiers, escaped literals, lists, optional and repeated
//!   sections), never concatenation;
//! * `names` — the pipeline's database, schema, stage, file format and table names;
//! * `ddl` — tables from persisted batch schemas, schema evolution, file format, stage;
//! * `statements` — COPY, MERGE and cleanup of one batch;
//! * `views` — the finance team's reporting views;
//! * `runs` — the run history table `_INTACCT_RUNS` and the MERGE that records a command;
//! * `checks` — the read-only statements `check` sends;
//! * `load` — the per-batch state machine over the manifest (COPY → check → MERGE →
//!   cleanup → loaded), resumable at any step.
//!
//! Everything but `load` and [`init`] is pure.

pub(crate) mod checks;
pub(crate) mod ddl;
#[cfg(test)]
mod golden;
mod load;
mod names;
pub(crate) mod runs;
pub(crate) mod sql;
pub(crate) mod statements;
pub(crate) mod views;

use std::collections::BTreeSet;

use crate::error::Result;
use crate::manifest::ManifestState;
use crate::manifest::schemas::{self, BatchSchema};
use crate::snowflake::{SnowflakeClient, Statement};
use crate::stage::Stage;

pub use ddl::create_table;
pub use load::{BatchLoadReport, LoadContext, LoadObserver, load_batches, pending_batches};
pub use names::{Names, TableRole};
pub use runs::{RUNS_TABLE, RunRow};
pub use sql::Sql;
pub use statements::copy_into;

/// Where Snowflake reads the stage.
#[derive(Clone, Debug)]
pub struct ExternalStage {
    /// `s3://bucket/prefix/` or `file:///abs/dir/`.
    pub url: String,
    /// The storage integration (S3 stages).
    pub storage_integration: Option<String>,
    /// Send `CREATE DATABASE IF NOT EXISTS` first.
    pub create_database: bool,
}

/// Every persisted schema of every object the manifest knows (or of `objects`), per object in
/// the order its batches were created: what `init` and `sql` build tables from.
pub async fn known_schemas(
    stage: &Stage,
    state: &ManifestState,
    objects: Option<&[String]>,
) -> Result<Vec<BatchSchema>> {
    let mut seen = BTreeSet::new();
    let mut batches: Vec<_> = state
        .batches
        .values()
        .filter(|b| objects.is_none_or(|only| only.iter().any(|o| o == &b.object)))
        .collect();
    batches.sort_by_key(|b| b.created_version);
    // A held schema change is applied by its batch's load once accepted, never by `init`.
    batches.retain(|b| !b.schema_held || b.schema_accepted);
    let mut out = Vec::new();
    for batch in batches {
        if seen.insert((batch.object.clone(), batch.schema_fingerprint.clone())) {
            match schemas::load(stage, &batch.object, &batch.schema_fingerprint).await {
                Ok(schema) => out.push(schema),
                // A batch that never reached its schema write (a crash before creation) has
                // nothing to load, so nothing to create.
                Err(error) if batch.status == crate::manifest::BatchStatus::Failed => {
                    tracing::debug!(batch_id = %batch.batch_id, %error, "failed batch without a schema");
                }
                Err(error) => return Err(error),
            }
        }
    }
    Ok(out)
}

/// The one-time DDL, in order: database (when asked), schema, file format, external stage,
/// the run history table.
pub fn setup_statements(names: &Names, stage: &ExternalStage) -> Result<Vec<Sql>> {
    let database = stage
        .create_database
        .then(|| ddl::create_database(names))
        .transpose()?;
    Ok(database
        .into_iter()
        .chain([
            ddl::create_schema(names)?,
            ddl::file_format(names)?,
            ddl::external_stage(names, &stage.url, stage.storage_integration.as_deref())?,
            runs::create_table(names)?,
        ])
        .collect())
}

/// Applies the DDL idempotently: schema, file format, stage, every object's tables as the
/// stage's schemas describe them (created or evolved), and the reporting views whose tables
/// exist. Safe to re-run at any time, including between a crash and its resume: data tables
/// are never replaced. Returns the statements sent.
pub async fn init(
    ctx: &LoadContext,
    stage: &ExternalStage,
    schemas_in_order: &[BatchSchema],
) -> Result<Vec<String>> {
    let mut sent = Vec::new();
    for sql in setup_statements(&ctx.names, stage)? {
        execute_ddl(&ctx.client, &ctx.pipeline, &sql).await?;
        sent.push(sql.to_string());
    }
    let mut tables = load::read_catalog(&ctx.client, &ctx.names, &ctx.pipeline).await?;
    for schema in schemas_in_order {
        for sql in ddl::table_statements(&ctx.names, schema, &tables)? {
            execute_ddl(&ctx.client, &ctx.pipeline, &sql).await?;
            sent.push(sql.to_string());
        }
        ddl::remember(&mut tables, schema);
    }
    for (name, sql) in views::reporting_views(&ctx.names, |object| tables.contains_key(object))? {
        execute_ddl(&ctx.client, &ctx.pipeline, &sql).await?;
        tracing::info!(view = name, "reporting view created");
        sent.push(sql.to_string());
    }
    Ok(sent)
}

/// Creates the reporting views whose tables exist now (after a load created tables).
pub async fn ensure_views(ctx: &LoadContext) -> Result<Vec<&'static str>> {
    let tables = load::read_catalog(&ctx.client, &ctx.names, &ctx.pipeline).await?;
    let mut created = Vec::new();
    for (name, sql) in views::reporting_views(&ctx.names, |object| tables.contains_key(object))? {
        if tables.contains_key(name) {
            continue;
        }
        execute_ddl(&ctx.client, &ctx.pipeline, &sql).await?;
        created.push(name);
    }
    Ok(created)
}

async fn execute_ddl(client: &SnowflakeClient, pipeline: &str, sql: &Sql) -> Result<()> {
    client
        .execute(&Statement::new(
            sql.to_string(),
            format!("intacct-snowflake:{pipeline}:init"),
        ))
        .await?;
    Ok(())
}
