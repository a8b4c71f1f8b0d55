//! What went wrong on the stage, as the crate error carries it.

/// The cause of an `Error::Stage`: the object store's own error, the Parquet
/// writer's, or a file that is written once found already there.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StageFailure {
    /// The object store refused or failed.
    #[error("{0}")]
    Store(#[from] object_store::Error),
    /// The Parquet writer failed (or the store under it).
    #[error("writing Parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// A file that is written once is already there.
    #[error("already exists; stage files are written once and never replaced")]
    AlreadyExists,
}

/// How a file a staged batch names differs from what the manifest recorded when it was
/// written (the cause of `Error::StagedFile`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FileProblem {
    /// The file is not on the stage.
    #[error("is missing from the stage")]
    Missing,
    /// Its size differs.
    #[error("has {found} bytes where the manifest recorded {expected}")]
    Size {
        /// Bytes recorded at write time.
        expected: u64,
        /// Bytes on the stage now.
        found: u64,
    },
    /// Its content differs.
    #[error("has sha256 {found} where the manifest recorded {expected}")]
    Checksum {
        /// sha256 recorded at write time (hex).
        expected: String,
        /// sha256 of the bytes on the stage now (hex).
        found: String,
    },
}
