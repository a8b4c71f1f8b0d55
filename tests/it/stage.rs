//! Stage and manifest conformance: one test body run against `memory://`, a local directory
//! and an S3-compatible server (moto) on loopback; plus the independent pyarrow reader.

use arrow::array::{Array, Int64Array, StringArray};
use bytes::Bytes;
use chrono::{DateTime, Duration, TimeZone, Utc};
use intacct_snowflake::Error;
use intacct_snowflake::intacct::{FieldMeta, IntacctType, ObjectMeta, RecordPage};
use intacct_snowflake::manifest::RunLock;
use intacct_snowflake::manifest::{
    Action, BatchStatus, CHECKPOINT_INTERVAL, Manifest, ManifestRule, Mode, fold,
};
use intacct_snowflake::schema::{BatchContext, arrow_schema, record_batch};
use intacct_snowflake::stage::{CreateOutcome, Stage};
use intacct_snowflake::stage::{PartWriter, StageOptions, StagedFile};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use sha2::{Digest, Sha256};

use crate::support::moto::Moto;
use crate::support::parquet::{PyarrowFile, read_with_pyarrow};
use crate::support::wall_clock::WallClock;

const TENANT_TZ: chrono_tz::Tz = chrono_tz::America::New_York;

/// Strings that break naive writers and readers.
fn hostile() -> Vec<String> {
    vec![
        "<tag attr=\"x\">&amp;</tag>".into(),
        "]]>".into(),
        "Zoë Ærøskøbing 日本語 😀 مرحبا".into(),
        "tab\there\r\nnew line".into(),
        "back\\slash 'single' \"double\"".into(),
        "e\u{301} combining, \u{200B}zero width, \u{FEFF}bom".into(),
        "NULL".into(),
        " leading and trailing ".into(),
        "x".repeat(20_000),
    ]
}

fn field(name: &str, data_type: IntacctType) -> FieldMeta {
    FieldMeta::new(name, data_type)
}

fn meta() -> ObjectMeta {
    ObjectMeta {
        name: "VENDOR".into(),
        fields: vec![
            field("RECORDNO", IntacctType::Integer),
            field("NAME", IntacctType::Text),
            field("ZIP", IntacctType::Text),
            field("TOTALDUE", IntacctType::Currency),
            field("LASTPAID", IntacctType::Date),
            field("WHENMODIFIED", IntacctType::Timestamp),
            field("ONHOLD", IntacctType::Boolean),
        ],
    }
}

/// Ground truth of one row, and what an independent reader must see.
struct Truth {
    record_no: i64,
    name: String,
    zip: String,
    cents: i64,
    paid: chrono::NaiveDate,
    modified_utc: DateTime<Utc>,
    on_hold: bool,
}

fn truth(n: i64) -> Vec<Truth> {
    let names = hostile();
    (1..=n)
        .map(|i| Truth {
            record_no: i,
            name: names[(i as usize) % names.len()].clone(),
            zip: format!("{:05}", (i * 37) % 1000),
            cents: (i * 7919) % 10_000_000 - 5_000_000,
            paid: chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap() + Duration::days(i % 1500),
            modified_utc: Utc.timestamp_opt(1_600_000_000 + i * 3_607, 0).unwrap(),
            on_hold: i % 3 == 0,
        })
        .collect()
}

/// WHENMODIFIED as Intacct writes it: wall-clock text in the tenant zone.
fn modified_text(t: &Truth) -> String {
    t.modified_utc
        .with_timezone(&TENANT_TZ)
        .format("%m/%d/%Y %H:%M:%S")
        .to_string()
}

/// The page Intacct would send for `rows`: wall-clock text in the tenant zone.
fn page_of(rows: &[Truth]) -> RecordPage {
    let columns = [
        "RECORDNO",
        "NAME",
        "ZIP",
        "TOTALDUE",
        "LASTPAID",
        "WHENMODIFIED",
        "ONHOLD",
    ];
    RecordPage::from_rows(
        columns.iter().map(|c| c.to_string()).collect(),
        rows.iter()
            .map(|t| {
                let sign = if t.cents < 0 { "-" } else { "" };
                vec![
                    Some(t.record_no.to_string()),
                    Some(t.name.clone()),
                    Some(t.zip.clone()),
                    Some(format!(
                        "{sign}{}.{:02}",
                        t.cents.abs() / 100,
                        t.cents.abs() % 100
                    )),
                    Some(t.paid.format("%m/%d/%Y").to_string()),
                    Some(modified_text(t)),
                    Some(if t.on_hold { "true" } else { "false" }.to_owned()),
                ]
            })
            .collect(),
    )
}

fn extracted_at() -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000, 0).unwrap()
}

/// Writes `rows` as one batch in pages of 250 and returns the parts.
async fn stage_rows(
    stage: &Stage,
    batch_id: &str,
    rows: &[Truth],
    options: StageOptions,
) -> Vec<StagedFile> {
    let plan = arrow_schema(&meta()).unwrap();
    let mut writer = PartWriter::new(
        stage.clone(),
        "VENDOR",
        batch_id,
        plan.schema.clone(),
        options,
    );
    for chunk in rows.chunks(250) {
        let ctx = BatchContext {
            batch_id,
            extracted_at: extracted_at(),
            time_zone: TENANT_TZ,
            deleted: false,
            quarantine: false,
        };
        let converted = record_batch(&plan, &page_of(chunk), &ctx).unwrap();
        writer.write(&converted.batch).await.unwrap();
        writer
            .write_raw_page(b"<response>raw</response>")
            .await
            .unwrap();
    }
    let staged = writer.finish().await.unwrap();
    assert_eq!(staged.raw_pages.len(), rows.len().div_ceil(250));
    staged.parts
}

fn small_parts() -> StageOptions {
    StageOptions {
        part_max_rows: 1_000,
        row_group_rows: 300,
        keep_raw_pages: true,
        ..StageOptions::default()
    }
}

async fn conformance(stage: Stage) {
    // Create-once objects.
    assert_eq!(
        stage
            .put_create("probe/a.json", Bytes::from_static(b"first"))
            .await
            .unwrap(),
        CreateOutcome::Created
    );
    assert_eq!(
        stage
            .put_create("probe/a.json", Bytes::from_static(b"second"))
            .await
            .unwrap(),
        CreateOutcome::AlreadyExists
    );
    assert_eq!(
        stage.get("probe/a.json").await.unwrap().unwrap(),
        Bytes::from_static(b"first")
    );
    assert_eq!(stage.get("probe/missing.json").await.unwrap(), None);

    // Parts roll at the row limit; every listed file is there with its size and checksum.
    let rows = truth(2_500);
    let parts = stage_rows(&stage, "batch-1", &rows, small_parts()).await;
    let part_rows: Vec<u64> = parts.iter().map(|p| p.rows).collect();
    assert_eq!(part_rows, vec![1_000, 1_000, 500]);
    // Named by number and by the writing attempt's random id, the same for every part of it.
    let attempt = parts[0]
        .path
        .strip_prefix("VENDOR/batch-1/part-00001-")
        .and_then(|rest| rest.strip_suffix(".parquet"))
        .unwrap_or_else(|| panic!("{}", parts[0].path));
    assert_eq!(attempt.len(), 12, "{attempt}");
    for (number, part) in parts.iter().enumerate() {
        assert_eq!(
            part.path,
            format!("VENDOR/batch-1/part-{:05}-{attempt}.parquet", number + 1)
        );
    }
    let mut record_nos = Vec::new();
    for part in &parts {
        let body = stage.get(&part.path).await.unwrap().expect("part exists");
        assert_eq!(body.len() as u64, part.bytes);
        assert_eq!(hex::encode(Sha256::digest(&body)), part.sha256);
        let reader = ParquetRecordBatchReaderBuilder::try_new(body)
            .unwrap()
            .build()
            .unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            let col = batch.column_by_name("RECORDNO").unwrap();
            record_nos.extend(
                col.as_any()
                    .downcast_ref::<Int64Array>()
                    .unwrap()
                    .values()
                    .iter()
                    .copied(),
            );
            let zip = batch.column_by_name("ZIP").unwrap();
            let zip = zip.as_any().downcast_ref::<StringArray>().unwrap();
            assert!(zip.iter().all(|z| z.is_some_and(|z| z.len() == 5)));
        }
    }
    let expected: Vec<i64> = rows.iter().map(|t| t.record_no).collect();
    assert_eq!(record_nos, expected);
    let listed = stage.list("VENDOR/batch-1").await.unwrap();
    assert_eq!(
        listed
            .iter()
            .filter(|o| o.path.ends_with(".parquet"))
            .count(),
        3
    );
    assert_eq!(
        listed.iter().filter(|o| o.path.contains("/raw/")).count(),
        10
    );

    // Another writer of the same batch (a resumed extract, or a stalled run and the one that
    // took its lock over) writes parts of its own names: the first writer's stay as written.
    let plan = arrow_schema(&meta()).unwrap();
    let mut again = PartWriter::new(
        stage.clone(),
        "VENDOR",
        "batch-1",
        plan.schema.clone(),
        small_parts(),
    );
    let ctx = BatchContext {
        batch_id: "batch-1",
        extracted_at: extracted_at(),
        time_zone: TENANT_TZ,
        deleted: false,
        quarantine: false,
    };
    let converted = record_batch(&plan, &page_of(&rows[..10]), &ctx).unwrap();
    again.write(&converted.batch).await.unwrap();
    let other = again.finish().await.unwrap();
    assert_eq!(other.parts.len(), 1);
    assert!(
        parts.iter().all(|p| p.path != other.parts[0].path),
        "{} is a name the first writer used",
        other.parts[0].path
    );
    for part in &parts {
        let body = stage.get(&part.path).await.unwrap().unwrap();
        assert_eq!(hex::encode(Sha256::digest(&body)), part.sha256);
    }

    // Manifest: commits survive reopening; a lost race lands at the next version.
    let mut first = Manifest::open(stage.clone(), "run-a").await.unwrap();
    assert_eq!(first.state().version, 0);
    let window_to = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
    first
        .commit(vec![Action::BatchCreated {
            batch_id: "batch-1".into(),
            object: "VENDOR".into(),
            mode: Mode::Nightly,
            window_from: None,
            window_to,
            schema_fingerprint: plan.fingerprint.clone(),
            replay_of: None,
            keys: None,
        }])
        .await
        .unwrap();
    let mut second = Manifest::open(stage.clone(), "run-b").await.unwrap();
    let mut third = Manifest::open(stage.clone(), "run-c").await.unwrap();
    assert_eq!(second.state().version, 1);
    let staged = Action::BatchStaged {
        batch_id: "batch-1".into(),
        files: parts.clone(),
        raw_pages: vec![],
        quarantine: vec![],
        rows: 2_500,
        deleted_rows: 0,
        bytes: parts.iter().map(|p| p.bytes).sum(),
        staged_up_to: Some(window_to),
        deletes_up_to: None,
    };
    assert_eq!(first.commit(vec![staged.clone()]).await.unwrap(), 2);
    // `second` still believes version 1 is the last; its (now invalid) commit is re-checked
    // against version 2 and refused without writing anything.
    assert!(matches!(
        second.commit(vec![staged]).await,
        Err(Error::ManifestRule {
            rule: ManifestRule::StagedOnce,
            ..
        })
    ));
    assert_eq!(
        stage
            .get("_manifest/00000000000000000003.json")
            .await
            .unwrap(),
        None
    );
    // A commit from a stale writer (`third` last read version 1) that is still valid lands at
    // the next free version.
    let stale_ok = Action::BatchCreated {
        batch_id: "batch-2".into(),
        object: "VENDOR".into(),
        mode: Mode::Backfill,
        window_from: None,
        window_to,
        schema_fingerprint: plan.fingerprint.clone(),
        replay_of: None,
        keys: None,
    };
    assert_eq!(third.commit(vec![stale_ok]).await.unwrap(), 3);
    let reopened = Manifest::open(stage.clone(), "run-d").await.unwrap();
    assert_eq!(reopened.state().version, 3);
    let batch = &reopened.state().batches["batch-1"];
    assert_eq!(batch.status, BatchStatus::Staged);
    assert_eq!(batch.files, parts);
    assert_eq!(
        reopened.state().objects["VENDOR"].staged_up_to,
        Some(window_to)
    );
    assert_eq!(reopened.state().objects["VENDOR"].watermark, None);

    // Run lock: generations created once, one after another.
    let lease = std::time::Duration::from_millis(400);
    let lock = RunLock::acquire(&stage, "demo", "run-a", lease)
        .await
        .unwrap();
    assert_eq!(lock.generation(), 1);
    lock.release().await.unwrap();
    let crashed = RunLock::acquire(&stage, "demo", "run-b", lease)
        .await
        .unwrap();
    assert_eq!(crashed.generation(), 2);
    // run-b never renews: run-c takes over once it has watched a whole lease go by.
    let taken_over = RunLock::acquire(&stage, "demo", "run-c", lease)
        .await
        .unwrap();
    assert_eq!(taken_over.holder().run_id, "run-c");
    assert_eq!(taken_over.generation(), 3);
    let mut crashed = crashed;
    assert!(
        matches!(crashed.renew().await, Err(Error::LockLost { .. })),
        "a taken-over lock is not the old holder's"
    );
    taken_over.release().await.unwrap();
}

#[tokio::test]
async fn conformance_in_memory() {
    conformance(Stage::open("memory:///").unwrap()).await;
}

#[tokio::test]
async fn conformance_local_directory() {
    let dir = tempfile::tempdir().unwrap();
    let stage = Stage::open(dir.path().join("stage").to_str().unwrap()).unwrap();
    conformance(stage).await;
    let url = format!("file://{}", dir.path().join("stage2").display());
    conformance(Stage::open(&url).unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_s3_on_moto() {
    let moto = Moto::start("stage-conformance").await;
    conformance(moto.stage("pipelines/demo")).await;
}

#[tokio::test]
async fn thousands_of_batches_open_from_a_checkpoint() {
    let stage = Stage::open("memory:///").unwrap();
    let mut manifest = Manifest::open(stage.clone(), "run").await.unwrap();
    let window_to = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
    let batches = 2_000;
    for chunk in 0..batches / 10 {
        let ids: Vec<String> = (0..10).map(|i| format!("b{}", chunk * 10 + i)).collect();
        let created = ids
            .iter()
            .map(|id| Action::BatchCreated {
                batch_id: id.clone(),
                object: format!("OBJ{}", chunk % 13),
                mode: Mode::Nightly,
                window_from: None,
                window_to,
                schema_fingerprint: "f".into(),
                replay_of: None,
                keys: None,
            })
            .collect();
        manifest.commit(created).await.unwrap();
        let staged = ids
            .iter()
            .map(|id| Action::BatchStaged {
                batch_id: id.clone(),
                files: vec![],
                raw_pages: vec![],
                quarantine: vec![],
                rows: 0,
                deleted_rows: 0,
                bytes: 0,
                staged_up_to: None,
                deletes_up_to: None,
            })
            .collect();
        manifest.commit(staged).await.unwrap();
    }
    let version = manifest.state().version;
    assert_eq!(version, 2 * batches / 10);
    let checkpoints = stage.list("_manifest/_checkpoints").await.unwrap();
    assert_eq!(checkpoints.len() as u64, version / CHECKPOINT_INTERVAL);
    // Opening reads the newest checkpoint and the commits after it, and agrees with a full fold.
    let reopened = Manifest::open(stage.clone(), "run2").await.unwrap();
    assert_eq!(reopened.state(), manifest.state());
    assert_eq!(reopened.state().batches.len(), batches as usize);
    let mut commits = Vec::new();
    for v in 1..=version {
        let body = stage
            .get(&format!("_manifest/{v:020}.json"))
            .await
            .unwrap()
            .unwrap();
        commits.push(serde_json::from_slice(&body).unwrap());
    }
    assert_eq!(&fold(None, &commits).unwrap(), manifest.state());
}

#[tokio::test]
async fn pyarrow_reads_what_the_stage_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let stage = Stage::open(dir.path().to_str().unwrap()).unwrap();
    let rows = truth(1_200);
    let parts = stage_rows(&stage, "batch-py", &rows, small_parts()).await;
    let paths: Vec<String> = parts
        .iter()
        .map(|p| dir.path().join(&p.path).display().to_string())
        .collect();
    let files = read_with_pyarrow(&paths);
    // The rows cross New York's autumn change of 2020; its repeated hour reads as the earlier
    // instant (see `support::wall_clock`), here read independently of the crate.
    let texts: Vec<String> = rows.iter().map(modified_text).collect();
    let clock = WallClock::of(TENANT_TZ.name(), texts.iter().map(String::as_str));
    assert!(
        rows.iter()
            .any(|t| clock.instant(&modified_text(t)) != t.modified_utc),
        "no row in a repeated hour"
    );
    let mut seen = 0usize;
    for (PyarrowFile { json: file, schema }, part) in files.iter().zip(&parts) {
        assert_eq!(file["num_rows"].as_u64().unwrap(), part.rows);
        assert_eq!(file["compression"], serde_json::json!(["ZSTD"]));
        let types: Vec<(&str, &str)> = schema
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        assert_eq!(
            types,
            vec![
                ("RECORDNO", "int64"),
                ("NAME", "string"),
                ("ZIP", "string"),
                ("TOTALDUE", "decimal128(38, 10)"),
                ("LASTPAID", "date32[day]"),
                ("WHENMODIFIED", "timestamp[us, tz=UTC]"),
                ("ONHOLD", "bool"),
                ("_BATCH_ID", "string"),
                ("_EXTRACTED_AT", "timestamp[us, tz=UTC]"),
                ("_DELETED", "bool"),
            ]
        );
        for row in file["rows"].as_array().unwrap() {
            let t = &rows[seen];
            seen += 1;
            assert_eq!(row["RECORDNO"].as_i64().unwrap(), t.record_no);
            assert_eq!(row["NAME"].as_str().unwrap().as_bytes(), t.name.as_bytes());
            assert_eq!(row["ZIP"].as_str().unwrap(), t.zip);
            let sign = if t.cents < 0 { "-" } else { "" };
            let due = format!(
                "{sign}{}.{:02}00000000",
                t.cents.abs() / 100,
                t.cents.abs() % 100
            );
            assert_eq!(row["TOTALDUE"].as_str().unwrap(), due);
            assert_eq!(
                row["LASTPAID"].as_str().unwrap(),
                t.paid.format("%Y-%m-%d").to_string()
            );
            assert_eq!(
                row["WHENMODIFIED"].as_str().unwrap(),
                clock
                    .instant(&modified_text(t))
                    .format("%Y-%m-%dT%H:%M:%S+00:00")
                    .to_string()
            );
            assert_eq!(row["ONHOLD"].as_bool().unwrap(), t.on_hold);
            assert_eq!(row["_BATCH_ID"].as_str().unwrap(), "batch-py");
            assert!(!row["_DELETED"].as_bool().unwrap());
        }
    }
    assert_eq!(seen, rows.len());
    assert!(rows.iter().any(|t| t.zip.starts_with("00")));
}

/// Text columns are dictionary-encoded; numbers, decimals, dates and timestamps are not
/// (mostly distinct per row, where a dictionary costs a hash per value and saves nothing
/// zstd does not).
#[tokio::test]
async fn only_text_columns_carry_a_dictionary() {
    use parquet::basic::Encoding;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let stage = Stage::open("memory://").unwrap();
    let options = StageOptions {
        keep_raw_pages: true,
        ..StageOptions::default()
    };
    let parts = stage_rows(&stage, "dict", &truth(600), options).await;
    let bytes = stage
        .get(&parts[0].path)
        .await
        .unwrap()
        .expect("part exists");
    let reader = SerializedFileReader::new(bytes).unwrap();
    let row_group = reader.metadata().row_group(0);
    for column in row_group.columns() {
        let name = column.column_path().string();
        let dictionary = column
            .encodings()
            .any(|e| matches!(e, Encoding::RLE_DICTIONARY | Encoding::PLAIN_DICTIONARY));
        let text = ["NAME", "ZIP", "_BATCH_ID"].contains(&name.as_str());
        let plain = [
            "RECORDNO",
            "TOTALDUE",
            "LASTPAID",
            "WHENMODIFIED",
            "_EXTRACTED_AT",
        ]
        .contains(&name.as_str());
        if text {
            assert!(dictionary, "{name} has a dictionary");
        }
        if plain {
            assert!(!dictionary, "{name} has no dictionary");
        }
    }
}

/// object_store retries a conditional `PUT` answered with a 5xx; when the first attempt had
/// landed, the retry meets 412 and the write is reported as "already exists". The stage reads
/// the object back: its own bytes count as written (the commit and the lock hold), other
/// bytes stay a conflict.
#[tokio::test]
async fn a_write_that_landed_before_its_retry_met_412_counts_as_written() {
    use crate::support::faulty_store::{FaultyStore, StoreFault};
    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    let inner: Arc<dyn object_store::ObjectStore> = Arc::new(object_store::memory::InMemory::new());
    let store = FaultyStore::new(inner.clone(), StoreFault::LandsThenAlreadyExists("_"));
    let refused = store.landed_then_refused.clone();
    let stage = Stage::from_store(Arc::new(store), "pipeline", "memory:///");

    let window_to = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
    let created = Action::BatchCreated {
        batch_id: "batch-1".into(),
        object: "VENDOR".into(),
        mode: Mode::Nightly,
        window_from: None,
        window_to,
        schema_fingerprint: "f".into(),
        replay_of: None,
        keys: None,
    };
    let mut manifest = Manifest::open(stage.clone(), "run-a").await.unwrap();
    assert_eq!(manifest.commit(vec![created]).await.unwrap(), 1);
    assert_eq!(refused.load(Ordering::SeqCst), 1, "the fault answered");
    let reopened = Manifest::open(stage.clone(), "run-b").await.unwrap();
    assert_eq!(reopened.state().version, 1);
    assert_eq!(
        reopened.state().batches["batch-1"].status,
        BatchStatus::Created
    );

    let lock = RunLock::acquire(&stage, "demo", "run-a", std::time::Duration::from_secs(600))
        .await
        .unwrap();
    assert_eq!(refused.load(Ordering::SeqCst), 2, "the fault answered");
    assert_eq!(lock.holder().run_id, "run-a");
    assert_eq!(lock.generation(), 1);
    lock.release().await.unwrap();

    // Other bytes already there are a conflict, as before.
    assert_eq!(
        stage
            .put_create("_probe/a.json", Bytes::from_static(b"mine"))
            .await
            .unwrap(),
        CreateOutcome::Created
    );
    assert_eq!(
        stage
            .put_create("_probe/a.json", Bytes::from_static(b"theirs"))
            .await
            .unwrap(),
        CreateOutcome::AlreadyExists
    );
    assert_eq!(
        stage.get("_probe/a.json").await.unwrap().unwrap(),
        Bytes::from_static(b"mine")
    );
}
