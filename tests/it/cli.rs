//! The command-line surface: help text, exit codes of unbuilt commands, the secrets commands.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support;

fn run(args: &[&str]) -> std::process::Output {
    Command::new(support::binary())
        .args(args)
        .current_dir(support::repo_root())
        .output()
        .expect("the binary runs")
}

#[test]
fn help_lists_every_planned_command() {
    let out = run(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for command in [
        "run", "extract", "load", "backfill", "replay", "status", "verify", "check", "sql", "init",
        "sim", "secrets",
    ] {
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(&format!("{command} "))),
            "--help does not list {command}:\n{help}"
        );
    }
}

#[test]
fn every_command_teaches_with_an_example() {
    for command in [
        "run", "load", "backfill", "replay", "verify", "sql", "init", "extract", "check",
    ] {
        let out = run(&[command, "--help"]);
        assert!(out.status.success(), "{command}");
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("--config"), "{command}: {help}");
        assert!(
            help.contains(&format!("intacct-snowflake {command}")),
            "{command} --help has no example: {help}"
        );
    }
}

#[test]
fn a_bad_pipeline_file_is_a_configuration_error_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(support::repo_root().join("pipelines/demo.toml"))
        .unwrap()
        .replace("lookback_secs = 7200", "lookback = 7200");
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, text).unwrap();
    let out = run(&["status", "--config", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("lookback"), "{err}");
}

#[test]
fn secrets_round_trip_through_the_cli_without_printing_values() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("creds.age");
    let mut child = Command::new(support::binary())
        .args([
            "secrets",
            "encrypt",
            "--out",
            file.to_str().unwrap(),
            "--passphrase-env",
            "TEST_AGE_PASS",
        ])
        .env("TEST_AGE_PASS", "correct horse battery staple")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"ALPHA=first-value\nBETA=second-value\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ALPHA") && !err.contains("first-value"),
        "{err}"
    );
    let ciphertext = std::fs::read(&file).unwrap();
    assert!(!String::from_utf8_lossy(&ciphertext).contains("first-value"));

    let out = Command::new(support::binary())
        .args(["secrets", "list", "--file", file.to_str().unwrap()])
        .env(
            "INTACCT_SNOWFLAKE_AGE_PASSPHRASE",
            "correct horse battery staple",
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ALPHA\nBETA\n");

    let out = Command::new(support::binary())
        .args(["secrets", "list", "--file", file.to_str().unwrap()])
        .env("INTACCT_SNOWFLAKE_AGE_PASSPHRASE", "wrong")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot decrypt"));
}

#[test]
fn the_pipeline_file_comes_from_the_environment_and_the_flag_wins() {
    let dir = tempfile::tempdir().unwrap();
    let demo = std::fs::read_to_string(support::repo_root().join("pipelines/demo.toml")).unwrap();
    let stage = dir.path().join("stage");
    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        demo.replace("${STAGE_URL:-.demo/stage}", &stage.display().to_string()),
    )
    .unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        demo.replace("lookback_secs = 7200", "lookback = 7200"),
    )
    .unwrap();
    let status = |env: &std::path::Path, flag: Option<&std::path::Path>| {
        let mut command = Command::new(support::binary());
        command
            .arg("status")
            .current_dir(support::repo_root())
            .env("INTACCT_SNOWFLAKE_CONFIG", env);
        if let Some(flag) = flag {
            command.arg("--config").arg(flag);
        }
        command.output().unwrap()
    };
    let from_env = status(&good, None);
    assert!(
        from_env.status.success(),
        "{}",
        String::from_utf8_lossy(&from_env.stderr)
    );
    assert!(
        stage.is_dir(),
        "status opened the stage the environment's file names"
    );
    let bad_from_env = status(&bad, None);
    assert_eq!(bad_from_env.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_from_env.stderr).contains("bad.toml"));
    let flag_wins = status(&good, Some(&bad));
    assert_eq!(flag_wins.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&flag_wins.stderr).contains("bad.toml"));
    let flag_wins = status(&bad, Some(&good));
    assert!(flag_wins.status.success());

    for command in [
        &["run"][..],
        &["extract"],
        &["load"],
        &["backfill"],
        &["replay"],
        &["status"],
        &["verify"],
        &["sql"],
        &["init"],
        &["query"],
        &["stage", "prune"],
        &["check"],
        &["accept-schema"],
        &["dbt-sources"],
        &["reset"],
    ] {
        let out = run(&[command, &["--help"][..]].concat());
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(
            help.contains("[env: INTACCT_SNOWFLAKE_CONFIG=]")
                && help.contains("[default: pipelines/demo.toml]"),
            "{command:?} --help:\n{help}"
        );
    }
}
