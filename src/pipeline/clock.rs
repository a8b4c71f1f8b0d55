//! The run's clock against Intacct's, pure: where nightly windows end, and when a run refuses
//! to plan any.
//!
//! Intacct stamps `WHENMODIFIED` and the audit trail with its own clock, and a nightly window
//! ends at an instant that becomes the stream's mark; the next run re-reads only the lookback
//! before that mark. Were a window to end at this machine's clock (or `INTACCT_SNOWFLAKE_NOW`)
//! while that clock runs ahead of Intacct's, the mark would lie in Intacct's future: what
//! Intacct stamps before that mark but shows only after the run (a late commit, the audit
//! trail's lag) would fall before the next window's start once the skew eats the lookback,
//! and would never be read. So:
//!
//! * windows end at `min(local, gateway) − margin` (`extract.clock_margin_secs`): never after
//!   either clock; a clock behind costs only freshness (the next run reads the rest);
//! * the run refuses ([`Error::ClockSkew`], naming both times) when the two clocks differ by
//!   more than the smallest lookback its object windows re-read, either way: a disagreement
//!   that large is a broken clock on one side (or the test hook left set), and planning on
//!   either is a guess;
//! * both clocks are compared, and named, at whole seconds, the resolution of Intacct's
//!   timestamps;
//! * the gateway's time is the `sessiontimestamp` of its answer plus the time this machine's
//!   monotonic clock counted since the answer arrived (see
//!   [`crate::intacct::IntacctClient::gateway_time`]): never later than the gateway's own now.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::settings::ExtractOptions;
use crate::error::{Error, Result};

/// Both clocks as the run compared them, and where its nightly windows end (kept in the run
/// report as `clock`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClockReport {
    /// This machine's clock at the start of the run (or `INTACCT_SNOWFLAKE_NOW`).
    pub local: DateTime<Utc>,
    /// The Intacct gateway's clock, from its `sessiontimestamp`.
    pub gateway: DateTime<Utc>,
    /// `local − gateway` in whole seconds: positive when this machine runs ahead.
    pub skew_secs: i64,
    /// The margin kept before the earlier clock (`extract.clock_margin_secs`).
    pub margin_secs: i64,
    /// The end of every nightly window of the run: `min(local, gateway) − margin`.
    pub windows_end: DateTime<Utc>,
}

/// Where the run's nightly windows end, from both clocks; [`Error::ClockSkew`] when they
/// differ by more than `lookback` (see the module docs).
pub(crate) fn windows_end(
    local: DateTime<Utc>,
    gateway: DateTime<Utc>,
    margin: Duration,
    lookback: Duration,
) -> Result<ClockReport> {
    let skew_secs = local.timestamp() - gateway.timestamp();
    if skew_secs.unsigned_abs() > lookback.num_seconds().unsigned_abs() {
        return Err(Error::ClockSkew {
            local: local.to_rfc3339_opts(SecondsFormat::Secs, true),
            gateway: gateway.to_rfc3339_opts(SecondsFormat::Secs, true),
            skew_secs,
            lookback_secs: lookback.num_seconds(),
        });
    }
    let earlier = local.min(gateway);
    Ok(ClockReport {
        local,
        gateway,
        skew_secs,
        margin_secs: margin.num_seconds(),
        windows_end: earlier.checked_sub_signed(margin).unwrap_or(earlier),
    })
}

/// The smallest lookback any object window of `options` re-reads: the one a skew must stay
/// within. `None` when there is no object.
pub(crate) fn smallest_lookback(options: &ExtractOptions) -> Option<Duration> {
    options
        .objects
        .iter()
        .map(|job| job.lookback.unwrap_or(options.lookback))
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    const MINUTE: Duration = Duration::minutes(1);
    const TWO_HOURS: Duration = Duration::hours(2);

    #[test]
    fn windows_end_a_margin_before_the_earlier_clock() {
        // This machine ahead by 50 minutes: the gateway's time, less the margin.
        let r = windows_end(
            at("2026-01-16T00:50:00Z"),
            at("2026-01-16T00:00:00Z"),
            MINUTE,
            TWO_HOURS,
        )
        .unwrap();
        assert_eq!(r.windows_end, at("2026-01-15T23:59:00Z"));
        assert_eq!(r.skew_secs, 3_000);
        assert_eq!(r.margin_secs, 60);
        // Behind by 50 minutes: this machine's time, less the margin.
        let r = windows_end(
            at("2026-01-15T23:10:00Z"),
            at("2026-01-16T00:00:00Z"),
            MINUTE,
            TWO_HOURS,
        )
        .unwrap();
        assert_eq!(r.windows_end, at("2026-01-15T23:09:00Z"));
        assert_eq!(r.skew_secs, -3_000);
        // No margin, clocks agreeing to the second: the common instant.
        let r = windows_end(
            at("2026-01-16T00:00:00.400Z"),
            at("2026-01-16T00:00:00.900Z"),
            Duration::zero(),
            Duration::zero(),
        )
        .unwrap();
        assert_eq!(r.windows_end, at("2026-01-16T00:00:00.400Z"));
        assert_eq!(r.skew_secs, 0);
    }

    #[test]
    fn clocks_further_apart_than_the_lookback_refuse_naming_both() {
        for (local, gateway, skew) in [
            ("2026-01-16T02:00:01Z", "2026-01-16T00:00:00Z", 7_201),
            ("2026-01-15T21:59:59Z", "2026-01-16T00:00:00Z", -7_201),
        ] {
            let error = windows_end(at(local), at(gateway), MINUTE, TWO_HOURS).unwrap_err();
            let Error::ClockSkew {
                local: l,
                gateway: g,
                skew_secs,
                lookback_secs,
            } = &error
            else {
                panic!("{error:?}");
            };
            assert_eq!((at(l), at(g)), (at(local), at(gateway)));
            assert_eq!((*skew_secs, *lookback_secs), (skew, 7_200));
            let message = error.to_string();
            assert!(
                message.contains(local) && message.contains(gateway),
                "{message}"
            );
            assert!(message.contains("NTP"), "{message}");
        }
        // Exactly the lookback apart is still within it.
        assert!(
            windows_end(
                at("2026-01-16T02:00:00Z"),
                at("2026-01-16T00:00:00Z"),
                MINUTE,
                TWO_HOURS
            )
            .is_ok()
        );
    }
}
