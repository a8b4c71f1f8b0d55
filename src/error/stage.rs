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
