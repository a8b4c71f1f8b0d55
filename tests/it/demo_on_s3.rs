//! `scripts/demo.sh` as a person runs it with the stage on S3 (`STAGE_URL=s3://…`): the script
//! starts moto on loopback, the tool stages there, and the emulator reads the stage as an
//! external S3 stage; every step succeeds (its `verify` exits 5 on any difference, which
//! fails the script) and nothing is staged on the local disk. What COPY reads from an S3 stage
//! is checked value by value in `s3_end_to_end`.

use std::process::Command;

use crate::support::{binary, repo_root};

#[test]
fn the_demo_runs_with_its_stage_on_s3() {
    let demo_dir = tempfile::tempdir().unwrap();
    // The script builds the tool into the target directory these tests were built in.
    let target_dir = binary()
        .parent()
        .and_then(|debug| debug.parent())
        .unwrap()
        .to_owned();
    let out = Command::new(repo_root().join("scripts/demo.sh"))
        .env("STAGE_URL", "s3://demo-bucket/intacct/")
        .env("DEMO_DIR", demo_dir.path())
        .env("CARGO_TARGET_DIR", &target_dir)
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("SNOWFLAKE_STORAGE_INTEGRATION")
        .env_remove("INTACCT_SNOWFLAKE_NOW")
        .output()
        .expect("scripts/demo.sh runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail = |text: &str| {
        text.lines()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        out.status.success(),
        "demo on S3 failed ({}):\n{}\n{}",
        out.status,
        tail(&stdout),
        tail(&stderr)
    );
    assert!(
        stdout.contains("== moto at http://127.0.0.1:") && stdout.contains(", bucket demo-bucket"),
        "the demo did not start moto for the stage:\n{}",
        tail(&stdout)
    );
    assert!(
        stdout.contains("the stage is in s3://demo-bucket/intacct/"),
        "{}",
        tail(&stdout)
    );
    let local_parts: Vec<_> = walk(demo_dir.path())
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    assert!(
        local_parts.is_empty(),
        "parts on local disk: {local_parts:?}"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
