//! `dbt-sources`: a dbt `sources.yml` for the loaded tables, on stdout.

use super::super::DbtSourcesArgs;
use crate::error::Result;
use crate::manifest::Manifest;
use crate::stage::Stage;

/// Runs `dbt-sources`.
pub(in crate::cli) async fn dbt_sources(args: DbtSourcesArgs) -> Result<()> {
    let spec = crate::config::load(&args.config)?;
    let stage = Stage::open(&spec.stage.url)?;
    let manifest = Manifest::open(stage.clone(), "dbt-sources").await?;
    let tables = crate::pipeline::dbt::loaded_tables(&stage, manifest.state()).await?;
    if tables.is_empty() {
        eprintln!("no object has a loaded batch yet: the source lists no table");
    }
    print!(
        "{}",
        crate::pipeline::dbt::render(
            &args.source_name,
            &spec.snowflake.database,
            &spec.snowflake.schema,
            &tables
        )
    );
    Ok(())
}
