//! Planning, pure: which windows and batches a command works on, from the manifest state, the
//! pipeline's settings and the clock alone. Extract and load then carry a plan out; nothing
//! here does IO, and nothing else decides a window.
//!
//! * nightly: per stream (an object, or an object of one entity), from its mark (the later
//!   of its `staged_up_to` and its `watermark`) to `now`:
//!   `[min(mark, now) − lookback, now)`, or everything (no start) on the stream's first run.
//!   The earlier of the mark and `now` keeps the start at or before the end when a mark lies
//!   after `now` (the clock moved back, or `--now` names an earlier instant), and keeps the
//!   lookback whole then: such a window re-reads `lookback` before `now` rather than nothing.
//!   A start that would fall before the earliest instant the clock holds reads everything.
//!   The delete feed's window has the same rule over its own mark (`deletes_up_to`) and its
//!   own lookback, and the same end; without a mark it never reads the audit trail from its
//!   beginning: a first read of an object contains no deleted record, so the feed starts at
//!   the stream's first extraction (its first nightly batch's window start, or its end when
//!   that window was everything: the `now` of the run that read it; this run's `now` when
//!   there is none) minus the feed's lookback. A line object (APBILLITEM, APPYMTDETAIL) also
//!   gets the window of header changes whose lines are compared with what Snowflake holds
//!   (`super::lines`): from the earlier of the object's window start and the feed's (the
//!   feed's alone on a first run), to `now`;
//! * backfill: `[from, to)` cut into windows of a fixed length; a window an earlier backfill
//!   loaded is not redone, one it staged is only loaded, one it was reading goes on from its
//!   recorded position; a backfill window reads no deletes and no removed lines: it reads
//!   the records live now, so a record deleted before it is not among them, and one deleted
//!   later is the nightly feed's, whose tombstone (newer than anything a backfill stages) wins
//!   whichever loads first;
//! * replay: saved batches (by id, or by object and window) to load again from the stage.

use chrono::{DateTime, Duration, Utc};

use super::deletes;
use super::settings::{ExtractOptions, ObjectJob};
use crate::config::DeleteFeed;
use crate::error::{Error, Result};
use crate::intacct::{Cursor, TimeWindow, objects};
use crate::manifest::{BatchState, BatchStatus, ExtractProgress, ManifestState, Mode};

/// One stream's extract, decided: the job, its window, its delete feed's window and where it
/// goes on from.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PlannedExtract {
    /// What to read and how.
    pub job: ObjectJob,
    /// Nightly (moves the staged marks) or backfill (no mark moves).
    pub mode: Mode,
    /// Records changed in `[from, to)` (`from` `None`: everything before `to`).
    pub window: TimeWindow,
    /// The delete feed's window; `None`: no feed (`extract.deletes = "off"`, AUDITHISTORY
    /// itself, or a backfill window).
    pub deletes: Option<TimeWindow>,
    /// For a line object with a delete feed, nightly: the window of header changes whose
    /// current lines are read and compared with Snowflake's (removed lines are tombstoned).
    pub lines: Option<TimeWindow>,
    /// A part-written batch of the same window to go on with.
    pub resume: Option<ResumeFrom>,
}

/// A part-written batch to go on with: its id, schema, what it completed and the read
/// position after that.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ResumeFrom {
    /// The batch.
    pub batch_id: String,
    /// Its schema fingerprint (a changed schema starts a new batch instead).
    pub schema_fingerprint: String,
    /// What it completed.
    pub progress: ExtractProgress,
    /// The read position after the last row of `progress`'s files.
    pub cursor: Cursor,
}

/// The start of a window that ends at `end` and re-reads `lookback` before `mark`: `None`
/// (everything) without a mark; never after `end` (see the module docs).
pub(crate) fn window_start(
    mark: Option<DateTime<Utc>>,
    lookback: Duration,
    end: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    mark.and_then(|m| m.min(end).checked_sub_signed(lookback))
        .map(|start| start.min(end))
}

/// Why a nightly window starts where it does: the rule of [`window_start`] that applied, with
/// the values it applied to (what `run --dry-run` prints beside each window).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum WindowStart {
    /// The stream has no mark yet: its first run reads everything before the end.
    FirstRun,
    /// `lookback` before the stream's mark.
    Mark {
        /// The mark.
        mark: DateTime<Utc>,
        /// Which mark it is.
        kind: MarkKind,
        /// The lookback re-read before it.
        lookback: Duration,
    },
    /// The mark lies after the window's end (the clock moved back, or `--now` is earlier than
    /// the mark): `lookback` before the end instead.
    Clamped {
        /// The mark.
        mark: DateTime<Utc>,
        /// The lookback re-read before the end.
        lookback: Duration,
    },
    /// The lookback reaches before the earliest instant the clock holds: everything.
    LookbackUnbounded {
        /// The lookback.
        lookback: Duration,
    },
}

/// The mark a nightly window starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MarkKind {
    /// The watermark: everything changed before it is loaded.
    Watermark,
    /// The staged mark, ahead of the watermark: a batch is staged and not loaded yet (the run
    /// loads it before extracting), so the window goes on after it rather than read it again.
    Staged,
    /// The delete feed's own mark (`deletes_up_to`).
    Deletes,
    /// No deletes mark yet: the stream's first extraction (a first read holds no deleted
    /// record, so the feed need not read before it).
    FirstExtraction,
    /// No deletes mark and no extraction yet: this run's first read, from `now`.
    FirstRun,
}

impl WindowStart {
    /// The rule `window_start(mark, lookback, end)` applies, for a mark of `kind`.
    fn of(
        mark: Option<DateTime<Utc>>,
        kind: MarkKind,
        lookback: Duration,
        end: DateTime<Utc>,
    ) -> WindowStart {
        match mark {
            None => WindowStart::FirstRun,
            Some(_) if window_start(mark, lookback, end).is_none() => {
                WindowStart::LookbackUnbounded { lookback }
            }
            Some(mark) if mark > end => WindowStart::Clamped { mark, lookback },
            Some(mark) => WindowStart::Mark {
                mark,
                kind,
                lookback,
            },
        }
    }
}

impl std::fmt::Display for WindowStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let span = |d: &Duration| span_text(d.num_seconds());
        let at = |t: &DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        match self {
            WindowStart::FirstRun => f.write_str("first run: everything before the end"),
            WindowStart::Mark {
                mark,
                kind,
                lookback,
            } => {
                let what = match kind {
                    MarkKind::Watermark => "watermark",
                    MarkKind::Staged => "staged mark (a batch staged, not loaded yet)",
                    MarkKind::Deletes => "deletes mark",
                    MarkKind::FirstExtraction => "no deletes mark yet: the first extraction, at",
                    MarkKind::FirstRun => "no deletes mark and nothing read yet: now,",
                };
                write!(f, "{what} {} minus lookback {}", at(mark), span(lookback))
            }
            WindowStart::Clamped { mark, lookback } => write!(
                f,
                "clamped: the mark {} is after the end, so lookback {} before the end",
                at(mark),
                span(lookback)
            ),
            WindowStart::LookbackUnbounded { lookback } => write!(
                f,
                "lookback {} reaches before the calendar: everything",
                span(lookback)
            ),
        }
    }
}

/// `2h`, `1d 6h`, `1m 30s`: a span of seconds as a person reads it.
pub(crate) fn span_text(secs: i64) -> String {
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    let parts: Vec<String> = [(d, "d"), (h, "h"), (m, "m"), (s, "s")]
        .iter()
        .filter(|(n, _)| *n != 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect();
    if parts.is_empty() {
        "0s".to_owned()
    } else {
        parts.join(" ")
    }
}

/// Why a stream's planned windows start where they do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PlanReasons {
    /// The records' window.
    pub window: WindowStart,
    /// The delete feed's window, when there is a feed.
    pub deletes: Option<WindowStart>,
    /// The window of header changes whose lines are compared, when there is one: the reason
    /// of whichever window (the records' or the feed's) it takes its earlier start from.
    pub lines: Option<WindowStart>,
}

/// The delete feed's lookback of `job`, when it has a feed.
fn delete_feed_lookback(job: &ObjectJob, options: &ExtractOptions) -> Option<Duration> {
    (options.deletes == DeleteFeed::AuditHistory && deletes::has_feed(&job.name))
        .then(|| job.delete_lookback.unwrap_or(options.delete_lookback))
}

/// Where a stream's first extraction started: its first nightly batch's window start, or,
/// when that window was everything, its end (the `now` of the run that read it); `None`
/// before any nightly batch.
fn first_extraction(state: &ManifestState, job: &ObjectJob) -> Option<DateTime<Utc>> {
    state
        .batches_of_stream(&job.name, job.entity.as_deref())
        .filter(|b| b.mode == Mode::Nightly)
        .min_by_key(|b| b.created_version)
        .map(|b| b.window_from.unwrap_or(b.window_to))
}

/// The start of a window of changes, or of a feed, that may begin at either `a` or `b`
/// (`None`: everything): the earlier one.
fn earlier(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        _ => None,
    }
}

/// The nightly extract of every job of `options`, in their order, each from its own stream's
/// marks: one entity's progress or failure never moves another's window.
pub(crate) fn nightly(state: &ManifestState, options: &ExtractOptions) -> Vec<PlannedExtract> {
    nightly_explained(state, options)
        .into_iter()
        .map(|(planned, _)| planned)
        .collect()
}

/// [`nightly`], each window with the reason it starts where it does.
pub(crate) fn nightly_explained(
    state: &ManifestState,
    options: &ExtractOptions,
) -> Vec<(PlannedExtract, PlanReasons)> {
    let now = options.now;
    options
        .objects
        .iter()
        .map(|job| {
            let marks = state
                .objects
                .get(&job.stream())
                .cloned()
                .unwrap_or_default();
            let lookback = job.lookback.unwrap_or(options.lookback);
            let mark = marks.staged_up_to.max(marks.watermark);
            let kind = if marks.staged_up_to > marks.watermark {
                MarkKind::Staged
            } else {
                MarkKind::Watermark
            };
            let window = TimeWindow {
                from: window_start(mark, lookback, now),
                to: now,
            };
            let why_window = WindowStart::of(mark, kind, lookback, now);
            // No deletes mark yet: from the first extraction (or now), never the trail's start.
            let (feed_mark, feed_kind) = match marks.deletes_up_to {
                Some(m) => (m, MarkKind::Deletes),
                None => match first_extraction(state, job) {
                    Some(first) => (first, MarkKind::FirstExtraction),
                    None => (now, MarkKind::FirstRun),
                },
            };
            let feed = delete_feed_lookback(job, options).map(|lookback| {
                (
                    TimeWindow {
                        from: window_start(Some(feed_mark), lookback, now),
                        to: now,
                    },
                    WindowStart::of(Some(feed_mark), feed_kind, lookback, now),
                )
            });
            let lines = feed
                .as_ref()
                .filter(|_| objects::line_header(&job.name).is_some())
                .map(|(feed, why_feed)| {
                    let from = match window.from {
                        Some(_) => earlier(window.from, feed.from),
                        None => feed.from,
                    };
                    let why = if window.from.is_some() && from == window.from {
                        why_window.clone()
                    } else {
                        why_feed.clone()
                    };
                    (TimeWindow { from, to: now }, why)
                });
            let planned = PlannedExtract {
                job: job.clone(),
                mode: Mode::Nightly,
                window,
                deletes: feed.as_ref().map(|(w, _)| *w),
                lines: lines.as_ref().map(|(w, _)| *w),
                resume: None,
            };
            let reasons = PlanReasons {
                window: why_window,
                deletes: feed.map(|(_, why)| why),
                lines: lines.map(|(_, why)| why),
            };
            (planned, reasons)
        })
        .collect()
}

/// `[from, to)` cut into windows of `window` (the last one shorter).
pub(crate) fn windows(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    window: Duration,
) -> Result<Vec<(DateTime<Utc>, DateTime<Utc>)>> {
    if to <= from {
        return Err(Error::Config {
            location: "--from/--to".into(),
            message: format!("the range {from} to {to} is empty: --to must be after --from"),
        });
    }
    if window <= Duration::zero() {
        return Err(Error::Config {
            location: "--window".into(),
            message: "must be longer than zero".into(),
        });
    }
    let mut out = Vec::new();
    let mut start = from;
    while start < to {
        let end = start.checked_add_signed(window).map_or(to, |e| e.min(to));
        out.push((start, end));
        start = end;
    }
    Ok(out)
}

/// What a backfill does with each (stream, window).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum BackfillStep {
    /// Loaded by an earlier backfill: nothing to do.
    Done {
        /// The batch that loaded it.
        batch_id: String,
    },
    /// Staged by an earlier backfill but not loaded: load it.
    Load {
        /// The staged batch.
        batch_id: String,
    },
    /// An earlier backfill was interrupted while reading it: go on from its recorded position
    /// (`planned.resume`; `None` when the position no longer reads, and the window starts
    /// over in a new batch).
    Resume {
        /// The window.
        planned: PlannedExtract,
        /// The part-written batch.
        batch_id: String,
    },
    /// Extract (and then load) it.
    Extract(PlannedExtract),
}

/// The backfill of every job of `options` over `windows`: each stream's windows are done,
/// loaded or resumed by its own batches only.
pub(crate) fn backfill(
    state: &ManifestState,
    options: &ExtractOptions,
    windows: &[(DateTime<Utc>, DateTime<Utc>)],
) -> Vec<BackfillStep> {
    let mut out = Vec::new();
    for job in &options.objects {
        let (object, entity) = (job.name.as_str(), job.entity.as_deref());
        for &(from, to) in windows {
            let of_window = |b: &&BatchState| {
                b.mode == Mode::Backfill && b.window_from == Some(from) && b.window_to == to
            };
            let earlier = state
                .batches_of_stream(object, entity)
                .filter(of_window)
                .filter(|b| matches!(b.status, BatchStatus::Staged | BatchStatus::Loaded))
                .last();
            let part_written = state
                .batches_of_stream(object, entity)
                .filter(of_window)
                .filter(|b| b.status == BatchStatus::Created && b.progress.is_some())
                .last();
            let planned = PlannedExtract {
                job: job.clone(),
                mode: Mode::Backfill,
                window: TimeWindow {
                    from: Some(from),
                    to,
                },
                deletes: None,
                lines: None,
                resume: None,
            };
            out.push(match (earlier, part_written) {
                (Some(b), _) if b.status == BatchStatus::Loaded => BackfillStep::Done {
                    batch_id: b.batch_id.clone(),
                },
                (Some(b), _) => BackfillStep::Load {
                    batch_id: b.batch_id.clone(),
                },
                (None, Some(b)) => BackfillStep::Resume {
                    planned: PlannedExtract {
                        resume: resume_from(b),
                        ..planned
                    },
                    batch_id: b.batch_id.clone(),
                },
                (None, None) => BackfillStep::Extract(planned),
            });
        }
    }
    out
}

/// Where a part-written batch goes on from: `None` when it recorded no position, or one that
/// no longer reads as a cursor.
fn resume_from(batch: &BatchState) -> Option<ResumeFrom> {
    let progress = batch.progress.clone()?;
    let cursor = serde_json::from_value::<Cursor>(progress.cursor.clone()).ok()?;
    Some(ResumeFrom {
        batch_id: batch.batch_id.clone(),
        schema_fingerprint: batch.schema_fingerprint.clone(),
        progress,
        cursor,
    })
}

/// Which saved batches a replay loads again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplaySelection {
    /// These batches.
    Batches(Vec<String>),
    /// Every batch of the object read from Intacct whose window overlaps `[since, until)`.
    Object {
        /// The object.
        object: String,
        /// Windows ending after this.
        since: Option<DateTime<Utc>>,
        /// Windows starting before this.
        until: Option<DateTime<Utc>>,
    },
}

/// The source batches of a replay, oldest first: loaded batches read from Intacct (never
/// replays of replays). A staged batch not loaded yet is `load`'s: replaying it beside its
/// own load would share its staging rows. A batch `stage prune` removed the files of cannot be
/// replayed: naming one, or selecting one by object and window, is an error that says so and
/// how to read its window again.
pub(crate) fn replay_sources<'a>(
    state: &'a ManifestState,
    selection: &ReplaySelection,
) -> Result<Vec<&'a BatchState>> {
    let usable = |b: &BatchState| b.replay_of.is_none() && b.status == BatchStatus::Loaded;
    let mut found: Vec<&BatchState> = match selection {
        ReplaySelection::Batches(ids) => ids
            .iter()
            .map(|id| {
                let batch = state.batches.get(id).ok_or_else(|| Error::Config {
                    location: "--batch".into(),
                    message: format!("batch {id} is not in the manifest (see `status` and the run reports)"),
                })?;
                if !usable(batch) {
                    return Err(Error::Config {
                        location: "--batch".into(),
                        message: format!(
                            "batch {id} is {}{}: only loaded batches read from Intacct can be replayed (a staged one is loaded by `load`)",
                            batch.status,
                            if batch.replay_of.is_some() { " (a replay)" } else { "" }
                        ),
                    });
                }
                if let Some(pruned) = batch.pruned {
                    return Err(Error::Config {
                        location: "--batch".into(),
                        message: format!(
                            "batch {id} of {} cannot be replayed: `stage prune` removed its files at {} (it was loaded before the horizon {}); read its window again from Intacct with `backfill --objects {} --from {} --to {}`",
                            batch.object,
                            pruned.at,
                            pruned.horizon,
                            batch.object,
                            batch.window_from.map_or("<the date of its first record>".to_owned(), |f| f.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                            batch.window_to.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        ),
                    });
                }
                Ok(batch)
            })
            .collect::<Result<_>>()?,
        ReplaySelection::Object {
            object,
            since,
            until,
        } => {
            let selected: Vec<&BatchState> = state
                .batches
                .values()
                .filter(|b| b.object == *object && usable(b))
                .filter(|b| since.is_none_or(|s| b.window_to > s))
                .filter(|b| until.is_none_or(|u| b.window_from.is_none_or(|f| f < u)))
                .collect();
            let pruned: Vec<&&BatchState> = selected.iter().filter(|b| b.pruned.is_some()).collect();
            if let Some(newest) = pruned.iter().map(|b| b.window_to).max() {
                return Err(Error::Config {
                    location: "--object".into(),
                    message: format!(
                        "{} of the {} batches of {object} selected cannot be replayed: `stage prune` removed their files (e.g. batch {}); replay the later ones with --since {} or read the pruned windows again from Intacct with `backfill`",
                        pruned.len(),
                        selected.len(),
                        pruned[0].batch_id,
                        newest.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    ),
                });
            }
            selected
        }
    };
    found.sort_by_key(|b| b.created_version);
    found.dedup_by_key(|b| b.batch_id.clone());
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intacct::{Pass, ReadMethod, RecordKey};
    use crate::manifest::{Action, Commit, fold};
    use crate::stage::StageOptions;
    use crate::stage::parts::StagedFile;

    fn t(day: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + day * 86_400, 0).unwrap()
    }

    /// A job for `object` (of `entity`), with its own lookback when given.
    fn job(object: &str, entity: Option<&str>, lookback: Option<Duration>) -> ObjectJob {
        ObjectJob {
            name: object.to_owned(),
            method: ReadMethod::Query,
            fields: None,
            page_size: 100,
            exclude_fields: vec![],
            lookback,
            key: "RECORDNO".into(),
            watermark_field: "WHENMODIFIED".into(),
            delete_lookback: None,
            entity: entity.map(str::to_owned),
        }
    }

    /// Options of `jobs` with a pipeline lookback of one day (the delete feed's: three hours)
    /// and windows ending at `now`.
    fn options(jobs: Vec<ObjectJob>, now: DateTime<Utc>) -> ExtractOptions {
        ExtractOptions {
            objects: jobs,
            lookback: Duration::days(1),
            delete_lookback: Duration::hours(3),
            now,
            concurrent_objects: 1,
            slices_per_object: 1,
            quarantine_bad_values: true,
            deletes: DeleteFeed::AuditHistory,
            stage: StageOptions::default(),
            progress: false,
            checkpoint_pages: 1,
        }
    }

    /// The (from, to) of each planned window.
    fn windows_of(plan: &[PlannedExtract]) -> Vec<(Option<DateTime<Utc>>, DateTime<Utc>)> {
        plan.iter().map(|p| (p.window.from, p.window.to)).collect()
    }

    fn state(actions: Vec<Action>) -> ManifestState {
        let commits: Vec<Commit> = actions
            .into_iter()
            .enumerate()
            .map(|(i, a)| Commit {
                version: i as u64 + 1,
                written_at: t(0),
                run_id: "r".into(),
                generation: 0,
                actions: vec![a],
            })
            .collect();
        fold(None, &commits).unwrap()
    }

    fn created(id: &str, mode: Mode, from: Option<i64>, to: i64) -> Action {
        Action::BatchCreated {
            batch_id: id.into(),
            object: "APBILL".into(),
            mode,
            window_from: from.map(t),
            window_to: t(to),
            schema_fingerprint: "f".into(),
            replay_of: None,
            keys: None,
        }
    }

    fn staged(id: &str, up_to: Option<i64>) -> Action {
        Action::BatchStaged {
            batch_id: id.into(),
            files: vec![StagedFile {
                path: format!("APBILL/{id}/part-00001.parquet"),
                rows: 1,
                bytes: 1,
                sha256: "0".into(),
            }],
            raw_pages: vec![],
            quarantine: vec![],
            rows: 1,
            deleted_rows: 0,
            bytes: 1,
            staged_up_to: up_to.map(t),
            deletes_up_to: None,
        }
    }

    fn loaded(id: &str, mode: Mode, watermark: Option<i64>) -> Action {
        Action::BatchLoaded {
            batch_id: id.into(),
            mode,
            copy_rows: 1,
            merge_inserted: 1,
            merge_updated: 0,
            watermark: watermark.map(t),
        }
    }

    #[test]
    fn nightly_starts_at_the_later_mark_minus_the_lookback() {
        let s = state(vec![
            created("a", Mode::Nightly, None, 10),
            staged("a", Some(10)),
            loaded("a", Mode::Nightly, Some(10)),
            created("b", Mode::Nightly, Some(9), 12),
            staged("b", Some(12)),
        ]);
        let jobs = vec![job("APBILL", None, None), job("VENDOR", None, None)];
        let plan = nightly(&s, &options(jobs, t(13)));
        assert_eq!(plan[0].window.from, Some(t(11)));
        assert_eq!(plan[0].window.to, t(13));
        assert_eq!(plan[1].window.from, None, "a first run reads everything");
        let longer = nightly(
            &s,
            &options(vec![job("APBILL", None, Some(Duration::days(3)))], t(13)),
        );
        assert_eq!(
            longer[0].window.from,
            Some(t(9)),
            "an object's own lookback"
        );
    }

    #[test]
    fn a_nightly_window_never_starts_after_it_ends_and_keeps_its_lookback() {
        // APBILL's mark is day 12; VENDOR has none.
        let s = state(vec![
            created("a", Mode::Nightly, None, 12),
            staged("a", Some(12)),
            loaded("a", Mode::Nightly, Some(12)),
        ]);
        let jobs = || vec![job("APBILL", None, None), job("VENDOR", None, None)];
        // The mark before now: the lookback before the mark.
        assert_eq!(
            windows_of(&nightly(&s, &options(jobs(), t(20)))),
            [(Some(t(11)), t(20)), (None, t(20))]
        );
        // The mark exactly now: the lookback before now.
        assert_eq!(
            windows_of(&nightly(&s, &options(jobs(), t(12)))),
            [(Some(t(11)), t(12)), (None, t(12))]
        );
        // The mark after now (the clock went back, or --now is earlier than the mark): the
        // window ends at now, starts the whole lookback before it, and is never inverted.
        assert_eq!(
            windows_of(&nightly(&s, &options(jobs(), t(5)))),
            [(Some(t(4)), t(5)), (None, t(5))]
        );
        // No lookback and the mark after now: an empty window, never an inverted one.
        let mut no_lookback = options(jobs(), t(5));
        no_lookback.lookback = Duration::zero();
        assert_eq!(
            windows_of(&nightly(&s, &no_lookback)),
            [(Some(t(5)), t(5)), (None, t(5))]
        );
        // A lookback longer than the calendar: everything.
        assert_eq!(window_start(Some(t(12)), Duration::MAX, t(20)), None);
        assert_eq!(window_start(None, Duration::days(1), t(20)), None);
    }

    #[test]
    fn each_window_says_why_it_starts_where_it_does() {
        // APBILL: loaded to day 10, then staged to day 12 (not loaded); VENDOR: loaded to day
        // 12; CLASS: nothing yet.
        let s = state(vec![
            created("a", Mode::Nightly, None, 10),
            staged("a", Some(10)),
            loaded("a", Mode::Nightly, Some(10)),
            created("b", Mode::Nightly, Some(9), 12),
            staged("b", Some(12)),
        ]);
        let mut vendor = s.clone();
        let batch = vendor.batches.remove("b").unwrap();
        vendor.batches.insert(
            "v".into(),
            BatchState {
                object: "VENDOR".into(),
                ..batch
            },
        );
        vendor.objects.insert(
            "VENDOR".into(),
            crate::manifest::ObjectState {
                watermark: Some(t(12)),
                staged_up_to: Some(t(12)),
                ..Default::default()
            },
        );
        let jobs = vec![
            job("APBILL", None, None),
            job("VENDOR", None, None),
            job("CLASS", None, None),
        ];
        let day = Duration::days(1);
        let explained = nightly_explained(&vendor, &options(jobs.clone(), t(20)));
        let reasons: Vec<&WindowStart> = explained.iter().map(|(_, r)| &r.window).collect();
        assert_eq!(
            reasons,
            [
                &WindowStart::Mark {
                    mark: t(12),
                    kind: MarkKind::Staged,
                    lookback: day
                },
                &WindowStart::Mark {
                    mark: t(12),
                    kind: MarkKind::Watermark,
                    lookback: day
                },
                &WindowStart::FirstRun,
            ]
        );
        // The windows are the plan's own.
        assert_eq!(
            explained.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>(),
            nightly(&vendor, &options(jobs.clone(), t(20)))
        );
        // The feed has no mark of its own yet: it starts at the stream's first extraction
        // (batch a read everything before day 10), or at now when nothing was read.
        assert_eq!(
            explained[0].1.deletes,
            Some(WindowStart::Mark {
                mark: t(10),
                kind: MarkKind::FirstExtraction,
                lookback: Duration::hours(3)
            }),
        );
        assert_eq!(
            explained[0].0.deletes.unwrap().from,
            Some(t(10) - Duration::hours(3))
        );
        assert_eq!(
            explained[2].1.deletes,
            Some(WindowStart::Mark {
                mark: t(20),
                kind: MarkKind::FirstRun,
                lookback: Duration::hours(3)
            }),
        );
        assert!(
            explained[2]
                .1
                .deletes
                .as_ref()
                .unwrap()
                .to_string()
                .starts_with("no deletes mark and nothing read yet"),
            "{:?}",
            explained[2].1.deletes
        );
        // Now before the marks: clamped.
        let early = nightly_explained(&s, &options(jobs.clone(), t(5)));
        assert_eq!(
            early[0].1.window,
            WindowStart::Clamped {
                mark: t(12),
                lookback: day
            }
        );
        assert_eq!(early[0].0.window.from, Some(t(4)));
        // A lookback longer than the calendar: everything, and said so.
        let mut unbounded = options(jobs, t(20));
        unbounded.lookback = Duration::MAX;
        let all = nightly_explained(&s, &unbounded);
        assert_eq!(all[0].0.window.from, None);
        assert_eq!(
            all[0].1.window,
            WindowStart::LookbackUnbounded {
                lookback: Duration::MAX
            }
        );
        assert!(
            all[0]
                .1
                .window
                .to_string()
                .ends_with("reaches before the calendar: everything"),
            "{}",
            all[0].1.window
        );
        assert_eq!(
            explained[0].1.window.to_string(),
            format!(
                "staged mark (a batch staged, not loaded yet) {} minus lookback 1d",
                t(12).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            )
        );
    }

    #[test]
    fn a_line_object_header_window_says_which_start_it_took() {
        // APBILLITEM: first read everything before day 10, loaded; no deletes mark recorded.
        let mut s = state(vec![
            created("a", Mode::Nightly, None, 10),
            staged("a", Some(10)),
            loaded("a", Mode::Nightly, Some(10)),
        ]);
        let batch = s.batches.remove("a").unwrap();
        s.batches.insert(
            "a".into(),
            BatchState {
                object: "APBILLITEM".into(),
                ..batch
            },
        );
        let marks = s.objects.remove("APBILL").unwrap();
        s.objects.insert("APBILLITEM".into(), marks);
        let feed_from = t(10) - Duration::hours(3);
        // A day's lookback: the records' window (from day 9) starts before the feed's (three
        // hours before the first extraction), and the header window takes it, with its reason.
        let explained = nightly_explained(&s, &options(vec![job("APBILLITEM", None, None)], t(20)));
        let (planned, why) = &explained[0];
        assert_eq!(planned.window.from, Some(t(9)));
        assert_eq!(planned.deletes.unwrap().from, Some(feed_from));
        assert_eq!(planned.lines.unwrap().from, Some(t(9)));
        assert_eq!(why.lines.as_ref(), Some(&why.window));
        // An hour's lookback: the feed starts first, and the header window says so.
        let hour = Some(Duration::hours(1));
        let explained = nightly_explained(&s, &options(vec![job("APBILLITEM", None, hour)], t(20)));
        let (planned, why) = &explained[0];
        assert_eq!(planned.window.from, Some(t(10) - Duration::hours(1)));
        assert_eq!(planned.lines.unwrap().from, Some(feed_from));
        assert_eq!(
            why.lines,
            Some(WindowStart::Mark {
                mark: t(10),
                kind: MarkKind::FirstExtraction,
                lookback: Duration::hours(3)
            })
        );
        // Not a line object: no header window.
        assert_eq!(
            nightly_explained(&s, &options(vec![job("APBILL", None, None)], t(20)))[0]
                .1
                .lines,
            None
        );
    }

    #[test]
    fn the_feed_window_starts_its_lookback_before_its_own_mark() {
        let to = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let three_hours = Duration::seconds(crate::intacct::objects::AUDIT_LAG_LOOKBACK_SECS);
        assert_eq!(three_hours, Duration::hours(3));
        assert_eq!(window_start(None, three_hours, to), None);
        let mark = to - Duration::hours(24);
        assert_eq!(
            window_start(Some(mark), three_hours, to),
            Some(mark - Duration::hours(3))
        );
        assert_eq!(
            window_start(Some(mark), Duration::hours(30), to),
            Some(mark - Duration::hours(30))
        );
        // A mark past the window's end: the lookback before the end, never past it.
        assert_eq!(
            window_start(Some(to + Duration::hours(9)), three_hours, to),
            Some(to - Duration::hours(3))
        );
    }

    #[test]
    fn the_delete_feed_plans_from_its_own_mark_over_the_objects_window_end() {
        let s = state(vec![
            created("a", Mode::Nightly, None, 10),
            Action::BatchStaged {
                batch_id: "a".into(),
                files: vec![],
                raw_pages: vec![],
                quarantine: vec![],
                rows: 0,
                deleted_rows: 0,
                bytes: 0,
                staged_up_to: Some(t(10)),
                deletes_up_to: Some(t(8)),
            },
        ]);
        let mut audit = job("AUDITHISTORY", None, None);
        audit.delete_lookback = Some(Duration::days(2));
        let mut apbill = job("APBILL", None, None);
        apbill.delete_lookback = Some(Duration::days(2));
        let plan = nightly(&s, &options(vec![apbill.clone(), audit], t(13)));
        assert_eq!(
            plan[0].deletes,
            Some(TimeWindow {
                from: Some(t(6)),
                to: t(13)
            }),
            "the object's own delete lookback before the feed's mark"
        );
        assert_eq!(plan[1].deletes, None, "AUDITHISTORY has no delete feed");
        // The feed's mark after now: the same rule as the object's window.
        let early = nightly(&s, &options(vec![apbill.clone()], t(7)));
        assert_eq!(
            early[0].deletes,
            Some(TimeWindow {
                from: Some(t(5)),
                to: t(7)
            })
        );
        let mut off = options(vec![apbill], t(13));
        off.deletes = DeleteFeed::Off;
        assert_eq!(nightly(&s, &off)[0].deletes, None);
    }

    #[test]
    fn a_first_feed_starts_at_the_first_extraction_minus_its_lookback_never_at_the_beginning() {
        let three_hours = Duration::hours(3);
        // No batch at all: the feed of this first run starts three hours before now.
        let first = nightly(
            &state(vec![]),
            &options(vec![job("APBILL", None, None)], t(13)),
        );
        assert_eq!(first[0].window.from, None, "the object reads everything");
        assert_eq!(
            first[0].deletes,
            Some(TimeWindow {
                from: Some(t(13) - three_hours),
                to: t(13)
            })
        );
        // The first run's feed failed (no deletes mark): the next one starts from that run's
        // extraction, not from its own mark minus the lookback, so nothing is skipped.
        let s = state(vec![
            created("a", Mode::Nightly, None, 10),
            staged("a", Some(10)),
            loaded("a", Mode::Nightly, Some(10)),
            created("b", Mode::Nightly, Some(9), 12),
            staged("b", Some(12)),
        ]);
        let plan = nightly(&s, &options(vec![job("APBILL", None, None)], t(13)));
        assert_eq!(plan[0].window.from, Some(t(11)));
        assert_eq!(plan[0].deletes.unwrap().from, Some(t(10) - three_hours));
        // A backfill batch is no nightly extraction.
        let backfilled = state(vec![created("x", Mode::Backfill, Some(0), 5)]);
        let plan = nightly(
            &backfilled,
            &options(vec![job("APBILL", None, None)], t(13)),
        );
        assert_eq!(plan[0].deletes.unwrap().from, Some(t(13) - three_hours));
    }

    #[test]
    fn backfill_windows_read_no_deletes_and_no_lines() {
        let w = windows(t(0), t(10), Duration::days(1)).unwrap();
        assert_eq!(w.len(), 10);
        let jobs = vec![job("APBILL", None, None), job("APBILLITEM", None, None)];
        let steps = backfill(&state(vec![]), &options(jobs, t(20)), &w);
        assert_eq!(steps.len(), 20);
        for step in steps {
            let BackfillStep::Extract(p) = step else {
                panic!("{step:?}")
            };
            assert_eq!((p.deletes, p.lines), (None, None), "{:?}", p.window);
        }
    }

    #[test]
    fn line_objects_compare_the_lines_of_headers_changed_since_the_earlier_start() {
        let jobs = || {
            vec![
                job("APBILLITEM", None, None),
                job("APPYMTDETAIL", None, None),
                job("APBILL", None, None),
            ]
        };
        // First run: the object reads everything, the header changes of the feed's window.
        let first = nightly(&state(vec![]), &options(jobs(), t(13)));
        for p in &first[..2] {
            assert_eq!(p.lines, p.deletes, "{}", p.job.name);
            assert!(p.lines.unwrap().from.is_some());
        }
        assert_eq!(first[2].lines, None, "a header has no lines to compare");
        // Later: the earlier of the object's window start (its lookback of a day) and the
        // feed's (three hours before its mark).
        let line_batch =
            |id: &str, object: &str, from: Option<i64>, to: i64| Action::BatchCreated {
                batch_id: id.into(),
                object: object.into(),
                mode: Mode::Nightly,
                window_from: from.map(t),
                window_to: t(to),
                schema_fingerprint: "f".into(),
                replay_of: None,
                keys: None,
            };
        let s = state(vec![
            line_batch("a", "APBILLITEM", None, 10),
            Action::BatchStaged {
                batch_id: "a".into(),
                files: vec![],
                raw_pages: vec![],
                quarantine: vec![],
                rows: 0,
                deleted_rows: 0,
                bytes: 0,
                staged_up_to: Some(t(10)),
                deletes_up_to: Some(t(8)),
            },
        ]);
        let plan = nightly(&s, &options(vec![job("APBILLITEM", None, None)], t(13)));
        assert_eq!(plan[0].window.from, Some(t(9)));
        assert_eq!(
            plan[0].deletes.unwrap().from,
            Some(t(8) - Duration::hours(3))
        );
        assert_eq!(
            plan[0].lines,
            Some(TimeWindow {
                from: Some(t(8) - Duration::hours(3)),
                to: t(13)
            })
        );
        let mut off = options(vec![job("APBILLITEM", None, None)], t(13));
        off.deletes = DeleteFeed::Off;
        assert_eq!(nightly(&s, &off)[0].lines, None);
    }

    /// One commit per inner list (a batch and its entity are created in one commit).
    fn state_of(commits: Vec<Vec<Action>>) -> ManifestState {
        let commits: Vec<Commit> = commits
            .into_iter()
            .enumerate()
            .map(|(i, actions)| Commit {
                version: i as u64 + 1,
                written_at: t(0),
                run_id: "r".into(),
                generation: 0,
                actions,
            })
            .collect();
        fold(None, &commits).unwrap()
    }

    fn of_entity(id: &str, entity: &str) -> Action {
        Action::BatchEntity {
            batch_id: id.into(),
            entity: entity.into(),
        }
    }

    #[test]
    fn each_entity_stream_plans_from_its_own_marks() {
        let s = state_of(vec![
            vec![
                created("e1", Mode::Nightly, None, 10),
                of_entity("e1", "E100"),
            ],
            vec![staged("e1", Some(10))],
            vec![
                created("e2", Mode::Nightly, None, 10),
                of_entity("e2", "E200"),
            ],
            vec![staged("e2", Some(10))],
            // E100's next batch loads and moves E100's watermark although E200's first
            // batch is staged and not loaded: streams do not wait for each other.
            vec![loaded("e1", Mode::Nightly, Some(10))],
            vec![
                created("e3", Mode::Nightly, Some(9), 12),
                of_entity("e3", "E100"),
            ],
            vec![staged("e3", Some(12))],
            vec![loaded("e3", Mode::Nightly, Some(12))],
        ]);
        assert_eq!(s.objects["APBILL@E100"].watermark, Some(t(12)));
        assert_eq!(s.objects["APBILL@E200"].watermark, None);
        assert_eq!(s.objects["APBILL@E200"].staged_up_to, Some(t(10)));
        assert!(
            !s.objects.contains_key("APBILL"),
            "no company-wide stream was touched"
        );
        assert_eq!(s.batches["e2"].entity.as_deref(), Some("E200"));
        let streams = vec![
            job("APBILL", Some("E100"), None),
            job("APBILL", Some("E200"), None),
            job("APBILL", None, None),
        ];
        let plan = nightly(&s, &options(streams, t(13)));
        assert_eq!(plan[0].window.from, Some(t(11)));
        assert_eq!(plan[0].job.entity.as_deref(), Some("E100"));
        assert_eq!(
            plan[1].window.from,
            Some(t(9)),
            "E200 from its own staged mark"
        );
        assert_eq!(plan[2].window.from, None);

        let steps = backfill(
            &s,
            &options(vec![job("APBILL", Some("E200"), None)], t(13)),
            &[(t(1), t(2))],
        );
        assert!(
            matches!(&steps[0], BackfillStep::Extract(p) if p.job.entity.as_deref() == Some("E200"))
        );
    }

    #[test]
    fn an_entity_is_named_only_in_the_commit_that_creates_its_batch() {
        let commits = vec![
            Commit {
                version: 1,
                written_at: t(0),
                run_id: "r".into(),
                generation: 0,
                actions: vec![created("e1", Mode::Nightly, None, 10)],
            },
            Commit {
                version: 2,
                written_at: t(0),
                run_id: "r".into(),
                generation: 0,
                actions: vec![of_entity("e1", "E100")],
            },
        ];
        match fold(None, &commits) {
            Err(Error::ManifestRule { rule, .. }) => {
                assert_eq!(rule, crate::manifest::ManifestRule::EntityNamed)
            }
            other => panic!("expected the entity rule, got {other:?}"),
        }
    }

    #[test]
    fn windows_cover_the_range_exactly() {
        let w = windows(t(0), t(65), Duration::days(30)).unwrap();
        assert_eq!(w, vec![(t(0), t(30)), (t(30), t(60)), (t(60), t(65))]);
        assert!(matches!(
            windows(t(5), t(5), Duration::days(1)),
            Err(Error::Config { .. })
        ));
        assert!(matches!(
            windows(t(0), t(5), Duration::zero()),
            Err(Error::Config { .. })
        ));
    }

    #[test]
    fn backfill_skips_loaded_windows_and_loads_staged_ones() {
        let cursor = Cursor {
            pass: Pass::Modified,
            instant: t(3),
            record_no: RecordKey::Integer(42),
        };
        let s = state(vec![
            created("done", Mode::Backfill, Some(0), 30),
            staged("done", None),
            loaded("done", Mode::Backfill, None),
            created("half", Mode::Backfill, Some(30), 60),
            staged("half", None),
            created("dead", Mode::Backfill, Some(60), 65),
            created("reading", Mode::Backfill, Some(0), 30),
            Action::BatchProgress {
                batch_id: "reading".into(),
                files: vec![],
                raw_pages: vec![],
                quarantine: vec![],
                cursor: serde_json::to_value(&cursor).unwrap(),
            },
        ]);
        let w = windows(t(0), t(65), Duration::days(30)).unwrap();
        let apbill = || options(vec![job("APBILL", None, None)], t(70));
        // Without the loaded window, the part-written batch of the first window resumes.
        let mut reading_only = s.clone();
        reading_only.batches.remove("done");
        assert!(matches!(
            &backfill(&reading_only, &apbill(), &w[..1])[0],
            BackfillStep::Resume { batch_id, planned } if batch_id == "reading"
                && planned.resume.as_ref().map(|r| (r.batch_id.as_str(), &r.cursor))
                    == Some(("reading", &cursor))
        ));
        let steps = backfill(&s, &apbill(), &w);
        assert_eq!(
            steps,
            vec![
                BackfillStep::Done {
                    batch_id: "done".into()
                },
                BackfillStep::Load {
                    batch_id: "half".into()
                },
                BackfillStep::Extract(PlannedExtract {
                    job: job("APBILL", None, None),
                    window: TimeWindow {
                        from: Some(t(60)),
                        to: t(65),
                    },
                    mode: Mode::Backfill,
                    deletes: None,
                    lines: None,
                    resume: None,
                }),
            ]
        );
    }

    #[test]
    fn replay_selects_saved_batches_by_id_or_window() {
        let s = state(vec![
            created("old", Mode::Nightly, None, 10),
            staged("old", Some(10)),
            loaded("old", Mode::Nightly, Some(10)),
            created("new", Mode::Nightly, Some(9), 20),
            staged("new", Some(20)),
            loaded("new", Mode::Nightly, Some(20)),
            created("open", Mode::Nightly, Some(19), 30),
            staged("open", Some(30)),
        ]);
        let by_window = replay_sources(
            &s,
            &ReplaySelection::Object {
                object: "APBILL".into(),
                since: Some(t(15)),
                until: None,
            },
        )
        .unwrap();
        assert_eq!(
            by_window
                .iter()
                .map(|b| b.batch_id.as_str())
                .collect::<Vec<_>>(),
            ["new"]
        );
        let err = replay_sources(&s, &ReplaySelection::Batches(vec!["open".into()])).unwrap_err();
        assert!(err.to_string().contains("only loaded batches"), "{err}");
        let err = replay_sources(&s, &ReplaySelection::Batches(vec!["nope".into()])).unwrap_err();
        assert!(matches!(err, Error::Config { .. }));

        // `old` pruned: by id, an error that says so; by object, only with --since past it.
        let mut s = s;
        let commit = Commit {
            version: s.version + 1,
            written_at: t(40),
            run_id: "prune".into(),
            generation: 0,
            actions: vec![Action::BatchPruned {
                batch_id: "old".into(),
                horizon: t(35),
            }],
        };
        s = crate::manifest::apply(&s, &commit).unwrap();
        match replay_sources(&s, &ReplaySelection::Batches(vec!["old".into()])) {
            Err(Error::Config { location, message }) => {
                assert_eq!(location, "--batch");
                assert!(
                    message.contains("`stage prune` removed its files"),
                    "{message}"
                );
            }
            other => panic!("expected a pruned batch to be refused, got {other:?}"),
        }
        let all = ReplaySelection::Object {
            object: "APBILL".into(),
            since: None,
            until: None,
        };
        match replay_sources(&s, &all) {
            Err(Error::Config { location, message }) => {
                assert_eq!(location, "--object");
                assert!(message.starts_with("1 of the 2 batches"), "{message}");
            }
            other => panic!("expected the pruned batch to stop the replay, got {other:?}"),
        }
        let kept = replay_sources(
            &s,
            &ReplaySelection::Object {
                object: "APBILL".into(),
                since: Some(t(10)),
                until: None,
            },
        )
        .unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].batch_id, "new");
    }
}
