//! The Snowflake side: a client of the SQL API v2 (`/api/v2/statements`).
//!
//! * `auth` — key-pair JWT (PKCS#8 keys, encrypted or not) or a programmatic access token;
//!   the key is read and checked when the client is built;
//! * `statements` — [`SnowflakeClient`]: submit with a caller-chosen `requestId` (waiting for
//!   the answer, or `async=true` returning the handle), resend with `retry=true` while the
//!   outcome is unknown, poll 202s, fetch every result partition, cancel what is in flight;
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

use crate::error::{Error, Result};
use crate::retry::RetryPolicy;

pub use auth::{PASSPHRASE_SETTING, SigningKey, SnowflakeAuth, claims};
pub use statements::{FailureKind, Gate, SnowflakeClient, Submitted, failure_kind};
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
    /// Database of every statement, as Snowflake stores the name (the SQL API's names are
    /// case-sensitive: `LOAD_WH`, not `load_wh`, for a warehouse created as `load_wh`).
    pub database: String,
    /// Schema of every statement, as stored.
    pub schema: String,
    /// Warehouse, as stored, when not the user's default.
    pub warehouse: Option<String>,
    /// Role, as stored, when not the user's default.
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

impl SnowflakeConfig {
    /// `error` with what to fix when Snowflake refused the session this configuration asks
    /// for: a warehouse that does not resolve (`000606`, the body names a warehouse that does
    /// not exist or the role may not use, or none) or a role the user lacks (`390189`). The SQL
    /// API takes both names as stored, case-sensitive.
    pub(crate) fn explain(&self, error: Error) -> Error {
        let Error::Statement {
            code,
            sql_state,
            message,
            statement_handle,
            http_status,
        } = error
        else {
            return error;
        };
        let role = self.role.as_deref().map_or_else(
            || "<the user's default role>".to_owned(),
            identifier_as_written,
        );
        let hint = match (code.as_str(), &self.warehouse, &self.role) {
            ("000606", Some(warehouse), _) => format!(
                "the warehouse {} (snowflake.warehouse, sent as the name Snowflake stores, {warehouse:?}) does not exist or the role may not use it. An unquoted name is upper-cased (warehouse = \"load_wh\" is LOAD_WH); a quoted one is taken exactly. Check the name with SHOW WAREHOUSES, and have an administrator run: GRANT USAGE ON WAREHOUSE {} TO ROLE {role};",
                identifier_as_written(warehouse),
                identifier_as_written(warehouse),
            ),
            ("000606", None, _) => "no warehouse was named and the user has no default warehouse: set snowflake.warehouse".to_owned(),
            ("390189", _, Some(configured)) => format!(
                "the role {role} (snowflake.role, sent as the name Snowflake stores, {configured:?}) does not exist or is not granted to user {}. An unquoted name is upper-cased (role = \"intacct_loader\" is INTACCT_LOADER); a quoted one is taken exactly. Have an administrator run: GRANT ROLE {role} TO USER {};",
                identifier_as_written(&self.user),
                identifier_as_written(&self.user),
            ),
            _ => String::new(),
        };
        let message = if hint.is_empty() {
            message
        } else {
            format!("{message} — {hint}")
        };
        Error::Statement {
            code,
            sql_state,
            message,
            statement_handle,
            http_status,
        }
    }
}

/// A Snowflake name (as stored) as a person writes it in SQL: bare when an unquoted
/// identifier resolves to it (`LOAD_WH`), else double-quoted with `"` doubled (`"load_wh"`).
pub(crate) fn identifier_as_written(name: &str) -> String {
    let bare = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '$');
    if bare {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn config(warehouse: Option<&str>, role: Option<&str>) -> SnowflakeConfig {
        SnowflakeConfig {
            base_url: url::Url::parse("https://myorg-myaccount.snowflakecomputing.com").unwrap(),
            account: "myorg-myaccount".into(),
            user: "INTACCT_LOADER".into(),
            auth: SnowflakeAuth::ProgrammaticAccessToken(Secret::new("t")),
            database: "FINANCE".into(),
            schema: "INTACCT_RAW".into(),
            warehouse: warehouse.map(str::to_owned),
            role: role.map(str::to_owned),
            statement_timeout_secs: 60,
            request_timeout_secs: 120,
            retry: SnowflakeConfig::default_retry(),
            poll_max_backoff_ms: 1000,
        }
    }

    fn failure(code: &str) -> Error {
        Error::Statement {
            code: code.into(),
            sql_state: "57P03".into(),
            message: "No active warehouse selected in the current session.".into(),
            statement_handle: Some("h1".into()),
            http_status: 422,
        }
    }

    fn message(error: Error) -> String {
        match error {
            Error::Statement {
                code,
                message,
                statement_handle,
                ..
            } => {
                assert_eq!(statement_handle.as_deref(), Some("h1"), "{code}");
                message
            }
            other => panic!("expected a statement error, got {other:?}"),
        }
    }

    #[test]
    fn a_session_snowflake_refuses_says_which_name_to_fix() {
        let quoted = config(Some("load_wh"), Some("INTACCT_LOADER"));
        let text = message(quoted.explain(failure("000606")));
        assert!(
            text.starts_with("No active warehouse selected")
                && text.contains("the warehouse \"load_wh\"")
                && text.contains("GRANT USAGE ON WAREHOUSE \"load_wh\" TO ROLE INTACCT_LOADER;"),
            "{text}"
        );
        let text = message(config(None, None).explain(failure("000606")));
        assert!(text.contains("set snowflake.warehouse"), "{text}");
        let text =
            message(config(Some("LOAD_WH"), Some("intacct_loader")).explain(failure("390189")));
        assert!(
            text.contains("GRANT ROLE \"intacct_loader\" TO USER INTACCT_LOADER;"),
            "{text}"
        );
        // Anything else is left as Snowflake said it.
        let other = message(quoted.explain(failure("002003")));
        assert_eq!(
            other,
            "No active warehouse selected in the current session."
        );
        assert!(matches!(
            quoted.explain(Error::Interrupted),
            Error::Interrupted
        ));
    }

    #[test]
    fn names_are_written_bare_only_when_sql_would_resolve_them_so() {
        assert_eq!(identifier_as_written("LOAD_WH"), "LOAD_WH");
        assert_eq!(identifier_as_written("_X$1"), "_X$1");
        assert_eq!(identifier_as_written("load_wh"), "\"load_wh\"");
        assert_eq!(identifier_as_written("1WH"), "\"1WH\"");
        assert_eq!(identifier_as_written("a\"b"), "\"a\"\"b\"");
    }
}
