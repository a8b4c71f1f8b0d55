//! End-to-end XML → Parquet throughput and peak memory, beside two baselines measured in the
//! same run on the same pages.
//!
//! For each size (default 1M and 5M records; `STAGE_BENCH_SIZES=200000,1000000` to change)
//! the bench writes Intacct `query` response pages of 2,000 records with 25 fields (text with
//! entities and non-ASCII, ZIP codes, currency and decimal amounts, dates, timestamps,
//! booleans; about 880 bytes a record) to `target/stage-bench/<size>/page-NNNNNN.xml` once,
//! then runs three converters, each in a fresh child process (so peak RSS, VmHWM, is per run)
//! and each on one thread:
//! * `stage`: this crate's path, `parse_response` → `record_batch` → `PartWriter` (zstd
//!   Parquet parts on a local stage, current-thread runtime);
//! * `bare`: the physical-limit baseline, the least a Rust program must do: quick-xml events
//!   straight into Arrow builders by field position, no names matched, nothing validated,
//!   then the same Parquet writer settings (`bare_minimum` below);
//! * `python`: `scripts/pytools/xml_to_parquet.py`, lxml iterparse into column lists of
//!   strings and one `pyarrow.compute` conversion per column per row group. It runs at sizes up
//!   to `STAGE_BENCH_PYTHON_MAX` (default 1M records) only.
//!
//! All three write the same row groups (131,072 rows), parts (1M rows), zstd level and
//! dictionary settings. The order alternates from round to round (two rounds up to 1M
//! records, one above), so none always runs on a warmer or quieter machine; the best round of
//! each is reported, with records/s, MB/s of XML, peak RSS, and the ratios
//! stage/python (goal ≥ 4) and stage/bare (goal ≥ 0.8).
//!
//! Smoke mode (without `--bench`, as `cargo test --benches` runs it, or with `BENCH_SMOKE=1`):
//! one small size, and the three outputs are read back and must hold equal columns, typed, and
//! the same row groups.

#[allow(dead_code)] // not every benchmark uses every item
#[path = "mode.rs"]
mod mode;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{
    ArrayRef, BooleanArray, BooleanBuilder, Date32Builder, Decimal128Builder, Int64Builder,
    RecordBatch, StringArray, StringBuilder, TimestampMicrosecondArray,
    TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, SchemaRef};
use chrono::{Datelike, NaiveDate};
use intacct_snowflake::intacct::parse_response;
use intacct_snowflake::intacct::tenant_time;
use intacct_snowflake::intacct::{FieldMeta, IntacctType, ObjectMeta, RecordPage, ResultData};
use intacct_snowflake::schema::{BatchContext, arrow_schema, record_batch};
use intacct_snowflake::stage::Stage;
use intacct_snowflake::stage::{PartWriter, StageOptions};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use quick_xml::Reader;
use quick_xml::events::Event;

const PAGE_RECORDS: u64 = 2_000;
/// Bumped whenever the generated pages change, so stale data sets are rewritten.
const DATA_VERSION: &str = "complete-v2";

const FIELDS: &[(&str, IntacctType)] = &[
    ("RECORDNO", IntacctType::Integer),
    ("RECORDID", IntacctType::Text),
    ("VENDORID", IntacctType::Text),
    ("VENDORNAME", IntacctType::Text),
    ("DESCRIPTION", IntacctType::Text),
    ("STATE", IntacctType::Enum),
    ("CURRENCY", IntacctType::Text),
    ("ZIP", IntacctType::Text),
    ("CITY", IntacctType::Text),
    ("TERMNAME", IntacctType::Text),
    ("TOTALENTERED", IntacctType::Currency),
    ("TOTALPAID", IntacctType::Currency),
    ("TOTALDUE", IntacctType::Currency),
    ("EXCHANGE_RATE", IntacctType::Decimal),
    ("DISCOUNT", IntacctType::Percent),
    ("LINECOUNT", IntacctType::Integer),
    ("WHENPOSTED", IntacctType::Date),
    ("WHENDUE", IntacctType::Date),
    ("WHENPAID", IntacctType::Date),
    ("WHENCREATED", IntacctType::Timestamp),
    ("WHENMODIFIED", IntacctType::Timestamp),
    ("ONHOLD", IntacctType::Boolean),
    ("INCLUDEINREPORTS", IntacctType::Boolean),
    ("PRBATCH", IntacctType::Text),
    ("MEGAENTITYID", IntacctType::Text),
];

fn meta() -> ObjectMeta {
    ObjectMeta {
        name: "APBILL".into(),
        fields: FIELDS
            .iter()
            .map(|(name, data_type)| FieldMeta::new(*name, data_type.clone()))
            .collect(),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Converter {
    Stage,
    Bare,
    Python,
}

impl Converter {
    fn name(self) -> &'static str {
        match self {
            Converter::Stage => "stage",
            Converter::Bare => "bare",
            Converter::Python => "python",
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--child-rust") {
        child_rust(Path::new(&args[pos + 1]), Path::new(&args[pos + 2]));
        return;
    }
    if let Some(pos) = args.iter().position(|a| a == "--child-bare") {
        child_bare(Path::new(&args[pos + 1]), Path::new(&args[pos + 2]));
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and then one small
    // size checks that the three converters agree on every value.
    let smoke = mode::is_smoke();
    let default_sizes = if smoke { "6000" } else { "1000000,5000000" };
    let sizes: Vec<u64> = std::env::var("STAGE_BENCH_SIZES")
        .ok()
        .filter(|_| !smoke)
        .unwrap_or_else(|| default_sizes.into())
        .split(',')
        .map(|s| s.trim().parse().expect("STAGE_BENCH_SIZES: numbers"))
        .collect();
    let python = root.join("scripts/pytools/.venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/pytools/setup.sh first",
        python.display()
    );
    // The Python baseline runs at 1M records and below by default: its ratio does not change
    // with size, and at 5M it alone would take most of the 15 minutes scripts/bench.sh has.
    let python_max: u64 = std::env::var("STAGE_BENCH_PYTHON_MAX")
        .ok()
        .map(|v| v.parse().expect("STAGE_BENCH_PYTHON_MAX: a record count"))
        .unwrap_or(1_000_000);
    let data_root = root.join("target/stage-bench");
    let exe = std::env::current_exe().expect("own path");
    println!(
        "{:>9} {:>7} {:>12} {:>9} {:>9} {:>12} {:>9} {:>9} {:>12} {:>9} {:>9} {:>8} {:>8}",
        "records",
        "rounds",
        "stage rec/s",
        "MB/s",
        "RSS MiB",
        "bare rec/s",
        "MB/s",
        "RSS MiB",
        "python rec/s",
        "MB/s",
        "RSS MiB",
        "st/py",
        "st/bare"
    );
    let mut round_no = 0usize;
    for size in sizes {
        let input = data_root.join(size.to_string());
        let xml_bytes = generate(&input, size);
        let mb = xml_bytes as f64 / 1e6;
        let rounds = if smoke || size > 1_000_000 { 1 } else { 2 };
        let mut best: [Option<Measured>; 3] = [None, None, None];
        for _ in 0..rounds {
            let mut order = vec![Converter::Stage, Converter::Bare];
            if size <= python_max {
                order.push(Converter::Python);
            }
            if round_no % 2 == 1 {
                order.reverse();
            }
            round_no += 1;
            for converter in order {
                let out = data_root.join(format!("out-{}-{size}", converter.name()));
                let _ = std::fs::remove_dir_all(&out);
                std::fs::create_dir_all(&out).unwrap();
                let mut command = match converter {
                    Converter::Stage => {
                        let mut c = Command::new(&exe);
                        c.arg("--child-rust");
                        c
                    }
                    Converter::Bare => {
                        let mut c = Command::new(&exe);
                        c.arg("--child-bare");
                        c
                    }
                    Converter::Python => {
                        let mut c = Command::new(&python);
                        c.arg(root.join("scripts/pytools/xml_to_parquet.py"));
                        c
                    }
                };
                let measured = measure(command.arg(&input).arg(&out));
                assert_eq!(
                    measured.records,
                    size,
                    "{} converted every record",
                    converter.name()
                );
                println!(
                    "  round {round_no} {:<6} {:>8.2} s {:>10.0} records/s {:>7.1} MB/s {:>7.1} MiB",
                    converter.name(),
                    measured.seconds,
                    size as f64 / measured.seconds,
                    mb / measured.seconds,
                    measured.peak_rss_kib as f64 / 1024.0
                );
                let slot = &mut best[converter as usize];
                if slot.as_ref().is_none_or(|b| measured.seconds < b.seconds) {
                    *slot = Some(measured);
                }
            }
        }
        if smoke {
            let stage = read_parts(&data_root.join(format!("out-stage-{size}")));
            for other in [Converter::Bare, Converter::Python] {
                let theirs = read_parts(&data_root.join(format!("out-{}-{size}", other.name())));
                assert_same_output(&stage, &theirs, other.name());
            }
            println!("smoke: stage, bare and python outputs hold the same values and row groups");
        }
        let [Some(stage), Some(bare), py] = best else {
            unreachable!("both Rust converters ran")
        };
        let rate = |m: &Measured| size as f64 / m.seconds;
        let python = match &py {
            Some(py) => format!(
                "{:>12.0} {:>9.1} {:>9.1} {:>7.2}x",
                rate(py),
                mb / py.seconds,
                py.peak_rss_kib as f64 / 1024.0,
                py.seconds / stage.seconds
            ),
            None => format!("{:>12} {:>9} {:>9} {:>8}", "-", "-", "-", "-"),
        };
        println!(
            "{:>9} {:>7} {:>12.0} {:>9.1} {:>9.1} {:>12.0} {:>9.1} {:>9.1} {python} {:>8.2}",
            size,
            rounds,
            rate(&stage),
            mb / stage.seconds,
            stage.peak_rss_kib as f64 / 1024.0,
            rate(&bare),
            mb / bare.seconds,
            bare.peak_rss_kib as f64 / 1024.0,
            bare.seconds / stage.seconds
        );
        for converter in [Converter::Stage, Converter::Bare, Converter::Python] {
            let _ =
                std::fs::remove_dir_all(data_root.join(format!("out-{}-{size}", converter.name())));
        }
    }
    println!(
        "goals: stage >= 4x python, >= 0.8 of bare, >= 150000 records/s, peak RSS < 300 MiB and flat"
    );
}

/// Every row group of every part of an output directory, in part order.
struct Output {
    batches: Vec<RecordBatch>,
    row_groups: Vec<i64>,
}

fn read_parts(dir: &Path) -> Output {
    let mut parts: Vec<PathBuf> = walk(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    parts.sort_by_key(|p| p.file_name().unwrap().to_owned());
    assert!(!parts.is_empty(), "{}: no parts", dir.display());
    let mut out = Output {
        batches: Vec::new(),
        row_groups: Vec::new(),
    };
    for part in parts {
        let file = std::fs::File::open(&part).unwrap();
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        out.row_groups
            .extend(builder.metadata().row_groups().iter().map(|g| g.num_rows()));
        for batch in builder.build().unwrap() {
            out.batches.push(batch.unwrap());
        }
    }
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// The two outputs hold the same columns, typed, value for value (the batch id and extraction
/// time are each run's own and only checked for type), in the same row groups.
fn assert_same_output(stage: &Output, other: &Output, name: &str) {
    assert_eq!(stage.row_groups, other.row_groups, "{name}: row groups");
    let schema = stage.batches[0].schema();
    for field in schema.fields() {
        let column = |out: &Output| -> ArrayRef {
            let arrays: Vec<&dyn arrow::array::Array> = out
                .batches
                .iter()
                .map(|b| {
                    b.column_by_name(field.name())
                        .unwrap_or_else(|| panic!("{name}: no column {}", field.name()))
                        .as_ref()
                })
                .collect();
            arrow::compute::concat(&arrays).unwrap()
        };
        let (ours, theirs) = (column(stage), column(other));
        assert_eq!(
            ours.data_type(),
            theirs.data_type(),
            "{name}: type of {}",
            field.name()
        );
        match field.name().as_str() {
            "_BATCH_ID" => {
                let t = theirs.as_any().downcast_ref::<StringArray>().unwrap();
                assert!(t.iter().all(|v| v == Some("bench")), "{name}: _BATCH_ID");
            }
            "_EXTRACTED_AT" => {
                let t = theirs
                    .as_any()
                    .downcast_ref::<TimestampMicrosecondArray>()
                    .unwrap();
                assert_eq!(
                    arrow::array::Array::null_count(t),
                    0,
                    "{name}: _EXTRACTED_AT"
                );
            }
            _ => {
                if ours.as_ref() != theirs.as_ref() {
                    let first = (0..ours.len())
                        .find(|&i| ours.slice(i, 1).as_ref() != theirs.slice(i, 1).as_ref())
                        .unwrap_or(0);
                    panic!(
                        "{name}: column {} differs first at row {first}: stage {:?}, {name} {:?}",
                        field.name(),
                        ours.slice(first, 1),
                        theirs.slice(first, 1)
                    );
                }
            }
        }
    }
    let deleted = |out: &Output| -> usize {
        out.batches
            .iter()
            .map(|b| {
                let d = b.column_by_name("_DELETED").unwrap();
                let d = d.as_any().downcast_ref::<BooleanArray>().unwrap();
                d.true_count()
            })
            .sum()
    };
    assert_eq!(deleted(other), 0, "{name}: no tombstones");
}

struct Measured {
    records: u64,
    seconds: f64,
    peak_rss_kib: u64,
}

/// Runs a child that prints `records seconds peak_rss_kib` as its last line.
fn measure(command: &mut Command) -> Measured {
    let output = command.output().expect("child runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().last().expect("a result line");
    let mut parts = line.split_whitespace();
    Measured {
        records: parts.next().unwrap().parse().unwrap(),
        seconds: parts.next().unwrap().parse().unwrap(),
        peak_rss_kib: parts.next().unwrap().parse().unwrap(),
    }
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The XML pages in `input`, in name order (the order they were written).
fn xml_pages(input: &Path) -> Vec<PathBuf> {
    let mut pages: Vec<PathBuf> = std::fs::read_dir(input)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    pages.sort();
    pages
}

fn child_rust(input: &Path, output: &Path) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pages = xml_pages(input);
    let started = Instant::now();
    let records = runtime.block_on(async {
        let stage = Stage::open(output.to_str().unwrap()).unwrap();
        let plan = arrow_schema(&meta()).unwrap();
        let mut writer = PartWriter::new(
            stage,
            "APBILL",
            "bench",
            plan.schema.clone(),
            StageOptions::default(),
        );
        let ctx = BatchContext {
            batch_id: "bench",
            extracted_at: chrono::Utc::now(),
            time_zone: chrono_tz::America::Los_Angeles,
            deleted: false,
            quarantine: false,
        };
        let mut records = 0u64;
        for path in &pages {
            let body = tokio::fs::read(path).await.unwrap();
            let page = page_of(&body);
            let converted = record_batch(&plan, &page, &ctx).unwrap();
            records += converted.batch.num_rows() as u64;
            writer.write(&converted.batch).await.unwrap();
        }
        writer.finish().await.unwrap();
        records
    });
    let seconds = started.elapsed().as_secs_f64();
    println!("{records} {seconds} {}", peak_rss_kib());
}

fn page_of(body: &[u8]) -> RecordPage {
    let response = parse_response(body).expect("page parses");
    let result = response.results.into_iter().next().expect("one result");
    match result.outcome.expect("success") {
        ResultData::Records(page) => page,
        other => panic!("not records: {other:?}"),
    }
}

/// Writes `size` records as pages, once (a marker says the set is whole and which version of
/// the generator wrote it); returns the bytes of XML.
fn generate(dir: &Path, size: u64) -> u64 {
    let marker = dir.join(DATA_VERSION);
    if !marker.exists() {
        write_pages(dir, size);
        std::fs::write(&marker, b"").unwrap();
    }
    walk(dir)
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .map(|p| p.metadata().unwrap().len())
        .sum()
}

fn write_pages(dir: &Path, size: u64) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let pages = size.div_ceil(PAGE_RECORDS);
    let mut record_no = 0u64;
    for page in 0..pages {
        let count = PAGE_RECORDS.min(size - record_no);
        let mut xml = String::with_capacity(count as usize * 900);
        xml.push_str(concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            "\n<response><control><status>success</status><senderid>bench</senderid>",
            "<controlid>bench</controlid><uniqueid>false</uniqueid><dtdversion>3.0</dtdversion>",
            "</control><operation><authentication><status>success</status><userid>bench</userid>",
            "<companyid>bench</companyid><sessiontimestamp>2026-01-15T00:00:00-08:00</sessiontimestamp>",
            "</authentication><result><status>success</status><function>query</function>",
            "<controlid>q</controlid>"
        ));
        xml.push_str(&format!(
            r#"<data listtype="APBILL" count="{count}" totalcount="{size}" offset="{record_no}">"#
        ));
        for _ in 0..count {
            record_no += 1;
            push_record(&mut xml, record_no);
        }
        xml.push_str("</data></result></operation></response>\n");
        let mut file =
            std::fs::File::create(dir.join(format!("page-{:06}.xml", page + 1))).unwrap();
        file.write_all(xml.as_bytes()).unwrap();
    }
}

fn push_record(xml: &mut String, n: u64) {
    let day = |offset: u64| {
        let d = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap()
            + chrono::Duration::days(((n * 7 + offset) % 2000) as i64);
        d.format("%m/%d/%Y").to_string()
    };
    let stamp = |offset: u64| {
        let t = chrono::NaiveDate::from_ymd_opt(2021, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            + chrono::Duration::seconds(((n * 7919 + offset) % 150_000_000) as i64);
        // No wall-clock time inside a spring-forward gap: the three converters resolve those
        // by different rules (the stage's is tested in tenant_time).
        let t = if chrono::Timelike::hour(&t) == 2 {
            t + chrono::Duration::hours(1)
        } else {
            t
        };
        t.format("%m/%d/%Y %H:%M:%S").to_string()
    };
    let cents = (n * 7_919) % 100_000_000;
    let paid = cents / 3;
    let values: [(&str, String); 25] = [
        ("RECORDNO", n.to_string()),
        ("RECORDID", format!("BILL-{n:08}")),
        ("VENDORID", format!("V{:05}", n % 5_000)),
        (
            "VENDORNAME",
            format!("Vendor {} &amp; Sons — Zoë Ltd", n % 5_000),
        ),
        (
            "DESCRIPTION",
            format!("Invoice {n} for parts &lt;A&gt; ]]&gt; &quot;rush&quot; 日本"),
        ),
        (
            "STATE",
            ["Posted", "Paid", "Partially Paid"][(n % 3) as usize].into(),
        ),
        ("CURRENCY", "USD".into()),
        ("ZIP", format!("{:05}", n % 1_000)),
        ("CITY", "San José".into()),
        ("TERMNAME", "Net 30".into()),
        (
            "TOTALENTERED",
            format!("{}.{:02}", cents / 100, cents % 100),
        ),
        ("TOTALPAID", format!("{}.{:02}", paid / 100, paid % 100)),
        (
            "TOTALDUE",
            format!("{}.{:02}", (cents - paid) / 100, (cents - paid) % 100),
        ),
        ("EXCHANGE_RATE", format!("1.{:06}", n % 1_000_000)),
        ("DISCOUNT", format!("{}.{}", n % 100, n % 10)),
        ("LINECOUNT", (n % 40 + 1).to_string()),
        ("WHENPOSTED", day(0)),
        ("WHENDUE", day(30)),
        (
            "WHENPAID",
            if n.is_multiple_of(4) {
                String::new()
            } else {
                day(45)
            },
        ),
        ("WHENCREATED", stamp(0)),
        ("WHENMODIFIED", stamp(86_400)),
        (
            "ONHOLD",
            if n.is_multiple_of(17) {
                "true"
            } else {
                "false"
            }
            .into(),
        ),
        ("INCLUDEINREPORTS", "true".into()),
        ("PRBATCH", format!("Bills: 2026/01 Batch {}", n % 100)),
        ("MEGAENTITYID", String::new()),
    ];
    xml.push_str("<APBILL>");
    for (name, value) in values {
        if value.is_empty() {
            xml.push_str(&format!("<{name}></{name}>"));
        } else {
            xml.push_str(&format!("<{name}>{value}</{name}>"));
        }
    }
    xml.push_str("</APBILL>");
}

/// The physical-limit baseline: quick-xml events straight into Arrow builders by field
/// position (records are `<response><operation><result><data><APBILL>`, fields one level
/// below), no names matched, nothing validated, the stage's Parquet settings, one thread.
fn child_bare(input: &Path, output: &Path) {
    let pages = xml_pages(input);
    let started = Instant::now();
    let schema = arrow_schema(&meta()).unwrap().schema;
    let options = StageOptions::default();
    let dir = output.join("APBILL/bench");
    std::fs::create_dir_all(&dir).unwrap();
    let extracted_at = chrono::Utc::now().timestamp_micros();
    let mut part_no = 0;
    let mut part_rows = 0u64;
    let mut writer: Option<ArrowWriter<std::fs::File>> = None;
    let mut records = 0u64;
    let mut value = String::new();
    for path in &pages {
        let body = std::fs::read(path).unwrap();
        let text = std::str::from_utf8(&body).unwrap();
        // The stage's own column types (a currency's scale is 10, a rate's or percentage's 18).
        let mut columns: Vec<Column> = schema
            .fields()
            .iter()
            .take(FIELDS.len())
            .map(|f| Column::new(f.data_type()))
            .collect();
        let mut reader = Reader::from_str(text);
        reader.config_mut().trim_text(false);
        let mut depth = 0usize;
        let mut field = 0usize;
        let mut rows = 0usize;
        loop {
            match reader.read_event().unwrap() {
                Event::Start(_) => {
                    depth += 1;
                    if depth == 6 {
                        value.clear();
                    }
                }
                Event::Text(t) if depth == 6 => value.push_str(&t),
                Event::CData(t) if depth == 6 => value.push_str(&t),
                Event::GeneralRef(r) if depth == 6 => match r.resolve_char_ref().unwrap() {
                    Some(c) => value.push(c),
                    None => value.push_str(match &*r {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        other => panic!("entity {other}"),
                    }),
                },
                Event::End(_) => {
                    if depth == 6 {
                        columns[field].push(&value);
                        field += 1;
                    } else if depth == 5 {
                        field = 0;
                        rows += 1;
                    }
                    depth -= 1;
                }
                Event::Empty(_) if depth == 5 => {
                    columns[field].push("");
                    field += 1;
                }
                Event::Eof => break,
                _ => {}
            }
        }
        let mut arrays: Vec<ArrayRef> = columns.into_iter().map(Column::finish).collect();
        arrays.push(Arc::new(StringArray::from(vec!["bench"; rows])));
        arrays.push(Arc::new(
            TimestampMicrosecondArray::from(vec![extracted_at; rows]).with_timezone("UTC"),
        ));
        arrays.push(Arc::new(BooleanArray::from(vec![false; rows])));
        let batch = RecordBatch::try_new(schema.clone(), arrays).unwrap();
        if writer.is_none() {
            part_no += 1;
            part_rows = 0;
            let file =
                std::fs::File::create(dir.join(format!("part-{part_no:05}.parquet"))).unwrap();
            writer = Some(
                ArrowWriter::try_new(
                    file,
                    schema.clone(),
                    Some(writer_properties(&schema, &options)),
                )
                .unwrap(),
            );
        }
        writer.as_mut().unwrap().write(&batch).unwrap();
        part_rows += rows as u64;
        records += rows as u64;
        if part_rows >= options.part_max_rows {
            writer.take().unwrap().close().unwrap();
        }
    }
    if let Some(writer) = writer {
        writer.close().unwrap();
    }
    let seconds = started.elapsed().as_secs_f64();
    println!("{records} {seconds} {}", peak_rss_kib());
}

/// The stage's Parquet settings (`stage::parts`): zstd, page statistics, row groups of
/// `row_group_rows`, dictionaries for strings and booleans only.
fn writer_properties(schema: &SchemaRef, options: &StageOptions) -> WriterProperties {
    let mut props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(options.zstd_level).unwrap(),
        ))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(options.row_group_rows));
    for field in schema.fields() {
        if !matches!(field.data_type(), DataType::Utf8 | DataType::Boolean) {
            props =
                props.set_column_dictionary_enabled(ColumnPath::from(field.name().as_str()), false);
        }
    }
    props.build()
}

/// One column's builder; values arrive as text and are converted with no checks beyond what
/// a panic-free run of well-formed pages needs.
enum Column {
    Text(StringBuilder),
    Int(Int64Builder),
    Decimal(Decimal128Builder, u32),
    Date(Date32Builder),
    Timestamp(TimestampMicrosecondBuilder),
    Bool(BooleanBuilder),
}

/// Days from 0001-01-01 (chrono's day 1) to 1970-01-01.
const UNIX_EPOCH_FROM_CE: i32 = 719_163;

impl Column {
    fn new(data_type: &DataType) -> Column {
        let rows = PAGE_RECORDS as usize;
        match data_type {
            DataType::Int64 => Column::Int(Int64Builder::with_capacity(rows)),
            DataType::Decimal128(precision, scale) => Column::Decimal(
                Decimal128Builder::with_capacity(rows)
                    .with_precision_and_scale(*precision, *scale)
                    .unwrap(),
                *scale as u32,
            ),
            DataType::Date32 => Column::Date(Date32Builder::with_capacity(rows)),
            DataType::Timestamp(..) => Column::Timestamp(
                TimestampMicrosecondBuilder::with_capacity(rows).with_timezone("UTC"),
            ),
            DataType::Boolean => Column::Bool(BooleanBuilder::with_capacity(rows)),
            _ => Column::Text(StringBuilder::with_capacity(rows, rows * 16)),
        }
    }

    fn push(&mut self, text: &str) {
        if text.is_empty() {
            match self {
                Column::Text(b) => b.append_null(),
                Column::Int(b) => b.append_null(),
                Column::Decimal(b, _) => b.append_null(),
                Column::Date(b) => b.append_null(),
                Column::Timestamp(b) => b.append_null(),
                Column::Bool(b) => b.append_null(),
            }
            return;
        }
        let b = text.as_bytes();
        match self {
            Column::Text(builder) => builder.append_value(text),
            Column::Int(builder) => builder.append_value(digits(b) as i64),
            Column::Decimal(builder, scale) => {
                let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
                let unscaled = digits(whole.as_bytes()) * 10i128.pow(*scale)
                    + digits(fraction.as_bytes()) * 10i128.pow(*scale - fraction.len() as u32);
                builder.append_value(unscaled);
            }
            Column::Date(builder) => {
                builder.append_value(date(b).num_days_from_ce() - UNIX_EPOCH_FROM_CE)
            }
            Column::Timestamp(builder) => {
                let naive = date(b)
                    .and_hms_opt(
                        digits(&b[11..13]) as u32,
                        digits(&b[14..16]) as u32,
                        digits(&b[17..19]) as u32,
                    )
                    .unwrap();
                let instant = tenant_time::local_to_utc(naive, chrono_tz::America::Los_Angeles);
                builder.append_value(instant.timestamp_micros());
            }
            Column::Bool(builder) => builder.append_value(b == b"true"),
        }
    }

    fn finish(self) -> ArrayRef {
        match self {
            Column::Text(mut b) => Arc::new(b.finish()),
            Column::Int(mut b) => Arc::new(b.finish()),
            Column::Decimal(mut b, _) => Arc::new(b.finish()),
            Column::Date(mut b) => Arc::new(b.finish()),
            Column::Timestamp(mut b) => Arc::new(b.finish()),
            Column::Bool(mut b) => Arc::new(b.finish()),
        }
    }
}

/// ASCII digits as a number (the generated pages hold no signs).
fn digits(b: &[u8]) -> i128 {
    b.iter().fold(0, |n, d| n * 10 + i128::from(d - b'0'))
}

/// `MM/DD/YYYY` at the start of `b`.
fn date(b: &[u8]) -> NaiveDate {
    NaiveDate::from_ymd_opt(
        digits(&b[6..10]) as i32,
        digits(&b[0..2]) as u32,
        digits(&b[3..5]) as u32,
    )
    .unwrap()
}
