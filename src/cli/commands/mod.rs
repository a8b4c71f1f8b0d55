//! The command bodies: read the pipeline, open one run context, call the pipeline, print the
//! summary, leave the run report. One file per command.

mod backfill;
mod extract;
mod init;
mod load;
mod query;
mod replay;
mod run;
mod sql;
mod status;
mod verify;

pub(super) use backfill::backfill;
pub(super) use extract::extract;
pub(super) use init::init;
pub(super) use load::load;
pub(super) use query::query;
pub(super) use replay::replay;
pub(super) use run::run;
pub(super) use sql::sql;
pub(super) use status::status;
pub(super) use verify::verify;

use crate::error::Result;
use crate::loader::BatchLoadReport;

use super::ObjectArgs;

/// The objects `--objects` names, checked against the pipeline (`None`: all of them).
fn objects_in_scope(spec: &crate::config::Spec, args: &ObjectArgs) -> Result<Option<Vec<String>>> {
    let wanted = crate::pipeline::objects_in_scope(spec, &args.objects)?;
    Ok((!wanted.is_empty()).then_some(wanted))
}

/// A `--since`/`--until`/`--from`/`--to` value: a date (`YYYY-MM-DD`, midnight UTC) or an
/// RFC 3339 instant.
fn parse_instant(flag: &str, text: &str) -> Result<chrono::DateTime<chrono::Utc>> {
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc());
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|_| crate::error::Error::Config {
            location: flag.to_owned(),
            message: format!("{text:?} is neither a date (2026-01-31) nor an RFC 3339 instant"),
        })
}

/// After `load` and `replay`: the summary, the run report, and the error when a batch failed.
async fn finish_loads(
    ctx: &crate::pipeline::RunContext,
    command: &str,
    started: chrono::DateTime<chrono::Utc>,
    reports: &[BatchLoadReport],
) -> Result<()> {
    print!("{}", load_summary(reports));
    let report = serde_json::json!({
        "run_id": ctx.run_id,
        "pipeline": ctx.spec.name,
        "command": command,
        "started_at": started,
        "finished_at": chrono::Utc::now(),
        "batches": reports,
    });
    ctx.write_report(&report).await?;
    match crate::pipeline::load_failure(reports) {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// What `run` and `extract` start from.
struct RunSetup {
    spec: crate::config::Spec,
    now: chrono::DateTime<chrono::Utc>,
    only: Option<Vec<String>>,
    options: crate::pipeline::extract::ExtractOptions,
}

/// The validated pipeline, the run's `now`, the objects in scope and the extract options.
fn run_setup(args: &super::RunArgs) -> Result<RunSetup> {
    let spec = crate::config::load(&args.pipeline.config)?;
    let now = crate::pipeline::parse_now(args.now.as_deref())?;
    let only = objects_in_scope(&spec, &args.pipeline)?;
    let options = crate::pipeline::extract_options(
        &spec,
        only.as_deref().unwrap_or(&[]),
        now,
        !args.no_progress,
    )?;
    Ok(RunSetup {
        spec,
        now,
        only,
        options,
    })
}

/// The table printed after loading.
fn load_summary(reports: &[BatchLoadReport]) -> String {
    if reports.is_empty() {
        return "nothing to load: no staged batch waits\n".to_owned();
    }
    let mut out = format!(
        "{:<14} {:<36} {:<8} {:>9} {:>9} {:>9} {:>9} {:>5} {:>8}  {}\n",
        "object",
        "batch",
        "mode",
        "rows",
        "copied",
        "inserted",
        "updated",
        "stmts",
        "seconds",
        "result"
    );
    for r in reports {
        out.push_str(&format!(
            "{:<14} {:<36} {:<8} {:>9} {:>9} {:>9} {:>9} {:>5} {:>8.1}  {}\n",
            r.object,
            r.batch_id,
            r.mode,
            r.rows,
            r.copy_rows,
            r.merge_inserted,
            r.merge_updated,
            r.statements,
            r.seconds,
            r.error
                .as_deref()
                .map_or("loaded".to_owned(), |e| format!("FAILED: {e}"))
        ));
    }
    out
}
