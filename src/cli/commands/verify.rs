//! `verify`: Intacct's keys against Snowflake's live rows.

use chrono::Utc;

use super::super::VerifyArgs;
use super::super::interrupt::guarded;
use super::objects_in_scope;
use crate::error::{Error, Result};
use crate::pipeline::verify::{self, VerifyReport};
use crate::pipeline::{self, RunContext};

/// Runs `verify`.
pub(in crate::cli) async fn verify(args: VerifyArgs) -> Result<()> {
    let spec = crate::config::load(&args.pipeline.config)?;
    let now = pipeline::parse_now(args.now.as_deref())?;
    let objects = objects_in_scope(&spec, &args.pipeline)?.unwrap_or_else(|| {
        spec.extract
            .objects
            .iter()
            .map(|o| o.name.clone())
            .collect()
    });
    let ctx = RunContext::open(spec, now).await?;
    ctx.snowflake()?;
    guarded(ctx, async |ctx| {
        let reports = verify::verify(ctx, &objects).await?;
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&reports).expect("reports serialise")
            );
        } else {
            print!("{}", render(&reports));
        }
        let report = serde_json::json!({
            "run_id": ctx.run_id,
            "pipeline": ctx.spec.name,
            "command": "verify",
            "started_at": now,
            "finished_at": Utc::now(),
            "objects": reports,
        });
        ctx.write_report(&report).await?;
        let differing: Vec<String> = reports
            .iter()
            .filter(|r| r.differs())
            .map(|r| match &r.error {
                Some(e) => format!("{} (could not verify: {e})", r.object),
                None => format!("{} ({} missing, {} extra)", r.object, r.missing, r.extra),
            })
            .collect();
        if differing.is_empty() {
            Ok(())
        } else {
            Err(Error::VerifyDiffers {
                objects: differing.join(", "),
            })
        }
    })
    .await
}

fn render(reports: &[VerifyReport]) -> String {
    let mut out = format!(
        "{:<14} {:>10} {:>10} {:>8} {:>8} {:>8}  {}\n",
        "object", "intacct", "snowflake", "missing", "extra", "pending", "result"
    );
    for r in reports {
        let result = match (&r.error, r.differs()) {
            (Some(e), _) => format!("ERROR: {e}"),
            (None, true) => {
                let mut parts = Vec::new();
                if r.missing > 0 {
                    parts.push(format!("missing e.g. {:?}", r.missing_sample));
                }
                if r.extra > 0 {
                    parts.push(format!("marked deleted e.g. {:?}", r.extra_sample));
                }
                format!("DIFFERS: {}", parts.join("; "))
            }
            (None, false) => "same".to_owned(),
        };
        out.push_str(&format!(
            "{:<14} {:>10} {:>10} {:>8} {:>8} {:>8}  {}\n",
            r.object, r.intacct_keys, r.snowflake_live, r.missing, r.extra, r.pending, result
        ));
    }
    out
}
