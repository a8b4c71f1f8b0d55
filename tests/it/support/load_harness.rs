//! A stage on a temp directory, the Snowflake emulator on loopback (key-pair JWT, a warehouse
//! required), and batches staged by hand with exactly the rows a test wants: what the loader
//! tests drive.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Decimal128Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use chrono::{DateTime, Utc};
use intacct_snowflake::loader::{self, BatchLoadReport, ExternalStage, LoadContext, Names};
use intacct_snowflake::manifest::schemas::{self, BatchSchema};
use intacct_snowflake::manifest::{Action, Manifest, Mode};
use intacct_snowflake::retry::RetryPolicy;
use intacct_snowflake::snowflake::SnowflakeAuth;
use intacct_snowflake::snowflake::{SnowflakeClient, SnowflakeConfig, Statement};
use intacct_snowflake::stage::Stage;
use intacct_snowflake::stage::{PartWriter, StageOptions};
use tokio::sync::Mutex;

use crate::support::emulator::{Emulator, EmulatorOptions};
use crate::support::keys::TestKeys;

pub(crate) const ACCOUNT: &str = "DEMO";
pub(crate) const USER: &str = "LOADER";
/// The custom field whose name tries to break out of its identifier.
pub(crate) const HOSTILE: &str = "x\"; DROP TABLE y; --";

/// One VENDOR-shaped row (amounts in 1e-10 units, times in Unix seconds).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Row {
    pub(crate) record_no: Option<i64>,
    pub(crate) vendor_id: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) total_due: Option<i128>,
    pub(crate) created: Option<i64>,
    pub(crate) modified: Option<i64>,
    pub(crate) hostile: Option<String>,
    pub(crate) deleted: bool,
}

impl Row {
    /// A live row.
    pub(crate) fn live(record_no: i64, name: &str, modified: i64) -> Row {
        Row {
            record_no: Some(record_no),
            vendor_id: Some(format!("V{record_no}")),
            name: Some(name.to_owned()),
            total_due: Some(i128::from(record_no) * 12_345_000_000),
            created: Some(1_600_000_000),
            modified: Some(modified),
            hostile: Some(format!("h'{record_no}\\")),
            deleted: false,
        }
    }

    /// A tombstone by RECORDNO.
    pub(crate) fn tombstone(record_no: i64, at: i64) -> Row {
        Row {
            record_no: Some(record_no),
            modified: Some(at),
            deleted: true,
            ..Row::default()
        }
    }
}

/// What the target table holds for a key, as the test expects it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Expected {
    pub(crate) name: Option<String>,
    pub(crate) total_due: Option<i128>,
    pub(crate) modified: Option<i64>,
    pub(crate) hostile: Option<String>,
    pub(crate) deleted: bool,
}

impl From<&Row> for Expected {
    fn from(row: &Row) -> Self {
        Expected {
            name: row.name.clone(),
            total_due: row.total_due,
            modified: row.modified,
            hostile: row.hostile.clone(),
            deleted: row.deleted,
        }
    }
}

fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn vendor_schema(extra: bool) -> Arc<Schema> {
    let mut fields = vec![
        Field::new("RECORDNO", DataType::Int64, true),
        Field::new("VENDORID", DataType::Utf8, true),
        Field::new("NAME", DataType::Utf8, true),
        Field::new("TOTALDUE", DataType::Decimal128(38, 10), true),
        Field::new("WHENCREATED", timestamp_type(), true),
        Field::new("WHENMODIFIED", timestamp_type(), true),
        Field::new(HOSTILE, DataType::Utf8, true),
    ];
    if extra {
        fields.push(Field::new("REBATE_TIER", DataType::Utf8, true));
    }
    fields.extend([
        Field::new("_BATCH_ID", DataType::Utf8, false),
        Field::new("_EXTRACTED_AT", timestamp_type(), false),
        Field::new("_DELETED", DataType::Boolean, false),
    ]);
    Arc::new(Schema::new(fields))
}

fn micros(secs: Option<i64>) -> Option<i64> {
    secs.map(|s| s * 1_000_000)
}

/// The harness: emulator, stage, manifest, loader context.
pub(crate) struct Harness {
    pub(crate) keys: TestKeys,
    pub(crate) emulator: Emulator,
    pub(crate) stage_dir: tempfile::TempDir,
    pub(crate) stage: Stage,
    pub(crate) manifest: Arc<Mutex<Manifest>>,
    pub(crate) client: SnowflakeClient,
    pub(crate) ctx: LoadContext,
}

impl Harness {
    /// A pipeline file `name` in `dir` for the binary: this harness's stage and emulator, an
    /// unreachable Intacct (loads need none), and `stage_settings` (TOML lines) in `[stage]`.
    pub(crate) fn pipeline_file(
        &self,
        dir: &std::path::Path,
        name: &str,
        stage_settings: &str,
    ) -> PathBuf {
        let path = dir.join("pipeline.toml");
        let text = format!(
            r#"name = "{name}"
[intacct]
endpoint = "http://127.0.0.1:9/ia/xml/xmlgw.phtml"
sender_id = "s"
sender_password = "${{UNSET_SENDER_PASSWORD:-x}}"
company_id = "c"
user_id = "u"
user_password = "${{UNSET_USER_PASSWORD:-x}}"

[stage]
url = "{stage}"
{stage_settings}
[snowflake]
url = "{url}"
account = "{ACCOUNT}"
user = "{USER}"
private_key_path = "{key}"
warehouse = "LOAD_WH"
database = "INTACCT"
schema = "RAW"
create_database = true
"#,
            stage = self.stage_dir.path().display(),
            url = self.emulator.base_url,
            key = self.keys.pkcs8.display(),
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Starts the emulator (optionally with faults from the start) and runs `init`.
    pub(crate) async fn start(delete_key: fn(&str) -> Option<&'static str>) -> Harness {
        let keys = TestKeys::generate();
        let mut options = EmulatorOptions::key_pair(&keys.public, ACCOUNT, USER);
        options.require_warehouse = true;
        let emulator = Emulator::start(&options);
        let stage_dir = tempfile::tempdir().unwrap();
        let stage = Stage::open(stage_dir.path().to_str().unwrap()).unwrap();
        let manifest = Arc::new(Mutex::new(
            Manifest::open(stage.clone(), "test").await.unwrap(),
        ));
        let client = client(&emulator, keys.pkcs8.clone());
        let names = Names::new("INTACCT", "RAW", "INTACCT_STAGE", "INTACCT_PARQUET").unwrap();
        let ctx = LoadContext {
            client: client.clone(),
            manifest: manifest.clone(),
            names,
            pipeline: "test".into(),
            concurrency: 2,
            delete_key,
            observer: None,
            frozen: Default::default(),
        };
        let harness = Harness {
            keys,
            emulator,
            stage_dir,
            stage,
            manifest,
            client,
            ctx,
        };
        harness.init().await;
        harness
    }

    /// The stage URL Snowflake reads (`file:///…/`).
    pub(crate) fn stage_url(&self) -> String {
        format!("file://{}/", self.stage_dir.path().display())
    }

    /// `init`: database, schema, format, stage, tables from the stage's schemas, views.
    pub(crate) async fn init(&self) -> Vec<String> {
        self.try_init().await.unwrap()
    }

    /// `init`, its error kept.
    pub(crate) async fn try_init(&self) -> intacct_snowflake::Result<Vec<String>> {
        let schemas = {
            let m = self.manifest.lock().await;
            loader::known_schemas(&self.stage, m.state(), None)
                .await
                .unwrap()
        };
        loader::init(
            &self.ctx,
            &ExternalStage {
                url: self.stage_url(),
                storage_integration: None,
                create_database: true,
            },
            &schemas,
        )
        .await
        .map(|outcome| outcome.sent)
    }

    /// Stages one VENDOR batch with `rows`, as `extract` would leave it.
    pub(crate) async fn stage_batch(
        &self,
        mode: Mode,
        window_to: i64,
        extracted_at: i64,
        rows: &[Row],
    ) -> String {
        self.stage_batch_with(mode, window_to, extracted_at, rows, false)
            .await
    }

    /// As [`Harness::stage_batch`]; `extra` adds a column older batches lack.
    pub(crate) async fn stage_batch_with(
        &self,
        mode: Mode,
        window_to: i64,
        extracted_at: i64,
        rows: &[Row],
        extra: bool,
    ) -> String {
        self.stage_batch_in(mode, window_to, extracted_at, rows, extra, None)
            .await
    }

    /// As [`Harness::stage_batch_with`], read from one entity (`intacct.entities`) when
    /// `entity` names one.
    pub(crate) async fn stage_batch_in(
        &self,
        mode: Mode,
        window_to: i64,
        extracted_at: i64,
        rows: &[Row],
        extra: bool,
        entity: Option<&str>,
    ) -> String {
        let batch_id = uuid::Uuid::new_v4().to_string();
        let schema = vendor_schema(extra);
        let fingerprint = if extra { "test-v2" } else { "test-v1" };
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(
                rows.iter().map(|r| r.record_no).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.vendor_id.clone()).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
            )),
            Arc::new(
                Decimal128Array::from(rows.iter().map(|r| r.total_due).collect::<Vec<_>>())
                    .with_precision_and_scale(38, 10)
                    .unwrap(),
            ),
            Arc::new(
                TimestampMicrosecondArray::from(
                    rows.iter().map(|r| micros(r.created)).collect::<Vec<_>>(),
                )
                .with_timezone("UTC"),
            ),
            Arc::new(
                TimestampMicrosecondArray::from(
                    rows.iter().map(|r| micros(r.modified)).collect::<Vec<_>>(),
                )
                .with_timezone("UTC"),
            ),
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.hostile.clone()).collect::<Vec<_>>(),
            )),
        ];
        if extra {
            columns.push(Arc::new(StringArray::from(
                rows.iter()
                    .map(|r| r.record_no.map(|n| format!("tier-{n}")))
                    .collect::<Vec<_>>(),
            )));
        }
        columns.extend([
            Arc::new(StringArray::from(vec![batch_id.clone(); rows.len()])) as ArrayRef,
            Arc::new(
                TimestampMicrosecondArray::from(vec![extracted_at * 1_000_000; rows.len()])
                    .with_timezone("UTC"),
            ),
            Arc::new(BooleanArray::from(
                rows.iter().map(|r| r.deleted).collect::<Vec<_>>(),
            )),
        ]);
        let record_batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
        let persisted = BatchSchema::from_arrow("VENDOR", fingerprint, &schema).unwrap();
        schemas::persist(&self.stage, &persisted).await.unwrap();
        let mut writer = PartWriter::new(
            self.stage.clone(),
            "VENDOR",
            &batch_id,
            schema,
            StageOptions::default(),
        );
        writer.write(&record_batch).await.unwrap();
        let staged = writer.finish().await.unwrap();
        let window_to = DateTime::from_timestamp(window_to, 0).unwrap();
        let mut manifest = self.manifest.lock().await;
        let mut created = vec![Action::BatchCreated {
            batch_id: batch_id.clone(),
            object: "VENDOR".into(),
            mode,
            window_from: None,
            window_to,
            schema_fingerprint: fingerprint.into(),
            replay_of: None,
            keys: None,
        }];
        if let Some(entity) = entity {
            created.push(Action::BatchEntity {
                batch_id: batch_id.clone(),
                entity: entity.into(),
            });
        }
        manifest.commit(created).await.unwrap();
        manifest
            .commit(vec![Action::BatchStaged {
                batch_id: batch_id.clone(),
                rows: staged.rows(),
                deleted_rows: rows.iter().filter(|r| r.deleted).count() as u64,
                bytes: staged.bytes(),
                files: staged.parts,
                raw_pages: vec![],
                quarantine: vec![],
                staged_up_to: (mode == Mode::Nightly).then_some(window_to),
                deletes_up_to: None,
            }])
            .await
            .unwrap();
        batch_id
    }

    /// A replay batch of `source` (same files), as `replay` creates it.
    pub(crate) async fn stage_replay(&self, source: &str) -> String {
        let mut manifest = self.manifest.lock().await;
        let original = manifest.state().batches[source].clone();
        let batch_id = uuid::Uuid::new_v4().to_string();
        manifest
            .commit(vec![
                Action::BatchCreated {
                    batch_id: batch_id.clone(),
                    object: original.object.clone(),
                    mode: Mode::Replay,
                    window_from: original.window_from,
                    window_to: original.window_to,
                    schema_fingerprint: original.schema_fingerprint.clone(),
                    replay_of: Some(source.to_owned()),
                    keys: None,
                },
                Action::BatchStaged {
                    batch_id: batch_id.clone(),
                    rows: original.rows,
                    deleted_rows: original.deleted_rows,
                    bytes: original.bytes,
                    files: original.files.clone(),
                    raw_pages: vec![],
                    quarantine: vec![],
                    staged_up_to: None,
                    deletes_up_to: None,
                },
            ])
            .await
            .unwrap();
        batch_id
    }

    /// Loads every pending batch.
    pub(crate) async fn load(&self) -> Vec<BatchLoadReport> {
        let pending = {
            let m = self.manifest.lock().await;
            loader::pending_batches(m.state(), None)
        };
        loader::load_batches(&self.ctx, pending).await
    }

    /// Runs a query and returns its rows as wire strings.
    pub(crate) async fn query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        self.client
            .execute(&Statement::new(sql, "test"))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .rows
    }

    /// The VENDOR target table by RECORDNO, decoded independently of the loader.
    pub(crate) async fn target(&self) -> BTreeMap<i64, Expected> {
        let rows = self
            .query(&format!(
                "SELECT \"RECORDNO\", \"NAME\", \"TOTALDUE\", \"WHENMODIFIED\", \"{}\", \"_DELETED\" FROM \"INTACCT\".\"RAW\".\"VENDOR\" ORDER BY \"RECORDNO\"",
                HOSTILE.to_uppercase().replace('"', "\"\"")
            ))
            .await;
        let mut out = BTreeMap::new();
        for row in rows {
            let key: i64 = row[0].as_deref().unwrap().parse().unwrap();
            let previous = out.insert(
                key,
                Expected {
                    name: row[1].clone(),
                    total_due: row[2].as_deref().map(decimal_units),
                    modified: row[3].as_deref().map(timestamp_secs),
                    hostile: row[4].clone(),
                    deleted: row[5].as_deref() == Some("true"),
                },
            );
            assert!(previous.is_none(), "RECORDNO {key} is in the target twice");
        }
        out
    }

    /// Rows left in the staging table.
    pub(crate) async fn staging_rows(&self) -> u64 {
        let rows = self
            .query("SELECT COUNT(*) AS N FROM \"INTACCT\".\"RAW\".\"VENDOR_STG\"")
            .await;
        rows[0][0].as_deref().unwrap().parse().unwrap()
    }
}

/// A SQL API client for the emulator with fast retries and polls.
pub(crate) fn client(emulator: &Emulator, key: PathBuf) -> SnowflakeClient {
    SnowflakeClient::new(client_config(emulator, key)).unwrap()
}

/// The configuration of [`client`].
pub(crate) fn client_config(emulator: &Emulator, key: PathBuf) -> SnowflakeConfig {
    SnowflakeConfig {
        base_url: emulator.url(),
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
        statement_timeout_secs: 120,
        request_timeout_secs: 30,
        retry: RetryPolicy {
            max_attempts: 8,
            initial_backoff_ms: 20,
            max_backoff_ms: 200,
            max_elapsed_secs: 120,
        },
        poll_max_backoff_ms: 100,
    }
}

/// A NUMBER(38,10) on the wire (`"123.4500000000"`, `"-1"`) in 1e-10 units.
pub(crate) fn decimal_units(text: &str) -> i128 {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    assert!(
        fraction.len() <= 10,
        "{text} has more than 10 fraction digits"
    );
    let padded = format!("{fraction:0<10}");
    let value = whole.parse::<i128>().unwrap() * 10_000_000_000 + padded.parse::<i128>().unwrap();
    if negative { -value } else { value }
}

/// A TIMESTAMP_TZ on the wire (`"1700000000.000000000 1440"`) as Unix seconds (UTC).
pub(crate) fn timestamp_secs(text: &str) -> i64 {
    let seconds = text.split(' ').next().unwrap();
    let (whole, fraction) = seconds.split_once('.').unwrap_or((seconds, "0"));
    assert!(
        fraction.chars().all(|c| c == '0'),
        "{text} has a fraction of a second"
    );
    whole.parse().unwrap()
}

/// `at` seconds as a UTC instant.
pub(crate) fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap()
}

/// The instant most loader tests stage around.
pub(crate) const T0: i64 = 1_700_000_000;

/// What the target table must hold for `rows`, by key.
pub(crate) fn expected(rows: &[Row]) -> BTreeMap<i64, Expected> {
    rows.iter()
        .map(|r| (r.record_no.unwrap(), Expected::from(r)))
        .collect()
}

/// No object has a delete key of its own: tombstones match by RECORDNO.
pub(crate) fn no_delete_key(_: &str) -> Option<&'static str> {
    None
}
