//! The simulator's dataset: determinism, the change index against a brute-force model,
//! deletes in AUDITHISTORY, foreign keys and sums, value types and hostile content.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use intacct_sim::{Dataset, DatasetConfig, Scale, SimRecord};
use intacct_snowflake::intacct::IntacctType;
use intacct_snowflake::intacct::is_forbidden_xml_char;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).unwrap()
}

fn config(seed: u64, scale: Scale) -> DatasetConfig {
    DatasetConfig {
        seed,
        scale,
        start: start(),
        time_zone: chrono_tz::UTC,
    }
}

fn demo() -> Dataset {
    Dataset::new(config(42, Scale::Demo))
}

/// Parses wire text written in UTC (the test configs use UTC, so the text is unambiguous).
fn parse_ts(text: &str) -> i64 {
    NaiveDateTime::parse_from_str(text, "%m/%d/%Y %H:%M:%S")
        .unwrap_or_else(|e| panic!("{text:?}: {e}"))
        .and_utc()
        .timestamp()
}

fn cents(text: &str) -> i64 {
    let (units, frac) = text.split_once('.').unwrap_or_else(|| panic!("{text:?}"));
    assert_eq!(frac.len(), 2, "{text:?}");
    units.parse::<i64>().unwrap() * 100 + frac.parse::<i64>().unwrap()
}

struct Table {
    index: HashMap<String, usize>,
    records: Vec<SimRecord>,
}

impl Table {
    fn load(ds: &Dataset, object: &str) -> Table {
        let meta = ds.object_meta(object).unwrap();
        Table {
            index: meta
                .fields
                .iter()
                .enumerate()
                .map(|(i, f)| (f.name.clone(), i))
                .collect(),
            records: ds.records(object).collect(),
        }
    }

    fn col<'a>(&self, r: &'a SimRecord, field: &str) -> Option<&'a str> {
        r.values[self.index[field]].as_deref()
    }

    fn set(&self, field: &str) -> HashSet<String> {
        self.records
            .iter()
            .filter_map(|r| self.col(r, field).map(str::to_string))
            .collect()
    }
}

/// The effective instant computed from the record's own text.
fn effective(ds: &Dataset, object: &str, t: &Table, r: &SimRecord) -> i64 {
    let (primary, fallback) = ds.watermark_fields(object).unwrap();
    match t.col(r, primary) {
        Some(v) => parse_ts(v),
        None => parse_ts(
            t.col(r, fallback.unwrap())
                .expect("WHENCREATED is never empty"),
        ),
    }
}

/// The brute-force model of `records_changed_since`: filter everything, then sort.
fn brute_force_since(ds: &Dataset, object: &str, since: i64) -> Vec<(i64, SimRecord)> {
    let t = Table::load(ds, object);
    let mut v: Vec<(i64, SimRecord)> = t
        .records
        .iter()
        .map(|r| (effective(ds, object, &t, r), r.clone()))
        .filter(|(e, _)| *e >= since)
        .collect();
    v.sort_by_key(|(e, r)| (*e, r.record_no));
    v
}

fn assert_index_matches_brute_force(ds: &Dataset, label: &str) {
    let go_live = (start() - chrono::Duration::days(3 * 365)).timestamp();
    let now = ds.now().timestamp();
    for object in ds.object_names() {
        for since in [
            go_live - 10,
            go_live + 1,
            go_live + 400 * 86_400,
            start().timestamp() - 40 * 86_400,
            start().timestamp() - 3_600,
            start().timestamp() + 86_400 + 7,
            now,
        ] {
            let want = brute_force_since(ds, object, since);
            let got: Vec<(i64, SimRecord)> = ds
                .records_changed_since_with_instants(
                    object,
                    DateTime::from_timestamp(since, 0).unwrap(),
                )
                .map(|(t, r)| (t.timestamp(), r))
                .collect();
            assert_eq!(
                got.len(),
                want.len(),
                "{label} {object} since {since}: count"
            );
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(
                    g.0, w.0,
                    "{label} {object} since {since}: instant of {}",
                    w.1.record_no
                );
                assert_eq!(g.1, w.1, "{label} {object} since {since}");
            }
        }
    }
}

#[test]
fn dataset_can_be_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Dataset>();
}

#[test]
fn same_seed_gives_identical_bytes_and_another_seed_does_not() {
    let mut a = demo();
    let mut b = demo();
    assert_eq!(a.fingerprint(), b.fingerprint());
    let c = Dataset::new(config(43, Scale::Demo));
    assert_ne!(a.fingerprint(), c.fingerprint());
    assert_eq!(a.advance_days(2), b.advance_days(2));
    assert_eq!(a.fingerprint(), b.fingerprint());
    assert_ne!(a.fingerprint(), demo().fingerprint());
}

#[test]
fn changed_since_equals_filter_and_sort_before_and_after_simulated_days() {
    let mut ds = demo();
    assert_index_matches_brute_force(&ds, "day 0");
    let summary = ds.advance_days(3);
    assert!(summary.updated.values().sum::<u64>() > 100, "{summary:?}");
    assert!(summary.created["APBILL"] >= 3, "{summary:?}");
    assert!(summary.deleted["APBILL"] >= 3, "{summary:?}");
    assert_index_matches_brute_force(&ds, "day 3");
}

#[test]
fn fractional_since_starts_at_the_next_second() {
    let ds = demo();
    let bill = ds.records("APBILL").nth(1500).unwrap();
    let t = Table::load(&ds, "APBILL");
    let eff = effective(&ds, "APBILL", &t, &bill);
    let exact = DateTime::from_timestamp(eff, 0).unwrap();
    let later = DateTime::from_timestamp(eff, 1).unwrap();
    assert!(
        ds.records_changed_since("APBILL", exact)
            .any(|r| r.record_no == bill.record_no)
    );
    assert!(
        !ds.records_changed_since("APBILL", later)
            .any(|r| r.record_no == bill.record_no)
    );
}

#[test]
fn updates_move_records_to_their_new_instant_once() {
    let mut ds = demo();
    ds.advance_days(1);
    let since = ds.records_changed_since("VENDOR", start());
    let mut seen = HashSet::new();
    let t = Table::load(&ds, "VENDOR");
    let mut n = 0;
    for r in since {
        assert!(seen.insert(r.record_no), "VENDOR {} twice", r.record_no);
        let eff = effective(&ds, "VENDOR", &t, &r);
        assert!(eff >= start().timestamp() && eff < ds.now().timestamp());
        n += 1;
    }
    assert!(n >= 6, "about 1-3 % of 600 vendors change per day, got {n}");
}

#[test]
fn deletes_vanish_and_are_recorded_in_audithistory() {
    let before = demo();
    let mut ds = demo();
    ds.advance_days(4);
    let audit = Table::load(&ds, "AUDITHISTORY");
    // Lines have no audit rows: nothing names a removed one.
    assert!(
        !audit
            .set("OBJECTTYPE")
            .iter()
            .any(|t| t.ends_with("item") || t.ends_with("detail"))
    );
    let mut deleted: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut deleted_ids: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut modes = HashSet::new();
    // Rows become readable two hours after the change, as the real audit trail may lag.
    let visible_until = (ds.now() - chrono::Duration::hours(2))
        .with_timezone(&ds.config().time_zone)
        .naive_local()
        .and_utc()
        .timestamp();
    let mut latest = None;
    for r in &audit.records {
        let object_type = audit.col(r, "OBJECTTYPE").unwrap();
        assert_eq!(object_type, object_type.to_ascii_lowercase());
        // AUDITHISTORY names a bill, never its lines.
        assert!(
            !matches!(object_type, "apbillitem" | "appymtdetail"),
            "{object_type}"
        );
        let key = audit.col(r, "OBJECTKEY").unwrap();
        let mode = audit.col(r, "ACCESSMODE").unwrap();
        modes.insert(mode.to_string());
        let at = parse_ts(audit.col(r, "ACCESSTIME").unwrap());
        latest = latest.max(Some(at));
        let object = object_type.to_ascii_uppercase();
        // OBJECTKEY: `N--REC` for bills, a bare RECORDNO for payments, the unique name field
        // (VENDORID, ACCOUNTNO, …) for master data.
        let recno = match object.as_str() {
            "APBILL" => Some(key.strip_suffix("--REC").unwrap().parse::<u64>().unwrap()),
            "APPYMT" => Some(key.parse().unwrap()),
            _ => {
                assert!(!key.ends_with("--REC"), "{object} {key}");
                None
            }
        };
        if mode == "D" {
            match recno {
                Some(n) => deleted.entry(object).or_default().push(n),
                None => deleted_ids.entry(object).or_default().push(key.to_owned()),
            }
        }
    }
    assert!(
        latest.unwrap() <= visible_until,
        "a row younger than the lag"
    );
    assert_eq!(
        modes,
        ["C", "M", "D"].map(String::from).into_iter().collect()
    );
    let bills = &deleted["APBILL"];
    assert!(bills.len() >= 4);
    // Master data deleted by name: gone from the records, never a live record's name.
    for (object, id_field) in [
        ("VENDOR", "VENDORID"),
        ("CUSTOMER", "CUSTOMERID"),
        ("GLACCOUNT", "ACCOUNTNO"),
        ("DEPARTMENT", "DEPARTMENTID"),
        ("PROJECT", "PROJECTID"),
    ] {
        let ids = deleted_ids
            .get(object)
            .unwrap_or_else(|| panic!("no {object} deletes"));
        let t = Table::load(&ds, object);
        let live: HashSet<&str> = t
            .records
            .iter()
            .map(|r| t.col(r, id_field).unwrap())
            .collect();
        for id in ids {
            assert!(
                !live.contains(id.as_str()),
                "{object} {id} deleted but listed"
            );
        }
    }
    // Deleted GL accounts' numbers are RECORDNOs of live accounts.
    for id in &deleted_ids["GLACCOUNT"] {
        let n: u64 = id.parse().unwrap();
        assert!(ds.get("GLACCOUNT", n).is_some(), "account {id}");
    }
    for (object, keys) in &deleted {
        let live: HashSet<u64> = ds.records(object).map(|r| r.record_no).collect();
        for k in keys {
            assert!(!live.contains(k), "{object} {k} deleted but listed");
            assert!(ds.get(object, *k).is_none());
        }
    }
    // Delete-and-recreate: a deleted base bill's number comes back under a new RECORDNO.
    let t = Table::load(&ds, "APBILL");
    let live_ids: HashMap<&str, u64> = t
        .records
        .iter()
        .map(|r| (t.col(r, "RECORDID").unwrap(), r.record_no))
        .collect();
    let recreated = bills
        .iter()
        .filter_map(|k| before.get("APBILL", *k))
        .filter(|old| {
            let id = old.values[t.index["RECORDID"]].as_deref().unwrap();
            live_ids
                .get(id)
                .is_some_and(|new_no| *new_no != old.record_no)
        });
    assert!(recreated.count() >= 1, "no bill was deleted and recreated");
}

#[test]
fn len_equals_the_records_listed_and_records_ascend() {
    let mut ds = demo();
    for day in 0..2 {
        let mut total = 0;
        for object in ds.object_names() {
            let recnos: Vec<u64> = ds.records(object).map(|r| r.record_no).collect();
            assert!(recnos.windows(2).all(|w| w[0] < w[1]), "{object}");
            assert_eq!(recnos.len() as u64, ds.len(object), "{object} day {day}");
            total += recnos.len();
            if let Some(&k) = recnos.last() {
                assert_eq!(ds.get(object, k).unwrap().record_no, k);
            }
            for from in [
                0,
                2,
                recnos.len() as u64 / 2,
                recnos.last().copied().unwrap_or(0) + 1,
            ] {
                let want: Vec<u64> = recnos.iter().copied().filter(|r| *r >= from).collect();
                let got: Vec<u64> = ds.records_from(object, from).map(|r| r.record_no).collect();
                assert_eq!(got, want, "{object} from {from}");
            }
        }
        if day == 0 {
            assert!(
                (10_000..=20_000).contains(&total),
                "demo has {total} records"
            );
        }
        ds.advance_days(1);
    }
}

fn assert_keys_and_sums(ds: &Dataset) {
    let vendor = Table::load(ds, "VENDOR");
    let bill = Table::load(ds, "APBILL");
    let line = Table::load(ds, "APBILLITEM");
    let pay = Table::load(ds, "APPYMT");
    let detail = Table::load(ds, "APPYMTDETAIL");
    let vendor_ids = vendor.set("VENDORID");
    let dims = [
        ("DEPARTMENTID", "DEPARTMENT", "DEPARTMENTID"),
        ("LOCATIONID", "LOCATION", "LOCATIONID"),
        ("CLASSID", "CLASS", "CLASSID"),
        ("PROJECTID", "PROJECT", "PROJECTID"),
        ("ACCOUNTNO", "GLACCOUNT", "ACCOUNTNO"),
    ]
    .map(|(f, o, k)| (f, Table::load(ds, o).set(k)));
    let mut line_sum: HashMap<u64, i64> = HashMap::new();
    for r in &line.records {
        let key: u64 = line.col(r, "RECORDKEY").unwrap().parse().unwrap();
        *line_sum.entry(key).or_default() += cents(line.col(r, "AMOUNT").unwrap());
        for (field, ids) in &dims {
            let v = line.col(r, field).unwrap();
            assert!(ids.contains(v), "line {} {field} {v} missing", r.record_no);
        }
        assert!(vendor_ids.contains(line.col(r, "VENDORID").unwrap()));
    }
    let mut paid: HashMap<u64, i64> = HashMap::new();
    let mut per_payment: HashMap<u64, i64> = HashMap::new();
    let payments: HashSet<u64> = pay.records.iter().map(|r| r.record_no).collect();
    for r in &detail.records {
        let b: u64 = detail.col(r, "RECORDKEY").unwrap().parse().unwrap();
        let p: u64 = detail.col(r, "PAYMENTKEY").unwrap().parse().unwrap();
        assert!(payments.contains(&p));
        let amount = cents(detail.col(r, "PAYMENTAMOUNT").unwrap());
        *paid.entry(b).or_default() += amount;
        *per_payment.entry(p).or_default() += amount;
    }
    let bills: HashSet<u64> = bill.records.iter().map(|r| r.record_no).collect();
    assert!(
        paid.keys().all(|b| bills.contains(b)),
        "a payment detail pays a missing bill"
    );
    assert!(
        line_sum.keys().all(|b| bills.contains(b)),
        "a line without its bill"
    );
    for r in &bill.records {
        assert!(vendor_ids.contains(bill.col(r, "VENDORID").unwrap()));
        let entered = cents(bill.col(r, "TOTALENTERED").unwrap());
        let total_paid = cents(bill.col(r, "TOTALPAID").unwrap());
        let due = cents(bill.col(r, "TOTALDUE").unwrap());
        assert_eq!(
            entered, line_sum[&r.record_no],
            "bill {} lines",
            r.record_no
        );
        assert_eq!(due, entered - total_paid, "bill {}", r.record_no);
        assert_eq!(
            total_paid,
            paid.get(&r.record_no).copied().unwrap_or(0),
            "bill {} paid",
            r.record_no
        );
    }
    for r in &pay.records {
        assert_eq!(
            cents(pay.col(r, "TOTALENTERED").unwrap()),
            per_payment[&r.record_no]
        );
        assert!(vendor_ids.contains(pay.col(r, "VENDORID").unwrap()));
    }
    assert!(
        !paid.is_empty() && paid.len() < bills.len(),
        "some bills paid, some open"
    );
}

#[test]
fn foreign_keys_and_sums_hold_before_and_after_changes() {
    let mut ds = demo();
    assert_keys_and_sums(&ds);
    ds.advance_days(3);
    assert_keys_and_sums(&ds);
}

fn is_date(v: &str) -> bool {
    chrono::NaiveDate::parse_from_str(v, "%m/%d/%Y").is_ok() && v.len() == 10
}

#[test]
fn every_value_has_its_declared_type_and_no_forbidden_character() {
    let mut ds = demo();
    ds.advance_days(1);
    let mut zero_fraction_integers = 0;
    let mut decimal_forms = std::collections::BTreeSet::new();
    for object in ds.object_names() {
        let meta = ds.object_meta(object).unwrap().clone();
        for r in ds.records(object) {
            assert_eq!(r.values.len(), meta.fields.len(), "{object}");
            let key = r.values[ds
                .field_index(object, ds.key_field(object).unwrap())
                .unwrap()]
            .clone()
            .unwrap();
            if object == "AUDITHISTORY" {
                // Typed TEXT and zero-padded, so text order is the order of the entries.
                assert_eq!(key, format!("{:010}", r.record_no));
            } else {
                assert_eq!(key, r.record_no.to_string());
            }
            for (f, v) in meta.fields.iter().zip(&r.values) {
                let Some(v) = v else { continue };
                assert!(!v.chars().any(is_forbidden_xml_char), "{object}.{}", f.name);
                let ok = match f.data_type {
                    // The gateway writes some INTEGER values as `12.0`.
                    IntacctType::Integer => {
                        zero_fraction_integers += usize::from(v.ends_with(".0"));
                        v.strip_suffix(".0").unwrap_or(v).parse::<u64>().is_ok()
                    }
                    // Signed, unscaled (`100`) or with up to 15 fraction digits, never an
                    // exponent or a separator.
                    IntacctType::Currency | IntacctType::Percent | IntacctType::Decimal => {
                        let digits = v.strip_prefix('-').unwrap_or(v);
                        let (a, b) = digits.split_once('.').unwrap_or((digits, ""));
                        decimal_forms.insert((v.starts_with('-'), b.len()));
                        a.parse::<u64>().is_ok()
                            && b.len() <= 15
                            && b.bytes().all(|c| c.is_ascii_digit())
                    }
                    IntacctType::Boolean => v == "true" || v == "false",
                    IntacctType::Date => is_date(v),
                    IntacctType::Timestamp => {
                        NaiveDateTime::parse_from_str(v, "%m/%d/%Y %H:%M:%S").is_ok()
                            && v.len() == 19
                    }
                    IntacctType::Enum => f.valid_values.iter().any(|x| x == v),
                    _ => true,
                };
                assert!(ok, "{object}.{} = {v:?} is not a {:?}", f.name, f.data_type);
            }
        }
    }
    assert!(zero_fraction_integers > 0, "no INTEGER written as N.0");
    // Negative amounts, unscaled ones, one fraction digit (long amounts), two, ten (rates)
    // and fifteen (computed percentages).
    for form in [
        (true, 2),
        (false, 0),
        (true, 1),
        (false, 2),
        (false, 10),
        (false, 15),
    ] {
        assert!(
            decimal_forms.contains(&form),
            "{form:?} not in {decimal_forms:?}"
        );
    }
}

#[test]
fn demo_has_leading_zero_zips_empty_whenmodified_and_a_big_burst() {
    let ds = demo();
    let vendor = Table::load(&ds, "VENDOR");
    let zips = vendor.set("DISPLAYCONTACT.MAILADDRESS.ZIP");
    assert!(zips.iter().any(|z| z.starts_with("00")), "no 00xxx ZIP");
    assert!(zips.iter().filter(|z| z.starts_with('0')).count() * 5 > zips.len());
    for object in ["VENDOR", "APBILL", "APBILLITEM", "CUSTOMER"] {
        let t = Table::load(&ds, object);
        let empty = t
            .records
            .iter()
            .filter(|r| t.col(r, "WHENMODIFIED").is_none())
            .count();
        let pct = empty as f64 * 100.0 / t.records.len() as f64;
        assert!(
            (1.0..=4.0).contains(&pct),
            "{object}: {pct:.2}% empty WHENMODIFIED"
        );
    }
    let line = Table::load(&ds, "APBILLITEM");
    let mut same: HashMap<&str, usize> = HashMap::new();
    for r in &line.records {
        if let Some(m) = line.col(r, "WHENMODIFIED") {
            *same.entry(m).or_default() += 1;
        }
    }
    let biggest = same.values().max().copied().unwrap_or(0);
    assert!(biggest > 2000, "largest WHENMODIFIED burst is {biggest}");
    assert!(
        line.records.len() > ds.len("APBILL") as usize,
        "lines outnumber bills"
    );
}

#[test]
fn hostile_text_appears_in_a_small_controlled_fraction() {
    let ds = demo();
    let mut found: BTreeMap<&str, bool> = [
        "amp",
        "lt",
        "cdata-end",
        "dquote",
        "squote",
        "tab",
        "lf",
        "cr",
        "emoji",
        "cjk",
        "combining",
        "rtl",
        "long",
    ]
    .into_iter()
    .map(|k| (k, false))
    .collect();
    let (mut hostile, mut total) = (0usize, 0usize);
    let line = Table::load(&ds, "APBILLITEM");
    for r in &line.records {
        let v = line.col(r, "ENTRYDESCRIPTION").unwrap();
        total += 1;
        hostile += usize::from(
            !v.is_ascii()
                || v.contains(['&', '<', '"', '\'', '\t', '\n', '\\'])
                || v.starts_with(' '),
        );
    }
    let pct = hostile as f64 * 100.0 / total as f64;
    assert!(
        (0.3..=3.0).contains(&pct),
        "{pct:.2}% hostile ENTRYDESCRIPTION"
    );
    for object in ds.object_names() {
        for r in ds.records(object) {
            for v in r.values.iter().flatten() {
                let checks = [
                    ("amp", v.contains('&')),
                    ("lt", v.contains('<')),
                    ("cdata-end", v.contains("]]>")),
                    ("dquote", v.contains('"')),
                    ("squote", v.contains('\'')),
                    ("tab", v.contains('\t')),
                    ("lf", v.contains('\n')),
                    ("cr", v.contains('\r')),
                    ("emoji", v.chars().any(|c| c as u32 > 0xFFFF)),
                    (
                        "cjk",
                        v.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c)),
                    ),
                    ("combining", v.contains('\u{301}')),
                    (
                        "rtl",
                        v.chars().any(|c| ('\u{590}'..='\u{6FF}').contains(&c)),
                    ),
                    ("long", v.chars().count() >= 10_000),
                ];
                for (k, hit) in checks {
                    if hit {
                        found.insert(k, true);
                    }
                }
            }
        }
    }
    let missing: Vec<_> = found
        .iter()
        .filter(|(_, f)| !**f)
        .map(|(k, _)| *k)
        .collect();
    assert!(missing.is_empty(), "no hostile value with {missing:?}");
}

#[test]
fn custom_fields_and_the_opt_in_invalid_element_name() {
    let ds = Dataset::new(config(1, Scale::Tiny));
    for object in ds
        .object_names()
        .into_iter()
        .filter(|o| *o != "AUDITHISTORY")
    {
        let meta = ds.object_meta(object).unwrap();
        assert!(meta.fields.iter().any(|f| f.is_custom), "{object}");
        assert!(
            meta.fields.iter().all(|f| !f.name.contains('/')),
            "{object}"
        );
        let n = ds.len(object);
        assert!((5..=100).contains(&n), "tiny {object} has {n}");
    }
    let status = ds
        .object_meta("VENDOR")
        .unwrap()
        .fields
        .iter()
        .find(|f| f.name == "STATUS")
        .unwrap();
    assert_eq!(status.valid_values, ["active", "inactive"]);
    let plain: Vec<SimRecord> = ds.records("APBILLITEM").collect();
    let ds = ds.with_invalid_element_names();
    let idx = ds
        .field_index("APBILLITEM", "GLDIMBuild/Disassemble_Kits")
        .unwrap();
    let odd: Vec<SimRecord> = ds.records("APBILLITEM").collect();
    assert_eq!(odd.len(), plain.len());
    for (a, b) in plain.iter().zip(&odd) {
        assert_eq!(b.values.len(), idx + 1);
        assert_eq!(a.values[..], b.values[..idx], "other values do not change");
    }
    assert!(odd.iter().any(|r| r.values[idx].is_some()));
    assert!(
        ds.field_index("APBILL", "GLDIMBuild/Disassemble_Kits")
            .is_none()
    );
}

#[test]
fn time_zone_changes_the_text_but_not_the_order() {
    let utc = Dataset::new(config(9, Scale::Tiny));
    let la = Dataset::new(DatasetConfig {
        time_zone: chrono_tz::America::Los_Angeles,
        ..config(9, Scale::Tiny)
    });
    let since = start() - chrono::Duration::days(400);
    let a: Vec<SimRecord> = utc.records_changed_since("APBILL", since).collect();
    let b: Vec<SimRecord> = la.records_changed_since("APBILL", since).collect();
    assert_eq!(
        a.iter().map(|r| r.record_no).collect::<Vec<_>>(),
        b.iter().map(|r| r.record_no).collect::<Vec<_>>()
    );
    // APBILL's creation timestamp (its WHENCREATED is the bill date).
    let wc = utc.field_index("APBILL", "AUWHENCREATED").unwrap();
    let shift = parse_ts(a[0].values[wc].as_deref().unwrap())
        - parse_ts(b[0].values[wc].as_deref().unwrap());
    assert!(shift == 7 * 3600 || shift == 8 * 3600, "shift {shift}");
}

#[test]
fn large_starts_without_materialising_and_streams() {
    let ds = Dataset::new(config(5, Scale::Large));
    let total: u64 = ds.object_names().iter().map(|o| ds.len(o)).sum();
    assert!(
        (4_500_000..=6_000_000).contains(&total),
        "large has {total}"
    );
    let lines = ds.len("APBILLITEM");
    assert!((2_200_000..=2_800_000).contains(&lines), "{lines} lines");
    assert_eq!(ds.records("APBILLITEM").take(10_000).count(), 10_000);
    let recent: Vec<SimRecord> = ds
        .records_changed_since("APBILLITEM", start() - chrono::Duration::days(10))
        .take(1_000)
        .collect();
    assert_eq!(recent.len(), 1_000);
    assert!(
        recent[0].record_no > lines,
        "recent lines have high RECORDNOs"
    );
}

/// Lines by header: header key → (line RECORDNO → the line's values).
fn lines_by_header(
    t: &Table,
    header_field: &str,
) -> BTreeMap<u64, BTreeMap<u64, Vec<Option<String>>>> {
    let mut out: BTreeMap<u64, BTreeMap<u64, Vec<Option<String>>>> = BTreeMap::new();
    for r in &t.records {
        let header: u64 = t.col(r, header_field).unwrap().parse().unwrap();
        out.entry(header)
            .or_default()
            .insert(r.record_no, r.values.clone());
    }
    out
}

/// A simulated day saves an unpaid bill without one of its lines, another with one line
/// more, and a payment without one of its two detail lines, as Sage's update does (the lines
/// sent are the lines kept): a removed line stops being listed and no audit row names it,
/// the header's WHENMODIFIED moves, the lines kept are unchanged, an added line has a
/// RECORDNO no line ever had.
#[test]
fn a_day_edits_the_lines_of_live_bills_and_payments() {
    let before = demo();
    let mut ds = demo();
    ds.advance_days(1);
    let day_start = start().timestamp();
    let audit = Table::load(&ds, "AUDITHISTORY");
    // Lines have no audit rows: nothing names a removed one.
    assert!(
        !audit
            .set("OBJECTTYPE")
            .iter()
            .any(|t| t.ends_with("item") || t.ends_with("detail"))
    );
    let audited: HashSet<(String, String)> = audit
        .records
        .iter()
        .map(|r| {
            (
                audit.col(r, "OBJECTTYPE").unwrap().to_owned(),
                audit.col(r, "OBJECTKEY").unwrap().to_owned(),
            )
        })
        .collect();
    for (header, line, header_field, key_of) in [
        (
            "APBILL",
            "APBILLITEM",
            "RECORDKEY",
            (|n: u64| format!("{n}--REC")) as fn(u64) -> String,
        ),
        ("APPYMT", "APPYMTDETAIL", "PAYMENTKEY", |n: u64| {
            n.to_string()
        }),
    ] {
        let (old_h, new_h) = (Table::load(&before, header), Table::load(&ds, header));
        let old_lines = lines_by_header(&Table::load(&before, line), header_field);
        let new_table = Table::load(&ds, line);
        let new_lines = lines_by_header(&new_table, header_field);
        let live_headers: HashSet<u64> = new_h.records.iter().map(|r| r.record_no).collect();
        let (mut lost, mut gained) = (0, 0);
        for (h, old) in &old_lines {
            if !live_headers.contains(h) {
                continue;
            }
            let new = new_lines.get(h).cloned().unwrap_or_default();
            let removed: Vec<&u64> = old.keys().filter(|k| !new.contains_key(k)).collect();
            let added: Vec<&u64> = new.keys().filter(|k| !old.contains_key(k)).collect();
            if removed.is_empty() && added.is_empty() {
                continue;
            }
            let modified = |t: &Table, r: &SimRecord| t.col(r, "WHENMODIFIED").map(parse_ts);
            let header_before = old_h.records.iter().find(|r| r.record_no == *h).unwrap();
            let header_after = new_h.records.iter().find(|r| r.record_no == *h).unwrap();
            // The header's WHENMODIFIED moved into the day, with a Modify row for it.
            let moved = modified(&new_h, header_after).unwrap();
            assert!(moved >= day_start, "{header} {h}");
            assert_ne!(modified(&old_h, header_before), Some(moved), "{header} {h}");
            assert!(audited.contains(&(header.to_ascii_lowercase(), key_of(*h))));
            for k in &removed {
                assert!(ds.get(line, **k).is_none(), "{line} {k} still served");
            }
            if !removed.is_empty() && line == "APBILLITEM" {
                // The lines kept are the lines they were.
                for (k, values) in &new {
                    assert_eq!(old.get(k), Some(values), "{line} {k} changed");
                }
                lost += 1;
            }
            if !removed.is_empty() && line == "APPYMTDETAIL" {
                lost += 1;
            }
            for k in &added {
                assert!(before.get(line, **k).is_none(), "{line} {k} reused");
                gained += 1;
            }
        }
        assert!(lost >= 1, "no {header} lost a line");
        if header == "APBILL" {
            assert!(gained >= 1, "no bill gained a line");
        }
    }
}
