//! `check`: whether the pipeline can run, one line per check with the fix of a failure.

use super::super::ObjectArgs;
use super::objects_in_scope;
use crate::error::{Error, Result};
use crate::pipeline::Failure;
use crate::pipeline::check::{self, CheckResult, Outcome};

/// Runs `check`: prints every line, and fails with a configuration error (exit code 2) when a
/// check failed.
pub(in crate::cli) async fn check(args: ObjectArgs) -> Result<()> {
    let spec = crate::config::load(&args.config)?;
    let only = objects_in_scope(&spec, &args)?;
    let results = check::check(&spec, only.as_deref(), chrono::Utc::now()).await;
    print!("{}", render(&results));
    let failed: Vec<&CheckResult> = results
        .iter()
        .filter(|r| r.outcome == Outcome::Failed)
        .collect();
    super::super::epilogue::remember_failures(
        failed
            .iter()
            .map(|r| Failure {
                object: r.name.clone(),
                error: r.detail.clone(),
            })
            .collect(),
    );
    if failed.is_empty() {
        return Ok(());
    }
    Err(Error::Config {
        location: spec.source.display().to_string(),
        message: format!(
            "{} of {} checks failed: {}",
            failed.len(),
            results.len(),
            failed
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

/// One line per check: `ok`, `FAILED` or `skipped`, the name, what was found, and for a
/// failure `fix:` and what to do.
fn render(results: &[CheckResult]) -> String {
    let width = results.iter().map(|r| r.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for r in results {
        let mark = match r.outcome {
            Outcome::Ok => "ok",
            Outcome::Failed => "FAILED",
            Outcome::Skipped => "skipped",
        };
        out.push_str(&format!(
            "{mark:<7} {:<width$}  {}",
            r.name,
            one_line(&r.detail)
        ));
        if let Some(fix) = &r.fix {
            out.push_str(&format!(" — fix: {}", one_line(fix)));
        }
        out.push('\n');
    }
    out
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
