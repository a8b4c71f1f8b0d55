//! Green, amber and red: the rules the status page colours an object by, with the thresholds
//! it shows. Pure.
//!
//! The tool is scheduled nightly ([`EXPECTED_SCHEDULE_SECS`], a day); an object's lag is how
//! far its watermark is behind now.
//!
//! | colour | when |
//! |---|---|
//! | red | a batch failed (extract given up), a staged batch's last load failed (a held schema change included), or the lag is over [`RED_LAG_SECS`] (two schedules) |
//! | amber | values were quarantined, a schema change awaits `accept-schema`, AUDITHISTORY had no row at all of the object's type while it changed (its deletes are probably not seen), the lag is over [`AMBER_LAG_SECS`] (a schedule plus two hours' grace), or nothing is loaded yet |
//! | green | otherwise |
//!
//! The dbt freshness block `dbt-sources` prints uses the same two thresholds.

use super::super::status::{ObjectStatus, SchemaChangeState};

/// How often the pipeline is expected to run: nightly.
pub(crate) const EXPECTED_SCHEDULE_SECS: i64 = 24 * 3600;
/// Lag past which an object is amber: one schedule plus two hours' grace for a slow run.
pub(crate) const AMBER_LAG_SECS: i64 = EXPECTED_SCHEDULE_SECS + 2 * 3600;
/// Lag past which an object is red: two schedules (a nightly run was missed).
pub(crate) const RED_LAG_SECS: i64 = 2 * EXPECTED_SCHEDULE_SECS;

/// An object's colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Health {
    /// Nothing to look at.
    Green,
    /// Worth a look today.
    Amber,
    /// Needs someone now.
    Red,
}

impl Health {
    /// The CSS class (and the word shown in the badge).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Health::Green => "green",
            Health::Amber => "amber",
            Health::Red => "red",
        }
    }
}

/// The colour of one object and why (the reasons in the order of the rules).
pub(crate) fn object_health(o: &ObjectStatus) -> (Health, Vec<String>) {
    let mut reasons = Vec::new();
    let mut health = Health::Green;
    let mut raise = |to: Health, why: String| {
        health = health.max(to);
        reasons.push(why);
    };
    let failed = o.batches.get("failed").copied().unwrap_or(0);
    if failed > 0 {
        raise(Health::Red, format!("{failed} failed batch(es)"));
    }
    let load_failures = o.failures.iter().filter(|f| f.status == "staged").count();
    if load_failures > 0 {
        raise(
            Health::Red,
            format!("{load_failures} staged batch(es) failed to load"),
        );
    }
    match o.lag_secs {
        Some(lag) if lag > RED_LAG_SECS => {
            raise(Health::Red, format!("lag over {}h", RED_LAG_SECS / 3600))
        }
        Some(lag) if lag > AMBER_LAG_SECS => raise(
            Health::Amber,
            format!("lag over {}h", AMBER_LAG_SECS / 3600),
        ),
        Some(_) => {}
        None => raise(Health::Amber, "nothing loaded yet".into()),
    }
    if o.quarantined > 0 {
        raise(
            Health::Amber,
            format!("{} quarantined value(s)", o.quarantined),
        );
    }
    let awaiting = o
        .schema_changes
        .iter()
        .filter(|c| c.state == SchemaChangeState::AwaitingAcceptance)
        .count();
    if awaiting > 0 {
        raise(
            Health::Amber,
            format!("{awaiting} schema change(s) await accept-schema"),
        );
    }
    if o.audit_type_warning.is_some() {
        raise(
            Health::Amber,
            "no AUDITHISTORY rows of its object type: deletes probably not seen".into(),
        );
    }
    (health, reasons)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::status::BatchFailure;

    fn loaded(lag_secs: i64) -> ObjectStatus {
        ObjectStatus {
            object: "VENDOR".into(),
            lag_secs: Some(lag_secs),
            ..ObjectStatus::default()
        }
    }

    #[test]
    fn each_rule_gives_its_colour_and_the_worst_wins() {
        assert_eq!(object_health(&loaded(3600)).0, Health::Green);
        assert_eq!(object_health(&loaded(AMBER_LAG_SECS + 1)).0, Health::Amber);
        assert_eq!(object_health(&loaded(AMBER_LAG_SECS)).0, Health::Green);
        assert_eq!(object_health(&loaded(RED_LAG_SECS + 1)).0, Health::Red);
        assert_eq!(
            object_health(&ObjectStatus::default()).0,
            Health::Amber,
            "nothing loaded"
        );
        let quarantined = ObjectStatus {
            quarantined: 2,
            ..loaded(60)
        };
        assert_eq!(
            object_health(&quarantined),
            (Health::Amber, vec!["2 quarantined value(s)".to_owned()])
        );
        let failing = ObjectStatus {
            failures: vec![BatchFailure {
                batch_id: "b".into(),
                status: "staged".into(),
                error: "schema: frozen".into(),
            }],
            ..quarantined
        };
        let (health, reasons) = object_health(&failing);
        assert_eq!(health, Health::Red);
        assert_eq!(reasons.len(), 2);
        let unseen_deletes = ObjectStatus {
            audit_type_warning: Some("no row of OBJECTTYPE 'vendor'".into()),
            ..loaded(60)
        };
        let (health, reasons) = object_health(&unseen_deletes);
        assert_eq!(health, Health::Amber);
        assert_eq!(
            reasons,
            ["no AUDITHISTORY rows of its object type: deletes probably not seen"]
        );
    }
}
