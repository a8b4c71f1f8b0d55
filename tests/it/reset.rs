//! `reset --object X` through the binary: the object is read again, loaded beside the live
//! table and swapped in, while a reader counting the live table's rows in a loop never sees an
//! error or an empty table; afterwards the table equals the simulator's truth, the nightly
//! watermark has not moved, and the next run still takes what changed in Intacct since.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use intacct_snowflake::manifest::{BatchStatus, Mode};
use intacct_snowflake::snowflake::Statement;

use crate::support::demo_pipeline::sim_clock;
use crate::support::load_harness::client;
use crate::support::world::World;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_swaps_in_a_rebuilt_table_that_readers_never_see_empty() {
    let w = World::start().await;
    w.ok(&["init"]).await;
    w.ok(&["run", "--objects", "APBILL", "--no-progress"]).await;
    w.sim.advance_days(1).await.unwrap();
    let before = w.manifest().await;
    let watermark = before.objects["APBILL"].watermark;
    assert!(watermark.is_some());

    // The reader: COUNT(*) in a loop until the reset is done.
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let client = client(&w.emulator, w.keys.pkcs8.clone());
        let done = done.clone();
        tokio::spawn(async move {
            let mut counts = Vec::new();
            while !done.load(Ordering::SeqCst) {
                let outcome = client
                    .execute(&Statement::new(
                        "SELECT COUNT(*) FROM \"INTACCT\".\"RAW\".\"APBILL\"".to_owned(),
                        "reader",
                    ))
                    .await
                    .map_err(|e| e.to_string())?;
                let n: u64 = outcome.rows[0][0].as_deref().unwrap().parse().unwrap();
                counts.push(n);
            }
            Ok::<Vec<u64>, String>(counts)
        })
    };
    let now = sim_clock(&w.sim).await;
    let child = w
        .command(&["reset", "--object", "APBILL", "--no-progress"], now)
        .output();
    let out = tokio::task::spawn_blocking(move || child)
        .await
        .unwrap()
        .unwrap();
    done.store(true, Ordering::SeqCst);
    let counts = reader
        .await
        .unwrap()
        .expect("the reader never saw an error");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        counts.len() >= 3,
        "the reader ran during the reset: {counts:?}"
    );
    assert!(
        counts.iter().all(|n| *n > 0),
        "the live table was empty: {counts:?}"
    );

    // The rebuilt table equals Intacct now (it read the day's changes too), by value.
    w.compare_objects("after the reset", Some(&["APBILL"]))
        .await
        .unwrap();
    let after = w.manifest().await;
    let resets: Vec<_> = after
        .batches_of("APBILL")
        .filter(|b| b.mode == Mode::Reset)
        .collect();
    assert_eq!(resets.len(), 1);
    assert_eq!(resets[0].status, BatchStatus::Loaded);
    for step in [
        "reset-table",
        "copy-1",
        "merge",
        "cleanup",
        "swap",
        "drop-old",
    ] {
        assert!(
            resets[0].load_steps[step].statement_handle.is_some(),
            "step {step} recorded"
        );
    }
    assert_eq!(
        after.objects["APBILL"].watermark, watermark,
        "a reset moves no watermark"
    );
    let leftovers = client(&w.emulator, w.keys.pkcs8.clone())
        .execute(&Statement::new(
            "SELECT COUNT(*) FROM INTACCT.INFORMATION_SCHEMA.TABLES WHERE TABLE_NAME = 'APBILL__RESET'".to_owned(),
            "test",
        ))
        .await
        .unwrap();
    assert_eq!(leftovers.rows[0][0].as_deref(), Some("0"));

    // The next nightly run reads from the old watermark and takes what changed since.
    w.sim.advance_days(1).await.unwrap();
    w.ok(&["run", "--objects", "APBILL", "--no-progress"]).await;
    w.compare_objects("after the run that followed the reset", Some(&["APBILL"]))
        .await
        .unwrap();
    w.sim.shutdown().await.unwrap();
}
