//! Planning, pure: which windows and batches a command works on, from the manifest state and
//! the clock alone. Extract and load then carry a plan out; nothing here does IO.
//!
//! * nightly: per object, `[max(staged_up_to, watermark) − lookback, now)`, or everything on
//!   an object's first run;
//! * backfill: `[from, to)` cut into windows of a fixed length; a window an earlier backfill
//!   loaded is not redone, one it staged is only loaded;
//! * replay: saved batches (by id, or by object and window) to load again from the stage.

use chrono::{DateTime, Duration, Utc};

use crate::error::{Error, Result};
use crate::manifest::{BatchState, BatchStatus, ManifestState, Mode, stream_key};

/// One object's extract: its window and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PlannedExtract {
    /// The object.
    pub object: String,
    /// Records changed at or after this (`None`: everything).
    pub from: Option<DateTime<Utc>>,
    /// … and before this.
    pub to: DateTime<Utc>,
    /// Nightly or backfill.
    pub mode: Mode,
    /// The entity read (`intacct.entities`); `None`: the company.
    pub entity: Option<String>,
}

/// The nightly windows of `objects`, each with its lookback.
#[cfg(test)]
pub(crate) fn nightly(
    state: &ManifestState,
    objects: &[(String, Duration)],
    now: DateTime<Utc>,
) -> Vec<PlannedExtract> {
    let streams: Vec<_> = objects
        .iter()
        .map(|(object, lookback)| (object.clone(), None, *lookback))
        .collect();
    nightly_streams(state, &streams, now)
}

/// The nightly windows of (object, entity, lookback) streams: each from its own marks, so one
/// entity's progress or failure never moves another's window.
pub(crate) fn nightly_streams(
    state: &ManifestState,
    streams: &[(String, Option<String>, Duration)],
    now: DateTime<Utc>,
) -> Vec<PlannedExtract> {
    streams
        .iter()
        .map(|(object, entity, lookback)| {
            let lookback = *lookback;
            let marks = state
                .objects
                .get(&stream_key(object, entity.as_deref()))
                .cloned()
                .unwrap_or_default();
            let mark = marks.staged_up_to.max(marks.watermark);
            PlannedExtract {
                object: object.clone(),
                from: mark.map(|m| (m - lookback).min(now)),
                to: now,
                mode: Mode::Nightly,
                entity: entity.clone(),
            }
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

/// What a backfill does with each (object, window).
#[derive(Clone, Debug, PartialEq, Eq)]
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
    /// An earlier backfill was interrupted while reading it: go on from its recorded position.
    Resume {
        /// The window.
        planned: PlannedExtract,
        /// The part-written batch.
        batch_id: String,
    },
    /// Extract (and then load) it.
    Extract(PlannedExtract),
}

/// The backfill of `objects` over `windows`.
#[cfg(test)]
pub(crate) fn backfill(
    state: &ManifestState,
    objects: &[String],
    windows: &[(DateTime<Utc>, DateTime<Utc>)],
) -> Vec<BackfillStep> {
    let streams: Vec<_> = objects.iter().map(|o| (o.clone(), None)).collect();
    backfill_streams(state, &streams, windows)
}

/// The backfill of (object, entity) streams over `windows`: each stream's windows are done,
/// loaded or resumed by its own batches only.
pub(crate) fn backfill_streams(
    state: &ManifestState,
    streams: &[(String, Option<String>)],
    windows: &[(DateTime<Utc>, DateTime<Utc>)],
) -> Vec<BackfillStep> {
    let mut out = Vec::new();
    for (object, entity) in streams {
        let entity = entity.as_deref();
        for &(from, to) in windows {
            let earlier = state
                .batches_of_stream(object, entity)
                .filter(|b| {
                    b.mode == Mode::Backfill && b.window_from == Some(from) && b.window_to == to
                })
                .filter(|b| matches!(b.status, BatchStatus::Staged | BatchStatus::Loaded))
                .last();
            let planned = PlannedExtract {
                object: object.clone(),
                from: Some(from),
                to,
                mode: Mode::Backfill,
                entity: entity.map(str::to_owned),
            };
            let part_written = state
                .batches_of_stream(object, entity)
                .filter(|b| {
                    b.mode == Mode::Backfill && b.window_from == Some(from) && b.window_to == to
                })
                .filter(|b| b.status == BatchStatus::Created && b.progress.is_some())
                .last();
            out.push(match (earlier, part_written) {
                (Some(b), _) if b.status == BatchStatus::Loaded => BackfillStep::Done {
                    batch_id: b.batch_id.clone(),
                },
                (Some(b), _) => BackfillStep::Load {
                    batch_id: b.batch_id.clone(),
                },
                (None, Some(b)) => BackfillStep::Resume {
                    planned,
                    batch_id: b.batch_id.clone(),
                },
                (None, None) => BackfillStep::Extract(planned),
            });
        }
    }
    out
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
/// own load would share its staging rows.
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
                Ok(batch)
            })
            .collect::<Result<_>>()?,
        ReplaySelection::Object {
            object,
            since,
            until,
        } => state
            .batches
            .values()
            .filter(|b| b.object == *object && usable(b))
            .filter(|b| since.is_none_or(|s| b.window_to > s))
            .filter(|b| until.is_none_or(|u| b.window_from.is_none_or(|f| f < u)))
            .collect(),
    };
    found.sort_by_key(|b| b.created_version);
    found.dedup_by_key(|b| b.batch_id.clone());
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Action, Commit, fold};
    use crate::stage::parts::StagedFile;

    fn t(day: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + day * 86_400, 0).unwrap()
    }

    fn state(actions: Vec<Action>) -> ManifestState {
        let commits: Vec<Commit> = actions
            .into_iter()
            .enumerate()
            .map(|(i, a)| Commit {
                version: i as u64 + 1,
                written_at: t(0),
                run_id: "r".into(),
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
        let objects = vec![
            ("APBILL".to_owned(), Duration::days(1)),
            ("VENDOR".to_owned(), Duration::days(1)),
        ];
        let plan = nightly(&s, &objects, t(13));
        assert_eq!(plan[0].from, Some(t(11)));
        assert_eq!(plan[0].to, t(13));
        assert_eq!(plan[1].from, None, "a first run reads everything");
        let longer = nightly(&s, &[("APBILL".to_owned(), Duration::days(3))], t(13));
        assert_eq!(longer[0].from, Some(t(9)), "an object's own lookback");
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
            (
                "APBILL".to_owned(),
                Some("E100".to_owned()),
                Duration::days(1),
            ),
            (
                "APBILL".to_owned(),
                Some("E200".to_owned()),
                Duration::days(1),
            ),
            ("APBILL".to_owned(), None, Duration::days(1)),
        ];
        let plan = nightly_streams(&s, &streams, t(13));
        assert_eq!(plan[0].from, Some(t(11)));
        assert_eq!(plan[0].entity.as_deref(), Some("E100"));
        assert_eq!(plan[1].from, Some(t(9)), "E200 from its own staged mark");
        assert_eq!(plan[2].from, None);

        let steps = backfill_streams(
            &s,
            &[("APBILL".to_owned(), Some("E200".to_owned()))],
            &[(t(1), t(2))],
        );
        assert!(
            matches!(&steps[0], BackfillStep::Extract(p) if p.entity.as_deref() == Some("E200"))
        );
    }

    #[test]
    fn an_entity_is_named_only_in_the_commit_that_creates_its_batch() {
        let commits = vec![
            Commit {
                version: 1,
                written_at: t(0),
                run_id: "r".into(),
                actions: vec![created("e1", Mode::Nightly, None, 10)],
            },
            Commit {
                version: 2,
                written_at: t(0),
                run_id: "r".into(),
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
                cursor: serde_json::json!({"pass": "Modified"}),
            },
        ]);
        let w = windows(t(0), t(65), Duration::days(30)).unwrap();
        // Without the loaded window, the part-written batch of the first window resumes.
        let mut reading_only = s.clone();
        reading_only.batches.remove("done");
        assert!(matches!(
            &backfill(&reading_only, &["APBILL".to_owned()], &w[..1])[0],
            BackfillStep::Resume { batch_id, .. } if batch_id == "reading"
        ));
        let steps = backfill(&s, &["APBILL".to_owned()], &w);
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
                    object: "APBILL".into(),
                    from: Some(t(60)),
                    to: t(65),
                    mode: Mode::Backfill,
                    entity: None,
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
    }
}
