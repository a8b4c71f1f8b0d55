//! `extract`: every object in scope, changed since its mark minus the lookback, into staged
//! batches.
//!
//! Per object: look up its fields (the schema), commit `BatchCreated` with the window and the
//! schema fingerprint, stream pages from the client's bounded channel into the part writer
//! (back-pressure keeps memory at page size × buffered pages × objects in flight), then, with
//! the delete feed on, the object's deletes from AUDITHISTORY over the same window as
//! tombstone rows of the same batch (see `super::deletes`), and only after every part is
//! complete commit `BatchStaged` with the file list, the tombstone count and
//! `staged_up_to = window end`. With `keep_raw_pages`, every response body (the object's and
//! its delete feed's) is kept beside the parts, so the batch can be rebuilt without Intacct.
//! The loaded watermark is not touched: only a load moves it.
//! A failure commits `BatchFailed` (best effort) and the next run starts the object again from
//! the same mark, in a new batch. A failed delete feed is not a failed batch: the object's
//! rows stage, the report carries the feed's error, and the feed's own mark
//! (`deletes_up_to`) stays where it was, so the next run reads those deletes again.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;
use tokio::sync::Mutex;

use super::deletes;
use crate::config::DeleteFeed;
use crate::error::{Error, Result};
use crate::intacct::paging::{Cursor, TimeWindow};
use crate::intacct::response::ObjectMeta;
use crate::intacct::{IntacctClient, ReadMethod, ReadRequest};
use crate::manifest::schemas::{self, BatchSchema};
use crate::manifest::{Action, BatchKeys, ExtractProgress, Manifest, Mode};
use crate::schema::{BatchContext, SchemaPlan, arrow_schema, record_batch};
use crate::stage::parts::{PartWriter, StageOptions, StagedBatch};

/// One object to extract.
#[derive(Clone, Debug)]
pub struct ObjectJob {
    /// Intacct object name.
    pub name: String,
    /// `query` or `readByQuery`.
    pub method: ReadMethod,
    /// Explicit field list (`None`: every field `lookup` lists).
    pub fields: Option<Vec<String>>,
    /// Rows per page.
    pub page_size: u32,
    /// Nightly (moves the staged mark) or backfill (no mark moves).
    pub mode: Mode,
    /// The planned window `[from, to)` (see `pipeline::plan`); `None`: the object's mark minus
    /// the lookback to `now`, read from the manifest when the extract starts.
    pub window: Option<(Option<DateTime<Utc>>, DateTime<Utc>)>,
    /// Go on with a batch an interrupted extract of the same window left part-written.
    pub resume: Option<ResumeFrom>,
    /// Fields never read.
    pub exclude_fields: Vec<String>,
    /// This object's lookback (`None`: the pipeline's).
    pub lookback: Option<Duration>,
    /// The column the target table is merged on.
    pub key: String,
    /// The modification timestamp the read pages by.
    pub watermark_field: String,
    /// This object's delete-feed lookback (`None`: the pipeline's).
    pub delete_lookback: Option<Duration>,
    /// The entity read, through a session of its own (`intacct.entities`); `None`: the
    /// company, through the client's session.
    pub entity: Option<String>,
}

impl ObjectJob {
    /// The stream the job reads: the object, or `OBJECT@ENTITY` (as the manifest keys marks).
    pub fn stream(&self) -> String {
        crate::manifest::stream_key(&self.name, self.entity.as_deref())
    }
}

/// A part-written batch to go on with: its id, schema, and the progress it recorded.
#[derive(Clone, Debug)]
pub struct ResumeFrom {
    /// The batch.
    pub batch_id: String,
    /// Its schema fingerprint (a changed schema starts a new batch instead).
    pub schema_fingerprint: String,
    /// What it completed.
    pub progress: ExtractProgress,
}

/// Everything `extract` needs besides the client and the manifest.
#[derive(Clone, Debug)]
pub struct ExtractOptions {
    /// Objects, in order.
    pub objects: Vec<ObjectJob>,
    /// Re-read this much before each mark.
    pub lookback: Duration,
    /// The delete feed re-reads this much before its own mark (the audit trail lags).
    pub delete_lookback: Duration,
    /// The end of every window (normally the current time).
    pub now: DateTime<Utc>,
    /// Objects extracted at once (requests are limited by the client besides).
    pub concurrent_objects: usize,
    /// Keyset chains read at once within one object's nightly window
    /// ([`crate::intacct::ReadRequest::slices`]); a backfill window reads one chain, since it
    /// records its position to resume from.
    pub slices_per_object: u32,
    /// Set bad values aside instead of failing.
    pub quarantine_bad_values: bool,
    /// Where deletes come from.
    pub deletes: DeleteFeed,
    /// Part sizes (and whether raw pages are kept).
    pub stage: StageOptions,
    /// Draw progress bars.
    pub progress: bool,
    /// Backfill batches record their progress every this many pages.
    pub checkpoint_pages: u64,
}

/// What one object's extract did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ObjectReport {
    /// The object.
    pub object: String,
    /// The entity read (`intacct.entities`); `None`: the company.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// Its batch.
    pub batch_id: String,
    /// Window start (`None`: everything).
    pub window_from: Option<DateTime<Utc>>,
    /// Window end.
    pub window_to: Option<DateTime<Utc>>,
    /// Pages read.
    pub pages: u64,
    /// Records staged (tombstones not included).
    pub records: u64,
    /// AUDITHISTORY pages of the delete feed read.
    pub delete_pages: u64,
    /// Tombstones staged: records deleted in the window (`_DELETED = true`).
    pub deleted: u64,
    /// Values set aside (staged as NULL, kept as sent in the batch's quarantine file).
    pub quarantined: u64,
    /// [`ObjectReport::quarantined`] per Intacct field.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub quarantined_fields: std::collections::BTreeMap<String, u64>,
    /// Fields `lookup` lists but `query` refuses, left out of the read (their columns stay
    /// NULL): the deny list's and those the gateway refused by name.
    pub refused_fields: Vec<String>,
    /// AUDITHISTORY delete rows set aside because their OBJECTKEY fits no known format.
    pub deletes_quarantined: u64,
    /// Why the delete feed failed, when it did (the batch staged without its deletes; the
    /// next run reads them again).
    pub deletes_error: Option<String>,
    /// Values in columns the metadata does not list (dropped).
    pub unknown_column_values: u64,
    /// Parquet parts.
    pub parts: u64,
    /// Bytes in the parts.
    pub bytes: u64,
    /// Wall time.
    pub seconds: f64,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

/// Runs the extract of every object; failures of single objects are in their reports. First
/// the API user's date/time preferences are checked: when they would make Intacct write dates
/// this client cannot read, every object fails with the same error naming the preference.
pub(crate) async fn extract(
    client: &IntacctClient,
    manifest: Arc<Mutex<Manifest>>,
    options: &ExtractOptions,
    progress: &super::progress::Progress,
) -> Vec<ObjectReport> {
    let clients = entity_clients(client, &options.objects);
    if let Err(e) = check_preferences(&clients, options.now).await {
        tracing::error!(error = %e, "the API user's preferences stop the run");
        return options
            .objects
            .iter()
            .map(|job| ObjectReport {
                object: job.name.clone(),
                entity: job.entity.clone(),
                error: Some(e.to_string()),
                ..ObjectReport::default()
            })
            .collect();
    }
    let jobs = options.objects.iter().map(|job| {
        let manifest = manifest.clone();
        let client = &clients[&job.entity];
        async move {
            let started = Instant::now();
            let mut report = ObjectReport {
                object: job.name.clone(),
                entity: job.entity.clone(),
                ..ObjectReport::default()
            };
            let bar = progress.object(&job.stream());
            if let Err(e) = extract_object(client, &manifest, options, job, &mut report, &bar).await
            {
                bar.fail(&e);
                if !report.batch_id.is_empty() {
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
fn entity_clients(
    client: &IntacctClient,
    jobs: &[ObjectJob],
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

async fn extract_object(
    client: &IntacctClient,
    manifest: &Mutex<Manifest>,
    options: &ExtractOptions,
    job: &ObjectJob,
    report: &mut ObjectReport,
    bar: &super::progress::ObjectProgress,
) -> Result<()> {
    let meta = client.lookup(&job.name).await?;
    let mut meta = restrict_fields(&meta, job);
    meta.fields.retain(|f| {
        !job.exclude_fields
            .iter()
            .any(|x| x.eq_ignore_ascii_case(&f.name))
    });
    let mut refused: Vec<String> = Vec::new();
    if job.method == ReadMethod::Query {
        // Fields on the deny list are never read: leave them out of the schema. A field the
        // gateway refuses by name at run time keeps its (NULL) column, so the schema stays
        // the same from run to run.
        let deny = crate::intacct::objects::not_queryable(&job.name);
        meta.fields.retain(|f| {
            let keep = !deny.contains(&f.name.as_str());
            if !keep {
                refused.push(f.name.clone());
            }
            keep
        });
    }
    let mut plan = arrow_schema(&meta)?;
    check_keys(&plan, job)?;
    plan.mark_strict(&[&job.key, &job.watermark_field]);
    let (stage, from, deletes_up_to) = {
        let manifest = manifest.lock().await;
        let marks = manifest
            .state()
            .objects
            .get(&job.stream())
            .cloned()
            .unwrap_or_default();
        let mark = marks.staged_up_to.max(marks.watermark);
        (
            manifest.stage().clone(),
            mark.map(|m| m - job.lookback.unwrap_or(options.lookback)),
            marks.deletes_up_to,
        )
    };
    let window = match job.window {
        Some((from, to)) => TimeWindow { from, to },
        None => TimeWindow {
            from,
            to: options.now,
        },
    };
    let nightly = job.mode == Mode::Nightly;
    // A backfill window's deletes are read over that window, whatever the nightly feed's mark.
    let deletes_up_to = if nightly { deletes_up_to } else { None };
    // A part-written batch of the same window and schema goes on from its recorded position.
    let resume = job
        .resume
        .as_ref()
        .filter(|r| r.schema_fingerprint == plan.fingerprint)
        .and_then(|r| {
            let cursor = serde_json::from_value::<Cursor>(r.progress.cursor.clone()).ok()?;
            Some((r, cursor))
        });
    let batch_id = resume.as_ref().map_or_else(
        || uuid::Uuid::new_v4().to_string(),
        |(r, _)| r.batch_id.clone(),
    );
    report.batch_id = batch_id.clone();
    report.window_from = window.from;
    report.window_to = Some(window.to);
    if let Some((r, cursor)) = &resume {
        tracing::info!(object = %job.name, batch_id, files = r.progress.files.len(), after = ?cursor, "resuming a part-written batch");
    } else {
        // The column types go on the stage before the batch exists, so loading, `init` and
        // replay never need Intacct to know them.
        let persisted = BatchSchema::from_arrow(&job.name, &plan.fingerprint, &plan.schema)?;
        schemas::persist(&stage, &persisted).await?;
        let mut actions = vec![Action::BatchCreated {
            batch_id: batch_id.clone(),
            object: job.name.clone(),
            mode: job.mode,
            window_from: window.from,
            window_to: window.to,
            schema_fingerprint: plan.fingerprint.clone(),
            replay_of: None,
            keys: Some(BatchKeys {
                key: job.key.clone(),
                watermark_field: job.watermark_field.clone(),
            }),
        }];
        if let Some(entity) = &job.entity {
            actions.push(Action::BatchEntity {
                batch_id: batch_id.clone(),
                entity: entity.clone(),
            });
        }
        manifest.lock().await.commit(actions).await?;
        tracing::info!(object = %job.name, entity = ?job.entity, batch_id, from = ?window.from, to = %window.to, "batch created");
    }

    let mut request = ReadRequest::new(job.name.clone(), window, batch_id.clone());
    request.method = job.method;
    // Always the schema's own field list: private fields left out by default never leave
    // Intacct.
    request.fields = Some(meta.fields.iter().map(|f| f.name.clone()).collect());
    request.page_size = job.page_size;
    request.keep_raw = options.stage.keep_raw_pages;
    request.resume_after = resume.as_ref().map(|(_, cursor)| cursor.clone());
    request.keys.modified = job.watermark_field.clone();
    if nightly {
        request.slices = options.slices_per_object.max(1);
    }
    let mut read = client.read_object(request);
    let mut writer = match resume {
        Some((r, _)) => {
            PartWriter::resume(
                stage,
                &job.name,
                &batch_id,
                plan.schema.clone(),
                options.stage.clone(),
                StagedBatch {
                    parts: r.progress.files.clone(),
                    raw_pages: r.progress.raw_pages.clone(),
                    quarantine: r.progress.quarantine.clone(),
                },
            )
            .await?
        }
        None => PartWriter::new(
            stage,
            &job.name,
            &batch_id,
            plan.schema.clone(),
            options.stage.clone(),
        ),
    };
    let ctx = BatchContext {
        batch_id: &batch_id,
        extracted_at: Utc::now(),
        time_zone: client.tenant_time_zone(),
        deleted: false,
        quarantine: options.quarantine_bad_values,
    };
    while let Some(page) = read.pages.recv().await {
        let page = page?;
        if let Some(raw) = &page.raw {
            writer.write_raw_page(raw).await?;
        }
        let converted = record_batch(&plan, &page.records, &ctx)?;
        check_key_present(&plan, job, &page.records, &converted.batch)?;
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
        if job.mode == Mode::Backfill
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
    read.finish(&job.name).await?;
    let mut deletes_mark = None;
    if options.deletes == DeleteFeed::AuditHistory && deletes::has_feed(&job.name) {
        let lookback = job.delete_lookback.unwrap_or(options.delete_lookback);
        let feed = deletes::feed_window(deletes_up_to, window, lookback);
        match stage_deletes(client, options, job, &plan, feed, &ctx, &mut writer, report).await {
            Ok(()) => deletes_mark = Some(window.to),
            Err(FeedFailure::Stage(e)) => return Err(e),
            Err(FeedFailure::Read(e)) => {
                tracing::warn!(object = %job.name, batch_id, error = %e, "delete feed failed; the batch stages without it");
                report.deletes_error = Some(e.to_string());
            }
        }
    }
    refused.extend(client.refused_fields(&job.name));
    refused.sort();
    refused.dedup();
    report.refused_fields = refused;
    if !report.refused_fields.is_empty() {
        tracing::warn!(object = %job.name, fields = ?report.refused_fields, "fields query refuses were left out");
    }
    let staged = writer.finish().await?;
    if report.quarantined > 0 {
        tracing::warn!(object = %job.name, batch_id, values = report.quarantined, fields = ?report.quarantined_fields, "values that fit no type were staged as NULL and kept in the quarantine file");
    }
    if report.unknown_column_values > 0 {
        tracing::warn!(object = %job.name, values = report.unknown_column_values, "dropped values of fields the metadata does not list");
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
            staged_up_to: nightly.then_some(window.to),
            deletes_up_to: deletes_mark.filter(|_| nightly),
        }])
        .await?;
    tracing::info!(object = %job.name, batch_id, records = report.records, deleted = report.deleted, parts = report.parts, "batch staged");
    Ok(())
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
    while let Some(page) = read.pages.recv().await {
        let page = page.map_err(|e| FeedFailure::Read(deletes::read_error(&job.name, e)))?;
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
    read.finish("AUDITHISTORY")
        .await
        .map_err(|e| FeedFailure::Read(deletes::read_error(&job.name, e)))?;
    if report.deletes_quarantined > 0 {
        tracing::warn!(object = %job.name, batch_id = %report.batch_id, rows = report.deletes_quarantined, "AUDITHISTORY delete rows set aside: OBJECTKEY in no known format");
    }
    tracing::info!(object = %job.name, batch_id = %report.batch_id, deleted = report.deleted, pages = report.delete_pages, "deletes read");
    Ok(())
}

/// The metadata limited to an explicit field list (the paging keys, the object's key and
/// watermark field and the delete-key column always stay); without a list, every field but
/// the object's private ones ([`crate::intacct::objects::private_fields`]).
fn restrict_fields(meta: &ObjectMeta, job: &ObjectJob) -> ObjectMeta {
    let Some(fields) = job.fields.as_deref() else {
        let private = crate::intacct::objects::private_fields(&meta.name);
        return ObjectMeta {
            name: meta.name.clone(),
            fields: meta
                .fields
                .iter()
                .filter(|f| {
                    !private.contains(&f.name.as_str())
                        || f.name == job.key
                        || f.name == job.watermark_field
                })
                .cloned()
                .collect(),
        };
    };
    let keep = |name: &str| {
        crate::intacct::objects::is_required_field(&meta.name, name)
            || name.eq_ignore_ascii_case(&job.key)
            || name.eq_ignore_ascii_case(&job.watermark_field)
            || fields.iter().any(|f| f.eq_ignore_ascii_case(name))
    };
    ObjectMeta {
        name: meta.name.clone(),
        fields: meta
            .fields
            .iter()
            .filter(|f| keep(&f.name))
            .cloned()
            .collect(),
    }
}

/// Checks the object's key and watermark field against its metadata before anything is
/// created: the key must be a column, the watermark field a timestamp column.
fn check_keys(plan: &SchemaPlan, job: &ObjectJob) -> Result<()> {
    let column = |name: &str| plan.columns.iter().find(|c| c.column == name);
    let fail = |setting: &str, message: String| Error::Schema {
        object: job.name.clone(),
        message: format!("extract.object.{}.{setting}: {message}", job.name),
    };
    if column(&job.key).is_none() {
        return Err(fail(
            "key",
            format!("{} is not a field lookup lists for the object", job.key),
        ));
    }
    match column(&job.watermark_field) {
        Some(c) if c.kind == crate::schema::ColumnKind::Timestamp => Ok(()),
        Some(c) => Err(fail(
            "watermark_field",
            format!(
                "{} is a {:?} field; the watermark must be a timestamp",
                job.watermark_field, c.kind
            ),
        )),
        None => Err(fail(
            "watermark_field",
            format!(
                "{} is not a field lookup lists for the object",
                job.watermark_field
            ),
        )),
    }
}

/// A live record without a key could never be merged: it stops the object, naming the record.
fn check_key_present(
    plan: &SchemaPlan,
    job: &ObjectJob,
    page: &crate::intacct::response::RecordPage,
    batch: &arrow::record_batch::RecordBatch,
) -> Result<()> {
    let Some(keys) = batch.column_by_name(&job.key) else {
        return Ok(());
    };
    if keys.null_count() == 0 {
        return Ok(());
    }
    // Rows may have been quarantined out of `batch`; name the first page row without a key.
    let key_index = page.column_index(&job.key);
    let row = (0..page.len())
        .find(|&r| key_index.and_then(|c| page.value(r, c)).is_none())
        .unwrap_or(0);
    Err(Error::Value {
        object: plan.object.clone(),
        record_no: page
            .get(row, crate::schema::RECORD_NO_COLUMN)
            .map(str::to_owned),
        field: job.key.clone(),
        value: String::new(),
        expected: "a value: the object's key is never empty",
    })
}

/// The error to exit with when any object failed.
pub(crate) fn failure_of(reports: &[ObjectReport]) -> Option<Error> {
    let failed: Vec<String> = reports
        .iter()
        .filter_map(|r| r.error.as_ref().map(|e| format!("{}: {e}", r.object)))
        .collect();
    if failed.is_empty() {
        return None;
    }
    Some(Error::Extract {
        failed: failed.len(),
        total: reports.len(),
        detail: failed.join("; "),
    })
}
