//! The reporting views the finance team queries: `AP_AGING`, `VENDOR_SPEND_MONTHLY` and
//! `AP_PAYMENT_RECONCILIATION` (templates `sql/view_*.sql`; what each column means is in the
//! README). A view is created only when every table it reads exists, so a pipeline that moves
//! a subset of the objects still gets the views it can have. Views are the one thing `init`
//! creates with `CREATE OR REPLACE`: they hold no data.
//!
//! A view whose tables exist but lack a column it reads (a `fields` list without `VENDORNAME`,
//! say) is not sent: it is skipped with a [`ViewSkipped`] naming the missing columns and the
//! settings that decide them, which the run report keeps and `status` shows. The columns a
//! view reads are found in its own template (every `alias."COLUMN"` of a table's alias), so
//! they cannot drift from the SQL. Loading never fails because of a view.

use std::collections::{BTreeMap, BTreeSet};

use super::ddl::TableColumns;
use super::names::{Names, TableRole};
use super::sql::{Part, Sql, render};
use crate::error::Result;

/// A reporting view that was not created, and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ViewSkipped {
    /// The view (`AP_AGING`, ...).
    pub view: String,
    /// The columns it reads that the tables lack, as `TABLE.COLUMN` (empty when Snowflake
    /// refused the view for another reason).
    pub missing_columns: Vec<String>,
    /// Why, and what would change it.
    pub reason: String,
}

/// The views to create now, and those that cannot be built.
#[derive(Debug, Default)]
pub(crate) struct ViewPlan {
    /// `(view name, CREATE OR REPLACE VIEW …)` of every view whose tables and columns exist.
    pub create: Vec<(&'static str, Sql)>,
    /// Views whose tables exist but lack columns they read.
    pub skipped: Vec<ViewSkipped>,
}

struct View {
    name: &'static str,
    template: &'static str,
    /// Placeholder and object of every table the view reads.
    tables: &'static [(&'static str, &'static str)],
}

const VIEWS: &[View] = &[
    View {
        name: "AP_AGING",
        template: include_str!("../../sql/view_ap_aging.sql"),
        tables: &[("apbill", "APBILL")],
    },
    View {
        name: "VENDOR_SPEND_MONTHLY",
        template: include_str!("../../sql/view_vendor_spend_monthly.sql"),
        tables: &[
            ("apbill", "APBILL"),
            ("apbillitem", "APBILLITEM"),
            ("glaccount", "GLACCOUNT"),
            ("department", "DEPARTMENT"),
        ],
    },
    View {
        name: "AP_PAYMENT_RECONCILIATION",
        template: include_str!("../../sql/view_ap_payment_reconciliation.sql"),
        tables: &[
            ("apbill", "APBILL"),
            ("appymt", "APPYMT"),
            ("appymtdetail", "APPYMTDETAIL"),
        ],
    },
];

/// `(view name, CREATE OR REPLACE VIEW …)` for every view whose tables all satisfy
/// `has_table(object)`.
pub(crate) fn reporting_views(
    names: &Names,
    has_table: impl Fn(&str) -> bool,
) -> Result<Vec<(&'static str, Sql)>> {
    let mut out = Vec::new();
    for view in VIEWS {
        if !view.tables.iter().all(|(_, object)| has_table(object)) {
            continue;
        }
        let mut bindings: Vec<(&str, Part)> = vec![("view", names.other(view.name)?.into())];
        for (placeholder, object) in view.tables {
            bindings.push((placeholder, names.table(object, TableRole::Target)?.into()));
        }
        let file = format!("view_{}.sql", view.name.to_ascii_lowercase());
        out.push((view.name, render(&file, view.template, &bindings)?));
    }
    Ok(out)
}

/// The views `tables` (upper-case table name → its columns) can hold: those whose tables all
/// exist, minus those whose tables lack a column they read.
pub(crate) fn plan(names: &Names, tables: &TableColumns) -> Result<ViewPlan> {
    let has_table = |object: &str| tables.contains_key(object);
    let mut out = ViewPlan::default();
    for (name, sql) in reporting_views(names, has_table)? {
        let view = VIEWS.iter().find(|v| v.name == name).expect("a known view");
        let mut missing = Vec::new();
        for (object, columns) in columns_read(view) {
            let present: BTreeSet<&str> = tables[object].iter().map(|c| c.name.as_str()).collect();
            missing.extend(
                columns
                    .iter()
                    .filter(|c| !present.contains(c.as_str()))
                    .map(|c| format!("{object}.{c}")),
            );
        }
        if missing.is_empty() {
            out.create.push((name, sql));
            continue;
        }
        let objects: BTreeSet<&str> = missing
            .iter()
            .filter_map(|m| m.split_once('.').map(|(o, _)| o))
            .collect();
        let settings = objects
            .iter()
            .map(|o| format!("[extract.object.{o}] fields / exclude_fields"))
            .collect::<Vec<_>>()
            .join(", ");
        out.skipped.push(ViewSkipped {
            view: name.to_owned(),
            reason: format!(
                "the pipeline does not load {} (read it: {settings})",
                missing.join(", ")
            ),
            missing_columns: missing,
        });
    }
    Ok(out)
}

/// The columns `view` reads, per object: every `alias."COLUMN"` in its template, where the
/// alias is the one the template gives the object's table (`{{apbill}} b`).
fn columns_read(view: &View) -> BTreeMap<&'static str, BTreeSet<String>> {
    let text = view.template;
    let mut out: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    for (placeholder, object) in view.tables {
        let marker = format!("{{{{{placeholder}}}}} ");
        let aliases: BTreeSet<&str> = text
            .match_indices(&marker)
            .filter_map(|(at, _)| {
                let rest = &text[at + marker.len()..];
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                (end > 0).then(|| &rest[..end])
            })
            .collect();
        let columns = out.entry(object).or_default();
        for alias in aliases {
            let prefix = format!("{alias}.\"");
            for (at, _) in text.match_indices(&prefix) {
                let before = text[..at].chars().next_back();
                if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                    continue;
                }
                let rest = &text[at + prefix.len()..];
                if let Some(end) = rest.find('"') {
                    columns.insert(rest[..end].to_owned());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loader::ddl::{ExistingColumn, SnowflakeType};

    fn table(columns: &[&str]) -> Vec<ExistingColumn> {
        columns
            .iter()
            .map(|c| ExistingColumn {
                name: (*c).to_owned(),
                column_type: SnowflakeType::Varchar(None),
            })
            .collect()
    }

    #[test]
    fn the_columns_a_view_reads_come_from_its_template() {
        let aging = VIEWS.iter().find(|v| v.name == "AP_AGING").unwrap();
        let read = columns_read(aging);
        assert_eq!(
            read["APBILL"]
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            ["TOTALDUE", "VENDORID", "VENDORNAME", "WHENDUE", "_DELETED"]
        );
        let recon = VIEWS
            .iter()
            .find(|v| v.name == "AP_PAYMENT_RECONCILIATION")
            .unwrap();
        let read = columns_read(recon);
        assert_eq!(
            read["APPYMT"]
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            ["RECORDNO", "_DELETED"]
        );
        assert!(read["APPYMTDETAIL"].contains("PAYMENTKEY"));
        assert!(read["APBILL"].contains("TOTALPAID"));
        // The subquery's own alias (`a.APPLIED_AMOUNT`) is no table's column.
        assert!(!read.values().flatten().any(|c| c.contains("APPLIED")));
    }

    #[test]
    fn a_view_missing_a_column_is_skipped_naming_it_and_its_setting() {
        let aging_columns = ["VENDORID", "VENDORNAME", "TOTALDUE", "WHENDUE", "_DELETED"];
        let mut tables = TableColumns::new();
        tables.insert("APBILL".into(), table(&aging_columns));
        let planned = plan(&names(), &tables).unwrap();
        assert_eq!(
            planned.create.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            ["AP_AGING"]
        );
        assert!(planned.skipped.is_empty());
        tables.insert("APBILL".into(), table(&aging_columns[..1]));
        tables
            .get_mut("APBILL")
            .unwrap()
            .extend(table(&aging_columns[2..]));
        let planned = plan(&names(), &tables).unwrap();
        assert!(planned.create.is_empty());
        assert_eq!(
            planned.skipped,
            [ViewSkipped {
                view: "AP_AGING".into(),
                missing_columns: vec!["APBILL.VENDORNAME".into()],
                reason: "the pipeline does not load APBILL.VENDORNAME (read it: \
                         [extract.object.APBILL] fields / exclude_fields)"
                    .into(),
            }]
        );
    }

    fn names() -> Names {
        Names::new("INTACCT", "RAW", "S", "F").unwrap()
    }

    #[test]
    fn views_need_every_table_they_read() {
        let only_bills = reporting_views(&names(), |o| o == "APBILL").unwrap();
        assert_eq!(
            only_bills.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            ["AP_AGING"]
        );
        let all = reporting_views(&names(), |_| true).unwrap();
        assert_eq!(all.len(), 3);
        for (name, sql) in &all {
            assert!(!sql.as_str().contains("SELECT *"), "{name}");
            assert!(!sql.as_str().contains("{{"), "{name}");
            assert!(
                sql.as_str().contains("_DELETED"),
                "{name} must exclude deleted rows"
            );
        }
        assert!(
            all[1]
                .1
                .as_str()
                .contains("JOIN \"INTACCT\".\"RAW\".\"APBILL\" b")
        );
    }
}
