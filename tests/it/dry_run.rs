//! `run --dry-run`: the plan printed, nothing sent, nothing written. The stage (manifest,
//! lock, reports, parts) is byte for byte the same after it, the simulator served no request,
//! the emulator ran no statement, and the windows it printed are the ones the real run then
//! reads (its run report's windows), the staged batch it listed is the one the run loads first.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use intacct_snowflake::pipeline::RunReport;
use sha2::{Digest, Sha256};

use crate::support::world::World;

/// sha256 of every file under `dir`, by relative path: the manifest, the lock and the
/// reports included.
fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let body = std::fs::read(&path).unwrap();
                let relative = path.strip_prefix(root).unwrap().display().to_string();
                out.insert(relative, hex::encode(Sha256::digest(&body)));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// A window's start (`None`: everything) and end.
type Window = (Option<DateTime<Utc>>, DateTime<Utc>);

/// The windows a dry run printed: stream → (window, why).
fn printed_windows(stdout: &str) -> BTreeMap<String, (Window, String)> {
    let table = stdout
        .split("windows extracted:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no window table:\n{stdout}"));
    let mut out = BTreeMap::new();
    for line in table.lines().skip(1) {
        if line.is_empty() {
            break;
        }
        if line.starts_with(' ') {
            continue; // the delete feed's window of the stream above
        }
        let mut fields = line.split_whitespace();
        let stream = fields.next().unwrap().to_owned();
        let from = match fields.next().unwrap() {
            "-" => None,
            text => Some(text.parse().unwrap()),
        };
        let to = fields.next().unwrap().parse().unwrap();
        let why = fields.collect::<Vec<_>>().join(" ");
        out.insert(stream, ((from, to), why));
    }
    out
}

fn report_of(w: &World, stdout: &str) -> RunReport {
    let path = stdout
        .lines()
        .find_map(|l| l.strip_prefix("run report: "))
        .unwrap_or_else(|| panic!("no report path printed:\n{stdout}"));
    serde_json::from_slice(&std::fs::read(w.stage_dir.path().join(path)).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_sends_nothing_writes_nothing_and_prints_the_windows_the_run_then_reads() {
    let w = World::start().await;
    let objects = ["--objects", "VENDOR,APBILL,CLASS", "--no-progress"];
    w.ok(&["init"]).await;
    w.ok(&["run", "--objects", "VENDOR,APBILL", "--no-progress"])
        .await;
    // A day later APBILL is extracted but not loaded: its staged mark is ahead of its
    // watermark, and the next run loads that batch first. CLASS has never run.
    w.sim.advance_days(1).await.unwrap();
    w.ok(&["extract", "--objects", "APBILL", "--no-progress"])
        .await;
    let staged = w
        .manifest()
        .await
        .batches
        .values()
        .find(|b| b.status == intacct_snowflake::manifest::BatchStatus::Staged)
        .unwrap()
        .batch_id
        .clone();

    let stage_before = snapshot(w.stage_dir.path());
    let sim_before = w.sim.counters().await.unwrap();
    let submissions_before = w.emulator.counter("submissions").await;
    let statements_before = w.emulator.statements_executed().await;

    let dry = w
        .ok(&[&["run", "--dry-run"][..], &objects[..]].concat())
        .await;

    assert_eq!(
        snapshot(w.stage_dir.path()),
        stage_before,
        "the dry run changed the stage"
    );
    let sim_after = w.sim.counters().await.unwrap();
    assert_eq!(
        sim_after["requests"], sim_before["requests"],
        "the dry run sent requests to Intacct"
    );
    assert_eq!(sim_after["sessions_opened"], sim_before["sessions_opened"]);
    assert_eq!(
        w.emulator.counter("submissions").await,
        submissions_before,
        "the dry run sent statements to Snowflake"
    );
    assert_eq!(w.emulator.statements_executed().await, statements_before);

    let windows = printed_windows(&dry);
    assert_eq!(
        windows.keys().collect::<Vec<_>>(),
        ["APBILL", "CLASS", "VENDOR"],
        "{dry}"
    );
    assert!(
        windows["APBILL"].1.starts_with("staged mark"),
        "{:?}",
        windows["APBILL"]
    );
    assert!(
        windows["VENDOR"].1.starts_with("watermark"),
        "{:?}",
        windows["VENDOR"]
    );
    assert!(
        windows["CLASS"].1.starts_with("first run"),
        "{:?}",
        windows["CLASS"]
    );
    // The staged batch, listed to load first, with the statements of its load.
    let first = dry
        .split("staged batches loaded first (1):\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no staged batch listed:\n{dry}"));
    assert!(
        first.starts_with(&format!("  APBILL batch {staged} ")),
        "{dry}"
    );
    assert!(
        dry.contains(&format!("-- load APBILL batch {staged} ")),
        "{dry}"
    );
    assert!(dry.contains("COPY INTO"), "{dry}");
    assert!(dry.contains("MERGE INTO"), "{dry}");

    // The real run, at the same clock: it loads that batch first and reads exactly the
    // windows the dry run printed.
    let real = w.ok(&[&["run"][..], &objects[..]].concat()).await;
    let report = report_of(&w, &real);
    assert_eq!(
        report
            .leftover_loads
            .iter()
            .map(|l| l.batch_id.as_str())
            .collect::<Vec<_>>(),
        [staged.as_str()]
    );
    let read: BTreeMap<String, Window> = report
        .objects
        .iter()
        .map(|o| (o.stream(), (o.window_from, o.window_to.unwrap())))
        .collect();
    let printed: BTreeMap<String, Window> = windows
        .into_iter()
        .map(|(stream, (window, _))| (stream, window))
        .collect();
    assert_eq!(printed, read);
    w.sim.shutdown().await.unwrap();
}
