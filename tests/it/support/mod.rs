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
