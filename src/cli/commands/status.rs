//! `status`: per object, from the manifest alone.

use super::super::StatusArgs;
use crate::error::Result;
use crate::manifest::Manifest;
use crate::pipeline::status;
use crate::stage::Stage;

/// Runs `status`.
pub(in crate::cli) async fn status(args: StatusArgs) -> Result<()> {
    let spec = crate::config::load(&args.config)?;
    // Lag is measured on the clock a run would end its windows at.
    let now = crate::pipeline::parse_now(args.now.as_deref())?;
    let stage = Stage::open(&spec.stage.url)?;
    let manifest = Manifest::open(stage.clone(), "status").await?;
    let rows = status::object_status(manifest.state(), now);
    if let Some(file) = &args.html {
        let page = crate::pipeline::page::status_page(
            manifest.stage(),
            manifest.state(),
            &spec.name,
            &args.config.display().to_string(),
            now,
        )
        .await?;
        std::fs::write(file, page).map_err(|source| crate::error::Error::Io {
            path: file.display().to_string(),
            source,
        })?;
        eprintln!("status page: {}", file.display());
    }
    if args.json {
        let text = serde_json::to_string_pretty(&rows).expect("status serialises");
        println!("{text}");
    } else {
        print!(
            "{}",
            status::render_table(
                &rows,
                manifest.state().version,
                &args.config.display().to_string()
            )
        );
        if let Some((run_id, views)) = status::skipped_views(&stage).await? {
            print!("{}", status::render_skipped_views(&run_id, &views));
        }
    }
    Ok(())
}
