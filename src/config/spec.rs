//! The validated pipeline: what [`super::parse`] returns once every table has passed its
//! checks.
//!
//! Every value here is final: defaults filled in, `${NAME}` references resolved, names upper
//! cased, durations inside their bounds and named with their unit (`timeout_secs`,
//! `page_size`). Secrets are [`Secret`]s, which never print.

use std::path::PathBuf;

use crate::secret::Secret;

/// Every Intacct object the tool knows how to extract, in dependency-friendly order.
pub const KNOWN_OBJECTS: &[&str] = &[
    "VENDOR",
    "APBILL",
    "APBILLITEM",
    "APPYMT",
    "APPYMTDETAIL",
    "GLACCOUNT",
    "DEPARTMENT",
    "LOCATION",
    "CLASS",
    "PROJECT",
    "CUSTOMER",
    "EMPLOYEE",
];

/// A validated pipeline.
#[derive(Clone, Debug)]
pub struct Spec {
    /// The pipeline's name (stage lock and reports use it).
    pub name: String,
    /// The file it was read from.
    pub source: PathBuf,
    /// Where Intacct is and how to talk to it.
    pub intacct: IntacctSpec,
    /// What to extract.
    pub extract: ExtractSpec,
    /// Where the Parquet files and the manifest go.
    pub stage: StageSpec,
    /// Where the data is loaded.
    pub snowflake: SnowflakeSpec,
    /// Where a command that ends badly is announced (`None`: nowhere).
    pub notify: Option<NotifySpec>,
}

impl Spec {
    /// Every secret the pipeline holds, for what must be scrubbed of them (a notification).
    pub fn secrets(&self) -> Vec<&Secret> {
        let mut out = vec![&self.intacct.sender_password, &self.intacct.user_password];
        match &self.snowflake.auth {
            SnowflakeAuth::KeyPair { passphrase, .. } => out.extend(passphrase.as_ref()),
            SnowflakeAuth::ProgrammaticAccessToken(token) => out.push(token),
        }
        out.extend(self.notify.as_ref().map(|n| &n.webhook_url));
        out
    }
}

/// `[notify]`: a chat webhook told when a command ends with one of `on_exit_codes`.
#[derive(Clone, Debug)]
pub struct NotifySpec {
    /// The incoming-webhook URL (a secret: it carries the channel's token).
    pub webhook_url: Secret,
    /// Exit codes that are announced (default [`DEFAULT_NOTIFY_EXIT_CODES`]).
    pub on_exit_codes: Vec<u8>,
    /// How long the POST may take, in seconds.
    pub timeout_secs: u64,
}

/// Exit codes announced by default: every failure but 4 (another run holds the lock: it is
/// working) and 130 (someone pressed Ctrl-C).
pub const DEFAULT_NOTIFY_EXIT_CODES: &[u8] = &[1, 2, 3, 5];

/// The `[intacct]` table.
#[derive(Clone, Debug)]
pub struct IntacctSpec {
    /// The XML gateway endpoint (`…/ia/xml/xmlgw.phtml`).
    pub endpoint: url::Url,
    /// Web Services sender id.
    pub sender_id: String,
    /// Web Services sender password.
    pub sender_password: Secret,
    /// Company id.
    pub company_id: String,
    /// API user id.
    pub user_id: String,
    /// API user password.
    pub user_password: Secret,
    /// Entity (multi-entity companies), `None` for the top level.
    pub location_id: Option<String>,
    /// Entities read one by one, each through a session of its own (`locationid`), for an
    /// API user restricted to entity-level access; empty: one top-level session.
    pub entities: Vec<String>,
    /// Time zone in which the tenant writes and reads timestamps.
    pub time_zone: chrono_tz::Tz,
    /// Longest a session is reused, in seconds (never past the gateway's `sessiontimeout`).
    pub session_ttl_secs: u64,
    /// HTTP timeout of one request, in seconds.
    pub timeout_secs: u64,
    /// Requests in flight at once for this company at most, across all objects and windows:
    /// the tier's limit minus what the tenant's other integrations use (the client adapts
    /// below it when the gateway refuses for concurrency).
    pub max_concurrent_requests: usize,
    /// Requests (billable API transactions) one run may send at most; `None`: no limit.
    pub max_transactions_per_run: Option<u64>,
    /// Records per `query` page (1..=2000).
    pub page_size: u32,
    /// Retry policy for transient failures.
    pub retry: RetrySpec,
}

/// `[intacct.retry]`, `[snowflake.retry]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetrySpec {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First backoff ceiling, in milliseconds (full jitter below it).
    pub initial_backoff_ms: u64,
    /// Largest backoff ceiling, in milliseconds.
    pub max_backoff_ms: u64,
    /// Give up retrying one request after this many seconds in all.
    pub max_elapsed_secs: u64,
}

/// How an object is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ReadMethod {
    /// `query` with keyset paging on RECORDNO inside the window: the default.
    Query,
    /// `readByQuery` + `readMore`: the fallback for objects `query` cannot serve.
    ReadByQuery,
}

/// Where `extract` learns about hard deletes (`extract.deletes`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeleteFeed {
    /// Read AUDITHISTORY rows with `ACCESSMODE = 'D'` of every object in scope, once a run,
    /// over the objects' delete windows, and stage them as tombstone rows (`_DELETED = true`);
    /// line objects also tombstone the lines a changed header no longer has: the default,
    /// because a hard delete is invisible to a WHENMODIFIED poll. Sage requires View
    /// permission for custom reports to read AUDITHISTORY.
    #[default]
    AuditHistory,
    /// No delete feed: deleted records stay in Snowflake as they were last staged.
    Off,
}

/// What a load does when a batch brings a new column or a wider type than the object's table
/// has (`[extract.object.X] schema`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SchemaPolicy {
    /// Add the column or widen the type, then load: the default.
    #[default]
    Evolve,
    /// Stage the batch but do not load it: its load fails naming the column until
    /// `accept-schema --object X` accepts the change (later batches of the object wait).
    Freeze,
}

/// `[extract]`.
#[derive(Clone, Debug)]
pub struct ExtractSpec {
    /// How far before the watermark each incremental read starts, in seconds (Intacct is
    /// eventually consistent).
    pub lookback_secs: u64,
    /// How far before its own mark the delete feed reads AUDITHISTORY, in seconds (default
    /// 10800): the audit trail lags the change by up to two hours.
    pub delete_lookback_secs: u64,
    /// Nightly windows end this many seconds before the earlier of this machine's clock and
    /// the Intacct gateway's (default 60): the gateway's time is read from a response, late by
    /// its round trip and cut to the second.
    pub clock_margin_secs: u64,
    /// Pages buffered between the reader and the Parquet writer per object.
    pub channel_pages: usize,
    /// A backfill window records its progress (files and read position) every this many
    /// pages, so an interrupted window resumes there.
    pub checkpoint_pages: u64,
    /// A value that does not fit its declared type in a column other than the key, the
    /// delete key and the timestamps is staged as NULL and kept in the batch's quarantine
    /// file, counted per field in the run report (default true); false fails the object.
    /// A bad key or timestamp fails the object either way.
    pub quarantine_bad_values: bool,
    /// Where deletes come from (`extract.deletes`, default `audit_history`).
    pub deletes: DeleteFeed,
    /// The objects in scope, in order.
    pub objects: Vec<ObjectSpec>,
}

/// One object in scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectSpec {
    /// Intacct object name, upper case.
    pub name: String,
    /// How to read it.
    pub method: ReadMethod,
    /// Explicit field list; `None` means every field `lookup` reports.
    pub fields: Option<Vec<String>>,
    /// Fields never read (besides the default private fields); the key, timestamp and
    /// delete-key fields cannot be excluded.
    pub exclude_fields: Vec<String>,
    /// Page size override.
    pub page_size: Option<u32>,
    /// Lookback override, in seconds.
    pub lookback_secs: Option<u64>,
    /// The column the target table is merged on, one row per value (default `RECORDNO`, the
    /// gateway's primary key; a natural key such as `VENDORID` keeps one row per ID even when
    /// Intacct deletes and re-creates the record under a new RECORDNO).
    pub key: String,
    /// The modification timestamp incremental reads ask by and the MERGE orders changes by
    /// (default `WHENMODIFIED`); `lookup` must type it as a timestamp.
    pub watermark_field: String,
    /// Delete-feed lookback override, in seconds.
    pub delete_lookback_secs: Option<u64>,
    /// Whether a load may change the object's table (default [`SchemaPolicy::Evolve`]).
    pub schema: SchemaPolicy,
}

/// The default [`ObjectSpec::key`].
pub const DEFAULT_KEY: &str = "RECORDNO";
/// The default [`ObjectSpec::watermark_field`].
pub const DEFAULT_WATERMARK_FIELD: &str = "WHENMODIFIED";

/// `[stage]`.
#[derive(Clone, Debug)]
pub struct StageSpec {
    /// `file:///abs/dir`, `s3://bucket/prefix` or `memory://`; a plain path is made absolute.
    pub url: String,
    /// Roll to a new Parquet part after this many rows.
    pub part_max_rows: usize,
    /// Roll to a new Parquet part after this many bytes.
    pub part_max_bytes: u64,
    /// Rows per Parquet row group.
    pub row_group_rows: usize,
    /// Keep the raw response pages (zstd) beside the parts.
    pub keep_raw_pages: bool,
    /// The run lock's lease, in seconds: its holder renews it every quarter of it, and a
    /// holder that has not renewed it for a whole lease (as another run observes) is dead.
    pub lock_lease_secs: u64,
}

/// How the loader authenticates to Snowflake.
#[derive(Clone, Debug)]
pub enum SnowflakeAuth {
    /// Key-pair JWT signed with an RSA private key (PKCS#8 PEM).
    KeyPair {
        /// The key file.
        private_key_path: PathBuf,
        /// Passphrase of an encrypted key.
        passphrase: Option<Secret>,
    },
    /// A programmatic access token.
    ProgrammaticAccessToken(Secret),
}

/// `[snowflake]`.
#[derive(Clone, Debug)]
pub struct SnowflakeSpec {
    /// Base URL (`https://<account>.snowflakecomputing.com`).
    pub url: url::Url,
    /// Account identifier.
    pub account: String,
    /// Login name.
    pub user: String,
    /// How to authenticate.
    pub auth: SnowflakeAuth,
    /// Target database.
    pub database: String,
    /// Target schema.
    pub schema: String,
    /// Warehouse, when not the user's default.
    pub warehouse: Option<String>,
    /// Role, when not the user's default.
    pub role: Option<String>,
    /// Statement timeout, in seconds.
    pub timeout_secs: u64,
    /// The external stage's name (in `database.schema`).
    pub stage_name: String,
    /// The Parquet file format's name (in `database.schema`).
    pub file_format: String,
    /// Where Snowflake reads the stage: `s3://bucket/prefix/` in production (the same place as
    /// `[stage] url`), a `file:///abs/dir/` URL for the local emulator. Always ends with `/`.
    pub stage_url: String,
    /// The storage integration the external stage uses (required for `s3://` stages).
    pub storage_integration: Option<String>,
    /// Objects loaded at once (each object's batches load in order).
    pub load_concurrency: usize,
    /// `init` also sends `CREATE DATABASE IF NOT EXISTS` (off by default: the loader's role
    /// rarely may create databases; the local emulator starts empty).
    pub create_database: bool,
    /// Cap on the wait between polls of a running statement, in milliseconds.
    pub poll_max_backoff_ms: u64,
    /// Retry policy for statements refused with 429, 5xx or a transport failure.
    pub retry: RetrySpec,
}
