//! The reporting views the finance team queries: `AP_AGING`, `VENDOR_SPEND_MONTHLY` and
//! `AP_PAYMENT_RECONCILIATION` (templates `sql/view_*.sql`; what each column means is in the
//! README). A view is created only when every table it reads exists, so a pipeline that moves
//! a subset of the objects still gets the views it can have. Views are the one thing `init`
//! creates with `CREATE OR REPLACE`: they hold no data.

use super::names::{Names, TableRole};
use super::sql::{Part, Sql, render};
use crate::error::Result;

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

#[cfg(test)]
mod tests {
    use super::*;

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
