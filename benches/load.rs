//! Load throughput: staged batches of an APBILL-shaped object (23 columns of text, decimals,
//! dates, timestamps, booleans and integers, plus the three loader columns) through
//! `loader::load_batches` into the Snowflake emulator, at several batch sizes.
//!
//! Per size, two passes: the first loads keys the target has never seen (MERGE inserts every
//! row), the second loads the same keys again with a later WHENMODIFIED (MERGE updates every
//! row). Each pass prints rows, files, the statements the loader reports for the batch, seconds,
//! rows/s, and beside it a baseline measured in the same run on the same files: the three bare
//! statements a hand-written loader would send (COPY into a staging table, `INSERT … SELECT`
//! from it, `DELETE` of the batch's staging rows), so the ratio is the cost of the MERGE's
//! dedup and newer-than checks and of the manifest bookkeeping. The baseline COPY is the
//! loader's own COPY text aimed at a separate staging table, so COPY costs the same on both
//! sides.
//!
//! The emulator's `GET /__emulator/stats` is read before and after every load: the statements
//! it ran must be exactly the loader's COPY, MERGE and DELETE, plus the one catalog read
//! (`INFORMATION_SCHEMA.COLUMNS`) every `load_batches` call makes before its first batch and
//! does not count per batch. A warm-up batch first creates the tables (its DDL is not measured),
//! so every measured batch reports the same 3 statements whatever its size.
//!
//! Staging the Parquet parts (the extract's work) is outside the timed part.
//!
//! Every size and pass is measured in `LOAD_BENCH_ROUNDS` rounds (default 3; each round loads
//! fresh keys, so the target grows as it would in production) and the best round, with the
//! median beside it, is printed last. The baseline runs before the loader in every other round,
//! so neither side always pays for the emulator's pauses after a large statement.
//!
//! Run with `cargo bench --bench load`; `LOAD_BENCH_ROWS` (default `10000,100000,1000000`)
//! picks the batch sizes, `--quick` means `10000,100000`. Without `--bench` (as
//! `cargo test --benches` runs it) or with `BENCH_SMOKE=1` it makes one small smoke run.

#[allow(dead_code)] // not every benchmark uses every item
#[path = "mode.rs"]
mod mode;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use chrono::DateTime;
use intacct_snowflake::loader::{
    self, BatchLoadReport, ExternalStage, LoadContext, Names, TableRole,
};
use intacct_snowflake::manifest::schemas::{self, BatchSchema};
use intacct_snowflake::manifest::{Action, Manifest, Mode};
use intacct_snowflake::retry::RetryPolicy;
use intacct_snowflake::snowflake::SnowflakeAuth;
use intacct_snowflake::snowflake::{SnowflakeClient, SnowflakeConfig, Statement};
use intacct_snowflake::stage::Stage;
use intacct_snowflake::stage::{PartWriter, StageOptions};
use tokio::sync::Mutex;

const ACCOUNT: &str = "DEMO";
const USER: &str = "LOADER";
const OBJECT: &str = "APBILL";
/// The baseline's own tables (`APBILL_BASELINE_STG`, `APBILL_BASELINE`), same columns.
const BASELINE_OBJECT: &str = "APBILL_BASELINE";
const FINGERPRINT: &str = "bench-v1";
const WARM_UP_ROWS: usize = 1_000;
/// Rows handed to the Parquet writer at a time while staging.
const CHUNK_ROWS: usize = 100_000;
/// 2026-01-01T00:00:00Z, the first batch's WHENCREATED.
const EPOCH_SECS: i64 = 1_767_225_600;
/// 10^10: one unit of a NUMBER(38,10).
const UNIT: i128 = 10_000_000_000;

fn main() {
    let measuring = !mode::is_smoke();
    let quick = std::env::args().any(|a| a == "--quick");
    let sizes: Vec<usize> = match std::env::var("LOAD_BENCH_ROWS") {
        Ok(list) if measuring => list
            .split(',')
            .map(|s| {
                s.trim()
                    .parse()
                    .expect("LOAD_BENCH_ROWS: comma-separated row counts")
            })
            .collect(),
        _ if !measuring => vec![2_000],
        _ if quick => vec![10_000, 100_000],
        _ => vec![10_000, 100_000, 1_000_000],
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let rounds = match std::env::var("LOAD_BENCH_ROUNDS") {
        Ok(n) if measuring => n.parse().expect("LOAD_BENCH_ROUNDS: a number of rounds"),
        _ if measuring => 3,
        _ => 1,
    };
    runtime.block_on(run(&sizes, rounds));
}

fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// An AP bill header as Intacct describes it, with the loader's three columns at the end.
fn bill_schema() -> Arc<Schema> {
    let decimal = || DataType::Decimal128(38, 10);
    Arc::new(Schema::new(vec![
        Field::new("RECORDNO", DataType::Int64, true),
        Field::new("RECORDID", DataType::Utf8, true),
        Field::new("VENDORID", DataType::Utf8, true),
        Field::new("VENDORNAME", DataType::Utf8, true),
        Field::new("DOCNUMBER", DataType::Utf8, true),
        Field::new("DESCRIPTION", DataType::Utf8, true),
        Field::new("STATE", DataType::Utf8, true),
        Field::new("CURRENCY", DataType::Utf8, true),
        Field::new("TERMNAME", DataType::Utf8, true),
        Field::new("MEGAENTITYID", DataType::Utf8, true),
        Field::new("WHENPOSTED", DataType::Date32, true),
        Field::new("WHENDUE", DataType::Date32, true),
        Field::new("WHENPAID", DataType::Date32, true),
        Field::new("TOTALENTERED", decimal(), true),
        Field::new("TOTALPAID", decimal(), true),
        Field::new("TOTALDUE", decimal(), true),
        Field::new("TRX_TOTALENTERED", decimal(), true),
        Field::new("ONHOLD", DataType::Boolean, true),
        Field::new("INCLUSIVETAX", DataType::Boolean, true),
        Field::new("CREATEDBY", DataType::Int64, true),
        Field::new("MODIFIEDBY", DataType::Int64, true),
        Field::new("WHENCREATED", timestamp_type(), true),
        Field::new("WHENMODIFIED", timestamp_type(), true),
        Field::new("_BATCH_ID", DataType::Utf8, false),
        Field::new("_EXTRACTED_AT", timestamp_type(), false),
        Field::new("_DELETED", DataType::Boolean, false),
    ]))
}

/// Rows `keys` of one batch; `revision` 1 is the first version of each bill, 2 its update
/// (paid, later WHENMODIFIED).
fn bill_rows(
    schema: &Arc<Schema>,
    keys: std::ops::Range<i64>,
    revision: i64,
    batch_id: &str,
    extracted_at: i64,
) -> RecordBatch {
    const STATES: [&str; 4] = ["Posted", "Partially paid", "Paid", "Draft"];
    const CURRENCIES: [&str; 3] = ["USD", "EUR", "GBP"];
    const TERMS: [&str; 3] = ["Net 30", "Net 60", "Due on receipt"];
    let n = (keys.end - keys.start) as usize;
    let paid = revision > 1;
    let keys: Vec<i64> = keys.collect();
    let text = |f: &dyn Fn(i64) -> Option<String>| -> ArrayRef {
        Arc::new(StringArray::from(
            keys.iter().map(|&k| f(k)).collect::<Vec<_>>(),
        ))
    };
    let date = |f: &dyn Fn(i64) -> Option<i32>| -> ArrayRef {
        Arc::new(Date32Array::from(
            keys.iter().map(|&k| f(k)).collect::<Vec<_>>(),
        ))
    };
    let amount = |f: &dyn Fn(i64) -> Option<i128>| -> ArrayRef {
        Arc::new(
            Decimal128Array::from(keys.iter().map(|&k| f(k)).collect::<Vec<_>>())
                .with_precision_and_scale(38, 10)
                .expect("NUMBER(38,10)"),
        )
    };
    let instant = |f: &dyn Fn(i64) -> Option<i64>| -> ArrayRef {
        Arc::new(
            TimestampMicrosecondArray::from(keys.iter().map(|&k| f(k)).collect::<Vec<_>>())
                .with_timezone("UTC"),
        )
    };
    // Cents 100.00 .. 99,999.99, a different total per key.
    let total = |k: i64| i128::from(10_000 + (k * 7_919) % 9_990_000) * UNIT / 100;
    let posted_day = |k: i64| 20_454 + (k % 365) as i32; // 2026-01-01 + k mod 365
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(keys.clone())),
        text(&|k| Some(format!("BILL-{k:08}"))),
        text(&|k| Some(format!("V{:05}", k % 5_000))),
        text(&|k| Some(format!("Vendor {} Supplies Ltd.", k % 5_000))),
        text(&|k| (k % 10 != 0).then(|| format!("INV-{}-{k}", k % 977))),
        text(&|k| {
            Some(format!(
                "Monthly services, cost centre {} — ref {k}",
                k % 113
            ))
        }),
        text(&|k| {
            Some(
                if paid {
                    "Paid"
                } else {
                    STATES[(k % 4) as usize]
                }
                .to_owned(),
            )
        }),
        text(&|k| Some(CURRENCIES[(k % 3) as usize].to_owned())),
        text(&|k| Some(TERMS[(k % 3) as usize].to_owned())),
        text(&|k| (k % 4 != 0).then(|| format!("E{}", k % 4))),
        date(&|k| Some(posted_day(k))),
        date(&|k| Some(posted_day(k) + 30)),
        date(&|k| paid.then(|| posted_day(k) + 25)),
        amount(&|k| Some(total(k))),
        amount(&|k| Some(if paid { total(k) } else { 0 })),
        amount(&|k| Some(if paid { 0 } else { total(k) })),
        amount(&|k| Some(total(k) * 11 / 10)),
        Arc::new(BooleanArray::from(
            keys.iter().map(|&k| Some(k % 17 == 0)).collect::<Vec<_>>(),
        )),
        Arc::new(BooleanArray::from(
            keys.iter().map(|&k| Some(k % 2 == 0)).collect::<Vec<_>>(),
        )),
        Arc::new(Int64Array::from(
            keys.iter().map(|&k| Some(k % 40 + 1)).collect::<Vec<_>>(),
        )),
        Arc::new(Int64Array::from(
            keys.iter()
                .map(|&k| Some(k % 40 + revision))
                .collect::<Vec<_>>(),
        )),
        instant(&|k| Some((EPOCH_SECS + k % 86_400) * 1_000_000)),
        instant(&|k| Some((EPOCH_SECS + k % 86_400 + revision * 86_400) * 1_000_000)),
        Arc::new(StringArray::from(vec![batch_id; n])),
        Arc::new(
            TimestampMicrosecondArray::from(vec![extracted_at * 1_000_000; n]).with_timezone("UTC"),
        ),
        Arc::new(BooleanArray::from(vec![false; n])),
    ];
    RecordBatch::try_new(schema.clone(), columns).expect("columns match the schema")
}

/// The emulator, started as users start it; killed on drop.
struct Emulator {
    child: Child,
    base_url: String,
    http: reqwest::Client,
    /// Its log (one line per request), kept out of the benchmark's output.
    log: tempfile::NamedTempFile,
}

impl Emulator {
    fn start(public_key: &Path) -> Emulator {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let log = tempfile::NamedTempFile::new().expect("emulator log file");
        let mut child = Command::new(root.join("scripts/snowflake-emulator.sh"))
            .args(["--listen", "127.0.0.1:0", "--public-key"])
            .arg(public_key)
            .args(["--account", ACCOUNT, "--user", USER, "--require-warehouse"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log.reopen().expect("emulator log file"))
            .spawn()
            .expect("scripts/snowflake-emulator.sh starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .expect("the emulator's first line");
        let Some(base_url) = line.trim_end().strip_prefix("listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "emulator printed {line:?} instead of `listening on http://…`:\n{}",
                std::fs::read_to_string(log.path()).unwrap_or_default()
            );
        };
        Emulator {
            base_url: base_url.to_owned(),
            child,
            http: reqwest::Client::new(),
            log,
        }
    }

    /// The last lines of its log (for failure messages).
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.log.path()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    async fn stats(&self) -> Stats {
        let value: serde_json::Value = self
            .http
            .get(format!("{}/__emulator/stats", self.base_url))
            .send()
            .await
            .expect("stats request")
            .error_for_status()
            .expect("stats status")
            .json()
            .await
            .expect("stats JSON");
        let count = |v: &serde_json::Value| v.as_u64().unwrap_or(0);
        Stats {
            executed: value["statements_executed"]
                .as_object()
                .expect("statements_executed")
                .iter()
                .map(|(k, v)| (k.clone(), count(v)))
                .collect(),
            submissions: count(&value["submissions"]),
            polls: count(&value["polls"]),
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the emulator counted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Stats {
    /// Statements run, by kind (copy, merge, other).
    executed: BTreeMap<String, u64>,
    submissions: u64,
    polls: u64,
}

impl Stats {
    fn minus(&self, before: &Stats) -> Stats {
        Stats {
            executed: self
                .executed
                .iter()
                .map(|(k, v)| (k.clone(), v - before.executed.get(k).copied().unwrap_or(0)))
                .collect(),
            submissions: self.submissions - before.submissions,
            polls: self.polls - before.polls,
        }
    }

    fn executed(&self, kind: &str) -> u64 {
        self.executed.get(kind).copied().unwrap_or(0)
    }
}

/// An RSA key pair made by openssl in `dir`: (PKCS#8 private key, public key).
fn generate_keys(dir: &Path) -> (PathBuf, PathBuf) {
    let status = Command::new("sh")
        .arg("-c")
        .arg("openssl genrsa 2048 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out key.p8 && openssl rsa -in key.p8 -pubout -out key.pub 2>/dev/null")
        .current_dir(dir)
        .status()
        .expect("openssl runs");
    assert!(status.success(), "openssl made no key");
    (dir.join("key.p8"), dir.join("key.pub"))
}

struct Bench {
    emulator: Emulator,
    stage: Stage,
    manifest: Arc<Mutex<Manifest>>,
    client: SnowflakeClient,
    ctx: LoadContext,
    names: Names,
    schema: Arc<Schema>,
    /// Batches staged so far (each one's window ends a second later).
    batches: i64,
}

/// The baseline's wall time, in total and per statement.
struct Baseline {
    seconds: f64,
    copy_secs: f64,
    insert_secs: f64,
    delete_secs: f64,
}

/// One staged batch.
struct Staged {
    batch_id: String,
    files: Vec<String>,
    rows: u64,
}

impl Bench {
    /// Writes one batch's parts and schema and commits it staged, as `extract` leaves it.
    async fn stage_batch(&mut self, keys: std::ops::Range<i64>, revision: i64) -> Staged {
        self.batches += 1;
        let batch_id = uuid::Uuid::new_v4().to_string();
        let extracted_at = EPOCH_SECS + 400 * 86_400 + self.batches;
        let persisted =
            BatchSchema::from_arrow(OBJECT, FINGERPRINT, &self.schema).expect("schema maps");
        schemas::persist(&self.stage, &persisted)
            .await
            .expect("schema persisted");
        let mut writer = PartWriter::new(
            self.stage.clone(),
            OBJECT,
            &batch_id,
            self.schema.clone(),
            StageOptions::default(),
        );
        let mut start = keys.start;
        while start < keys.end {
            let end = (start + CHUNK_ROWS as i64).min(keys.end);
            let rows = bill_rows(&self.schema, start..end, revision, &batch_id, extracted_at);
            writer.write(&rows).await.expect("part written");
            start = end;
        }
        let staged = writer.finish().await.expect("parts finished");
        let window_to = DateTime::from_timestamp(extracted_at, 0).expect("instant");
        let mut manifest = self.manifest.lock().await;
        manifest
            .commit(vec![Action::BatchCreated {
                batch_id: batch_id.clone(),
                object: OBJECT.into(),
                mode: Mode::Nightly,
                window_from: None,
                window_to,
                schema_fingerprint: FINGERPRINT.into(),
                replay_of: None,
                keys: None,
            }])
            .await
            .expect("batch created");
        let files = staged.parts.iter().map(|p| p.path.clone()).collect();
        let rows = staged.rows();
        manifest
            .commit(vec![Action::BatchStaged {
                batch_id: batch_id.clone(),
                rows,
                deleted_rows: 0,
                bytes: staged.bytes(),
                files: staged.parts,
                raw_pages: vec![],
                quarantine: vec![],
                staged_up_to: Some(window_to),
                deletes_up_to: None,
            }])
            .await
            .expect("batch staged");
        Staged {
            batch_id,
            files,
            rows,
        }
    }

    /// Loads every pending batch (just `batch`) through the loader.
    async fn load(&self, batch: &Staged) -> (BatchLoadReport, Stats) {
        let pending = {
            let m = self.manifest.lock().await;
            loader::pending_batches(m.state(), None)
        };
        assert_eq!(
            pending.get(OBJECT).map(Vec::as_slice),
            Some(std::slice::from_ref(&batch.batch_id)),
            "only this batch is pending"
        );
        let before = self.emulator.stats().await;
        let mut reports = loader::load_batches(&self.ctx, pending).await;
        let after = self.emulator.stats().await;
        assert_eq!(reports.len(), 1);
        let report = reports.remove(0);
        assert!(
            report.error.is_none(),
            "load failed: {:?}\n{}",
            report.error,
            self.emulator.log_tail()
        );
        (report, after.minus(&before))
    }

    async fn execute(&self, sql: &str) -> intacct_snowflake::snowflake::StatementOutcome {
        self.client
            .execute(&Statement::new(sql, "load-bench"))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The hand-written loader on the same files: COPY (the loader's own text, aimed at the
    /// baseline staging table), INSERT … SELECT, DELETE. Returns seconds and the emulator's
    /// counts.
    async fn baseline(&self, batch: &Staged) -> (Baseline, Stats) {
        let staging = self
            .names
            .table(BASELINE_OBJECT, TableRole::Staging)
            .expect("name")
            .to_string();
        let target = self
            .names
            .table(BASELINE_OBJECT, TableRole::Target)
            .expect("name")
            .to_string();
        let loader_staging = self
            .names
            .table(OBJECT, TableRole::Staging)
            .expect("name")
            .to_string();
        let copies =
            loader::copy_into(&self.names, OBJECT, &batch.files, false).expect("COPY renders");
        assert_eq!(copies.len(), 1, "one COPY per batch at these sizes");
        let copy = copies[0].as_str().replacen(&loader_staging, &staging, 1);
        assert_ne!(
            copy,
            copies[0].as_str(),
            "the COPY names the baseline table"
        );
        let id = &batch.batch_id; // a UUID: nothing to escape
        let insert =
            format!("INSERT INTO {target} SELECT * FROM {staging} WHERE \"_BATCH_ID\" = '{id}'");
        let delete = format!("DELETE FROM {staging} WHERE \"_BATCH_ID\" = '{id}'");

        let before = self.emulator.stats().await;
        let started = Instant::now();
        let copied = self.execute(&copy).await;
        let copy_secs = started.elapsed().as_secs_f64();
        let inserted = self.execute(&insert).await;
        let insert_secs = started.elapsed().as_secs_f64() - copy_secs;
        let deleted = self.execute(&delete).await;
        let seconds = started.elapsed().as_secs_f64();
        let after = self.emulator.stats().await;

        let loaded: u64 = (0..copied.rows.len())
            .filter_map(|row| copied.value(row, "rows_loaded"))
            .filter_map(|v| v.parse::<u64>().ok())
            .sum();
        assert_eq!(loaded, batch.rows, "baseline COPY loaded the batch");
        assert_eq!(
            inserted.dml_counts().inserted,
            batch.rows,
            "baseline INSERT"
        );
        assert_eq!(deleted.dml_counts().deleted, batch.rows, "baseline DELETE");
        let timing = Baseline {
            seconds,
            copy_secs,
            insert_secs,
            delete_secs: seconds - copy_secs - insert_secs,
        };
        (timing, after.minus(&before))
    }

    async fn count(&self, table: &str) -> u64 {
        let outcome = self
            .execute(&format!("SELECT COUNT(*) AS N FROM {table}"))
            .await;
        outcome.rows[0][0]
            .as_deref()
            .and_then(|v| v.parse().ok())
            .expect("a count")
    }
}

fn client(base_url: &str, key: PathBuf) -> SnowflakeClient {
    SnowflakeClient::new(SnowflakeConfig {
        base_url: url::Url::parse(base_url).expect("emulator URL"),
        account: ACCOUNT.into(),
        user: USER.into(),
        auth: SnowflakeAuth::KeyPair {
            private_key_path: key,
            passphrase: None,
        },
        database: "INTACCT".into(),
        schema: "RAW".into(),
        warehouse: Some("LOAD_WH".into()),
        role: None,
        // A 1M-row MERGE in the emulator takes a while; a timeout must not cut the measurement.
        statement_timeout_secs: 3_600,
        request_timeout_secs: 120,
        retry: RetryPolicy {
            max_attempts: 8,
            initial_backoff_ms: 20,
            max_backoff_ms: 200,
            max_elapsed_secs: 600,
        },
        poll_max_backoff_ms: 100,
    })
    .expect("client")
}

fn stats_text(s: &Stats) -> String {
    format!(
        "copy {} merge {} other {} (submissions {}, polls {})",
        s.executed("copy"),
        s.executed("merge"),
        s.executed("other"),
        s.submissions,
        s.polls
    )
}

fn pass_name(revision: i64) -> &'static str {
    if revision == 1 { "insert" } else { "update" }
}

fn best(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, f64::min)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

async fn run(sizes: &[usize], rounds: usize) {
    let key_dir = tempfile::tempdir().expect("key dir");
    let (private_key, public_key) = generate_keys(key_dir.path());
    let started = Instant::now();
    let emulator = Emulator::start(&public_key);
    let start_secs = started.elapsed().as_secs_f64();
    let stage_dir = tempfile::tempdir().expect("stage dir");
    let stage = Stage::open(stage_dir.path().to_str().expect("utf-8 path")).expect("stage");
    let manifest = Arc::new(Mutex::new(
        Manifest::open(stage.clone(), "bench")
            .await
            .expect("manifest"),
    ));
    let client = client(&emulator.base_url, private_key);
    let names = Names::new("INTACCT", "RAW", "INTACCT_STAGE", "INTACCT_PARQUET").expect("names");
    let ctx = LoadContext {
        client: client.clone(),
        manifest: manifest.clone(),
        names: names.clone(),
        pipeline: "bench".into(),
        concurrency: 2,
        delete_key: |_| None,
        observer: None,
        frozen: Default::default(),
    };
    // Database, schema, file format and stage; no table yet (the warm-up batch makes them).
    loader::init(
        &ctx,
        &ExternalStage {
            url: format!("file://{}/", stage_dir.path().display()),
            storage_integration: None,
            create_database: true,
        },
        &[],
    )
    .await
    .expect("init");
    let mut bench = Bench {
        emulator,
        stage,
        manifest,
        client,
        ctx,
        names,
        schema: bill_schema(),
        batches: 0,
    };
    let mut baseline_schema =
        BatchSchema::from_arrow(OBJECT, FINGERPRINT, &bench.schema).expect("schema maps");
    baseline_schema.object = BASELINE_OBJECT.into();
    for role in [TableRole::Staging, TableRole::Target] {
        let sql = loader::create_table(&bench.names, &baseline_schema, role).expect("DDL");
        bench.execute(sql.as_str()).await;
    }

    println!(
        "load throughput: {OBJECT}-shaped batches (26 columns) through the loader into the emulator"
    );
    println!("  emulator started in {start_secs:.1} s");

    let warm = bench.stage_batch(0..WARM_UP_ROWS as i64, 1).await;
    let (report, delta) = bench.load(&warm).await;
    println!(
        "  warm-up: {} rows, {} statements (2 of them CREATE TABLE), {:.2} s; emulator {}",
        report.rows,
        report.statements,
        report.seconds,
        stats_text(&delta)
    );
    assert_eq!(
        report.statements, 6,
        "CREATE ×2, COPY, the staging count, MERGE, DELETE"
    );

    println!(
        "  {:>5} {:>9} {:>6} {:>5} {:>5} {:>8} {:>8} {:>10} {:>8} {:>6} {:>20}  emulator counts during the load",
        "round",
        "rows",
        "pass",
        "files",
        "stmts",
        "load s",
        "rows/s",
        "baseline s",
        "rows/s",
        "ratio",
        "copy/insert/delete s"
    );
    let totals_before = bench.emulator.stats().await;
    let mut next_key = WARM_UP_ROWS as i64;
    let mut in_target = WARM_UP_ROWS as u64;
    let mut in_baseline = 0u64;
    // (size, pass) -> (loader seconds, baseline seconds) of every round.
    let mut measured: BTreeMap<(usize, i64), Vec<(f64, f64)>> = BTreeMap::new();
    for round in 1..=rounds {
        for &size in sizes {
            let keys = next_key..next_key + size as i64;
            next_key = keys.end;
            for revision in [1, 2] {
                let batch = bench.stage_batch(keys.clone(), revision).await;
                // Every other round the baseline goes first, so neither side always runs on a
                // freshly grown (or freshly freed) emulator.
                let baseline_first = round % 2 == 0;
                let early = if baseline_first {
                    Some(bench.baseline(&batch).await)
                } else {
                    None
                };
                let (report, delta) = bench.load(&batch).await;
                let (base, base_delta) = match early {
                    Some(done) => done,
                    None => bench.baseline(&batch).await,
                };
                assert_eq!(report.rows, size as u64);
                assert_eq!(report.copy_rows, size as u64, "COPY loaded every row");
                assert_eq!(
                    report.statements, 4,
                    "COPY, the staging count, MERGE, DELETE once the tables exist"
                );
                if revision == 1 {
                    assert_eq!(
                        (report.merge_inserted, report.merge_updated),
                        (size as u64, 0)
                    );
                    in_target += size as u64;
                } else {
                    assert_eq!(
                        (report.merge_inserted, report.merge_updated),
                        (0, size as u64)
                    );
                }
                // The loader's statements (the staging count among the others) plus its one
                // catalog read per load call; nothing else.
                assert_eq!(
                    (
                        delta.executed("copy"),
                        delta.executed("merge"),
                        delta.executed("other")
                    ),
                    (1, 1, 3),
                    "emulator ran {delta:?}"
                );
                assert_eq!(delta.submissions, 5, "emulator saw {delta:?}");
                assert_eq!(
                    (
                        base_delta.executed("copy"),
                        base_delta.executed("merge"),
                        base_delta.executed("other")
                    ),
                    (1, 0, 2),
                    "baseline ran {base_delta:?}"
                );
                in_baseline += size as u64;
                println!(
                    "  {:>5} {:>9} {:>6} {:>5} {:>5} {:>8.2} {:>8.0} {:>10.2} {:>8.0} {:>6.2} {:>20}  {}",
                    round,
                    size,
                    pass_name(revision),
                    batch.files.len(),
                    report.statements,
                    report.seconds,
                    size as f64 / report.seconds,
                    base.seconds,
                    size as f64 / base.seconds,
                    report.seconds / base.seconds,
                    format!(
                        "{:.2}/{:.2}/{:.2}",
                        base.copy_secs, base.insert_secs, base.delete_secs
                    ),
                    stats_text(&delta)
                );
                measured
                    .entry((size, revision))
                    .or_default()
                    .push((report.seconds, base.seconds));
            }
        }
    }
    // Other work on a shared machine only ever adds time, so the best round is the figure;
    // the median shows how much the rounds spread.
    println!("  best of {rounds} round(s) (median in brackets):");
    println!(
        "  {:>9} {:>6} {:>16} {:>8} {:>16} {:>8} {:>13}",
        "rows", "pass", "load s", "rows/s", "baseline s", "rows/s", "ratio"
    );
    for ((size, revision), runs) in &measured {
        let load: Vec<f64> = runs.iter().map(|r| r.0).collect();
        let base: Vec<f64> = runs.iter().map(|r| r.1).collect();
        let (load_best, base_best) = (best(&load), best(&base));
        let (load_median, base_median) = (median(load), median(base));
        println!(
            "  {:>9} {:>6} {:>16} {:>8.0} {:>16} {:>8.0} {:>13}",
            size,
            pass_name(*revision),
            format!("{load_best:.2} ({load_median:.2})"),
            *size as f64 / load_best,
            format!("{base_best:.2} ({base_median:.2})"),
            *size as f64 / base_best,
            format!(
                "{:.2} ({:.2})",
                load_best / base_best,
                load_median / base_median
            ),
        );
    }
    let totals_after = bench.emulator.stats().await;
    let measured = 2 * sizes.len() as u64 * rounds as u64;
    println!(
        "  emulator totals before the measured batches: {}",
        stats_text(&totals_before)
    );
    println!(
        "  emulator totals after:                       {}",
        stats_text(&totals_after)
    );
    // Per measured batch: the loader's 4 statements (COPY, the staging count, MERGE, DELETE) and
    // its catalog read, then the baseline's 3.
    let ran = totals_after.minus(&totals_before);
    assert_eq!(
        (
            ran.executed("copy"),
            ran.executed("merge"),
            ran.executed("other")
        ),
        (2 * measured, measured, 5 * measured),
        "the emulator ran only the loader's and the baseline's statements: {ran:?}"
    );
    let target = bench.names.table(OBJECT, TableRole::Target).expect("name");
    let staging = bench.names.table(OBJECT, TableRole::Staging).expect("name");
    let baseline_target = bench
        .names
        .table(BASELINE_OBJECT, TableRole::Target)
        .expect("name");
    assert_eq!(
        bench.count(target.as_str()).await,
        in_target,
        "one row per key"
    );
    assert_eq!(bench.count(staging.as_str()).await, 0, "staging emptied");
    assert_eq!(
        bench.count(baseline_target.as_str()).await,
        in_baseline,
        "the baseline appends every batch"
    );
    println!(
        "  ratio = loader seconds / baseline seconds (COPY + INSERT … SELECT + DELETE on the same files)"
    );
    println!(
        "  emulator counts per load: the loader's COPY, MERGE and DELETE plus one INFORMATION_SCHEMA catalog read per load_batches call"
    );
    println!("  total {:.1} s", started.elapsed().as_secs_f64());
}
