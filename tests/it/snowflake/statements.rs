//! Statements through the emulator's faults: polling, resends with the same requestId,
//! lost responses, token expiry, typed SQL errors, partitions, cancel.

use std::time::Duration;

use intacct_snowflake::Error;

use super::*;

/// Lines of the emulator log for POSTs of `request_id`.
fn posts_of(emulator: &Emulator, request_id: &str) -> Vec<String> {
    emulator
        .log_tail()
        .lines()
        .filter(|l| l.contains("POST /api/v2/statements?") && l.contains(request_id))
        .map(str::to_owned)
        .collect()
}

async fn count_rows(client: &SnowflakeClient, table: &str) -> String {
    let out = client
        .execute(&statement(&format!("SELECT COUNT(*) AS N FROM {table}")))
        .await
        .unwrap();
    out.value(0, "N").unwrap().to_owned()
}

#[tokio::test]
async fn a_202_is_polled_to_the_result() {
    let f = Fixture::start(|_| {}).await;
    f.emulator.set_faults("running=3:other:nth=1").await;
    let polls = f.emulator.counter("polls").await;
    let out = f
        .client
        .execute(&statement("SELECT 42 AS ANSWER"))
        .await
        .unwrap();
    assert_eq!(out.value(0, "answer"), Some("42"));
    assert!(!out.statement_handle.is_empty());
    assert_eq!(f.emulator.faults_injected("running").await, 1);
    // Three polls answered 202, the fourth the result.
    assert_eq!(f.emulator.counter("polls").await - polls, 4);
}

#[tokio::test]
async fn rate_limits_and_unavailability_resend_the_same_request_id_with_retry() {
    let f = Fixture::start(|_| {}).await;
    f.client
        .execute(&statement("CREATE TABLE T_RETRY (I INT)"))
        .await
        .unwrap();
    f.emulator
        .set_faults("429:other:nth=1,503:other:nth=2")
        .await;
    let executed = f.emulator.statements_executed().await;
    let insert = statement("INSERT INTO T_RETRY VALUES (1)");
    let out = f.client.execute(&insert).await.unwrap();
    assert_eq!(out.dml_counts().inserted, 1);
    assert_eq!(f.emulator.faults_injected("429").await, 1);
    assert_eq!(f.emulator.faults_injected("503").await, 1);
    assert_eq!(f.emulator.statements_executed().await, executed + 1);

    let posts = posts_of(&f.emulator, &insert.request_id);
    assert_eq!(posts.len(), 3, "{posts:#?}");
    assert!(!posts[0].contains("retry=true"), "{}", posts[0]);
    assert!(posts[0].contains("-> 429"), "{}", posts[0]);
    assert!(
        posts[1].contains("retry=true") && posts[1].contains("-> 503"),
        "{}",
        posts[1]
    );
    assert!(
        posts[2].contains("retry=true") && posts[2].contains("-> 200"),
        "{}",
        posts[2]
    );
    f.emulator.set_faults("").await;
    assert_eq!(count_rows(&f.client, "T_RETRY").await, "1");
}

#[tokio::test]
async fn a_lost_response_is_answered_from_history_and_runs_once() {
    let f = Fixture::start(|_| {}).await;
    f.client
        .execute(&statement("CREATE TABLE T_DROP (I INT)"))
        .await
        .unwrap();
    f.emulator.set_faults("drop:other:nth=1").await;
    let executed = f.emulator.statements_executed().await;
    let insert = statement("INSERT INTO T_DROP VALUES (7)");
    let out = f.client.execute(&insert).await.unwrap();
    assert_eq!(out.dml_counts().inserted, 1);
    assert_eq!(f.emulator.faults_injected("drop").await, 1);
    assert_eq!(f.emulator.counter("served_from_history").await, 1);
    assert_eq!(f.emulator.statements_executed().await, executed + 1);
    let posts = posts_of(&f.emulator, &insert.request_id);
    assert_eq!(posts.len(), 2, "{posts:#?}");
    assert!(posts[1].contains("retry=true"), "{}", posts[1]);
    f.emulator.set_faults("").await;
    assert_eq!(count_rows(&f.client, "T_DROP").await, "1");
}

#[tokio::test]
async fn a_resend_after_a_crash_carries_retry_from_the_first_send() {
    let f = Fixture::start(|_| {}).await;
    f.client
        .execute(&statement("CREATE TABLE T_RESUME (I INT)"))
        .await
        .unwrap();
    let insert = statement("INSERT INTO T_RESUME VALUES (1)");
    let first = f.client.execute(&insert).await.unwrap();
    let executed = f.emulator.statements_executed().await;
    let again = Statement {
        resend: true,
        ..insert.clone()
    };
    let second = f.client.execute(&again).await.unwrap();
    assert_eq!(second.statement_handle, first.statement_handle);
    assert_eq!(f.emulator.counter("served_from_history").await, 1);
    assert_eq!(f.emulator.statements_executed().await, executed);
    let posts = posts_of(&f.emulator, &insert.request_id);
    assert!(posts[1].contains("retry=true"), "{posts:#?}");
    assert_eq!(count_rows(&f.client, "T_RESUME").await, "1");
}

#[tokio::test]
async fn an_expired_token_is_minted_again_once() {
    let f = Fixture::start(|_| {}).await;
    f.emulator.set_faults("401:other:nth=1").await;
    let executed = f.emulator.statements_executed().await;
    let out = f
        .client
        .execute(&statement("SELECT 5 AS FIVE"))
        .await
        .unwrap();
    assert_eq!(out.value(0, "FIVE"), Some("5"));
    assert_eq!(f.emulator.faults_injected("401").await, 1);
    assert_eq!(f.emulator.statements_executed().await, executed + 1);

    // Two 401s in a row: a typed auth error, nothing ran.
    f.emulator
        .set_faults("401:other:nth=1,401:other:nth=2")
        .await;
    let executed = f.emulator.statements_executed().await;
    let err = f.client.execute(&statement("SELECT 6")).await.unwrap_err();
    assert!(matches!(err, Error::SnowflakeAuth { .. }), "{err:?}");
    assert_eq!(f.emulator.statements_executed().await, executed);
}

#[tokio::test]
async fn sql_errors_are_typed_with_code_state_and_handle() {
    let f = Fixture::start(|_| {}).await;
    let err = f
        .client
        .execute(&statement("SELECT * FROM NO_SUCH_TABLE"))
        .await
        .unwrap_err();
    assert!(!err.is_retryable());
    let Error::Statement {
        code,
        sql_state,
        statement_handle,
        http_status,
        message,
    } = err
    else {
        panic!("expected Error::Statement, got {err:?}")
    };
    assert_eq!(
        (code.as_str(), sql_state.as_str(), http_status),
        ("002003", "42S02", 422),
        "{message}"
    );
    assert!(statement_handle.is_some_and(|h| !h.is_empty()));
}

#[tokio::test]
async fn every_partition_of_a_large_result_is_fetched() {
    let f = Fixture::start(|o| o.partition_rows = Some(7)).await;
    f.client
        .execute(&statement("CREATE TABLE T_PARTS (N INT, S VARCHAR)"))
        .await
        .unwrap();
    let values: Vec<String> = (0..50).map(|i| format!("({i}, 'row-{i}')")).collect();
    f.client
        .execute(&statement(&format!(
            "INSERT INTO T_PARTS VALUES {}",
            values.join(", ")
        )))
        .await
        .unwrap();
    let polls = f.emulator.counter("polls").await;
    let out = f
        .client
        .execute(&statement("SELECT N, S FROM T_PARTS ORDER BY N"))
        .await
        .unwrap();
    let expected: Vec<Vec<Option<String>>> = (0..50)
        .map(|i| vec![Some(i.to_string()), Some(format!("row-{i}"))])
        .collect();
    assert_eq!(out.rows, expected);
    // 50 rows at 7 per partition: partitions 1..=7 fetched with a GET each.
    assert_eq!(f.emulator.counter("polls").await - polls, 7);
}

#[tokio::test]
async fn cancel_running_cancels_a_polled_statement() {
    let f = Fixture::start(|o| o.sync_wait_secs = Some(0.5)).await;
    f.emulator.set_faults("slow=60:other:nth=1").await;
    let client = f.client.clone();
    let task = tokio::spawn(async move { client.execute(&statement("SELECT 1 AS SLOW")).await });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !task.is_finished() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "still running after cancel"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        f.client.cancel_running().await;
    }
    let err = task.await.unwrap().unwrap_err();
    let Error::Statement {
        code, sql_state, ..
    } = &err
    else {
        panic!("expected Error::Statement, got {err:?}")
    };
    assert_eq!((code.as_str(), sql_state.as_str()), ("000604", "57014"));
}

#[tokio::test]
async fn a_statement_past_its_timeout_is_a_typed_408() {
    let f = Fixture::start(|_| {}).await;
    let mut cfg = config(&f.emulator, key_auth(&f.keys.pkcs8, None), "SF_TEST");
    cfg.statement_timeout_secs = 1;
    let client = SnowflakeClient::new(cfg).unwrap();
    f.emulator.set_faults("slow=20:other:nth=1").await;
    let err = client
        .execute(&statement("SELECT 1 AS LATE"))
        .await
        .unwrap_err();
    assert!(!err.is_retryable());
    let Error::Statement {
        http_status, code, ..
    } = &err
    else {
        panic!("expected Error::Statement, got {err:?}")
    };
    assert_eq!((*http_status, code.as_str()), (408, "000630"), "{err}");
}
