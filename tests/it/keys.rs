//! Per-object `key` and `watermark_field` settings through the binary: a table merged on a
//! natural key keeps one live row per key (a row left under an old RECORDNO is taken over, not
//! duplicated), `verify` compares and tombstones by that key, and a key or watermark field
//! that does not fit the object, or that changes once batches are staged, stops the object
//! with an error naming the setting.

use std::path::PathBuf;

use intacct_snowflake::manifest::{BatchKeys, BatchStatus};
use intacct_snowflake::snowflake::Statement;

use crate::support::load_harness::client;
use crate::support::repo_root;
use crate::support::world::World;

/// The demo pipeline with `extra` appended, written beside the world's stage.
fn pipeline_with(w: &World, name: &str, extra: &str) -> PathBuf {
    let demo = std::fs::read_to_string(repo_root().join("pipelines/demo.toml")).unwrap();
    let path = w.stage_dir.path().join(format!("../{name}.toml"));
    let path = std::path::absolute(path).unwrap();
    std::fs::write(&path, format!("{demo}\n{extra}\n")).unwrap();
    path
}

async fn world_with(extra: &str) -> World {
    let mut w = World::start().await;
    w.config = pipeline_with(&w, &format!("keys-{}", uuid::Uuid::new_v4()), extra);
    w
}

async fn query(w: &World, sql: &str) -> Vec<Vec<Option<String>>> {
    client(&w.emulator, w.keys.pkcs8.clone())
        .execute(&Statement::new(sql.to_owned(), "test"))
        .await
        .unwrap()
        .rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_natural_key_merges_on_it_and_verify_compares_it() {
    let w = world_with("[extract.object.VENDOR]\nkey = \"VENDORID\"\n").await;
    // Staged first, so `init` knows the columns and creates the table.
    w.ok(&["extract", "--objects", "VENDOR", "--no-progress"])
        .await;
    w.ok(&["init", "--objects", "VENDOR"]).await;
    let truth = w.sim.records("VENDOR").await.unwrap();
    let first_id = truth[0]["VENDORID"].as_str().unwrap().to_owned();
    // The row a vendor deleted and re-created under a new RECORDNO left behind: same VENDORID,
    // another RECORDNO, an older change. Merged on VENDORID, the run takes it over; merged on
    // RECORDNO it would stay live beside the real one.
    query(
        &w,
        &format!(
            "INSERT INTO \"INTACCT\".\"RAW\".\"VENDOR\" (\"RECORDNO\", \"VENDORID\", \"WHENMODIFIED\", \"_DELETED\") \
             VALUES (999998, '{first_id}', '2001-01-01 00:00:00', FALSE)"
        ),
    )
    .await;
    w.ok(&["run", "--objects", "VENDOR", "--no-progress"]).await;
    w.compare_objects("after a run keyed on VENDORID", Some(&["VENDOR"]))
        .await
        .unwrap();
    w.sim.advance_days(3).await.unwrap();
    w.ok(&["run", "--objects", "VENDOR", "--no-progress"]).await;
    w.compare_objects("three simulated days later", Some(&["VENDOR"]))
        .await
        .unwrap();

    let state = w.manifest().await;
    let vendorid = BatchKeys {
        key: "VENDORID".into(),
        watermark_field: "WHENMODIFIED".into(),
    };
    assert_eq!(state.object_keys("VENDOR"), Some(vendorid.clone()));
    assert!(
        state
            .batches_of("VENDOR")
            .all(|b| b.keys == vendorid && b.status == BatchStatus::Loaded)
    );

    // A live key Intacct never had: verify finds it by VENDORID and marks it deleted through a
    // tombstone that carries only the VENDORID.
    query(
        &w,
        "INSERT INTO \"INTACCT\".\"RAW\".\"VENDOR\" (\"RECORDNO\", \"VENDORID\", \"WHENMODIFIED\", \"_DELETED\") \
         VALUES (999999, 'ZZ-GHOST', '2001-01-01 00:00:00', FALSE)",
    )
    .await;
    let out = w.cli(&["verify", "--objects", "VENDOR", "--json"]).await;
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let vendor = &report.as_array().unwrap()[0];
    assert_eq!(vendor["extra"], 1, "{vendor}");
    assert_eq!(
        vendor["extra_sample"],
        serde_json::json!(["ZZ-GHOST"]),
        "{vendor}"
    );
    assert_eq!(vendor["missing"], 0, "{vendor}");
    let ghost = query(
        &w,
        "SELECT \"_DELETED\" FROM \"INTACCT\".\"RAW\".\"VENDOR\" WHERE \"VENDORID\" = 'ZZ-GHOST'",
    )
    .await;
    assert_eq!(ghost, vec![vec![Some("true".to_owned())]]);
    let out = w.cli(&["verify", "--objects", "VENDOR"]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    w.sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_or_watermark_field_that_does_not_fit_stops_the_object_naming_the_setting() {
    let mut w = World::start().await;
    for (extra, setting, says) in [
        (
            "watermark_field = \"VENDORID\"",
            "extract.object.VENDOR.watermark_field",
            "VENDORID is a Text field; the watermark must be a timestamp",
        ),
        (
            "key = \"NO_SUCH_FIELD\"",
            "extract.object.VENDOR.key",
            "NO_SUCH_FIELD is not a field lookup lists",
        ),
    ] {
        w.config = pipeline_with(
            &w,
            &format!("bad-{}", uuid::Uuid::new_v4()),
            &format!("[extract.object.VENDOR]\n{extra}\n"),
        );
        let out = w
            .cli(&["extract", "--objects", "VENDOR", "--no-progress"])
            .await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{extra}: {stderr}");
        assert!(
            stderr.contains(setting) && stderr.contains(says),
            "{extra}: {stderr}"
        );
        let state = w.manifest().await;
        assert!(
            state.batches_of("VENDOR").next().is_none(),
            "{extra}: a batch was created"
        );
    }

    // Staged on RECORDNO, then the key changes: the new batch is refused by the manifest.
    w.config = repo_root().join("pipelines/demo.toml");
    w.ok(&["extract", "--objects", "VENDOR", "--no-progress"])
        .await;
    w.config = pipeline_with(
        &w,
        "rekeyed",
        "[extract.object.VENDOR]\nkey = \"VENDORID\"\n",
    );
    let out = w
        .cli(&["extract", "--objects", "VENDOR", "--no-progress"])
        .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("keys_changed") && stderr.contains("merges on VENDORID"),
        "{stderr}"
    );
    let state = w.manifest().await;
    assert_eq!(state.batches_of("VENDOR").count(), 1);
    assert_eq!(state.object_keys("VENDOR"), Some(BatchKeys::default()));
    w.sim.shutdown().await.unwrap();
}
