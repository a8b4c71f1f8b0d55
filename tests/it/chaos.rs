//! Chaos (run by `scripts/chaos.sh N`, ignored in the ordinary suite): for each seed, `run`,
//! simulated days, `run`, `backfill` and `replay` of the demo pipeline (with pages small
//! enough that the large objects are read as several slices at once and backfill windows
//! checkpoint mid-window) against the simulator and the emulator with
//! random faults on both, each command killed with SIGKILL at a random moment (or at a load
//! crash point: between COPY and MERGE, after MERGE, during the manifest commits) and started
//! again until it completes; then every target table is compared with the simulator's ground
//! truth, values included. A divergence keeps the seed, logs, stage and manifest, and says where.

use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;

use crate::support::demo_pipeline::sim_clock;
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
}

/// Runs `args` until it exits 0: the first attempts are killed at a random moment or crash
/// at a random load step; the log of every attempt is appended to `log`.
async fn until_done(w: &World, rng: &mut Rng, args: &[&str], log: &PathBuf) -> Result<(), String> {
    for attempt in 0..12 {
        let now = sim_clock(&w.sim).await;
        let mut command = w.command(args, now);
        let chaos = attempt < 3;
        let crash = chaos && rng.below(3) == 0;
        if crash {
            command.env(
                "INTACCT_SNOWFLAKE_CRASH_AT",
                CRASH_POINTS[rng.below(CRASH_POINTS.len() as u64) as usize],
            );
        }
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        command
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .env("INTACCT_SNOWFLAKE_LOG", "info");
        let mut child = command.spawn().unwrap();
        let status = if chaos && !crash {
            let delay = Duration::from_millis(200 + rng.below(4_000));
            let started = std::time::Instant::now();
            loop {
                if let Some(status) = child.try_wait().unwrap() {
                    break status;
                }
                if started.elapsed() >= delay {
                    child.kill().unwrap();
                    break child.wait().unwrap();
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        } else {
            loop {
                if let Some(status) = child.try_wait().unwrap() {
                    break status;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        if status.success() {
            return Ok(());
        }
    }
    Err(format!("{args:?} did not complete in 12 attempts"))
}

async fn one_seed(seed: u64, keep: &std::path::Path) -> Result<(), String> {
    let mut rng = Rng(seed);
    let mut w = World::start().await;
    // Pages small enough that the bill, line and payment-line objects span several pages:
    // nightly reads split them into RECORDNO slices read at once, and backfill windows
    // checkpoint and resume within a window.
    let config = w.stage_dir.path().join("pipeline.toml");
    let text = std::fs::read_to_string(&w.config).unwrap()
        + "\n[extract.object.APBILL]\npage_size = 400\n\
           \n[extract.object.APBILLITEM]\npage_size = 500\n\
           \n[extract.object.APPYMTDETAIL]\npage_size = 300\n";
    std::fs::write(&config, text).unwrap();
    w.config = config;
    let log = keep.join(format!("seed-{seed}.log"));
    w.sim
        .set_faults(
            "rate-limit:rate=0.05,http503:rate=0.03,http502:rate=0.02,session-expiry:rate=0.02,reset:rate=0.02,truncate:rate=0.02,slow=300:rate=0.03,concurrency:rate=0.02",
        )
        .await
        .unwrap();
    w.emulator
        .set_faults(&format!(
            "429:any:rate=0.1,503:any:rate=0.05,drop:any:rate=0.05,running=2:any:rate=0.1,401:any:rate=0.03,slow=1:any:rate=0.02,seed={seed}"
        ))
        .await;
    let steps: Vec<Vec<String>> = {
        let clock = sim_clock(&w.sim).await;
        let from = (clock - chrono::Duration::days(400))
            .format("%Y-%m-%d")
            .to_string();
        let to = clock.format("%Y-%m-%d").to_string();
        vec![
            vec!["init".into()],
            vec!["run".into(), "--no-progress".into()],
            vec!["advance".into()],
            vec!["run".into(), "--no-progress".into()],
            vec![
                "backfill".into(),
                "--from".into(),
                from,
                "--to".into(),
                to,
                "--window".into(),
                "120d".into(),
                "--no-progress".into(),
            ],
            vec!["replay".into(), "--object".into(), "APBILL".into()],
        ]
    };
    for step in &steps {
        if step[0] == "advance" {
            w.sim.advance_days(1 + rng.below(3) as u32).await.unwrap();
            continue;
        }
        let args: Vec<&str> = step.iter().map(String::as_str).collect();
        until_done(&w, &mut rng, &args, &log).await?;
    }
    // The faults stay on for the loads; the comparison itself reads without them.
    w.sim.set_faults("").await.unwrap();
    w.emulator.set_faults("").await;
    let outcome = w.compare_with_truth(&format!("seed {seed}")).await;
    if outcome.is_err() {
        let stage = keep.join(format!("seed-{seed}-stage"));
        let _ = std::process::Command::new("cp")
            .args([
                "-r",
                w.stage_dir.path().to_str().unwrap(),
                stage.to_str().unwrap(),
            ])
            .status();
    } else {
        let _ = std::fs::remove_file(&log);
    }
    w.sim.shutdown().await.unwrap();
    outcome
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
    std::fs::create_dir_all(&keep).unwrap();
    let mut divergences = Vec::new();
    let mut outcomes = futures::stream::iter(first..first + runs)
        .map(|seed| {
            let keep = keep.clone();
            async move { (seed, one_seed(seed, &keep).await) }
        })
        .buffer_unordered(jobs);
    while let Some((seed, outcome)) = outcomes.next().await {
        match outcome {
            Ok(()) => println!("seed {seed}: equal to the truth"),
            Err(why) => {
                println!(
                    "seed {seed}: DIVERGED: {why} (log, stage and manifest kept in {})",
                    keep.display()
                );
                divergences.push(seed);
            }
        }
    }
    divergences.sort_unstable();
    println!("{runs} runs, {} divergences", divergences.len());
    assert!(
        divergences.is_empty(),
        "diverging seeds {divergences:?}; see {}",
        keep.display()
    );
}
