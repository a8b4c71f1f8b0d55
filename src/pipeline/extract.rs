//! `extract`: planned extracts carried out, each into a staged batch.
//!
//! Every window comes from `super::plan` (the object's, its delete feed's, and where a
//! part-written batch goes on from); the fields read and their schema from
//! [`crate::schema::object_schema`]. What is left here is the read itself. Per object: look up
//! its fields, commit `BatchCreated` with the window and the schema fingerprint (or go on
//! with the planned part-written batch when its schema is unchanged), stream pages from the
//! client's bounded channel into the part writer (back-pressure keeps memory at page size ×
//! buffered pages × objects in flight), then, with the delete feed planned, the object's
//! deletes from AUDITHISTORY over the feed's window as tombstone rows of the same batch (see
//! `super::deletes`), and only after every part is complete commit `BatchStaged` with the
//! file list, the tombstone count and, for a nightly window, `staged_up_to = window end`.
//! With `keep_raw_pages`, every response body (the object's and its delete feed's) is kept
//! beside the parts, so the batch can be rebuilt without Intacct. The loaded watermark is not
//! touched: only a load moves it.
//! A failure commits `BatchFailed` (best effort) and the next run starts the object again from
//! the same mark, in a new batch. A failed delete feed is not a failed batch: the object's
//! rows stage, the report carries the feed's error, and the feed's own mark
//! (`deletes_up_to`) stays where it was, so the next run reads those deletes again.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use tokio::sync::Mutex;

use super::deletes;
use super::plan::{PlannedExtract, ResumeFrom};
use super::report::{ObjectReport, StopReason};
use super::settings::{ExtractOptions, ObjectJob};
use crate::error::{Error, Result};
use crate::intacct::{IntacctClient, ReadMethod, ReadRequest, TimeWindow, TransactionCounts};
use crate::manifest::schemas::{self, BatchSchema};
use crate::manifest::{Action, BatchKeys, Manifest, Mode};
use crate::schema::{
    BatchContext, FieldSelection, ObjectSchema, SchemaPlan, check_key_present, object_schema,
    record_batch,
};
use crate::stage::{PartWriter, Stage, StagedBatch};

/// Runs every planned extract; failures of single objects are in their reports. First the
/// API user's date/time preferences are checked: when they would make Intacct write dates
/// this client cannot read, every object fails with the same error naming the preference.
pub(crate) async fn extract(
    client: &IntacctClient,
    manifest: Arc<Mutex<Manifest>>,
    options: &ExtractOptions,
    planned: &[PlannedExtract],
    progress: &super::progress::Progress,
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
    let jobs = planned.iter().map(|planned| {
        let manifest = manifest.clone();
        let job = &planned.job;
        let client = &clients[&job.entity];
        async move {
            let started = Instant::now();
            let mut report = ObjectReport {
                object: job.name.clone(),
                entity: job.entity.clone(),
                ..ObjectReport::default()
            };
            let bar = progress.object(&job.stream());
            if let Err(e) =
                extract_object(client, &manifest, options, planned, &mut report, &bar).await
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
    futures::stream::iter(jobs)
        .buffered(options.concurrent_objects.max(1))
        .collect()
        .await
}

/// One client per entity the jobs read (`None`: `client` itself), so every entity has one
/// session for the whole extract; all share `client`'s concurrency limit.
fn entity_clients<'a>(
    client: &IntacctClient,
    jobs: impl Iterator<Item = &'a ObjectJob>,
) -> std::collections::HashMap<Option<String>, IntacctClient> {
    let mut clients = std::collections::HashMap::new();
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
    clients: &std::collections::HashMap<Option<String>, IntacctClient>,
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
) -> Result<()> {
    let job = &planned.job;
    let window = planned.window;
    let schema = object_schema(
        &*client.lookup(&job.name).await?,
        &FieldSelection {
            object: &job.name,
            fields: job.fields.as_deref(),
            exclude: &job.exclude_fields,
            key: &job.key,
            watermark_field: &job.watermark_field,
            query: job.method == ReadMethod::Query,
        },
    )?;
    let plan = &schema.plan;
    let stage = manifest.lock().await.stage().clone();
    // A part-written batch of the same window and schema goes on from its recorded position.
    let resume = planned
        .resume
        .as_ref()
        .filter(|r| r.schema_fingerprint == plan.fingerprint);
    let batch_id = resume.map_or_else(|| uuid::Uuid::new_v4().to_string(), |r| r.batch_id.clone());
    report.batch_id = batch_id.clone();
    report.window_from = window.from;
    report.window_to = Some(window.to);
    match resume {
        Some(r) => {
            tracing::info!(object = %job.name, batch_id, files = r.progress.files.len(), after = ?r.cursor, "resuming a part-written batch");
        }
        None => create_batch(manifest, &stage, planned, plan, &batch_id).await?,
    }

    let mut read = client.read_object(read_request(options, planned, &schema, &batch_id, resume));
    let read_progress = read.progress.clone();
    let mut writer = part_writer(stage, options, &job.name, &batch_id, plan, resume).await?;
    let ctx = BatchContext {
        batch_id: &batch_id,
        extracted_at: Utc::now(),
        time_zone: client.tenant_time_zone(),
        deleted: false,
        quarantine: options.quarantine_bad_values,
    };
    while let Some(page) = read.pages.recv().await {
        let page = page.inspect_err(|_| {
            add_transactions(report, &read_progress.borrow().transactions);
        })?;
        if let Some(raw) = &page.raw {
            writer.write_raw_page(raw).await?;
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
    }
    // The channel also closes when the reader dies: only a clean end stages the batch.
    add_transactions(report, &read_progress.borrow().transactions);
    read.finish(&job.name).await?;
    let mut deletes_mark = None;
    if let Some(feed) = planned.deletes {
        match stage_deletes(client, options, job, plan, feed, &ctx, &mut writer, report).await {
            Ok(()) => deletes_mark = Some(feed.to),
            Err(FeedFailure::Stage(e)) => return Err(e),
            Err(FeedFailure::Read(e)) => {
                tracing::warn!(object = %job.name, batch_id, error = %e, "delete feed failed; the batch stages without it");
                report.deletes_error = Some(e.to_string());
            }
        }
    }
    let mut refused = schema.refused.clone();
    refused.extend(client.refused_fields(&job.name));
    refused.sort();
    refused.dedup();
    report.refused_fields = refused;
    stage_batch(manifest, planned, writer, deletes_mark, report).await
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

/// Completes the batch's parts and commits it staged; a nightly batch moves the stream's
/// staged mark to its window's end, and its delete mark to `deletes_mark` (the feed's end,
/// when the feed read to the end).
async fn stage_batch(
    manifest: &Mutex<Manifest>,
    planned: &PlannedExtract,
    writer: PartWriter,
    deletes_mark: Option<DateTime<Utc>>,
    report: &mut ObjectReport,
) -> Result<()> {
    let object = &planned.job.name;
    let batch_id = &report.batch_id;
    let nightly = planned.mode == Mode::Nightly;
    if !report.refused_fields.is_empty() {
        tracing::warn!(%object, fields = ?report.refused_fields, "fields query refuses were left out");
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
    manifest
        .lock()
        .await
        .commit(vec![Action::BatchStaged {
            batch_id: batch_id.clone(),
            rows: staged.rows(),
            deleted_rows: report.deleted,
            bytes: staged.bytes(),
            files: staged.parts,
            raw_pages: staged.raw_pages,
            quarantine: staged.quarantine,
            staged_up_to: nightly.then_some(planned.window.to),
            deletes_up_to: deletes_mark.filter(|_| nightly),
        }])
        .await?;
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
    Read(Error),
    Stage(Error),
}

/// Reads the object's deletes from AUDITHISTORY over `window` and writes them as tombstones
/// into the object's batch; unreadable OBJECTKEYs go to the batch's quarantine.
#[allow(clippy::too_many_arguments)]
async fn stage_deletes(
    client: &IntacctClient,
    options: &ExtractOptions,
    job: &ObjectJob,
    plan: &SchemaPlan,
    window: TimeWindow,
    ctx: &BatchContext<'_>,
    writer: &mut PartWriter,
    report: &mut ObjectReport,
) -> std::result::Result<(), FeedFailure> {
    deletes::check_plan(plan).map_err(FeedFailure::Read)?;
    // Whether AUDITHISTORY's ID is a number is the tenant's metadata to say (cached per run).
    let audit = client
        .lookup(deletes::AUDIT_OBJECT)
        .await
        .map_err(|e| FeedFailure::Read(deletes::read_error(&job.name, e)))?;
    let request = deletes::feed_request(
        &job.name,
        window,
        &report.batch_id,
        job.page_size,
        options.stage.keep_raw_pages,
        deletes::feed_keys(&audit),
    );
    // Tombstones are never quarantined by value: a delete whose time does not parse must not
    // silently not delete; the feed fails and is read again next run.
    let ctx = BatchContext {
        deleted: true,
        quarantine: false,
        ..ctx.clone()
    };
    let mut read = client.read_object(request);
    let feed_progress = read.progress.clone();
    while let Some(page) = read.pages.recv().await {
        let page = page.map_err(|e| {
            add_transactions(report, &feed_progress.borrow().transactions);
            FeedFailure::Read(deletes::read_error(&job.name, e))
        })?;
        if let Some(raw) = &page.raw {
            writer
                .write_raw_deletes_page(raw)
                .await
                .map_err(FeedFailure::Stage)?;
        }
        let tombstones =
            deletes::tombstones(&job.name, &page.records).map_err(FeedFailure::Read)?;
        let converted = record_batch(plan, &tombstones.page, &ctx).map_err(FeedFailure::Read)?;
        writer
            .write(&converted.batch)
            .await
            .map_err(FeedFailure::Stage)?;
        writer
            .write_quarantine(&tombstones.quarantined)
            .await
            .map_err(FeedFailure::Stage)?;
        report.delete_pages += 1;
        report.deleted += converted.batch.num_rows() as u64;
        report.deletes_quarantined += tombstones.quarantined.len() as u64;
    }
    add_transactions(report, &feed_progress.borrow().transactions);
    read.finish("AUDITHISTORY")
        .await
        .map_err(|e| FeedFailure::Read(deletes::read_error(&job.name, e)))?;
    if report.deletes_quarantined > 0 {
        tracing::warn!(object = %job.name, batch_id = %report.batch_id, rows = report.deletes_quarantined, "AUDITHISTORY delete rows set aside: OBJECTKEY in no known format");
    }
    tracing::info!(object = %job.name, batch_id = %report.batch_id, deleted = report.deleted, pages = report.delete_pages, "deletes read");
    Ok(())
}
