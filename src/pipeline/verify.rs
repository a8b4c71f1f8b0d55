//! `verify`: per object, Intacct's key set (a read of the key column alone, RECORDNO unless the
//! pipeline sets another) against Snowflake's live rows.
//!
//! * a key live in Snowflake but gone from Intacct was deleted there without Snowflake
//!   hearing of it (no usable audit trail, or a delete older than the feed): it is marked
//!   deleted through an ordinary staged batch of tombstones, loaded like any other, so the
//!   manifest records it and the MERGE's rules (a newer row always wins) hold;
//! * a key in Intacct that Snowflake lacks, changed before the object's watermark, is missing
//!   (reported; the next backfill over its window brings it);
//! * a key changed at or after the watermark is pending: the next nightly run loads it.
//!
//! With `intacct.entities`, Intacct's key set is the union of what each entity's session sees
//! (a user restricted to entities cannot log in at the top level; a record several entities
//! see counts once), each entity's keys judged by its own stream's watermark.
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
use crate::intacct::paging::TimeWindow;
use crate::intacct::{IntacctClient, ReadRequest};
use crate::loader::BatchLoadReport;
use crate::loader::TableRole;
use crate::manifest::schemas::{self, BatchSchema, ColumnType};
use crate::manifest::{Action, BatchKeys, Mode};
use crate::snowflake::Statement;
use crate::stage::parts::{PartWriter, StageOptions};

/// How many keys of each kind a report lists (the counts are always complete).
const SAMPLE_KEYS: usize = 20;

/// What `verify` found for one object.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VerifyReport {
    /// The object.
    pub object: String,
    /// Keys Intacct has.
    pub intacct_keys: u64,
    /// Live (not deleted) keys in Snowflake.
    pub snowflake_live: u64,
    /// In Intacct, changed before the watermark, not live in Snowflake.
    pub missing: u64,
    /// Up to 20 of them.
    pub missing_sample: Vec<String>,
    /// Live in Snowflake, gone from Intacct (marked deleted by this run).
    pub extra: u64,
    /// Up to 20 of them.
    pub extra_sample: Vec<String>,
    /// In Intacct, changed at or after the watermark: the next run loads them.
    pub pending: u64,
    /// The tombstone batch that marked the extra keys deleted, and how its load went.
    pub marked_deleted: Option<BatchLoadReport>,
    /// Why the object could not be verified.
    pub error: Option<String>,
}

impl VerifyReport {
    /// True when Intacct and Snowflake disagreed, or the object could not be verified.
    pub fn differs(&self) -> bool {
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
    // With `intacct.entities` Intacct's keys are the union of what each entity's session
    // sees (a record shared by several entities counts once), each judged by its own
    // stream's watermark; otherwise the company's session and the object's watermark.
    let scopes: Vec<(Option<String>, IntacctClient)> = if ctx.spec.intacct.entities.is_empty() {
        vec![(None, client.clone())]
    } else {
        ctx.spec
            .intacct
            .entities
            .iter()
            .map(|e| (Some(e.clone()), client.for_entity(e)))
            .collect()
    };
    let (watermarks, keys) = {
        let manifest = ctx.manifest.lock().await;
        let state = manifest.state();
        let watermarks: Vec<Option<DateTime<Utc>>> = scopes
            .iter()
            .map(|(entity, _)| {
                state
                    .objects
                    .get(&crate::manifest::stream_key(object, entity.as_deref()))
                    .and_then(|o| o.watermark)
            })
            .collect();
        let configured = ctx
            .spec
            .extract
            .objects
            .iter()
            .find(|o| o.name == object)
            .map(|o| BatchKeys {
                key: o.key.clone(),
                watermark_field: o.watermark_field.clone(),
            });
        (
            watermarks,
            // The keys the loaded rows were merged on win over a setting changed since.
            state.object_keys(object).or(configured).unwrap_or_default(),
        )
    };
    let schema = newest_schema(ctx, object).await?;
    let integer_key = schema
        .column(&keys.key)
        .is_some_and(|c| c.column_type == ColumnType::Integer);
    let key_kind = KeyKind {
        object,
        column: &keys.key,
        integer: integer_key,
    };
    let (mut settled, mut pending) = (BTreeSet::new(), BTreeSet::new());
    for ((_, scope), watermark) in scopes.iter().zip(watermarks) {
        let (s, p) = intacct_keys(ctx, scope, &key_kind, &keys, watermark).await?;
        settled.extend(s);
        pending.extend(p);
    }
    // Pending in any entity's stream: the next run of that stream loads it.
    settled.retain(|k| !pending.contains(k));
    report.intacct_keys = (settled.len() + pending.len()) as u64;
    report.pending = pending.len() as u64;
    let live = snowflake_live_keys(ctx, &key_kind).await?;
    report.snowflake_live = live.len() as u64;
    let missing: Vec<String> = settled.difference(&live).cloned().collect();
    let extra: Vec<String> = live
        .iter()
        .filter(|k| !settled.contains(*k) && !pending.contains(*k))
        .cloned()
        .collect();
    report.missing = missing.len() as u64;
    report.missing_sample = missing.iter().take(SAMPLE_KEYS).cloned().collect();
    report.extra = extra.len() as u64;
    report.extra_sample = extra.iter().take(SAMPLE_KEYS).cloned().collect();
    tracing::info!(
        key = %keys.key,
        intacct = report.intacct_keys,
        snowflake = report.snowflake_live,
        missing = report.missing,
        extra = report.extra,
        pending = report.pending,
        "keys compared"
    );
    if !extra.is_empty() {
        report.marked_deleted = Some(mark_deleted(ctx, object, schema, &keys, &extra).await?);
    }
    Ok(())
}

/// The object's key column and how its values compare: integers by value (`12`, `12.0` and
/// ` 12` are one key), anything else as trimmed text.
struct KeyKind<'a> {
    object: &'a str,
    column: &'a str,
    integer: bool,
}

impl KeyKind<'_> {
    /// The canonical form of one key value, or `None` when an integer key is not one.
    fn canonical(&self, text: &str) -> Option<String> {
        let text = text.trim();
        if !self.integer {
            return (!text.is_empty()).then(|| text.to_owned());
        }
        crate::schema::values::parse_integer(text).map(|n| n.to_string())
    }
}

/// Intacct's keys: those changed before `watermark` (settled) and at or after it (pending).
async fn intacct_keys(
    ctx: &RunContext,
    client: &IntacctClient,
    kind: &KeyKind<'_>,
    keys: &BatchKeys,
    watermark: Option<DateTime<Utc>>,
) -> Result<(BTreeSet<String>, BTreeSet<String>)> {
    let object = kind.object;
    let mut request = ReadRequest::new(
        object,
        TimeWindow {
            from: None,
            to: ctx.now,
        },
        format!("verify-{object}"),
    );
    request.keys.modified = keys.watermark_field.clone();
    request.fields = Some(vec![keys.key.clone()]);
    let time_zone = client.tenant_time_zone();
    let mut read = client.read_object(request);
    let (mut settled, mut pending) = (BTreeSet::new(), BTreeSet::new());
    while let Some(page) = read.pages.recv().await {
        let page = page?;
        let records = &page.records;
        for row in 0..records.len() {
            let text = records.get(row, kind.column);
            let key = text
                .and_then(|k| kind.canonical(k))
                .ok_or_else(|| Error::Value {
                    object: object.to_owned(),
                    record_no: records
                        .get(row, crate::schema::RECORD_NO_COLUMN)
                        .map(str::to_owned),
                    field: kind.column.to_owned(),
                    value: crate::error::plain_snippet(text.unwrap_or("").as_bytes(), 80),
                    expected: if kind.integer {
                        "an integer key (64-bit)"
                    } else {
                        "a key: the object's key is never empty"
                    },
                })?;
            let changed = [
                keys.watermark_field.as_str(),
                "AUWHENCREATED",
                "WHENCREATED",
            ]
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

async fn snowflake_live_keys(ctx: &RunContext, kind: &KeyKind<'_>) -> Result<BTreeSet<String>> {
    let object = kind.object;
    let names = super::context::names(&ctx.spec)?;
    let table = names.table(object, TableRole::Target)?;
    let column = crate::loader::sql::Ident::new(kind.column)?;
    let sql = format!(
        "SELECT {} FROM {table} WHERE NOT COALESCE(\"_DELETED\", FALSE)",
        column.sql()
    );
    let outcome = ctx
        .snowflake()?
        .execute(&Statement::new(
            sql,
            format!("intacct-snowflake:{}:{object}:verify", ctx.spec.name),
        ))
        .await?;
    (0..outcome.rows.len())
        .filter_map(|row| outcome.value(row, kind.column))
        .map(|text| {
            kind.canonical(text)
                .ok_or_else(|| Error::SnowflakeResponse {
                    detail: format!(
                        "{object}.{} value {:?} is not a key",
                        kind.column,
                        crate::error::plain_snippet(text.as_bytes(), 80)
                    ),
                })
        })
        .collect()
}

/// Stages one batch of tombstones for `keys` (deleted as of now) and loads it.
async fn mark_deleted(
    ctx: &RunContext,
    object: &str,
    schema: BatchSchema,
    batch_keys: &BatchKeys,
    keys: &[String],
) -> Result<BatchLoadReport> {
    let arrow_schema = Arc::new(schema.arrow());
    let batch_id = uuid::Uuid::new_v4().to_string();
    let now = Utc::now();
    let rows = keys.len();
    let integer_keys = || -> Result<Vec<i64>> {
        keys.iter()
            .map(|k| {
                k.parse::<i64>().map_err(|_| Error::Schema {
                    object: object.to_owned(),
                    message: format!("key {k:?} of {} is not an integer", batch_keys.key),
                })
            })
            .collect()
    };
    let columns: Vec<ArrayRef> = arrow_schema
        .fields()
        .iter()
        .map(|field| -> Result<ArrayRef> {
            let name = field.name().as_str();
            Ok(if name == batch_keys.key {
                match field.data_type() {
                    arrow::datatypes::DataType::Int64 => {
                        Arc::new(Int64Array::from(integer_keys()?))
                    }
                    _ => Arc::new(StringArray::from(keys.to_vec())),
                }
            } else if name == batch_keys.watermark_field
                || name == crate::schema::EXTRACTED_AT_COLUMN
            {
                Arc::new(
                    TimestampMicrosecondArray::from(vec![now.timestamp_micros(); rows])
                        .with_timezone("UTC"),
                )
            } else if name == crate::schema::BATCH_ID_COLUMN {
                Arc::new(StringArray::from(vec![batch_id.clone(); rows]))
            } else if name == crate::schema::DELETED_COLUMN {
                Arc::new(BooleanArray::from(vec![true; rows]))
            } else {
                new_null_array(field.data_type(), rows)
            })
        })
        .collect::<Result<_>>()?;
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
                keys: Some(batch_keys.clone()),
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
    let fingerprint = fingerprint.ok_or_else(|| Error::NoBatchOf {
        object: object.to_owned(),
    })?;
    schemas::load(&ctx.stage, object, &fingerprint).await
}
