//! Shared test support: paths to the repository's fixtures, the built binary and the pinned
//! Python; and, one module each, what more than one test module drives.

use std::path::PathBuf;

pub(crate) mod demo_pipeline;
pub(crate) mod emulator;
pub(crate) mod faulty_store;
pub(crate) mod gateway_world;
pub(crate) mod ground_truth;
pub(crate) mod hostile_gateway;
pub(crate) mod intacct_bodies;
pub(crate) mod keys;
pub(crate) mod load_harness;
pub(crate) mod manifest_history;
pub(crate) mod moto;
pub(crate) mod parquet;
pub(crate) mod s3_fault_proxy;
pub(crate) mod snowflake_proxy;
pub(crate) mod stage_state;
pub(crate) mod truth_as_of;
pub(crate) mod wall_clock;
pub(crate) mod world;

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

/// The pinned pytools venv's Python (the venv comes from `scripts/pytools/setup.sh`).
pub(crate) fn pytools_python() -> PathBuf {
    let python = repo_root().join("scripts/pytools/.venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/pytools/setup.sh first",
        python.display()
    );
    python
}
