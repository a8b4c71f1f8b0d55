//! This machine's clock against Intacct's (the simulator's, which it sends as
//! `sessiontimestamp` in every authentication block), through the binary's nightly `run`, with
//! the local clock skewed by `INTACCT_SNOWFLAKE_NOW`:
//! * ahead by less than the lookback: windows end at Intacct's time, so a delete Intacct made
//!   before its now but showed only after the run (the audit trail's lag) is still read by a
//!   later run and tombstoned in Snowflake; a window ending at the local clock would put the
//!   mark so far into Intacct's future that the next delete window starts after it;
//! * ahead or behind by more than the lookback: the run refuses with `ClockSkew` (exit 2),
//!   naming both times, and nothing of the manifest moves;
//! * behind: windows end at the local time, and the next run, in step, loads the rest.

use std::collections::BTreeSet;
use std::process::Output;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use intacct_sim::{Scale, SimConfig};
use intacct_snowflake::pipeline::RunReport;
use intacct_snowflake::snowflake::Statement;

use crate::support::demo_pipeline::sim_clock;
use crate::support::wall_clock::WallClock;
use crate::support::world::World;

/// The demo pipeline's tenant zone, in which the audit trail's ACCESSTIME is written.
const TENANT_ZONE: &str = "America/Los_Angeles";

async fn world(audit_lag: Duration) -> World {
    let mut config = SimConfig::default();
    config.dataset.scale = Scale::Tiny;
    config.audit_lag_secs = audit_lag.num_seconds();
    World::start_with(config).await
}

/// The demo pipeline with `edit` applied to its text, written beside the stage; the world's
/// commands run with it from then on.
fn edit_pipeline(w: &mut World, edit: impl FnOnce(String) -> String) {
    let text = std::fs::read_to_string(&w.config).unwrap();
    let path = w.stage_dir.path().join("pipeline.toml");
    std::fs::write(&path, edit(text)).unwrap();
    w.config = path;
}

fn run_at(w: &World, now: DateTime<Utc>) -> Output {
    w.command(&["run", "--no-progress"], now).output().unwrap()
}

fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} exited {:?}:\n{}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn printed_report(w: &World, out: &Output) -> RunReport {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let path = stdout
        .lines()
        .find_map(|l| l.strip_prefix("run report: "))
        .unwrap_or_else(|| panic!("no report path printed:\n{stdout}"));
    let body = std::fs::read(w.stage_dir.path().join(path)).unwrap();
    serde_json::from_slice(&body).unwrap()
}

/// The RECORDNOs of `object` Snowflake holds live (not tombstoned).
async fn live_keys(w: &World, object: &str) -> BTreeSet<String> {
    let outcome = w
        .reader()
        .execute(&Statement::new(
            format!(
                "SELECT \"RECORDNO\" FROM \"INTACCT\".\"RAW\".\"{object}\" WHERE NOT COALESCE(\"_DELETED\", FALSE)"
            ),
            "test",
        ))
        .await
        .unwrap();
    outcome.rows.iter().map(|r| r[0].clone().unwrap()).collect()
}

/// The simulator's audit trail of deletes of `object`: (RECORDNO, instant).
async fn deletes_of(w: &World, object: &str) -> Vec<(String, DateTime<Utc>)> {
    let rows: Vec<_> = w
        .sim
        .records("AUDITHISTORY")
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r["ACCESSMODE"].as_str() == Some("D"))
        .filter(|r| {
            r["OBJECTTYPE"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case(object)
        })
        .collect();
    let clock = WallClock::of(
        TENANT_ZONE,
        rows.iter().map(|r| r["ACCESSTIME"].as_str().unwrap()),
    );
    rows.iter()
        .map(|r| {
            let key = r["OBJECTKEY"].as_str().unwrap();
            (
                key.strip_suffix("--REC").unwrap_or(key).to_owned(),
                clock.instant(r["ACCESSTIME"].as_str().unwrap()),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_clock_ahead_within_the_lookback_loses_no_delete_the_audit_lag_hid() {
    // The audit trail shows a delete 20 hours after it happened; both lookbacks are 22 hours,
    // and this machine's clock runs 21 hours ahead of Intacct's: within the lookback.
    let lag = Duration::hours(20);
    let skew = Duration::hours(21);
    let mut w = world(lag).await;
    edit_pipeline(&mut w, |text| {
        text.replace(
            "lookback_secs = 7200",
            "lookback_secs = 79200\ndelete_lookback_secs = 79200",
        )
    });
    let g0 = sim_clock(&w.sim).await;
    assert_ok(&w.command(&["init"], g0 + skew).output().unwrap(), "init");
    let first = run_at(&w, g0 + skew);
    assert_ok(&first, "the first run");
    // The windows end at Intacct's time, not this machine's, and the report says both.
    let clock = printed_report(&w, &first)
        .clock
        .expect("the run compared clocks");
    assert_eq!(clock.gateway.timestamp(), g0.timestamp());
    assert_eq!(clock.local, g0 + skew);
    assert_eq!(clock.skew_secs, skew.num_seconds());
    assert_eq!(clock.windows_end.timestamp(), g0.timestamp());
    let state = w.manifest().await;
    let vendor = &state.objects["VENDOR"];
    assert_eq!(
        vendor.watermark.map(|t| t.timestamp()),
        Some(g0.timestamp())
    );

    // Day 1: bills are deleted; the audit lag hides those of its last 20 hours from the run
    // that follows it.
    w.sim.advance_days(1).await.unwrap();
    let g1 = sim_clock(&w.sim).await;
    assert_ok(&run_at(&w, g1 + skew), "the run after day 1");
    // Day 2 shows them; the run after it reads the delete feed from its mark minus 22 hours.
    w.sim.advance_days(1).await.unwrap();
    let g2 = sim_clock(&w.sim).await;
    assert_ok(&run_at(&w, g2 + skew), "the run after day 2");

    let day_one: Vec<_> = deletes_of(&w, "APBILL")
        .await
        .into_iter()
        .filter(|(_, at)| *at >= g0 && *at < g1)
        .collect();
    // The case the old end lost: deletes the lag hid after day 1 that lie before the local
    // mark minus the lookback (g1 + 21 h − 22 h).
    assert!(
        day_one
            .iter()
            .any(|(_, at)| *at > g1 - lag && *at < g1 + skew - Duration::hours(22)),
        "no day-1 delete between {} and {}: {day_one:?}",
        g1 - lag,
        g1 + skew - Duration::hours(22)
    );
    let live = live_keys(&w, "APBILL").await;
    let kept: Vec<_> = day_one
        .iter()
        .filter(|(key, _)| live.contains(key))
        .collect();
    assert!(
        kept.is_empty(),
        "bills Intacct deleted on day 1 are still live in Snowflake: {kept:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_clock_further_than_the_lookback_from_intaccts_is_refused_naming_both() {
    let w = world(Duration::hours(2)).await;
    let g0 = sim_clock(&w.sim).await;
    assert_ok(&w.command(&["init"], g0).output().unwrap(), "init");
    assert_ok(&run_at(&w, g0), "the first run, in step");
    w.sim.advance_days(1).await.unwrap();
    let g1 = sim_clock(&w.sim).await;
    let before = w.manifest().await;
    // The demo pipeline's lookback is two hours: a second more, ahead or behind.
    for local in [
        g1 + Duration::hours(2) + Duration::seconds(1),
        g1 - Duration::hours(2) - Duration::seconds(1),
    ] {
        let out = run_at(&w, local);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        let secs = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
        assert!(
            stderr.contains(&secs(local)) && stderr.contains(&secs(g1)),
            "the refusal names neither time ({} here, {} at Intacct):\n{stderr}",
            secs(local),
            secs(g1)
        );
        assert!(
            stderr.contains("7200 s") && stderr.contains("NTP"),
            "{stderr}"
        );
        // Nothing moved: no batch, no mark.
        let after = w.manifest().await;
        assert_eq!(after.batches.len(), before.batches.len());
        for (stream, state) in &before.objects {
            let now = &after.objects[stream];
            assert_eq!(
                (now.watermark, now.staged_up_to, now.deletes_up_to),
                (state.watermark, state.staged_up_to, state.deletes_up_to),
                "{stream}"
            );
        }
    }
    // In step again, the run goes on.
    assert_ok(&run_at(&w, g1), "the run in step");
    w.assert_equal_to_truth("after the run in step").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_clock_behind_ends_windows_there_and_the_next_run_loads_the_rest() {
    let w = world(Duration::hours(2)).await;
    let g0 = sim_clock(&w.sim).await;
    assert_ok(&w.command(&["init"], g0).output().unwrap(), "init");
    assert_ok(&run_at(&w, g0), "the first run, in step");
    w.sim.advance_days(1).await.unwrap();
    let g1 = sim_clock(&w.sim).await;
    // An hour behind Intacct: the windows end an hour before Intacct's now.
    let behind = g1 - Duration::hours(1);
    let out = run_at(&w, behind);
    assert_ok(&out, "the run an hour behind");
    let clock = printed_report(&w, &out)
        .clock
        .expect("the run compared clocks");
    assert_eq!(clock.windows_end, behind);
    assert_eq!(clock.skew_secs, -3_600);
    let state = w.manifest().await;
    for (stream, object) in &state.objects {
        assert_eq!(object.watermark, Some(behind), "{stream}");
    }
    // The next run, in step, reads from there and Snowflake holds what Intacct holds.
    assert_ok(&run_at(&w, g1), "the run in step");
    w.assert_equal_to_truth("after the run in step").await;
}
