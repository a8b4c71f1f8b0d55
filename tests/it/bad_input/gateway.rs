//! Hostile gateway answers, through the real client and extract: each case first stages a
//! good batch of CLASS (the baseline), then extracts again while the gateway answers CLASS's
//! created-pass pages with a corpus body, and asserts the specific error — its kind, with the
//! object, record and field it names — and that the marks did not move and the baseline
//! batch's files are byte-identical.

use std::collections::BTreeMap;

use arrow::array::Array;
use chrono::{DateTime, Duration, Utc};
use intacct_sim::Scale;
use intacct_sim::SimConfig;
use intacct_snowflake::Error;
use intacct_snowflake::config::Spec;
use intacct_snowflake::error::MalformedKind;
use intacct_snowflake::intacct::TimeWindow;
use intacct_snowflake::intacct::{IntacctClient, ReadRequest};
use intacct_snowflake::manifest::{BatchStatus, ManifestState};
use intacct_snowflake::pipeline::ObjectReport;
use intacct_snowflake::pipeline::client_config;
use sha2::{Digest, Sha256};

use super::corpus;
use super::gateway_proxy::{Answer, HostileGateway, Rule};
use crate::deletes::{extract_reports, manifest_state};
use crate::extract::{sim_clock, spec_for};

/// The object every case reads: a dozen records at the tiny scale, two passes.
pub(crate) const OBJECT: &str = "CLASS";

/// A simulator behind the hostile gateway, a stage with one good CLASS batch, and the state
/// that must survive the hostile answer.
pub(crate) struct GatewayWorld {
    pub(crate) gateway: HostileGateway,
    pub(crate) spec: Spec,
    _stage_dir: tempfile::TempDir,
    pub(crate) now: DateTime<Utc>,
    before: ManifestState,
    files: BTreeMap<String, String>,
    /// `query` functions the simulator ran for the baseline.
    pub(crate) baseline_queries: u64,
}

impl GatewayWorld {
    pub(crate) async fn start() -> GatewayWorld {
        let mut config = SimConfig::default();
        config.dataset.scale = Scale::Tiny;
        let gateway = HostileGateway::start(config).await;
        let stage_dir = tempfile::tempdir().unwrap();
        let mut spec = spec_for(&gateway.sim, stage_dir.path());
        spec.intacct.endpoint = gateway.endpoint_url().parse().unwrap();
        spec.intacct.page_size = 5;
        // Retryable kinds are still tried twice, quickly, so the case ends on the error.
        spec.intacct.retry.max_attempts = 2;
        spec.intacct.retry.initial_backoff_ms = 1;
        spec.intacct.retry.max_backoff_ms = 2;
        let now = sim_clock(&gateway.sim).await;
        // The baseline: everything up to a year ago.
        let reports = extract_reports(&spec, &[OBJECT], now - Duration::days(365)).await;
        assert_eq!(reports[0].error, None, "baseline extract");
        assert!(reports[0].records > 0, "baseline staged rows");
        let before = manifest_state(&spec).await;
        let files = stage_files(&spec).await;
        let counters = gateway.sim.counters().await.unwrap();
        let baseline_queries = counters["functions"]["query"].as_u64().unwrap_or(0);
        GatewayWorld {
            gateway,
            spec,
            _stage_dir: stage_dir,
            now,
            before,
            files,
            baseline_queries,
        }
    }

    /// Extracts CLASS up to now while `rules` answer; its report.
    pub(crate) async fn extract_with(&self, rules: Vec<Rule>) -> ObjectReport {
        self.gateway.set_rules(rules);
        let mut reports = extract_reports(&self.spec, &[OBJECT], self.now).await;
        assert!(self.gateway.answered() > 0, "the hostile answer was served");
        reports.remove(0)
    }

    /// Extracts CLASS while `rules` answer, which must succeed: the report and the batch it
    /// staged.
    pub(crate) async fn staged_batch(
        &self,
        rules: Vec<Rule>,
    ) -> (ObjectReport, intacct_snowflake::manifest::BatchState) {
        let report = self.extract_with(rules).await;
        assert_eq!(report.error, None);
        let state = manifest_state(&self.spec).await;
        let batch = state.batches[&report.batch_id].clone();
        (report, batch)
    }

    /// Reads CLASS through the client while `rules` answer; the error the read ended with.
    pub(crate) async fn read_error(&self, rules: Vec<Rule>) -> Error {
        self.gateway.set_rules(rules);
        let client = IntacctClient::new(client_config(&self.spec)).unwrap();
        let mut request = ReadRequest::new(
            OBJECT,
            TimeWindow {
                from: None,
                to: self.now,
            },
            "bad-input",
        );
        request.page_size = self.spec.intacct.page_size;
        let mut read = client.read_object(request);
        while let Some(page) = read.pages.recv().await {
            if let Err(e) = page {
                return e;
            }
        }
        panic!("the read ended without an error");
    }

    /// The hostile extract failed and left everything as the baseline had it: the marks of
    /// every object, every batch staged before (status and files), the bytes of every file
    /// on the stage then; and no new batch is staged.
    pub(crate) async fn assert_nothing_moved(&self) {
        let after = manifest_state(&self.spec).await;
        for (object, was) in &self.before.objects {
            let now = &after.objects[object];
            assert_eq!(now.watermark, was.watermark, "{object} watermark");
            assert_eq!(now.staged_up_to, was.staged_up_to, "{object} staged_up_to");
            assert_eq!(
                now.deletes_up_to, was.deletes_up_to,
                "{object} deletes_up_to"
            );
        }
        for (id, batch) in &after.batches {
            match self.before.batches.get(id) {
                Some(was) => {
                    assert_eq!(batch.status, was.status, "batch {id}");
                    assert_eq!(batch.files, was.files, "batch {id}");
                }
                None => assert_ne!(batch.status, BatchStatus::Staged, "new batch {id} staged"),
            }
        }
        let files = stage_files(&self.spec).await;
        for (path, digest) in &self.files {
            assert_eq!(files.get(path), Some(digest), "{path} changed or vanished");
        }
    }

    /// The stage's local directory.
    pub(crate) fn stage_dir(&self) -> &std::path::Path {
        self._stage_dir.path()
    }

    pub(crate) async fn shutdown(self) {
        self.gateway.shutdown().await;
    }
}

/// sha256 of every file on the stage but the manifest, by path.
pub(crate) async fn stage_files(spec: &Spec) -> BTreeMap<String, String> {
    let stage = intacct_snowflake::stage::Stage::open(&spec.stage.url).unwrap();
    let mut out = BTreeMap::new();
    for object in stage.list("").await.unwrap() {
        if object.path.starts_with("_manifest") {
            continue;
        }
        let body = stage.get(&object.path).await.unwrap().unwrap();
        out.insert(object.path, hex::encode(Sha256::digest(&body)));
    }
    out
}

fn serve(name: &str) -> Vec<Rule> {
    vec![Rule::created_pass(OBJECT, Answer::Body(corpus(name)))]
}

fn malformed_kind(error: &Error) -> MalformedKind {
    match error {
        Error::MalformedResponse { kind, .. } => *kind,
        other => panic!("expected MalformedResponse, got {other:?}"),
    }
}

/// The report failed with `expected` in its message, naming the object.
fn assert_failed(report: &ObjectReport, expected: &[&str]) {
    let error = report.error.as_deref().expect("the extract failed");
    assert_eq!(report.object, OBJECT);
    for text in expected {
        assert!(error.contains(text), "{text:?} not in {error}");
    }
}

/// A body the client cannot read: the typed error of the client's read, the same message in
/// the extract's report, nothing moved.
async fn malformed_case(rules: fn() -> Vec<Rule>, kind: MalformedKind, names: &[&str]) {
    let world = GatewayWorld::start().await;
    let error = world.read_error(rules()).await;
    assert_eq!(malformed_kind(&error), kind, "{error}");
    let message = error.to_string();
    for name in names {
        assert!(message.contains(name), "{name:?} not in {message}");
    }
    let report = world.extract_with(rules()).await;
    let prefix = format!("malformed response from Intacct ({kind})");
    assert_failed(&report, &[&prefix]);
    assert_failed(&report, names);
    world.assert_nothing_moved().await;
    world.shutdown().await;
}

/// A value that breaks its declared type: the extract fails with exactly this
/// `Error::Value`, nothing moved.
async fn value_case(
    file: &'static str,
    record: &str,
    field: &str,
    value: &str,
    expected: &'static str,
) {
    // Strict: bad values fail the object instead of being quarantined (the default).
    let mut world = GatewayWorld::start().await;
    world.spec.extract.quarantine_bad_values = false;
    let report = world.extract_with(serve(file)).await;
    let want = Error::Value {
        object: OBJECT.into(),
        record_no: Some(record.into()),
        field: field.into(),
        value: value.into(),
        expected,
    };
    assert_eq!(report.error.as_deref(), Some(want.to_string().as_str()));
    assert_eq!(report.quarantined, 0);
    world.assert_nothing_moved().await;
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_cut_mid_record_is_truncated_xml_naming_the_element() {
    malformed_case(
        || serve("gateway/truncated-mid-record.xml"),
        MalformedKind::Truncated,
        &["<CLASS>/<DESCRIPTION>", "byte 1265"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_in_a_value_names_its_byte() {
    malformed_case(
        || serve("gateway/invalid-utf8-in-value.xml"),
        MalformedKind::InvalidUtf8,
        &["byte 1237"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latin1_bytes_under_a_utf8_declaration_are_invalid_utf8() {
    malformed_case(
        || serve("gateway/latin1-under-utf8-declaration.xml"),
        MalformedKind::InvalidUtf8,
        &["byte 1229"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_utf16_body_is_invalid_utf8_at_byte_0() {
    malformed_case(
        || serve("gateway/utf16-body.xml"),
        MalformedKind::InvalidUtf8,
        &["byte 0"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_html_page_with_status_200_is_html() {
    malformed_case(
        || serve("gateway/html-200-page.html"),
        MalformedKind::Html,
        &["502: Bad gateway"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_body_is_empty() {
    malformed_case(
        || serve("gateway/empty-body.xml"),
        MalformedKind::Empty,
        &["0 bytes"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recordno_that_is_no_integer_names_the_value() {
    malformed_case(
        || serve("gateway/recordno-not-integer.xml"),
        MalformedKind::UnexpectedStructure,
        &["RECORDNO \"10a\" is not an integer"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paging_timestamp_that_is_no_time_names_record_and_field() {
    malformed_case(
        || serve("gateway/timestamp-field-not-a-time.xml"),
        MalformedKind::UnexpectedStructure,
        &["record 10: WHENCREATED \"12/26/2023 25:61:00\""],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_count_that_lies_about_the_records_is_unexpected_structure() {
    malformed_case(
        || serve("gateway/count-mismatch.xml"),
        MalformedKind::UnexpectedStructure,
        &["<data count=\"5\"> holds 2 records"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_that_ignores_the_keyset_filter_is_stopped_not_looped() {
    malformed_case(
        || {
            vec![Rule::every(
                "query",
                OBJECT,
                Answer::Body(corpus("gateway/keyset-ignored-full-page.xml")),
            )]
        },
        MalformedKind::UnexpectedStructure,
        &[
            "a full page of CLASS did not advance the keyset cursor",
            "\"6\")",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_recordno_in_one_page_is_refused() {
    malformed_case(
        || serve("gateway/duplicate-recordno.xml"),
        MalformedKind::UnexpectedStructure,
        &["CLASS", "RECORDNO 2 twice"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_control_failure_with_an_unknown_errorno_is_an_intacct_error() {
    let world = GatewayWorld::start().await;
    let rules = || {
        vec![Rule::every(
            "query",
            OBJECT,
            Answer::Body(corpus("gateway/control-failure-unknown-errorno.xml")),
        )]
    };
    let error = world.read_error(rules()).await;
    let Error::Intacct(failure) = &error else {
        panic!("expected an Intacct failure, got {error:?}");
    };
    assert_eq!(
        failure.level,
        intacct_snowflake::intacct::ErrorLevel::Control
    );
    assert_eq!(failure.errors[0].errorno, "XX99999999");
    assert!(!error.is_retryable(), "an unknown errorno is not retried");
    let report = world.extract_with(rules()).await;
    assert_failed(&report, &["control-level failure", "XX99999999"]);
    world.assert_nothing_moved().await;
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_integer_field_holding_words_names_object_record_and_field() {
    value_case(
        "gateway/integer-field-not-integer.xml",
        "10",
        "CREATEDBY",
        "thirty-four",
        "an integer (64-bit)",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_integer_past_i64_is_a_value_error_not_a_wrap() {
    value_case(
        "gateway/integer-field-overflows-i64.xml",
        "10",
        "MEGAENTITYKEY",
        "99999999999999999999999",
        "an integer (64-bit)",
    )
    .await;
}

/// The metadata declares PARENTKEY as `datatype` (a lookup rewritten so) and record 10's
/// PARENTKEY breaks it: the extract fails with exactly this `Error::Value`, nothing moved.
async fn retyped_value_case(
    datatype: &'static str,
    file: &'static str,
    value: &str,
    expected: &'static str,
) {
    let mut world = GatewayWorld::start().await;
    world.spec.extract.quarantine_bad_values = false;
    let retype = move |body: &[u8]| {
        let text = String::from_utf8_lossy(body).into_owned();
        let at = text
            .find("<ID>PARENTKEY</ID>")
            .expect("PARENTKEY in the lookup");
        let (head, tail) = text.split_at(at);
        head.to_owned()
            + &tail.replacen(
                "<DATATYPE>INTEGER</DATATYPE>",
                &format!("<DATATYPE>{datatype}</DATATYPE>"),
                1,
            )
    };
    let report = world
        .extract_with(vec![
            Rule::every(
                "lookup",
                OBJECT,
                Answer::Rewrite(Box::new(move |b| retype(b).into_bytes())),
            ),
            Rule::created_pass(OBJECT, Answer::Body(corpus(file))),
        ])
        .await;
    let want = Error::Value {
        object: OBJECT.into(),
        record_no: Some("10".into()),
        field: "PARENTKEY".into(),
        value: value.into(),
        expected,
    };
    assert_eq!(report.error.as_deref(), Some(want.to_string().as_str()));
    world.assert_nothing_moved().await;
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decimal_with_more_fraction_digits_than_the_scale_is_never_rounded() {
    retyped_value_case(
        "CURRENCY",
        "gateway/decimal-with-too-many-fraction-digits.xml",
        "12.34567890123",
        "a decimal within the column's scale and 38 digits, without exponent or separators",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_boolean_that_is_maybe() {
    retyped_value_case(
        "BOOLEAN",
        "gateway/boolean-field-maybe.xml",
        "maybe",
        "a boolean (true/false)",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_date_that_does_not_exist() {
    retyped_value_case(
        "DATE",
        "gateway/date-field-february-30.xml",
        "02/30/2024",
        "a date MM/DD/YYYY",
    )
    .await;
}

/// With `quarantine_bad_values` (the default), the bad value is kept as sent in the batch's
/// quarantine file (object, record, field, value) and staged as NULL; every row is staged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quarantined_value_is_kept_aside_and_its_row_staged_with_null() {
    let world = GatewayWorld::start().await;
    assert!(world.spec.extract.quarantine_bad_values);
    let (report, batch) = world
        .staged_batch(serve("gateway/integer-field-not-integer.xml"))
        .await;
    assert_eq!(report.quarantined, 1);
    assert_eq!(batch.status, BatchStatus::Staged);
    assert_eq!(batch.quarantine.len(), 1);
    assert_eq!(batch.quarantine[0].rows, 1);
    let stage = intacct_snowflake::stage::Stage::open(&world.spec.stage.url).unwrap();
    let body = stage.get(&batch.quarantine[0].path).await.unwrap().unwrap();
    let line: serde_json::Value =
        serde_json::from_slice(body.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(line["object"], OBJECT);
    assert_eq!(line["record_no"], "10");
    assert_eq!(line["field"], "CREATEDBY");
    assert_eq!(line["value"], "thirty-four");
    // Both rows are staged; record 10's CREATEDBY is NULL.
    let keys = staged_record_nos(&world.spec, &batch).await;
    assert!(keys.contains(&2) && keys.contains(&10), "{keys:?}");
    let mut created_by_of_10 = Vec::new();
    for rows in crate::deletes::batch_rows(&world.spec, &batch).await {
        let keys = rows
            .column_by_name("RECORDNO")
            .unwrap()
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>()
            .unwrap()
            .clone();
        let created_by = rows.column_by_name("CREATEDBY").unwrap();
        for r in (0..rows.num_rows()).filter(|r| keys.value(*r) == 10) {
            created_by_of_10.push(created_by.is_valid(r));
        }
    }
    assert_eq!(created_by_of_10, [false]);
    world.shutdown().await;
}

/// Elements the metadata does not list are dropped and counted, never new columns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_elements_are_dropped_and_counted() {
    let world = GatewayWorld::start().await;
    let (report, batch) = world
        .staged_batch(serve("gateway/unknown-elements.xml"))
        .await;
    // Two records, each with SURPRISE and NESTED/DEEP.
    assert_eq!(report.unknown_column_values, 4);
    let rows = crate::deletes::batch_rows(&world.spec, &batch).await;
    let schema = rows[0].schema();
    for column in ["SURPRISE", "NESTED__DEEP"] {
        assert!(schema.field_with_name(column).is_err(), "{column} staged");
    }
    world.shutdown().await;
}

/// A 16 MiB text value goes through the parser and the stage byte for byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_field_is_staged_byte_exact() {
    let world = GatewayWorld::start().await;
    let huge: String = "Zoë & <big> ".repeat(16 * 1024 * 1024 / 13);
    let escaped = huge
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let page = String::from_utf8(corpus("gateway/good-page.xml"))
        .unwrap()
        .replace(
            "<DESCRIPTION>Monthly service for 41 janitorial supplies for Atlanta DC</DESCRIPTION>",
            &format!("<DESCRIPTION>{escaped}</DESCRIPTION>"),
        );
    let (_, batch) = world
        .staged_batch(vec![Rule::created_pass(
            OBJECT,
            Answer::Body(page.into_bytes()),
        )])
        .await;
    let mut found = false;
    for rows in crate::deletes::batch_rows(&world.spec, &batch).await {
        let keys = rows.column_by_name("RECORDNO").unwrap();
        let keys = keys
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>()
            .unwrap();
        let text = rows.column_by_name("DESCRIPTION").unwrap();
        let text = text
            .as_any()
            .downcast_ref::<arrow::array::StringArray>()
            .unwrap();
        for row in 0..rows.num_rows() {
            if keys.value(row) == 10 {
                assert!(text.value(row) == huge, "the huge value changed");
                found = true;
            }
        }
    }
    assert!(found, "record 10 staged");
    world.shutdown().await;
}

/// Custom-field names the metadata lists that are no Intacct field name (SQL, XML markup, a
/// leading digit): the gateway refuses the select and the error names the field; nothing is
/// staged and no such name reaches a column.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_custom_field_names_fail_naming_the_field() {
    let world = GatewayWorld::start().await;
    for (id, shown) in [
        ("x\"; DROP TABLE y; --", "x\"; DROP TABLE y; --"),
        ("Bad&lt;Name &amp; more", "Bad<Name & more"),
    ] {
        let field = format!(
            "<Field><ID>{id}</ID><LABEL>L</LABEL><DESCRIPTION>D</DESCRIPTION>\
             <REQUIRED>false</REQUIRED><READONLY>false</READONLY><DATATYPE>TEXT</DATATYPE>\
             <ISCUSTOM>true</ISCUSTOM></Field></Fields>"
        );
        let report = world
            .extract_with(vec![Rule::every(
                "lookup",
                OBJECT,
                Answer::Rewrite(Box::new(move |body| {
                    String::from_utf8_lossy(body)
                        .replace("</Fields>", &field)
                        .into_bytes()
                })),
            )])
            .await;
        assert_failed(
            &report,
            &[
                "Intacct result-level failure in query",
                &format!("Invalid field(s) in select: {shown}"),
            ],
        );
        world.assert_nothing_moved().await;
    }
    world.shutdown().await;
}

/// RECORDNOs of a staged batch's rows.
async fn staged_record_nos(
    spec: &Spec,
    batch: &intacct_snowflake::manifest::BatchState,
) -> Vec<i64> {
    let mut out = Vec::new();
    for rows in crate::deletes::batch_rows(spec, batch).await {
        let keys = rows.column_by_name("RECORDNO").unwrap();
        let keys = keys
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>()
            .unwrap();
        out.extend(
            (0..rows.num_rows())
                .filter(|r| keys.is_valid(*r))
                .map(|r| keys.value(r)),
        );
    }
    out
}

/// A record element whose name is no XML name (a custom field's label with spaces leaking
/// into the markup, `<Custom Field #2>…</Custom Field #2>`): the parser reads such tags
/// leniently by design (the end tag may repeat the whole start tag), so the value lands in
/// the column of the first word, which the metadata does not list: dropped and counted,
/// never staged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_element_whose_name_is_not_xml_is_dropped_and_counted() {
    let world = GatewayWorld::start().await;
    let (report, batch) = world
        .staged_batch(serve("gateway/custom-element-name-not-xml.xml"))
        .await;
    assert_eq!(report.unknown_column_values, 1);
    for rows in crate::deletes::batch_rows(&world.spec, &batch).await {
        assert!(rows.schema().field_with_name("CUSTOM").is_err());
    }
    world.shutdown().await;
}

/// A custom element the metadata does not list, whose name and value read as SQL: dropped
/// and counted like any unknown element; no column of that name is staged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_element_named_and_valued_like_sql_is_dropped() {
    let world = GatewayWorld::start().await;
    let (report, batch) = world
        .staged_batch(serve("gateway/custom-element-name-hostile-sql.xml"))
        .await;
    assert_eq!(report.unknown_column_values, 1);
    for rows in crate::deletes::batch_rows(&world.spec, &batch).await {
        for field in rows.schema().fields() {
            assert!(!field.name().contains("DROP"), "{} staged", field.name());
        }
    }
    world.shutdown().await;
}
