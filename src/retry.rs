//! The retry policy: how long to wait before the next attempt, and when to stop. One policy
//! for both remote services: the Intacct gateway client and the Snowflake SQL API client.
//!
//! Pure: the random draw and the clock are passed in, so the schedule is unit-tested exactly.
//! Backoff is exponential with **full jitter** (a uniform draw in `[0, min(cap, base·2^n)]`),
//! which spreads competing clients apart better than equal or no jitter; a server's
//! `Retry-After` is a floor, never shortened by the jitter.

use std::time::Duration;

/// Bounds on retrying one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    /// Upper bound of the first backoff draw.
    pub initial_backoff_ms: u64,
    /// Cap on the upper bound of any draw.
    pub max_backoff_ms: u64,
    /// No new attempt starts after this long since the first one.
    pub max_elapsed_secs: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            initial_backoff_ms: 500,
            max_backoff_ms: 30_000,
            max_elapsed_secs: 600,
        }
    }
}

/// The wait before attempt `failed_attempt + 1`, after attempt `failed_attempt` (1-based)
/// failed: `unit · min(cap, initial · 2^(failed_attempt − 1))`, at least `retry_after`.
///
/// `unit` is a uniform draw in `[0, 1]` (clamped).
pub fn backoff_delay(
    policy: &RetryPolicy,
    failed_attempt: u32,
    unit: f64,
    retry_after: Option<Duration>,
) -> Duration {
    let exponent = failed_attempt.saturating_sub(1).min(32);
    let ceiling_ms = policy
        .initial_backoff_ms
        .saturating_mul(1u64 << exponent)
        .min(policy.max_backoff_ms);
    let unit = if unit.is_nan() {
        0.0
    } else {
        unit.clamp(0.0, 1.0)
    };
    let jittered = Duration::from_millis((ceiling_ms as f64 * unit).round() as u64);
    match retry_after {
        Some(floor) => jittered.max(floor),
        None => jittered,
    }
}

/// Whether another attempt may start: attempts left and, after waiting `next_delay`, still
/// inside the elapsed-time budget.
pub fn may_retry(
    policy: &RetryPolicy,
    failed_attempt: u32,
    elapsed: Duration,
    next_delay: Duration,
) -> bool {
    failed_attempt < policy.max_attempts
        && elapsed + next_delay <= Duration::from_secs(policy.max_elapsed_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            initial_backoff_ms: 100,
            max_backoff_ms: 1_000,
            max_elapsed_secs: 10,
        }
    }

    #[test]
    fn ceiling_doubles_then_caps() {
        let p = policy();
        let at_one: Vec<u64> = (1..=6)
            .map(|n| backoff_delay(&p, n, 1.0, None).as_millis() as u64)
            .collect();
        assert_eq!(at_one, [100, 200, 400, 800, 1_000, 1_000]);
    }

    #[test]
    fn full_jitter_scales_the_ceiling() {
        let p = policy();
        assert_eq!(backoff_delay(&p, 3, 0.0, None), Duration::ZERO);
        assert_eq!(backoff_delay(&p, 3, 0.25, None), Duration::from_millis(100));
        assert_eq!(backoff_delay(&p, 3, 7.0, None), Duration::from_millis(400));
        assert_eq!(backoff_delay(&p, 3, f64::NAN, None), Duration::ZERO);
    }

    #[test]
    fn retry_after_is_a_floor() {
        let p = policy();
        let floor = Duration::from_secs(3);
        assert_eq!(backoff_delay(&p, 1, 0.5, Some(floor)), floor);
        assert_eq!(
            backoff_delay(&p, 4, 1.0, Some(Duration::from_millis(10))),
            Duration::from_millis(800)
        );
    }

    #[test]
    fn huge_attempt_numbers_do_not_overflow() {
        let p = policy();
        assert_eq!(
            backoff_delay(&p, u32::MAX, 1.0, None),
            Duration::from_millis(1_000)
        );
    }

    #[test]
    fn stops_at_the_attempt_and_time_budgets() {
        let p = policy();
        assert!(may_retry(&p, 4, Duration::ZERO, Duration::ZERO));
        assert!(!may_retry(&p, 5, Duration::ZERO, Duration::ZERO));
        assert!(may_retry(
            &p,
            1,
            Duration::from_secs(9),
            Duration::from_secs(1)
        ));
        assert!(!may_retry(
            &p,
            1,
            Duration::from_secs(9),
            Duration::from_millis(1_001)
        ));
    }
}
