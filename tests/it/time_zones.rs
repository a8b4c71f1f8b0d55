//! Tenant wall-clock time across daylight-saving changes, against the table of local times and
//! instants pinned by hand in `support::wall_clock`: in every zone of the table, a spring-gap
//! time reads as the offset before the gap, a repeated autumn time as its earlier instant,
//! whether read by `tenant_time` (watermarks, cursors) or staged by the schema conversion; and
//! the independent clock the value tests compare with (Python's `zoneinfo`) agrees with the
//! same table.

use arrow::array::{Array, TimestampMicrosecondArray};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use intacct_snowflake::intacct::tenant_time;
use intacct_snowflake::intacct::{FieldMeta, IntacctType, ObjectMeta, RecordPage};
use intacct_snowflake::schema::{BatchContext, arrow_schema, record_batch};

use crate::support::wall_clock::{DST_EDGES, Edge, Kind, WallClock, dst_edges, instant};

/// Every zone of the table, each once.
fn zones() -> Vec<&'static str> {
    let mut zones: Vec<&str> = DST_EDGES.iter().map(|e| e.zone).collect();
    zones.sort();
    zones.dedup();
    zones
}

fn tz(zone: &str) -> Tz {
    zone.parse().unwrap()
}

#[test]
fn the_table_covers_both_changes_in_every_zone() {
    for zone in zones() {
        let edges: Vec<&Edge> = dst_edges(zone).collect();
        assert!(
            edges.iter().any(|e| matches!(e.kind, Kind::Twice { .. })),
            "{zone}: no repeated time"
        );
        assert!(
            edges.iter().any(|e| matches!(e.kind, Kind::Skipped { .. })),
            "{zone}: no skipped time"
        );
    }
}

#[test]
fn zoneinfo_reads_the_table_as_pinned_by_hand() {
    for zone in zones() {
        let clock = WallClock::of(zone, dst_edges(zone).map(|e| e.local));
        for e in dst_edges(zone) {
            assert_eq!(clock.instant(e.local), instant(e.utc), "{zone} {}", e.local);
        }
    }
}

#[test]
fn tenant_time_reads_the_table_as_pinned_by_hand() {
    for e in DST_EDGES {
        assert_eq!(
            tenant_time::parse(e.local, tz(e.zone)).unwrap(),
            instant(e.utc),
            "{} {}",
            e.zone,
            e.local
        );
    }
}

#[test]
fn pinned_instants_render_as_the_wall_clock_shows_them() {
    for e in DST_EDGES {
        let tz = tz(e.zone);
        let at = |text: &str| tenant_time::render(instant(text), tz);
        match e.kind {
            Kind::Once => assert_eq!(at(e.utc), e.local, "{}", e.zone),
            Kind::Date => assert_eq!(at(e.utc), format!("{} 00:00:00", e.local), "{}", e.zone),
            // Both instants of a repeated time show the same text.
            Kind::Twice { later } => {
                assert_eq!(at(e.utc), e.local, "{}", e.zone);
                assert_eq!(at(later), e.local, "{}", e.zone);
            }
            Kind::Skipped { shown } => assert_eq!(at(e.utc), shown, "{} {}", e.zone, e.local),
        }
    }
}

#[test]
fn staged_timestamps_are_the_table_instants() {
    let meta = ObjectMeta {
        name: "VENDOR".into(),
        fields: vec![
            FieldMeta::new("RECORDNO", IntacctType::Integer),
            FieldMeta::new("WHENMODIFIED", IntacctType::Timestamp),
        ],
    };
    let plan = arrow_schema(&meta).unwrap();
    for zone in zones() {
        let edges: Vec<&Edge> = dst_edges(zone).collect();
        let page = RecordPage::from_rows(
            vec!["RECORDNO".to_owned(), "WHENMODIFIED".to_owned()],
            edges
                .iter()
                .enumerate()
                .map(|(i, e)| vec![Some((i + 1).to_string()), Some(e.local.to_owned())])
                .collect(),
        );
        let ctx = BatchContext {
            batch_id: "dst",
            extracted_at: instant("2025-01-01T00:00:00Z"),
            time_zone: tz(zone),
            deleted: false,
            quarantine: false,
        };
        let converted = record_batch(&plan, &page, &ctx).unwrap();
        assert!(converted.quarantined.is_empty(), "{zone}");
        let column = converted.batch.column_by_name("WHENMODIFIED").unwrap();
        let column = column
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()
            .unwrap();
        assert_eq!(column.len(), edges.len());
        for (row, e) in edges.iter().enumerate() {
            assert!(column.is_valid(row), "{zone} {}", e.local);
            let staged: DateTime<Utc> = DateTime::from_timestamp_micros(column.value(row)).unwrap();
            assert_eq!(staged, instant(e.utc), "{zone} {}", e.local);
        }
    }
}
