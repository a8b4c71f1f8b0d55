//! `check` through the binary against the simulator and the emulator: a pipeline that can run
//! passes every line and changes nothing (no lock, no manifest commit, no DDL or DML, no file
//! left on the stage); each kind of failure fails its own line with the fix in it, and exit
//! code 2.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use intacct_sim::{self as sim, SimConfig, SimHandle};

use crate::support::emulator::{Emulator, EmulatorOptions};
use crate::support::keys::TestKeys;
use crate::support::load_harness::{ACCOUNT, USER};
use crate::support::{binary, repo_root};

/// Every privilege `init` and a load of the demo pipeline need.
const ALL_GRANTS: &[&str] = &[
    "GRANT USAGE ON WAREHOUSE LOAD_WH TO ROLE INTACCT_LOADER",
    "GRANT CREATE DATABASE ON ACCOUNT TO ROLE INTACCT_LOADER",
    "GRANT USAGE, CREATE SCHEMA ON DATABASE INTACCT TO ROLE INTACCT_LOADER",
    "GRANT USAGE, CREATE TABLE, CREATE VIEW, CREATE STAGE, CREATE FILE FORMAT ON SCHEMA INTACCT.RAW TO ROLE INTACCT_LOADER",
];

/// A simulator, an emulator whose loader role INTACCT_LOADER has `grants` on a database and
/// schema an administrator made, and a stage directory.
struct CheckWorld {
    sim: SimHandle,
    emulator: Emulator,
    keys: TestKeys,
    stage_dir: tempfile::TempDir,
    _setup: tempfile::TempDir,
}

impl CheckWorld {
    async fn start(config: SimConfig, grants: &[&str]) -> CheckWorld {
        let sim = sim::spawn(SimConfig {
            dataset: sim::DatasetConfig {
                scale: sim::Scale::Tiny,
                ..config.dataset.clone()
            },
            ..config
        })
        .await
        .unwrap();
        let keys = TestKeys::generate();
        let setup = tempfile::tempdir().unwrap();
        let sql = setup.path().join("setup.sql");
        let mut text = String::from("CREATE DATABASE INTACCT;\nCREATE SCHEMA INTACCT.RAW;\n");
        for grant in grants {
            text.push_str(grant);
            text.push_str(";\n");
        }
        std::fs::write(&sql, text).unwrap();
        let mut options = EmulatorOptions::key_pair(&keys.public, ACCOUNT, USER);
        options.extra_args = [
            "--warehouse",
            "LOAD_WH",
            "--role",
            "INTACCT_LOADER",
            "--setup-sql",
            sql.to_str().unwrap(),
        ]
        .map(str::to_owned)
        .to_vec();
        CheckWorld {
            sim,
            emulator: Emulator::start(&options),
            keys,
            stage_dir: tempfile::tempdir().unwrap(),
            _setup: setup,
        }
    }

    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut command = Command::new(binary());
        command
            .current_dir(repo_root())
            .args(args)
            .arg("--config")
            .arg(repo_root().join("pipelines/demo.toml"))
            .env("INTACCT_ENDPOINT", self.sim.endpoint_url())
            .env("STAGE_URL", self.stage_dir.path())
            .env("SNOWFLAKE_URL", &self.emulator.base_url)
            .env("SNOWFLAKE_PRIVATE_KEY_PATH", &self.keys.pkcs8)
            .env("INTACCT_SNOWFLAKE_LOG", "error");
        for (k, v) in env {
            command.env(k, v);
        }
        command
    }

    fn check(&self, env: &[(&str, &str)]) -> Checked {
        let out = self
            .command(&["check", "--objects", "VENDOR,APBILL"], env)
            .output()
            .unwrap();
        Checked(out)
    }

    fn init(&self, env: &[(&str, &str)]) {
        let out = self.command(&["init"], env).output().unwrap();
        assert!(
            out.status.success(),
            "init: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `check`'s output.
struct Checked(Output);

impl Checked {
    /// The line of check `name`: its mark (`ok`, `FAILED`, `skipped`) and the whole line.
    fn line(&self, name: &str) -> (String, String) {
        let stdout = String::from_utf8_lossy(&self.0.stdout);
        let line = stdout
            .lines()
            .find(|l| {
                l.split_whitespace()
                    .skip(1)
                    .collect::<Vec<_>>()
                    .join(" ")
                    .starts_with(name)
            })
            .unwrap_or_else(|| panic!("no line {name:?} in:\n{stdout}"))
            .to_owned();
        (line.split_whitespace().next().unwrap().to_owned(), line)
    }

    fn failed(&self, name: &str, fix: &str) {
        let (mark, line) = self.line(name);
        assert_eq!(mark, "FAILED", "{line}\n{}", self.all());
        let (_, fix_text) = line.split_once(" — fix: ").expect("a fix on the line");
        assert!(fix_text.contains(fix), "{line}");
        assert_eq!(self.0.status.code(), Some(2), "{}", self.all());
    }

    fn marks(&self) -> Vec<(String, String)> {
        String::from_utf8_lossy(&self.0.stdout)
            .lines()
            .map(|l| {
                let mut words = l.split_whitespace();
                let mark = words.next().unwrap().to_owned();
                (mark, l.to_owned())
            })
            .collect()
    }

    fn all(&self) -> String {
        format!(
            "{}\n{}",
            String::from_utf8_lossy(&self.0.stdout),
            String::from_utf8_lossy(&self.0.stderr)
        )
    }
}

/// Every file under `dir`, relative.
fn files(dir: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.insert(path.strip_prefix(dir).unwrap().to_owned());
            }
        }
    }
    out
}

/// Statements by kind that change something.
async fn changes(emulator: &Emulator) -> Vec<(String, u64)> {
    let stats = emulator.stats().await;
    [
        "create", "alter", "drop", "insert", "update", "delete", "merge", "copy", "truncate",
        "grant",
    ]
    .iter()
    .map(|k| {
        (
            k.to_string(),
            stats["statements_by_kind"][k].as_u64().unwrap(),
        )
    })
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipeline_that_can_run_passes_every_check_and_changes_nothing() {
    let w = CheckWorld::start(SimConfig::default(), ALL_GRANTS).await;
    w.init(&[]);
    // At the simulator's clock: a run refuses a local clock months from the gateway's.
    let now = crate::support::demo_pipeline::sim_clock(&w.sim)
        .await
        .to_rfc3339();
    let run = w
        .command(
            &["run", "--objects", "VENDOR", "--no-progress"],
            &[("INTACCT_SNOWFLAKE_NOW", &now)],
        )
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stage_before = files(w.stage_dir.path());
    let changes_before = changes(&w.emulator).await;
    let requests_before = w.sim.counters().await.unwrap()["functions"].clone();

    let checked = w.check(&[]);
    assert_eq!(checked.0.status.code(), Some(0), "{}", checked.all());
    let marks = checked.marks();
    assert_eq!(marks.len(), 13, "{}", checked.all());
    for (mark, line) in &marks {
        if line.contains("intacct entities") {
            assert_eq!(mark, "skipped", "{line}");
        } else {
            assert_eq!(mark, "ok", "{line}");
        }
    }
    assert!(
        checked
            .line("stage listed by Snowflake")
            .1
            .contains("lists the probe")
    );
    assert!(
        checked
            .line("snowflake privileges")
            .1
            .contains("role INTACCT_LOADER")
    );

    // Nothing staged, no manifest commit, no lock, no probe left; no DDL or DML sent.
    assert_eq!(files(w.stage_dir.path()), stage_before);
    assert_eq!(changes(&w.emulator).await, changes_before);
    // Intacct was read, never asked to change anything: reads only.
    let functions = w.sim.counters().await.unwrap()["functions"].clone();
    for (name, _) in functions.as_object().unwrap() {
        assert!(
            [
                "getAPISession",
                "query",
                "readByQuery",
                "readMore",
                "lookup",
                "readByName",
                "readUserFormatting",
                "inspect",
                "read"
            ]
            .contains(&name.as_str()),
            "{name}"
        );
    }
    assert_ne!(functions, requests_before);
    w.sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_sender_fails_the_sender_line_and_skips_the_login() {
    let w = CheckWorld::start(SimConfig::default(), ALL_GRANTS).await;
    let checked = w.check(&[("INTACCT_SENDER_PASSWORD", "not-the-sender-password")]);
    checked.failed("intacct sender", "intacct.sender_password");
    assert_eq!(checked.line("intacct login").0, "skipped");
    assert_eq!(checked.line("lookup VENDOR").0, "skipped");
    // Snowflake is checked all the same.
    assert_eq!(checked.line("snowflake authentication").0, "ok");
    w.sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_user_password_fails_the_login_line() {
    let w = CheckWorld::start(SimConfig::default(), ALL_GRANTS).await;
    let checked = w.check(&[("INTACCT_USER_PASSWORD", "not-the-user-password")]);
    assert_eq!(checked.line("intacct sender").0, "ok");
    checked.failed("intacct login", "intacct.user_password");
    assert!(!checked.all().contains("not-the-user-password"));
    w.sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_month_date_format_fails_the_preferences_line() {
    let mut config = SimConfig::default();
    config.user_formatting.date_format = "/dmY".into();
    let w = CheckWorld::start(config, ALL_GRANTS).await;
    let checked = w.check(&[]);
    checked.failed(
        "intacct preferences",
        "Date format preference to MM/DD/YYYY",
    );
    assert!(checked.line("intacct preferences").1.contains("\"/dmY\""));
    assert_eq!(checked.line("lookup VENDOR").0, "ok");
    w.sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_german_locale_fails_the_preferences_line_naming_the_locale_preference() {
    let mut config = SimConfig::default();
    config.user_formatting.locale = "de_DE".into();
    let w = CheckWorld::start(config, ALL_GRANTS).await;
    let checked = w.check(&[]);
    checked.failed("intacct preferences", "Locale preference to English");
    let (_, line) = checked.line("intacct preferences");
    assert!(line.contains("\"de_DE\""), "{line}");
    assert!(line.contains("en_US"), "{line}");
    assert_eq!(checked.line("lookup VENDOR").0, "ok");
    w.sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_without_audit_history_fails_its_line_unless_deletes_are_off() {
    let config = SimConfig {
        denied_objects: vec!["AUDITHISTORY".into()],
        ..SimConfig::default()
    };
    let w = CheckWorld::start(config, ALL_GRANTS).await;
    let checked = w.check(&[]);
    checked.failed(
        "intacct audit history",
        "View permission for custom reports",
    );
    let (_, line) = checked.line("intacct audit history");
    assert!(line.contains("view audit history"), "{line}");
    assert!(line.contains("deletes = \"off\""), "{line}");
    // The objects themselves stay readable: lookup works whatever the permissions.
    assert_eq!(checked.line("lookup APBILL").0, "ok");
    w.sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_snowflake_does_not_know_fails_authentication_and_skips_the_rest() {
    let w = CheckWorld::start(SimConfig::default(), ALL_GRANTS).await;
    let other = TestKeys::generate();
    let checked = w.check(&[("SNOWFLAKE_PRIVATE_KEY_PATH", other.pkcs8.to_str().unwrap())]);
    checked.failed(
        "snowflake authentication",
        "ALTER USER LOADER SET RSA_PUBLIC_KEY",
    );
    for name in [
        "snowflake role and warehouse",
        "snowflake privileges",
        "stage listed by Snowflake",
    ] {
        assert_eq!(checked.line(name).0, "skipped", "{name}");
    }
    assert_eq!(checked.line("intacct login").0, "ok");
    w.sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_without_a_privilege_names_the_grant_that_fixes_it() {
    let grants: Vec<&str> = vec![
        ALL_GRANTS[0],
        ALL_GRANTS[1],
        ALL_GRANTS[2],
        "GRANT USAGE, CREATE TABLE, CREATE STAGE, CREATE FILE FORMAT ON SCHEMA INTACCT.RAW TO ROLE INTACCT_LOADER",
    ];
    let w = CheckWorld::start(SimConfig::default(), &grants).await;
    let checked = w.check(&[]);
    checked.failed(
        "snowflake privileges",
        "GRANT CREATE VIEW ON SCHEMA INTACCT.RAW TO ROLE INTACCT_LOADER;",
    );
    let (_, line) = checked.line("snowflake privileges");
    assert!(
        line.contains("lacks CREATE VIEW on SCHEMA INTACCT.RAW —"),
        "{line}"
    );
    w.sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stage_snowflake_does_not_read_where_the_tool_writes_fails_the_listing() {
    let w = CheckWorld::start(SimConfig::default(), ALL_GRANTS).await;
    // The stage Snowflake reads was made over another directory than the one the tool writes.
    let elsewhere = tempfile::tempdir().unwrap();
    w.init(&[("STAGE_URL", elsewhere.path().to_str().unwrap())]);
    let checked = w.check(&[]);
    assert_eq!(checked.line("stage written by this tool").0, "ok");
    checked.failed("stage listed by Snowflake", "snowflake.stage_url");
    assert!(
        checked
            .line("stage listed by Snowflake")
            .1
            .contains("does not list the probe")
    );
    w.sim.shutdown().await.unwrap();
}
