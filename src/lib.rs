//! intacct-snowflake moves Sage Intacct accounting data into Snowflake through typed Parquet
//! files on a stage.
//!
//! An extractor polls the Intacct XML gateway for records changed since a watermark and writes
//! them as Parquet (zstd) to a stage (a local directory or S3); a loader copies exactly the
//! staged files into Snowflake with `COPY INTO` and `MERGE` through the SQL API v2; a manifest
//! of create-once files on the stage records every batch and every watermark, so that nightly
//! runs, backfills and replays are safe to repeat, to interrupt and to resume.
//!
//! # Layout
//!
//! * [`error`] — the one public [`Error`] type; retryability is [`Error::is_retryable`].
//! * [`secret`] — [`secret::Secret`], a string that never prints.
//! * [`endpoint`] — loopback detection; plain `http` and unchecked certificates only there.
//! * [`retry`] — the one backoff-with-jitter retry policy of the Intacct and Snowflake clients.
//! * [`config`] — pipeline files (`pipelines/*.toml`) into a validated spec; secrets from the
//!   environment or an age-encrypted credentials file.
//! * [`intacct`] — the XML protocol (pure request rendering and response parsing), sessions
//!   and the paging client.
//! * [`snowflake`] — the Snowflake SQL API v2 client: key-pair JWT or PAT, statements (submit,
//!   poll, resend, cancel) and the pure decoding of result values.
//! * [`schema`] — Intacct field metadata to Arrow schemas; record pages to record batches.
//! * [`stage`] — the object store behind a stage URL and the Parquet part writer.
//! * [`manifest`] — the create-once batch log on the stage and its pure fold into state.
//! * [`loader`] — SQL rendering, DDL from persisted schemas, reporting views, and the
//!   resumable per-batch load (COPY → check → MERGE → cleanup).
//! * [`pipeline`] — one run's context, pure planning, and extract, load, backfill, replay,
//!   verify and the stage's retention (prune) over them.
//! * `cli` (private; [`run_cli`] is the binary's entry) — command-line arguments, one file per command
//!   body, printing and exit codes.
//! * `notify` (private) — the chat webhook told when a command ends badly (`[notify]`).
//! * `metrics` (private) — a command's figures in Prometheus' text format (`--metrics-file`).
//! * `shutdown` (private) — SIGINT and SIGTERM, for the run commands.
//!
//! Each module's public surface is curated: nested modules are private and the module
//! re-exports what the binary, the tests and the benchmarks use (`intacct::IntacctClient`,
//! `stage::PartWriter`…), so `unreachable_pub` flags whatever is public by
//! accident. The pure tables `intacct::objects`, `intacct::tenant_time` and
//! `manifest::schemas` stay namespaces of their own.
//!
//! The Intacct gateway simulator (package `intacct-sim` under `scripts/intacct-sim`) is a client
//! of this library like any other: it uses `intacct`'s request and response types and time
//! formats, [`secret::Secret`] and [`Error`]; `intacct-snowflake sim intacct` runs its binary.

// The manifest's tests share a history builder with the integration tests, which name the crate.
#[cfg(test)]
extern crate self as intacct_snowflake;

mod cli;
pub mod config;
pub mod endpoint;
pub mod error;
mod http_body;
pub mod intacct;
pub mod loader;
pub mod manifest;
mod metrics;
mod notify;
pub mod pipeline;
pub mod retry;
pub mod schema;
pub mod secret;
mod shutdown;
pub mod snowflake;
pub mod stage;

pub use cli::main as run_cli;
pub use error::{Error, Result};
pub use snowflake::{
    Column, DmlStats, SnowflakeClient, SnowflakeConfig, SqlValue, Statement, StatementOutcome,
};
