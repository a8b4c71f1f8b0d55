//! `stage prune`: on a stage with batches loaded before the horizon, batches loaded after it,
//! a staged batch and raw pages, exactly the files of the old loaded batches go (parts, raw
//! pages), recorded in the manifest and the run report; the rest stays byte for byte. A
//! replay of a pruned batch fails saying so, a replay of a kept one loads.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use intacct_snowflake::manifest::BatchStatus;
use intacct_snowflake::pipeline::{CommandName, RunReport};

use crate::support::world::World;

/// Every file under `dir` with its size, by relative path.
fn files(dir: &Path) -> BTreeMap<String, u64> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, u64>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                // The run lock's generations come and go with every command that takes it.
                if path != root.join("_lock") {
                    walk(root, &path, out);
                }
            } else {
                let relative = path.strip_prefix(root).unwrap().display().to_string();
                out.insert(relative, std::fs::metadata(&path).unwrap().len());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn report_of(w: &World, stdout: &str) -> RunReport {
    let path = stdout
        .lines()
        .find_map(|l| l.strip_prefix("run report: "))
        .unwrap_or_else(|| panic!("no report path printed:\n{stdout}"));
    serde_json::from_slice(&std::fs::read(w.stage_dir.path().join(path)).unwrap()).unwrap()
}

/// Runs the binary at `now` (the clock prune measures ages from); its output.
fn at(w: &World, args: &[&str], now: DateTime<Utc>) -> std::process::Output {
    w.command(args, now).output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_removes_exactly_the_old_loaded_batches_and_replay_says_why_it_cannot() {
    let mut w = World::start().await;
    // The demo pipeline keeping raw pages.
    let pipeline_dir = tempfile::tempdir().unwrap();
    let pipeline = pipeline_dir.path().join("raw-pages.toml");
    let text = std::fs::read_to_string(&w.config)
        .unwrap()
        .replace("keep_raw_pages = false", "keep_raw_pages = true");
    std::fs::write(&pipeline, text).unwrap();
    w.config = pipeline;
    let objects = ["--objects", "VENDOR,APBILL", "--no-progress"];
    w.ok(&["init"]).await;
    let first = report_of(&w, &w.ok(&[&["run"][..], &objects[..]].concat()).await);
    // Loads a little later: their load times differ from the first run's.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    w.sim.advance_days(1).await.unwrap();
    let second = report_of(&w, &w.ok(&[&["run"][..], &objects[..]].concat()).await);
    w.sim.advance_days(1).await.unwrap();
    w.ok(&["extract", "--objects", "APBILL", "--no-progress"])
        .await;

    let state = w.manifest().await;
    let ids = |r: &RunReport| -> BTreeSet<String> {
        r.objects.iter().map(|o| o.batch_id.clone()).collect()
    };
    let (old, kept) = (ids(&first), ids(&second));
    let staged: Vec<String> = state
        .batches
        .values()
        .filter(|b| b.status == BatchStatus::Staged)
        .map(|b| b.batch_id.clone())
        .collect();
    assert_eq!(staged.len(), 1);
    let loaded_at = |ids: &BTreeSet<String>| -> Vec<DateTime<Utc>> {
        ids.iter()
            .map(|id| state.batches[id].loaded_at.unwrap())
            .collect()
    };
    let (old_loads, kept_loads) = (loaded_at(&old), loaded_at(&kept));
    let last_old = *old_loads.iter().max().unwrap();
    let first_kept = *kept_loads.iter().min().unwrap();
    assert!(last_old < first_kept);
    // 90 days after a moment between the two runs' loads.
    let now = last_old + (first_kept - last_old) / 2 + Duration::days(90);

    // Independently of the manifest: every file under an old batch's directory goes.
    let before = files(w.stage_dir.path());
    let goes: BTreeSet<String> = before
        .keys()
        .filter(|path| {
            let mut parts = path.split('/');
            let (_object, batch) = (parts.next(), parts.next());
            batch.is_some_and(|b| old.contains(b))
        })
        .cloned()
        .collect();
    assert!(
        goes.iter().any(|p| p.contains("/raw/page-")),
        "the old batches kept raw pages: {goes:?}"
    );
    assert!(goes.iter().any(|p| p.ends_with(".parquet")));
    assert!(
        before
            .keys()
            .any(|p| p.contains("/raw/") && !goes.contains(p)),
        "the kept batches have raw pages too"
    );

    // The dry run lists them and changes nothing.
    let dry = at(
        &w,
        &["stage", "prune", "--older-than", "90d", "--dry-run"],
        now,
    );
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let dry_out = String::from_utf8_lossy(&dry.stdout);
    for id in &old {
        assert!(dry_out.contains(id.as_str()), "{id} not listed:\n{dry_out}");
    }
    for id in &kept {
        assert!(!dry_out.contains(id.as_str()), "{id} listed:\n{dry_out}");
    }
    assert_eq!(
        files(w.stage_dir.path()),
        before,
        "the dry run removed files"
    );

    let out = at(&w, &["stage", "prune", "--older-than", "90d"], now);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let after = files(w.stage_dir.path());
    let removed: BTreeSet<String> = before
        .keys()
        .filter(|p| !after.contains_key(*p))
        .cloned()
        .collect();
    assert_eq!(removed, goes);
    for (path, size) in &before {
        if !goes.contains(path) {
            assert_eq!(after.get(path), Some(size), "{path} changed");
        }
    }

    // Recorded: in the manifest (still loaded, marked pruned) and in the run report.
    let state = w.manifest().await;
    for (id, batch) in &state.batches {
        assert_eq!(batch.pruned.is_some(), old.contains(id), "{id}");
        if old.contains(id) {
            assert_eq!(batch.status, BatchStatus::Loaded);
            assert_eq!(batch.pruned.unwrap().horizon, now - Duration::days(90));
        }
    }
    let report = report_of(&w, &stdout);
    assert_eq!(report.command, CommandName::Prune);
    let prune = report.prune.unwrap();
    assert_eq!(
        prune
            .batches
            .iter()
            .map(|b| b.batch_id.clone())
            .collect::<BTreeSet<_>>(),
        old
    );
    assert_eq!(prune.files, goes.len() as u64);
    assert_eq!(prune.bytes, goes.iter().map(|p| before[p]).sum::<u64>());

    // A second prune at the same horizon finds nothing more.
    let again = at(&w, &["stage", "prune", "--older-than", "90d"], now);
    assert!(again.status.success());
    assert_eq!(
        report_of(&w, &String::from_utf8_lossy(&again.stdout))
            .prune
            .unwrap()
            .files,
        0
    );

    let apbill = |r: &RunReport| {
        r.objects
            .iter()
            .find(|o| o.object == "APBILL")
            .unwrap()
            .batch_id
            .clone()
    };
    let refused = w.cli(&["replay", "--batch", &apbill(&first)]).await;
    assert_eq!(refused.status.code(), Some(2));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("`stage prune` removed its files"), "{err}");
    w.ok(&["replay", "--batch", &apbill(&second)]).await;
    w.sim.shutdown().await.unwrap();
}
