//! Stages: the object store behind a stage URL, and the Parquet part writer.
