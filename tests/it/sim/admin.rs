//! The admin API: advancing time, ground truth, counters, clock.

use std::collections::BTreeSet;

use intacct_sim::Scale;
use intacct_snowflake::intacct::{Call, Comparison, Filter};

use super::*;

fn keys(truth: &[Truth]) -> BTreeSet<u64> {
    truth_nos(truth, |_| true).into_iter().collect()
}

#[tokio::test]
async fn advancing_a_day_changes_records_and_records_deletes_in_audit_history() {
    let sim = start(config(Scale::Demo)).await;
    let (session, _) = sim.session().await;
    let before = sim.truth("APBILL").await;
    let clock_before = sim.handle.base_url();
    let _ = clock_before;
    let summary = sim.handle.advance_days(1).await.unwrap();
    let after = sim.truth("APBILL").await;

    let deleted: BTreeSet<u64> = keys(&before).difference(&keys(&after)).copied().collect();
    let created: BTreeSet<u64> = keys(&after).difference(&keys(&before)).copied().collect();
    assert_eq!(
        summary["deleted"]["APBILL"].as_u64().unwrap_or(0),
        deleted.len() as u64
    );
    assert_eq!(
        summary["created"]["APBILL"].as_u64().unwrap_or(0),
        created.len() as u64
    );
    assert!(
        !deleted.is_empty() || !created.is_empty(),
        "a day changes bills: {summary}"
    );

    // The gateway serves the new state: deleted bills are gone, new ones are there.
    let mut q = query("APBILL", None, &[("RECORDNO", true)]);
    q.select = vec!["RECORDNO".into()];
    let served: BTreeSet<u64> = query_all(&sim, &session, q).await.into_iter().collect();
    assert_eq!(served, keys(&after));

    // Every deleted bill has an AUDITHISTORY row with ACCESSMODE D.
    let audit = sim.truth("AUDITHISTORY").await;
    let audited: BTreeSet<u64> = audit
        .iter()
        .filter(|r| {
            r["OBJECTTYPE"].as_deref() == Some("apbill") && r["ACCESSMODE"].as_deref() == Some("D")
        })
        .filter_map(|r| {
            r["OBJECTKEY"]
                .as_deref()?
                .strip_suffix("--REC")?
                .parse()
                .ok()
        })
        .collect();
    assert!(
        deleted.is_subset(&audited),
        "deleted {deleted:?} audited {audited:?}"
    );
    // And the gateway finds them with the documented deletion query (AUDITHISTORY needs an
    // object type and a lower bound on ACCESSTIME: the base rows start at go-live, three years
    // back).
    let filter = Filter::And(vec![
        Filter::compare(Comparison::EqualTo, "OBJECTTYPE", "apbill"),
        Filter::compare(Comparison::EqualTo, "ACCESSMODE", "D"),
        Filter::compare(
            Comparison::GreaterThanOrEqualTo,
            "ACCESSTIME",
            "01/01/2000 00:00:00",
        ),
    ]);
    let mut q = query("AUDITHISTORY", Some(filter), &[("ACCESSTIME", true)]);
    q.select = vec!["OBJECTKEY".into(), "ACCESSTIME".into(), "ID".into()];
    let page = sim.page(&session, Call::Query(q)).await;
    let found: BTreeSet<u64> = (0..page.len())
        .filter_map(|r| {
            page.get(r, "OBJECTKEY")?
                .strip_suffix("--REC")?
                .parse()
                .ok()
        })
        .collect();
    assert_eq!(found, audited);
}

#[tokio::test]
async fn the_clock_moves_with_advance() {
    let sim = start(config(Scale::Tiny)).await;
    let url = format!("{}/__sim/clock", sim.handle.base_url());
    let now = |v: serde_json::Value| {
        chrono::DateTime::parse_from_rfc3339(v["now"].as_str().unwrap()).unwrap()
    };
    let before = now(sim
        .http
        .get(&url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap());
    assert_eq!(before.to_rfc3339(), "2026-01-15T00:00:00+00:00");
    sim.handle.advance_days(2).await.unwrap();
    let after = now(sim
        .http
        .get(&url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap());
    assert_eq!(after - before, chrono::Duration::days(2));
}

#[tokio::test]
async fn counters_count_requests_pages_sessions_and_functions() {
    let sim = start(config(Scale::Tiny)).await;
    let (session, _) = sim.session().await;
    for _ in 0..3 {
        sim.page(&session, Call::Query(query("VENDOR", None, &[])))
            .await;
    }
    sim.post_raw("not xml".into()).await;
    let counters = sim.handle.counters().await.unwrap();
    assert_eq!(counters["requests"], 5);
    assert_eq!(counters["pages"], 3);
    assert_eq!(counters["sessions_opened"], 1);
    assert_eq!(counters["functions"]["query"], 3);
    assert_eq!(counters["functions"]["getAPISession"], 1);
}

#[tokio::test]
async fn records_of_an_unknown_object_is_not_found() {
    let sim = start(config(Scale::Tiny)).await;
    let url = format!("{}/__sim/records?object=NOPE", sim.handle.base_url());
    assert_eq!(
        sim.http.get(url).send().await.unwrap().status().as_u16(),
        404
    );
}

#[tokio::test]
async fn the_same_seed_serves_byte_identical_data() {
    let mut a = config(Scale::Tiny);
    a.dataset.seed = 5;
    let mut b = config(Scale::Tiny);
    b.dataset.seed = 5;
    let mut c = config(Scale::Tiny);
    c.dataset.seed = 6;
    let (a, b, c) = (start(a).await, start(b).await, start(c).await);
    let raw = |sim: &Sim| {
        let url = format!("{}/__sim/records?object=APBILL", sim.handle.base_url());
        let http = sim.http.clone();
        async move { http.get(url).send().await.unwrap().bytes().await.unwrap() }
    };
    let (ra, rb, rc) = (raw(&a).await, raw(&b).await, raw(&c).await);
    assert!(!ra.is_empty());
    assert_eq!(ra, rb);
    assert_ne!(ra, rc);
    // What the gateway serves is identical too.
    let (sa, _) = a.session().await;
    let (sb, _) = b.session().await;
    let pa = a
        .page(
            &sa,
            Call::Query(query("APBILL", None, &[("RECORDNO", true)])),
        )
        .await;
    let pb = b
        .page(
            &sb,
            Call::Query(query("APBILL", None, &[("RECORDNO", true)])),
        )
        .await;
    assert_eq!(pa, pb);
}
