//! What a command leaves beside its work, through the binary against the simulator and the
//! emulator: a failed run posts exactly one notification to a loopback webhook; the metrics
//! file parses with Prometheus' own parser and holds the manifest's figures; `_INTACCT_RUNS`
//! holds one row per command, its REPORT the stage's report.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use intacct_snowflake::manifest::BatchStatus;
use intacct_snowflake::snowflake::Statement;

use crate::support::load_harness::client;
use crate::support::world::World;
use crate::support::{pytools_python, repo_root};

/// A loopback webhook that keeps every body POSTed to it.
struct Webhook {
    url: String,
    bodies: Arc<Mutex<Vec<serde_json::Value>>>,
}

async fn webhook() -> Webhook {
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new()
        .route(
            "/hook/T0/s3cr3t-token",
            post(
                |State(bodies): State<Arc<Mutex<Vec<serde_json::Value>>>>,
                 axum::Json(body): axum::Json<serde_json::Value>| async move {
                    bodies.lock().unwrap().push(body);
                    "ok"
                },
            ),
        )
        .with_state(bodies.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Webhook {
        url: format!("http://{address}/hook/T0/s3cr3t-token"),
        bodies,
    }
}

/// The demo pipeline with a `[notify]` table whose URL comes from NOTIFY_URL.
fn pipeline_with_notify(dir: &tempfile::TempDir) -> PathBuf {
    let text = std::fs::read_to_string(repo_root().join("pipelines/demo.toml")).unwrap()
        + "\n[notify]\nwebhook_url = \"${NOTIFY_URL}\"\ntimeout_secs = 5\n";
    let path = dir.path().join("notify.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_run_posts_exactly_one_notification_without_a_secret() {
    let mut w = World::start().await;
    let dir = tempfile::tempdir().unwrap();
    w.config = pipeline_with_notify(&dir);
    let hook = webhook().await;
    let now = crate::support::demo_pipeline::sim_clock(&w.sim).await;
    let run = |args: &[&str]| {
        let mut command = w.command(args, now);
        command.env("NOTIFY_URL", &hook.url);
        command.output().unwrap()
    };
    let init = run(&["init"]);
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    assert!(
        hook.bodies.lock().unwrap().is_empty(),
        "a success is not announced"
    );

    w.sim.set_faults("result-error@VENDOR").await.unwrap();
    let out = run(&["run", "--objects", "VENDOR", "--no-progress"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bodies = hook.bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let body = &bodies[0];
    assert_eq!(body["pipeline"], "demo");
    assert_eq!(body["command"], "run");
    assert_eq!(body["exit_code"], 1);
    assert_eq!(body["outcome"], "failed");
    assert_eq!(body["failed"][0]["object"], "VENDOR");
    assert!(
        body["failed"][0]["error"]
            .as_str()
            .unwrap()
            .contains("DL02000001"),
        "{body}"
    );
    let report_path = body["report_path"].as_str().unwrap();
    let relative = report_path.rsplit_once("/_reports/").unwrap().1;
    assert!(
        w.stage_dir.path().join("_reports").join(relative).exists(),
        "{report_path}"
    );
    let text = body["text"].as_str().unwrap();
    assert!(
        text.starts_with("intacct-snowflake run of pipeline demo ended with exit code 1 (failed)"),
        "{text}"
    );
    let json = body.to_string();
    assert!(!json.contains("s3cr3t-token"), "{json}");
    assert!(
        !json.contains("sim-user-password") && !json.contains("sim-sender-password"),
        "{json}"
    );
    w.sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_file_parses_as_prometheus_text_with_the_manifest_figures() {
    let w = World::start().await;
    w.ok(&["init"]).await;
    let dir = tempfile::tempdir().unwrap();
    let metrics = dir.path().join("intacct.prom");
    w.ok(&[
        "run",
        "--objects",
        "VENDOR,CLASS",
        "--no-progress",
        "--metrics-file",
        metrics.to_str().unwrap(),
    ])
    .await;
    let parsed = std::process::Command::new(pytools_python())
        .arg(repo_root().join("scripts/pytools/parse_metrics.py"))
        .arg(&metrics)
        .output()
        .unwrap();
    assert!(
        parsed.status.success(),
        "{}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    let mut samples: BTreeMap<(String, Vec<(String, String)>), f64> = BTreeMap::new();
    for line in String::from_utf8(parsed.stdout).unwrap().lines() {
        let sample: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(sample["type"], "gauge");
        let labels = sample["labels"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        samples.insert(
            (sample["name"].as_str().unwrap().to_owned(), labels),
            sample["value"].as_f64().unwrap(),
        );
    }
    let get = |name: &str, labels: &[(&str, &str)]| {
        let key = (
            format!("intacct_snowflake_{name}"),
            // The parser's labels come back sorted by name.
            labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>()
                .into_iter()
                .collect::<Vec<_>>(),
        );
        *samples
            .get(&key)
            .unwrap_or_else(|| panic!("no {key:?} in {samples:?}"))
    };
    let state = w.manifest().await;
    for object in ["VENDOR", "CLASS"] {
        let batches: Vec<_> = state.batches_of(object).collect();
        let rows: u64 = batches.iter().map(|b| b.rows).sum();
        let deleted: u64 = batches.iter().map(|b| b.deleted_rows).sum();
        let loaded = batches
            .iter()
            .filter(|b| b.status == BatchStatus::Loaded)
            .count();
        let labels = [("pipeline", "demo"), ("object", object)];
        assert_eq!(get("object_rows", &labels), rows as f64, "{object}");
        assert!(rows > 0, "{object}");
        assert_eq!(
            get("object_deleted_rows", &labels),
            deleted as f64,
            "{object}"
        );
        let with_state = |s| [("pipeline", "demo"), ("object", object), ("state", s)];
        assert_eq!(get("object_batches", &with_state("loaded")), loaded as f64);
        assert_eq!(get("object_batches", &with_state("failed")), 0.0);
        let last = get("object_last_success_timestamp_seconds", &labels);
        assert!(last > 1.7e9, "{last}");
        let read = [("pipeline", "demo"), ("object", object), ("kind", "read")];
        assert!(get("object_intacct_transactions", &read) >= 1.0);
    }
    let run = [("pipeline", "demo"), ("command", "run")];
    assert_eq!(get("run_exit_code", &run), 0.0);
    assert!(get("run_duration_seconds", &run) > 0.0);
    // Only the file: no temporary file left beside it.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    w.sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_history_holds_one_row_per_command_with_the_stage_report() {
    let w = World::start().await;
    w.ok(&["init"]).await;
    w.ok(&["run", "--objects", "VENDOR,CLASS", "--no-progress"])
        .await;
    w.ok(&["load"]).await;
    w.ok(&["verify", "--objects", "CLASS"]).await;
    let sf = client(&w.emulator, w.keys.pkcs8.clone());
    let counted = sf
        .execute(&Statement::new(
            "SELECT RUN_ID, COUNT(*) AS N FROM \"INTACCT\".\"RAW\".\"_INTACCT_RUNS\" GROUP BY RUN_ID",
            "test",
        ))
        .await
        .unwrap();
    let reports: Vec<PathBuf> = std::fs::read_dir(w.stage_dir.path().join("_reports"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert_eq!(reports.len(), 3, "run, load and verify each leave a report");
    assert_eq!(counted.rows.len(), 3, "{:?}", counted.rows);
    for row in &counted.rows {
        assert_eq!(row[1].as_deref(), Some("1"), "{row:?}");
    }
    for path in reports {
        let on_stage: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let run_id = on_stage["run_id"].as_str().unwrap();
        let stored = sf
            .execute(&Statement::new(
                format!(
                    "SELECT REPORT, COMMAND, OUTCOME, EXIT_CODE FROM \"INTACCT\".\"RAW\".\"_INTACCT_RUNS\" WHERE RUN_ID = '{run_id}'"
                ),
                "test",
            ))
            .await
            .unwrap();
        let report: serde_json::Value =
            serde_json::from_str(stored.rows[0][0].as_deref().unwrap()).unwrap();
        assert_eq!(report, on_stage, "{run_id}");
        assert_eq!(stored.rows[0][1].as_deref(), on_stage["command"].as_str());
        assert_eq!(stored.rows[0][2].as_deref(), Some("success"));
        assert_eq!(stored.rows[0][3].as_deref(), Some("0"));
        // Recorded in _INTACCT_RUNS: the only warning left is the test clock's (the world
        // sets INTACCT_SNOWFLAKE_NOW, which `run` and `verify` announce).
        for warning in on_stage["warnings"].as_array().unwrap() {
            assert!(
                warning.as_str().unwrap().contains("INTACCT_SNOWFLAKE_NOW"),
                "{warning}"
            );
        }
        let hooked = on_stage["command"] != "load";
        assert_eq!(
            on_stage["warnings"].as_array().unwrap().len(),
            usize::from(hooked),
            "{on_stage}"
        );
    }
    w.sim.shutdown().await.unwrap();
}
