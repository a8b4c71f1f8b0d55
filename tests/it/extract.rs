//! `extract` against the simulator: the staged rows are the simulator's ground truth by key and
//! typed value (decimals, dates, timestamps, booleans converted here from the simulator's text),
//! a second extract after a simulated day stages only the changes plus the lookback, and
//! SIGKILL at any point leaves a manifest that folds with every staged file present.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use arrow::array::{
    Array, BooleanArray, Date32Array, Decimal128Array, Int64Array, StringArray,
    TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, TimeUnit};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use intacct_sim::{self as sim, SimConfig};
use intacct_snowflake::manifest::{BatchStatus, Manifest};
use intacct_snowflake::stage::Stage;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use sha2::{Digest, Sha256};

use crate::support::demo_pipeline::{
    PIPELINE, assert_all_ok, extract_reports, sim_clock, spec_for,
};
use crate::support::wall_clock::WallClock;
use crate::support::{binary, repo_root};

/// One staged value, typed as the Parquet column holds it.
#[derive(Debug, Clone, PartialEq)]
enum Staged {
    Text(String),
    Int(i64),
    /// Unscaled Decimal128 and its scale.
    Decimal(i128, i8),
    /// Days since 1970-01-01.
    Date(i32),
    /// Microseconds since the epoch, UTC.
    Micros(i64),
    Bool(bool),
}

/// RECORDNO → typed columns (nulls left out) of every row of a staged batch but its
/// tombstones, read back from its parts.
async fn staged_rows(stage: &Stage, files: &[String]) -> BTreeMap<i64, BTreeMap<String, Staged>> {
    let mut rows = BTreeMap::new();
    for path in files {
        let body = stage.get(path).await.unwrap().expect("staged part exists");
        for batch in ParquetRecordBatchReaderBuilder::try_new(body)
            .unwrap()
            .build()
            .unwrap()
        {
            let batch = batch.unwrap();
            let keys = batch.column_by_name("RECORDNO").unwrap();
            let keys = keys.as_any().downcast_ref::<Int64Array>().unwrap();
            let deleted = batch.column_by_name("_DELETED").unwrap();
            let deleted = deleted.as_any().downcast_ref::<BooleanArray>().unwrap();
            for row in 0..batch.num_rows() {
                // Tombstones of the delete feed are checked in `deletes.rs`.
                if deleted.value(row) {
                    continue;
                }
                let mut values = BTreeMap::new();
                for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
                    if field.name().starts_with('_') || column.is_null(row) {
                        continue;
                    }
                    let any = column.as_any();
                    let value = match field.data_type() {
                        DataType::Utf8 => Staged::Text(
                            any.downcast_ref::<StringArray>()
                                .unwrap()
                                .value(row)
                                .to_owned(),
                        ),
                        DataType::Int64 => {
                            Staged::Int(any.downcast_ref::<Int64Array>().unwrap().value(row))
                        }
                        DataType::Decimal128(_, scale) => Staged::Decimal(
                            any.downcast_ref::<Decimal128Array>().unwrap().value(row),
                            *scale,
                        ),
                        DataType::Date32 => {
                            Staged::Date(any.downcast_ref::<Date32Array>().unwrap().value(row))
                        }
                        DataType::Timestamp(TimeUnit::Microsecond, Some(tz)) if &**tz == "UTC" => {
                            Staged::Micros(
                                any.downcast_ref::<TimestampMicrosecondArray>()
                                    .unwrap()
                                    .value(row),
                            )
                        }
                        DataType::Boolean => {
                            Staged::Bool(any.downcast_ref::<BooleanArray>().unwrap().value(row))
                        }
                        other => panic!("{}: unexpected column type {other}", field.name()),
                    };
                    values.insert(field.name().clone(), value);
                }
                assert!(
                    rows.insert(keys.value(row), values).is_none(),
                    "key staged twice"
                );
            }
        }
    }
    rows
}

/// What the simulator's text must stage as, converted here without the crate's value parser:
/// `like` says which type the staged column has (and a decimal's scale); `timestamps` holds
/// the instant of every timestamp text.
fn expected(text: &str, like: &Staged, timestamps: &WallClock) -> Staged {
    match like {
        Staged::Text(_) => Staged::Text(text.to_owned()),
        Staged::Int(_) => Staged::Int(
            text.strip_suffix(".0")
                .unwrap_or(text)
                .parse()
                .unwrap_or_else(|e| panic!("integer {text:?}: {e}")),
        ),
        Staged::Decimal(_, scale) => {
            let (negative, digits) = match text.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, text),
            };
            let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
            assert!(fraction.len() <= *scale as usize, "decimal {text:?}");
            let padded = format!("{whole}{fraction:0<width$}", width = *scale as usize);
            let unscaled: i128 = padded
                .parse()
                .unwrap_or_else(|e| panic!("decimal {text:?}: {e}"));
            Staged::Decimal(if negative { -unscaled } else { unscaled }, *scale)
        }
        Staged::Date(_) => {
            let date = NaiveDate::parse_from_str(text, "%m/%d/%Y")
                .unwrap_or_else(|e| panic!("date {text:?}: {e}"));
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
            Staged::Date((date - epoch).num_days() as i32)
        }
        // The tenant's wall clock, read independently (a repeated DST hour is the earlier
        // instant: see `support::wall_clock`).
        Staged::Micros(_) => Staged::Micros(timestamps.instant(text).timestamp_micros()),
        Staged::Bool(_) => Staged::Bool(match text {
            "true" => true,
            "false" => false,
            other => panic!("boolean {other:?}"),
        }),
    }
}

/// The type name of a staged value, to count what the comparison covered.
fn kind(value: &Staged) -> &'static str {
    match value {
        Staged::Text(_) => "text",
        Staged::Int(_) => "integer",
        Staged::Decimal(..) => "decimal",
        Staged::Date(_) => "date",
        Staged::Micros(_) => "timestamp",
        Staged::Bool(_) => "boolean",
    }
}

type Record = serde_json::Map<String, serde_json::Value>;

fn truth_key(record: &Record) -> i64 {
    record["RECORDNO"].as_str().unwrap().parse().unwrap()
}

/// The simulator's text for a staged column.
fn truth_text<'a>(record: &'a Record, column: &str) -> Option<&'a str> {
    record
        .iter()
        .find(|(k, _)| intacct_snowflake::intacct::column_name(k) == column)
        .and_then(|(_, v)| v.as_str())
}

/// The instant a record last changed at, as tenant text: WHENMODIFIED, or WHENCREATED for a
/// record never modified.
fn change_stamp(record: &Record) -> Option<&str> {
    ["WHENMODIFIED", "WHENCREATED"]
        .iter()
        .find_map(|f| record.get(*f).and_then(|v| v.as_str()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extract_stages_ground_truth_then_only_changes() {
    let sim = sim::spawn(SimConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_for(&sim, dir.path());
    let tz = spec.intacct.time_zone;
    let first_now = sim_clock(&sim).await;
    assert_all_ok(&extract_reports(&spec, &[], first_now).await);
    let mut checked: BTreeMap<&str, usize> = BTreeMap::new();

    let stage = Stage::open(&spec.stage.url).unwrap();
    let state = Manifest::open(stage.clone(), "check")
        .await
        .unwrap()
        .state()
        .clone();
    for object in &spec.extract.objects {
        let batches: Vec<_> = state.batches_of(&object.name).collect();
        assert_eq!(batches.len(), 1, "{}", object.name);
        let batch = batches[0];
        assert_eq!(batch.status, BatchStatus::Staged);
        let files: Vec<String> = batch.files.iter().map(|f| f.path.clone()).collect();
        let staged = staged_rows(&stage, &files).await;
        let truth = sim.records(&object.name).await.unwrap();
        let truth_keys: BTreeSet<i64> = truth.iter().map(truth_key).collect();
        let staged_keys: BTreeSet<i64> = staged.keys().copied().collect();
        assert_eq!(staged_keys, truth_keys, "{}", object.name);
        assert_eq!(batch.rows - batch.deleted_rows, truth.len() as u64);
        // Every staged value equals the simulator's, typed: text byte-exact (ZIP codes,
        // hostile strings), integers, decimals to the last digit, dates, timestamps from the
        // tenant's wall clock, booleans. A null must be an empty or absent field.
        let timestamps = WallClock::of(
            tz.name(),
            truth.iter().flat_map(|record| {
                staged[&truth_key(record)]
                    .iter()
                    .filter(|(_, value)| matches!(value, Staged::Micros(_)))
                    .filter_map(|(column, _)| truth_text(record, column))
            }),
        );
        for record in &truth {
            let row = &staged[&truth_key(record)];
            for (column, value) in row {
                let Some(text) = truth_text(record, column) else {
                    panic!(
                        "{} {column}: staged {value:?}, not in the ground truth",
                        object.name
                    );
                };
                assert_eq!(
                    *value,
                    expected(text, value, &timestamps),
                    "{} {column} {text:?}",
                    object.name
                );
                *checked.entry(kind(value)).or_default() += 1;
            }
        }
        assert_eq!(state.objects[&object.name].staged_up_to, Some(first_now));
        assert_eq!(state.objects[&object.name].watermark, None);
    }
    for kind in ["text", "integer", "decimal", "date", "timestamp", "boolean"] {
        assert!(
            checked.get(kind).is_some_and(|n| *n > 0),
            "no {kind} compared: {checked:?}"
        );
    }

    sim.advance_days(1).await.unwrap();
    let second_now = sim_clock(&sim).await;
    assert!(second_now > first_now);
    assert_all_ok(&extract_reports(&spec, &[], second_now).await);
    let state = Manifest::open(stage.clone(), "check")
        .await
        .unwrap()
        .state()
        .clone();
    let from = first_now - Duration::seconds(spec.extract.lookback_secs as i64);
    let (mut first_rows, mut second_rows) = (0, 0);
    for object in &spec.extract.objects {
        let batches: Vec<_> = state.batches_of(&object.name).collect();
        assert_eq!(batches.len(), 2, "{}", object.name);
        let second = batches[1];
        assert_eq!(second.window_from, Some(from));
        let files: Vec<String> = second.files.iter().map(|f| f.path.clone()).collect();
        let staged: BTreeSet<i64> = staged_rows(&stage, &files).await.into_keys().collect();
        let records = sim.records(&object.name).await.unwrap();
        let stamps = WallClock::of(tz.name(), records.iter().filter_map(change_stamp));
        let changed: BTreeSet<i64> = records
            .iter()
            .filter(|r| {
                change_stamp(r).is_some_and(|s| {
                    let at = stamps.instant(s);
                    at >= from && at < second_now
                })
            })
            .map(truth_key)
            .collect();
        assert_eq!(staged, changed, "{}", object.name);
        first_rows += batches[0].rows;
        second_rows += second.rows - second.deleted_rows;
    }
    // A simulated day changes some records, far fewer than the whole dataset.
    assert!(
        second_rows > 0 && second_rows * 5 < first_rows,
        "{second_rows} of {first_rows}"
    );
    sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_never_leaves_a_staged_batch_with_missing_files() {
    let sim = sim::spawn(SimConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let now = sim_clock(&sim).await;
    let run = |stage_dir: &Path| {
        let mut command = std::process::Command::new(binary());
        command
            .current_dir(repo_root())
            .args(["extract", "--config", PIPELINE, "--no-progress"])
            .env("INTACCT_ENDPOINT", sim.endpoint_url())
            .env("STAGE_URL", stage_dir)
            .env("INTACCT_SNOWFLAKE_NOW", now.to_rfc3339())
            .env("INTACCT_SNOWFLAKE_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        command
    };
    // How long one whole first run takes here, so the kills spread across it.
    let started = std::time::Instant::now();
    let full = run(&dir.path().join("stage-full")).output().unwrap();
    assert!(
        full.status.success(),
        "{}",
        String::from_utf8_lossy(&full.stderr)
    );
    let full_run = started.elapsed();

    let mut seed: u64 = 0x5EED;
    for iteration in 0..10u32 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let fraction = (seed >> 33) as f64 / (1u64 << 31) as f64;
        // Spread over the run: iteration i lands in the i-th tenth, at a seeded offset.
        let delay = full_run.mul_f64((f64::from(iteration) + fraction) / 10.0);
        let stage_dir = dir.path().join(format!("stage-{iteration}"));
        let mut child = run(&stage_dir).spawn().unwrap();
        tokio::time::sleep(delay).await;
        // SIGKILL: no destructor, no flush, no lock release.
        child.kill().unwrap();
        let killed = child.wait().unwrap();
        check_stage(&stage_dir, iteration).await;
        if !killed.success() {
            // The dead run's newest lock generation names a process of this namespace that
            // is gone: the next run takes it over at once instead of watching a whole lease.
            let newest = std::fs::read_dir(stage_dir.join("_lock/demo"))
                .into_iter()
                .flatten()
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|name| name.len() == "00000000000000000001.json".len())
                .max();
            if let Some(newest) = newest {
                let holder: serde_json::Value = serde_json::from_slice(
                    &std::fs::read(stage_dir.join("_lock/demo").join(newest)).unwrap(),
                )
                .unwrap();
                assert_eq!(holder["pid"].as_u64(), Some(u64::from(child.id())));
            }
        }
        let again = run(&stage_dir).output().unwrap();
        assert!(
            again.status.success(),
            "{}",
            String::from_utf8_lossy(&again.stderr)
        );
        check_stage(&stage_dir, iteration).await;
    }

    // An unexpired lease of a release before lock generations blocks the next run, which
    // names its holder and exits with the locked code.
    let stage_dir = dir.path().join("stage-9");
    let live = serde_json::json!({
        "host": std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap().trim(),
        "pid": std::process::id(),
        "run_id": "live-run",
        "started_at": now,
        "expires_at": Utc::now() + Duration::hours(1),
    });
    std::fs::write(
        stage_dir.join("_lock/demo.json"),
        serde_json::to_vec(&live).unwrap(),
    )
    .unwrap();
    let blocked = run(&stage_dir).output().unwrap();
    assert_eq!(blocked.status.code(), Some(4));
    let message = String::from_utf8_lossy(&blocked.stderr);
    assert!(message.contains("locked by run live-run"), "{message}");
    std::fs::remove_file(stage_dir.join("_lock/demo.json")).unwrap();

    // `status --json` reports from the manifest alone.
    let stage_dir = dir.path().join("stage-9");
    let status = std::process::Command::new(binary())
        .current_dir(repo_root())
        .args(["status", "--config", PIPELINE, "--json"])
        .env("STAGE_URL", &stage_dir)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let reported: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let stage = Stage::open(stage_dir.to_str().unwrap()).unwrap();
    let state = Manifest::open(stage, "check")
        .await
        .unwrap()
        .state()
        .clone();
    let reported = reported.as_array().unwrap();
    assert_eq!(reported.len(), 12);
    for line in reported {
        let object = line["object"].as_str().unwrap();
        let staged_rows: u64 = state
            .batches_of(object)
            .filter(|b| b.status == BatchStatus::Staged)
            .map(|b| b.rows)
            .sum();
        assert_eq!(line["rows"].as_u64().unwrap(), staged_rows, "{object}");
        assert!(line["batches"]["staged"].as_u64().unwrap() >= 1, "{object}");
        let up_to: DateTime<Utc> = line["staged_up_to"].as_str().unwrap().parse().unwrap();
        assert_eq!(up_to, now);
        assert!(line["watermark"].is_null());
    }
    sim.shutdown().await.unwrap();
}

async fn check_stage(stage_dir: &Path, iteration: u32) {
    let stage = Stage::open(stage_dir.to_str().unwrap()).unwrap();
    let manifest = Manifest::open(stage.clone(), "check")
        .await
        .unwrap_or_else(|e| panic!("iteration {iteration}: manifest does not fold: {e}"));
    for batch in manifest.state().batches.values() {
        if batch.status != BatchStatus::Staged {
            continue;
        }
        for file in batch
            .files
            .iter()
            .chain(&batch.raw_pages)
            .chain(&batch.quarantine)
        {
            let body = stage
                .get(&file.path)
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("iteration {iteration}: {} missing", file.path));
            assert_eq!(body.len() as u64, file.bytes, "{}", file.path);
            assert_eq!(
                hex::encode(Sha256::digest(&body)),
                file.sha256,
                "{}",
                file.path
            );
        }
    }
}
