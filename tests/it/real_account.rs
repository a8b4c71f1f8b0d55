//! The loader against an account as an administrator leaves it: a locked-down role holding
//! exactly the grants the README lists (`sql/grants.example.sql`, run by the emulator as the
//! account administrator), warehouse and role names the SQL API matches as stored, analysts'
//! grants on the reporting views, a file format someone made before without the options
//! COPY needs, and the emulator's COPY layer on the stage names the loader sends.

use std::path::PathBuf;
use std::process::Output;

use intacct_snowflake::loader::copy_into;
use intacct_snowflake::manifest::Mode;
use intacct_snowflake::snowflake::Statement;

use crate::support::emulator::EmulatorOptions;
use crate::support::keys::TestKeys;
use crate::support::load_harness::{ACCOUNT, Harness, Row, T0, USER, expected, no_delete_key};
use crate::support::repo_root;
use crate::support::world::World;

/// The role, warehouse, database and schema `sql/grants.example.sql` creates.
const ROLE: &str = "INTACCT_LOADER";
const WAREHOUSE: &str = "LOAD_WH";
const DATABASE: &str = "FINANCE";
const SCHEMA: &str = "INTACCT_RAW";

/// An emulator whose user's default role is the locked-down `INTACCT_LOADER` and whose only
/// warehouse is `LOAD_WH` (so the body's names are matched literally); `setup_sql` run first as
/// the administrator.
async fn locked_down_world(setup_sql: Option<PathBuf>) -> World {
    let keys = TestKeys::generate();
    let mut options = EmulatorOptions::key_pair(&keys.public, ACCOUNT, USER);
    options.require_warehouse = true;
    options.warehouses = vec![WAREHOUSE.to_owned()];
    options.locked_down_role = Some(ROLE.to_owned());
    options.setup_sql = setup_sql;
    let mut world = World::with_emulator(keys, &options).await;
    world.target = (DATABASE.to_owned(), SCHEMA.to_owned());
    world
}

/// The demo pipeline loading `database.schema` with `warehouse` and `role` as written (TOML
/// string contents), and no database created by `init`.
fn pipeline(w: &mut World, warehouse: &str, role: &str, database: &str, schema: &str) {
    let demo = std::fs::read_to_string(repo_root().join("pipelines/demo.toml")).unwrap();
    let mut text = demo.clone();
    for (from, to) in [
        (
            "warehouse = \"${SNOWFLAKE_WAREHOUSE:-LOAD_WH}\"",
            format!("warehouse = '{warehouse}'\nrole = '{role}'"),
        ),
        (
            "database = \"${SNOWFLAKE_DATABASE:-INTACCT}\"",
            format!("database = '{database}'"),
        ),
        (
            "schema = \"${SNOWFLAKE_SCHEMA:-RAW}\"",
            format!("schema = '{schema}'"),
        ),
        (
            "create_database = true",
            "create_database = false".to_owned(),
        ),
    ] {
        assert!(text.contains(from), "{from}");
        text = text.replace(from, &to);
    }
    let path = w.stage_dir.path().join("../real-account.toml");
    std::fs::write(&path, text).unwrap();
    w.config = path;
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_and_run_succeed_on_a_role_with_only_the_readme_grants_and_lower_case_names() {
    let mut w = locked_down_world(Some(repo_root().join("sql/grants.example.sql"))).await;
    pipeline(
        &mut w,
        "load_wh",
        "intacct_loader",
        "finance",
        "intacct_raw",
    );
    w.ok(&["init"]).await;
    w.ok(&["run", "--no-progress"]).await;
    w.assert_equal_to_truth("after init and run as the locked-down role")
        .await;
    // Again, with everything in place: nothing is created, the views are replaced.
    let again = w.ok(&["init"]).await;
    assert!(
        again.lines().all(|l| !l.starts_with("CREATE SCHEMA")
            && !l.starts_with("CREATE FILE FORMAT")
            && !l.starts_with("CREATE STAGE")),
        "{again}"
    );
    assert!(again.contains("AP_AGING"), "{again}");
    w.sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_init_may_not_create_is_named_with_the_grant_an_administrator_runs() {
    // The administrator made the database only: no schema, and no CREATE SCHEMA for the role.
    let setup = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        setup.path(),
        format!(
            "CREATE DATABASE {DATABASE}; GRANT USAGE ON DATABASE {DATABASE} TO ROLE {ROLE}; GRANT USAGE ON WAREHOUSE {WAREHOUSE} TO ROLE {ROLE};"
        ),
    )
    .unwrap();
    let mut w = locked_down_world(Some(setup.path().to_owned())).await;
    pipeline(
        &mut w,
        "load_wh",
        "intacct_loader",
        "finance",
        "intacct_raw",
    );
    let out = w.cli(&["init"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("schema FINANCE.INTACCT_RAW")
            && err.contains("GRANT CREATE SCHEMA ON DATABASE FINANCE TO ROLE INTACCT_LOADER;")
            && err.contains("CREATE SCHEMA FINANCE.INTACCT_RAW;"),
        "{err}"
    );

    // A database the role cannot see, and init is not to create it.
    pipeline(
        &mut w,
        "load_wh",
        "intacct_loader",
        "elsewhere",
        "intacct_raw",
    );
    let out = w.cli(&["init"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("database ELSEWHERE")
            && err.contains("GRANT USAGE ON DATABASE ELSEWHERE TO ROLE INTACCT_LOADER;"),
        "{err}"
    );

    // Given the grant the message named, init creates the schema and goes on.
    w.emulator
        .admin_sql(&format!(
            "GRANT CREATE SCHEMA ON DATABASE {DATABASE} TO ROLE {ROLE}"
        ))
        .await;
    pipeline(
        &mut w,
        "load_wh",
        "intacct_loader",
        "finance",
        "intacct_raw",
    );
    let out = w.ok(&["init"]).await;
    assert!(out.contains("CREATE SCHEMA IF NOT EXISTS"), "{out}");
    let schemas = w
        .emulator
        .admin_sql(&format!(
            "SHOW SCHEMAS LIKE '{SCHEMA}' IN DATABASE {DATABASE}"
        ))
        .await;
    assert_eq!(schemas.len(), 1);
    w.sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warehouse_and_role_are_sent_as_the_names_snowflake_stores() {
    let mut w = locked_down_world(Some(repo_root().join("sql/grants.example.sql"))).await;
    // Unquoted, lower case: LOAD_WH and INTACCT_LOADER, which exist.
    pipeline(
        &mut w,
        "load_wh",
        "intacct_loader",
        "finance",
        "intacct_raw",
    );
    w.ok(&["init"]).await;
    let out = w
        .ok(&[
            "query",
            "SELECT COUNT(*) AS N FROM INFORMATION_SCHEMA.TABLES",
        ])
        .await;
    assert!(out.contains('N'), "{out}");

    // Quoted: a warehouse named "load_wh", which does not exist.
    pipeline(
        &mut w,
        "\"load_wh\"",
        "intacct_loader",
        "finance",
        "intacct_raw",
    );
    let out = w.cli(&["init"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("000606")
            && err.contains("the warehouse \"load_wh\"")
            && err.contains("GRANT USAGE ON WAREHOUSE \"load_wh\" TO ROLE INTACCT_LOADER;"),
        "{err}"
    );

    // Quoted: a role named "intacct_loader", which the user does not have.
    pipeline(
        &mut w,
        "load_wh",
        "\"intacct_loader\"",
        "finance",
        "intacct_raw",
    );
    let out = w.cli(&["init"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("390189")
            && err.contains(&format!("GRANT ROLE \"intacct_loader\" TO USER {USER};")),
        "{err}"
    );
    w.sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replacing_the_views_keeps_the_select_analysts_were_granted() {
    let h = Harness::start(no_delete_key).await;
    h.query("CREATE TABLE \"INTACCT\".\"RAW\".\"APBILL\" (\"RECORDNO\" NUMBER(38,0), \"VENDORID\" VARCHAR, \"VENDORNAME\" VARCHAR, \"TOTALDUE\" NUMBER(38,10), \"WHENDUE\" DATE, \"_DELETED\" BOOLEAN)")
        .await;
    let sent = h.init().await;
    assert!(sent.iter().any(|s| s.contains("AP_AGING")), "{sent:?}");
    h.emulator
        .admin_sql("GRANT SELECT ON VIEW INTACCT.RAW.AP_AGING TO ROLE FINANCE_ANALYST")
        .await;
    let sent = h.init().await;
    assert!(
        sent.iter()
            .any(|s| s.starts_with("CREATE OR REPLACE VIEW \"INTACCT\".\"RAW\".\"AP_AGING\"")),
        "init did not replace the view: {sent:?}"
    );
    let grants = h
        .query("SHOW GRANTS ON VIEW INTACCT.RAW.AP_AGING")
        .await
        .into_iter()
        .map(|row| (row[1].clone().unwrap(), row[5].clone().unwrap()))
        .collect::<Vec<_>>();
    assert!(
        grants.contains(&("SELECT".to_owned(), "FINANCE_ANALYST".to_owned())),
        "the analysts' grant was dropped with the replaced view: {grants:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_format_made_without_use_logical_type_is_fixed_and_timestamps_load_as_instants() {
    let h = Harness::start(no_delete_key).await;
    // Someone made the format before, with Parquet's defaults.
    h.query("CREATE OR REPLACE FILE FORMAT \"INTACCT\".\"RAW\".\"INTACCT_PARQUET\" TYPE = PARQUET")
        .await;
    let sent = h.init().await;
    assert!(
        sent.iter().any(|s| s
            == "ALTER FILE FORMAT \"INTACCT\".\"RAW\".\"INTACCT_PARQUET\" SET USE_LOGICAL_TYPE = TRUE BINARY_AS_TEXT = FALSE"),
        "{sent:?}"
    );
    let described: Vec<(String, String)> = h
        .query("DESC FILE FORMAT \"INTACCT\".\"RAW\".\"INTACCT_PARQUET\"")
        .await
        .into_iter()
        .map(|row| (row[0].clone().unwrap(), row[2].clone().unwrap()))
        .collect();
    for option in [("USE_LOGICAL_TYPE", "TRUE"), ("BINARY_AS_TEXT", "FALSE")] {
        assert!(
            described.contains(&(option.0.to_owned(), option.1.to_owned())),
            "{described:?}"
        );
    }
    let rows = vec![Row::live(1, "one", T0), Row::live(2, "two", T0 + 7)];
    h.stage_batch(Mode::Nightly, T0 + 60, T0 + 61, &rows).await;
    let reports = h.load().await;
    assert_eq!(reports[0].error, None, "{reports:?}");
    assert_eq!(h.target().await, expected(&rows));
    // A second init finds nothing to fix.
    let sent = h.init().await;
    assert!(
        sent.iter().all(|s| !s.starts_with("ALTER FILE FORMAT")),
        "{sent:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_format_of_another_type_is_named_with_the_fix_and_left_as_it_is() {
    let h = Harness::start(no_delete_key).await;
    // Someone made a CSV format under the loader's format name: it cannot be altered to Parquet.
    h.query("CREATE OR REPLACE FILE FORMAT \"INTACCT\".\"RAW\".\"INTACCT_PARQUET\" TYPE = CSV")
        .await;
    match h.try_init().await {
        Err(intacct_snowflake::Error::SnowflakeSetup { object, message }) => {
            assert_eq!(object, "file format INTACCT.RAW.INTACCT_PARQUET");
            assert!(
                message.contains("TYPE = CSV")
                    && message.contains("TYPE = PARQUET")
                    && message.contains("DROP FILE FORMAT INTACCT.RAW.INTACCT_PARQUET;")
                    && message.contains("snowflake.file_format"),
                "{message}"
            );
        }
        other => panic!("expected a set-up error naming the format, got {other:?}"),
    }
    let described: Vec<(Option<String>, Option<String>)> = h
        .query("DESC FILE FORMAT \"INTACCT\".\"RAW\".\"INTACCT_PARQUET\"")
        .await
        .into_iter()
        .map(|row| (row[0].clone(), row[2].clone()))
        .collect();
    assert!(
        described.contains(&(Some("TYPE".to_owned()), Some("CSV".to_owned()))),
        "the format was changed: {described:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_copy_the_loader_sends_goes_through_the_emulators_load_metadata() {
    let h = Harness::start(no_delete_key).await;
    let rows = vec![Row::live(1, "one", T0)];
    let batch = h.stage_batch(Mode::Nightly, T0 + 60, T0 + 61, &rows).await;
    assert_eq!(h.load().await[0].error, None);
    let files: Vec<String> = {
        let m = h.manifest.lock().await;
        m.state().batches[&batch]
            .files
            .iter()
            .map(|f| f.path.clone())
            .collect()
    };
    let send = |files: Vec<String>| {
        let copy = copy_into(&h.ctx.names, "VENDOR", &files, false).unwrap();
        assert!(
            copy[0]
                .as_str()
                .contains("FROM @\"INTACCT\".\"RAW\".\"INTACCT_STAGE\"/"),
            "{}",
            copy[0]
        );
        let client = h.client.clone();
        let statement = Statement::new(copy[0].to_string(), "test");
        async move { client.execute(&statement).await }
    };
    // The same file again: skipped by its load record.
    let again = send(files.clone()).await.unwrap();
    assert_eq!(
        again.value(0, "status"),
        Some("Copy executed with 0 files processed.")
    );
    // A file the stage does not have: Snowflake's missing-file error, nothing loaded.
    let missing = format!("VENDOR/{batch}/part-99999.parquet");
    match send(vec![files[0].clone(), missing.clone()]).await {
        Err(intacct_snowflake::Error::Statement { code, message, .. }) => {
            assert_eq!(code, "091016", "{message}");
            assert!(
                message.contains(&format!("{batch}/part-99999.parquet")),
                "{message}"
            );
        }
        other => panic!("expected the missing-file error, got {other:?}"),
    }
    assert_eq!(h.staging_rows().await, 0);
}
