//! `stage prune`: the stage's retention. Removes the files of batches loaded before a horizon,
//! keeping everything replay, resume and load still need.
//!
//! # What replay needs, and what goes
//!
//! A replay loads a saved batch again from its Parquet parts (never from raw pages). The
//! horizon (`--older-than` before now) is therefore the *replay horizon*: after a prune, the
//! batches loaded since the horizon can be replayed, the older ones cannot, and `replay` says
//! so by name. A batch goes when all of these hold:
//! * it is loaded (its rows are in Snowflake) and was read from Intacct (a replay batch's files
//!   are its source's);
//! * it was first loaded before the horizon (its `batch_loaded` commit's time; a batch whose
//!   load time the manifest does not know, folded before load times were kept, stays);
//! * no replay of it is created or staged and not loaded yet (that load copies its files).
//!
//! Of such a batch every file under its directory `<OBJECT>/<batch_id>/` goes: its parts, its
//! raw pages, its quarantine files, and any orphan a crashed attempt left there. Never touched:
//! a file of a batch that is created, staged or failed (whatever its age: it is still to be
//! loaded, resumed or looked into), a file the manifest lists for any such batch, the
//! manifest, the schemas, the lock and the reports (`_manifest/`, `_schemas/`, `_lock/`,
//! `_reports/`), and anything outside the batch directories.
//!
//! # Order, and a prune interrupted
//!
//! The batches are recorded as pruned (`batch_pruned`, one commit) before the first file is
//! deleted, so the manifest never lists a replayable batch whose files are gone. A prune
//! stopped between the commit and the last delete leaves files of pruned batches behind; the
//! next prune deletes them (it lists the directory of every pruned batch of the objects it
//! visits).
//!
//! Selecting is pure ([`select`], [`files_to_delete`]); listing, committing and deleting
//! are the IO around it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use futures::{StreamExt, TryStreamExt};

use super::RunContext;
use super::report::{CommandName, PruneReport, PrunedBatch, RunReport, SavedReport};
use crate::error::Result;
use crate::manifest::{Action, BatchState, BatchStatus, ManifestState};
use crate::stage::{Stage, StagedObject};

/// Files deleted at once.
const DELETE_CONCURRENCY: usize = 8;

/// Which batches a prune to `horizon` takes, from the manifest alone.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Selection<'s> {
    /// Loaded before the horizon, not pruned yet, no replay of them pending: pruned now.
    pub prune: Vec<&'s BatchState>,
    /// Pruned by an earlier prune: whatever of their files is still there goes too.
    pub pruned_before: Vec<&'s BatchState>,
    /// Loaded before the horizon but a replay of them is not loaded yet: kept.
    pub kept_for_replay: Vec<&'s BatchState>,
    /// Loaded, load time unknown: kept.
    pub kept_unknown_age: Vec<&'s BatchState>,
}

/// The batches a prune to `horizon` takes (see the module docs), oldest load first.
pub(crate) fn select(state: &ManifestState, horizon: DateTime<Utc>) -> Selection<'_> {
    let pending_replays: BTreeSet<&str> = state
        .batches
        .values()
        .filter(|b| matches!(b.status, BatchStatus::Created | BatchStatus::Staged))
        .filter_map(|b| b.replay_of.as_deref())
        .collect();
    let mut out = Selection::default();
    for batch in state.batches.values() {
        if batch.status != BatchStatus::Loaded || batch.replay_of.is_some() {
            continue;
        }
        if batch.pruned.is_some() {
            out.pruned_before.push(batch);
            continue;
        }
        match batch.loaded_at {
            None => out.kept_unknown_age.push(batch),
            Some(at) if at >= horizon => {}
            Some(_) if pending_replays.contains(batch.batch_id.as_str()) => {
                out.kept_for_replay.push(batch);
            }
            Some(_) => out.prune.push(batch),
        }
    }
    out.prune.sort_by_key(|b| (b.loaded_at, b.created_version));
    out
}

/// The directory of a batch's files.
fn batch_dir(batch: &BatchState) -> String {
    format!("{}/{}/", batch.object, batch.batch_id)
}

/// Every file the manifest names for a batch (parts, raw pages, quarantine; and what an
/// unfinished extract recorded).
fn named_files(batch: &BatchState) -> impl Iterator<Item = &str> {
    let progress = batch.progress.iter().flat_map(|p| {
        p.files
            .iter()
            .chain(&p.raw_pages)
            .chain(&p.quarantine)
            .map(|f| f.path.as_str())
    });
    batch
        .files
        .iter()
        .chain(&batch.raw_pages)
        .chain(&batch.quarantine)
        .map(|f| f.path.as_str())
        .chain(progress)
}

/// Of `listing` (what is on the stage under the batches' objects), the files of `batches`
/// that go: those under each batch's own directory, less any file the manifest names for a
/// batch that is not loaded. Per batch id, in path order.
pub(crate) fn files_to_delete<'l>(
    state: &ManifestState,
    batches: &[&BatchState],
    listing: &'l [StagedObject],
) -> BTreeMap<String, Vec<&'l StagedObject>> {
    let protected: BTreeSet<&str> = state
        .batches
        .values()
        .filter(|b| b.status != BatchStatus::Loaded)
        .flat_map(named_files)
        .collect();
    batches
        .iter()
        .map(|batch| {
            let dir = batch_dir(batch);
            let files = listing
                .iter()
                .filter(|o| o.path.starts_with(&dir) && !protected.contains(o.path.as_str()))
                .collect();
            (batch.batch_id.clone(), files)
        })
        .collect()
}

/// A prune, decided: the report it will leave, the actions it commits and the files it
/// deletes.
#[derive(Debug)]
pub(crate) struct PrunePlan {
    /// What it removes.
    pub report: PruneReport,
    /// `batch_pruned` of each batch pruned now.
    pub actions: Vec<Action>,
    /// Stage-relative paths to delete.
    pub paths: Vec<String>,
}

/// Lists the stage under the objects concerned and decides a prune of every batch loaded
/// before `now − older_than` (pure apart from the listing).
pub(crate) async fn plan(
    stage: &Stage,
    state: &ManifestState,
    now: DateTime<Utc>,
    older_than: Duration,
) -> Result<PrunePlan> {
    let horizon = now - older_than;
    let selection = select(state, horizon);
    let objects: BTreeSet<&str> = selection
        .prune
        .iter()
        .chain(&selection.pruned_before)
        .map(|b| b.object.as_str())
        .collect();
    let mut listing = Vec::new();
    for object in objects {
        listing.extend(stage.list(&format!("{object}/")).await?);
    }
    let mut report = PruneReport {
        horizon,
        older_than_secs: older_than.num_seconds(),
        kept_for_replay: selection
            .kept_for_replay
            .iter()
            .map(|b| b.batch_id.clone())
            .collect(),
        kept_unknown_age: selection.kept_unknown_age.len() as u64,
        ..PruneReport::default()
    };
    let mut paths = Vec::new();
    let now_pruned = files_to_delete(state, &selection.prune, &listing);
    for batch in &selection.prune {
        let files = &now_pruned[&batch.batch_id];
        report.batches.push(PrunedBatch {
            batch_id: batch.batch_id.clone(),
            stream: batch.stream(),
            loaded_at: batch.loaded_at.unwrap_or(horizon),
            files: files.len() as u64,
            bytes: files.iter().map(|f| f.bytes).sum(),
        });
    }
    let leftovers = files_to_delete(state, &selection.pruned_before, &listing);
    for file in now_pruned.values().chain(leftovers.values()).flatten() {
        report.files += 1;
        report.bytes += file.bytes;
        paths.push(file.path.clone());
    }
    let actions = selection
        .prune
        .iter()
        .map(|b| Action::BatchPruned {
            batch_id: b.batch_id.clone(),
            horizon,
        })
        .collect();
    Ok(PrunePlan {
        report,
        actions,
        paths,
    })
}

/// `stage prune`: records the batches loaded before `ctx.now − older_than` as pruned, then
/// deletes their files; its report.
pub async fn prune(ctx: &RunContext, older_than: Duration) -> Result<SavedReport> {
    let plan = {
        let mut manifest = ctx.manifest.lock().await;
        let plan = plan(&ctx.stage, manifest.state(), ctx.now, older_than).await?;
        if !plan.actions.is_empty() {
            manifest.commit(plan.actions.clone()).await?;
        }
        plan
    };
    tracing::info!(
        batches = plan.report.batches.len(),
        files = plan.paths.len(),
        horizon = %plan.report.horizon,
        "batches recorded as pruned; deleting their files"
    );
    futures::stream::iter(plan.paths.iter())
        .map(|path| ctx.stage.delete(path))
        .buffer_unordered(DELETE_CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await?;
    let mut report = RunReport::new(CommandName::Prune, ctx);
    report.prune = Some(plan.report);
    report.save(ctx).await
}

/// `stage prune --dry-run`: what a prune would remove, from the stage as it is now (no lock,
/// nothing written).
pub async fn prune_dry_run(
    stage: &Stage,
    state: &ManifestState,
    now: DateTime<Utc>,
    older_than: Duration,
) -> Result<PruneReport> {
    Ok(plan(stage, state, now, older_than).await?.report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Commit, Mode, fold};
    use crate::stage::parts::StagedFile;

    fn t(day: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + day * 86_400, 0).unwrap()
    }

    fn file(path: String) -> StagedFile {
        StagedFile {
            path,
            rows: 1,
            bytes: 10,
            sha256: "0".into(),
        }
    }

    fn created(id: &str, replay_of: Option<&str>) -> Action {
        Action::BatchCreated {
            batch_id: id.into(),
            object: "APBILL".into(),
            mode: if replay_of.is_some() {
                Mode::Replay
            } else {
                Mode::Backfill
            },
            window_from: Some(t(0)),
            window_to: t(1),
            schema_fingerprint: "f".into(),
            replay_of: replay_of.map(str::to_owned),
            keys: None,
        }
    }

    fn staged(id: &str, dir: &str) -> Action {
        Action::BatchStaged {
            batch_id: id.into(),
            files: vec![file(format!("APBILL/{dir}/part-00001.parquet"))],
            raw_pages: vec![file(format!("APBILL/{dir}/raw/page-00001.xml.zst"))],
            quarantine: vec![],
            rows: 1,
            deleted_rows: 0,
            bytes: 10,
            staged_up_to: None,
            deletes_up_to: None,
        }
    }

    fn loaded(id: &str) -> Action {
        Action::BatchLoaded {
            batch_id: id.into(),
            mode: Mode::Backfill,
            copy_rows: 1,
            merge_inserted: 1,
            merge_updated: 0,
            watermark: None,
        }
    }

    /// One commit per (day, actions): the commit's time is the day.
    fn state(commits: Vec<(i64, Vec<Action>)>) -> ManifestState {
        let commits: Vec<Commit> = commits
            .into_iter()
            .enumerate()
            .map(|(i, (day, actions))| Commit {
                version: i as u64 + 1,
                written_at: t(day),
                run_id: "r".into(),
                generation: 0,
                actions,
            })
            .collect();
        fold(None, &commits).unwrap()
    }

    fn ids(batches: &[&BatchState]) -> Vec<String> {
        batches.iter().map(|b| b.batch_id.clone()).collect()
    }

    #[test]
    fn batches_loaded_before_the_horizon_go_unless_a_replay_still_needs_them() {
        let s = state(vec![
            (1, vec![created("old", None)]),
            (1, vec![staged("old", "old")]),
            (2, vec![loaded("old")]),
            (3, vec![created("held", None)]),
            (3, vec![staged("held", "held")]),
            (4, vec![loaded("held")]),
            // A replay of `held`, staged, not loaded: it copies held's files.
            (5, vec![created("replay", Some("held"))]),
            (5, vec![staged("replay", "held")]),
            (50, vec![created("new", None)]),
            (50, vec![staged("new", "new")]),
            (51, vec![loaded("new")]),
            (52, vec![created("waiting", None)]),
            (52, vec![staged("waiting", "waiting")]),
        ]);
        let selection = select(&s, t(40));
        assert_eq!(ids(&selection.prune), ["old"]);
        assert_eq!(ids(&selection.kept_for_replay), ["held"]);
        assert!(selection.pruned_before.is_empty());
        // The horizon is exclusive of the load instant itself.
        assert_eq!(ids(&select(&s, t(2)).prune), Vec::<String>::new());
        // Far ahead: still never a staged batch or a replay.
        assert_eq!(ids(&select(&s, t(100)).prune), ["old", "new"]);
    }

    #[test]
    fn only_files_under_the_batch_directory_go_and_never_a_file_an_unloaded_batch_names() {
        let s = state(vec![
            (1, vec![created("old", None)]),
            (1, vec![staged("old", "old")]),
            (2, vec![loaded("old")]),
            // A staged batch that (oddly) names a file in old's directory: it stays.
            (3, vec![created("odd", None)]),
            (3, vec![staged("odd", "old")]),
        ]);
        let object = |path: &str| StagedObject {
            path: path.into(),
            bytes: 7,
        };
        let listing = vec![
            object("APBILL/old/part-00001.parquet"),
            object("APBILL/old/raw/page-00001.xml.zst"),
            object("APBILL/old/part-00002.parquet"),
            object("APBILL/older/part-00001.parquet"),
            object("APBILL/odd/part-00001.parquet"),
        ];
        let selection = select(&s, t(10));
        let files = files_to_delete(&s, &selection.prune, &listing);
        let paths: Vec<&str> = files["old"].iter().map(|o| o.path.as_str()).collect();
        // part-00001 and raw page-00001 are named by the staged batch `odd`; part-00002 is an
        // orphan of `old`; `older` is another directory.
        assert_eq!(paths, ["APBILL/old/part-00002.parquet"]);
    }
}
