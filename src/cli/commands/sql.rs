//! `sql`: every statement `init` and a load of the staged batches would send, for review.
//! Sends nothing and needs no Snowflake connection: tables are shown as created from the
//! stage's schemas (`CREATE … IF NOT EXISTS`), which is what `init` sends for a new account.

use super::super::ObjectArgs;
use super::objects_in_scope;
use crate::error::Result;
use crate::loader::statements::{self, MergeSpec};
use crate::loader::{ddl, views};
use crate::manifest::{Manifest, Mode, schemas};
use crate::pipeline::context;
use crate::stage::Stage;

/// Runs `sql`.
pub(in crate::cli) async fn sql(args: ObjectArgs) -> Result<()> {
    let spec = crate::config::load(&args.config)?;
    let only = objects_in_scope(&spec, &args)?;
    let stage = Stage::open(&spec.stage.url)?;
    let manifest = Manifest::open(stage.clone(), "sql").await?;
    let names = context::names(&spec)?;
    let mut out = String::from("-- init\n");
    for sql in crate::loader::setup_statements(&names, &context::external_stage(&spec))? {
        out.push_str(&format!("{sql};\n\n"));
    }
    let known = crate::loader::known_schemas(&stage, manifest.state(), only.as_deref()).await?;
    // Per table, the first schema creates it and later ones evolve it, as `init` would on an
    // account that has none of them yet.
    let mut tables = ddl::TableColumns::new();
    for schema in &known {
        for sql in ddl::table_statements(&names, schema, &tables)? {
            out.push_str(&format!("{sql};\n\n"));
        }
        ddl::remember(&mut tables, schema);
    }
    let planned = views::plan(&names, &tables)?;
    for (_, sql) in planned.create {
        out.push_str(&format!("{sql};\n\n"));
    }
    for view in planned.skipped {
        out.push_str(&format!(
            "-- view {} skipped: {}\n\n",
            view.view, view.reason
        ));
    }
    let pending = crate::loader::pending_batches(manifest.state(), only.as_deref());
    out.push_str(&load_statements(&stage, &names, manifest.state(), &pending).await?);
    print!("{out}");
    Ok(())
}

/// The statements the load of `pending` (per object, in load order) sends, batch by batch:
/// COPY into the staging table (FORCE for a replay), MERGE, and the staging rows' cleanup.
pub(super) async fn load_statements(
    stage: &Stage,
    names: &crate::loader::Names,
    state: &crate::manifest::ManifestState,
    pending: &std::collections::BTreeMap<String, Vec<String>>,
) -> Result<String> {
    let mut out = String::new();
    for ids in pending.values() {
        for id in ids {
            let batch = &state.batches[id];
            if batch.rows == 0 {
                out.push_str(&format!(
                    "-- load {} batch {}: no rows, marked loaded without a statement\n\n",
                    batch.object, batch.batch_id
                ));
                continue;
            }
            let schema = schemas::load(stage, &batch.object, &batch.schema_fingerprint).await?;
            out.push_str(&format!(
                "-- load {} batch {} ({} rows, {} files)\n",
                batch.object,
                batch.batch_id,
                batch.rows,
                batch.files.len()
            ));
            let files: Vec<String> = batch.files.iter().map(|f| f.path.clone()).collect();
            for copy in
                statements::copy_into(names, &batch.object, &files, batch.mode == Mode::Replay)?
            {
                out.push_str(&format!("{copy};\n\n"));
            }
            out.push_str(&format!(
                "{};\n\n",
                statements::count_staged(names, &batch.object, batch.rows_batch_id())?
            ));
            let merge = statements::merge(
                names,
                &MergeSpec {
                    schema: &schema,
                    rows_batch_id: batch.rows_batch_id(),
                    delete_key: crate::pipeline::delete_key_column(&batch.object)
                        .filter(|k| schema.column(k).is_some()),
                    keys: &batch.keys,
                },
            )?;
            out.push_str(&format!("{merge};\n\n"));
            out.push_str(&format!(
                "{};\n\n",
                statements::delete_staged(names, &batch.object, batch.rows_batch_id())?
            ));
        }
    }
    Ok(out)
}
