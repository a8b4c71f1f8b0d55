//! Chaos (run by `scripts/chaos.sh N`, ignored in the ordinary suite). Each seed draws its
//! own world and prints the draw on one line, so a divergence can be replayed alone
//! (`CHAOS_SEED=17 scripts/chaos.sh 1`): the simulator's dataset seed and scale (tiny or
//! demo), its fault mix and fault seed, the emulator's fault mix and seed, the objects and
//! their page sizes (small enough that reads span several pages, nightly slices and backfill
//! windows checkpoint mid-window), one company or two entities (`intacct.entities`), a local
//! stage or an S3 one on moto behind a proxy answering `503 SlowDown` and dropping connections
//! before and after forwarding, the tool's clock skewed either way within the lookback, a
//! local disk that fills up half-way through a part, and manifest commits torn after a kill.
//!
//! Then `init`, two or three nightly `run`s with simulated days between them, a `backfill` of
//! several windows and a `replay`; each command but `init` is killed with SIGKILL at a random
//! moment or at a load crash point on its first attempt (one time in three on its second
//! too) and started again until it completes. After each nightly `run`, the
//! `backfill` and the `replay`, every target table is compared with the simulator's truth
//! (`support::truth_as_of`: values, every column, deleted rows absent, excusing only what no
//! correct run could have seen yet); a divergence names the step after which it appeared,
//! the object, key and column, and keeps the log, stage and manifest.
//!
//! `CHAOS_PLANTED_BUG=1` is the harness's self-test: the loader skips one MERGE in about
//! twenty (`INTACCT_SNOWFLAKE_TEST_PLANTED_BUG`), and the test fails unless some seed
//! diverges.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use intacct_sim::{MultiEntity, Scale, SimConfig};
use object_store::ObjectStoreExt;

use intacct_snowflake::manifest::{BatchStatus, Mode};

use crate::support::demo_pipeline::sim_clock;
use crate::support::s3_fault_proxy::{S3FaultProxy, S3Faults};
use crate::support::truth_as_of;
use crate::support::world::World;

/// Crash points inside a load (see `loader::load`).
const CRASH_POINTS: &[&str] = &[
    "sent-copy-1",
    "after-copy-1",
    "sent-merge",
    "after-merge",
    "sent-cleanup",
    "after-cleanup",
];

const OBJECTS: [&str; 12] = [
    "VENDOR",
    "APBILL",
    "APBILLITEM",
    "APPYMT",
    "APPYMTDETAIL",
    "GLACCOUNT",
    "DEPARTMENT",
    "LOCATION",
    "CLASS",
    "PROJECT",
    "CUSTOMER",
    "EMPLOYEE",
];

/// The simulator's fault mixes (the `seed=` item is added per seed).
const SIM_MIXES: &[(&str, &str)] = &[
    (
        "light",
        "rate-limit:rate=0.03,http503:rate=0.02,reset:rate=0.02,session-expiry:rate=0.01",
    ),
    (
        "standard",
        "rate-limit:rate=0.05,http503:rate=0.03,http502:rate=0.02,session-expiry:rate=0.02,reset:rate=0.02,truncate:rate=0.02,slow=150:rate=0.03,concurrency:rate=0.02",
    ),
    (
        "heavy",
        "rate-limit:rate=0.06,http503:rate=0.03,http502:rate=0.02,http500:rate=0.02,session-expiry:rate=0.02,reset:rate=0.02,truncate:rate=0.02,truncate-xml:rate=0.02,slow=150:rate=0.02,concurrency:rate=0.02,expire-result-id:rate=0.03",
    ),
];

/// The emulator's fault mixes (the `seed=` item is added per seed).
const EMULATOR_MIXES: &[(&str, &str)] = &[
    (
        "light",
        "429:any:rate=0.05,503:any:rate=0.03,drop:any:rate=0.03",
    ),
    (
        "standard",
        "429:any:rate=0.1,503:any:rate=0.05,drop:any:rate=0.05,running=1:any:rate=0.05,401:any:rate=0.03,slow=0.2:any:rate=0.02",
    ),
    (
        "heavy",
        "429:any:rate=0.08,503:any:rate=0.05,drop:any:rate=0.05,drop:merge:rate=0.1,running=1:any:rate=0.05,401:any:rate=0.03,slow=0.2:any:rate=0.02",
    ),
];

/// The pipeline's `extract.lookback_secs` and `extract.clock_margin_secs`
/// (pipelines/demo.toml; the chaos pipeline sets no per-object lookback): skews stay inside
/// the lookback, since the tool refuses a run (`ClockSkew`) when its clock and the gateway's
/// differ by more, and a seed drawn outside it would be refused at every attempt.
/// `chaos` checks both against the file.
const LOOKBACK_SECS: i64 = 7200;
const CLOCK_MARGIN_SECS: i64 = 0;

/// The largest skew a seed draws: the lookback less ten minutes (the gateway's time is its
/// `sessiontimestamp` plus what the tool counted since, so the clocks it compares can drift a
/// few seconds apart from the drawn skew).
const MAX_SKEW_SECS: i64 = LOOKBACK_SECS - 600;

/// Slack allowed past the expected end of a nightly window: the gateway's time runs on from
/// its `sessiontimestamp` by what the tool counted since the answer arrived.
const WINDOW_END_SLACK_SECS: i64 = 60;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
}

#[derive(Clone, Copy, PartialEq)]
enum StageKind {
    Local,
    S3,
}

/// Everything a seed draws.
struct Draw {
    seed: u64,
    dataset_seed: u64,
    demo_scale: bool,
    sim_mix: usize,
    sim_fault_seed: u64,
    emulator_mix: usize,
    emulator_fault_seed: u64,
    objects: Vec<&'static str>,
    page_sizes: Vec<(&'static str, u32)>,
    entities: bool,
    stage: StageKind,
    s3_faults: S3Faults,
    skew_secs: i64,
    disk_full: bool,
    torn_manifest: bool,
    nights: u32,
    backfill_days: i64,
    backfill_window_days: i64,
    replay: &'static str,
}

impl Draw {
    fn of(seed: u64) -> Draw {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xC4A0);
        for _ in 0..4 {
            rng.next();
        }
        let dataset_seed = 1 + rng.below(1_000_000);
        // Demo scale (thousands of records a night) one seed in ten: its reads and
        // comparisons take several times a tiny seed's, and the paths it adds (pages of
        // hundreds, parts of many rows) are the same on every seed that draws it.
        let demo_scale = rng.chance(10);
        let sim_mix = rng.below(SIM_MIXES.len() as u64) as usize;
        let sim_fault_seed = rng.below(1_000_000);
        let emulator_mix = rng.below(EMULATOR_MIXES.len() as u64) as usize;
        let emulator_fault_seed = rng.below(1_000_000);
        // Half the seeds load all twelve objects; the others a subset, a line object always
        // with its header.
        let objects: Vec<&'static str> = if rng.chance(2) {
            OBJECTS.to_vec()
        } else {
            let mut chosen: Vec<&'static str> =
                OBJECTS.iter().copied().filter(|_| !rng.chance(3)).collect();
            for (line, header) in [("APBILLITEM", "APBILL"), ("APPYMTDETAIL", "APPYMT")] {
                if chosen.contains(&line) && !chosen.contains(&header) {
                    chosen.push(header);
                }
            }
            if chosen.is_empty() {
                chosen.push("APBILL");
            }
            OBJECTS
                .iter()
                .copied()
                .filter(|o| chosen.contains(o))
                .collect()
        };
        let mut page_sizes = Vec::new();
        for object in &objects {
            if rng.chance(2) {
                let size = if demo_scale {
                    200 + rng.below(400) as u32
                } else {
                    3 + rng.below(20) as u32
                };
                page_sizes.push((*object, size));
            }
        }
        let entities = rng.chance(4);
        // S3 one seed in four: its every manifest commit and part is a request to moto
        // through the fault proxy, several times a local write's cost.
        let stage = if rng.chance(4) {
            StageKind::S3
        } else {
            StageKind::Local
        };
        let s3_faults = S3Faults {
            slow_down: [0.02, 0.05, 0.08][rng.below(3) as usize],
            drop_before: [0.01, 0.02, 0.04][rng.below(3) as usize],
            drop_after: [0.01, 0.02, 0.04][rng.below(3) as usize],
        };
        // A quarter of the seeds run with the tool's clock off the simulator's, either way,
        // by five minutes up to the lookback less ten minutes.
        let skew_secs = if rng.chance(4) {
            let magnitude = 300 + rng.below((MAX_SKEW_SECS - 300 + 1) as u64) as i64;
            if rng.chance(2) { magnitude } else { -magnitude }
        } else {
            0
        };
        let disk_full = stage == StageKind::Local && rng.chance(4);
        let torn_manifest = rng.chance(4);
        // Two nights (a first load and an incremental one), a third on a quarter of the seeds;
        // a backfill of two or three windows.
        let nights = 2 + u32::from(rng.chance(4));
        let backfill_days = 60 + rng.below(300) as i64;
        let backfill_window_days = (backfill_days / (2 + rng.below(2) as i64)).max(1);
        let replay = objects[rng.below(objects.len() as u64) as usize];
        Draw {
            seed,
            dataset_seed,
            demo_scale,
            sim_mix,
            sim_fault_seed,
            emulator_mix,
            emulator_fault_seed,
            objects,
            page_sizes,
            entities,
            stage,
            s3_faults,
            skew_secs,
            disk_full,
            torn_manifest,
            nights,
            backfill_days,
            backfill_window_days,
            replay,
        }
    }

    /// One line: everything needed to know what the seed ran.
    fn describe(&self) -> String {
        let pages = if self.page_sizes.is_empty() {
            "default".to_owned()
        } else {
            self.page_sizes
                .iter()
                .map(|(o, s)| format!("{o}={s}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        let stage = match self.stage {
            StageKind::Local => "local".to_owned(),
            StageKind::S3 => format!(
                "s3 (slow-down {}, drop before {}, drop after {})",
                self.s3_faults.slow_down, self.s3_faults.drop_before, self.s3_faults.drop_after
            ),
        };
        format!(
            "dataset {} {}, simulator faults {} seed {}, emulator faults {} seed {}, objects {} [{}], pages {}, entities {}, stage {}, skew {}s, disk-full {}, torn manifest {}, {} nights, backfill {}d by {}d, replay {}",
            self.dataset_seed,
            if self.demo_scale { "demo" } else { "tiny" },
            SIM_MIXES[self.sim_mix].0,
            self.sim_fault_seed,
            EMULATOR_MIXES[self.emulator_mix].0,
            self.emulator_fault_seed,
            self.objects.len(),
            self.objects.join(","),
            pages,
            if self.entities {
                "E100+E200"
            } else {
                "one company"
            },
            stage,
            self.skew_secs,
            if self.disk_full { "on" } else { "off" },
            if self.torn_manifest { "on" } else { "off" },
            self.nights,
            self.backfill_days,
            self.backfill_window_days,
            self.replay,
        )
    }

    fn sim_config(&self) -> SimConfig {
        let mut config = SimConfig::default();
        config.dataset.seed = self.dataset_seed;
        config.dataset.scale = if self.demo_scale {
            Scale::Demo
        } else {
            Scale::Tiny
        };
        if self.entities {
            config.multi_entity = Some(MultiEntity {
                entities: vec!["E100".into(), "E200".into()],
                user_entities: Some(vec!["E100".into(), "E200".into()]),
            });
        }
        config
    }

    /// The demo pipeline with this draw's objects, page sizes and entities.
    fn pipeline(&self, demo: &str) -> String {
        let objects = self
            .objects
            .iter()
            .map(|o| format!("\"{o}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let start = demo.find("objects = [").unwrap();
        let end = start + demo[start..].find(']').unwrap() + 1;
        let mut text = format!("{}objects = [{objects}]{}", &demo[..start], &demo[end..]);
        // Shorter backoffs and polls than production's, on both services: the faults come at
        // rates no tenant sees, and the retry and poll logic is the same at any scale of delay.
        text = text
            .replacen("initial_backoff_ms = 500", "initial_backoff_ms = 100", 1)
            .replacen("max_backoff_ms = 30000", "max_backoff_ms = 3000", 1)
            .replacen(
                "\n[snowflake]\n",
                "\n[snowflake]\npoll_max_backoff_ms = 250\n",
                1,
            );
        text.push_str("\n[snowflake.retry]\ninitial_backoff_ms = 100\nmax_backoff_ms = 3000\n");
        if self.entities {
            text = text.replacen(
                "page_size = 2000\n",
                "page_size = 2000\nentities = [\"E100\", \"E200\"]\n",
                1,
            );
        }
        for (object, size) in &self.page_sizes {
            text.push_str(&format!(
                "\n[extract.object.{object}]\npage_size = {size}\n"
            ));
        }
        text
    }
}

/// Test-only environment the commands of a seed take.
struct Switches {
    planted_bug: bool,
}

/// What a seed's commands are run with.
struct Seed<'a> {
    w: &'a World,
    draw: &'a Draw,
    rng: Rng,
    log: PathBuf,
    switches: &'a Switches,
    kills: u32,
    torn: u32,
    /// Seconds each command took, all attempts together.
    times: Vec<(String, u64)>,
}

impl Seed<'_> {
    /// The `now` the tool is given: the simulator's clock, skewed.
    async fn now(&self) -> DateTime<Utc> {
        sim_clock(&self.w.sim).await + chrono::Duration::seconds(self.draw.skew_secs)
    }

    /// Runs `args` until it exits 0: the first attempt, and one time in three the second,
    /// is killed at a random moment or crashes at a random load step (`init`, DDL that
    /// `CREATE … IF NOT EXISTS` makes repeatable, is not); the log of every attempt is
    /// appended to the seed's log.
    async fn until_done(&mut self, args: &[&str]) -> Result<(), String> {
        let began = Instant::now();
        let outcome = self.attempts(args).await;
        self.times
            .push((args[0].to_owned(), began.elapsed().as_secs()));
        outcome
    }

    async fn attempts(&mut self, args: &[&str]) -> Result<(), String> {
        let chaos_attempts = match args[0] {
            "init" => 0,
            _ if self.rng.chance(3) => 2,
            _ => 1,
        };
        for attempt in 0..12 {
            let now = self.now().await;
            let mut command = self.w.command(args, now);
            let chaos = attempt < chaos_attempts;
            let crash = chaos && self.rng.chance(3);
            if crash {
                command.env(
                    "INTACCT_SNOWFLAKE_CRASH_AT",
                    CRASH_POINTS[self.rng.below(CRASH_POINTS.len() as u64) as usize],
                );
            }
            if self.draw.disk_full && attempt < 2 && self.rng.chance(2) {
                // Full after some part bytes: usually half-way through a part.
                let bytes = 2_000 + self.rng.below(60_000);
                command.env(
                    "INTACCT_SNOWFLAKE_TEST_DISK_FULL_AFTER_BYTES",
                    bytes.to_string(),
                );
            }
            if self.switches.planted_bug {
                command.env("INTACCT_SNOWFLAKE_TEST_PLANTED_BUG", "skip-merge-1-in-20");
            }
            let log_file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.log)
                .unwrap();
            command
                .stdout(log_file.try_clone().unwrap())
                .stderr(log_file)
                .env("INTACCT_SNOWFLAKE_LOG", "info");
            let mut child = command.spawn().unwrap();
            let kill_after =
                (chaos && !crash).then(|| Duration::from_millis(200 + self.rng.below(3_000)));
            let started = Instant::now();
            let mut killed = false;
            let status = loop {
                if let Some(status) = child.try_wait().unwrap() {
                    break status;
                }
                if kill_after.is_some_and(|d| started.elapsed() >= d) {
                    child.kill().unwrap();
                    killed = true;
                    break child.wait().unwrap();
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            };
            if status.success() {
                return Ok(());
            }
            let sigkilled = killed || (crash && status.code().is_none());
            if sigkilled {
                self.kills += 1;
                if self.draw.torn_manifest && self.rng.chance(2) && self.tear_newest_commit().await
                {
                    self.torn += 1;
                }
            }
        }
        Err(format!("{args:?} did not complete in 12 attempts"))
    }

    /// A power loss without fsync: the newest manifest commit keeps half its bytes.
    async fn tear_newest_commit(&self) -> bool {
        let stage = self.w.stage();
        let Ok(entries) = stage.list("_manifest/").await else {
            return false;
        };
        let Some(newest) = entries
            .iter()
            .map(|e| e.path.clone())
            .filter(|p| {
                p.strip_prefix("_manifest/")
                    .is_some_and(|name| !name.contains('/') && name.ends_with(".json"))
            })
            .max()
        else {
            return false;
        };
        let Ok(Some(bytes)) = stage.get(&newest).await else {
            return false;
        };
        let half = bytes.slice(..bytes.len() / 2);
        stage
            .store()
            .put(&stage.path(&newest), half.into())
            .await
            .is_ok()
    }

    /// Where a nightly run's windows must end: at the earlier of the tool's clock (the
    /// simulator's, skewed) and the gateway's (the simulator's), less the margin. Every
    /// object's newest loaded nightly window (each stream's) ends there, give or take the
    /// gateway clock's slack: a run ending its windows earlier would leave records the truth
    /// comparison excuses as not yet seen, so this is checked rather than assumed.
    async fn check_window_ends(&self, when: &str) -> Result<(), String> {
        let sim = sim_clock(&self.w.sim).await;
        let expected = sim + chrono::Duration::seconds(self.draw.skew_secs.min(0))
            - chrono::Duration::seconds(CLOCK_MARGIN_SECS);
        let latest = expected + chrono::Duration::seconds(WINDOW_END_SLACK_SECS);
        let state = self.w.manifest().await;
        for object in &self.draw.objects {
            let mut ends: std::collections::BTreeMap<Option<String>, DateTime<Utc>> =
                std::collections::BTreeMap::new();
            for b in state.batches_of(object) {
                if b.mode == Mode::Nightly && b.status == BatchStatus::Loaded {
                    let end = ends.entry(b.entity.clone()).or_insert(b.window_to);
                    *end = (*end).max(b.window_to);
                }
            }
            if ends.is_empty() {
                return Err(format!("{when}: {object} has no loaded nightly window"));
            }
            for (entity, end) in ends {
                if end < expected || end > latest {
                    return Err(format!(
                        "{when}: {object}{}: the newest nightly window ends at {end}, not at min(local, gateway) - margin = {expected} (simulator {sim}, skew {}s)",
                        entity.map(|e| format!(" ({e})")).unwrap_or_default(),
                        self.draw.skew_secs
                    ));
                }
            }
        }
        Ok(())
    }

    /// Compares with the emulator's faults off: the comparison reads Snowflake out of band,
    /// and an injected fault there is not a loss of the tool's. The faults come back after it
    /// on a seed of their own, so each step meets a fresh sequence.
    async fn compare(&self, when: &str) -> Result<(), String> {
        let objects: Vec<String> = self.draw.objects.iter().map(|o| o.to_string()).collect();
        self.w.emulator.set_faults("").await;
        let outcome = truth_as_of::compare(self.w, when, &objects, false).await;
        let step_seed = when.bytes().fold(self.draw.emulator_fault_seed, |h, b| {
            h.wrapping_mul(31).wrapping_add(u64::from(b))
        });
        self.w
            .emulator
            .set_faults(&format!(
                "{},seed={step_seed}",
                EMULATOR_MIXES[self.draw.emulator_mix].1
            ))
            .await;
        outcome
    }
}

/// One seed: its world, its commands and the comparisons after each step; the seed's figures
/// (kills, torn commits, stage faults) on success.
async fn one_seed(draw: &Draw, keep: &Path, switches: &Switches) -> Result<String, String> {
    let mut w = match draw.stage {
        StageKind::Local => World::start_with(draw.sim_config()).await,
        StageKind::S3 => World::start_on_s3_with(draw.sim_config()).await,
    };
    let proxy = match &mut w.s3 {
        Some(s3) => {
            let proxy =
                S3FaultProxy::start(&s3.moto.endpoint, draw.s3_faults, draw.sim_fault_seed).await;
            s3.binary_endpoint = Some(proxy.endpoint.clone());
            Some(proxy)
        }
        None => None,
    };
    let config = w.stage_dir.path().join("pipeline.toml");
    let demo = std::fs::read_to_string(&w.config).unwrap();
    std::fs::write(&config, draw.pipeline(&demo)).unwrap();
    w.config = config;
    let log = keep.join(format!("seed-{}.log", draw.seed));
    w.sim
        .set_faults(&format!(
            "{},seed={}",
            SIM_MIXES[draw.sim_mix].1, draw.sim_fault_seed
        ))
        .await
        .unwrap();
    w.emulator
        .set_faults(&format!(
            "{},seed={}",
            EMULATOR_MIXES[draw.emulator_mix].1, draw.emulator_fault_seed
        ))
        .await;
    let mut seed = Seed {
        w: &w,
        draw,
        rng: Rng(draw.seed ^ 0x5EED),
        log: log.clone(),
        switches,
        kills: 0,
        torn: 0,
        times: Vec::new(),
    };
    let outcome = steps(&mut seed).await;
    let (kills, torn) = (seed.kills, seed.torn);
    let times = seed
        .times
        .iter()
        .map(|(command, secs)| format!("{command} {secs}s"))
        .collect::<Vec<_>>()
        .join(" ");
    if outcome.is_err() {
        let stage = keep.join(format!("seed-{}-stage", draw.seed));
        let _ = std::process::Command::new("cp")
            .args([
                "-r",
                w.stage_dir.path().to_str().unwrap(),
                stage.to_str().unwrap(),
            ])
            .status();
        if w.s3.is_some() {
            let _ = copy_s3_stage(&w, &stage).await;
        }
    } else if std::env::var_os("CHAOS_KEEP_LOGS").is_none() {
        let _ = std::fs::remove_file(&log);
    }
    let figures = format!(
        "{kills} kills, {torn} torn commits{}; {times}",
        proxy
            .as_ref()
            .map(|p| format!(", S3 {}", p.summary()))
            .unwrap_or_default()
    );
    drop(proxy);
    w.sim.shutdown().await.unwrap();
    outcome.map(|()| figures)
}

/// The S3 stage's objects, copied under `dir/s3/` for a divergence's post-mortem.
async fn copy_s3_stage(w: &World, dir: &Path) -> Result<(), String> {
    let stage = w.stage();
    for entry in stage.list("").await.map_err(|e| e.to_string())? {
        if let Ok(Some(bytes)) = stage.get(&entry.path).await {
            let path = dir.join("s3").join(&entry.path);
            std::fs::create_dir_all(path.parent().unwrap()).map_err(|e| e.to_string())?;
            std::fs::write(path, bytes).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// `init`, the nightly runs with days between them, a backfill and a replay, with the
/// comparison after every step that loads.
async fn steps(seed: &mut Seed<'_>) -> Result<(), String> {
    seed.until_done(&["init"]).await?;
    for night in 1..=seed.draw.nights {
        if night > 1 {
            let days = 1 + seed.rng.below(3) as u32;
            seed.w.sim.advance_days(days).await.unwrap();
        }
        seed.until_done(&["run", "--no-progress"]).await?;
        let when = format!("after nightly run {night}");
        seed.check_window_ends(&when).await?;
        seed.compare(&when).await?;
    }
    let clock = seed.now().await;
    let from = (clock - chrono::Duration::days(seed.draw.backfill_days))
        .format("%Y-%m-%d")
        .to_string();
    let to = clock.format("%Y-%m-%d").to_string();
    let window = format!("{}d", seed.draw.backfill_window_days);
    seed.until_done(&[
        "backfill",
        "--from",
        &from,
        "--to",
        &to,
        "--window",
        &window,
        "--no-progress",
    ])
    .await?;
    seed.compare("after the backfill").await?;
    let replay = seed.draw.replay;
    seed.until_done(&["replay", "--object", replay]).await?;
    seed.compare(&format!("after the replay of {}", seed.draw.replay))
        .await?;
    Ok(())
}

/// The demo pipeline's lookback and clock margin are the ones the draws and the window-end
/// check assume, and no object has a lookback of its own.
fn check_pipeline_clock_settings() {
    let text =
        std::fs::read_to_string(crate::support::repo_root().join("pipelines/demo.toml")).unwrap();
    let pipeline: toml::Value = toml::from_str(&text).unwrap();
    let extract = &pipeline["extract"];
    assert_eq!(
        extract["lookback_secs"].as_integer(),
        Some(LOOKBACK_SECS),
        "pipelines/demo.toml's lookback_secs"
    );
    assert_eq!(
        extract
            .get("clock_margin_secs")
            .and_then(|v| v.as_integer()),
        Some(CLOCK_MARGIN_SECS),
        "pipelines/demo.toml's clock_margin_secs"
    );
    assert!(extract.get("object").is_none(), "no per-object lookback");
    assert!((1..LOOKBACK_SECS).contains(&MAX_SKEW_SECS));
}

#[test]
fn skews_stay_within_the_lookback() {
    check_pipeline_clock_settings();
    let mut skewed = 0;
    for seed in 1..=2_000 {
        let skew = Draw::of(seed).skew_secs;
        assert!(skew.abs() <= MAX_SKEW_SECS, "seed {seed}: skew {skew}s");
        assert!(skew == 0 || skew.abs() >= 300, "seed {seed}: skew {skew}s");
        skewed += usize::from(skew != 0);
    }
    assert!(
        (300..700).contains(&skewed),
        "{skewed} skewed seeds in 2000"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long: run by scripts/chaos.sh"]
async fn chaos() {
    let runs: u64 = std::env::var("CHAOS_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    let first: u64 = std::env::var("CHAOS_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let switches = Switches {
        planted_bug: std::env::var("CHAOS_PLANTED_BUG").is_ok_and(|v| v == "1"),
    };
    let keep = PathBuf::from(std::env::var("CHAOS_DIR").unwrap_or_else(|_| {
        std::env::temp_dir()
            .join(format!(
                "intacct-snowflake-chaos-{}",
                Utc::now().format("%Y%m%dT%H%M%S")
            ))
            .display()
            .to_string()
    }));
    // Seeds are independent worlds (each its own simulator, emulator and stage) and spend
    // most of their time waiting on injected latency and backoff, so a few run at once.
    let jobs: usize = std::env::var("CHAOS_JOBS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
        .max(1);
    check_pipeline_clock_settings();
    std::fs::create_dir_all(&keep).unwrap();
    let mut divergences = Vec::new();
    let switches = &switches;
    let mut outcomes = futures::stream::iter(first..first + runs)
        .map(|seed| {
            let keep = keep.clone();
            async move {
                let draw = Draw::of(seed);
                println!("seed {seed}: draws {}", draw.describe());
                let started = Instant::now();
                let outcome = one_seed(&draw, &keep, switches).await;
                (seed, started.elapsed(), outcome)
            }
        })
        .buffer_unordered(jobs);
    while let Some((seed, took, outcome)) = outcomes.next().await {
        match outcome {
            Ok(figures) => println!(
                "seed {seed}: equal to the truth after every step ({figures}; {:.0}s)",
                took.as_secs_f64()
            ),
            Err(why) => {
                println!(
                    "seed {seed}: DIVERGED {why} ({:.0}s; log, stage and manifest kept in {})",
                    took.as_secs_f64(),
                    keep.display()
                );
                divergences.push(seed);
            }
        }
    }
    divergences.sort_unstable();
    println!("{runs} runs, {} divergences", divergences.len());
    if switches.planted_bug {
        println!(
            "self-test: {}",
            if divergences.is_empty() {
                "FAILED: the planted bug went unseen"
            } else {
                "the planted bug was seen"
            }
        );
        assert!(
            !divergences.is_empty(),
            "the planted bug (one MERGE in twenty skipped) went unseen in {runs} runs"
        );
    } else {
        assert!(
            divergences.is_empty(),
            "diverging seeds {divergences:?}; see {}",
            keep.display()
        );
    }
}
