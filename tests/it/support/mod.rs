//! Shared test support: paths to the repository's fixtures and the built binary.

#![allow(dead_code)]

use std::path::PathBuf;

/// The repository root.
pub(crate) fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/fixtures/intacct/<name>`: Sage's own responses, vendored (see its README).
pub(crate) fn intacct_fixture(name: &str) -> PathBuf {
    repo_root().join("tests/fixtures/intacct").join(name)
}

/// The built `intacct-snowflake` binary.
pub(crate) fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_intacct-snowflake"))
}

pub(crate) mod emulator;
pub(crate) mod faulty_store;
pub(crate) mod keys;
pub(crate) mod moto;

/// One Parquet file as the pinned pyarrow reads it (`scripts/pytools/read_parquet.py`): its
/// JSON (rows, `num_rows`, `compression`…) and its schema as (column, Arrow type) pairs.
pub(crate) struct PyarrowFile {
    pub(crate) json: serde_json::Value,
    pub(crate) schema: Vec<(String, String)>,
}

/// Reads `paths` with the pinned pyarrow, an independent Parquet reader (the venv comes from
/// `scripts/pytools/setup.sh`).
pub(crate) fn read_with_pyarrow(paths: &[String]) -> Vec<PyarrowFile> {
    let python = repo_root().join("scripts/pytools/.venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/pytools/setup.sh first",
        python.display()
    );
    let output = std::process::Command::new(&python)
        .arg(repo_root().join("scripts/pytools/read_parquet.py"))
        .args(paths)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let files: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    files
        .into_iter()
        .map(|json| {
            let schema = json["schema"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    (
                        f["name"].as_str().unwrap().to_owned(),
                        f["type"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            PyarrowFile { json, schema }
        })
        .collect()
}
