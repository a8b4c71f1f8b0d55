//! `status`: per object, from the manifest; below the table, the staged batches whose files
//! are not on the stage as the manifest recorded them (missing, or of another size), each with
//! the `manifest abandon` that gives it up.

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
    let mut rows = status::object_status(manifest.state(), now);
    let last = crate::pipeline::report::last_intacct_run(&stage).await?;
    if let Some(last) = &last {
        status::with_last_intacct_run(&mut rows, last);
    }
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
        if let Some(last) = &last {
            print!("{}", status::render_last_intacct_run(last));
        }
        print!("{}", staged_files_gone(&stage, manifest.state()).await?);
    }
    Ok(())
}

/// The staged, unloaded batches with a file missing from the stage or of another size than
/// recorded (one `HEAD` per file; the sha256 is checked when a load reads them).
async fn staged_files_gone(
    stage: &Stage,
    state: &crate::manifest::ManifestState,
) -> Result<String> {
    let mut out = String::new();
    let mut batches: Vec<_> = state
        .batches
        .values()
        .filter(|b| b.status == crate::manifest::BatchStatus::Staged)
        .collect();
    batches.sort_by_key(|b| b.created_version);
    for batch in batches {
        let mut gone = Vec::new();
        for file in &batch.files {
            match stage.size(&file.path).await? {
                None => gone.push(format!("{} (missing)", file.path)),
                Some(bytes) if bytes != file.bytes => gone.push(format!(
                    "{} ({bytes} bytes, {} recorded)",
                    file.path, file.bytes
                )),
                Some(_) => {}
            }
        }
        if gone.is_empty() {
            continue;
        }
        if out.is_empty() {
            out.push_str("\nstaged batches whose files are not on the stage as written (they cannot load):\n");
        }
        out.push_str(&format!(
            "  {} batch {} ({}, window to {}): {}\n    give it up (the next run reads its window again): intacct-snowflake manifest abandon --batch {}\n",
            batch.stream(),
            batch.batch_id,
            batch.mode,
            batch.window_to.to_rfc3339(),
            gone.join(", "),
            batch.batch_id
        ));
    }
    Ok(out)
}
