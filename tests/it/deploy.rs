//! The scheduler files under `scripts/deploy/`: the systemd units pass `systemd-analyze
//! verify` (where systemd-analyze exists), the Kubernetes CronJob parses and has the fields a
//! safe nightly job needs, and the Airflow DAG compiles and maps each exit code to what
//! Airflow should do — checked without Airflow installed.

use std::path::Path;
use std::process::Command;

use crate::support::{binary, pytools_python, repo_root};

fn deploy(path: &str) -> std::path::PathBuf {
    repo_root().join("scripts/deploy").join(path)
}

/// The units as one pipeline's instance (`intacct-snowflake@demo.*`) in `dir`, the binary
/// path pointed at the built one (verify checks that it is executable); `timer_extra` is
/// appended to the timer.
fn instantiate(dir: &Path, timer_extra: &str) -> Vec<std::path::PathBuf> {
    let service = std::fs::read_to_string(deploy("systemd/intacct-snowflake@.service"))
        .unwrap()
        .replace(
            "/usr/local/bin/intacct-snowflake",
            &binary().display().to_string(),
        );
    let timer =
        std::fs::read_to_string(deploy("systemd/intacct-snowflake@.timer")).unwrap() + timer_extra;
    let paths = vec![
        dir.join("intacct-snowflake@demo.service"),
        dir.join("intacct-snowflake@demo.timer"),
    ];
    std::fs::write(&paths[0], service).unwrap();
    std::fs::write(&paths[1], timer).unwrap();
    paths
}

/// `systemd-analyze verify` of the units: its exit status and what it said about them.
fn verify(units: &[std::path::PathBuf]) -> (bool, Vec<String>) {
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .args(units)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr)
        .lines()
        .chain(String::from_utf8_lossy(&out.stdout).lines())
        .filter(|l| l.contains("intacct-snowflake@"))
        .map(str::to_owned)
        .collect();
    (out.status.success(), said)
}

#[test]
fn the_systemd_units_verify() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!(
            "SKIPPED: systemd-analyze is not installed, so the systemd units are not verified"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (ok, said) = verify(&instantiate(dir.path(), ""));
    assert!(ok && said.is_empty(), "systemd-analyze verify: {said:#?}");
    // The check can fail: an unknown key is reported.
    let broken = tempfile::tempdir().unwrap();
    let (_, said) = verify(&instantiate(broken.path(), "NotAKey=1\n"));
    assert!(
        said.iter().any(|l| l.contains("NotAKey")),
        "systemd-analyze did not report an unknown key: {said:#?}"
    );
    let service = std::fs::read_to_string(deploy("systemd/intacct-snowflake@.service")).unwrap();
    let timer = std::fs::read_to_string(deploy("systemd/intacct-snowflake@.timer")).unwrap();
    for line in [
        "Type=oneshot",
        "SuccessExitStatus=4",
        "RestartPreventExitStatus=2",
        "Environment=INTACCT_SNOWFLAKE_CONFIG=/etc/intacct-snowflake/%i.toml",
        "EnvironmentFile=/etc/intacct-snowflake/%i.env",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "PrivateTmp=yes",
        "ReadWritePaths=/var/lib/intacct-snowflake",
    ] {
        assert!(
            service.lines().any(|l| l == line),
            "the service lacks {line}"
        );
    }
    for line in [
        "OnCalendar=*-*-* 02:15:00 America/Los_Angeles",
        "Persistent=true",
        "RandomizedDelaySec=20min",
    ] {
        assert!(timer.lines().any(|l| l == line), "the timer lacks {line}");
    }
}

/// A YAML file as JSON, read by PyYAML (pinned in scripts/pytools).
fn yaml(path: &Path) -> serde_json::Value {
    let out = Command::new(pytools_python())
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))",
        ])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} does not parse: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_cronjob_never_overlaps_retries_a_little_and_takes_its_pipeline_and_secrets_from_the_cluster()
{
    let documents = yaml(&deploy("kubernetes/cronjob.yaml"));
    let documents = documents.as_array().unwrap();
    assert_eq!(documents.len(), 1);
    let cron = &documents[0];
    assert_eq!(cron["apiVersion"], "batch/v1");
    assert_eq!(cron["kind"], "CronJob");
    let spec = &cron["spec"];
    assert_eq!(spec["concurrencyPolicy"], "Forbid");
    assert!(
        spec["startingDeadlineSeconds"]
            .as_u64()
            .is_some_and(|s| s > 0)
    );
    assert_eq!(spec["timeZone"], "America/Los_Angeles");
    let job = &spec["jobTemplate"]["spec"];
    assert!(job["backoffLimit"].as_u64().is_some());
    let rules = job["podFailurePolicy"]["rules"].as_array().unwrap();
    let fails_at_once = |code: u64| {
        rules.iter().any(|r| {
            r["action"] == "FailJob"
                && r["onExitCodes"]["operator"] == "In"
                && r["onExitCodes"]["values"]
                    .as_array()
                    .unwrap()
                    .contains(&code.into())
        })
    };
    assert!(fails_at_once(2), "a configuration error is retried");
    assert!(fails_at_once(4), "a held lock is retried at once");
    assert!(!fails_at_once(1) && !fails_at_once(3));
    let pod = &job["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    let container = &pod["containers"][0];
    assert_eq!(container["args"][0], "run");
    assert_eq!(
        container["envFrom"][0]["secretRef"]["name"],
        "intacct-snowflake-acme"
    );
    // The pipeline file: INTACCT_SNOWFLAKE_CONFIG names a file of the mounted ConfigMap.
    let config = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "INTACCT_SNOWFLAKE_CONFIG")
        .unwrap()["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let mount = container["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| config.starts_with(m["mountPath"].as_str().unwrap()))
        .unwrap_or_else(|| panic!("nothing is mounted where {config} is"));
    let volume = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == mount["name"])
        .unwrap();
    assert_eq!(volume["configMap"]["name"], "intacct-snowflake-acme");
    let file = config.rsplit('/').next().unwrap();
    assert_eq!(volume["configMap"]["items"][0]["path"], file);
}

#[test]
fn the_airflow_dag_compiles_and_maps_every_exit_code() {
    let dag = deploy("airflow/intacct_snowflake_dag.py");
    let cache = tempfile::tempdir().unwrap();
    let compiled = Command::new(pytools_python())
        .args(["-m", "py_compile"])
        .arg(&dag)
        .env("PYTHONPYCACHEPREFIX", cache.path())
        .output()
        .unwrap();
    assert!(
        compiled.status.success(),
        "{}",
        String::from_utf8_lossy(&compiled.stderr)
    );
    // Imported without Airflow: no DAG, the mapping alone.
    let script = "import importlib.util, json, sys\n\
        spec = importlib.util.spec_from_file_location('dag', sys.argv[1])\n\
        dag = importlib.util.module_from_spec(spec)\n\
        spec.loader.exec_module(dag)\n\
        print(json.dumps({'dag': dag.DAG is None, 'outcomes': {c: dag.outcome_of(c) for c in (0, 1, 2, 3, 4, 130, -9)}}))";
    let out = Command::new(pytools_python())
        .args(["-c", script])
        .arg(&dag)
        .env("PYTHONPYCACHEPREFIX", cache.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["dag"], true, "the DAG module needs Airflow to import");
    assert_eq!(
        got["outcomes"],
        serde_json::json!({
            "0": "success",
            "1": "retry",
            "2": "fail",
            "3": "retry",
            "4": "skip",
            "130": "retry",
            "-9": "retry",
        })
    );
}
