//! The run lock: a stale lease is taken over by exactly one of the runs that find it, and a
//! holder whose lease was taken over learns so at its next renewal.

use chrono::Duration;
use intacct_snowflake::Error;
use intacct_snowflake::manifest::RunLock;
use intacct_snowflake::stage::Stage;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_one_of_many_runs_takes_over_an_expired_lease() {
    let dir = tempfile::tempdir().unwrap();
    let stage = Stage::open(dir.path().to_str().unwrap()).unwrap();
    let stale = RunLock::acquire(&stage, "p", "stale", Duration::milliseconds(200))
        .await
        .unwrap();
    // The lease is judged by the wall clock: wait until it has run out, no longer.
    let expires_at = stale.lease().expires_at;
    while chrono::Utc::now() <= expires_at {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let contenders = (0..6).map(|i| {
        let stage = stage.clone();
        tokio::spawn(async move {
            RunLock::acquire(&stage, "p", &format!("run-{i}"), Duration::minutes(10)).await
        })
    });
    let results: Vec<_> = futures::future::join_all(contenders)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for lost in results.iter().filter_map(|r| r.as_ref().err()) {
        assert!(matches!(lost, Error::LockHeld { .. }), "{lost}");
    }
    // The stale holder finds out at its next renewal, and cannot release the new lease.
    let mut stale = stale;
    match stale.renew().await {
        Err(Error::LockLost {
            taken_by: Some(holder),
            ..
        }) => {
            assert!(holder.contains(&winners[0].lease().run_id), "{holder}")
        }
        other => panic!("expected the lock to be lost to the winner, got {other:?}"),
    }
    assert!(matches!(stale.release().await, Err(Error::LockHeld { .. })));
    let on_stage: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("_lock/p.json")).unwrap()).unwrap();
    assert_eq!(on_stage["run_id"], winners[0].lease().run_id.as_str());
}
