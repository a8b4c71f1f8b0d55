//! The load half: staged batches into Snowflake through the SQL API.
//!
//! * `sql` — the renderer: each `sql/*.sql` template holds its whole statement, filled with
//!   typed values (checked identifiers, escaped literals, lists, optional and repeated
//!   sections), never concatenation;
//! * `names` — the pipeline's database, schema, stage, file format and table names;
//! * `ddl` — tables from persisted batch schemas, schema evolution, file format, stage;
//! * `setup` — what `init` makes sure of first (database, schema, file format, stage): looked
//!   up before anything is created, so a role with only the grants the README lists can run
//!   it, and a create refused for privileges names the grant;
//! * `statements` — COPY, MERGE and cleanup of one batch;
//! * `views` — the finance team's reporting views;
//! * `runs` — the run history table `_INTACCT_RUNS` and the MERGE that records a command;
//! * `checks` — the read-only statements `check` sends;
//! * `load` — the per-batch state machine over the manifest (COPY → check → MERGE →
//!   cleanup → loaded), resumable at any step.
//!
//! Everything but `load`, `setup` and [`init`] is pure.

pub(crate) mod checks;
pub(crate) mod ddl;
#[cfg(test)]
mod golden;
mod load;
mod names;
pub(crate) mod runs;
mod setup;
pub(crate) mod sql;
pub(crate) mod statements;
pub(crate) mod views;

use std::collections::BTreeSet;

use crate::error::Result;
use crate::manifest::ManifestState;
use crate::manifest::schemas::{self, BatchSchema};
use crate::stage::Stage;

pub use ddl::create_table;
pub use load::{BatchLoadReport, LoadContext, LoadObserver, load_batches, pending_batches};
pub use names::{Names, TableRole};
pub use runs::{RUNS_TABLE, RunRow};
pub use setup::{ObjectKind, Presence, Setup};
pub use sql::Sql;
pub use statements::copy_into;
pub use views::ViewSkipped;

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

/// What `init` did: the statements it sent, and the reporting views it could not build.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InitOutcome {
    /// Every statement sent, in order.
    pub sent: Vec<String>,
    /// Views whose tables exist but that could not be built (a column they read is not
    /// loaded, or Snowflake refused them): warnings, never a failed `init`.
    pub views_skipped: Vec<ViewSkipped>,
}

/// Applies the DDL idempotently: the database (with `create_database`), schema, file format
/// and stage when missing (an existing format gets the options COPY needs), every object's
/// tables as the stage's schemas describe them (created or evolved), and the reporting views
/// whose tables and columns exist (replaced, keeping their grants). Safe to re-run at any
/// time, including between a crash and its resume: data tables are never replaced. A role
/// with only the grants the README lists can run it; a create Snowflake refuses for privileges
/// is an [`Error::SnowflakeSetup`](crate::error::Error::SnowflakeSetup) naming the grant (for a
/// view: a skipped view whose reason names it).
pub async fn init(
    ctx: &LoadContext,
    stage: &ExternalStage,
    schemas_in_order: &[BatchSchema],
) -> Result<InitOutcome> {
    let setup = Setup::new(&ctx.client, &ctx.names, &ctx.pipeline);
    let mut out = InitOutcome {
        sent: setup
            .prepare(stage)
            .await?
            .iter()
            .map(Sql::to_string)
            .collect(),
        ..InitOutcome::default()
    };
    let mut tables = load::read_catalog(&ctx.client, &ctx.names, &ctx.pipeline).await?;
    for schema in schemas_in_order {
        let object = sql::Ident::new(&schema.object)?;
        for sql in ddl::table_statements(&ctx.names, schema, &tables)? {
            setup.execute(ObjectKind::Table, &object, &sql).await?;
            out.sent.push(sql.to_string());
        }
        ddl::remember(&mut tables, schema);
    }
    let planned = views::plan(&ctx.names, &tables)?;
    out.views_skipped = planned.skipped;
    for (name, sql) in planned.create {
        if let Some(refused) = create_view(ctx, name, &sql).await {
            out.views_skipped.push(refused);
            continue;
        }
        tracing::info!(view = name, "reporting view created");
        out.sent.push(sql.to_string());
    }
    warn_skipped(&out.views_skipped);
    Ok(out)
}

/// What [`ensure_views`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ViewsOutcome {
    /// Views created now.
    pub created: Vec<&'static str>,
    /// Views that could not be built (see [`ViewSkipped`]).
    pub skipped: Vec<ViewSkipped>,
}

/// Creates the reporting views whose tables exist now (after a load created tables) and do
/// not have them yet. Never fails: a view that cannot be built, or a catalog that cannot be
/// read, is a warning (loading never fails because of a view).
pub async fn ensure_views(ctx: &LoadContext) -> ViewsOutcome {
    let mut out = ViewsOutcome::default();
    let planned = match load::read_catalog(&ctx.client, &ctx.names, &ctx.pipeline).await {
        Ok(tables) => views::plan(&ctx.names, &tables).map(|mut p| {
            // A view already there is left as it is (it reads columns the tables still have).
            p.create.retain(|(name, _)| !tables.contains_key(*name));
            p.skipped.retain(|v| !tables.contains_key(v.view.as_str()));
            p
        }),
        Err(error) => Err(error),
    };
    let planned = match planned {
        Ok(planned) => planned,
        Err(error) => {
            tracing::warn!(%error, "could not read the tables' columns; the reporting views are left as they are");
            return out;
        }
    };
    out.skipped = planned.skipped;
    for (name, sql) in planned.create {
        match create_view(ctx, name, &sql).await {
            Some(refused) => out.skipped.push(refused),
            None => out.created.push(name),
        }
    }
    warn_skipped(&out.skipped);
    out
}

/// Sends one view's statement; Snowflake's refusal comes back as a skipped view.
async fn create_view(ctx: &LoadContext, name: &str, sql: &Sql) -> Option<ViewSkipped> {
    // Through `Setup`, so a refusal for privileges names the grant that is missing.
    let setup = Setup::new(&ctx.client, &ctx.names, &ctx.pipeline);
    let error = match sql::Ident::new(name) {
        Ok(ident) => setup.execute(ObjectKind::View, &ident, sql).await.err()?,
        Err(error) => error,
    };
    Some(ViewSkipped {
        view: name.to_owned(),
        missing_columns: Vec::new(),
        reason: format!("Snowflake refused it: {error}"),
    })
}

fn warn_skipped(skipped: &[ViewSkipped]) {
    for view in skipped {
        tracing::warn!(view = %view.view, missing = ?view.missing_columns, reason = %view.reason, "reporting view skipped");
    }
}
