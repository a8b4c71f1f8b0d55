//! The bad-input corpus (`tests/fixtures/bad/`, indexed by its `README.md`): every case feeds
//! one hostile input through the real code at its seam and asserts the specific outcome — the
//! error's kind and the object, record, field, statement, batch or file it names — and that
//! no watermark (or staged mark) moved and nothing already staged or loaded was lost.

mod config;
mod emulator;
mod gateway;
mod keys;
mod manifest;
mod stage;

use std::path::PathBuf;

use crate::support::repo_root;

/// `tests/fixtures/bad/<name>`.
pub(crate) fn corpus_path(name: &str) -> PathBuf {
    repo_root().join("tests/fixtures/bad").join(name)
}

/// The bytes of a corpus file.
pub(crate) fn corpus(name: &str) -> Vec<u8> {
    let path = corpus_path(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
