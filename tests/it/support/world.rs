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
use intacct_snowflake::snowflake::{SnowflakeClient, Statement};
use intacct_snowflake::stage::Stage;

use super::demo_pipeline::sim_clock;
use super::emulator::{Emulator, EmulatorOptions};
use super::ground_truth::same_value;
use super::keys::TestKeys;
use super::load_harness::{ACCOUNT, USER, client_config};
use super::moto::Moto;
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
    /// The stage (a local one), and a directory for files a test writes.
    pub(crate) stage_dir: tempfile::TempDir,
    /// The stage on S3 instead, when the world has one.
    pub(crate) s3: Option<S3Stage>,
    /// The database and schema the pipeline loads, as stored: what the comparisons read.
    pub(crate) target: (String, String),
}

/// A stage under a prefix of a bucket on moto, which the emulator reads as an external S3
/// stage through a storage integration.
pub(crate) struct S3Stage {
    pub(crate) moto: Moto,
    /// The prefix in the bucket (ending with `/`).
    pub(crate) prefix: String,
    /// The endpoint the binary writes through, when not moto itself (a fault proxy).
    pub(crate) binary_endpoint: Option<String>,
}

/// The storage integration an S3 world's emulator declares and its pipeline names.
pub(crate) const STORAGE_INTEGRATION: &str = "INTACCT_S3";

impl S3Stage {
    /// `s3://bucket/prefix/`.
    pub(crate) fn url(&self) -> String {
        format!("s3://{}/{}", self.moto.bucket, self.prefix)
    }

    /// The AWS variables of the test's account on moto: what the binary's stage and the
    /// emulator's S3 reads take.
    pub(crate) fn aws_env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.moto.endpoint.as_str()),
            ("AWS_ALLOW_HTTP", "true"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "testing-key"),
            ("AWS_SECRET_ACCESS_KEY", "testing-secret"),
            ("AWS_VIRTUAL_HOSTED_STYLE_REQUEST", "false"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }
}

impl World {
    pub(crate) async fn start() -> World {
        World::start_with(SimConfig::default()).await
    }

    /// As [`World::start`], with a simulator of `config`.
    pub(crate) async fn start_with(config: SimConfig) -> World {
        let keys = TestKeys::generate();
        let mut options = EmulatorOptions::key_pair(&keys.public, ACCOUNT, USER);
        options.require_warehouse = true;
        World::with_sim_and_emulator(config, keys, &options).await
    }

    /// A world whose emulator starts with `options` (made for `keys`).
    pub(crate) async fn with_emulator(keys: TestKeys, options: &EmulatorOptions) -> World {
        World::with_sim_and_emulator(SimConfig::default(), keys, options).await
    }

    /// A world whose simulator runs `config` and whose emulator starts with `options`.
    async fn with_sim_and_emulator(
        config: SimConfig,
        keys: TestKeys,
        options: &EmulatorOptions,
    ) -> World {
        let sim = sim::spawn(config).await.unwrap();
        World::of(sim, Emulator::start(options), keys)
    }

    /// The demo pipeline on a local stage, against `sim` and `emulator` (which trusts `keys`).
    pub(crate) fn of(sim: SimHandle, emulator: Emulator, keys: TestKeys) -> World {
        World {
            config: repo_root().join("pipelines/demo.toml"),
            sim,
            emulator,
            keys,
            stage_dir: tempfile::tempdir().unwrap(),
            s3: None,
            target: ("INTACCT".to_owned(), "RAW".to_owned()),
        }
    }

    /// A world whose stage is on S3 (moto): the binary writes it through the AWS variables,
    /// and the emulator reads it as an external stage with the storage integration
    /// [`STORAGE_INTEGRATION`].
    pub(crate) async fn start_on_s3() -> World {
        World::start_on_s3_with(SimConfig::default()).await
    }

    /// As [`World::start_on_s3`], with a simulator of `config`.
    pub(crate) async fn start_on_s3_with(config: SimConfig) -> World {
        let s3 = S3Stage {
            moto: Moto::start("intacct-stage").await,
            prefix: "finance/intacct/".to_owned(),
            binary_endpoint: None,
        };
        let keys = TestKeys::generate();
        let mut options = EmulatorOptions::key_pair(&keys.public, ACCOUNT, USER);
        options.require_warehouse = true;
        options.s3_endpoint = Some(s3.moto.endpoint.clone());
        options.storage_integrations = vec![STORAGE_INTEGRATION.to_owned()];
        options.env = s3.aws_env();
        let mut world = World::with_sim_and_emulator(config, keys, &options).await;
        world.s3 = Some(s3);
        world
    }

    /// The stage the commands write, as the test opens it.
    pub(crate) fn stage(&self) -> Stage {
        match &self.s3 {
            Some(s3) => s3.moto.stage(&s3.prefix),
            None => Stage::open(self.stage_dir.path().to_str().unwrap()).unwrap(),
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
            .env("SNOWFLAKE_URL", &self.emulator.base_url)
            .env("SNOWFLAKE_PRIVATE_KEY_PATH", &self.keys.pkcs8)
            .env("INTACCT_SNOWFLAKE_NOW", now.to_rfc3339())
            .env("INTACCT_SNOWFLAKE_LOG", "warn")
            .env_remove("INTACCT_SNOWFLAKE_CRASH_AT");
        match &self.s3 {
            Some(s3) => {
                command
                    .env("STAGE_URL", s3.url())
                    .env("SNOWFLAKE_STORAGE_INTEGRATION", STORAGE_INTEGRATION)
                    .envs(s3.aws_env());
                if let Some(endpoint) = &s3.binary_endpoint {
                    command.env("AWS_ENDPOINT_URL", endpoint);
                }
            }
            None => {
                command.env("STAGE_URL", self.stage_dir.path());
            }
        }
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
        Manifest::open(self.stage(), "check")
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
        let stage = self.stage();
        let client = self.reader();
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
        let refused = self.refused_fields().await;
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
                        "SELECT {select} FROM \"{}\".\"{}\".\"{object}\" WHERE NOT COALESCE(\"_DELETED\", FALSE)",
                        self.target.0, self.target.1
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

    /// A SQL API client of the emulator reading the pipeline's database and schema.
    pub(crate) fn reader(&self) -> SnowflakeClient {
        let mut config = client_config(&self.emulator, self.keys.pkcs8.clone());
        config.database = self.target.0.clone();
        config.schema = self.target.1.clone();
        SnowflakeClient::new(config).unwrap()
    }

    /// (object, field) pairs the run reports list as refused by the gateway.
    pub(crate) async fn refused_fields(&self) -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        let stage = self.stage();
        let Ok(entries) = stage.list("_reports/").await else {
            return out;
        };
        for entry in entries {
            let Ok(Some(bytes)) = stage.get(&entry.path).await else {
                continue;
            };
            let Ok(report) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
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
