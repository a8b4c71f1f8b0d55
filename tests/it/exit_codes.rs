//! The exit code of a command that finished is its run report's outcome: every object failed
//! (whether its extract or its load failed) exits 1, some failed exits 3. The report on the
//! stage reads back as a typed `RunReport` that says the same.

use std::process::Output;

use intacct_snowflake::pipeline::{CommandName, Outcome, RunReport, SCHEMA_VERSION};

use crate::support::world::World;

/// The run report a command printed the path of, read back from the stage.
fn printed_report(w: &World, out: &Output) -> RunReport {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let path = stdout
        .lines()
        .find_map(|l| l.strip_prefix("run report: "))
        .unwrap_or_else(|| panic!("no report path printed:\n{stdout}"));
    let body = std::fs::read(w.stage_dir.path().join(path)).unwrap();
    serde_json::from_slice(&body).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_object_failing_exits_1_and_some_failing_exits_3() {
    let w = World::start().await;
    // The API user may not read VENDOR: every read of it is refused.
    w.sim
        .set_faults("result-error=PL04000005@VENDOR")
        .await
        .unwrap();

    // Before `init` Snowflake has no database: CLASS extracts but cannot load, VENDOR cannot
    // be read. Nothing reached Snowflake, one object at each step.
    let out = w
        .cli(&["run", "--objects", "VENDOR,CLASS", "--no-progress"])
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = printed_report(&w, &out);
    assert_eq!(report.schema_version, SCHEMA_VERSION);
    assert_eq!(report.command, CommandName::Run);
    assert_eq!(report.outcome, Outcome::Failed);
    let failed_object = |object: &str| {
        report
            .objects
            .iter()
            .find(|o| o.object == object)
            .unwrap_or_else(|| panic!("{object} in the report"))
            .clone()
    };
    assert!(failed_object("VENDOR").error.is_some());
    let class = failed_object("CLASS");
    assert_eq!(class.error, None, "CLASS extracted");
    let class_load = report
        .loads
        .iter()
        .find(|l| l.batch_id == class.batch_id)
        .expect("CLASS's batch was loaded");
    assert!(
        class_load
            .error
            .as_deref()
            .is_some_and(|e| e.contains("does not exist")),
        "{class_load:?}"
    );
    let err = stderr(&out);
    assert!(
        err.contains("2 of 2 objects failed") && err.contains("PL04000005"),
        "{err}"
    );

    // With the database there, CLASS loads (its earlier batch first) and only VENDOR fails.
    w.ok(&["init"]).await;
    let out = w
        .cli(&["run", "--objects", "VENDOR,CLASS", "--no-progress"])
        .await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let report = printed_report(&w, &out);
    assert_eq!(report.outcome, Outcome::Partial);
    assert_eq!(
        report.leftover_loads.len(),
        1,
        "{:?}",
        report.leftover_loads
    );
    assert!(report.leftover_loads.iter().all(|l| l.error.is_none()));
    assert!(report.loads.iter().all(|l| l.error.is_none()));
    let err = stderr(&out);
    assert!(err.contains("VENDOR") && !err.contains("CLASS"), "{err}");

    // An extract of VENDOR alone: its one object failed.
    let out = w
        .cli(&["extract", "--objects", "VENDOR", "--no-progress"])
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = printed_report(&w, &out);
    assert_eq!(
        (report.command, report.outcome),
        (CommandName::Extract, Outcome::Failed)
    );
    w.sim.shutdown().await.unwrap();
}
