//! The company's request slots and the run's transactions, end to end: the demo pipeline run
//! through the binary against the simulator in its default behaviour (two requests at once per
//! company, a request over the limit held and then refused with `200024`), with another
//! integration of the tenant taking the slots in bursts, a gateway that invalidates sessions
//! while requests are in flight, the maintenance answer, and a transaction budget.

use std::path::PathBuf;
use std::process::Output;

use intacct_sim::{CoTenant, SimConfig};
use intacct_snowflake::intacct::TransactionKind;
use intacct_snowflake::manifest::BatchStatus;
use intacct_snowflake::pipeline::{Outcome, RunReport, StopReason};

use crate::support::repo_root;
use crate::support::world::World;

/// The run report a command printed the path of, read back from the stage.
fn printed_report(w: &World, out: &Output) -> RunReport {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let path = stdout
        .lines()
        .find_map(|l| l.strip_prefix("run report: "))
        .unwrap_or_else(|| panic!("no report path printed:\n{stdout}"));
    let body = std::fs::read(w.stage_dir.path().join(path)).unwrap();
    serde_json::from_slice(&body).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

async fn counter(w: &World, name: &str) -> u64 {
    w.sim.counters().await.unwrap()[name].as_u64().unwrap_or(0)
}

/// The demo pipeline with `edit` applied to its text, written beside the stage; the world's
/// commands run with it from then on.
fn edit_pipeline(w: &mut World, edit: impl Fn(String) -> String) {
    let text = std::fs::read_to_string(repo_root().join("pipelines/demo.toml")).unwrap();
    let edited = edit(text.clone());
    assert_ne!(edited, text, "the edit changed nothing");
    let path: PathBuf = w.stage_dir.path().with_extension("toml");
    std::fs::write(&path, edited).unwrap();
    w.config = path;
}

/// A quick retry policy (the demo's waits up to 30 s between attempts).
fn quick_retries(text: String) -> String {
    text.replace("initial_backoff_ms = 500", "initial_backoff_ms = 50")
        .replace("max_backoff_ms = 30000", "max_backoff_ms = 500")
}

/// Acceptance: another integration keeps both of the company's slots busy in bursts; the
/// simulator holds this client's requests over the limit (a second here, 30 s at Sage) and
/// refuses them with Sage's answer. The run completes with every object equal to the truth,
/// every refusal retried and counted, and the level the slots went down to in the run report
/// and `status`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_completes_while_a_co_tenant_keeps_both_slots_busy_in_bursts() {
    let config = SimConfig {
        concurrency_hold_ms: 1_000,
        // Long bursts with short pauses: however quickly the run reads (a small dataset takes
        // well under a second), it meets a burst and waits out the hold.
        co_tenant: Some(CoTenant {
            slots: 2,
            busy_ms: 2_500,
            idle_ms: 50,
        }),
        ..SimConfig::default()
    };
    assert_eq!(config.max_concurrent, 2, "the default limit");
    let w = World::start_with(config).await;
    w.ok(&["init"]).await;
    let requests_before = counter(&w, "requests").await;
    let refusals_before = counter(&w, "refusals").await;
    let out = w.cli(&["run", "--no-progress"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    w.assert_equal_to_truth("after a run beside a co-tenant")
        .await;

    let report = printed_report(&w, &out);
    assert_eq!(report.outcome, Outcome::Success);
    let usage = report.intacct.clone().expect("the run talked to Intacct");
    let refusals = counter(&w, "refusals").await - refusals_before;
    assert!(
        refusals > 0,
        "the co-tenant never pushed the run over the limit"
    );
    // Every refusal the gateway sent was seen, counted and retried (the run succeeded).
    assert_eq!(usage.concurrency.refusals, refusals, "{usage:?}");
    // Every request the gateway saw was counted as a transaction, and no more.
    let requests = counter(&w, "requests").await - requests_before;
    assert_eq!(usage.transactions.total, requests, "{usage:?}");
    // The adaptive level: from the ceiling down to one after a refusal.
    assert_eq!(usage.concurrency.max, 2);
    assert_eq!(usage.concurrency.lowest, 1, "{usage:?}");
    assert!(usage.concurrency.decreases >= 1, "{usage:?}");
    assert!(counter(&w, "max_in_flight").await <= 2);

    let status: serde_json::Value =
        serde_json::from_str(&w.ok(&["status", "--json"]).await).unwrap();
    let vendor = status
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["object"] == "VENDOR")
        .expect("VENDOR in status");
    let last = &vendor["last_intacct"];
    assert_eq!(last["slots_max"], 2, "{vendor}");
    assert_eq!(last["slots_lowest"], 1, "{vendor}");
    assert_eq!(last["refusals"].as_u64(), Some(refusals), "{vendor}");
    assert!(
        last["transactions"]["data_page"].as_u64().unwrap() >= 1,
        "{vendor}"
    );
    w.sim.shutdown().await.unwrap();
}

/// A gateway that invalidates the session of every seventh request while others are in
/// flight: each refused session is replaced by a new login within the retry budget, and a
/// ten-window backfill completes equal to the truth.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_completes_while_every_seventh_request_loses_its_session() {
    let mut w = World::start().await;
    edit_pipeline(&mut w, quick_retries);
    w.ok(&["init"]).await;
    w.sim.set_faults("session-expiry:every=7").await.unwrap();
    let clock = crate::support::demo_pipeline::sim_clock(&w.sim).await;
    let from = (clock - chrono::Duration::days(700))
        .format("%Y-%m-%d")
        .to_string();
    let to = clock.format("%Y-%m-%d").to_string();
    let out = w
        .cli(&[
            "backfill",
            "--from",
            &from,
            "--to",
            &to,
            "--window",
            "70d",
            "--no-progress",
        ])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let counters = w.sim.counters().await.unwrap();
    let invalidated = counters["faults_injected"]["session-expiry"]
        .as_u64()
        .unwrap_or(0);
    assert!(invalidated >= 10, "{counters}");
    // Each invalidation costs at most one new login.
    assert!(
        counters["sessions_opened"].as_u64().unwrap() <= 1 + invalidated,
        "{counters}"
    );
    let report = printed_report(&w, &out);
    assert_eq!(report.outcome, Outcome::Success);
    assert!(report.objects.iter().all(|o| o.error.is_none()));
    w.ok(&["run", "--no-progress"]).await;
    w.assert_equal_to_truth("after a backfill losing sessions")
        .await;
    w.sim.shutdown().await.unwrap();
}

/// Sage's weekly maintenance window: a run that meets the gateway's maintenance answer through
/// its retries stops, exits 4 like a held run lock ("try again later"), and says so; nothing
/// is lost, and the next run reads everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intacct_offline_for_maintenance_ends_the_run_as_try_later() {
    let mut w = World::start().await;
    edit_pipeline(&mut w, |text| {
        quick_retries(text).replace("max_attempts = 8", "max_attempts = 3")
    });
    w.ok(&["init"]).await;
    w.sim.set_faults("maintenance@query").await.unwrap();
    let out = w.cli(&["run", "--no-progress"]).await;
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("offline for maintenance") && err.contains("try again"),
        "{err}"
    );
    let report = printed_report(&w, &out);
    assert_eq!(report.outcome, Outcome::TryLater);
    let usage = report.intacct.expect("the run talked to Intacct");
    assert!(usage.unavailable.is_some(), "{usage:?}");
    assert!(
        report
            .objects
            .iter()
            .all(|o| o.stopped == Some(StopReason::IntacctOffline)),
        "{:?}",
        report.objects
    );
    // Once the answer stopped one read, no object spent its own retry budget on it: the
    // later requests were not sent.
    let maintenance = w.sim.counters().await.unwrap()["faults_injected"]["maintenance"]
        .as_u64()
        .unwrap();
    let objects = report.objects.len() as u64;
    assert!(
        maintenance < objects * 3,
        "{maintenance} maintenance answers for {objects} objects"
    );

    w.sim.set_faults("").await.unwrap();
    w.ok(&["run", "--no-progress"]).await;
    w.assert_equal_to_truth("after the maintenance window")
        .await;
    w.sim.shutdown().await.unwrap();
}

/// `intacct.max_transactions_per_run`: the run sends exactly that many requests, stops cleanly
/// (exit 3, the objects not finished `stopped: transaction budget`), keeps the batches it
/// staged, and the next run reads the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_budget_stops_the_run_cleanly() {
    const BUDGET: u64 = 30;
    let mut w = World::start().await;
    edit_pipeline(&mut w, |text| {
        text.replace(
            "page_size = 2000\n",
            &format!("page_size = 2000\nmax_transactions_per_run = {BUDGET}\n"),
        )
    });
    w.ok(&["init"]).await;
    let requests_before = counter(&w, "requests").await;
    let out = w.cli(&["run", "--no-progress"]).await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("max_transactions_per_run"),
        "{}",
        stderr(&out)
    );
    let report = printed_report(&w, &out);
    assert_eq!(report.outcome, Outcome::Partial);
    let usage = report.intacct.clone().unwrap();
    assert_eq!(usage.transactions.total, BUDGET, "{usage:?}");
    assert!(usage.transactions.refused_by_budget > 0);
    assert_eq!(counter(&w, "requests").await - requests_before, BUDGET);
    // Per object and kind, adding up to the total.
    let by_kind = usage.transactions.by_kind();
    assert_eq!(by_kind.values().sum::<u64>(), BUDGET);
    assert!(by_kind[&TransactionKind::Login] >= 1);
    assert!(by_kind[&TransactionKind::DataPage] >= 1);
    let stopped: Vec<_> = report
        .objects
        .iter()
        .filter(|o| o.stopped == Some(StopReason::TransactionBudget))
        .collect();
    assert!(!stopped.is_empty());
    // Every object either finished and was loaded, or stopped for the budget.
    for o in &report.objects {
        assert!(
            o.error.is_none() || o.stopped == Some(StopReason::TransactionBudget),
            "{o:?}"
        );
    }
    let finished: Vec<_> = report
        .objects
        .iter()
        .filter(|o| o.error.is_none())
        .collect();
    assert!(!finished.is_empty(), "{:?}", report.objects);
    let manifest = w.manifest().await;
    for o in finished {
        assert_eq!(
            manifest.batches[&o.batch_id].status,
            BatchStatus::Loaded,
            "{}",
            o.object
        );
    }

    w.config = repo_root().join("pipelines/demo.toml");
    w.ok(&["run", "--no-progress"]).await;
    w.assert_equal_to_truth("after the run past the budget")
        .await;
    w.sim.shutdown().await.unwrap();
}
