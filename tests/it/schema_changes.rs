//! Table changes through the binary, against the simulator and the emulator: a custom field
//! added in Intacct is held for a frozen object (staged, not loaded, the error and `status`
//! naming the column) until `accept-schema`, then loaded with the simulator's values; `status`
//! gives the backfill that fills the column for older rows, and running it makes the table
//! equal to the simulator's truth; `dbt-sources` parses as YAML and names every column of
//! every loaded table with its Snowflake type.

use std::collections::BTreeMap;
use std::path::PathBuf;

use intacct_snowflake::manifest::{BatchStatus, SchemaChangeKind};
use intacct_snowflake::snowflake::Statement;

use crate::support::load_harness::client;
use crate::support::world::World;
use crate::support::{pytools_python, repo_root};

/// The demo pipeline with `extra` TOML appended, written beside the world's stage.
pub(crate) fn pipeline_with(w: &World, extra: &str) -> PathBuf {
    let text = std::fs::read_to_string(repo_root().join("pipelines/demo.toml")).unwrap();
    let path = w.stage_dir.path().with_extension("toml");
    std::fs::write(&path, format!("{text}\n{extra}\n")).unwrap();
    path
}

/// Rows of one query in the demo schema, as text.
pub(crate) async fn query(w: &World, sql: &str) -> Vec<Vec<Option<String>>> {
    client(&w.emulator, w.keys.pkcs8.clone())
        .execute(&Statement::new(sql.to_owned(), "test"))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .rows
}

async fn columns_of(
    w: &World,
    table: &str,
) -> Vec<(String, String, Option<String>, Option<String>)> {
    query(
        w,
        &format!(
            "SELECT COLUMN_NAME, DATA_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE FROM INTACCT.INFORMATION_SCHEMA.COLUMNS \
             WHERE TABLE_SCHEMA = 'RAW' AND TABLE_NAME = '{table}' ORDER BY ORDINAL_POSITION"
        ),
    )
    .await
    .into_iter()
    .map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap(), r[2].clone(), r[3].clone()))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_object_holds_a_new_column_until_accepted_then_loads_and_backfills_it() {
    let mut w = World::start().await;
    w.config = pipeline_with(&w, "[extract.object.VENDOR]\nschema = \"freeze\"\n");
    let field = intacct_sim::NEW_CUSTOM_FIELD;
    w.ok(&["init"]).await;
    w.ok(&["run", "--objects", "VENDOR,GLACCOUNT", "--no-progress"])
        .await;

    w.sim.add_custom_field("VENDOR").await.unwrap();
    w.sim.advance_days(1).await.unwrap();
    let out = w
        .cli(&["run", "--objects", "VENDOR,GLACCOUNT", "--no-progress"])
        .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(3),
        "GLACCOUNT loads, VENDOR is held:\n{stderr}"
    );
    assert!(
        stderr.contains(&format!("new column {field} (VARCHAR)"))
            && stderr.contains("accept-schema --object VENDOR"),
        "{stderr}"
    );

    // Staged, not loaded; the table has no such column; the manifest holds the change.
    let state = w.manifest().await;
    let held: Vec<_> = state.held_batches("VENDOR").collect();
    assert_eq!(held.len(), 1);
    let held_id = held[0].batch_id.clone();
    assert_eq!(held[0].status, BatchStatus::Staged);
    assert_eq!(held[0].schema_changes.len(), 1);
    let change = &held[0].schema_changes[0];
    assert_eq!(
        (
            change.column.as_str(),
            change.kind,
            change.old_type.as_deref(),
            change.new_type.as_str()
        ),
        (field, SchemaChangeKind::Added, None, "VARCHAR")
    );
    assert!(!columns_of(&w, "VENDOR").await.iter().any(|c| c.0 == field));
    let parquet_has_it = intacct_snowflake::manifest::schemas::load(
        &intacct_snowflake::stage::Stage::open(w.stage_dir.path().to_str().unwrap()).unwrap(),
        "VENDOR",
        &held[0].schema_fingerprint,
    )
    .await
    .unwrap()
    .column(field)
    .is_some();
    assert!(parquet_has_it, "the batch staged the new column");

    // `status` names it, held, with the command that accepts it.
    let status: serde_json::Value =
        serde_json::from_str(&w.ok(&["status", "--json"]).await).unwrap();
    let vendor = status
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["object"] == "VENDOR")
        .unwrap();
    assert_eq!(vendor["schema_changes"][0]["column"], field);
    assert_eq!(vendor["schema_changes"][0]["state"], "awaiting_acceptance");
    let text = w.ok(&["status"]).await;
    assert!(
        text.contains(&format!(
            "VENDOR.{field} added as VARCHAR (awaiting accept-schema"
        )),
        "{text}"
    );

    // A later load without acceptance still holds it.
    let out = w.cli(&["load", "--objects", "VENDOR"]).await;
    assert_eq!(out.status.code(), Some(1));

    let accepted = w.ok(&["accept-schema", "--object", "VENDOR"]).await;
    assert!(
        accepted.contains(&format!(
            "accepted: VENDOR.{field} added as VARCHAR (batch {held_id})"
        )),
        "{accepted}"
    );
    w.ok(&["load", "--objects", "VENDOR"]).await;
    let state = w.manifest().await;
    let loaded = &state.batches[&held_id];
    assert_eq!(loaded.status, BatchStatus::Loaded);
    assert!(
        columns_of(&w, "VENDOR")
            .await
            .iter()
            .any(|c| c.0 == field && c.1 == "TEXT")
    );

    // The batch's rows carry the simulator's values; older rows are NULL until a backfill.
    let truth: BTreeMap<String, Option<String>> = w
        .sim
        .records("VENDOR")
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                r["RECORDNO"].as_str().unwrap().to_owned(),
                r[field].as_str().map(str::to_owned),
            )
        })
        .collect();
    let rows = query(&w, &format!("SELECT RECORDNO, \"{field}\" FROM VENDOR WHERE \"{field}\" IS NOT NULL AND NOT \"_DELETED\"")).await;
    assert!(!rows.is_empty());
    for row in &rows {
        let key = row[0].clone().unwrap();
        assert_eq!(truth[&key], row[1], "VENDOR {key}");
    }

    // `status` gives the backfill that fills older rows; it makes the table equal the truth.
    let status: serde_json::Value =
        serde_json::from_str(&w.ok(&["status", "--json"]).await).unwrap();
    let vendor = status
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["object"] == "VENDOR")
        .unwrap();
    assert_eq!(vendor["schema_changes"][0]["state"], "applied");
    let text = w.ok(&["status"]).await;
    let command = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("fill older rows: "))
        .unwrap_or_else(|| panic!("no backfill command in:\n{text}"))
        .to_owned();
    let args: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(&args[..2], ["intacct-snowflake", "backfill"]);
    // The world passes its own --config: the rest of the command runs as printed.
    let config_at = args.iter().position(|a| *a == "--config").unwrap();
    let mut rest: Vec<&str> = args
        .iter()
        .enumerate()
        .filter(|(i, _)| *i >= 1 && *i != config_at && *i != config_at + 1)
        .map(|(_, a)| *a)
        .collect();
    rest.push("--no-progress");
    assert!(command.contains("--objects VENDOR"), "{command}");
    w.ok(&rest).await;
    w.compare_objects("after the backfill status gave", Some(&["VENDOR"]))
        .await
        .unwrap();

    // dbt-sources: YAML naming every column of every loaded table with its type.
    let yaml = w.ok(&["dbt-sources"]).await;
    let file = w.stage_dir.path().with_extension("yml");
    std::fs::write(&file, &yaml).unwrap();
    let parsed = std::process::Command::new(pytools_python())
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        parsed.status.success(),
        "{}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&parsed.stdout).unwrap();
    assert_eq!(doc["version"], 2);
    let source = &doc["sources"][0];
    assert_eq!(source["name"], "intacct");
    assert_eq!(
        (source["database"].as_str(), source["schema"].as_str()),
        (Some("INTACCT"), Some("RAW"))
    );
    assert_eq!(source["loaded_at_field"], "_EXTRACTED_AT");
    assert!(
        source["freshness"]["warn_after"]["count"]
            .as_u64()
            .is_some()
    );
    assert!(
        source["freshness"]["error_after"]["count"]
            .as_u64()
            .is_some()
    );
    let tables = source["tables"].as_array().unwrap();
    let names: Vec<&str> = tables.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["GLACCOUNT", "VENDOR"]);
    for table in tables {
        let name = table["name"].as_str().unwrap();
        let yaml_columns: BTreeMap<&str, &serde_json::Value> = table["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["name"].as_str().unwrap(), c))
            .collect();
        let snowflake = columns_of(&w, name).await;
        assert_eq!(
            yaml_columns.len(),
            snowflake.len(),
            "{name}: {yaml_columns:?} vs {snowflake:?}"
        );
        for (column, data_type, precision, scale) in &snowflake {
            let c = yaml_columns
                .get(column.as_str())
                .unwrap_or_else(|| panic!("{name}.{column} missing"));
            let expected = match data_type.as_str() {
                "NUMBER" => format!(
                    "NUMBER({},{})",
                    precision.as_deref().unwrap(),
                    scale.as_deref().unwrap()
                ),
                "TEXT" => "VARCHAR".to_owned(),
                other => other.to_owned(),
            };
            assert_eq!(
                c["data_type"].as_str(),
                Some(expected.as_str()),
                "{name}.{column}"
            );
            let tests: Vec<&str> = c["tests"]
                .as_array()
                .map(|t| t.iter().filter_map(|v| v.as_str()).collect())
                .unwrap_or_default();
            if column == "RECORDNO" {
                assert_eq!(tests, ["unique", "not_null"], "{name}.{column}");
            } else {
                assert!(tests.is_empty(), "{name}.{column}");
            }
        }
        assert!(
            yaml_columns["_DELETED"]["description"]
                .as_str()
                .unwrap()
                .contains("delete")
        );
    }
    assert!(tables.iter().any(|t| {
        t["columns"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == field)
    }));
    w.sim.shutdown().await.unwrap();
}
