//! A stage that refuses writes, or fills up half-way through a part: the extract fails with
//! `Error::Stage` naming the file, the batch is never staged (and is recorded failed when the
//! manifest can still be written), the marks do not move, and the files staged before are
//! byte-identical. The faults come from [`FaultyStore`], an object_store wrapper in the test
//! support.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use intacct_snowflake::intacct::IntacctClient;
use intacct_snowflake::manifest::BatchStatus;
use intacct_snowflake::pipeline::ObjectReport;
use intacct_snowflake::pipeline::{client_config, extract_options, run_extract};
use intacct_snowflake::stage::Stage;

use crate::support::faulty_store::{FaultyStore, StoreFault};
use crate::support::gateway_world::{GatewayWorld, OBJECT};
use crate::support::hostile_gateway::{Answer, Rule};
use crate::support::stage_state::manifest_state;

/// The world's stage behind a [`FaultyStore`], and the count of bytes it accepted on the
/// fault's paths.
fn faulty_stage(world: &GatewayWorld, fault: StoreFault) -> (Stage, Arc<AtomicU64>) {
    let base = Stage::open(&world.spec.stage.url).unwrap();
    let prefix = world
        .stage_dir()
        .display()
        .to_string()
        .trim_start_matches('/')
        .to_owned();
    let store = FaultyStore::new(base.store().clone(), fault);
    let accepted = store.written.clone();
    (
        Stage::from_store(Arc::new(store), &prefix, base.url()),
        accepted,
    )
}

/// Extracts CLASS up to now onto `stage` while `rules` answer; its report.
async fn extract_onto(world: &GatewayWorld, stage: &Stage, rules: Vec<Rule>) -> ObjectReport {
    world.gateway.set_rules(rules);
    let options = extract_options(&world.spec, &[OBJECT.to_owned()], world.now, false).unwrap();
    let client = IntacctClient::new(client_config(&world.spec)).unwrap();
    run_extract(&client, stage, "bad-input", &options)
        .await
        .unwrap()
        .remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stage_that_refuses_every_write_fails_before_anything_is_staged() {
    let world = GatewayWorld::start().await;
    let (stage, _) = faulty_stage(&world, StoreFault::Refuse(""));
    let report = extract_onto(&world, &stage, Vec::new()).await;
    let error = report.error.as_deref().expect("the extract failed");
    assert!(error.starts_with("stage "), "{error}");
    assert!(error.contains("permission denied writing"), "{error}");
    // The first write of an extract is the object's schema.
    assert!(
        error.contains(&format!("_schemas/{OBJECT}/")),
        "names the file: {error}"
    );
    world.assert_nothing_moved().await;
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stage_that_refuses_parts_fails_the_batch_naming_the_part() {
    let world = GatewayWorld::start().await;
    let (stage, _) = faulty_stage(&world, StoreFault::Refuse("part-"));
    let report = extract_onto(&world, &stage, Vec::new()).await;
    let error = report.error.as_deref().expect("the extract failed");
    assert!(error.starts_with("stage "), "{error}");
    assert!(
        error.contains(&format!("{OBJECT}/{}/part-00001-", report.batch_id)),
        "names the part: {error}"
    );
    assert!(error.contains("permission denied"), "{error}");
    let state = manifest_state(&world.spec).await;
    assert_eq!(state.batches[&report.batch_id].status, BatchStatus::Failed);
    world.assert_nothing_moved().await;
    world.shutdown().await;
}

/// A part larger than the upload buffer goes up in several pieces; the store fills after the
/// first. The part never appears, the batch is failed, nothing moved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stage_that_fills_up_half_way_through_a_part() {
    let world = GatewayWorld::start().await;
    // 24 MiB of text that zstd cannot shrink much, in one record: a part of well over the
    // 10 MiB upload buffer.
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let noise: String = (0..24 * 1024 * 1024)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            char::from(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                    [(seed % 62) as usize],
            )
        })
        .collect();
    let page = String::from_utf8(super::corpus("gateway/good-page.xml"))
        .unwrap()
        .replace(
            "<DESCRIPTION>Monthly service for 41 janitorial supplies for Atlanta DC</DESCRIPTION>",
            &format!("<DESCRIPTION>{noise}</DESCRIPTION>"),
        );
    let (stage, accepted) = faulty_stage(&world, StoreFault::FullAfter("part-", 12 * 1024 * 1024));
    let report = extract_onto(
        &world,
        &stage,
        vec![Rule::created_pass(OBJECT, Answer::Body(page.into_bytes()))],
    )
    .await;
    let error = report.error.as_deref().expect("the extract failed");
    let prefix = format!("{OBJECT}/{}/part-00001-", report.batch_id);
    assert!(error.starts_with("stage "), "{error}");
    let at = error.find(&prefix).expect("names the part");
    let end = error[at..].find(".parquet").expect("names the part") + at;
    let part = format!("{}.parquet", &error[at..end]);
    assert!(error.contains("no space left on device"), "{error}");
    // Half-way: the store took the first pieces of the part before it filled.
    let accepted = accepted.load(Ordering::SeqCst);
    assert!(accepted >= 5 * 1024 * 1024, "{accepted} bytes accepted");
    let state = manifest_state(&world.spec).await;
    assert_eq!(state.batches[&report.batch_id].status, BatchStatus::Failed);
    let plain = Stage::open(&world.spec.stage.url).unwrap();
    assert_eq!(
        plain.get(&part).await.unwrap(),
        None,
        "a half part is visible"
    );
    world.assert_nothing_moved().await;
    world.shutdown().await;
}
