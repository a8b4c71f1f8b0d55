//! Throughput of the Intacct response parser against a bare quick-xml event loop, on two
//! shapes of the same records.
//!
//! Generates in memory about 110 MB of `query` responses (pages of 2000 records, 30 fields
//! each: ids, names with entities, dates, amounts, empty fields, dotted related fields), once
//! in each shape:
//! * `flat`: one line, `<F>text</F>` leaves, dotted names (`<VENDOR.NAME>`), empty fields as
//!   `<F></F>`: the shape the parser's fast path was built for;
//! * `realistic`: what Intacct's gateway also sends: indented, one element a line, related
//!   fields as nested elements (`<VENDOR><NAME>…</NAME></VENDOR>`), a CDATA section, attributes
//!   on the record and a field, empty fields as `<F/>`.
//!
//! On each shape, best of 3 runs each: (a) baseline — a quick-xml event loop that only counts
//! record elements; (b) full — `parse_response` into typed pages. Prints MB/s and records/s for
//! both and the ratio full/baseline (target ≥ 0.5).
//!
//! Both shapes must parse to the same pages (same columns, same values): checked on every page
//! in smoke mode (without `--bench`, as `cargo test --benches` runs it, or `BENCH_SMOKE=1`,
//! on about 2 MB) and on the first page of each run otherwise.

#[allow(dead_code)] // not every benchmark uses every item
#[path = "mode.rs"]
mod mode;

use std::hint::black_box;
use std::time::{Duration, Instant};

use intacct_snowflake::intacct::parse_response;
use intacct_snowflake::intacct::{RecordPage, ResultData};
use quick_xml::Reader;
use quick_xml::events::Event;

const RECORDS_PER_PAGE: usize = 2000;
const TARGET_BYTES: usize = 110 * 1024 * 1024;

/// A small deterministic generator (xorshift64*), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: &[&str] = &[
    "Acme",
    "Supply",
    "Erik&#39;s",
    "Deli",
    "Holdings",
    "North",
    "Parts",
    "&amp;",
    "Sons",
    "Logistics",
    "Caf\u{e9}",
    "M\u{fc}ller",
    "Global",
    "Widgets",
    "Services",
    "Freight",
];

fn words(rng: &mut Rng, n: u64) -> String {
    let count = 1 + rng.below(n);
    (0..count)
        .map(|_| WORDS[rng.below(WORDS.len() as u64) as usize])
        .collect::<Vec<_>>()
        .join(" ")
}

fn date(rng: &mut Rng) -> String {
    format!(
        "{:02}/{:02}/20{:02}",
        1 + rng.below(12),
        1 + rng.below(28),
        15 + rng.below(10)
    )
}

fn timestamp(rng: &mut Rng) -> String {
    format!(
        "{} {:02}:{:02}:{:02}",
        date(rng),
        rng.below(24),
        rng.below(60),
        rng.below(60)
    )
}

/// One record's fields in order: names and values as escaped XML text.
fn record(rng: &mut Rng, recordno: u64) -> Vec<(&'static str, String)> {
    let mut fields = Vec::with_capacity(30);
    let mut field = |name: &'static str, value: String| fields.push((name, value));
    field("RECORDNO", recordno.to_string());
    field("RECORDID", format!("BILL-{:06}", rng.below(1_000_000)));
    field("DOCNUMBER", format!("INV{}", rng.below(100_000)));
    field(
        "STATE",
        ["Posted", "Paid", "Selected", "Draft"][rng.below(4) as usize].to_owned(),
    );
    field(
        "RAWSTATE",
        ["A", "P", "S"][rng.below(3) as usize].to_owned(),
    );
    field("VENDORID", format!("V{:05}", rng.below(20_000)));
    field("VENDORNAME", words(rng, 4));
    field("VENDOR.NAME", words(rng, 3));
    field(
        "DISPLAYCONTACT.EMAIL1",
        format!("ap{}@vendor{}.example", rng.below(99), rng.below(999)),
    );
    field(
        "TERMNAME",
        ["Net 30", "Net 60", "Due on receipt"][rng.below(3) as usize].to_owned(),
    );
    field("WHENCREATED", date(rng));
    field("WHENPOSTED", date(rng));
    field("WHENDUE", date(rng));
    field(
        "WHENPAID",
        if rng.below(3) == 0 {
            String::new()
        } else {
            date(rng)
        },
    );
    field("WHENMODIFIED", timestamp(rng));
    field(
        "TOTALENTERED",
        format!("{}.{:02}", rng.below(100_000), rng.below(100)),
    );
    field(
        "TOTALPAID",
        format!("{}.{:02}", rng.below(100_000), rng.below(100)),
    );
    field(
        "TOTALDUE",
        format!("{}.{:02}", rng.below(10_000), rng.below(100)),
    );
    field(
        "TRX_TOTALENTERED",
        format!("{}.{:02}", rng.below(100_000), rng.below(100)),
    );
    field("BASECURR", "USD".to_owned());
    field(
        "CURRENCY",
        ["USD", "EUR", "GBP"][rng.below(3) as usize].to_owned(),
    );
    field(
        "DESCRIPTION",
        if rng.below(4) == 0 {
            String::new()
        } else {
            words(rng, 12)
        },
    );
    field("MODULEKEY", "3.AP".to_owned());
    field("PRBATCHKEY", rng.below(50_000).to_string());
    field(
        "ONHOLD",
        ["true", "false"][rng.below(2) as usize].to_owned(),
    );
    field("MEGAENTITYKEY", String::new());
    field("MEGAENTITYID", String::new());
    field("CREATEDBY", rng.below(100).to_string());
    field("MODIFIEDBY", rng.below(100).to_string());
    field("CUSTOM_PROJECT_CODE", format!("P-{}", rng.below(500)));
    fields
}

/// `<F>text</F>` leaves on one line.
fn flat(fields: &[(&str, String)], out: &mut String) {
    out.push_str("<APBILL>");
    for (name, value) in fields {
        out.push('<');
        out.push_str(name);
        out.push('>');
        out.push_str(value);
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    }
    out.push_str("</APBILL>");
}

/// Indented, related fields nested, DESCRIPTION as CDATA, attributes, empty fields self-closed.
fn realistic(fields: &[(&str, String)], out: &mut String) {
    out.push_str("\n      <APBILL status=\"active\">");
    for (name, value) in fields {
        let (parent, leaf) = match name.split_once('.') {
            Some((parent, leaf)) => (Some(parent), leaf),
            None => (None, *name),
        };
        let indent = if let Some(parent) = parent {
            out.push_str(&format!("\n        <{parent}>"));
            "\n          "
        } else {
            "\n        "
        };
        out.push_str(indent);
        if value.is_empty() {
            out.push_str(&format!("<{leaf}/>"));
        } else if *name == "DESCRIPTION" {
            // CDATA holds the text unescaped.
            let raw = value.replace("&#39;", "'").replace("&amp;", "&");
            out.push_str(&format!("<{leaf}><![CDATA[{raw}]]></{leaf}>"));
        } else if *name == "TOTALENTERED" {
            out.push_str(&format!("<{leaf} currency=\"USD\">{value}</{leaf}>"));
        } else {
            out.push_str(&format!("<{leaf}>{value}</{leaf}>"));
        }
        if let Some(parent) = parent {
            out.push_str(&format!("\n        </{parent}>"));
        }
    }
    out.push_str("\n      </APBILL>");
}

/// One `query` response body holding `RECORDS_PER_PAGE` APBILL records, in both shapes:
/// (flat, realistic).
fn page_bodies(rng: &mut Rng, page: usize, pages: usize) -> (Vec<u8>, Vec<u8>) {
    let total = pages * RECORDS_PER_PAGE;
    let offset = page * RECORDS_PER_PAGE;
    let head = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response><control><status>success</status>\
         <senderid>bench</senderid><controlid>bench</controlid><uniqueid>false</uniqueid>\
         <dtdversion>3.0</dtdversion></control><operation><authentication><status>success</status>\
         <userid>u</userid><companyid>c</companyid><sessiontimestamp>2024-01-31T13:05:00+00:00\
         </sessiontimestamp><sessiontimeout>2024-01-31T21:05:00+00:00</sessiontimeout>\
         </authentication><result><status>success</status><function>query</function>\
         <controlid>q</controlid>\
         <data listtype=\"APBILL\" totalcount=\"{total}\" offset=\"{offset}\" count=\"{RECORDS_PER_PAGE}\" numremaining=\"{}\">",
        total - offset - RECORDS_PER_PAGE
    );
    let mut flat_out = String::with_capacity(RECORDS_PER_PAGE * 1100);
    let mut real_out = String::with_capacity(RECORDS_PER_PAGE * 1600);
    flat_out.push_str(&head);
    real_out.push_str(&head);
    for i in 0..RECORDS_PER_PAGE {
        let fields = record(rng, (offset + i) as u64 + 1);
        flat(&fields, &mut flat_out);
        realistic(&fields, &mut real_out);
    }
    flat_out.push_str("</data></result></operation></response>\n");
    real_out.push_str("\n    </data>\n  </result>\n</operation></response>\n");
    (flat_out.into_bytes(), real_out.into_bytes())
}

/// The one record page of a body.
fn page_of(body: &[u8]) -> RecordPage {
    let response = parse_response(body).expect("generated bodies parse");
    match response.results.into_iter().next().map(|r| r.outcome) {
        Some(Ok(ResultData::Records(page))) => page,
        _ => panic!("unexpected result"),
    }
}

/// Both shapes of a page parse to the same columns and values.
fn assert_same_page(flat: &[u8], realistic: &[u8]) {
    let (a, b) = (page_of(flat), page_of(realistic));
    assert_eq!(a.columns(), b.columns(), "columns");
    assert!(
        a.columns().iter().any(|c| c == "VENDOR__NAME"),
        "{:?}",
        a.columns()
    );
    assert_eq!(a.len(), RECORDS_PER_PAGE);
    assert_eq!(b.len(), RECORDS_PER_PAGE);
    for row in 0..a.len() {
        let (x, y): (Vec<_>, Vec<_>) = (a.row(row).collect(), b.row(row).collect());
        assert_eq!(x, y, "row {row}");
    }
}

/// Counts record elements (depth 5: response/operation/result/data/RECORD) with nothing else.
fn baseline(body: &[u8]) -> usize {
    let mut reader = Reader::from_reader(body);
    reader.config_mut().trim_text(false);
    let mut depth = 0usize;
    let mut records = 0usize;
    loop {
        match reader.read_event() {
            Ok(Event::Start(_)) => {
                depth += 1;
                if depth == 5 {
                    records += 1;
                }
            }
            Ok(Event::End(_)) => depth -= 1,
            Ok(Event::Empty(_)) => {
                if depth == 4 {
                    records += 1;
                }
            }
            Ok(Event::Eof) => return records,
            Ok(other) => {
                black_box(other);
            }
            Err(e) => panic!("baseline: {e}"),
        }
    }
}

fn full(body: &[u8]) -> usize {
    let response = parse_response(body).expect("generated bodies parse");
    response
        .results
        .iter()
        .map(|r| match &r.outcome {
            Ok(ResultData::Records(page)) => {
                black_box(page.value(page.len() - 1, 0));
                page.len()
            }
            _ => panic!("unexpected result"),
        })
        .sum()
}

fn best_of(runs: usize, bodies: &[Vec<u8>], run: fn(&[u8]) -> usize) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut records = 0;
    for _ in 0..runs {
        let start = Instant::now();
        records = bodies.iter().map(|b| run(b)).sum();
        best = best.min(start.elapsed());
    }
    (best, records)
}

fn main() {
    let smoke = mode::is_smoke();
    let (target_bytes, runs) = if smoke {
        (2 * 1024 * 1024, 1)
    } else {
        (TARGET_BYTES, 3)
    };
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut flat_bodies, mut real_bodies) = (Vec::new(), Vec::new());
    let mut bytes = 0;
    let estimated_pages = target_bytes / (RECORDS_PER_PAGE * 1000) + 1;
    while bytes < target_bytes {
        let (flat, real) = page_bodies(
            &mut rng,
            flat_bodies.len(),
            estimated_pages.max(flat_bodies.len() + 1),
        );
        bytes += flat.len();
        flat_bodies.push(flat);
        real_bodies.push(real);
    }
    let checked = if smoke { flat_bodies.len() } else { 1 };
    for (flat, real) in flat_bodies.iter().zip(&real_bodies).take(checked) {
        assert_same_page(flat, real);
    }
    println!(
        "input: {} pages of {RECORDS_PER_PAGE} records of 30 fields in each shape; {checked} page(s) checked to parse alike",
        flat_bodies.len()
    );
    let mut ratios = Vec::new();
    for (shape, bodies) in [("flat", &flat_bodies), ("realistic", &real_bodies)] {
        let mb = bodies.iter().map(Vec::len).sum::<usize>() as f64 / (1024.0 * 1024.0);
        let (base_time, base_records) = best_of(runs, bodies, baseline);
        let (full_time, full_records) = best_of(runs, bodies, full);
        assert_eq!(base_records, full_records, "both loops see every record");
        let report = |name: &str, time: Duration, records: usize| {
            let secs = time.as_secs_f64();
            println!(
                "{shape:<9} {name:<9} {mb:>7.1} MiB {:>8.1} ms  {:>7.1} MiB/s  {:>10.0} records/s",
                secs * 1000.0,
                mb / secs,
                records as f64 / secs
            );
        };
        report("baseline", base_time, base_records);
        report("full", full_time, full_records);
        let ratio = base_time.as_secs_f64() / full_time.as_secs_f64();
        ratios.push((shape, ratio));
    }
    for (shape, ratio) in ratios {
        println!("{shape:<9} ratio full/baseline throughput: {ratio:.2} (target >= 0.50)");
    }
}
