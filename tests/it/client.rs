//! The Intacct client against the in-process simulator: every record read equals the
//! simulator's ground truth (`/__sim/records`), under faults, session expiry and changing data.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeZone, Utc};
use intacct_sim::{Dataset, Scale};
use intacct_sim::{SimConfig, SimHandle, spawn};
use intacct_snowflake::Error;
use intacct_snowflake::error::MalformedKind;
use intacct_snowflake::intacct::ErrorLevel;
use intacct_snowflake::intacct::column_name;
use intacct_snowflake::intacct::objects;
use intacct_snowflake::intacct::{Call, Filter, SenderCredentials};
use intacct_snowflake::intacct::{ClientConfig, IntacctClient, Page, ReadMethod, ReadRequest};
use intacct_snowflake::intacct::{KeyFields, PageOrder, Pass, TimeWindow};
use intacct_snowflake::retry::RetryPolicy;
use intacct_snowflake::secret::Secret;
use serde_json::Value;

use crate::support::wall_clock::WallClock;

/// A record as column → value, empty values as `None`.
type Row = BTreeMap<String, Option<String>>;

fn sim_config(scale: Scale) -> SimConfig {
    let mut config = SimConfig::default();
    config.dataset.scale = scale;
    config
}

async fn start(config: SimConfig) -> SimHandle {
    spawn(config).await.expect("simulator starts")
}

/// A client for the simulator's default test credentials, with a quick retry policy.
fn client_config(sim: &SimHandle, config: &SimConfig) -> ClientConfig {
    let c = &config.credentials;
    let mut out = ClientConfig::new(
        sim.endpoint_url().parse().unwrap(),
        SenderCredentials {
            sender_id: c.sender_id.clone(),
            sender_password: c.sender_password.clone(),
        },
        c.user_id.clone(),
        c.company_id.clone(),
        c.user_password.clone(),
    );
    out.tenant_time_zone = config.dataset.time_zone;
    out.timeout_secs = 10;
    out.retry = RetryPolicy {
        max_attempts: 10,
        initial_backoff_ms: 5,
        max_backoff_ms: 50,
        max_elapsed_secs: 60,
    };
    out
}

fn client(sim: &SimHandle, config: &SimConfig) -> IntacctClient {
    IntacctClient::new(client_config(sim, config)).unwrap()
}

fn everything() -> TimeWindow {
    TimeWindow {
        from: None,
        to: Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0).unwrap(),
    }
}

/// The OBJECTTYPEs of the simulator's AUDITHISTORY rows: its objects but the lines (which
/// have no audit rows) and AUDITHISTORY itself.
const AUDIT_TYPES: [&str; 10] = [
    "apbill",
    "appymt",
    "vendor",
    "customer",
    "glaccount",
    "department",
    "location",
    "class",
    "project",
    "employee",
];

/// A read of `object` over `window`. AUDITHISTORY is never read whole (the gateway refuses
/// a read without an object type and a lower ACCESSTIME bound): its read names every type
/// and starts in 2000, before anything the simulator holds.
fn request(object: &str, mut window: TimeWindow, page_size: u32) -> ReadRequest {
    let audit = object == "AUDITHISTORY";
    if audit && window.from.is_none() {
        window.from = Some(Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap());
    }
    let mut r = ReadRequest::new(object, window, "t");
    r.page_size = page_size;
    if audit {
        r.condition = Some(Filter::In {
            field: "OBJECTTYPE".into(),
            values: AUDIT_TYPES.map(str::to_owned).to_vec(),
        });
    }
    r
}

/// Reads to the end; the first error ends the read.
async fn read_all(client: &IntacctClient, request: ReadRequest) -> Result<Vec<Page>, Error> {
    let mut read = client.read_object(request);
    let mut pages = Vec::new();
    while let Some(page) = read.pages.recv().await {
        pages.push(page?);
    }
    read.task.await.unwrap();
    Ok(pages)
}

fn rows_of(page: &Page) -> Vec<Row> {
    let r = &page.records;
    (0..r.len())
        .map(|i| {
            r.columns()
                .iter()
                .map(|c| (c.clone(), r.get(i, c).map(str::to_owned)))
                .collect()
        })
        .collect()
}

fn key_of(row: &Row, keys: &KeyFields) -> u64 {
    row[&column_name(&keys.record_key)]
        .as_deref()
        .expect("key present")
        .parse()
        .unwrap()
}

/// Ground truth by key, field names mapped to columns, empty strings as `None`.
async fn truth(sim: &SimHandle, object: &str) -> BTreeMap<u64, Row> {
    let keys = KeyFields::for_object(object);
    sim.records(object)
        .await
        .unwrap()
        .into_iter()
        .map(|record| {
            let row: Row = record
                .into_iter()
                .map(|(field, value)| {
                    let value = match value {
                        Value::String(s) if s.is_empty() => None,
                        Value::String(s) => Some(s),
                        Value::Null => None,
                        other => Some(other.to_string()),
                    };
                    (column_name(&field), value)
                })
                .collect();
            (key_of(&row, &keys), row)
        })
        .collect()
}

/// Every delivered row by key; panics on a key delivered twice.
fn delivered_once(object: &str, pages: &[Page]) -> BTreeMap<u64, Row> {
    let keys = KeyFields::for_object(object);
    let mut out = BTreeMap::new();
    for page in pages {
        for row in rows_of(page) {
            let key = key_of(&row, &keys);
            assert!(
                out.insert(key, row).is_none(),
                "{object}: key {key} delivered twice"
            );
        }
    }
    out
}

/// Same keys, and for every key every ground-truth field has the same value.
fn assert_same(object: &str, got: &BTreeMap<u64, Row>, want: &BTreeMap<u64, Row>) {
    let got_keys: BTreeSet<_> = got.keys().collect();
    let want_keys: BTreeSet<_> = want.keys().collect();
    let missing: Vec<_> = want_keys.difference(&got_keys).take(5).collect();
    let extra: Vec<_> = got_keys.difference(&want_keys).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{object}: {} delivered, {} expected; missing e.g. {missing:?}, extra e.g. {extra:?}",
        got.len(),
        want.len()
    );
    for (key, want_row) in want {
        let got_row = &got[key];
        for (column, want_value) in want_row {
            // Fields the simulator's `query` refuses (the client's deny list and the one it
            // learns at run time) are not read.
            if !got_row.contains_key(column)
                && (objects::not_queryable(object).contains(&column.as_str())
                    || (object == "PROJECT" && column == "ROOTPARENTKEY"))
            {
                continue;
            }
            let got_value = got_row.get(column).cloned().flatten();
            assert_eq!(
                &got_value, want_value,
                "{object} record {key}, column {column}"
            );
        }
    }
}

async fn counters(sim: &SimHandle) -> Value {
    sim.counters().await.unwrap()
}

fn counter(c: &Value, name: &str) -> u64 {
    c[name].as_u64().unwrap_or(0)
}

fn function_count(c: &Value, function: &str) -> u64 {
    c["functions"][function].as_u64().unwrap_or(0)
}

fn objects(config: &SimConfig) -> Vec<&'static str> {
    Dataset::new(config.dataset.clone()).object_names()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_every_object_exactly_as_the_ground_truth() {
    let config = sim_config(Scale::Demo);
    let sim = start(config.clone()).await;
    let client = client(&sim, &config);
    for object in objects(&config) {
        let pages = read_all(&client, request(object, everything(), 2_000))
            .await
            .unwrap_or_else(|e| panic!("{object}: {e}"));
        let got = delivered_once(object, &pages);
        // Fields query refuses are not read; every other field is exact.
        let mut want = truth(&sim, object).await;
        for row in want.values_mut() {
            for field in client.refused_fields(object) {
                row.remove(&column_name(&field));
            }
        }
        assert_same(object, &got, &want);
        // Progress and page numbering agree with what arrived.
        assert!(
            pages
                .iter()
                .enumerate()
                .all(|(i, p)| p.page_no == i as u64 + 1)
        );
    }
    // One login served every object.
    assert_eq!(counter(&counters(&sim).await, "sessions_opened"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_pages_cover_both_passes_without_gaps_or_repeats() {
    let config = sim_config(Scale::Demo);
    let sim = start(config.clone()).await;
    let client = client(&sim, &config);
    for object in ["VENDOR", "APBILL", "CUSTOMER"] {
        let pages = read_all(&client, request(object, everything(), 97))
            .await
            .unwrap();
        let got = delivered_once(object, &pages);
        assert_same(object, &got, &truth(&sim, object).await);
        // Cursors only move forward within a pass.
        for pass in [Pass::Modified, Pass::Created] {
            let cursors: Vec<_> = pages
                .iter()
                .filter(|p| p.pass == pass)
                .filter_map(|p| p.cursor_after.clone())
                .map(|c| (c.instant, c.record_no))
                .collect();
            assert!(cursors.windows(2).all(|w| w[0] < w[1]), "{object} {pass:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_holds_exactly_the_records_modified_inside_it() {
    let config = sim_config(Scale::Demo);
    let sim = start(config.clone()).await;
    let client = client(&sim, &config);
    let tz = config.dataset.time_zone;
    let object = "APBILL";
    let all = truth(&sim, object).await;
    // The window: the middle third of the modification instants. APBILL's WHENCREATED is
    // the (back-datable) bill date; its creation timestamp, AUWHENCREATED, stands in for an
    // empty WHENMODIFIED.
    let stamp = |row: &Row| {
        row["WHENMODIFIED"]
            .clone()
            .or_else(|| row["AUWHENCREATED"].clone())
            .unwrap()
    };
    let stamps: Vec<String> = all.values().map(stamp).collect();
    let clock = WallClock::of(tz.name(), stamps.iter().map(String::as_str));
    let instant = |row: &Row| clock.instant(&stamp(row));
    let mut instants: Vec<DateTime<Utc>> = all.values().map(instant).collect();
    instants.sort();
    let window = TimeWindow {
        from: Some(instants[instants.len() / 3]),
        to: instants[2 * instants.len() / 3],
    };
    let want: BTreeMap<u64, Row> = all
        .into_iter()
        .filter(|(_, row)| {
            let t = instant(row);
            window.from.unwrap() <= t && t < window.to
        })
        .collect();
    assert!(!want.is_empty());
    let pages = read_all(&client, request(object, window, 150))
        .await
        .unwrap();
    assert_same(object, &delivered_once(object, &pages), &want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_by_query_fallback_reads_the_same_records() {
    let config = sim_config(Scale::Demo);
    let sim = start(config.clone()).await;
    let client = client(&sim, &config);
    for object in ["VENDOR", "APBILL"] {
        let mut r = request(object, everything(), 300);
        r.method = ReadMethod::ReadByQuery;
        let pages = read_all(&client, r).await.unwrap();
        assert!(pages.len() > 1, "{object} should need readMore");
        assert_same(
            object,
            &delivered_once(object, &pages),
            &truth(&sim, object).await,
        );
    }
    let c = counters(&sim).await;
    assert!(function_count(&c, "readMore") > 0);
    assert_eq!(function_count(&c, "query"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_by_query_restarts_after_an_expired_result_id() {
    let mut config = sim_config(Scale::Demo);
    config.faults = "expire-result-id@readMore:nth=2".into();
    let sim = start(config.clone()).await;
    let client = client(&sim, &config);
    let object = "APBILL";
    let mut r = request(object, everything(), 250);
    r.method = ReadMethod::ReadByQuery;
    let pages = read_all(&client, r).await.unwrap();
    // Pages before the expiry are delivered again: dedup by key, keep the last copy.
    let mut got = BTreeMap::new();
    for page in &pages {
        for row in rows_of(page) {
            got.insert(key_of(&row, &KeyFields::standard()), row);
        }
    }
    assert_same(object, &got, &truth(&sim, object).await);
    let c = counters(&sim).await;
    assert_eq!(c["faults_injected"]["expire-result-id"].as_u64(), Some(1));
    assert_eq!(function_count(&c, "readByQuery"), 3, "2 passes + 1 restart");
}

/// Every retryable fault kind, injected on a share of the page requests: the records read
/// are still exactly the ground truth.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retryable_faults_do_not_change_what_is_read() {
    let kinds = [
        "rate-limit",
        "concurrency",
        "http500",
        "http502",
        "http503",
        "http524",
        "truncate",
        "truncate-xml",
        "reset",
        "slow=30",
        "result-error=DL02000001",
        "session-expiry",
    ];
    let all = objects(&sim_config(Scale::Demo));
    for (i, kind) in kinds.into_iter().enumerate() {
        let mut config = sim_config(Scale::Demo);
        // A request the CDN cut keeps its slot a little while (the default, 15 minutes, would
        // leave no slot to this test after two such requests).
        config.detached_slot_ms = 300;
        // Every third page request, and the first login (a session cannot expire before
        // it exists).
        config.faults = if kind == "session-expiry" {
            format!("{kind}@query:every=3")
        } else {
            format!("{kind}@query:every=3,{kind}@getAPISession:nth=1")
        };
        let sim = start(config.clone()).await;
        let client = client(&sim, &config);
        // VENDOR with small pages, and in turn every other object with larger ones (12 kinds
        // cover the 12 objects after VENDOR).
        let mut reads = vec![("VENDOR", 100)];
        if all[(i + 1) % all.len()] != "VENDOR" {
            reads.push((all[(i + 1) % all.len()], 500));
        }
        for (object, page_size) in reads {
            let pages = read_all(&client, request(object, everything(), page_size))
                .await
                .unwrap_or_else(|e| panic!("{kind} {object}: {e}"));
            assert_same(
                object,
                &delivered_once(object, &pages),
                &truth(&sim, object).await,
            );
        }
        let c = counters(&sim).await;
        let name = kind.split('=').next().unwrap();
        assert!(
            c["faults_injected"][name].as_u64().unwrap_or(0) > 0,
            "{kind} was never injected: {c}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_mid_read_costs_exactly_one_login() {
    let config = sim_config(Scale::Demo);
    let sim = start(config.clone()).await;
    let client = client(&sim, &config);
    let object = "APBILLITEM";
    let mut read = client.read_object(request(object, everything(), 200));
    let mut pages = Vec::new();
    while let Some(page) = read.pages.recv().await {
        pages.push(page.unwrap());
        if pages.len() == 2 {
            let before = counter(&counters(&sim).await, "sessions_opened");
            assert_eq!(before, 1);
            sim.expire_sessions().await.unwrap();
        }
    }
    read.task.await.unwrap();
    assert!(pages.len() > 3);
    assert_same(
        object,
        &delivered_once(object, &pages),
        &truth(&sim, object).await,
    );
    assert_eq!(counter(&counters(&sim).await, "sessions_opened"), 2);
    assert_eq!(client.logins(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_readers_share_one_login_and_one_relogin() {
    let config = sim_config(Scale::Demo);
    let sim = start(config.clone()).await;
    let client = client(&sim, &config);
    let objects = ["VENDOR", "APBILL", "CUSTOMER", "EMPLOYEE"];
    let mut reads: Vec<_> = objects
        .iter()
        .map(|o| client.read_object(request(o, everything(), 100)))
        .collect();
    // Everybody's first page, then the session dies under all of them at once.
    let mut pages: Vec<Vec<Page>> = Vec::new();
    for read in &mut reads {
        pages.push(vec![read.pages.recv().await.unwrap().unwrap()]);
    }
    assert_eq!(counter(&counters(&sim).await, "sessions_opened"), 1);
    sim.expire_sessions().await.unwrap();
    for (read, got) in reads.iter_mut().zip(&mut pages) {
        while let Some(page) = read.pages.recv().await {
            got.push(page.unwrap());
        }
    }
    for (object, got) in objects.iter().zip(&pages) {
        assert_same(
            object,
            &delivered_once(object, got),
            &truth(&sim, object).await,
        );
    }
    assert_eq!(counter(&counters(&sim).await, "sessions_opened"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_changed_during_a_read_leave_its_closed_window_for_the_next_run() {
    let config = sim_config(Scale::Demo);
    let sim = start(config.clone()).await;
    let client = client(&sim, &config);
    let tz = config.dataset.time_zone;
    let object = "APBILL";
    let start_clock = sim_now(&sim).await;
    // The window ends when the run starts, as every run's does.
    let closed = TimeWindow {
        from: None,
        to: start_clock,
    };
    let mut read = client.read_object(request(object, closed, 200));
    let mut pages = Vec::new();
    while let Some(page) = read.pages.recv().await {
        pages.push(page.unwrap());
        if pages.len() == 2 || pages.len() == 4 {
            sim.advance_days(1).await.unwrap();
        }
    }
    read.task.await.unwrap();
    let want = truth(&sim, object).await;
    let stamp = |row: &Row| {
        row["WHENMODIFIED"]
            .clone()
            .or_else(|| row["WHENCREATED"].clone())
            .unwrap()
    };
    // Every stamp the truth or a page holds, read independently.
    let stamps: Vec<String> = want
        .values()
        .cloned()
        .chain(pages.iter().flat_map(rows_of))
        .map(|row| stamp(&row))
        .collect();
    let clock = WallClock::of(tz.name(), stamps.iter().map(String::as_str));
    let changed_at = |row: &Row| clock.instant(&stamp(row));
    // Records touched by the two simulated days (created or modified after the start).
    let changed: BTreeSet<u64> = want
        .iter()
        .filter(|(_, row)| changed_at(row) >= start_clock)
        .map(|(k, _)| *k)
        .collect();
    assert!(!changed.is_empty(), "the simulated days changed nothing");
    let mut first: BTreeMap<u64, Row> = BTreeMap::new();
    for page in &pages {
        for row in rows_of(page) {
            let key = key_of(&row, &KeyFields::standard());
            assert!(
                changed_at(&row) < start_clock,
                "record {key} is past the window"
            );
            assert!(
                first.insert(key, row).is_none(),
                "record {key} delivered twice"
            );
        }
    }
    // Everything not changed during the read was read, as it is now.
    let unchanged: BTreeMap<u64, Row> = want
        .iter()
        .filter(|(k, _)| !changed.contains(k))
        .map(|(k, r)| (*k, r.clone()))
        .collect();
    let mut got = first.clone();
    got.retain(|k, _| unchanged.contains_key(k));
    assert_same(object, &got, &unchanged);
    // The next run's window starts at this one's end (minus a lookback) and reads the rest.
    let next = TimeWindow {
        from: Some(start_clock - chrono::Duration::hours(2)),
        to: sim_now(&sim).await,
    };
    let pages = read_all(&client, request(object, next, 200)).await.unwrap();
    let mut last = first;
    last.extend(delivered_once(object, &pages));
    last.retain(|k, _| want.contains_key(k));
    assert_same(object, &last, &want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_line_object_is_read_in_recordno_order_where_a_sort_on_whenmodified_times_out() {
    let mut config = sim_config(Scale::Demo);
    config.sort_timeout_rows = 100;
    let sim = start(config.clone()).await;
    let client = client(&sim, &config);
    let object = "APBILLITEM";
    let want = truth(&sim, object).await;
    assert!(want.len() > 100, "the line object is not large here");
    let pages = read_all(&client, request(object, everything(), 500))
        .await
        .unwrap();
    assert_same(object, &delivered_once(object, &pages), &want);
    // Within each pass the cursor only moves forward through RECORDNO.
    for pair in pages.windows(2) {
        if let (Some(a), Some(b)) = (&pair[0].cursor_after, &pair[1].cursor_after)
            && a.pass == b.pass
        {
            assert!(b.record_no > a.record_no, "{a:?} then {b:?}");
        }
    }
    // The same read ordered by WHENMODIFIED times out at the gateway.
    let mut by_time = request(object, everything(), 500);
    by_time.keys.order = PageOrder::ChangeTime;
    match read_all(&client, by_time).await {
        Err(Error::Intacct(failure)) => {
            assert!(
                failure.errors.iter().any(|e| e.errorno == "DL02000001"),
                "{failure:?}"
            );
        }
        other => panic!("a WHENMODIFIED sort of a large line object was served: {other:?}"),
    }
}

async fn sim_now(sim: &SimHandle) -> DateTime<Utc> {
    let body: Value = reqwest::get(format!("{}/__sim/clock", sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["now"].as_str().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_login_fails_at_once_and_is_not_retried() {
    let config = sim_config(Scale::Tiny);
    let sim = start(config.clone()).await;
    let mut cc = client_config(&sim, &config);
    cc.user_password = Secret::new("not-the-password");
    let client = IntacctClient::new(cc).unwrap();
    let err = read_all(&client, request("VENDOR", everything(), 100))
        .await
        .unwrap_err();
    match &err {
        Error::Intacct(f) => assert_eq!(f.level, ErrorLevel::Authentication),
        other => panic!("expected an authentication failure, got {other:?}"),
    }
    assert!(!err.is_retryable());
    let text = format!("{err} {err:?}");
    assert!(!text.contains("not-the-password"), "{text}");
    // A second read is refused without asking the gateway again.
    assert!(
        read_all(&client, request("APBILL", everything(), 100))
            .await
            .is_err()
    );
    let c = counters(&sim).await;
    assert_eq!(counter(&c, "requests"), 1, "{c}");
    assert_eq!(counter(&c, "sessions_opened"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_endpoint_on_plain_http_off_loopback_is_not_followed() {
    let mut config = sim_config(Scale::Tiny);
    config.advertised_endpoint = Some("http://intacct.example.com/ia/xml/xmlgw.phtml".into());
    let sim = start(config.clone()).await;
    let client = client(&sim, &config);
    let err = read_all(&client, request("VENDOR", everything(), 100))
        .await
        .unwrap_err();
    match &err {
        Error::MalformedResponse { kind, detail } => {
            assert_eq!(*kind, MalformedKind::UnexpectedStructure);
            assert!(
                detail.contains("http://intacct.example.com") && detail.contains("session id"),
                "{detail}"
            );
        }
        other => panic!("expected a refused session endpoint, got {other:?}"),
    }
    assert!(!err.is_retryable());
    // The login was the only request: no query went anywhere with the session id.
    let c = counters(&sim).await;
    assert_eq!(function_count(&c, "query"), 0, "{c}");
    sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_errors_fail_at_once_with_intacct_text() {
    let config = sim_config(Scale::Tiny);
    let sim = start(config.clone()).await;
    let client = client(&sim, &config);
    // An unknown field.
    let mut r = request("VENDOR", everything(), 100);
    r.fields = Some(vec!["NO_SUCH_FIELD".into()]);
    let err = read_all(&client, r).await.unwrap_err();
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("NO_SUCH_FIELD"), "{err}");
    assert_eq!(function_count(&counters(&sim).await, "query"), 1);
    // An unknown object (its lookup fails).
    let err = read_all(&client, request("NOSUCHOBJECT", everything(), 100))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("NOSUCHOBJECT"), "{err}");
    // VENDOR's lookup (which field pages records with an empty WHENMODIFIED) and the
    // unknown object's.
    assert_eq!(function_count(&counters(&sim).await, "lookup"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_retryable_injected_errors_surface_without_retries() {
    for (fault, level) in [
        ("control-error@query", ErrorLevel::Control),
        ("result-error=PL04000005@query", ErrorLevel::Result),
    ] {
        let mut config = sim_config(Scale::Tiny);
        config.faults = fault.into();
        let sim = start(config.clone()).await;
        let client = client(&sim, &config);
        let err = read_all(&client, request("VENDOR", everything(), 100))
            .await
            .unwrap_err();
        match &err {
            Error::Intacct(f) => assert_eq!(f.level, level, "{fault}"),
            other => panic!("{fault}: {other:?}"),
        }
        // The fault hits every query request, so one injection means no retry.
        let c = counters(&sim).await;
        let kind = fault.split(['=', '@']).next().unwrap();
        assert_eq!(c["faults_injected"][kind].as_u64(), Some(1), "{fault}: {c}");
    }
    // A session refused on every use (sessions may be invalidated on Sage's side at any
    // time): a new login and a resend at once, then a new login and a resend per attempt of
    // the retry budget, then the error.
    let mut config = sim_config(Scale::Tiny);
    config.faults = "auth-error@query".into();
    let sim = start(config.clone()).await;
    let cc = client_config(&sim, &config);
    let budget = u64::from(cc.retry.max_attempts);
    let client = IntacctClient::new(cc).unwrap();
    let err = read_all(&client, request("VENDOR", everything(), 100))
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::Intacct(f) if f.level == ErrorLevel::Authentication));
    let c = counters(&sim).await;
    // The first session, the one replacing it at once, one more per further attempt.
    assert_eq!(counter(&c, "sessions_opened"), 2 + (budget - 1), "{c}");
    assert_eq!(
        c["faults_injected"]["auth-error"].as_u64(),
        Some(1 + budget),
        "{c}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_concurrency_limit_is_shared_by_every_read() {
    let mut config = sim_config(Scale::Demo);
    config.max_concurrent = 2;
    config.latency_ms = 5;
    let sim = start(config.clone()).await;
    let client = client(&sim, &config);
    let objects = [
        "VENDOR",
        "APBILL",
        "APBILLITEM",
        "CUSTOMER",
        "PROJECT",
        "EMPLOYEE",
    ];
    let reads: Vec<_> = objects
        .iter()
        .map(|o| {
            let client = client.clone();
            let r = request(o, everything(), 150);
            tokio::spawn(async move { read_all(&client, r).await })
        })
        .collect();
    for (object, read) in objects.iter().zip(reads) {
        let pages = read.await.unwrap().unwrap();
        assert_same(
            object,
            &delivered_once(object, &pages),
            &truth(&sim, object).await,
        );
    }
    let c = counters(&sim).await;
    assert!(counter(&c, "max_in_flight") <= 2, "{c}");
    assert!(counter(&c, "max_in_flight") >= 1);
    assert_eq!(
        c["faults_injected"]["concurrency"].as_u64().unwrap_or(0),
        0,
        "{c}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_counts_pages_records_and_totals() {
    let config = sim_config(Scale::Demo);
    let sim = start(config.clone()).await;
    let client = client(&sim, &config);
    let object = "CUSTOMER";
    let mut read = client.read_object(request(object, everything(), 120));
    let mut pages = 0;
    let mut records = 0;
    while let Some(page) = read.pages.recv().await {
        let page = page.unwrap();
        pages += 1;
        records += page.records.len() as u64;
    }
    read.task.await.unwrap();
    let progress = read.progress.borrow().clone();
    assert!(progress.finished);
    assert_eq!(progress.pages, pages);
    assert_eq!(progress.records, records);
    assert_eq!(records, truth(&sim, object).await.len() as u64);
    assert_eq!(progress.total_count, Some(records));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_is_replaced_before_the_gateway_times_it_out() {
    let mut config = sim_config(Scale::Tiny);
    config.session_timeout_secs = 4;
    let sim = start(config.clone()).await;
    let client = client(&sim, &config);
    let lookup = Call::Lookup {
        object: "VENDOR".into(),
    };
    client.call("first", &lookup).await.unwrap();
    // Longer than the gateway's 4 s session: a client that waited for the refusal would
    // need a refused request, a login and a resend.
    tokio::time::sleep(std::time::Duration::from_millis(4_500)).await;
    client.call("second", &lookup).await.unwrap();
    let c = counters(&sim).await;
    assert_eq!(counter(&c, "sessions_opened"), 2, "{c}");
    assert_eq!(
        counter(&c, "requests"),
        4,
        "login, lookup, login, lookup: {c}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_ttl_caps_a_long_gateway_session() {
    let config = sim_config(Scale::Tiny);
    let sim = start(config.clone()).await;
    let mut cc = client_config(&sim, &config);
    cc.session_ttl_secs = 2;
    let client = IntacctClient::new(cc).unwrap();
    let lookup = Call::Lookup {
        object: "VENDOR".into(),
    };
    client.call("first", &lookup).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    client.call("second", &lookup).await.unwrap();
    let c = counters(&sim).await;
    assert_eq!(counter(&c, "sessions_opened"), 2, "{c}");
    assert_eq!(counter(&c, "requests"), 4, "{c}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_401_on_a_session_call_costs_one_login() {
    let mut config = sim_config(Scale::Demo);
    config.faults = "http401@query:nth=2".into();
    let sim = start(config.clone()).await;
    let client = client(&sim, &config);
    let object = "VENDOR";
    let pages = read_all(&client, request(object, everything(), 100))
        .await
        .unwrap();
    assert_same(
        object,
        &delivered_once(object, &pages),
        &truth(&sim, object).await,
    );
    let c = counters(&sim).await;
    assert_eq!(c["faults_injected"]["http401"].as_u64(), Some(1), "{c}");
    assert_eq!(counter(&c, "sessions_opened"), 2, "{c}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_consumer_holds_the_reader_back() {
    let config = sim_config(Scale::Demo);
    let sim = start(config.clone()).await;
    let mut cc = client_config(&sim, &config);
    cc.page_buffer = 1;
    let client = IntacctClient::new(cc).unwrap();
    let object = "VENDOR";
    let mut read = client.read_object(request(object, everything(), 50));
    // With a one-page buffer the reader can run two pages ahead of the consumer: one in the
    // buffer, one fetched and waiting for room. Before each page is taken, wait until the
    // reader is that far ahead (or done), so a reader that is merely slow cannot pass for one
    // that is held; then it must be exactly there, blocked on the full buffer.
    let mut pages = Vec::new();
    loop {
        let taken = pages.len() as u64;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
        let fetched = loop {
            let fetched = counter(&counters(&sim).await, "pages");
            if fetched >= taken + 2 || read.progress.borrow().finished {
                break fetched;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the reader stalled at {fetched} pages with {taken} taken"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        };
        assert!(
            fetched <= taken + 2,
            "{fetched} pages fetched with {taken} taken"
        );
        if !read.progress.borrow().finished {
            assert_eq!(fetched, taken + 2);
            // Sent: every page taken and the one in the buffer, not the one waiting.
            assert_eq!(read.progress.borrow().pages, taken + 1);
            assert_eq!(read.pages.len(), 1);
        }
        match read.pages.recv().await {
            Some(page) => pages.push(page.unwrap()),
            None => break,
        }
    }
    read.task.await.unwrap();
    assert_eq!(counter(&counters(&sim).await, "pages"), pages.len() as u64);
    assert!(pages.len() > 5);
    assert_same(
        object,
        &delivered_once(object, &pages),
        &truth(&sim, object).await,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_lookups_of_one_object_send_one_request() {
    let config = sim_config(Scale::Tiny);
    let sim = start(config.clone()).await;
    // Slow lookups, so every caller arrives while the first request is still in flight.
    sim.set_faults("slow=300@lookup").await.unwrap();
    let client = client(&sim, &config);
    let callers: Vec<_> = ["VENDOR", "APBILL"]
        .iter()
        .flat_map(|object| std::iter::repeat_n(*object, 6))
        .map(|object| {
            let client = client.clone();
            tokio::spawn(async move { (object, client.lookup(object).await.unwrap()) })
        })
        .collect();
    let mut answers: BTreeMap<&str, Vec<_>> = BTreeMap::new();
    for caller in callers {
        let (object, meta) = caller.await.unwrap();
        assert!(meta.name.eq_ignore_ascii_case(object));
        answers.entry(object).or_default().push(meta);
    }
    for (object, metas) in &answers {
        assert_eq!(metas.len(), 6);
        // Every caller got the one cached answer.
        assert!(
            metas.iter().all(|m| std::sync::Arc::ptr_eq(m, &metas[0])),
            "{object}"
        );
    }
    assert_eq!(function_count(&counters(&sim).await, "lookup"), 2);
    // Later callers are served from the cache.
    client.lookup("VENDOR").await.unwrap();
    assert_eq!(function_count(&counters(&sim).await, "lookup"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_lookup_is_not_cached() {
    let config = sim_config(Scale::Tiny);
    let sim = start(config.clone()).await;
    sim.set_faults("result-error=PL04000055@lookup:nth=1")
        .await
        .unwrap();
    let client = client(&sim, &config);
    assert!(client.lookup("VENDOR").await.is_err());
    let meta = client.lookup("VENDOR").await.unwrap();
    assert!(!meta.fields.is_empty());
    assert_eq!(function_count(&counters(&sim).await, "lookup"), 2);
}

/// A login refused at any level — the user (authentication level), the sender (control
/// level) or the gateway's HTTP 401 — costs exactly one request for the whole run: every
/// later read, concurrent or not, of any object gets the same refusal without a login.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_refused_at_any_level_costs_one_request_per_run() {
    for refusal in ["user", "sender", "http401"] {
        let config = sim_config(Scale::Tiny);
        let sim = start(config.clone()).await;
        let mut cc = client_config(&sim, &config);
        match refusal {
            "user" => cc.user_password = Secret::new("not-the-password"),
            "sender" => cc.sender.sender_password = Secret::new("not-the-sender-password"),
            _ => {
                sim.set_faults("http401@getAPISession").await.unwrap();
            }
        }
        let client = IntacctClient::new(cc).unwrap();
        let objects = ["VENDOR", "APBILL", "APBILLITEM", "GLACCOUNT"];
        let concurrent = futures::future::join_all(
            objects
                .iter()
                .map(|o| read_all(&client, request(o, everything(), 100))),
        )
        .await;
        for object in objects {
            let again = read_all(&client, request(object, everything(), 100)).await;
            assert!(again.is_err(), "{refusal}: {object} read");
        }
        for result in concurrent {
            let err = result.unwrap_err();
            assert!(!err.is_retryable(), "{refusal}: {err}");
            match (refusal, &err) {
                ("user", Error::Intacct(f)) => assert_eq!(f.level, ErrorLevel::Authentication),
                ("sender", Error::Intacct(f)) => assert_eq!(f.level, ErrorLevel::Control),
                ("http401", Error::Intacct(_) | Error::HttpStatus { status: 401, .. }) => {}
                (_, other) => panic!("{refusal}: unexpected {other:?}"),
            }
        }
        let c = counters(&sim).await;
        assert_eq!(counter(&c, "requests"), 1, "{refusal}: {c}");
        assert_eq!(counter(&c, "sessions_opened"), 0, "{refusal}");
        assert_eq!(client.logins(), 0);
    }
}

/// APBILL's WHENCREATED is the bill date (a DATE, back-datable) and AUWHENCREATED its
/// creation timestamp: a bill with an empty WHENMODIFIED is read exactly once, in the window
/// holding its AUWHENCREATED, never by its bill date; the simulator refuses a timestamp
/// literal compared with the DATE field, so a client that sent one would fail here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_back_dated_bill_with_an_empty_whenmodified_is_read_once_by_its_creation_time() {
    let config = sim_config(Scale::Demo);
    let sim = start(config.clone()).await;
    let client = client(&sim, &config);
    let tz = config.dataset.time_zone;
    let all = truth(&sim, "APBILL").await;
    // Creation timestamps and bill dates (a date is its midnight), read independently.
    let clock = WallClock::of(
        tz.name(),
        all.values().flat_map(|row| {
            ["AUWHENCREATED", "WHENCREATED"]
                .into_iter()
                .filter_map(|field| row[field].as_deref())
        }),
    );
    let parse = |text: &str| clock.instant(text);
    let bill_date = |row: &Row| {
        let text = row["WHENCREATED"].as_deref().unwrap();
        assert!(
            chrono::NaiveDate::parse_from_str(text, "%m/%d/%Y").is_ok(),
            "bill date {text:?}"
        );
        parse(text)
    };
    let back_dated: Vec<(&u64, &Row)> = all
        .iter()
        .filter(|(_, row)| row["WHENMODIFIED"].is_none())
        .filter(|(_, row)| {
            bill_date(row) + chrono::Duration::days(1)
                < parse(row["AUWHENCREATED"].as_deref().unwrap())
        })
        .collect();
    assert!(!back_dated.is_empty(), "the simulator back-dates bills");
    // Everything: each once (`delivered_once` panics on a repeat).
    let got = delivered_once(
        "APBILL",
        &read_all(&client, request("APBILL", everything(), 500))
            .await
            .unwrap(),
    );
    assert_same("APBILL", &got, &all);
    let (key, row) = back_dated[0];
    let created = parse(row["AUWHENCREATED"].as_deref().unwrap());
    // A window around its creation instant holds it ...
    let around = TimeWindow {
        from: Some(created),
        to: created + chrono::Duration::seconds(1),
    };
    let got = delivered_once(
        "APBILL",
        &read_all(&client, request("APBILL", around, 500))
            .await
            .unwrap(),
    );
    assert!(
        got.contains_key(key),
        "bill {key} not read by AUWHENCREATED"
    );
    // ... a window around its bill date does not.
    let dated = TimeWindow {
        from: Some(bill_date(row)),
        to: bill_date(row) + chrono::Duration::days(1),
    };
    let got = delivered_once(
        "APBILL",
        &read_all(&client, request("APBILL", dated, 500))
            .await
            .unwrap(),
    );
    assert!(!got.contains_key(key), "bill {key} read by its bill date");
}

/// PROJECT lists fields in `lookup` that `query` refuses with the gateway's own text: the
/// deny list keeps two out of the select, the third is learnt from the refusal (one refused
/// query, then the page again without it), remembered for the run and reported; a second
/// read sends no refused query.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_query_refuses_are_dropped_once_remembered_and_reported() {
    let config = sim_config(Scale::Tiny);
    let sim = start(config.clone()).await;
    let client = client(&sim, &config);
    // The gateway's refusal, as a client that selects them sees it.
    let mut r = request("PROJECT", everything(), 100);
    r.fields = Some(vec!["PROJECTID".into(), "ROOTPARENTKEY".into()]);
    r.method = ReadMethod::Query;
    let pages = read_all(&client, r).await.unwrap();
    assert_eq!(client.refused_fields("PROJECT"), ["ROOTPARENTKEY"]);
    assert!(
        pages
            .iter()
            .all(|p| p.records.column_index("ROOTPARENTKEY").is_none())
    );
    let first = function_count(&counters(&sim).await, "query");
    // No new login: the refusal is not a session problem.
    assert_eq!(counter(&counters(&sim).await, "sessions_opened"), 1);
    // Every field: the deny list and the remembered field stay out; no refusal is sent.
    let pages = read_all(&client, request("PROJECT", everything(), 100))
        .await
        .unwrap();
    assert_eq!(
        client.refused_fields("PROJECT"),
        ["ROOTPARENTID", "ROOTPARENTKEY", "ROOTPARENTNAME"]
    );
    // The same passes, without the refused query.
    assert_eq!(
        function_count(&counters(&sim).await, "query"),
        2 * first - 1
    );
    let got = delivered_once("PROJECT", &pages);
    assert_eq!(got.len(), truth(&sim, "PROJECT").await.len());
    // readByQuery serves them.
    let mut r = request("PROJECT", everything(), 100);
    r.method = ReadMethod::ReadByQuery;
    r.fields = Some(vec!["ROOTPARENTKEY".into()]);
    read_all(&client, r).await.unwrap();
}

/// A page that times out (here the CDN's 524) is asked again at half the size on its first
/// timeout, after a pause, down to 100 rows, each request under a controlid of its own;
/// nothing is lost or repeated, and a gateway that keeps timing out ends the read after
/// 1000 → 500 → 250 → 125 → 100.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_page_is_read_again_at_half_the_size() {
    let mut config = sim_config(Scale::Demo);
    // Requests the CDN cut end at once at the gateway here: this test is about the halving,
    // not about the slots they would keep (see `timed_out_requests_keep_their_slots`).
    config.detached_slot_ms = 0;
    let sim = start(config.clone()).await;
    let mut cc = client_config(&sim, &config);
    cc.retry.max_attempts = 1;
    let client = IntacctClient::new(cc).unwrap();
    sim.set_faults("http524@query:nth=1").await.unwrap();
    let pages = read_all(&client, request("APBILLITEM", everything(), 1_000))
        .await
        .unwrap();
    assert!(pages[0].records.len() <= 500, "{}", pages[0].records.len());
    let got = delivered_once("APBILLITEM", &pages);
    assert_eq!(got.len(), truth(&sim, "APBILLITEM").await.len());
    let c = counters(&sim).await;
    assert_eq!(c["faults_injected"]["http524"].as_u64(), Some(1), "{c}");

    sim.set_faults("http524@query").await.unwrap();
    let err = read_all(&client, request("APBILLITEM", everything(), 1_000))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::HttpStatus { status: 524, .. }),
        "{err:?}"
    );
    let c = counters(&sim).await;
    assert_eq!(c["faults_injected"]["http524"].as_u64(), Some(1 + 5), "{c}");
    // The same page asked for again at each size: never under a function controlid an
    // earlier request used.
    assert_eq!(counter(&c, "control_ids_repeated"), 0, "{c}");
}

/// A read of `object` in `slices` keyset chains.
fn sliced(object: &str, page_size: u32, slices: u32) -> ReadRequest {
    let mut r = request(object, everything(), page_size);
    r.slices = slices;
    r
}

/// One large object read as three RECORDNO slices under a limit of two requests: both slots
/// carry requests of the one read (a single keyset chain never has two on their way), every
/// record arrives exactly once, and the only extra requests are one highest-key probe per
/// pass and one short last page per chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sliced_read_keeps_both_slots_busy_and_reads_every_record_once() {
    let mut config = sim_config(Scale::Demo);
    config.max_concurrent = 2;
    config.latency_ms = 20;
    let sim = start(config.clone()).await;
    let sliced_client = client(&sim, &config);
    let object = "APBILLITEM";
    let want = truth(&sim, object).await;
    let page_size = 200;
    let full_pages = want.len().div_ceil(page_size as usize) as u64;
    assert!(full_pages >= 10, "{object} is too small to slice here");
    let pages = read_all(&sliced_client, sliced(object, page_size, 3))
        .await
        .unwrap();
    assert_same(object, &delivered_once(object, &pages), &want);
    assert!(pages.iter().all(|p| p.cursor_after.is_none()));
    let c = counters(&sim).await;
    assert_eq!(counter(&c, "max_in_flight"), 2, "{c}");
    let queries = function_count(&c, "query");
    let delivered = pages.len() as u64;
    // Per pass at most one probe; chains end in short pages, a handful over the minimum.
    assert!(
        queries <= delivered + 2,
        "{queries} queries for {delivered} pages"
    );
    assert!(
        delivered <= full_pages + 8,
        "{delivered} pages where {full_pages} would hold every record"
    );
    // The same read as one chain: one request at a time, and the same records.
    let config_one = config.clone();
    let sim_one = start(config_one.clone()).await;
    let one = read_all(&client(&sim_one, &config_one), sliced(object, page_size, 1))
        .await
        .unwrap();
    assert_same(object, &delivered_once(object, &one), &want);
    assert!(one.iter().all(|p| p.cursor_after.is_some()));
    assert_eq!(counter(&counters(&sim_one).await, "max_in_flight"), 1);
}

/// Slices under retryable faults, each retried in its own chain, and a gateway that refuses
/// the highest-key probe: the pass is read as one chain, nothing lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sliced_read_survives_faults_and_a_refused_probe() {
    let mut config = sim_config(Scale::Demo);
    config.max_concurrent = 2;
    config.faults =
        "rate-limit@query:every=4,http503@query:every=7,truncate@query:every=9,http524@query:nth=6"
            .into();
    let sim = start(config.clone()).await;
    let faulty = client(&sim, &config);
    let object = "APBILLITEM";
    let want = truth(&sim, object).await;
    let pages = read_all(&faulty, sliced(object, 200, 3)).await.unwrap();
    assert_same(object, &delivered_once(object, &pages), &want);
    let c = counters(&sim).await;
    for kind in ["rate-limit", "http503", "truncate"] {
        assert!(
            c["faults_injected"][kind].as_u64().unwrap_or(0) > 0,
            "{kind}: {c}"
        );
    }
    assert_eq!(c["faults_injected"]["http524"].as_u64(), Some(1), "{c}");
    assert_eq!(counter(&c, "max_in_flight"), 2, "{c}");

    // The second query of the read is the probe (the first page comes back first): refused
    // for good, the pass goes on as one chain.
    let mut config = sim_config(Scale::Demo);
    config.max_concurrent = 2;
    config.faults = "result-error=PL04000005@query:nth=2".into();
    let sim = start(config.clone()).await;
    let refused = client(&sim, &config);
    let pages = read_all(&refused, sliced(object, 200, 3)).await.unwrap();
    assert_same(
        object,
        &delivered_once(object, &pages),
        &truth(&sim, object).await,
    );
    let c = counters(&sim).await;
    assert_eq!(
        c["faults_injected"]["result-error"].as_u64(),
        Some(1),
        "{c}"
    );
    assert_eq!(counter(&c, "max_in_flight"), 1, "{c}");
}

/// A page the CDN cut (524) runs on at the gateway and keeps its slot: the client steps down
/// to one request at a time, asks for the page again at half the size after a pause, and
/// reads every record once; its usage counts the timeout and the level it went down to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timed_out_requests_keep_their_slots() {
    let mut config = sim_config(Scale::Demo);
    config.concurrency_hold_ms = 500;
    config.detached_slot_ms = 3_000;
    config.faults = "http524@query:nth=2".into();
    let sim = start(config.clone()).await;
    let client = client(&sim, &config);
    let object = "APBILLITEM";
    let pages = read_all(&client, sliced(object, 200, 3)).await.unwrap();
    assert_same(
        object,
        &delivered_once(object, &pages),
        &truth(&sim, object).await,
    );
    let c = counters(&sim).await;
    assert_eq!(c["faults_injected"]["http524"].as_u64(), Some(1), "{c}");
    let usage = client.usage().concurrency;
    assert_eq!((usage.max, usage.lowest), (2, 1), "{usage:?}");
    assert_eq!(usage.timeouts, 1, "{usage:?}");
    assert!(usage.decreases >= 1, "{usage:?}");
}
