//! Every fault kind, in its documented shape (status, body, errorno), and its counter.

use intacct_sim::Scale;
use intacct_sim::{CoTenant, RefusalLevel};
use intacct_snowflake::Error;
use intacct_snowflake::error::MalformedKind;
use intacct_snowflake::intacct::{Authentication, Call, ReadByQuery};
use intacct_snowflake::intacct::{ErrorLevel, FailureClass};

use super::*;

fn vendor_query() -> Call {
    let mut q = query("VENDOR", None, &[("RECORDNO", true)]);
    q.page_size = Some(5);
    Call::Query(q)
}

/// A sim with a session, then the fault spec set through the admin API.
async fn with_faults(spec: &str) -> (Sim, String) {
    let sim = start(config(Scale::Tiny)).await;
    let (session, _) = sim.session().await;
    sim.handle.set_faults(spec).await.expect("spec accepted");
    (sim, session)
}

fn body_for(session: &str, call: Call) -> String {
    render_request(
        &request(
            Authentication::Session(Secret::new(session)),
            vec![function("f", call)],
        ),
        &sender(),
    )
    .unwrap()
}

async fn injected(sim: &Sim, kind: &str) -> u64 {
    sim.handle.counters().await.unwrap()["faults_injected"][kind]
        .as_u64()
        .unwrap_or(0)
}

fn failure_of(text: &str) -> intacct_snowflake::intacct::IntacctFailure {
    match parse_response(text.as_bytes()) {
        Err(Error::Intacct(f)) => f,
        other => panic!("expected an Intacct failure, got {other:?}"),
    }
}

#[tokio::test]
async fn control_error_is_a_control_failure_with_the_errorno() {
    let (sim, session) = with_faults("control-error@query").await;
    let (status, _, text) = sim.post_raw(body_for(&session, vendor_query())).await;
    assert_eq!(status, 200);
    let f = failure_of(&text);
    assert_eq!(f.level, ErrorLevel::Control);
    assert_eq!(f.errors[0].errorno, "PL04000055");
    assert_eq!(injected(&sim, "control-error").await, 1);
    // Other functions are not targeted.
    sim.send(&request(
        Authentication::Session(Secret::new(session)),
        vec![function(
            "l",
            Call::Lookup {
                object: "VENDOR".into(),
            },
        )],
    ))
    .await
    .expect("lookup is not targeted");
}

#[tokio::test]
async fn auth_error_is_an_authentication_failure() {
    let (sim, session) = with_faults("auth-error:nth=1").await;
    let (status, _, text) = sim.post_raw(body_for(&session, vendor_query())).await;
    assert_eq!(status, 200);
    let f = failure_of(&text);
    assert_eq!(f.level, ErrorLevel::Authentication);
    assert_eq!(f.errors[0].errorno, "XL03000006");
    // nth=1 fires once: the session itself is still good.
    sim.page(&session, vendor_query()).await;
    assert_eq!(injected(&sim, "auth-error").await, 1);
}

#[tokio::test]
async fn result_error_fails_only_the_targeted_object() {
    let (sim, session) = with_faults("result-error@AUDITHISTORY").await;
    let mut audit = query("AUDITHISTORY", None, &[]);
    audit.page_size = Some(5);
    let response = sim
        .send(&request(
            Authentication::Session(Secret::new(session)),
            vec![
                function("v", vendor_query()),
                function("a", Call::Query(audit)),
            ],
        ))
        .await
        .unwrap();
    assert!(response.results[0].outcome.is_ok());
    let f = response.results[1].outcome.as_ref().unwrap_err();
    assert_eq!(f.level, ErrorLevel::Result);
    assert_eq!(f.errors[0].errorno, "DL02000001");
    assert_eq!(
        f.errors[0].description2.as_deref(),
        Some("There was an error processing the request.")
    );
    assert_eq!(injected(&sim, "result-error").await, 1);
}

#[tokio::test]
async fn session_expiry_invalidates_the_session_mid_run() {
    let (sim, session) = with_faults("session-expiry:nth=2").await;
    sim.page(&session, vendor_query()).await;
    for _ in 0..2 {
        let (_, _, text) = sim.post_raw(body_for(&session, vendor_query())).await;
        let f = failure_of(&text);
        assert_eq!(f.level, ErrorLevel::Authentication);
        assert_eq!(f.errors[0].errorno, "XL03000006");
    }
    // A new session works.
    let (fresh, _) = sim.session().await;
    sim.page(&fresh, vendor_query()).await;
    assert_eq!(injected(&sim, "session-expiry").await, 1);
}

#[tokio::test]
async fn rate_limit_is_http_429_with_gw_0010() {
    let (sim, session) = with_faults("rate-limit:every=2").await;
    sim.page(&session, vendor_query()).await;
    let (status, content_type, text) = sim.post_raw(body_for(&session, vendor_query())).await;
    assert_eq!(status, 429);
    assert_eq!(content_type, "text/xml; encoding=\"UTF-8\"");
    let f = failure_of(&text);
    assert_eq!(f.level, ErrorLevel::Control);
    assert_eq!(f.errors[0].errorno, "GW-0010");
    assert!(text.contains("<control>") && text.contains("<status>failure</status>"));
    assert!(
        !text.contains("<senderid>"),
        "gateway errors have a minimal control block"
    );
    assert_eq!(injected(&sim, "rate-limit").await, 1);
}

/// Sage's over-limit answer, as integrators quote it.
const TOO_MANY: &str = "There are too many operations running for this company (200024)";

/// The refusal's error: errorno 200024 with Sage's text.
fn is_refusal(f: &intacct_snowflake::intacct::IntacctFailure) -> bool {
    f.errors.iter().any(|e| {
        e.errorno == "200024"
            && [&e.description, &e.description2]
                .into_iter()
                .flatten()
                .any(|t| t == TOO_MANY)
    })
}

/// Two requests at once under a limit of one: the second is held for the hold, then refused
/// with Sage's answer (HTTP 200); one held while a slot comes free in time is served.
#[tokio::test]
async fn a_request_over_the_limit_is_held_then_refused_with_200024() {
    let mut config = config(Scale::Tiny);
    config.max_concurrent = 1;
    config.latency_ms = 3_000;
    config.concurrency_hold_ms = 500;
    config.refusal_level = RefusalLevel::Control;
    let sim = start(config).await;
    let (session, _) = sim.session().await;
    let send = || {
        let http = sim.http.clone();
        let url = sim.handle.endpoint_url();
        let body = body_for(&session, vendor_query());
        async move {
            let started = std::time::Instant::now();
            let response = http.post(url).body(body).send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap(), started.elapsed())
        }
    };
    let (a, b) = tokio::join!(send(), send());
    let (ok, refused) = if a.1.contains("<data") {
        (a, b)
    } else {
        (b, a)
    };
    assert_eq!(ok.0, 200);
    assert_eq!(
        refused.0, 200,
        "the refusal is an Intacct answer, not an HTTP error"
    );
    let f = failure_of(&refused.1);
    assert_eq!(f.level, ErrorLevel::Control);
    assert!(is_refusal(&f), "{f:?}");
    assert_eq!(f.class(), FailureClass::ConcurrencyLimit);
    assert!(
        refused.2 >= std::time::Duration::from_millis(500),
        "refused after {:?}, before the hold",
        refused.2
    );
    assert!(
        refused.2 < std::time::Duration::from_millis(3_000),
        "{:?}",
        refused.2
    );
    let counters = sim.handle.counters().await.unwrap();
    assert_eq!(counters["max_in_flight"], 1);
    assert_eq!(counters["refusals"], 1);
    assert_eq!(counters["faults_injected"]["concurrency"], 1);

    // A hold longer than the request in the slot: the second waits, then is served.
    let mut config = super::config(Scale::Tiny);
    config.max_concurrent = 1;
    config.latency_ms = 300;
    config.concurrency_hold_ms = 5_000;
    let sim = start(config).await;
    let (session, _) = sim.session().await;
    let send = || {
        let http = sim.http.clone();
        let url = sim.handle.endpoint_url();
        let body = body_for(&session, vendor_query());
        async move {
            http.post(url)
                .body(body)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let (a, b) = tokio::join!(send(), send());
    assert!(a.contains("<data") && b.contains("<data"), "{a}\n{b}");
    let counters = sim.handle.counters().await.unwrap();
    assert_eq!(
        (
            counters["max_in_flight"].as_u64(),
            counters["refusals"].as_u64()
        ),
        (Some(1), Some(0))
    );
}

/// The injected refusal comes at once, at the control level, beside a successful
/// authentication (operation level) and in every result, in turn by default.
#[tokio::test]
async fn injected_concurrency_refusals_rotate_through_the_levels() {
    let (sim, session) = with_faults("concurrency:nth=1,concurrency:nth=2,concurrency:nth=3").await;
    let mut levels = Vec::new();
    for _ in 0..3 {
        let (status, _, text) = sim.post_raw(body_for(&session, vendor_query())).await;
        assert_eq!(status, 200);
        let f = match parse_response(text.as_bytes()) {
            Err(Error::Intacct(f)) => f,
            Ok(mut response) => match response.results.remove(0).outcome {
                Err(f) => f,
                Ok(_) => panic!("served, not refused"),
            },
            other => panic!("{other:?}"),
        };
        assert!(is_refusal(&f), "{f:?}");
        assert_eq!(f.class(), FailureClass::ConcurrencyLimit, "{f:?}");
        levels.push(f.level);
    }
    assert_eq!(
        levels,
        [
            ErrorLevel::Control,
            ErrorLevel::Authentication,
            ErrorLevel::Result
        ]
    );
    let counters = sim.handle.counters().await.unwrap();
    assert_eq!(counters["refusals"], 3);
    assert_eq!(counters["faults_injected"]["concurrency"], 3);
}

/// A co-tenant's burst takes both slots: a request during it is held and refused; between
/// bursts it is served. Its slots are not counted in `max_in_flight`.
#[tokio::test]
async fn a_co_tenant_keeps_the_slots_busy_in_bursts() {
    let mut config = config(Scale::Tiny);
    config.concurrency_hold_ms = 200;
    config.co_tenant = Some(CoTenant {
        slots: 2,
        busy_ms: 1_500,
        idle_ms: 1_500,
    });
    let sim = start(config).await;
    // The first burst starts after the first pause: a session now, a page in the burst.
    let (session, _) = sim.session().await;
    let mut refused = 0;
    let mut served = 0;
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_millis(4_500) {
        let (status, _, text) = sim.post_raw(body_for(&session, vendor_query())).await;
        assert_eq!(status, 200);
        match parse_response(text.as_bytes()) {
            Err(Error::Intacct(f)) if is_refusal(&f) => refused += 1,
            Ok(response) => match &response.results[0].outcome {
                Ok(_) => served += 1,
                Err(f) if is_refusal(f) => refused += 1,
                Err(f) => panic!("{f:?}"),
            },
            other => panic!("{other:?}"),
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        refused > 0 && served > 0,
        "refused {refused}, served {served}"
    );
    let counters = sim.handle.counters().await.unwrap();
    assert_eq!(counters["refusals"].as_u64(), Some(refused));
    assert_eq!(counters["max_in_flight"], 1);
}

#[tokio::test]
async fn http_error_statuses_have_their_documented_bodies() {
    let (sim, session) =
        with_faults("http500:nth=1,http502:nth=2,http503:nth=3,http524:nth=4,http401:nth=5").await;
    let mut seen = Vec::new();
    for _ in 0..5 {
        let (status, content_type, text) = sim.post_raw(body_for(&session, vendor_query())).await;
        seen.push((status, content_type, text));
    }
    assert_eq!(seen[0].0, 500);
    assert!(seen[0].2.is_empty());
    assert_eq!(seen[1].0, 502);
    assert!(seen[1].1.starts_with("text/html"));
    assert!(seen[1].2.contains("cf-error-details"));
    assert_eq!(seen[2].0, 503);
    assert!(seen[2].2.is_empty());
    assert_eq!(seen[3].0, 524);
    assert_eq!(seen[4].0, 401);
    let f = failure_of(&seen[4].2);
    assert_eq!(f.errors[0].errorno, "XMLGW_JPP0002");
    for kind in ["http500", "http502", "http503", "http524", "http401"] {
        assert_eq!(injected(&sim, kind).await, 1, "{kind}");
    }
    // Afterwards the gateway answers normally.
    sim.page(&session, vendor_query()).await;
}

#[tokio::test]
async fn slow_responses_still_succeed_and_are_counted() {
    let (sim, session) = with_faults("slow=50@query").await;
    let page = sim.page(&session, vendor_query()).await;
    assert_eq!(page.len(), 5);
    assert_eq!(injected(&sim, "slow").await, 1);
}

#[tokio::test]
async fn truncate_cuts_the_body_and_closes_the_connection() {
    let (sim, session) = with_faults("truncate:nth=1").await;
    let response = sim
        .http
        .post(sim.handle.endpoint_url())
        .body(body_for(&session, vendor_query()))
        .send()
        .await
        .expect("headers arrive");
    assert_eq!(response.status().as_u16(), 200);
    let promised = response.content_length().expect("content length");
    assert!(promised > 0);
    assert!(
        response.bytes().await.is_err(),
        "the body ends before Content-Length"
    );
    assert_eq!(injected(&sim, "truncate").await, 1);
}

#[tokio::test]
async fn truncate_xml_sends_half_a_document() {
    let (sim, session) = with_faults("truncate-xml:nth=1").await;
    let (status, _, text) = sim.post_raw(body_for(&session, vendor_query())).await;
    assert_eq!(status, 200);
    match parse_response(text.as_bytes()) {
        Err(Error::MalformedResponse { kind, .. }) => assert_eq!(kind, MalformedKind::Truncated),
        other => panic!("expected a truncated body, got {other:?}"),
    }
}

#[tokio::test]
async fn reset_closes_the_connection_without_a_response() {
    let (sim, session) = with_faults("reset:nth=1").await;
    let result = sim
        .http
        .post(sim.handle.endpoint_url())
        .body(body_for(&session, vendor_query()))
        .send()
        .await;
    let error = result.expect_err("no response");
    assert!(!error.is_timeout());
    assert_eq!(injected(&sim, "reset").await, 1);
    // The server keeps serving.
    sim.page(&session, vendor_query()).await;
}

async fn first_read_by_query_page(sim: &Sim, session: &str) -> String {
    let page = sim
        .page(
            session,
            Call::ReadByQuery(ReadByQuery {
                object: "VENDOR".into(),
                fields: vec![],
                query: String::new(),
                page_size: Some(2),
            }),
        )
        .await;
    page.result_id.expect("more pages remain")
}

fn assert_read_more_failed(text: &str, result_id: &str) {
    let response = parse_response(text.as_bytes()).unwrap();
    let f = response.results[0].outcome.as_ref().unwrap_err();
    assert_eq!(f.errors[0].errorno, "readMore failed");
    assert_eq!(
        f.errors[0].description2.as_deref(),
        Some(
            format!("Attempt to readMore with an invalid or expired resultId: {result_id}")
                .as_str()
        )
    );
}

#[tokio::test]
async fn expire_result_id_fault_fails_read_more() {
    let (sim, session) = with_faults("expire-result-id@readMore:nth=1").await;
    let result_id = first_read_by_query_page(&sim, &session).await;
    let (_, _, text) = sim
        .post_raw(body_for(
            &session,
            Call::ReadMore {
                result_id: result_id.clone(),
            },
        ))
        .await;
    assert_read_more_failed(&text, &result_id);
    assert_eq!(injected(&sim, "expire-result-id").await, 1);
}

#[tokio::test]
async fn result_ids_expire_after_their_ttl_and_through_the_admin_api() {
    let mut config = config(Scale::Tiny);
    config.result_id_ttl_secs = 1;
    let sim = start(config).await;
    let (session, _) = sim.session().await;
    let result_id = first_read_by_query_page(&sim, &session).await;
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    let (_, _, text) = sim
        .post_raw(body_for(
            &session,
            Call::ReadMore {
                result_id: result_id.clone(),
            },
        ))
        .await;
    assert_read_more_failed(&text, &result_id);

    let result_id = first_read_by_query_page(&sim, &session).await;
    assert_eq!(sim.handle.expire_result_ids().await.unwrap()["expired"], 1);
    let (_, _, text) = sim
        .post_raw(body_for(
            &session,
            Call::ReadMore {
                result_id: result_id.clone(),
            },
        ))
        .await;
    assert_read_more_failed(&text, &result_id);
}

#[tokio::test]
async fn a_bad_fault_spec_is_refused() {
    let sim = start(config(Scale::Tiny)).await;
    assert!(sim.handle.set_faults("explode").await.is_err());
    let mut config = config(Scale::Tiny);
    config.faults = "http500:rate=7".into();
    assert!(spawn(config).await.is_err());
}

/// The maintenance answer: HTTP 503 with a gateway body quoting Sage's text, which the client
/// reads as Intacct being offline.
#[tokio::test]
async fn maintenance_is_a_503_saying_the_service_is_temporarily_off_line() {
    let (sim, session) = with_faults("maintenance:nth=1").await;
    let (status, content_type, text) = sim.post_raw(body_for(&session, vendor_query())).await;
    assert_eq!(status, 503);
    assert!(content_type.starts_with("text/xml"), "{content_type}");
    let f = failure_of(&text);
    assert!(
        f.errors[0]
            .description
            .as_deref()
            .is_some_and(|d| d.starts_with("The Service is Temporarily Off-line")),
        "{f:?}"
    );
    assert_eq!(f.class(), FailureClass::Unavailable);
    assert_eq!(injected(&sim, "maintenance").await, 1);
    // Only the targeted request: the next is served.
    let (status, _, _) = sim.post_raw(body_for(&session, vendor_query())).await;
    assert_eq!(status, 200);
}
