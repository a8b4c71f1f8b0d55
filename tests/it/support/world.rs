//! The demo pipeline run through the binary against the simulator and the Snowflake emulator,
//! and the comparison of every loaded table with the simulator's ground truth: what the
//! end-to-end, chaos, entity and key tests drive.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Output};

use chrono::{DateTime, Utc};
use intacct_sim::{self as sim, SimConfig, SimHandle};
use intacct_snowflake::intacct::column_name;
use intacct_snowflake::manifest::schemas::{self, ColumnType};
use intacct_snowflake::manifest::{BatchStatus, Manifest};
use intacct_snowflake::snowflake::Statement;
use intacct_snowflake::stage::Stage;

use super::demo_pipeline::sim_clock;
use super::emulator::{Emulator, EmulatorOptions};
use super::ground_truth::same_value;
use super::keys::TestKeys;
use super::load_harness::{ACCOUNT, USER, client};
use super::wall_clock::WallClock;
use super::{binary, repo_root};

/// The demo pipeline's tenant time zone (its default, the simulator's default).
const TENANT_ZONE: &str = "America/Los_Angeles";

/// A simulator, an emulator trusting a key pair made for it, and a stage directory: what the
/// binary runs the demo pipeline against.
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
        World::start_with(SimConfig::default()).await
    }

    /// As [`World::start`], with a simulator of `config`.
    pub(crate) async fn start_with(config: SimConfig) -> World {
        let sim = sim::spawn(config).await.unwrap();
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
            // The instant of every timestamp the truth holds, read independently.
            let timestamp_columns: BTreeSet<&str> = columns
                .iter()
                .filter(|c| matches!(c.column_type, ColumnType::Timestamp))
                .map(|c| c.name.as_str())
                .collect();
            let timestamps = WallClock::of(
                TENANT_ZONE,
                truth.iter().flat_map(|record| {
                    record
                        .iter()
                        .filter(|(field, _)| {
                            timestamp_columns.contains(column_name(field).as_str())
                        })
                        .filter_map(|(_, value)| value.as_str())
                        .filter(|text| !text.is_empty())
                }),
            );
            for record in &truth {
                let key: i64 = record["RECORDNO"].as_str().unwrap().parse().unwrap();
                let row = target[&key];
                for (i, column) in columns.iter().enumerate() {
                    let field = record.keys().find(|k| column_name(k) == column.name);
                    let expected = field
                        .and_then(|f| record[f].as_str())
                        .filter(|s| !s.is_empty());
                    let got = row[i].as_deref();
                    if !same_value(column.column_type, expected, got, &timestamps) {
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
