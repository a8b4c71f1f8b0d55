//! What the target tables must hold after a step of the chaos harness, and the comparison
//! with them: every field of the simulator's records as a column, every value equal, every
//! record the tool must have loaded present and every record deleted in Intacct absent.
//!
//! "Must have loaded" follows from what the manifest claims. The simulator's clock does not
//! move during a command (only the harness advances it, between commands), so the truth after a
//! command is the simulator's current state, except for what no correct run could have seen
//! yet:
//! * a record changed after the **cutoff** (the end of the newest window the object's
//!   watermark claims, the earliest over its streams): its row may be missing or older. A
//!   nightly window ends at the earlier of the tool's clock and the gateway's (the
//!   simulator's), less `extract.clock_margin_secs`, so with the tool's clock behind the
//!   simulator's such records exist; the chaos harness checks separately that every window
//!   ends exactly there, so a run that ends its windows too early cannot hide behind this
//!   excuse;
//! * a record deleted whose AUDITHISTORY `D` row is not readable yet (the simulator shows an
//!   audit row `audit_lag_secs` after its ACCESSTIME, and `/__sim/records?object=AUDITHISTORY`
//!   lists only readable rows) or lies after the cutoff: its row may still be live;
//! * a line (APBILLITEM, APPYMTDETAIL) whose header is excused by either rule above: a removed
//!   or deleted line shows only through its header.
//!
//! Everything else is compared strictly: a record changed at or before the cutoff with an
//! older value, a key missing, or a deleted record with a readable `D` row at or before the
//! cutoff still live is a divergence naming the step, object, key and column.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use intacct_snowflake::intacct::column_name;
use intacct_snowflake::manifest::schemas;
use intacct_snowflake::manifest::{BatchStatus, Mode};
use intacct_snowflake::snowflake::Statement;

use super::ground_truth::same_value;
use super::wall_clock::WallClock;
use super::world::World;

/// The demo pipeline's tenant time zone (the simulator's default).
const TENANT_ZONE: &str = "America/Los_Angeles";

/// A line object's header: (line object, header key column, header object).
const LINES: &[(&str, &str, &str)] = &[
    ("APBILLITEM", "RECORDKEY", "APBILL"),
    ("APPYMTDETAIL", "PAYMENTKEY", "APPYMT"),
];

/// Fields the tool leaves out unless a pipeline lists them (pipelines/README.md's private fields:
/// bank and ACH details, employees' personal identifiers); written out here rather than taken
/// from the tool, so a field dropped by mistake still shows.
const LEFT_OUT: &[(&str, &[&str])] = &[
    (
        "VENDOR",
        &[
            "TAXID",
            "ACHBANKROUTINGNUMBER",
            "ACHACCOUNTNUMBER",
            "ACHACCOUNTTYPE",
            "ACHREMITTANCETYPE",
            "WIREBANKNAME",
            "WIREBANKROUTINGNUMBER",
            "WIREACCOUNTNUMBER",
        ],
    ),
    ("EMPLOYEE", &["SSN", "TAXID", "BIRTHDATE", "GENDER"]),
    (
        "CUSTOMER",
        &["ACHBANKROUTINGNUMBER", "ACHACCOUNTNUMBER", "ACHACCOUNTTYPE"],
    ),
];

fn left_out(object: &str, field: &str) -> bool {
    LEFT_OUT
        .iter()
        .any(|(o, fields)| *o == object && fields.contains(&field))
}

type Record = serde_json::Map<String, serde_json::Value>;

fn key_of(record: &Record) -> i64 {
    record["RECORDNO"].as_str().unwrap().parse().unwrap()
}

fn text<'a>(record: &'a Record, field: &str) -> Option<&'a str> {
    record
        .get(field)
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
}

/// The end of the newest nightly window the manifest marks loaded for `object`, the earliest
/// over its streams (entities); `None` when no nightly batch of it is loaded.
pub(crate) fn cutoff(
    state: &intacct_snowflake::manifest::ManifestState,
    object: &str,
) -> Option<DateTime<Utc>> {
    let mut per_stream: BTreeMap<Option<String>, DateTime<Utc>> = BTreeMap::new();
    for b in state.batches_of(object) {
        if b.mode == Mode::Nightly && b.status == BatchStatus::Loaded {
            let end = per_stream.entry(b.entity.clone()).or_insert(b.window_to);
            *end = (*end).max(b.window_to);
        }
    }
    per_stream.values().min().copied()
}

/// The truth the comparison reads: each object's records by key, and the deletes the audit
/// trail shows (object, key, ACCESSTIME text).
struct Truth {
    records: BTreeMap<String, BTreeMap<i64, Record>>,
    deletes: Vec<(String, i64, String)>,
}

impl Truth {
    async fn read(w: &World, objects: &BTreeSet<String>) -> Result<Truth, String> {
        let mut records = BTreeMap::new();
        let mut wanted: BTreeSet<&str> = objects.iter().map(String::as_str).collect();
        for (line, _, header) in LINES {
            if objects.contains(*line) {
                wanted.insert(header);
            }
        }
        for object in wanted {
            let list = w.sim.records(object).await.map_err(|e| e.to_string())?;
            records.insert(
                object.to_owned(),
                list.into_iter().map(|r| (key_of(&r), r)).collect(),
            );
        }
        // OBJECTDESC is `<object, lower case> <RECORDNO>` in the simulator's audit rows.
        let deletes = w
            .sim
            .records("AUDITHISTORY")
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .filter(|r| text(r, "ACCESSMODE") == Some("D"))
            .filter_map(|r| {
                let (object, key) = text(&r, "OBJECTDESC")?.rsplit_once(' ')?;
                Some((
                    object.to_ascii_uppercase(),
                    key.parse().ok()?,
                    text(&r, "ACCESSTIME")?.to_owned(),
                ))
            })
            .collect();
        Ok(Truth { records, deletes })
    }
}

/// Every target table of `objects` against the truth `when` (the step just completed), with
/// the excuses of the module docs; `strict` turns them off (nothing may be missing or late).
pub(crate) async fn compare(
    w: &World,
    when: &str,
    objects: &[String],
    strict: bool,
) -> Result<(), String> {
    let state = w.manifest().await;
    let stage = w.stage();
    let client = w.reader();
    let refused = w.refused_fields().await;
    let objects: BTreeSet<String> = objects.iter().cloned().collect();
    let truth = Truth::read(w, &objects).await?;

    // Every instant the rules compare, read independently of the tool's time code.
    let mut texts: Vec<&str> = truth.deletes.iter().map(|(_, _, t)| t.as_str()).collect();
    for records in truth.records.values() {
        for record in records.values() {
            texts.extend(
                record.values().filter_map(|v| v.as_str()).filter(|t| {
                    t.len() == 19 && t.as_bytes()[2] == b'/' && t.as_bytes()[13] == b':'
                }),
            );
        }
    }
    let clock = WallClock::of(TENANT_ZONE, texts);

    let cutoffs: BTreeMap<&str, Option<DateTime<Utc>>> = objects
        .iter()
        .map(|o| o.as_str())
        .chain(LINES.iter().map(|(_, _, h)| *h))
        .map(|o| (o, if strict { None } else { cutoff(&state, o) }))
        .collect();
    // A record changed after its object's cutoff.
    let late = |object: &str, record: &Record| -> bool {
        let Some(Some(cut)) = cutoffs.get(object) else {
            return false;
        };
        text(record, "WHENMODIFIED").is_some_and(|t| clock.instant(t) > *cut)
    };
    // A record gone from the truth whose delete the tool could not have seen yet.
    let unseen_delete = |object: &str, key: i64| -> bool {
        let Some(Some(cut)) = cutoffs.get(object) else {
            return false;
        };
        !truth
            .deletes
            .iter()
            .any(|(o, k, t)| o == object && *k == key && clock.instant(t) <= *cut)
    };
    // A line whose header is excused, by its header key.
    let header_excused = |line: &str, header_key: Option<i64>| -> bool {
        let Some((_, _, header)) = LINES.iter().find(|(l, _, _)| *l == line) else {
            return false;
        };
        let Some(key) = header_key else {
            return false;
        };
        match truth.records[*header].get(&key) {
            Some(record) => late(header, record),
            None => unseen_delete(header, key),
        }
    };
    let header_column = |object: &str| {
        LINES
            .iter()
            .find(|(l, _, _)| *l == object)
            .map(|(_, c, _)| *c)
    };

    for object in &objects {
        let Some(newest) = state
            .batches_of(object)
            .filter(|b| b.status == BatchStatus::Loaded)
            .last()
        else {
            return Err(format!("{when}: {object} has no loaded batch"));
        };
        let schema = schemas::load(&stage, object, &newest.schema_fingerprint)
            .await
            .map_err(|e| format!("{when}: {object}: {e}"))?;
        let is_refused = |name: &str| {
            refused
                .iter()
                .any(|(o, f)| o == object && column_name(f) == name)
        };
        let records = &truth.records[object.as_str()];
        // Every field of the truth has its column (the simulator's own `_OWNER`/`_PRIVATE`
        // annotations are not fields).
        let column_names: BTreeSet<&str> = schema.columns.iter().map(|c| c.name.as_str()).collect();
        if let Some(record) = records.values().next() {
            for field in record
                .keys()
                .filter(|f| !f.starts_with('_') && !left_out(object, f))
            {
                let name = column_name(field);
                if !column_names.contains(name.as_str()) && !is_refused(&name) {
                    return Err(format!(
                        "{when}: {object}: the field {field} of the truth has no column"
                    ));
                }
            }
        }
        let columns: Vec<_> = schema
            .columns
            .iter()
            .filter(|c| !c.name.starts_with('_') && !is_refused(&c.name))
            .collect();
        let select = columns
            .iter()
            .map(|c| format!("\"{}\"", c.name))
            .collect::<Vec<_>>()
            .join(", ");
        let outcome = client
            .execute(&Statement::new(
                format!(
                    "SELECT {select} FROM \"{}\".\"{}\".\"{object}\" WHERE NOT COALESCE(\"_DELETED\", FALSE)",
                    w.target.0, w.target.1
                ),
                "test",
            ))
            .await
            .map_err(|e| format!("{when}: {object}: {e}"))?;
        let key_index = columns.iter().position(|c| c.name == "RECORDNO").unwrap();
        let header_index =
            header_column(object).and_then(|h| columns.iter().position(|c| c.name == h));
        let mut target: BTreeMap<i64, &Vec<Option<String>>> = BTreeMap::new();
        for row in &outcome.rows {
            let key = row[key_index].as_deref().unwrap().parse().unwrap();
            if target.insert(key, row).is_some() {
                return Err(format!("{when}: {object} {key} is live twice"));
            }
        }
        // Live in the target, gone from Intacct.
        for (key, row) in &target {
            if records.contains_key(key) {
                continue;
            }
            let header_key = header_index.and_then(|i| row[i].as_deref()?.parse().ok());
            let excused = if header_index.is_some() {
                header_excused(object, header_key)
            } else {
                unseen_delete(object, *key)
            };
            if !excused {
                return Err(format!(
                    "{when}: {object} {key}: deleted in Intacct (its delete readable before the cutoff), live in Snowflake"
                ));
            }
        }
        for (key, record) in records {
            let header_key = header_column(object)
                .and_then(|h| text(record, h))
                .and_then(|t| t.parse().ok());
            let excused = late(object, record) || header_excused(object, header_key);
            let Some(row) = target.get(key) else {
                if excused {
                    continue;
                }
                return Err(format!(
                    "{when}: {object} {key}: in Intacct (changed {:?}), missing in Snowflake",
                    text(record, "WHENMODIFIED")
                ));
            };
            if excused {
                continue;
            }
            for (i, column) in columns.iter().enumerate() {
                let field = record.keys().find(|k| column_name(k) == column.name);
                let expected = field.and_then(|f| text(record, f));
                let got = row[i].as_deref();
                let equal = same_value(column.column_type, expected, got, &clock);
                if !equal {
                    return Err(format!(
                        "{when}: {object} {key} {}: Intacct {expected:?}, Snowflake {got:?}",
                        column.name
                    ));
                }
            }
        }
    }
    Ok(())
}
