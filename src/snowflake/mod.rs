//! The Snowflake side: a client of the SQL API v2 (`/api/v2/statements`).
//!
//! * `auth` — key-pair JWT (PKCS#8 keys, encrypted or not) or a programmatic access token;
//!   the key is read and checked when the client is built;
//! * `statements` — [`SnowflakeClient`]: submit with a caller-chosen `requestId`, resend with
//!   `retry=true`, poll 202s, fetch every result partition, cancel what is in flight;
//! * `values` — the pure decoding of the SQL API's value encodings and DML counts;
//! * `wire` — request and response bodies and what each status means (pure).
//!
//! The client talks to Snowflake, or to the local emulator, by base URL only: the same code
//! path runs in production and in the tests.

pub(crate) mod auth;
mod limits;
mod statements;
mod values;
mod wire;

use crate::error::Result;
use crate::retry::RetryPolicy;

pub use auth::{PASSPHRASE_SETTING, SigningKey, SnowflakeAuth, claims};
pub use statements::SnowflakeClient;
pub use values::{Decimal, DmlStats, SqlValue};

/// Everything the client needs: where, who, which context, and how patient to be.
#[derive(Clone, Debug)]
pub struct SnowflakeConfig {
    /// `https://<account>.snowflakecomputing.com` (or the emulator's `http://127.0.0.1:PORT`).
    pub base_url: url::Url,
    /// Account identifier as configured (normalised for the JWT by `auth::jwt_account`).
    pub account: String,
    /// Login name.
    pub user: String,
    /// Key pair or programmatic access token.
    pub auth: SnowflakeAuth,
    /// Database of every statement (case-sensitive, as stored).
    pub database: String,
    /// Schema of every statement.
    pub schema: String,
    /// Warehouse, when not the user's default.
    pub warehouse: Option<String>,
    /// Role, when not the user's default.
    pub role: Option<String>,
    /// The `timeout` of each statement, in seconds (Snowflake cancels it after that: 408).
    pub statement_timeout_secs: u64,
    /// Longest one HTTP request may take, in seconds (a POST may wait 45 s before its 202).
    pub request_timeout_secs: u64,
    /// Resends after 429, 5xx and transport failures.
    pub retry: RetryPolicy,
    /// Cap on the wait between polls of a running statement, in milliseconds (0.5, 1, 2, 4 s,
    /// ... up to this).
    pub poll_max_backoff_ms: u64,
}

/// Default HTTP request timeout: above Snowflake's 45 s synchronous wait.
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 120;
/// Default cap between polls.
pub const DEFAULT_POLL_MAX_BACKOFF_MS: u64 = 10_000;

impl SnowflakeConfig {
    /// The retry policy of the reference table: full jitter from 1 s, capped at 60 s, 8
    /// attempts, at most 15 minutes.
    pub fn default_retry() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 8,
            initial_backoff_ms: 1_000,
            max_backoff_ms: 60_000,
            max_elapsed_secs: 900,
        }
    }
}

/// One SQL statement to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// The SQL text (one statement).
    pub sql: String,
    /// The `requestId`: a UUID chosen by the caller and recorded before the first send, so a
    /// resend (after a lost response or a crash) is recognised by Snowflake and not run again.
    pub request_id: String,
    /// `QUERY_TAG`, e.g. `intacct-snowflake:demo:VENDOR:<batch>:merge`.
    pub query_tag: String,
    /// True when this `requestId` may already have been sent (resume after a crash): the first
    /// attempt already carries `retry=true`.
    pub resend: bool,
}

/// One result column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// Column name as Snowflake reports it.
    pub name: String,
    /// Type, lower-case as on the wire (`fixed`, `text`, `timestamp_ntz`, ...).
    pub type_name: String,
    /// Scale (NUMBER, TIME, TIMESTAMP).
    pub scale: Option<i64>,
    /// Precision (NUMBER).
    pub precision: Option<i64>,
    /// Whether it may hold NULL.
    pub nullable: bool,
}

/// A finished statement: its handle, every row of every partition, and DML counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementOutcome {
    /// Snowflake's handle of the statement.
    pub statement_handle: String,
    /// The result columns.
    pub columns: Vec<Column>,
    /// Every row of every partition, as the raw wire strings (`None` is SQL NULL).
    pub rows: Vec<Vec<Option<String>>>,
    /// The response's `stats` object, when sent (DML).
    pub stats: Option<DmlStats>,
    /// Snowflake's message (`Statement executed successfully.`).
    pub message: String,
}

impl Statement {
    /// A statement sent under a fresh requestId: for reads and idempotent DDL, which nothing
    /// resumes by id (a load step's requestId is recorded in the manifest instead).
    pub fn new(sql: impl Into<String>, query_tag: impl Into<String>) -> Statement {
        Statement {
            sql: sql.into(),
            request_id: uuid::Uuid::new_v4().to_string(),
            query_tag: query_tag.into(),
            resend: false,
        }
    }
}

impl StatementOutcome {
    /// The index of the column called `name`, compared case-insensitively.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// The raw wire string at `row`, column `name`; `None` for NULL or when either is missing.
    pub fn value(&self, row: usize, name: &str) -> Option<&str> {
        let index = self.column(name)?;
        self.rows.get(row)?.get(index)?.as_deref()
    }

    /// The value at `row`, column `name`, decoded by the column's type.
    pub fn decoded(&self, row: usize, name: &str) -> Result<SqlValue> {
        let missing = |what: String| crate::error::Error::SnowflakeResponse { detail: what };
        let index = self.column(name).ok_or_else(|| {
            missing(format!(
                "statement {} has no column {name:?}",
                self.statement_handle
            ))
        })?;
        let cells = self.rows.get(row).ok_or_else(|| {
            missing(format!(
                "statement {} has {} rows, not {}",
                self.statement_handle,
                self.rows.len(),
                row + 1
            ))
        })?;
        let raw = cells.get(index).and_then(|c| c.as_deref());
        values::decode(&self.columns[index].type_name, raw)
    }

    /// Rows inserted, updated and deleted: the `stats` object when present, else the
    /// `number of rows ...` columns, else zeros.
    pub fn dml_counts(&self) -> DmlStats {
        if let Some(stats) = self.stats {
            return stats;
        }
        let names: Vec<&str> = self.columns.iter().map(|c| c.name.as_str()).collect();
        values::dml_stats_from_columns(&names, &self.rows)
            .ok()
            .flatten()
            .unwrap_or_default()
    }
}
