//! The manifest at length: opening it and one commit, and `manifest compact`, on a manifest of
//! 10,000 commits, each with its wall time and peak heap, beside baselines measured in the same
//! run.
//!
//! The history is the realistic one the tests build (`tests/it/support/manifest_history.rs`:
//! nightly batches of seven streams created, staged and loaded step by step, failed extracts,
//! replays, backfills, prunes, an unfinished tail), written through `Manifest::commit` onto a
//! local stage, so the stage holds what a real one would: every commit and a checkpoint every
//! 100 versions. Peak heap is measured by a counting global allocator: the most bytes live at
//! once during a phase, above what was live when it started.
//!
//! Figures, each the best of `MANIFEST_BENCH_ROUNDS` (default 3):
//! * building: the mean time of a commit among the first and the last 1,000 (a commit's cost
//!   must not grow with the history; every 100th writes a checkpoint of the whole state);
//! * open + one commit at `MANIFEST_BENCH_COMMITS` (default 10,000), beside the same at 100
//!   commits (the baseline), and the commit alone beside checking it the way commits did
//!   before (a copy of the state, then the rules on the copy). The commit meets every rule
//!   that reads other batches than the one an action names;
//! * the same commit's check alone, folded onto the state in memory, at both sizes: the
//!   written commit's time is mostly the stage's write, which varies more than the check;
//! * `manifest compact` (its empty commit, the compaction and the create-once checkpoint),
//!   beside the least any rewrite of that checkpoint costs: parsing its bytes with serde_json
//!   and writing them again;
//! * open + one commit after compaction.
//!
//! Run with `cargo bench --bench manifest`. Without `--bench` (as `cargo test --benches` runs
//! it) or with `BENCH_SMOKE=1` it makes one small run (1,000 commits) and checks what the
//! measured run relies on: the commit allocates far less than the state, compaction shrinks
//! the checkpoint, and opening after it gives the compacted fold.

#[allow(dead_code)] // not every benchmark uses every item
#[path = "mode.rs"]
mod mode;

#[path = "../tests/it/support/manifest_history.rs"]
mod manifest_history;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use intacct_snowflake::manifest::{
    Action, BatchKeys, Commit, Manifest, ManifestState, Mode, apply, compact, fold,
};
use intacct_snowflake::stage::Stage;
use intacct_snowflake::stage::StagedFile;

/// The system allocator, counting the bytes live and the most live at once.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, layout, new_size) };
        if !q.is_null() {
            if new_size > layout.size() {
                let live = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed)
                    + (new_size - layout.size());
                PEAK.fetch_max(live, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Wall time and peak heap above the start of one phase.
#[derive(Clone, Copy, Debug)]
struct Cost {
    time: Duration,
    peak_bytes: usize,
}

impl Cost {
    fn best(a: Cost, b: Cost) -> Cost {
        Cost {
            time: a.time.min(b.time),
            peak_bytes: a.peak_bytes.min(b.peak_bytes),
        }
    }

    fn show(&self) -> String {
        format!(
            "{:>9.3} ms, peak heap {:>9.1} KiB",
            self.time.as_secs_f64() * 1e3,
            self.peak_bytes as f64 / 1024.0
        )
    }
}

async fn measure<T>(work: impl AsyncFnOnce() -> T) -> (T, Cost) {
    let start_live = LIVE.load(Ordering::Relaxed);
    PEAK.store(start_live, Ordering::Relaxed);
    let started = Instant::now();
    let out = work().await;
    let time = started.elapsed();
    let peak_bytes = PEAK.load(Ordering::Relaxed).saturating_sub(start_live);
    (out, Cost { time, peak_bytes })
}

fn stage_at(dir: &std::path::Path) -> Stage {
    Stage::open(&format!("file://{}", dir.display())).unwrap()
}

/// Writes `commits` through `Manifest::commit`; the mean time of the first and the last
/// 1,000 (or tenth) commits.
async fn build(stage: &Stage, commits: &[Commit]) -> (Duration, Duration) {
    let mut manifest = Manifest::open(stage.clone(), "build").await.unwrap();
    let sample = (commits.len() / 10).clamp(1, 1000);
    let mut times = Vec::with_capacity(commits.len());
    for commit in commits {
        let started = Instant::now();
        manifest.commit(commit.actions.clone()).await.unwrap();
        times.push(started.elapsed());
    }
    let mean = |t: &[Duration]| t.iter().sum::<Duration>() / t.len() as u32;
    (mean(&times[..sample]), mean(&times[times.len() - sample..]))
}

/// How many measured commits were made: each names batches of its own.
static MEASURED: AtomicUsize = AtomicUsize::new(0);

/// One commit that meets every rule reading other batches than the one an action names: a
/// resumed load's failure on the tail's staged batch; a nightly batch of a stream of its own
/// created, staged (the object's keys), loaded with its watermark (the nightly load order)
/// and pruned (open replays); and another one created, staged and abandoned (the abandon
/// order). Each call names new batches and a later window, so any number apply in turn.
fn one_commit(round: usize) -> Vec<Action> {
    let k = MEASURED.fetch_add(1, Ordering::Relaxed);
    let to = manifest_history::start() + chrono::Duration::days(3_650 + k as i64);
    let (loaded, abandoned) = (format!("GLENTRY-bench{k}"), format!("GLENTRY-bench{k}-b"));
    let file = StagedFile {
        path: format!("GLENTRY/{loaded}/part-00001.parquet"),
        rows: 10,
        bytes: 5_896,
        sha256: format!("{:064x}", k),
    };
    let created = |id: &str| {
        [
            Action::BatchCreated {
                batch_id: id.to_owned(),
                object: "GLENTRY".into(),
                mode: Mode::Nightly,
                window_from: Some(to - chrono::Duration::days(1)),
                window_to: to,
                schema_fingerprint: "bench".into(),
                replay_of: None,
                keys: Some(BatchKeys::default()),
            },
            Action::BatchEntity {
                batch_id: id.to_owned(),
                entity: "BENCH".into(),
            },
        ]
    };
    let staged = |id: &str, staged_up_to| Action::BatchStaged {
        batch_id: id.to_owned(),
        files: vec![file.clone()],
        raw_pages: vec![],
        quarantine: vec![],
        rows: file.rows,
        deleted_rows: 0,
        bytes: file.bytes,
        staged_up_to,
        deletes_up_to: None,
    };
    let mut actions = vec![Action::LoadFailed {
        batch_id: manifest_history::TAIL_STAGED.into(),
        step: "copy-1".into(),
        error: format!("round {round}: Snowflake did not answer"),
        failed_request_id: None,
    }];
    actions.extend(created(&loaded));
    actions.push(staged(&loaded, Some(to)));
    actions.push(Action::BatchLoaded {
        batch_id: loaded.clone(),
        mode: Mode::Nightly,
        copy_rows: file.rows,
        merge_inserted: file.rows,
        merge_updated: 0,
        watermark: Some(to),
    });
    actions.push(Action::BatchPruned {
        batch_id: loaded.clone(),
        horizon: to,
    });
    actions.extend(created(&abandoned));
    actions.push(staged(&abandoned, None));
    actions.push(Action::BatchAbandoned {
        batch_id: abandoned,
        reason: "bench".into(),
    });
    actions
}

/// The commit's check alone, in memory: [`one_commit`] folded onto `state` in place.
async fn check_in_memory(state: ManifestState, round: usize) -> (ManifestState, Cost) {
    let commit = Commit {
        version: state.version + 1,
        written_at: chrono::Utc::now(),
        run_id: "bench".into(),
        generation: state.generation,
        actions: one_commit(round),
    };
    measure(async || fold(Some(state), std::slice::from_ref(&commit)).unwrap()).await
}

async fn open_and_commit(stage: &Stage, round: usize) -> (Cost, Cost) {
    let (manifest, open) =
        measure(async || Manifest::open(stage.clone(), "bench").await.unwrap()).await;
    let mut manifest = manifest;
    let (_, commit) = measure(async || manifest.commit(one_commit(round)).await.unwrap()).await;
    (open, commit)
}

fn main() {
    let smoke = mode::is_smoke();
    let commits =
        mode::env_or("MANIFEST_BENCH_COMMITS", if smoke { 1_000 } else { 10_000 }) as usize;
    let rounds = if smoke {
        1
    } else {
        mode::env_or("MANIFEST_BENCH_ROUNDS", 3) as usize
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(commits, rounds, smoke));
}

async fn run(n: usize, rounds: usize, smoke: bool) {
    let history = manifest_history::history(n);
    let baseline_history = manifest_history::history(100);
    let big_dir = tempfile::tempdir().unwrap();
    let small_dir = tempfile::tempdir().unwrap();
    let (big, small) = (stage_at(big_dir.path()), stage_at(small_dir.path()));
    let build_started = Instant::now();
    let (first, last) = build(&big, &history).await;
    println!(
        "manifest: {n} commits written in {:.1} s; a commit: {:.3} ms among the first, {:.3} ms among the last (checkpoints included)",
        build_started.elapsed().as_secs_f64(),
        first.as_secs_f64() * 1e3,
        last.as_secs_f64() * 1e3
    );
    build(&small, &baseline_history).await;

    let full = fold(None, &history).unwrap();
    let state_bytes = serde_json::to_vec(&full).unwrap().len();
    println!(
        "state at {n} commits: {} batches, checkpoint {:.1} KiB",
        full.batches.len(),
        state_bytes as f64 / 1024.0
    );

    // Open + one commit, at n and at 100 commits.
    let (mut open_big, mut commit_big, mut open_small, mut commit_small) = (None, None, None, None);
    let keep = |slot: &mut Option<Cost>, c: Cost| {
        *slot = Some(slot.map_or(c, |s| Cost::best(s, c)));
    };
    for round in 0..rounds {
        // Alternate the order from round to round.
        let order = if round % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for is_big in order {
            let (open, commit) = open_and_commit(if is_big { &big } else { &small }, round).await;
            if is_big {
                keep(&mut open_big, open);
                keep(&mut commit_big, commit);
            } else {
                keep(&mut open_small, open);
                keep(&mut commit_small, commit);
            }
        }
    }
    let (open_big, commit_big) = (open_big.unwrap(), commit_big.unwrap());
    let (open_small, commit_small) = (open_small.unwrap(), commit_small.unwrap());
    println!("open, {n:>6} commits:  {}", open_big.show());
    println!("open,    100 commits:  {}", open_small.show());
    println!("commit, {n:>5} commits: {}", commit_big.show());
    println!(
        "commit,   100 commits: {}  ratio {:.2}× time, {:.2}× peak heap",
        commit_small.show(),
        commit_big.time.as_secs_f64() / commit_small.time.as_secs_f64(),
        commit_big.peak_bytes as f64 / commit_small.peak_bytes.max(1) as f64
    );

    // The commit's check alone, in memory (no stage), at n and at 100 commits.
    let (mut big_state, mut small_state) = (full.clone(), fold(None, &baseline_history).unwrap());
    let (mut check_big, mut check_small) = (None, None);
    for round in 0..rounds.max(5) {
        let (next, cost) = check_in_memory(big_state, round).await;
        (big_state, check_big) = (next, Some(check_big.map_or(cost, |c| Cost::best(c, cost))));
        let (next, cost) = check_in_memory(small_state, round).await;
        (small_state, check_small) = (
            next,
            Some(check_small.map_or(cost, |c| Cost::best(c, cost))),
        );
    }
    let (check_big, check_small): (Cost, Cost) = (check_big.unwrap(), check_small.unwrap());
    println!(
        "the commit's check in memory, {n:>5} commits: {}",
        check_big.show()
    );
    println!(
        "the commit's check in memory,   100 commits: {}  ratio {:.2}× time",
        check_small.show(),
        check_big.time.as_secs_f64() / check_small.time.as_secs_f64()
    );
    drop((big_state, small_state));

    // The commit's check, in place against a copy of the state (the way before).
    let probe = Commit {
        version: full.version + 1,
        written_at: chrono::Utc::now(),
        run_id: "bench".into(),
        generation: full.generation,
        actions: one_commit(0),
    };
    let mut copy_check: Option<Cost> = None;
    for _ in 0..rounds {
        let (next, cost) = measure(async || apply(&full, &probe).unwrap()).await;
        drop(next);
        keep(&mut copy_check, cost);
    }
    let copy_check = copy_check.unwrap();
    println!(
        "checking the commit on a copy of the state (before): {}; the commit now, written: {:.1}× less time, {:.0}× less heap",
        copy_check.show(),
        copy_check.time.as_secs_f64() / commit_big.time.as_secs_f64(),
        copy_check.peak_bytes as f64 / commit_big.peak_bytes.max(1) as f64
    );

    // `manifest compact`, each round on a fresh copy of the stage.
    let mut compact_cost: Option<Cost> = None;
    let mut baseline: Option<Cost> = None;
    let mut after: Option<(Cost, Cost)> = None;
    let mut sizes = (0, 0);
    for round in 0..rounds {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(big_dir.path(), dir.path());
        let stage = stage_at(dir.path());
        let mut manifest = Manifest::open(stage.clone(), "compact").await.unwrap();
        let before = (round == 0).then(|| manifest.state().clone());
        let (done, cost) = measure(async || manifest.compact().await.unwrap()).await;
        drop(manifest);
        sizes = (done.before.bytes, done.after.bytes);
        keep(&mut compact_cost, cost);
        // The least a rewrite of the checkpoint costs: parse its bytes, write them again.
        let bytes = serde_json::to_vec(&full).unwrap();
        let (_, parse) = measure(async || {
            let state: ManifestState = serde_json::from_slice(&bytes).unwrap();
            serde_json::to_vec(&state).unwrap().len()
        })
        .await;
        keep(&mut baseline, parse);
        if let Some(before) = before {
            check_compacted(&stage, before).await;
        }
        let (open, commit) = open_and_commit(&stage, round).await;
        after = Some(after.map_or((open, commit), |(o, c)| {
            (Cost::best(o, open), Cost::best(c, commit))
        }));
    }
    let (compact_cost, baseline) = (compact_cost.unwrap(), baseline.unwrap());
    let (open_after, commit_after) = after.unwrap();
    println!(
        "manifest compact, {n} commits: {}; checkpoint {:.1} KiB → {:.1} KiB ({:.1} %)",
        compact_cost.show(),
        sizes.0 as f64 / 1024.0,
        sizes.1 as f64 / 1024.0,
        sizes.1 as f64 * 100.0 / sizes.0 as f64
    );
    println!(
        "serde_json parse + write of the checkpoint (baseline): {}  ratio {:.2}× time, {:.2}× peak heap",
        baseline.show(),
        compact_cost.time.as_secs_f64() / baseline.time.as_secs_f64(),
        compact_cost.peak_bytes as f64 / baseline.peak_bytes.max(1) as f64
    );
    println!("open after compact:   {}", open_after.show());
    println!("commit after compact: {}", commit_after.show());

    // What the figures rely on (checked in the smoke run too).
    assert!(
        commit_big.peak_bytes * 4 < state_bytes,
        "a commit allocated {} bytes, against a state of {state_bytes}: it copies the state",
        commit_big.peak_bytes
    );
    assert!(
        sizes.1 < sizes.0,
        "compaction did not shrink the checkpoint"
    );
    if smoke {
        println!("manifest smoke: ok");
    }
}

/// Opening the compacted stage gives the state before, compacted, one version on.
async fn check_compacted(stage: &Stage, before: ManifestState) {
    let mut expected = before;
    compact(&mut expected);
    expected.version += 1;
    let opened = Manifest::open(stage.clone(), "check").await.unwrap();
    assert!(
        opened.state() == &expected,
        "opening after compaction gives another state"
    );
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
