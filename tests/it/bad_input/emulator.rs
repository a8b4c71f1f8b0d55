//! A Snowflake endpoint answering garbage: each answer is a specific error — a
//! `SnowflakeResponse` naming what was expected, never a panic, never an empty success, and
//! never retried forever — from the real client. A loopback server in the test plays the
//! endpoint with the corpus bodies.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use intacct_snowflake::Error;
use intacct_snowflake::retry::RetryPolicy;
use intacct_snowflake::secret::Secret;
use intacct_snowflake::snowflake::SnowflakeAuth;
use intacct_snowflake::snowflake::{SnowflakeClient, SnowflakeConfig, Statement};

use super::corpus;

struct Garbage {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
    requests: AtomicU64,
}

/// Serves `body` with `status` to every statement submission; the error `execute` ends
/// with and the number of submissions.
async fn execute_against(status: u16, content_type: &'static str, body: Vec<u8>) -> (Error, u64) {
    let state = Arc::new(Garbage {
        status,
        content_type,
        body,
        requests: AtomicU64::new(0),
    });
    let app = Router::new()
        .route(
            "/api/v2/statements",
            post(|State(g): State<Arc<Garbage>>| async move {
                g.requests.fetch_add(1, Ordering::SeqCst);
                (
                    StatusCode::from_u16(g.status).unwrap(),
                    [(axum::http::header::CONTENT_TYPE, g.content_type)],
                    g.body.clone(),
                )
                    .into_response()
            }),
        )
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let client = client_for(&format!("http://{addr}"));
    let error = client
        .execute(&Statement::new("SELECT 1 AS A, 'x' AS B", "bad-input"))
        .await
        .expect_err("garbage is never a success");
    server.abort();
    (error, state.requests.load(Ordering::SeqCst))
}

/// A client with a PAT and fast retries.
fn client_for(base_url: &str) -> SnowflakeClient {
    SnowflakeClient::new(SnowflakeConfig {
        base_url: base_url.parse().unwrap(),
        account: "DEMO".into(),
        user: "LOADER".into(),
        auth: SnowflakeAuth::ProgrammaticAccessToken(Secret::new("bad-input-pat")),
        database: "INTACCT".into(),
        schema: "RAW".into(),
        warehouse: Some("LOAD_WH".into()),
        role: None,
        statement_timeout_secs: 60,
        request_timeout_secs: 10,
        retry: RetryPolicy {
            max_attempts: 3,
            initial_backoff_ms: 1,
            max_backoff_ms: 5,
            max_elapsed_secs: 10,
        },
        poll_max_backoff_ms: 10,
    })
    .unwrap()
}

fn response_detail(error: &Error) -> &str {
    match error {
        Error::SnowflakeResponse { detail } => detail,
        other => panic!("expected SnowflakeResponse, got {other:?}"),
    }
}

/// Garbage with status 200 is a `SnowflakeResponse` at the first answer: not retried (the
/// statement may have run), naming what was expected.
async fn garbage_case(file: &str, content_type: &'static str, says: &[&str]) {
    let (error, submissions) =
        execute_against(200, content_type, corpus(&format!("emulator/{file}"))).await;
    let detail = response_detail(&error);
    for text in says {
        assert!(detail.contains(text), "{file}: {text:?} not in {detail}");
    }
    assert!(!error.is_retryable());
    assert_eq!(submissions, 1, "{file}: garbage was resubmitted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_html_page_with_status_200() {
    garbage_case(
        "html-200.html",
        "text/html",
        &["200 body is not a result", "502 Bad Gateway"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_is_not_json() {
    garbage_case(
        "not-json.txt",
        "application/json",
        &["200 body is not a result", "OK"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_that_is_no_result() {
    garbage_case(
        "json-without-a-result.json",
        "application/json",
        &["has no statementHandle"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_cut_short() {
    garbage_case(
        "truncated-json.json",
        "application/json",
        &["200 body is not a result (EOF while parsing"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_wider_than_the_row_type_name_the_statement() {
    garbage_case(
        "rowtype-and-data-disagree.json",
        "application/json",
        &[
            "statement 01b0bad0-0000-0000-0000-000000000001",
            "row 0 has 3 values for 2 columns",
        ],
    )
    .await;
}

/// A 422 without Snowflake's JSON error is an HTTP error (not retried), never a success.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_422_with_an_html_body() {
    let (error, submissions) =
        execute_against(422, "text/html", corpus("emulator/html-422.html")).await;
    match &error {
        Error::HttpStatus { status, detail, .. } => {
            assert_eq!(*status, 422);
            assert!(detail.contains("Unprocessable"), "{detail}");
        }
        other => panic!("expected HttpStatus, got {other:?}"),
    }
    assert!(!error.is_retryable());
    assert_eq!(submissions, 1);
}

/// A value that does not match its column's type is an error where it is read, naming the
/// column.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fixed_column_holding_text_fails_where_it_is_decoded() {
    let body = corpus("emulator/fixed-column-holding-text.json");
    let state_body = body.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().route(
        "/api/v2/statements",
        post(move || {
            let body = state_body.clone();
            async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    body,
                )
            }
        }),
    );
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let client = client_for(&format!("http://{addr}"));
    let outcome = client
        .execute(&Statement::new("SELECT 12 AS N", "bad-input"))
        .await
        .unwrap();
    let error = outcome.decoded(0, "N").unwrap_err();
    let detail = response_detail(&error);
    assert!(detail.contains("twelve"), "{detail}");
    server.abort();
}

/// At the load seam: after a good load, the next batch's MERGE is answered with garbage (it
/// never reaches the emulator). The load fails naming the object, batch and step; the
/// target rows, the watermark and the batch's staged state are unchanged; the next load
/// through a sane endpoint loads it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_for_a_merge_fails_the_batch_and_loses_nothing() {
    use crate::support::load_harness::{Harness, Row, at};
    use intacct_snowflake::loader;
    use intacct_snowflake::manifest::{BatchStatus, Mode};

    use crate::support::snowflake_proxy::{Garbage, SnowflakeProxy};

    const T0: i64 = 1_700_000_000;
    let h = Harness::start(|_| None).await;
    let first = vec![Row::live(1, "Acme", T0), Row::live(2, "Globex", T0 + 5)];
    h.stage_batch(Mode::Nightly, T0 + 60, T0 + 61, &first).await;
    assert!(h.load().await.iter().all(|r| r.error.is_none()));
    let loaded = h.target().await;
    assert_eq!(loaded.len(), 2);

    let second = vec![
        Row::live(2, "Globex Corp", T0 + 100),
        Row::live(3, "Initech", T0 + 101),
    ];
    let batch = h
        .stage_batch(Mode::Nightly, T0 + 200, T0 + 201, &second)
        .await;
    let proxy = SnowflakeProxy::start(&h.emulator.base_url).await;
    proxy.set_garbage(Some(Garbage {
        needle: "MERGE INTO",
        status: 200,
        body: corpus("emulator/html-200.html"),
    }));
    let mut ctx = h.ctx.clone();
    ctx.client = {
        let mut config =
            crate::support::load_harness::client_config(&h.emulator, h.keys.pkcs8.clone());
        config.base_url = proxy.url().parse().unwrap();
        SnowflakeClient::new(config).unwrap()
    };
    let pending = {
        let m = h.manifest.lock().await;
        loader::pending_batches(m.state(), None)
    };
    let reports = loader::load_batches(&ctx, pending).await;
    assert!(proxy.answered() > 0, "the MERGE was answered with garbage");
    assert_eq!(reports.len(), 1);
    let error = reports[0].error.as_deref().expect("the load failed");
    assert_eq!(reports[0].batch_id, batch);
    assert!(
        error.contains(&format!("load of VENDOR batch {batch}, step merge: ")),
        "{error}"
    );
    assert!(error.contains("200 body is not a result"), "{error}");
    assert_eq!(h.target().await, loaded, "loaded rows changed");
    {
        let m = h.manifest.lock().await;
        assert_eq!(m.state().batches[&batch].status, BatchStatus::Staged);
        assert_eq!(m.state().objects["VENDOR"].watermark, Some(at(T0 + 60)));
    }
    // Through the emulator itself the same batch loads.
    let reports = h.load().await;
    assert_eq!(reports[0].error, None);
    let target = h.target().await;
    assert_eq!(target.len(), 3);
    assert_eq!(target[&2].name.as_deref(), Some("Globex Corp"));
    let m = h.manifest.lock().await;
    assert_eq!(m.state().objects["VENDOR"].watermark, Some(at(T0 + 200)));
}
