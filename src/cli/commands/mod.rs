//! The command bodies: read the pipeline, open one run context, call the pipeline, print the
//! report it returns and hand its outcome back for the exit code. One file per command.

mod abandon;
mod accept_schema;
mod backfill;
mod check;
mod dbt_sources;
mod dry_run;
mod extract;
mod init;
mod load;
mod manifest_compact;
mod prune;
mod query;
mod replay;
mod reset;
mod run;
mod sql;
mod status;
mod verify;

pub(super) use abandon::abandon;
pub(super) use accept_schema::accept_schema;
pub(super) use backfill::backfill;
pub(super) use check::check;
pub(super) use dbt_sources::dbt_sources;
pub(super) use extract::extract;
pub(super) use init::init;
pub(super) use load::load;
pub(super) use manifest_compact::manifest_compact;
pub(super) use prune::prune;
pub(super) use query::query;
pub(super) use replay::replay;
pub(super) use reset::reset;
pub(super) use run::run;
pub(super) use sql::sql;
pub(super) use status::status;
pub(super) use verify::verify;

use crate::error::Result;
use crate::pipeline::{Outcome, SavedReport};

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

/// A length given for `flag`: `30d`, `12h`, `2w`, `90m`.
fn parse_duration(flag: &str, text: &str) -> Result<chrono::Duration> {
    use chrono::Duration;
    let bad = || crate::error::Error::Config {
        location: flag.to_owned(),
        message: format!("{text:?} is not a length such as 30d, 12h, 2w or 90m"),
    };
    let (number, unit) = text.trim().split_at(text.trim().len().saturating_sub(1));
    let n: i64 = number.parse().map_err(|_| bad())?;
    if n <= 0 || n > 100_000 {
        return Err(bad());
    }
    match unit {
        "w" => Ok(Duration::weeks(n)),
        "d" => Ok(Duration::days(n)),
        "h" => Ok(Duration::hours(n)),
        "m" => Ok(Duration::minutes(n)),
        _ => Err(bad()),
    }
}

/// After a command that leaves a run report: its tables (unless `json`, where the command
/// printed its own), where the report was kept (on stderr with `json`, so stdout stays one
/// JSON value), and, unless it succeeded, what failed; the outcome the exit code comes from.
fn conclude(saved: &SavedReport, json: bool) -> Outcome {
    super::epilogue::remember_report(saved);
    crate::pipeline::end_bars();
    let kept = format!("run report: {}", saved.path);
    if json {
        eprintln!("{kept}");
    } else {
        print!("{}", super::summary::render(&saved.report));
        println!("{kept}");
    }
    if let Some(message) = saved.report.failure_message() {
        eprintln!("error: {message}");
    }
    saved.report.outcome
}

/// What `run` and `extract` start from.
struct RunSetup {
    spec: crate::config::Spec,
    now: chrono::DateTime<chrono::Utc>,
    only: Option<Vec<String>>,
    options: crate::pipeline::ExtractOptions,
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

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::error::Error;

    #[test]
    fn lengths_carry_their_unit_and_a_bad_one_names_its_flag() {
        assert_eq!(
            parse_duration("--window", "30d").unwrap(),
            Duration::days(30)
        );
        assert_eq!(
            parse_duration("--window", "2w").unwrap(),
            Duration::weeks(2)
        );
        assert_eq!(
            parse_duration("--window", "12h").unwrap(),
            Duration::hours(12)
        );
        assert_eq!(
            parse_duration("--window", "90m").unwrap(),
            Duration::minutes(90)
        );
        for bad in ["30", "d", "0d", "-3d", "3y", ""] {
            match parse_duration("--older-than", bad) {
                Err(Error::Config { location, .. }) => assert_eq!(location, "--older-than"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
