//! End-to-end XML → Parquet throughput and peak memory, beside a pyarrow + lxml baseline.
//!
//! For each size (default 1M and 5M records; `STAGE_BENCH_SIZES=200000,1000000` to change)
//! the bench writes Intacct `query` response pages of 2,000 records with 25 fields (text with
//! entities and non-ASCII, ZIP codes, currency and decimal amounts, dates, timestamps,
//! booleans) to `target/stage-bench/<size>/page-NNNNN.xml` once, then runs, each in a fresh
//! child process so peak RSS (VmHWM) is per run:
//! * this crate: parse each page → typed Arrow batch → Parquet (zstd) parts on a local stage,
//!   on one thread (current-thread runtime);
//! * `scripts/pytools/xml_to_parquet.py`: lxml iterparse → the same Arrow types → pyarrow
//!   Parquet (zstd), also one thread.
//!
//! It prints records/s and peak RSS for both and the speed ratio measured in the same run.
//! RSS should not grow with the record count. Under `cargo test` (no `--bench` argument) it
//! runs one small size only, as a check that both converters handle every record.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use intacct_snowflake::intacct::parse_response;
use intacct_snowflake::intacct::{FieldMeta, IntacctType, ObjectMeta, RecordPage, ResultData};
use intacct_snowflake::schema::{BatchContext, arrow_schema, record_batch};
use intacct_snowflake::stage::Stage;
use intacct_snowflake::stage::{PartWriter, StageOptions};

const PAGE_RECORDS: u64 = 2_000;

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

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--child-rust") {
        child_rust(Path::new(&args[pos + 1]), Path::new(&args[pos + 2]));
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // `cargo bench` passes `--bench`; `cargo test --all-targets` does not, and then one small
    // size checks that both converters still agree on every record.
    let default_sizes = if args.iter().any(|a| a == "--bench") {
        "1000000,5000000"
    } else {
        "6000"
    };
    let sizes: Vec<u64> = std::env::var("STAGE_BENCH_SIZES")
        .unwrap_or_else(|_| default_sizes.into())
        .split(',')
        .map(|s| s.trim().parse().expect("STAGE_BENCH_SIZES: numbers"))
        .collect();
    let python = root.join("scripts/pytools/.venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/pytools/setup.sh first",
        python.display()
    );
    let data_root = root.join("target/stage-bench");
    let exe = std::env::current_exe().expect("own path");
    println!(
        "{:>9} {:>14} {:>12} {:>14} {:>12} {:>8}",
        "records", "rust rec/s", "rust RSS MiB", "python rec/s", "py RSS MiB", "ratio"
    );
    for size in sizes {
        let input = data_root.join(size.to_string());
        generate(&input, size);
        let rust_out = data_root.join(format!("out-rust-{size}"));
        let py_out = data_root.join(format!("out-py-{size}"));
        for out in [&rust_out, &py_out] {
            let _ = std::fs::remove_dir_all(out);
            std::fs::create_dir_all(out).unwrap();
        }
        let rust = measure(
            Command::new(&exe)
                .arg("--child-rust")
                .arg(&input)
                .arg(&rust_out),
        );
        let py = measure(
            Command::new(&python)
                .arg(root.join("scripts/pytools/xml_to_parquet.py"))
                .arg(&input)
                .arg(&py_out),
        );
        assert_eq!(rust.records, size, "rust converted every record");
        assert_eq!(py.records, size, "python converted every record");
        let rust_rate = size as f64 / rust.seconds;
        let py_rate = size as f64 / py.seconds;
        println!(
            "{:>9} {:>14.0} {:>12.1} {:>14.0} {:>12.1} {:>7.2}x",
            size,
            rust_rate,
            rust.peak_rss_kib as f64 / 1024.0,
            py_rate,
            py.peak_rss_kib as f64 / 1024.0,
            rust_rate / py_rate
        );
        let _ = std::fs::remove_dir_all(&rust_out);
        let _ = std::fs::remove_dir_all(&py_out);
    }
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

fn child_rust(input: &Path, output: &Path) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut pages: Vec<PathBuf> = std::fs::read_dir(input)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    pages.sort();
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

/// Writes `size` records as pages, once (a `complete` marker says the set is whole).
fn generate(dir: &Path, size: u64) {
    let marker = dir.join("complete");
    if marker.exists() {
        return;
    }
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
    std::fs::write(marker, b"").unwrap();
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
