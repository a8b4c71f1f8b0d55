//! Every key form authenticates; bad keys fail before anything runs.

use super::*;

#[tokio::test]
async fn unencrypted_key_runs_select_1() {
    let f = Fixture::start(|_| {}).await;
    let out = f
        .client
        .execute(&statement("SELECT 1 AS ONE"))
        .await
        .unwrap();
    assert_eq!(out.value(0, "one"), Some("1"));
}
