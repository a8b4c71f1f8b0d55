//! The commands a data engineer runs, through the binary, against the simulator and the
//! emulator: `init`, `run` twice across simulated days of creates, updates and deletes, a
//! `backfill` over two years, a `replay` of an old batch, a `verify`; after each, every
//! target table equals the simulator's ground truth for every object, values included. And a
//! backfill killed with SIGKILL redoes no completed window when started again.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use intacct_sim::{self as sim, SimConfig, SimHandle};
use intacct_snowflake::intacct::column_name;
use intacct_snowflake::intacct::tenant_time;
use intacct_snowflake::manifest::schemas::{self, ColumnType};
use intacct_snowflake::manifest::{BatchStatus, Manifest, Mode};
use intacct_snowflake::snowflake::Statement;
use intacct_snowflake::stage::Stage;

use crate::extract::sim_clock;
use crate::load::harness::{ACCOUNT, USER, client};
use crate::support::emulator::{Emulator, EmulatorOptions};
use crate::support::keys::TestKeys;
use crate::support::{binary, repo_root};
use crate::values::canonical_decimal;

pub(crate) struct World {
    /// The pipeline file the commands run with.
    pub(crate) config: PathBuf,
    pub(crate) sim: SimHandle,
    pub(crate) emulator: Emulator,
    pub(crate) keys: TestKeys,
    pub(crate) stage_dir: tempfile::TempDir,
}

impl World {
    pub(crate) async fn start() -> World {
        let sim = sim::spawn(SimConfig::default()).await.unwrap();
        let keys = TestKeys::generate();
        let mut options = EmulatorOptions::key_pair(&keys.public, ACCOUNT, USER);
        options.require_warehouse = true;
        let emulator = Emulator::start(&options);
        World {
            config: repo_root().join("pipelines/demo.toml"),
            sim,
            emulator,
            keys,
            stage_dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Runs the binary on the demo pipeline, pointed at this world, at the simulator's clock.
    pub(crate) async fn cli(&self, args: &[&str]) -> Output {
        let now = sim_clock(&self.sim).await;
        self.command(args, now).output().unwrap()
    }

    pub(crate) fn command(&self, args: &[&str], now: DateTime<Utc>) -> Command {
        let mut command = Command::new(binary());
        command
            .current_dir(repo_root())
            .args(args)
            .arg("--config")
            .arg(&self.config)
            .env("INTACCT_ENDPOINT", self.sim.endpoint_url())
            .env("STAGE_URL", self.stage_dir.path())
            .env("SNOWFLAKE_URL", &self.emulator.base_url)
            .env("SNOWFLAKE_PRIVATE_KEY_PATH", &self.keys.pkcs8)
            .env("INTACCT_SNOWFLAKE_NOW", now.to_rfc3339())
            .env("INTACCT_SNOWFLAKE_LOG", "warn")
            .env_remove("INTACCT_SNOWFLAKE_CRASH_AT");
        command
    }

    pub(crate) async fn ok(&self, args: &[&str]) -> String {
        let out = self.cli(args).await;
        assert!(
            out.status.success(),
            "{args:?} exited {:?}:\n{}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub(crate) async fn manifest(&self) -> intacct_snowflake::manifest::ManifestState {
        let stage = Stage::open(self.stage_dir.path().to_str().unwrap()).unwrap();
        Manifest::open(stage, "check")
            .await
            .unwrap()
            .state()
            .clone()
    }

    /// Every object's live target rows equal the simulator's records, value by value.
    pub(crate) async fn assert_equal_to_truth(&self, when: &str) {
        if let Err(divergence) = self.compare_with_truth(when).await {
            panic!("{divergence}");
        }
    }

    /// Every object's live target rows against the simulator's records, value by value; the
    /// first difference as text.
    pub(crate) async fn compare_with_truth(&self, when: &str) -> Result<(), String> {
        self.compare_objects(when, None).await
    }

    /// As [`World::compare_with_truth`], for `only` these objects (`None`: all twelve).
    pub(crate) async fn compare_objects(
        &self,
        when: &str,
        only: Option<&[&str]>,
    ) -> Result<(), String> {
        let state = self.manifest().await;
        let stage = Stage::open(self.stage_dir.path().to_str().unwrap()).unwrap();
        let client = client(&self.emulator, self.keys.pkcs8.clone());
        let tz: chrono_tz::Tz = "America/Los_Angeles".parse().unwrap();
        let objects: BTreeSet<String> = match only {
            Some(only) => only.iter().map(|o| o.to_string()).collect(),
            None => state.batches.values().map(|b| b.object.clone()).collect(),
        };
        if only.is_none() && objects.len() != 12 {
            return Err(format!(
                "{when}: {} objects staged a batch, not 12",
                objects.len()
            ));
        }
        let refused = self.refused_fields();
        for object in objects {
            let Some(newest) = state
                .batches_of(&object)
                .filter(|b| b.status == BatchStatus::Loaded)
                .last()
            else {
                return Err(format!("{when}: {object} has no loaded batch"));
            };
            let schema = schemas::load(&stage, &object, &newest.schema_fingerprint)
                .await
                .map_err(|e| e.to_string())?;
            // A field the gateway refused at run time keeps its column, empty: the run reported
            // it, and the comparison leaves it out.
            let columns: Vec<_> = schema
                .columns
                .iter()
                .filter(|c| !c.name.starts_with('_'))
                .filter(|c| {
                    !refused
                        .iter()
                        .any(|(o, f)| *o == object && column_name(f) == c.name)
                })
                .collect();
            let select = columns
                .iter()
                .map(|c| format!("\"{}\"", c.name))
                .collect::<Vec<_>>()
                .join(", ");
            let outcome = client
                .execute(&Statement::new(format!(
                        "SELECT {select} FROM \"INTACCT\".\"RAW\".\"{object}\" WHERE NOT COALESCE(\"_DELETED\", FALSE)"
                    ), "test"))
                .await
                .map_err(|e| format!("{when}: {object}: {e}"))?;
            let mut target: BTreeMap<i64, &Vec<Option<String>>> = BTreeMap::new();
            for row in &outcome.rows {
                let key = row[0].as_deref().unwrap().parse().unwrap();
                if target.insert(key, row).is_some() {
                    return Err(format!("{when}: {object} {key} is live twice"));
                }
            }
            let truth = self.sim.records(&object).await.unwrap();
            let truth_keys: BTreeSet<i64> = truth
                .iter()
                .map(|r| r["RECORDNO"].as_str().unwrap().parse().unwrap())
                .collect();
            let target_keys: BTreeSet<i64> = target.keys().copied().collect();
            if target_keys != truth_keys {
                return Err(format!(
                    "{when}: {object} keys differ: extra {:?}, missing {:?}",
                    target_keys
                        .difference(&truth_keys)
                        .take(5)
                        .collect::<Vec<_>>(),
                    truth_keys
                        .difference(&target_keys)
                        .take(5)
                        .collect::<Vec<_>>()
                ));
            }
            for record in &truth {
                let key: i64 = record["RECORDNO"].as_str().unwrap().parse().unwrap();
                let row = target[&key];
                for (i, column) in columns.iter().enumerate() {
                    let field = record.keys().find(|k| column_name(k) == column.name);
                    let expected = field
                        .and_then(|f| record[f].as_str())
                        .filter(|s| !s.is_empty());
                    let got = row[i].as_deref();
                    if !same_value(column.column_type, expected, got, tz) {
                        return Err(format!(
                            "{when}: {object} {key} {}: Intacct {expected:?}, Snowflake {got:?}",
                            column.name
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

impl World {
    /// (object, field) pairs the run reports list as refused by the gateway.
    fn refused_fields(&self) -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        let Ok(entries) = std::fs::read_dir(self.stage_dir.path().join("_reports")) else {
            return out;
        };
        for entry in entries.flatten() {
            let Ok(report) =
                serde_json::from_slice::<serde_json::Value>(&std::fs::read(entry.path()).unwrap())
            else {
                continue;
            };
            let mut objects: Vec<&serde_json::Value> = Vec::new();
            for key in ["objects"] {
                if let Some(list) = report[key].as_array() {
                    objects.extend(list);
                }
            }
            if let Some(list) = report["report"]["extracted"].as_array() {
                objects.extend(list);
            }
            for o in objects {
                for f in o["refused_fields"].as_array().into_iter().flatten() {
                    out.insert((
                        o["object"].as_str().unwrap_or_default().to_owned(),
                        f.as_str().unwrap_or_default().to_owned(),
                    ));
                }
            }
        }
        out
    }
}

/// An Intacct wire value equals a SQL API wire value of the column's type.
pub(crate) fn same_value(
    column_type: ColumnType,
    intacct: Option<&str>,
    snowflake: Option<&str>,
    tz: chrono_tz::Tz,
) -> bool {
    let (Some(i), Some(s)) = (intacct, snowflake) else {
        return intacct.is_none() && snowflake.is_none();
    };
    match column_type {
        ColumnType::Text => i == s,
        ColumnType::Integer => {
            i.trim().parse::<f64>().ok() == s.parse::<f64>().ok() && s.parse::<i64>().is_ok()
        }
        // Compared as values: a DECIMAL or PERCENT column carries up to 18 fraction digits.
        ColumnType::Decimal { .. } => canonical_decimal(i.trim()) == canonical_decimal(s),
        ColumnType::Boolean => i.eq_ignore_ascii_case(s),
        ColumnType::Date => {
            let days: i64 = s.parse().unwrap();
            let date = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + Duration::days(days);
            NaiveDate::parse_from_str(i, "%m/%d/%Y").ok() == Some(date)
        }
        ColumnType::Timestamp => {
            let secs: i64 = s.split(['.', ' ']).next().unwrap().parse().unwrap();
            tenant_time::parse(i, tz).ok().map(|t| t.timestamp()) == Some(secs)
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_twice_backfill_replay_and_verify_end_equal_to_the_simulator() {
    let w = World::start().await;
    w.ok(&["init"]).await;
    w.ok(&["run", "--no-progress"]).await;
    w.assert_equal_to_truth("after the first run").await;
    // Views exist once their tables do.
    let views = w.ok(&["init"]).await;
    assert!(views.contains("AP_AGING"), "{views}");

    w.sim.advance_days(2).await.unwrap();
    let out = w.ok(&["run", "--no-progress"]).await;
    assert!(out.contains("loaded"), "{out}");
    w.assert_equal_to_truth("after a second run two simulated days later")
        .await;
    let state = w.manifest().await;
    let clock = sim_clock(&w.sim).await;
    for (object, marks) in &state.objects {
        assert_eq!(marks.watermark, Some(clock), "{object}");
    }

    let from = (clock - Duration::days(730)).format("%Y-%m-%d").to_string();
    let to = clock.format("%Y-%m-%d").to_string();
    w.ok(&[
        "backfill",
        "--from",
        &from,
        "--to",
        &to,
        "--window",
        "365d",
        "--no-progress",
    ])
    .await;
    w.assert_equal_to_truth("after a two-year backfill").await;
    let after_backfill = w.manifest().await;
    for (object, marks) in &after_backfill.objects {
        assert_eq!(
            marks.watermark,
            Some(clock),
            "{object}: a backfill moved the watermark"
        );
    }

    let old = state
        .batches_of("APBILL")
        .find(|b| b.mode == Mode::Nightly)
        .unwrap()
        .batch_id
        .clone();
    let out = w.ok(&["replay", "--batch", &old]).await;
    assert!(out.contains("loaded"), "{out}");
    w.assert_equal_to_truth("after replaying the first APBILL batch")
        .await;

    let out = w.ok(&["verify"]).await;
    assert!(!out.contains("DIFFERS"), "{out}");

    let status = w.ok(&["status", "--json"]).await;
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status.as_array().unwrap().len(), 12);
    w.sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_killed_midway_redoes_no_completed_window() {
    let w = World::start().await;
    w.ok(&["init"]).await;
    let clock = sim_clock(&w.sim).await;
    let from = (clock - Duration::days(3 * 365))
        .format("%Y-%m-%d")
        .to_string();
    let to = clock.format("%Y-%m-%d").to_string();
    let args = [
        "backfill",
        "--from",
        &from,
        "--to",
        &to,
        "--window",
        "90d",
        "--objects",
        "VENDOR,APBILL,APBILLITEM",
        "--no-progress",
    ];
    // Kill it once some windows are loaded.
    let mut child = w.command(&args, clock).spawn().unwrap();
    let stage_dir: PathBuf = w.stage_dir.path().to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let loaded = loaded_backfill_windows(&stage_dir).await;
        if loaded >= 4 || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = w.manifest().await;
    let loaded_before: BTreeSet<(String, Option<DateTime<Utc>>)> = before
        .batches
        .values()
        .filter(|b| b.mode == Mode::Backfill && b.status == BatchStatus::Loaded)
        .map(|b| (b.object.clone(), b.window_from))
        .collect();
    assert!(
        !loaded_before.is_empty(),
        "the backfill was killed before loading a window"
    );
    let out = w.cli(&args).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = w.manifest().await;
    for b in after.batches.values().filter(|b| b.mode == Mode::Backfill) {
        if b.created_version > before.version {
            assert!(
                !loaded_before.contains(&(b.object.clone(), b.window_from)),
                "{} window from {:?} was loaded before the kill and extracted again",
                b.object,
                b.window_from
            );
        }
    }
    // Every window is loaded exactly once.
    let mut per_window: BTreeMap<(String, Option<DateTime<Utc>>), u32> = BTreeMap::new();
    for b in after
        .batches
        .values()
        .filter(|b| b.mode == Mode::Backfill && b.status == BatchStatus::Loaded)
    {
        *per_window
            .entry((b.object.clone(), b.window_from))
            .or_default() += 1;
    }
    assert!(per_window.values().all(|n| *n == 1), "{per_window:?}");
    assert_eq!(per_window.len(), 3 * 13, "{per_window:?}");
    w.sim.shutdown().await.unwrap();
}

async fn loaded_backfill_windows(stage_dir: &Path) -> usize {
    let Ok(stage) = Stage::open(stage_dir.to_str().unwrap()) else {
        return 0;
    };
    match Manifest::open(stage, "peek").await {
        Ok(m) => m
            .state()
            .batches
            .values()
            .filter(|b| b.mode == Mode::Backfill && b.status == BatchStatus::Loaded)
            .count(),
        Err(_) => 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_read_backfill_window_resumes_from_its_recorded_position() {
    let mut w = World::start().await;
    // Small pages and a checkpoint after every page, so the window is many pages long.
    let config = w.stage_dir.path().join("pipeline.toml");
    let text = std::fs::read_to_string(&w.config).unwrap().replace(
        "channel_pages = 4",
        "channel_pages = 4\ncheckpoint_pages = 1",
    ) + "\n[extract.object.APBILLITEM]\npage_size = 100\n";
    std::fs::write(&config, text).unwrap();
    w.config = config;
    w.ok(&["init"]).await;
    let clock = sim_clock(&w.sim).await;
    let from = (clock - Duration::days(5 * 365))
        .format("%Y-%m-%d")
        .to_string();
    let to = (clock + Duration::days(1)).format("%Y-%m-%d").to_string();
    let args = [
        "backfill",
        "--from",
        &from,
        "--to",
        &to,
        "--window",
        "3000d",
        "--objects",
        "APBILLITEM",
        "--no-progress",
    ];
    let mut child = w.command(&args, clock).spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let (batch_id, recorded) = loop {
        let state = w.manifest().await;
        let part_written = state
            .batches
            .values()
            .find(|b| b.progress.as_ref().is_some_and(|p| p.files.len() >= 3));
        if let Some(b) = part_written {
            break (b.batch_id.clone(), b.progress.clone().unwrap().files);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no progress was recorded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let killed_at = w.manifest().await;
    let recorded_at_kill = killed_at.batches[&batch_id].progress.clone();
    assert_eq!(killed_at.batches[&batch_id].status, BatchStatus::Created);

    let out = w.ok(&args).await;
    assert!(out.contains("1 resumed"), "{out}");
    let after = w.manifest().await;
    let batch = &after.batches[&batch_id];
    assert_eq!(
        batch.status,
        BatchStatus::Loaded,
        "the part-written batch went on and loaded"
    );
    let kept = recorded_at_kill.map(|p| p.files).unwrap_or(recorded);
    assert!(
        batch.files.starts_with(&kept),
        "the resumed batch dropped files it had recorded"
    );
    assert!(batch.files.len() > kept.len());
    let backfills: Vec<_> = after
        .batches
        .values()
        .filter(|b| b.mode == Mode::Backfill)
        .collect();
    assert_eq!(
        backfills.len(),
        1,
        "the window was not read again in a new batch"
    );
    w.compare_objects("after a resumed backfill", Some(&["APBILLITEM"]))
        .await
        .unwrap();
    w.sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_prints_what_init_and_a_load_would_send_and_sends_nothing() {
    let w = World::start().await;
    w.ok(&["extract", "--objects", "VENDOR", "--no-progress"])
        .await;
    let state = w.manifest().await;
    let batch = state.batches_of("VENDOR").next().unwrap().batch_id.clone();
    let before = w.emulator.statements_executed().await;
    let out = w.ok(&["sql", "--objects", "VENDOR"]).await;
    assert_eq!(
        w.emulator.statements_executed().await,
        before,
        "sql sent a statement"
    );
    for expected in [
        "CREATE FILE FORMAT IF NOT EXISTS",
        "CREATE STAGE IF NOT EXISTS",
        "CREATE TABLE IF NOT EXISTS \"INTACCT\".\"RAW\".\"VENDOR\"",
        "CREATE TRANSIENT TABLE IF NOT EXISTS \"INTACCT\".\"RAW\".\"VENDOR_STG\"",
        "COPY INTO \"INTACCT\".\"RAW\".\"VENDOR_STG\"",
        "MERGE INTO \"INTACCT\".\"RAW\".\"VENDOR\"",
        "DELETE FROM \"INTACCT\".\"RAW\".\"VENDOR_STG\"",
    ] {
        assert!(out.contains(expected), "{expected} missing from:\n{out}");
    }
    assert!(out.contains(&batch), "the staged batch is not named");
    assert_eq!(out.matches("COPY INTO").count(), 1);
    w.sim.shutdown().await.unwrap();
}
