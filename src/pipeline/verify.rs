//! `verify`: per object, Intacct's key set (a RECORDNO-only read) against Snowflake's live
//! rows.
//!
//! * a key live in Snowflake but gone from Intacct was deleted there without Snowflake
//!   hearing of it (no usable audit trail, or a delete older than the feed): it is marked
//!   deleted through an ordinary staged batch of tombstones, loaded like any other, so the
//!   manifest records it and the MERGE's rules (a newer row always wins) hold;
//! * a key in Intacct that Snowflake lacks, changed before the object's watermark, is missing
//!   (reported; the next backfill over its window brings it);
//! * a key changed at or after the watermark is pending: the next nightly run loads it.
//!
//! The check differs when anything is missing or extra; the command then exits non-zero.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
    new_null_array,
};
use chrono::{DateTime, Utc};
use tracing::Instrument;

use super::RunContext;
use crate::error::{Error, Result};
use crate::intacct::client::{IntacctClient, ReadRequest};
use crate::intacct::paging::TimeWindow;
use crate::loader::BatchLoadReport;
use crate::loader::ddl::TableRole;
use crate::manifest::schemas::{self, BatchSchema};
use crate::manifest::{Action, Mode};
use crate::snowflake::Statement;
use crate::stage::parts::{PartWriter, StageOptions};

/// How many keys of each kind a report lists (the counts are always complete).
const SAMPLE_KEYS: usize = 20;

/// What `verify` found for one object.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub(crate) struct VerifyReport {
    /// The object.
    pub object: String,
    /// Keys Intacct has.
    pub intacct_keys: u64,
    /// Live (not deleted) keys in Snowflake.
    pub snowflake_live: u64,
    /// In Intacct, changed before the watermark, not live in Snowflake.
    pub missing: u64,
    /// Up to 20 of them.
    pub missing_sample: Vec<i64>,
    /// Live in Snowflake, gone from Intacct (marked deleted by this run).
    pub extra: u64,
    /// Up to 20 of them.
    pub extra_sample: Vec<i64>,
    /// In Intacct, changed at or after the watermark: the next run loads them.
    pub pending: u64,
    /// The tombstone batch that marked the extra keys deleted, and how its load went.
    pub marked_deleted: Option<BatchLoadReport>,
    /// Why the object could not be verified.
    pub error: Option<String>,
}

impl VerifyReport {
    /// True when Intacct and Snowflake disagreed.
    pub(crate) fn differs(&self) -> bool {
        self.missing > 0 || self.extra > 0 || self.error.is_some()
    }
}

/// Verifies each object of `objects`.
pub(crate) async fn verify(ctx: &RunContext, objects: &[String]) -> Result<Vec<VerifyReport>> {
    let client = ctx.intacct()?;
    let mut reports = Vec::with_capacity(objects.len());
    for object in objects {
        let span = tracing::info_span!("object", object = %object);
        let mut report = VerifyReport {
            object: object.clone(),
            ..VerifyReport::default()
        };
        if let Err(error) = verify_object(ctx, &client, object, &mut report)
            .instrument(span)
            .await
        {
            tracing::error!(%error, "verify failed");
            report.error = Some(error.to_string());
        }
        reports.push(report);
    }
    Ok(reports)
}

async fn verify_object(
    ctx: &RunContext,
    client: &IntacctClient,
    object: &str,
    report: &mut VerifyReport,
) -> Result<()> {
    let watermark = ctx
        .manifest
        .lock()
        .await
        .state()
        .objects
        .get(object)
        .and_then(|o| o.watermark);
    let (settled, pending) = intacct_keys(ctx, client, object, watermark).await?;
    report.intacct_keys = (settled.len() + pending.len()) as u64;
    report.pending = pending.len() as u64;
    let live = snowflake_live_keys(ctx, object).await?;
    report.snowflake_live = live.len() as u64;
    let missing: Vec<i64> = settled.difference(&live).copied().collect();
    let extra: Vec<i64> = live
        .iter()
        .filter(|k| !settled.contains(k) && !pending.contains(k))
        .copied()
        .collect();
    report.missing = missing.len() as u64;
    report.missing_sample = missing.iter().take(SAMPLE_KEYS).copied().collect();
    report.extra = extra.len() as u64;
    report.extra_sample = extra.iter().take(SAMPLE_KEYS).copied().collect();
    tracing::info!(
        intacct = report.intacct_keys,
        snowflake = report.snowflake_live,
        missing = report.missing,
        extra = report.extra,
        pending = report.pending,
        "keys compared"
    );
    if !extra.is_empty() {
        report.marked_deleted = Some(mark_deleted(ctx, object, &extra).await?);
    }
    Ok(())
}

/// Intacct's keys: those changed before `watermark` (settled) and at or after it (pending).
async fn intacct_keys(
    ctx: &RunContext,
    client: &IntacctClient,
    object: &str,
    watermark: Option<DateTime<Utc>>,
) -> Result<(BTreeSet<i64>, BTreeSet<i64>)> {
    let mut request = ReadRequest::new(
        object,
        TimeWindow {
            from: None,
            to: ctx.now,
        },
        format!("verify-{object}"),
    );
    request.fields = Some(vec!["RECORDNO".to_owned()]);
    let time_zone = client.tenant_time_zone();
    let mut read = client.read_object(request);
    let (mut settled, mut pending) = (BTreeSet::new(), BTreeSet::new());
    while let Some(page) = read.pages.recv().await {
        let page = page?;
        let records = &page.records;
        for row in 0..records.len() {
            let key = records
                .get(row, "RECORDNO")
                .and_then(|k| k.trim().parse::<i64>().ok())
                .ok_or_else(|| Error::Value {
                    object: object.to_owned(),
                    record_no: records.get(row, "RECORDNO").map(str::to_owned),
                    field: "RECORDNO".into(),
                    value: records.get(row, "RECORDNO").unwrap_or("").to_owned(),
                    expected: "an integer (64-bit)",
                })?;
            let changed = ["WHENMODIFIED", "WHENCREATED"]
                .iter()
                .find_map(|f| records.get(row, f))
                .and_then(|text| crate::intacct::tenant_time::parse(text, time_zone).ok());
            let is_pending = match (watermark, changed) {
                (None, _) => true,
                (Some(w), Some(at)) => at >= w,
                (Some(_), None) => false,
            };
            if is_pending {
                pending.insert(key);
            } else {
                settled.insert(key);
            }
        }
    }
    read.finish(object).await?;
    Ok((settled, pending))
}

async fn snowflake_live_keys(ctx: &RunContext, object: &str) -> Result<BTreeSet<i64>> {
    let names = super::context::names(&ctx.spec)?;
    let table = names.table(object, TableRole::Target)?;
    let sql = format!("SELECT \"RECORDNO\" FROM {table} WHERE NOT COALESCE(\"_DELETED\", FALSE)");
    let outcome = ctx
        .snowflake()?
        .execute(&Statement::new(
            sql,
            format!("intacct-snowflake:{}:{object}:verify", ctx.spec.name),
        ))
        .await?;
    (0..outcome.rows.len())
        .filter_map(|row| outcome.value(row, "RECORDNO"))
        .map(|text| {
            text.parse::<i64>().map_err(|_| Error::SnowflakeResponse {
                detail: format!("{object}.RECORDNO value {text:?} is not an integer"),
            })
        })
        .collect()
}

/// Stages one batch of tombstones for `keys` (deleted as of now) and loads it.
async fn mark_deleted(ctx: &RunContext, object: &str, keys: &[i64]) -> Result<BatchLoadReport> {
    let schema = newest_schema(ctx, object).await?;
    let arrow_schema = Arc::new(schema.arrow());
    let batch_id = uuid::Uuid::new_v4().to_string();
    let now = Utc::now();
    let rows = keys.len();
    let columns: Vec<ArrayRef> = arrow_schema
        .fields()
        .iter()
        .map(|field| -> ArrayRef {
            match field.name().as_str() {
                "RECORDNO" => Arc::new(Int64Array::from(keys.to_vec())),
                "WHENMODIFIED" | crate::schema::EXTRACTED_AT_COLUMN => Arc::new(
                    TimestampMicrosecondArray::from(vec![now.timestamp_micros(); rows])
                        .with_timezone("UTC"),
                ),
                crate::schema::BATCH_ID_COLUMN => {
                    Arc::new(StringArray::from(vec![batch_id.clone(); rows]))
                }
                crate::schema::DELETED_COLUMN => Arc::new(BooleanArray::from(vec![true; rows])),
                _ => new_null_array(field.data_type(), rows),
            }
        })
        .collect();
    let record_batch =
        RecordBatch::try_new(arrow_schema.clone(), columns).map_err(|e| Error::Schema {
            object: object.to_owned(),
            message: format!("tombstones do not fit the persisted schema: {e}"),
        })?;
    {
        let mut manifest = ctx.manifest.lock().await;
        manifest
            .commit(vec![Action::BatchCreated {
                batch_id: batch_id.clone(),
                object: object.to_owned(),
                mode: Mode::Backfill,
                window_from: None,
                window_to: now,
                schema_fingerprint: schema.fingerprint.clone(),
                replay_of: None,
            }])
            .await?;
    }
    let mut writer = PartWriter::new(
        ctx.stage.clone(),
        object,
        &batch_id,
        arrow_schema,
        StageOptions::default(),
    );
    writer.write(&record_batch).await?;
    let staged = writer.finish().await?;
    ctx.manifest
        .lock()
        .await
        .commit(vec![Action::BatchStaged {
            batch_id: batch_id.clone(),
            rows: staged.rows(),
            deleted_rows: staged.rows(),
            bytes: staged.bytes(),
            files: staged.parts,
            raw_pages: vec![],
            quarantine: vec![],
            staged_up_to: None,
            deletes_up_to: None,
        }])
        .await?;
    tracing::info!(batch_id = %batch_id, keys = rows, "tombstones staged for keys gone from Intacct");
    let load = ctx.load_context()?;
    let mut batches = std::collections::BTreeMap::new();
    batches.insert(object.to_owned(), vec![batch_id]);
    let mut reports = crate::loader::load_batches(&load, batches).await;
    Ok(reports.pop().expect("one batch was loaded"))
}

async fn newest_schema(ctx: &RunContext, object: &str) -> Result<BatchSchema> {
    let fingerprint = {
        let manifest = ctx.manifest.lock().await;
        manifest
            .state()
            .batches_of(object)
            .filter(|b| b.status != crate::manifest::BatchStatus::Failed)
            .last()
            .map(|b| b.schema_fingerprint.clone())
    };
    let fingerprint = fingerprint.ok_or_else(|| {
        Error::Manifest(format!(
            "{object} has no batch on the stage, so its columns are unknown: run it first"
        ))
    })?;
    schemas::load(&ctx.stage, object, &fingerprint).await
}
