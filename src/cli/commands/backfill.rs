//! `backfill`: explicit windows extracted and loaded, the nightly marks untouched.

use chrono::{Duration, Utc};

use super::super::BackfillArgs;
use super::super::interrupt::guarded;
use super::{conclude, objects_in_scope, parse_instant};
use crate::error::{Error, Result};
use crate::pipeline::{self, Outcome, RunContext};

/// Runs `backfill`.
pub(in crate::cli) async fn backfill(args: BackfillArgs) -> Result<Outcome> {
    let spec = crate::config::load(&args.pipeline.config)?;
    let from = parse_instant("--from", &args.from)?;
    let to = parse_instant("--to", &args.to)?;
    let window = parse_window(&args.window)?;
    let only = objects_in_scope(&spec, &args.pipeline)?;
    let started = Utc::now();
    let options = pipeline::extract_options(
        &spec,
        only.as_deref().unwrap_or(&[]),
        started,
        !args.no_progress,
    )?;
    let mut ctx = RunContext::open(spec, started).await?;
    ctx.draw_load_progress(!args.no_progress);
    ctx.snowflake()?;
    let saved = guarded(ctx, async |ctx| {
        pipeline::backfill(ctx, &options, from, to, window).await
    })
    .await?;
    Ok(conclude(&saved, false))
}

/// `30d`, `12h`, `2w`, `90m`.
fn parse_window(text: &str) -> Result<Duration> {
    let bad = || Error::Config {
        location: "--window".into(),
        message: format!("{text:?} is not a window length such as 30d, 12h, 2w or 90m"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_lengths_carry_their_unit() {
        assert_eq!(parse_window("30d").unwrap(), Duration::days(30));
        assert_eq!(parse_window("2w").unwrap(), Duration::weeks(2));
        assert_eq!(parse_window("12h").unwrap(), Duration::hours(12));
        for bad in ["30", "d", "0d", "-3d", "3y", ""] {
            assert!(
                matches!(parse_window(bad), Err(Error::Config { .. })),
                "{bad}"
            );
        }
    }
}
