//! A long, realistic manifest history, built from actions the rules accept: nightly batches of
//! seven streams (five objects, one more in two entities) created, extracted (some resumed
//! from progress, some failed and retried), staged with their audit type checks, loaded step by
//! step (copy, merge, cleanup; some copies failing definitely and retried under a new
//! requestId; some loads adding a column), replays of loaded batches every week, a backfill
//! every six weeks and a `stage prune` of batches loaded over 60 days before every month. The
//! history stops part-way through a night, where a crash would leave it, and ends with a tail
//! of unfinished work: a staged batch whose copy's outcome is unknown, a part-written extract
//! and a staged batch whose schema change is held.
//!
//! Shared by the manifest's unit tests (through `extern crate self`), the integration tests and
//! the `manifest` benchmark, which include this file by path; each uses part of it.
#![allow(dead_code)]

use chrono::{DateTime, Duration, Utc};
use intacct_snowflake::manifest::{
    Action, BatchKeys, Commit, Mode, SchemaChange, SchemaChangeKind,
};
use intacct_snowflake::stage::StagedFile;

/// Plain streams (the company) and the entities of the one object read per entity.
const OBJECTS: [&str; 5] = ["VENDOR", "CUSTOMER", "APBILL", "ARINVOICE", "GLENTRY"];
const ENTITY_OBJECT: &str = "APBILLITEM";
const ENTITIES: [&str; 2] = ["E100", "E200"];
/// Commits of the unfinished tail.
const TAIL: usize = 8;

/// The first night of the history.
pub(crate) fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600, 0).unwrap() // 2026-01-01T00:00:00Z
}

/// The ids of the batches the tail leaves unfinished: (staged, copy outcome unknown;
/// part-written extract; staged with a held schema change).
pub(crate) const TAIL_STAGED: &str = "VENDOR-tail";
pub(crate) const TAIL_PROGRESS: &str = "CUSTOMER-tail";
pub(crate) const TAIL_HELD: &str = "APBILL-tail";

/// Exactly `n` commits (at least [`TAIL`] + 1), versions 1..=n, in order.
pub(crate) fn history(n: usize) -> Vec<Commit> {
    assert!(n > TAIL, "a history has more commits than its tail");
    let mut h = History {
        commits: vec![],
        limit: n - TAIL,
        seed: 0x9e37_79b9_7f4a_7c15,
        at: start(),
    };
    h.nights();
    h.limit = n;
    h.tail();
    assert_eq!(h.commits.len(), n);
    h.commits
}

struct History {
    commits: Vec<Commit>,
    limit: usize,
    seed: u64,
    at: DateTime<Utc>,
}

/// A loaded batch a replay may name, and when it loaded.
struct Loaded {
    batch_id: String,
    object: String,
    night: i64,
    files: Vec<StagedFile>,
    pruned: bool,
}

/// The history is full: the nights stop here.
#[derive(Debug)]
struct Full;

type Step = Result<(), Full>;

impl History {
    fn random(&mut self, below: u64) -> u64 {
        // xorshift64*: deterministic, no dependency.
        self.seed ^= self.seed >> 12;
        self.seed ^= self.seed << 25;
        self.seed ^= self.seed >> 27;
        (self.seed.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) % below
    }

    fn push(&mut self, actions: Vec<Action>) -> Step {
        if self.commits.len() >= self.limit {
            return Err(Full);
        }
        self.at += Duration::seconds(7);
        self.commits.push(Commit {
            version: self.commits.len() as u64 + 1,
            written_at: self.at,
            run_id: format!("{}-run", self.at.format("%Y%m%dT%H%M")),
            generation: 0,
            actions,
        });
        Ok(())
    }

    fn nights(&mut self) {
        let mut loaded: Vec<Loaded> = vec![];
        let mut night = 0;
        while self.night(night, &mut loaded).is_ok() {
            night += 1;
        }
    }

    fn night(&mut self, night: i64, loaded: &mut Vec<Loaded>) -> Step {
        self.at = start() + Duration::days(night) + Duration::hours(2);
        let window_to = start() + Duration::days(night);
        let window_from = (night > 0).then(|| window_to - Duration::days(1));
        let mut streams: Vec<(&str, Option<&str>)> = OBJECTS.iter().map(|o| (*o, None)).collect();
        streams.extend(ENTITIES.iter().map(|e| (ENTITY_OBJECT, Some(*e))));
        for (object, entity) in streams {
            let stream = match entity {
                Some(e) => format!("{object}@{e}"),
                None => object.to_owned(),
            };
            let mut id = format!("{stream}-n{night}");
            if self.random(30) == 0 {
                // The extract gives up part-way; the run retries the window as a new batch.
                self.create(
                    &id,
                    object,
                    entity,
                    Mode::Nightly,
                    window_from,
                    window_to,
                    None,
                )?;
                self.progress(&id, object, 2)?;
                self.push(vec![Action::BatchFailed {
                    batch_id: id.clone(),
                    error: "Intacct answered XL03000006 three times for page 3: gave up".into(),
                }])?;
                id.push_str("-retry");
            }
            self.create(
                &id,
                object,
                entity,
                Mode::Nightly,
                window_from,
                window_to,
                None,
            )?;
            if self.random(10) == 0 {
                self.progress(&id, object, 1)?;
            }
            let files = self.stage(&id, object, Some(window_to))?;
            if self.random(50) == 0 {
                self.push(vec![Action::SchemaChanges {
                    batch_id: id.clone(),
                    changes: vec![added(object, night)],
                    held: false,
                }])?;
            }
            self.load(&id, Mode::Nightly, Some(window_to))?;
            loaded.push(Loaded {
                batch_id: id,
                object: object.to_owned(),
                night,
                files,
                pruned: false,
            });
        }
        if night % 7 == 6 {
            // A replay of a batch loaded a few nights before, not pruned.
            let candidates: Vec<usize> = (0..loaded.len())
                .filter(|&i| !loaded[i].pruned && (3..=10).contains(&(night - loaded[i].night)))
                .collect();
            if !candidates.is_empty() {
                let pick = candidates[self.random(candidates.len() as u64) as usize];
                let source = &loaded[pick];
                let (source_id, object, files) = (
                    source.batch_id.clone(),
                    source.object.clone(),
                    source.files.clone(),
                );
                let id = format!("{source_id}-replay{night}");
                self.create(
                    &id,
                    &object,
                    None,
                    Mode::Replay,
                    None,
                    window_to,
                    Some(&source_id),
                )?;
                self.stage_files(&id, files, None)?;
                self.load(&id, Mode::Replay, None)?;
            }
        }
        if night % 42 == 41 {
            let id = format!("VENDOR-backfill{night}");
            let to = window_to - Duration::days(30);
            self.create(
                &id,
                "VENDOR",
                None,
                Mode::Backfill,
                Some(to - Duration::days(30)),
                to,
                None,
            )?;
            self.stage(&id, "VENDOR", None)?;
            self.load(&id, Mode::Backfill, None)?;
        }
        if night % 30 == 29 {
            let horizon = self.at - Duration::days(60);
            let mut actions = vec![];
            for batch in loaded
                .iter_mut()
                .filter(|b| !b.pruned && night - b.night > 60)
            {
                batch.pruned = true;
                actions.push(Action::BatchPruned {
                    batch_id: batch.batch_id.clone(),
                    horizon,
                });
            }
            if !actions.is_empty() {
                self.push(actions)?;
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn create(
        &mut self,
        id: &str,
        object: &str,
        entity: Option<&str>,
        mode: Mode,
        window_from: Option<DateTime<Utc>>,
        window_to: DateTime<Utc>,
        replay_of: Option<&str>,
    ) -> Step {
        let mut actions = vec![Action::BatchCreated {
            batch_id: id.to_owned(),
            object: object.to_owned(),
            mode,
            window_from,
            window_to,
            schema_fingerprint: format!("{:016x}", fingerprint(object)),
            replay_of: replay_of.map(str::to_owned),
            keys: replay_of.is_none().then(BatchKeys::default),
        }];
        if let Some(entity) = entity {
            actions.push(Action::BatchEntity {
                batch_id: id.to_owned(),
                entity: entity.to_owned(),
            });
        }
        self.push(actions)
    }

    fn part(&mut self, id: &str, object: &str, n: usize) -> StagedFile {
        let rows = 1 + self.random(40_000);
        StagedFile {
            path: format!("{object}/{id}/part-{n:05}.parquet"),
            rows,
            bytes: rows * 180 + 4_096,
            sha256: format!("{:064x}", self.random(u64::MAX)),
        }
    }

    fn raw_page(&mut self, id: &str, object: &str, n: usize) -> StagedFile {
        StagedFile {
            path: format!("{object}/{id}/raw/page-{n:05}.xml.zst"),
            rows: 0,
            bytes: 20_000 + self.random(400_000),
            sha256: format!("{:064x}", self.random(u64::MAX)),
        }
    }

    fn progress(&mut self, id: &str, object: &str, parts: usize) -> Step {
        let files = (1..=parts).map(|n| self.part(id, object, n)).collect();
        let raw_pages = (1..=parts * 2)
            .map(|n| self.raw_page(id, object, n))
            .collect();
        self.push(vec![Action::BatchProgress {
            batch_id: id.to_owned(),
            files,
            raw_pages,
            quarantine: vec![],
            cursor: serde_json::json!({"pass": "modified", "after_recordno": 1000 * parts}),
        }])
    }

    /// Stages a batch read from Intacct: its parts, raw pages, sometimes a quarantine file,
    /// and its audit type check in the same commit. Returns its parts.
    fn stage(
        &mut self,
        id: &str,
        object: &str,
        staged_up_to: Option<DateTime<Utc>>,
    ) -> Result<Vec<StagedFile>, Full> {
        // A resumed extract keeps the parts its progress recorded, in front.
        let recorded = self
            .commits
            .iter()
            .rev()
            .take(3)
            .find_map(|c| match c.actions.first() {
                Some(Action::BatchProgress {
                    batch_id, files, ..
                }) if batch_id == id => Some(files.clone()),
                _ => None,
            })
            .unwrap_or_default();
        let more = 1 + self.random(3) as usize;
        let mut files = recorded.clone();
        for n in recorded.len() + 1..=recorded.len() + more {
            files.push(self.part(id, object, n));
        }
        let pages = 2 + self.random(6) as usize;
        let raw_pages: Vec<StagedFile> =
            (1..=pages).map(|n| self.raw_page(id, object, n)).collect();
        let quarantine = if self.random(8) == 0 {
            vec![StagedFile {
                path: format!("{object}/{id}/quarantine-00001.jsonl"),
                rows: 1 + self.random(5),
                bytes: 900,
                sha256: format!("{:064x}", self.random(u64::MAX)),
            }]
        } else {
            vec![]
        };
        let rows: u64 = files.iter().map(|f| f.rows).sum();
        let bytes: u64 = files.iter().map(|f| f.bytes).sum();
        let deleted_rows = rows.min(self.random(20));
        let since = staged_up_to.unwrap_or(self.at) - Duration::days(1);
        self.push(vec![
            Action::AuditTypeChecked {
                batch_id: id.to_owned(),
                object_type: object.to_ascii_lowercase(),
                since,
                seen: true,
            },
            Action::BatchStaged {
                batch_id: id.to_owned(),
                files: files.clone(),
                raw_pages,
                quarantine,
                rows,
                deleted_rows,
                bytes,
                staged_up_to,
                deletes_up_to: staged_up_to,
            },
        ])?;
        Ok(files)
    }

    fn stage_files(
        &mut self,
        id: &str,
        files: Vec<StagedFile>,
        staged_up_to: Option<DateTime<Utc>>,
    ) -> Step {
        let rows = files.iter().map(|f| f.rows).sum();
        let bytes = files.iter().map(|f| f.bytes).sum();
        self.push(vec![Action::BatchStaged {
            batch_id: id.to_owned(),
            files,
            raw_pages: vec![],
            quarantine: vec![],
            rows,
            deleted_rows: 0,
            bytes,
            staged_up_to,
            deletes_up_to: None,
        }])
    }

    fn request_id(&mut self) -> String {
        let (a, b) = (self.random(u64::MAX), self.random(u64::MAX));
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            a >> 32,
            a & 0xffff,
            (a >> 16) & 0xfff,
            b & 0xfff,
            b >> 16
        )
    }

    /// One statement of a load: started, running under a handle, finished with its figures.
    fn statement(&mut self, id: &str, step: &str, result: serde_json::Value) -> Step {
        let request_id = self.request_id();
        self.push(vec![Action::LoadStepStarted {
            batch_id: id.to_owned(),
            step: step.to_owned(),
            request_id: request_id.clone(),
        }])?;
        let statement_handle = format!("01b{}", &self.request_id()[..30]);
        self.push(vec![Action::LoadStepRunning {
            batch_id: id.to_owned(),
            step: step.to_owned(),
            request_id,
            statement_handle: statement_handle.clone(),
        }])?;
        self.push(vec![Action::LoadStepFinished {
            batch_id: id.to_owned(),
            step: step.to_owned(),
            statement_handle,
            result,
        }])
    }

    fn load(&mut self, id: &str, mode: Mode, watermark: Option<DateTime<Utc>>) -> Step {
        let rows = self.random(40_000);
        if self.random(20) == 0 {
            // Snowflake refused the copy (422): the next attempt takes a new requestId.
            let request_id = self.request_id();
            self.push(vec![Action::LoadStepStarted {
                batch_id: id.to_owned(),
                step: "copy-1".into(),
                request_id: request_id.clone(),
            }])?;
            self.push(vec![Action::LoadFailed {
                batch_id: id.to_owned(),
                step: "copy-1".into(),
                error: "Snowflake 422: SQL compilation error: warehouse suspended".into(),
                failed_request_id: Some(request_id),
            }])?;
        }
        self.statement(
            id,
            "copy-1",
            serde_json::json!({"rows_loaded": rows, "files": 2}),
        )?;
        self.statement(
            id,
            "merge",
            serde_json::json!({"inserted": rows / 3, "updated": rows - rows / 3}),
        )?;
        self.statement(id, "cleanup", serde_json::json!({"deleted": rows}))?;
        self.push(vec![Action::BatchLoaded {
            batch_id: id.to_owned(),
            mode,
            copy_rows: rows,
            merge_inserted: rows / 3,
            merge_updated: rows - rows / 3,
            watermark,
        }])
    }

    /// The unfinished work a run interrupted last night leaves.
    fn tail(&mut self) {
        let night = (self.at - start()).num_days() + 1;
        let window_to = start() + Duration::days(night);
        let full = "the tail fits the commits set aside for it";
        // Staged, its copy sent and no answer recorded: a resumed load resends this requestId.
        self.create(
            TAIL_STAGED,
            "VENDOR",
            None,
            Mode::Backfill,
            None,
            window_to,
            None,
        )
        .expect(full);
        self.stage(TAIL_STAGED, "VENDOR", None).expect(full);
        let request_id = self.request_id();
        self.push(vec![Action::LoadStepStarted {
            batch_id: TAIL_STAGED.into(),
            step: "copy-1".into(),
            request_id,
        }])
        .expect(full);
        // A part-written extract.
        self.create(
            TAIL_PROGRESS,
            "CUSTOMER",
            None,
            Mode::Backfill,
            None,
            window_to,
            None,
        )
        .expect(full);
        self.progress(TAIL_PROGRESS, "CUSTOMER", 2).expect(full);
        // Staged, its new column held by a frozen schema.
        self.create(
            TAIL_HELD,
            "APBILL",
            None,
            Mode::Backfill,
            None,
            window_to,
            None,
        )
        .expect(full);
        self.stage(TAIL_HELD, "APBILL", None).expect(full);
        self.push(vec![Action::SchemaChanges {
            batch_id: TAIL_HELD.into(),
            changes: vec![added("APBILL", night)],
            held: true,
        }])
        .expect(full);
    }
}

fn added(object: &str, night: i64) -> SchemaChange {
    SchemaChange {
        object: object.to_owned(),
        table: object.to_owned(),
        column: format!("CUSTOM_FIELD_{night}"),
        kind: SchemaChangeKind::Added,
        old_type: None,
        new_type: "VARCHAR".into(),
    }
}

fn fingerprint(object: &str) -> u64 {
    object.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}
