//! query, readByQuery/readMore, read, lookup and inspect against ground truth.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use intacct_sim::Scale;
use intacct_snowflake::intacct::ResultData;
use intacct_snowflake::intacct::{Call, Comparison, Filter, ReadByQuery};

use super::*;

fn ts(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%m/%d/%Y %H:%M:%S")
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(text, "%m/%d/%Y")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap())
        })
        .unwrap()
}

#[tokio::test]
async fn query_with_record_no_order_returns_every_vendor_once() {
    let sim = start(config(Scale::Demo)).await;
    let (session, endpoint) = sim.session().await;
    assert!(session.ends_with(".."), "session ids end in '..'");
    assert_eq!(endpoint, sim.handle.endpoint_url());
    let truth = sim.truth("VENDOR").await;
    assert!(truth.len() > 100, "demo has vendors");

    let mut q = query("VENDOR", None, &[("RECORDNO", true)]);
    q.page_size = Some(100);
    let first = sim.page(&session, Call::Query(q.clone())).await;
    assert_eq!(first.list_type.as_deref(), Some("VENDOR"));
    assert_eq!(first.total_count, Some(truth.len() as u64));
    assert_eq!(first.count, Some(100));
    assert_eq!(first.offset, Some(0));
    assert_eq!(first.num_remaining, Some(truth.len() as u64 - 100));
    assert!(first.result_id.is_none(), "query has no resultId");

    let all = query_all(&sim, &session, q).await;
    assert_eq!(all, truth_nos(&truth, |_| true));
}

#[tokio::test]
async fn query_rows_carry_the_ground_truth_values() {
    let sim = start(config(Scale::Tiny)).await;
    let (session, _) = sim.session().await;
    let truth = sim.truth("APBILL").await;
    let page = sim
        .page(
            &session,
            Call::Query(query("APBILL", None, &[("RECORDNO", true)])),
        )
        .await;
    assert_eq!(page.len(), truth.len());
    for (row, expected) in truth.iter().enumerate() {
        for field in [
            "RECORDNO",
            "RECORDID",
            "WHENCREATED",
            "WHENMODIFIED",
            "TOTALENTERED",
            "STATE",
        ] {
            if let Some(value) = expected.get(field) {
                assert_eq!(
                    page.get(row, field),
                    value.as_deref().filter(|v| !v.is_empty()),
                    "row {row} field {field}"
                );
            }
        }
    }
}

#[tokio::test]
async fn read_by_query_and_read_more_read_everything_with_lower_case_rows() {
    let sim = start(config(Scale::Demo)).await;
    let (session, _) = sim.session().await;
    let truth = sim.truth("VENDOR").await;
    let rbq = ReadByQuery {
        object: "VENDOR".into(),
        fields: vec!["RECORDNO".into(), "NAME".into()],
        query: String::new(),
        page_size: Some(100),
    };
    let first = sim.page(&session, Call::ReadByQuery(rbq.clone())).await;
    assert_eq!(first.list_type.as_deref(), Some("vendor"));
    assert_eq!(first.count, Some(100));
    assert_eq!(first.total_count, Some(truth.len() as u64));
    assert!(first.result_id.is_some());
    assert_eq!(first.columns(), ["RECORDNO", "NAME"]);
    let all = read_by_query_all(&sim, &session, rbq).await;
    assert_eq!(all, truth_nos(&truth, |_| true));

    // The raw body uses lower-case row elements.
    let body = intacct_snowflake::intacct::render_request(
        &request(
            intacct_snowflake::intacct::Authentication::Session(Secret::new(session.clone())),
            vec![function(
                "f",
                Call::ReadByQuery(ReadByQuery {
                    object: "VENDOR".into(),
                    fields: vec!["RECORDNO".into()],
                    query: "RECORDNO = 1".into(),
                    page_size: Some(10),
                }),
            )],
        ),
        &sender(),
    )
    .unwrap();
    let (_, content_type, text) = sim.post_raw(body).await;
    assert_eq!(content_type, "text/xml; encoding=\"UTF-8\"");
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert!(text.contains("<data listtype=\"vendor\" count=\"1\" totalcount=\"1\" numremaining=\"0\" resultId=\"\">"), "{text}");
    assert!(text.contains("<vendor>"), "{text}");
}

#[tokio::test]
async fn read_by_query_strings_filter_like_the_model() {
    let sim = start(config(Scale::Demo)).await;
    let (session, _) = sim.session().await;
    let truth = sim.truth("VENDOR").await;
    let cases: Vec<(&str, Model)> = vec![
        (
            "VENDTYPE = 'Freight' AND RECORDNO > 10",
            Box::new(|r: &Truth| {
                r["VENDTYPE"].as_deref() == Some("Freight") && num(r, "RECORDNO") > 10.0
            }),
        ),
        (
            "(VENDTYPE = 'Freight' OR VENDTYPE = 'Services') AND NOT RECORDNO <= 20",
            Box::new(|r: &Truth| {
                matches!(r["VENDTYPE"].as_deref(), Some("Freight" | "Services"))
                    && num(r, "RECORDNO") > 20.0
            }),
        ),
        (
            "WHENMODIFIED IS NULL",
            Box::new(|r: &Truth| r["WHENMODIFIED"].as_deref().is_none_or(str::is_empty)),
        ),
        (
            "RECORDNO IN (1, 2, 3, 99999)",
            Box::new(|r: &Truth| [1.0, 2.0, 3.0].contains(&num(r, "RECORDNO"))),
        ),
        (
            "WHENCREATED >= '01/01/2025 00:00:00'",
            Box::new(|r: &Truth| {
                r["WHENCREATED"]
                    .as_deref()
                    .is_some_and(|v| ts(v) >= ts("01/01/2025 00:00:00"))
            }),
        ),
    ];
    for (text, model) in cases {
        let rbq = ReadByQuery {
            object: "VENDOR".into(),
            fields: vec![],
            query: text.into(),
            page_size: Some(1000),
        };
        let got = read_by_query_all(&sim, &session, rbq).await;
        let expected = truth_nos(&truth, model);
        assert_eq!(got, expected, "query {text}");
    }
}

/// An independent predicate over a ground-truth record.
type Model = Box<dyn Fn(&Truth) -> bool>;

fn num(r: &Truth, field: &str) -> f64 {
    r[field]
        .as_deref()
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

fn text<'a>(r: &'a Truth, field: &str) -> Option<&'a str> {
    r.get(field)
        .and_then(|v| v.as_deref())
        .filter(|v| !v.is_empty())
}

#[tokio::test]
async fn query_filters_match_a_simple_model_for_every_operator() {
    let sim = start(config(Scale::Demo)).await;
    let (session, _) = sim.session().await;
    let truth = sim.truth("VENDOR").await;
    let t0 = "01/01/2025 00:00:00";
    let cmp = Filter::compare;
    let cases: Vec<(Filter, Model)> = vec![
        (
            cmp(Comparison::EqualTo, "VENDTYPE", "Freight"),
            Box::new(|r| text(r, "VENDTYPE") == Some("Freight")),
        ),
        (
            cmp(Comparison::NotEqualTo, "VENDTYPE", "Freight"),
            Box::new(|r| text(r, "VENDTYPE").is_some_and(|v| v != "Freight")),
        ),
        (
            cmp(Comparison::LessThan, "RECORDNO", "50"),
            Box::new(|r| num(r, "RECORDNO") < 50.0),
        ),
        (
            cmp(Comparison::LessThanOrEqualTo, "RECORDNO", "50"),
            Box::new(|r| num(r, "RECORDNO") <= 50.0),
        ),
        (
            cmp(Comparison::GreaterThan, "CREDITLIMIT", "100000"),
            Box::new(|r| num(r, "CREDITLIMIT") > 100000.0),
        ),
        (
            cmp(Comparison::GreaterThanOrEqualTo, "WHENCREATED", t0),
            Box::new(move |r| text(r, "WHENCREATED").is_some_and(|v| ts(v) >= ts(t0))),
        ),
        (
            Filter::Between {
                field: "RECORDNO".into(),
                low: "10".into(),
                high: "20".into(),
            },
            Box::new(|r| (10.0..=20.0).contains(&num(r, "RECORDNO"))),
        ),
        (
            Filter::In {
                field: "VENDTYPE".into(),
                values: vec!["Supplier".into(), "Services".into()],
            },
            Box::new(|r| matches!(text(r, "VENDTYPE"), Some("Supplier" | "Services"))),
        ),
        (
            Filter::NotIn {
                field: "VENDTYPE".into(),
                values: vec!["Supplier".into(), "Services".into()],
            },
            Box::new(|r| text(r, "VENDTYPE").is_some_and(|v| v != "Supplier" && v != "Services")),
        ),
        (
            cmp(Comparison::Like, "NAME", "A%"),
            Box::new(|r| text(r, "NAME").is_some_and(|v| v.starts_with('A'))),
        ),
        (
            cmp(Comparison::NotLike, "NAME", "%e%"),
            Box::new(|r| text(r, "NAME").is_some_and(|v| !v.contains('e'))),
        ),
        (
            Filter::IsNull {
                field: "WHENMODIFIED".into(),
            },
            Box::new(|r| text(r, "WHENMODIFIED").is_none()),
        ),
        (
            Filter::IsNotNull {
                field: "WHENMODIFIED".into(),
            },
            Box::new(|r| text(r, "WHENMODIFIED").is_some()),
        ),
        (
            Filter::Or(vec![
                Filter::And(vec![
                    cmp(Comparison::EqualTo, "VENDTYPE", "Freight"),
                    cmp(Comparison::LessThan, "RECORDNO", "100"),
                ]),
                Filter::IsNull {
                    field: "WHENMODIFIED".into(),
                },
            ]),
            Box::new(|r| {
                (text(r, "VENDTYPE") == Some("Freight") && num(r, "RECORDNO") < 100.0)
                    || text(r, "WHENMODIFIED").is_none()
            }),
        ),
    ];
    for (filter, model) in cases {
        let got = query_all(
            &sim,
            &session,
            query("VENDOR", Some(filter.clone()), &[("RECORDNO", true)]),
        )
        .await;
        let expected = truth_nos(&truth, model);
        assert!(
            !expected.is_empty() || matches!(filter, Filter::IsNull { .. }),
            "{filter:?} selects something"
        );
        assert_eq!(got, expected, "filter {filter:?}");
    }
}

#[tokio::test]
async fn query_orders_by_several_keys() {
    let sim = start(config(Scale::Demo)).await;
    let (session, _) = sim.session().await;
    let truth = sim.truth("VENDOR").await;
    let got = query_all(
        &sim,
        &session,
        query("VENDOR", None, &[("VENDTYPE", false), ("RECORDNO", true)]),
    )
    .await;
    let mut expected: Vec<(Option<String>, u64)> = truth
        .iter()
        .map(|r| {
            (
                text(r, "VENDTYPE").map(str::to_owned),
                num(r, "RECORDNO") as u64,
            )
        })
        .collect();
    // Descending with empty values first, then RECORDNO ascending.
    expected.sort_by(|a, b| match (&a.0, &b.0) {
        (None, None) => a.1.cmp(&b.1),
        (None, Some(_)) => std::cmp::Ordering::Less,
        (Some(_), None) => std::cmp::Ordering::Greater,
        (Some(x), Some(y)) => y.cmp(x).then(a.1.cmp(&b.1)),
    });
    assert_eq!(got, expected.into_iter().map(|e| e.1).collect::<Vec<_>>());
}

/// The client's keyset paging: (WM > t OR (WM = t AND RECORDNO > r)) AND WM < upper, then
/// the never-modified records through WHENCREATED. Over APBILLITEM, whose go-live burst has
/// more than 2000 records with one WHENMODIFIED second, it must read every record once.
#[tokio::test]
async fn keyset_paging_over_a_burst_reads_every_record_exactly_once() {
    let sim = start(config(Scale::Demo)).await;
    let (session, _) = sim.session().await;
    let truth = sim.truth("APBILLITEM").await;
    let upper = "12/31/2099 00:00:00";
    fn cmp(op: Comparison, field: &str, value: impl Into<String>) -> Filter {
        Filter::compare(op, field, value)
    }
    let mut seen: Vec<u64> = Vec::new();
    let mut cursor: Option<(String, u64)> = None;
    let mut largest_burst_page = 0;
    loop {
        let lower = match &cursor {
            None => cmp(
                Comparison::GreaterThanOrEqualTo,
                "WHENMODIFIED",
                "01/01/1970 00:00:00",
            ),
            Some((t, r)) => Filter::Or(vec![
                cmp(Comparison::GreaterThan, "WHENMODIFIED", t.clone()),
                Filter::And(vec![
                    cmp(Comparison::EqualTo, "WHENMODIFIED", t.clone()),
                    cmp(Comparison::GreaterThan, "RECORDNO", r.to_string()),
                ]),
            ]),
        };
        let filter = Filter::And(vec![
            lower,
            cmp(Comparison::LessThan, "WHENMODIFIED", upper),
        ]);
        let page = sim
            .page(
                &session,
                Call::Query(query(
                    "APBILLITEM",
                    Some(filter),
                    &[("WHENMODIFIED", true), ("RECORDNO", true)],
                )),
            )
            .await;
        // totalcount counts every remaining match, not just the page.
        let remaining = truth
            .iter()
            .filter(|r| {
                let Some(wm) = text(r, "WHENMODIFIED") else {
                    return false;
                };
                let no: u64 = text(r, "RECORDNO").unwrap().parse().unwrap();
                match &cursor {
                    None => true,
                    Some((t, c)) => (ts(wm), no) > (ts(t), *c),
                }
            })
            .count() as u64;
        assert_eq!(page.total_count, Some(remaining), "after {cursor:?}");
        if page.is_empty() {
            break;
        }
        let last = page.len() - 1;
        let same_second = (0..page.len())
            .filter(|r| page.get(*r, "WHENMODIFIED") == page.get(last, "WHENMODIFIED"))
            .count();
        largest_burst_page = largest_burst_page.max(same_second);
        seen.extend(record_nos(&page));
        cursor = Some((
            page.get(last, "WHENMODIFIED").unwrap().to_owned(),
            page.get(last, "RECORDNO").unwrap().parse().unwrap(),
        ));
    }
    // Never-modified records, keyed by WHENCREATED.
    let mut created_cursor: Option<(String, u64)> = None;
    loop {
        let lower = match &created_cursor {
            None => cmp(
                Comparison::GreaterThanOrEqualTo,
                "WHENCREATED",
                "01/01/1970 00:00:00",
            ),
            Some((t, r)) => Filter::Or(vec![
                cmp(Comparison::GreaterThan, "WHENCREATED", t.clone()),
                Filter::And(vec![
                    cmp(Comparison::EqualTo, "WHENCREATED", t.clone()),
                    cmp(Comparison::GreaterThan, "RECORDNO", r.to_string()),
                ]),
            ]),
        };
        let filter = Filter::And(vec![
            Filter::IsNull {
                field: "WHENMODIFIED".into(),
            },
            lower,
        ]);
        let page = sim
            .page(
                &session,
                Call::Query(query(
                    "APBILLITEM",
                    Some(filter),
                    &[("WHENCREATED", true), ("RECORDNO", true)],
                )),
            )
            .await;
        if page.is_empty() {
            break;
        }
        let last = page.len() - 1;
        seen.extend(record_nos(&page));
        created_cursor = Some((
            page.get(last, "WHENCREATED").unwrap().to_owned(),
            page.get(last, "RECORDNO").unwrap().parse().unwrap(),
        ));
    }
    assert_eq!(
        largest_burst_page, 2000,
        "a full page of one WHENMODIFIED second was paged through"
    );
    let unique: BTreeSet<u64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "no record twice");
    let expected: BTreeSet<u64> = truth_nos(&truth, |_| true).into_iter().collect();
    assert_eq!(unique, expected);
}

/// A keyset filter that also reads a column outside the index, over a dataset with a week
/// of changes: every page's `totalcount` is the exact number of remaining matches.
#[tokio::test]
async fn totalcount_is_exact_for_keyset_pages_with_other_conditions_after_changes() {
    let sim = start(config(Scale::Demo)).await;
    sim.handle.advance_days(7).await.unwrap();
    let (session, _) = sim.session().await;
    let truth = sim.truth("APBILL").await;
    let threshold = 1_000.0;
    let over =
        |r: &Truth| text(r, "TOTALENTERED").is_some_and(|v| v.parse::<f64>().unwrap() > threshold);
    let mut cursor: Option<(String, u64)> = None;
    let mut seen = Vec::new();
    loop {
        let mut conditions = vec![
            Filter::compare(
                Comparison::GreaterThan,
                "TOTALENTERED",
                threshold.to_string(),
            ),
            Filter::compare(Comparison::LessThan, "WHENMODIFIED", "12/31/2099 00:00:00"),
        ];
        conditions.push(match &cursor {
            None => Filter::compare(
                Comparison::GreaterThanOrEqualTo,
                "WHENMODIFIED",
                "01/01/1970 00:00:00",
            ),
            Some((t, r)) => Filter::Or(vec![
                Filter::compare(Comparison::GreaterThan, "WHENMODIFIED", t.clone()),
                Filter::And(vec![
                    Filter::compare(Comparison::EqualTo, "WHENMODIFIED", t.clone()),
                    Filter::compare(Comparison::GreaterThan, "RECORDNO", r.to_string()),
                ]),
            ]),
        });
        let mut q = query(
            "APBILL",
            Some(Filter::And(conditions)),
            &[("WHENMODIFIED", true), ("RECORDNO", true)],
        );
        q.page_size = Some(50);
        let page = sim.page(&session, Call::Query(q)).await;
        let remaining: Vec<u64> = truth
            .iter()
            .filter(|r| over(r))
            .filter_map(|r| {
                let wm = ts(text(r, "WHENMODIFIED")?);
                let no: u64 = text(r, "RECORDNO").unwrap().parse().unwrap();
                let after = cursor.as_ref().is_none_or(|(t, c)| (wm, no) > (ts(t), *c));
                after.then_some(no)
            })
            .collect();
        assert_eq!(
            page.total_count,
            Some(remaining.len() as u64),
            "after {cursor:?}"
        );
        assert_eq!(
            page.num_remaining,
            Some(remaining.len() as u64 - page.len() as u64)
        );
        if page.is_empty() {
            break;
        }
        let last = page.len() - 1;
        seen.extend(record_nos(&page));
        cursor = Some((
            page.get(last, "WHENMODIFIED").unwrap().to_owned(),
            page.get(last, "RECORDNO").unwrap().parse().unwrap(),
        ));
    }
    let expected: BTreeSet<u64> = truth
        .iter()
        .filter(|r| over(r) && text(r, "WHENMODIFIED").is_some())
        .map(|r| text(r, "RECORDNO").unwrap().parse().unwrap())
        .collect();
    assert!(seen.len() > 100, "several pages: {}", seen.len());
    assert_eq!(seen.iter().copied().collect::<BTreeSet<_>>(), expected);
    assert_eq!(seen.len(), expected.len());
}

#[tokio::test]
async fn read_by_keys_returns_upper_case_rows_and_skips_missing_keys() {
    let sim = start(config(Scale::Tiny)).await;
    let (session, _) = sim.session().await;
    let truth = sim.truth("VENDOR").await;
    let keys: Vec<String> = truth_nos(&truth, |_| true)
        .iter()
        .take(2)
        .map(u64::to_string)
        .collect();
    let page = sim
        .page(
            &session,
            Call::Read {
                object: "VENDOR".into(),
                keys: vec![keys[0].clone(), "987654321".into(), keys[1].clone()],
                fields: vec!["RECORDNO".into(), "NAME".into()],
            },
        )
        .await;
    assert_eq!(page.list_type.as_deref(), Some("VENDOR"));
    assert_eq!(page.count, Some(2));
    assert_eq!(
        record_nos(&page),
        vec![keys[0].parse::<u64>().unwrap(), keys[1].parse().unwrap()]
    );
    assert_eq!(page.get(0, "NAME"), text(&truth[0], "NAME"));
}

#[tokio::test]
async fn lookup_and_inspect_describe_the_fields() {
    let sim = start(config(Scale::Tiny)).await;
    let (session, _) = sim.session().await;
    let truth = sim.truth("VENDOR").await;
    let response = sim
        .send(&request(
            intacct_snowflake::intacct::Authentication::Session(Secret::new(session)),
            vec![
                function(
                    "l",
                    Call::Lookup {
                        object: "VENDOR".into(),
                    },
                ),
                function(
                    "i",
                    Call::Inspect {
                        object: "VENDOR".into(),
                        detail: true,
                    },
                ),
            ],
        ))
        .await
        .unwrap();
    for result in &response.results {
        let Ok(ResultData::Objects(objects)) = &result.outcome else {
            panic!("unexpected {:?}", result.outcome);
        };
        assert_eq!(objects.len(), 1);
        assert_eq!(objects[0].name, "VENDOR");
        let names: Vec<&str> = objects[0].fields.iter().map(|f| f.name.as_str()).collect();
        let truth_fields: Vec<&str> = truth[0].keys().map(String::as_str).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted, truth_fields,
            "{} lists every field",
            result.function
        );
        let recordno = objects[0]
            .fields
            .iter()
            .find(|f| f.name == "RECORDNO")
            .unwrap();
        assert_eq!(
            recordno.data_type,
            intacct_snowflake::intacct::IntacctType::Integer
        );
    }
}

#[tokio::test]
async fn timestamps_are_written_in_the_tenant_time_zone() {
    let mut utc = config(Scale::Tiny);
    utc.dataset.time_zone = chrono_tz::UTC;
    let la = config(Scale::Tiny);
    let sim_utc = start(utc).await;
    let sim_la = start(la).await;
    let a = sim_utc.truth("VENDOR").await;
    let b = sim_la.truth("VENDOR").await;
    let (session, _) = sim_la.session().await;
    let page = sim_la
        .page(
            &session,
            Call::Query(query("VENDOR", None, &[("RECORDNO", true)])),
        )
        .await;
    let (r_utc, r_la) = (&a[0], &b[0]);
    let created_utc = ts(text(r_utc, "WHENCREATED").unwrap());
    let created_la = ts(page.get(0, "WHENCREATED").unwrap());
    let offset = created_utc - created_la;
    assert!(
        offset == chrono::Duration::hours(8) || offset == chrono::Duration::hours(7),
        "Los Angeles is 7 or 8 hours behind UTC, got {offset}"
    );
    assert_eq!(page.get(0, "WHENCREATED"), text(r_la, "WHENCREATED"));
    // The session block carries an ISO-8601 offset of Los Angeles.
    let body = intacct_snowflake::intacct::render_request(
        &request(
            login(),
            vec![function("s", Call::GetApiSession { location_id: None })],
        ),
        &sender(),
    )
    .unwrap();
    let (_, _, text) = sim_la.post_raw(body).await;
    assert!(
        text.contains("-08:00</sessiontimestamp>") || text.contains("-07:00</sessiontimestamp>"),
        "{text}"
    );
}

#[tokio::test]
async fn a_count_limit_makes_counts_lower_bounds_that_stay_non_zero_until_the_end() {
    let mut config = config(Scale::Demo);
    config.count_limit = Some(10);
    let sim = start(config).await;
    let (session, _) = sim.session().await;
    let truth = sim.truth("VENDOR").await;
    let all = truth_nos(&truth, |_| true);
    let mut cursor = 0u64;
    let mut seen = Vec::new();
    loop {
        let filter = Filter::compare(Comparison::GreaterThan, "RECORDNO", cursor.to_string());
        let mut q = query("VENDOR", Some(filter), &[("RECORDNO", true)]);
        q.page_size = Some(100);
        let page = sim.page(&session, Call::Query(q)).await;
        let left = all.iter().filter(|n| **n > cursor).count() as u64;
        // At most 10 matches are counted past the page.
        assert_eq!(page.total_count, Some(left.min(110)));
        assert_eq!(page.num_remaining, Some(left.min(110) - page.len() as u64));
        seen.extend(record_nos(&page));
        if page.num_remaining == Some(0) {
            break;
        }
        cursor = *seen.last().unwrap();
    }
    assert_eq!(seen, all);
}

#[tokio::test]
async fn a_zero_count_limit_still_reports_rows_remaining() {
    let mut config = config(Scale::Tiny);
    config.count_limit = Some(0);
    let sim = start(config).await;
    let (session, _) = sim.session().await;
    let truth = sim.truth("VENDOR").await;
    assert!(truth.len() > 2);
    let mut q = query("VENDOR", None, &[("RECORDNO", true)]);
    q.page_size = Some(2);
    let page = sim.page(&session, Call::Query(q)).await;
    assert_eq!(page.total_count, Some(3));
    assert_eq!(page.num_remaining, Some(1));
}
