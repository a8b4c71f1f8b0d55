//! `extract`: planned extracts carried out, each into a staged batch.
//!
//! Every window comes from `super::plan` (the object's, its delete feed's, the header changes
//! a line object compares, and where a part-written batch goes on from); the fields read and
//! their schema from [`crate::schema::object_schema`]. What is left here is the read itself.
//!
//! First the API user's preferences are checked; then one read of AUDITHISTORY per entity
//! session starts for every object with a delete feed (`super::deletes`), running beside the
//! objects' reads. Per object: look up its fields; for a line object, read the headers changed
//! in its planned window (`super::lines`); start the read and take its first page (by then
//! the gateway has refused the fields it refuses, and they get no column); commit
//! `BatchCreated` with the window and the schema fingerprint (or go on with the planned
//! part-written batch when its schema is unchanged); stream pages from the client's bounded
//! channel into the part writer (back-pressure keeps memory at page size × buffered pages ×
//! objects in flight); then the object's deletes from the shared read as tombstone rows of
//! the same batch, and a line object's removed lines; and only after every part is complete
//! commit `BatchStaged` with the file list, the tombstone count and, for a nightly window,
//! `staged_up_to = window end`. With `keep_raw_pages`, every response body (the object's and
//! the shared AUDITHISTORY read's) is kept beside the parts, so the batch can be rebuilt
//! without Intacct. The loaded watermark is not touched: only a load moves it.
//! A failure commits `BatchFailed` (best effort) and the next run starts the object again from
//! the same mark, in a new batch. A failed delete feed or line comparison is not a failed
//! batch: the object's rows stage, the report carries the error, and the stream's delete mark
//! (`deletes_up_to`) stays where it was, so the next run reads those deletes again.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use tokio::sync::Mutex;

use futures::FutureExt;

use super::deletes::{self, SharedFeed};
use super::lines::{self, LineCheck, LiveLines};
use super::plan::{PlannedExtract, ResumeFrom};
use super::report::{ObjectReport, StopReason};
use super::settings::{ExtractOptions, ObjectJob};
use crate::error::{Error, Result};
use crate::intacct::{
    IntacctClient, ObjectMeta, ReadMethod, ReadRequest, TransactionCounts, column_name,
};
use crate::manifest::schemas::{self, BatchSchema};
use crate::manifest::{Action, BatchKeys, BatchStatus, Manifest, Mode};
use crate::schema::{
    BatchContext, FieldSelection, ObjectSchema, SchemaPlan, check_key_present, object_schema,
    record_batch,
};
use crate::stage::{PartWriter, Stage, StagedBatch};

/// Runs every planned extract; failures of single objects are in their reports. First the
/// API user's date/time preferences are checked: when they would make Intacct write dates
/// this client cannot read, every object fails with the same error naming the preference.
/// `live` reads the lines Snowflake holds (`None`: line objects compare only what a batch
/// read, and put the comparison off once Snowflake holds their lines).
pub(crate) async fn extract(
    client: &IntacctClient,
    manifest: Arc<Mutex<Manifest>>,
    options: &ExtractOptions,
    planned: &[PlannedExtract],
    progress: &super::progress::Progress,
    live: Option<&LiveLines>,
) -> Vec<ObjectReport> {
    let clients = entity_clients(client, planned.iter().map(|p| &p.job));
    if let Err(e) = check_preferences(&clients, options.now).await {
        tracing::error!(error = %e, "the API user's preferences stop the run");
        return planned
            .iter()
            .map(|p| ObjectReport {
                object: p.job.name.clone(),
                entity: p.job.entity.clone(),
                error: Some(e.to_string()),
                stopped: StopReason::of(&e),
                ..ObjectReport::default()
            })
            .collect();
    }
    let (feeds, feed_tasks) = start_feeds(&clients, &manifest, options, planned).await;
    let jobs = planned.iter().map(|planned| {
        let manifest = manifest.clone();
        let job = &planned.job;
        let client = &clients[&job.entity];
        let feed = feeds.get(&job.entity).cloned();
        async move {
            let started = Instant::now();
            let mut report = ObjectReport {
                object: job.name.clone(),
                entity: job.entity.clone(),
                ..ObjectReport::default()
            };
            let bar = progress.object(&job.stream());
            let sources = Sources {
                feed: feed.filter(|_| planned.deletes.is_some()),
                live,
            };
            if let Err(e) =
                extract_object(client, &manifest, options, planned, &mut report, &bar, sources)
                    .await
            {
                bar.fail(&e);
                report.stopped = StopReason::of(&e);
                // A backfill window stopped (budget spent, Intacct offline) keeps its
                // checkpointed parts: the next backfill goes on from its recorded position.
                let resumable = report.stopped.is_some() && planned.mode == Mode::Backfill;
                if !report.batch_id.is_empty() && !resumable {
                    let failed = Action::BatchFailed {
                        batch_id: report.batch_id.clone(),
                        error: e.to_string(),
                    };
                    if let Err(commit_error) = manifest.lock().await.commit(vec![failed]).await {
                        tracing::warn!(object = %job.name, error = %commit_error, "could not record the failed batch");
                    }
                }
                report.error = Some(e.to_string());
            } else {
                bar.finish(report.records, report.parts, report.bytes);
            }
            report.seconds = started.elapsed().as_secs_f64();
            report
        }
    });
    let reports = futures::stream::iter(jobs)
        .buffered(options.concurrent_objects.max(1))
        .collect()
        .await;
    for task in feed_tasks {
        task.abort();
    }
    reports
}

/// What an object's batch takes besides its own read: the shared AUDITHISTORY read of its
/// session (when it has a delete feed) and where Snowflake's lines are read.
#[derive(Clone)]
struct Sources<'a> {
    feed: Option<SharedFeed>,
    live: Option<&'a LiveLines>,
}

/// Starts one AUDITHISTORY read per entity session for every planned object with a delete
/// feed (`super::deletes`); the first session's read also makes the run's object-type check.
/// Returns the shared reads by entity and their tasks (aborted when the extract ends).
async fn start_feeds(
    clients: &HashMap<Option<String>, IntacctClient>,
    manifest: &Mutex<Manifest>,
    options: &ExtractOptions,
    planned: &[PlannedExtract],
) -> (
    HashMap<Option<String>, SharedFeed>,
    Vec<tokio::task::AbortHandle>,
) {
    let mut entities: Vec<&Option<String>> = clients.keys().collect();
    entities.sort();
    let mut feeds = HashMap::new();
    let mut tasks = Vec::new();
    let mut checked = false;
    for entity in entities {
        let served: Vec<&PlannedExtract> = planned
            .iter()
            .filter(|p| &p.job.entity == entity && p.deletes.is_some())
            .collect();
        let Some(plan) = deletes::feed_plan(served.iter().copied()) else {
            continue;
        };
        let check_types = if checked {
            vec![]
        } else {
            checked = true;
            deletes::type_check_candidates(
                manifest.lock().await.state(),
                served.iter().copied(),
                options.now,
            )
        };
        let client = clients[entity].clone();
        let objects = served
            .iter()
            .map(|p| p.job.stream())
            .collect::<Vec<_>>()
            .join(", ");
        let label = match entity {
            None => "deletes".to_owned(),
            Some(e) => format!("deletes-{e}"),
        };
        let keep_raw = options.stage.keep_raw_pages;
        let now = options.now;
        tracing::info!(objects, types = ?plan.types, from = ?plan.window.from, to = %plan.window.to, "delete feed planned");
        let task = tokio::spawn(async move {
            // Whether AUDITHISTORY's ID is a number is the tenant's metadata to say.
            let audit = match client.lookup(deletes::AUDIT_OBJECT).await {
                Ok(audit) => audit,
                Err(e) => return Err(deletes::read_error(&objects, e).to_string()),
            };
            let request =
                deletes::feed_request(&plan, &label, keep_raw, deletes::feed_keys(&audit));
            deletes::read_feed(client, request, check_types, objects, now).await
        });
        tasks.push(task.abort_handle());
        let shared = async move {
            Arc::new(
                task.await
                    .unwrap_or_else(|e| Err(format!("the delete feed's read stopped: {e}"))),
            )
        }
        .boxed()
        .shared();
        feeds.insert(entity.clone(), shared);
    }
    (feeds, tasks)
}

/// One client per entity the jobs read (`None`: `client` itself), so every entity has one
/// session for the whole extract; all share `client`'s concurrency limit.
fn entity_clients<'a>(
    client: &IntacctClient,
    jobs: impl Iterator<Item = &'a ObjectJob>,
) -> HashMap<Option<String>, IntacctClient> {
    let mut clients = HashMap::new();
    for job in jobs {
        clients
            .entry(job.entity.clone())
            .or_insert_with(|| match &job.entity {
                None => client.clone(),
                Some(entity) => client.for_entity(entity),
            });
    }
    clients
}

/// Checks the API user's preferences through the first session that opens: with entities, a
/// user restricted to entity-level access has no top-level session, and an entity it may not
/// access fails only that entity's objects (their own login says so), not the run.
async fn check_preferences(
    clients: &HashMap<Option<String>, IntacctClient>,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut order: Vec<&Option<String>> = clients.keys().collect();
    order.sort();
    let mut last = Ok(());
    for entity in order {
        match clients[entity].check_user_formatting(now).await {
            Err(e @ Error::EntitySession { .. }) => {
                tracing::warn!(error = %e, "entity session refused; its objects will fail");
                last = Err(e);
            }
            other => return other,
        }
    }
    // Every entity refused: each object fails with its own entity's refusal.
    match last {
        Err(Error::EntitySession { .. }) => Ok(()),
        other => other,
    }
}

/// Reads one planned extract into its batch (see the module docs); `report` is filled as it
/// goes, so a failure still says how far it got.
async fn extract_object(
    client: &IntacctClient,
    manifest: &Mutex<Manifest>,
    options: &ExtractOptions,
    planned: &PlannedExtract,
    report: &mut ObjectReport,
    bar: &super::progress::ObjectProgress,
    sources: Sources<'_>,
) -> Result<()> {
    let job = &planned.job;
    let window = planned.window;
    let meta = client.lookup(&job.name).await?;
    let schema = schema_of(&meta, job, &[])?;
    let stage = manifest.lock().await.stage().clone();
    // A part-written batch of the same window and schema goes on from its recorded position.
    let resume = match &planned.resume {
        Some(r) => resumable(&stage, &meta, job, &schema, r).await,
        None => None,
    };
    let batch_id = resume.as_ref().map_or_else(
        || uuid::Uuid::new_v4().to_string(),
        |(r, _)| r.batch_id.clone(),
    );
    report.window_from = window.from;
    report.window_to = Some(window.to);
    // A line object reads the headers changed in its window before its own read, so that
    // read can keep its rows of them (`super::lines`).
    let mut line_check = match planned.lines {
        Some(lines) => LineCheck::start(client, &job.name, lines, &batch_id)
            .await
            .transpose(),
        None => None,
    };
    let read_schema = resume.as_ref().map_or(&schema, |(_, s)| s);
    let mut read = client.read_object(read_request(
        options,
        planned,
        read_schema,
        &batch_id,
        resume.as_ref().map(|(r, _)| *r),
    ));
    let read_progress = read.progress.clone();
    let first = read.pages.recv().await;
    // By its first page the read has met every field the gateway refuses: they get no column.
    let (schema, refused_now) = match &resume {
        Some((_, resumed)) => (resumed.clone(), vec![]),
        None => {
            let refused: Vec<String> = client
                .refused_fields(&job.name)
                .into_iter()
                .filter(|f| schema.fields.iter().any(|s| s.eq_ignore_ascii_case(f)))
                .collect();
            if refused.is_empty() {
                (schema, refused)
            } else {
                (schema_of(&meta, job, &refused)?, refused)
            }
        }
    };
    let plan = &schema.plan;
    match &resume {
        Some((r, _)) => {
            tracing::info!(object = %job.name, batch_id, files = r.progress.files.len(), after = ?r.cursor, "resuming a part-written batch");
        }
        None => create_batch(manifest, &stage, planned, plan, &batch_id).await?,
    }
    report.batch_id = batch_id.clone();
    let mut dropped: Vec<String> = meta
        .fields
        .iter()
        .map(|f| f.name.clone())
        .filter(|f| schema.refused.contains(f) || refused_now.contains(f))
        .collect();
    dropped.sort();
    report.dropped_fields = dropped;

    let mut writer = part_writer(
        stage,
        options,
        &job.name,
        &batch_id,
        plan,
        resume.as_ref().map(|(r, _)| *r),
    )
    .await?;
    let ctx = BatchContext {
        batch_id: &batch_id,
        extracted_at: Utc::now(),
        time_zone: client.tenant_time_zone(),
        deleted: false,
        quarantine: options.quarantine_bad_values,
    };
    let mut next = first;
    while let Some(page) = next {
        let page = page.inspect_err(|_| {
            add_transactions(report, &read_progress.borrow().transactions);
        })?;
        if let Some(raw) = &page.raw {
            writer.write_raw_page(raw).await?;
        }
        if let Some(Ok(check)) = &mut line_check {
            check.observe(&page.records);
        }
        let converted = record_batch(plan, &page.records, &ctx)?;
        check_key_present(plan, &job.key, &page.records, &converted.batch)?;
        writer.write(&converted.batch).await?;
        writer.write_quarantine(&converted.quarantined).await?;
        report.pages += 1;
        report.records += converted.batch.num_rows() as u64;
        report.quarantined += converted.quarantined.len() as u64;
        for q in &converted.quarantined {
            *report
                .quarantined_fields
                .entry(q.field.clone())
                .or_default() += 1;
        }
        report.unknown_column_values += converted.unknown_column_values;
        bar.page(report.pages, report.records, page.total_count);
        // A backfill window records where it is, so an interruption costs at most this many
        // pages; a nightly window is planned afresh every run.
        if planned.mode == Mode::Backfill
            && report.pages.is_multiple_of(options.checkpoint_pages.max(1))
            && let Some(cursor) = page.cursor_after
        {
            let done = writer.checkpoint().await?.clone();
            manifest
                .lock()
                .await
                .commit(vec![Action::BatchProgress {
                    batch_id: batch_id.clone(),
                    files: done.parts,
                    raw_pages: done.raw_pages,
                    quarantine: done.quarantine,
                    cursor: serde_json::to_value(cursor).expect("a cursor serialises"),
                }])
                .await?;
        }
        next = read.pages.recv().await;
    }
    // The channel also closes when the reader dies: only a clean end stages the batch.
    add_transactions(report, &read_progress.borrow().transactions);
    read.finish(&job.name).await?;
    let tombstone_ctx = BatchContext {
        deleted: true,
        // A delete whose time does not read must not silently not delete: never quarantined.
        quarantine: false,
        ..ctx.clone()
    };
    let mut feed_done = false;
    let mut type_check = None;
    if let (Some(feed_window), Some(feed)) = (planned.deletes, sources.feed) {
        match stage_deletes(
            &feed,
            job,
            plan,
            feed_window,
            &tombstone_ctx,
            &mut writer,
            report,
        )
        .await
        {
            Ok(check) => {
                feed_done = true;
                report.audit_type_warning = check
                    .as_ref()
                    .and_then(|c| deletes::audit_type_warning(&job.stream(), c));
                if let Some(warning) = &report.audit_type_warning {
                    tracing::warn!(object = %job.name, warning, "AUDITHISTORY has no row of the object's type");
                }
                type_check = check;
            }
            Err(FeedFailure::Stage(e)) => return Err(e),
            Err(FeedFailure::Read(e)) => {
                tracing::warn!(object = %job.name, batch_id, error = %e, "delete feed failed; the batch stages without it");
                report.deletes_error = Some(e);
            }
        }
    }
    let lines_done = match line_check {
        None => true,
        Some(check) => {
            stage_removed_lines(
                manifest,
                client,
                planned,
                check,
                sources.live,
                plan,
                &tombstone_ctx,
                &mut writer,
                report,
            )
            .await?
        }
    };
    let mut refused = schema.refused.clone();
    refused.extend(client.refused_fields(&job.name));
    refused.sort();
    refused.dedup();
    report.refused_fields = refused;
    let deletes_mark = planned
        .deletes
        .filter(|_| feed_done && lines_done)
        .map(|feed| feed.to);
    stage_batch(manifest, planned, writer, deletes_mark, type_check, report).await
}

/// The schema of `job`'s batch from `meta`, without `also_exclude` besides the job's own
/// excluded fields.
fn schema_of(meta: &ObjectMeta, job: &ObjectJob, also_exclude: &[String]) -> Result<ObjectSchema> {
    let mut exclude = job.exclude_fields.clone();
    exclude.extend(also_exclude.iter().cloned());
    object_schema(
        meta,
        &FieldSelection {
            object: &job.name,
            fields: job.fields.as_deref(),
            exclude: &exclude,
            key: &job.key,
            watermark_field: &job.watermark_field,
            query: job.method == ReadMethod::Query,
        },
    )
}

/// The part-written batch `resume` to go on with, and the schema it was staged with: the
/// object's schema now, or that schema without the fields the gateway refused when the batch
/// was planned (they have no column in it); `None` when its schema is neither (a new batch
/// reads the window again).
async fn resumable<'a>(
    stage: &Stage,
    meta: &ObjectMeta,
    job: &ObjectJob,
    schema: &ObjectSchema,
    resume: &'a ResumeFrom,
) -> Option<(&'a ResumeFrom, ObjectSchema)> {
    if resume.schema_fingerprint == schema.plan.fingerprint {
        return Some((resume, schema.clone()));
    }
    let persisted = schemas::load(stage, &job.name, &resume.schema_fingerprint)
        .await
        .ok()?;
    let missing: Vec<String> = schema
        .fields
        .iter()
        .filter(|f| persisted.column(&column_name(f)).is_none())
        .cloned()
        .collect();
    if missing.is_empty() {
        return None;
    }
    let narrowed = schema_of(meta, job, &missing).ok()?;
    (narrowed.plan.fingerprint == resume.schema_fingerprint).then_some((resume, narrowed))
}

/// Adds a read's requests to the object's count.
fn add_transactions(report: &mut ObjectReport, counts: &TransactionCounts) {
    for (kind, n) in counts {
        *report.transactions.entry(*kind).or_default() += n;
    }
}

/// The writer of the planned extract's parts: a new one, or the resumed batch's, going on
/// after the parts it completed.
async fn part_writer(
    stage: Stage,
    options: &ExtractOptions,
    object: &str,
    batch_id: &str,
    plan: &SchemaPlan,
    resume: Option<&ResumeFrom>,
) -> Result<PartWriter> {
    let schema = plan.schema.clone();
    match resume {
        Some(r) => {
            let done = StagedBatch {
                parts: r.progress.files.clone(),
                raw_pages: r.progress.raw_pages.clone(),
                quarantine: r.progress.quarantine.clone(),
            };
            PartWriter::resume(stage, object, batch_id, schema, options.stage.clone(), done).await
        }
        None => Ok(PartWriter::new(
            stage,
            object,
            batch_id,
            schema,
            options.stage.clone(),
        )),
    }
}

/// Completes the batch's parts and commits it staged (with what AUDITHISTORY said about the
/// object's type, when it was asked); a nightly batch moves the stream's staged mark to its
/// window's end, and its delete mark to `deletes_mark` (the feed's end, when the shared read
/// and a line object's comparison reached their end).
async fn stage_batch(
    manifest: &Mutex<Manifest>,
    planned: &PlannedExtract,
    writer: PartWriter,
    deletes_mark: Option<DateTime<Utc>>,
    type_check: Option<crate::manifest::AuditTypeCheck>,
    report: &mut ObjectReport,
) -> Result<()> {
    let object = &planned.job.name;
    let batch_id = &report.batch_id;
    let nightly = planned.mode == Mode::Nightly;
    if !report.refused_fields.is_empty() {
        tracing::warn!(%object, fields = ?report.refused_fields, dropped = ?report.dropped_fields, "fields query refuses were left out");
    }
    let staged = writer.finish().await?;
    if report.quarantined > 0 {
        tracing::warn!(%object, batch_id, values = report.quarantined, fields = ?report.quarantined_fields, "values that fit no type were staged as NULL and kept in the quarantine file");
    }
    if report.unknown_column_values > 0 {
        tracing::warn!(%object, values = report.unknown_column_values, "dropped values of fields the metadata does not list");
    }
    report.parts = staged.parts.len() as u64;
    report.bytes = staged.bytes();
    let mut actions = Vec::with_capacity(2);
    if let Some(check) = type_check {
        actions.push(Action::AuditTypeChecked {
            batch_id: batch_id.clone(),
            object_type: check.object_type,
            since: check.since,
            seen: check.seen,
        });
    }
    actions.push(Action::BatchStaged {
        batch_id: batch_id.clone(),
        rows: staged.rows(),
        deleted_rows: report.deleted,
        bytes: staged.bytes(),
        files: staged.parts,
        raw_pages: staged.raw_pages,
        quarantine: staged.quarantine,
        staged_up_to: nightly.then_some(planned.window.to),
        deletes_up_to: deletes_mark.filter(|_| nightly),
    });
    manifest.lock().await.commit(actions).await?;
    tracing::info!(%object, batch_id, records = report.records, deleted = report.deleted, parts = report.parts, "batch staged");
    Ok(())
}

/// Creates the planned extract's batch: its column types go on the stage first, so loading,
/// `init` and replay never need Intacct to know them; then `BatchCreated` (and the entity it
/// reads) in one commit.
async fn create_batch(
    manifest: &Mutex<Manifest>,
    stage: &Stage,
    planned: &PlannedExtract,
    plan: &SchemaPlan,
    batch_id: &str,
) -> Result<()> {
    let job = &planned.job;
    let persisted = BatchSchema::from_arrow(&job.name, &plan.fingerprint, &plan.schema)?;
    schemas::persist(stage, &persisted).await?;
    let mut actions = vec![Action::BatchCreated {
        batch_id: batch_id.to_owned(),
        object: job.name.clone(),
        mode: planned.mode,
        window_from: planned.window.from,
        window_to: planned.window.to,
        schema_fingerprint: plan.fingerprint.clone(),
        replay_of: None,
        keys: Some(BatchKeys {
            key: job.key.clone(),
            watermark_field: job.watermark_field.clone(),
        }),
    }];
    if let Some(entity) = &job.entity {
        actions.push(Action::BatchEntity {
            batch_id: batch_id.to_owned(),
            entity: entity.clone(),
        });
    }
    manifest.lock().await.commit(actions).await?;
    tracing::info!(object = %job.name, entity = ?job.entity, batch_id, from = ?planned.window.from, to = %planned.window.to, "batch created");
    Ok(())
}

/// The read of a planned extract: the schema's own field list (private fields left out by
/// default never leave Intacct), from the resumed position when there is one; a nightly
/// window reads in parallel keyset chains, a backfill window in one (it records its position
/// to resume from).
fn read_request(
    options: &ExtractOptions,
    planned: &PlannedExtract,
    schema: &ObjectSchema,
    batch_id: &str,
    resume: Option<&ResumeFrom>,
) -> ReadRequest {
    let job = &planned.job;
    let mut request = ReadRequest::new(job.name.clone(), planned.window, batch_id.to_owned());
    request.method = job.method;
    request.fields = Some(schema.fields.clone());
    request.page_size = job.page_size;
    request.keep_raw = options.stage.keep_raw_pages;
    request.resume_after = resume.map(|r| r.cursor.clone());
    request.keys.modified = job.watermark_field.clone();
    // A reset reads its whole object once, like a first nightly window, and records no position.
    if matches!(planned.mode, Mode::Nightly | Mode::Reset) {
        request.slices = options.slices_per_object.max(1);
    }
    request
}

/// Why the delete feed stopped: its read (reported, the batch stages) or the stage (the
/// batch fails).
enum FeedFailure {
    Read(String),
    Stage(Error),
}

/// Writes the object's deletes from the shared AUDITHISTORY read `feed` (those of its type in
/// `window`) as tombstones into the batch, with the read's raw pages; unreadable OBJECTKEYs
/// go to the batch's quarantine. Returns what the run learnt about the object's type.
async fn stage_deletes(
    feed: &SharedFeed,
    job: &ObjectJob,
    plan: &SchemaPlan,
    window: crate::intacct::TimeWindow,
    ctx: &BatchContext<'_>,
    writer: &mut PartWriter,
    report: &mut ObjectReport,
) -> std::result::Result<Option<crate::manifest::AuditTypeCheck>, FeedFailure> {
    deletes::check_plan(plan).map_err(|e| FeedFailure::Read(e.to_string()))?;
    let outcome = feed.clone().await;
    let found = match &*outcome {
        Ok(found) => found,
        Err(e) => return Err(FeedFailure::Read(e.clone())),
    };
    for raw in &found.raw_pages {
        writer
            .write_raw_deletes_page(raw)
            .await
            .map_err(FeedFailure::Stage)?;
    }
    let tombstones = deletes::tombstones(&job.name, window, &found.rows);
    if !tombstones.page.is_empty() {
        let converted = record_batch(plan, &tombstones.page, ctx)
            .map_err(|e| FeedFailure::Read(e.to_string()))?;
        writer
            .write(&converted.batch)
            .await
            .map_err(FeedFailure::Stage)?;
        report.deleted += converted.batch.num_rows() as u64;
    }
    writer
        .write_quarantine(&tombstones.quarantined)
        .await
        .map_err(FeedFailure::Stage)?;
    report.delete_pages = found.pages;
    report.deletes_quarantined += tombstones.quarantined.len() as u64;
    if report.deletes_quarantined > 0 {
        tracing::warn!(object = %job.name, batch_id = %report.batch_id, rows = report.deletes_quarantined, "AUDITHISTORY delete rows set aside: OBJECTKEY in no known format");
    }
    tracing::info!(object = %job.name, batch_id = %report.batch_id, deleted = report.deleted, "deletes staged");
    Ok(found.type_check_for(&job.name))
}

/// Compares a line object's lines of the headers changed in its window with what Intacct
/// returns now, and writes the removed ones as tombstones into the batch (`super::lines`).
/// True when the comparison reached its end; false when it failed or was put off (reported
/// in `lines_error`; the delete mark then stays). An error only when the stage fails.
#[allow(clippy::too_many_arguments)]
async fn stage_removed_lines(
    manifest: &Mutex<Manifest>,
    client: &IntacctClient,
    planned: &PlannedExtract,
    check: Result<LineCheck>,
    live: Option<&LiveLines>,
    plan: &SchemaPlan,
    ctx: &BatchContext<'_>,
    writer: &mut PartWriter,
    report: &mut ObjectReport,
) -> Result<bool> {
    let job = &planned.job;
    let check = match check.and_then(|c| deletes::check_plan(plan).map(|()| c)) {
        Ok(check) => check,
        Err(e) => {
            report.lines_error = Some(e.to_string());
            return Ok(false);
        }
    };
    let (pending, loaded) = {
        let manifest = manifest.lock().await;
        let state = manifest.state();
        let pending = state
            .batches_of_stream(&job.name, job.entity.as_deref())
            .find(|b| b.status == BatchStatus::Staged && b.batch_id != report.batch_id)
            .map(|b| b.batch_id.clone());
        let loaded = state
            .batches_of(&job.name)
            .any(|b| b.status == BatchStatus::Loaded);
        (pending, loaded)
    };
    if let Some(pending) = pending {
        let message = format!(
            "removed lines not compared: batch {pending} of {} is staged and not loaded yet, so \
             Snowflake does not hold all of its lines; the next run compares the same headers",
            job.stream()
        );
        tracing::info!(object = %job.name, %message);
        report.lines_error = Some(message);
        return Ok(false);
    }
    let known = if loaded {
        lines::Known::Snowflake
    } else {
        lines::Known::BatchOnly
    };
    let removed = match check.removed(client, known, live, &report.batch_id).await {
        Ok(removed) => removed,
        Err(e) => {
            tracing::warn!(object = %job.name, error = %e, "removed lines could not be compared");
            report.lines_error = Some(e.to_string());
            return Ok(false);
        }
    };
    if !removed.page.is_empty() {
        let converted = match record_batch(plan, &removed.page, ctx) {
            Ok(converted) => converted,
            Err(e) => {
                report.lines_error = Some(e.to_string());
                return Ok(false);
            }
        };
        writer.write(&converted.batch).await?;
        let n = converted.batch.num_rows() as u64;
        report.lines_removed += n;
        report.deleted += n;
    }
    tracing::info!(object = %job.name, headers = removed.headers, removed = report.lines_removed, "removed lines compared");
    Ok(true)
}
