//! The crate's one public error type.
//!
//! Every failure a caller can act on has its own variant; [`Error::is_retryable`] is the single
//! place that decides whether trying again can help, so no caller matches on message text.
//! Messages name what was wrong and where (object, record, field; statement, batch) and never
//! contain a secret: session ids and passwords are `crate::secret::Secret`s, which do not
//! print, and HTTP bodies are quoted only through [`snippet`].
//!
//! This module is a leaf: it imports nothing else of the crate. An area whose failures need
//! more than a message keeps its kinds in a submodule here, folded into [`Error`] by a variant
//! that holds them: the Intacct failure reported in a response body ([`IntacctFailure`], its
//! [`FailureClass`] computed by the protocol when the failure is parsed), the manifest's
//! [`ManifestRule`]s and [`Corruption`]s, and the stage's [`StageFailure`]s. A cause that
//! comes from a library (object_store, Parquet, Arrow, serde, a task) stays the variant's
//! `source`, so the whole chain is there for whoever walks it.

mod intacct;
mod manifest;
mod redact;
mod stage;

use std::fmt;

pub use intacct::{ErrorDetail, ErrorLevel, FailureClass, IntacctFailure};
pub use manifest::{Corruption, ManifestFile, ManifestRule};
pub use stage::StageFailure;

pub(crate) use redact::secret_spans;

/// Shorthand for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The remote service an HTTP or transport error came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Service {
    /// The Intacct XML gateway (or its simulator).
    Intacct,
    /// The Snowflake SQL API (or its emulator).
    Snowflake,
    /// The object store behind the stage.
    Stage,
    /// The chat webhook of `[notify]`.
    Notify,
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::Intacct => "Intacct",
            Service::Snowflake => "Snowflake",
            Service::Stage => "stage",
            Service::Notify => "the notification webhook",
        })
    }
}

/// Why a response body could not be read as an Intacct response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum MalformedKind {
    /// The body was empty.
    Empty,
    /// The body is not UTF-8.
    InvalidUtf8,
    /// The body is an HTML page (a CDN or proxy error page).
    Html,
    /// The body is not XML at all.
    NotXml,
    /// The XML ends before the document does.
    Truncated,
    /// Well-formed XML without a `<response>` root.
    NoResponseElement,
    /// A `<response>` whose structure does not match the protocol.
    UnexpectedStructure,
}

impl fmt::Display for MalformedKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MalformedKind::Empty => "empty body",
            MalformedKind::InvalidUtf8 => "invalid UTF-8",
            MalformedKind::Html => "HTML page instead of XML",
            MalformedKind::NotXml => "not XML",
            MalformedKind::Truncated => "truncated XML",
            MalformedKind::NoResponseElement => "no <response> element",
            MalformedKind::UnexpectedStructure => "unexpected structure",
        })
    }
}

/// Everything that can go wrong, by kind.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A pipeline file or a command-line value is invalid.
    #[error("configuration error in {location}: {message}")]
    Config {
        /// File and key (e.g. `pipelines/demo.toml: intacct.page_size`) or flag.
        location: String,
        /// What is wrong and what would be right.
        message: String,
    },

    /// A secret could not be obtained (missing variable, credentials file that will not open).
    #[error(
        "secret {name} is not available: {message}{}",
        .source.as_ref().map(|s| format!(": {s}")).unwrap_or_default()
    )]
    Secret {
        /// Which secret (its name, never its value).
        name: String,
        /// Why.
        message: String,
        /// The cause, when a library reported one (age, reading a file).
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// Intacct reported an error inside a response body.
    #[error("{0}")]
    Intacct(IntacctFailure),

    /// Intacct refused a session scoped to one entity (`intacct.entities`): the API user may
    /// not access that entity, or it does not exist. Other entities go on.
    #[error("Intacct refused a session for entity {entity}: {source}")]
    EntitySession {
        /// The entity (its LOCATIONID), as configured.
        entity: String,
        /// The refusal.
        #[source]
        source: Box<Error>,
    },

    /// The Intacct gateway answered that it is offline (its weekly maintenance window, or an
    /// outage) and kept answering so through the retries: the run stops, to be tried again
    /// later.
    #[error(
        "Intacct is offline for maintenance ({detail}); try again {}",
        .retry_after_secs.map(|s| format!("in {s} s")).unwrap_or_else(|| "in an hour: Sage's weekly maintenance window lasts up to four hours (status.sage.com shows it)".to_owned())
    )]
    IntacctUnavailable {
        /// What the gateway said (a short snippet).
        detail: String,
        /// `Retry-After`, when sent.
        retry_after_secs: Option<u64>,
    },

    /// `intacct.max_transactions_per_run` is spent: no new request to Intacct this run.
    #[error(
        "stopped: transaction budget (intacct.max_transactions_per_run = {limit} spent); the next run reads the rest"
    )]
    TransactionBudget {
        /// The budget.
        limit: u64,
    },

    /// This machine's clock (or `INTACCT_SNOWFLAKE_NOW`) and the Intacct gateway's (its
    /// `sessiontimestamp`) differ by more than the lookback: no window is planned, nothing is
    /// extracted or loaded, no mark moves.
    #[error(
        "this machine's clock says {local} and Intacct's gateway says {gateway}: they differ by {skew_secs} s, more than the lookback ({lookback_secs} s), so no window is planned and nothing was extracted or loaded; sync this machine's clock (NTP: `timedatectl set-ntp true`, chrony) and unset INTACCT_SNOWFLAKE_NOW outside tests, then run again"
    )]
    ClockSkew {
        /// This machine's time (RFC 3339).
        local: String,
        /// The gateway's time (RFC 3339).
        gateway: String,
        /// `local − gateway`, in whole seconds.
        skew_secs: i64,
        /// The smallest lookback of the run's windows, in seconds.
        lookback_secs: i64,
    },

    /// A response body could not be read as an Intacct response.
    #[error("malformed response from Intacct ({kind}): {detail}")]
    MalformedResponse {
        /// What kind of malformation.
        kind: MalformedKind,
        /// Where it went wrong (byte offset, element) and a short snippet.
        detail: String,
    },

    /// An Intacct response nests elements deeper than the parser follows: a broken or
    /// hostile gateway (real responses nest about ten levels). Refused, not read.
    #[error(
        "malformed response from Intacct: elements nest deeper than {max_depth} levels at byte {at_byte} in {path}; refused"
    )]
    XmlTooDeep {
        /// The limit, in levels of elements.
        max_depth: usize,
        /// Where the element past the limit starts.
        at_byte: usize,
        /// The open elements there (the first and last few when there are many).
        path: String,
    },

    /// A Snowflake result is larger, over all its partitions, than the client holds in
    /// memory: refused before or while its partitions are fetched.
    #[error(
        "result of Snowflake statement {statement_handle} is larger than {limit} over its {partitions} partitions (passed at partition {partition}); refused: narrow the statement"
    )]
    ResultTooLarge {
        /// The statement.
        statement_handle: String,
        /// The limit passed.
        limit: ResultLimit,
        /// The partition at which it was passed (0-based; the one the metadata announced
        /// when the announcement alone passes it).
        partition: usize,
        /// Partitions of the result.
        partitions: usize,
    },

    /// A request would break a protocol limit (page size, `in` list length, empty select).
    #[error("invalid request: {0}")]
    InvalidRequest(String),

    /// An HTTP status that is not success, with no Intacct error in the body.
    #[error("HTTP {status} from {service}{}: {detail}", .retry_after_secs.map(|s| format!(" (retry after {s} s)")).unwrap_or_default())]
    HttpStatus {
        /// Which service answered.
        service: Service,
        /// The status code.
        status: u16,
        /// `Retry-After`, when sent.
        retry_after_secs: Option<u64>,
        /// A short snippet of the body.
        detail: String,
    },

    /// A response body was larger than the client reads (a proxy's or server's fault, or a
    /// decompression bomb): refused rather than buffered.
    #[error(
        "response from {service} is larger than {limit_bytes} bytes; refused (a proxy or the server is misbehaving)"
    )]
    BodyTooLarge {
        /// Which service answered.
        service: Service,
        /// The limit.
        limit_bytes: u64,
    },

    /// The connection failed or timed out before a full response arrived.
    #[error("transport error talking to {service}: {message}")]
    Transport {
        /// Which service.
        service: Service,
        /// What happened (never a URL with credentials).
        message: String,
        /// True for a timeout.
        timeout: bool,
    },

    /// An object's read ended before its window did (its reader died): nothing of it is staged.
    #[error(
        "read of {object} ended early: {message}; the batch is not staged and the next run reads the window again"
    )]
    ReadIncomplete {
        /// The object.
        object: String,
        /// How it ended.
        message: String,
    },

    /// A command or feature that is planned but not built yet.
    #[error("`{0}` is not implemented yet")]
    NotImplemented(&'static str),

    /// A value does not fit its field's declared type.
    #[error("{object} RECORDNO {}: field {field} has value {value:?}, expected {expected}", .record_no.as_deref().unwrap_or("(none)"))]
    Value {
        /// The Intacct object.
        object: String,
        /// The record's RECORDNO, when it has one.
        record_no: Option<String>,
        /// The Intacct field.
        field: String,
        /// The value, shortened to a snippet.
        value: String,
        /// What the type accepts.
        expected: &'static str,
    },

    /// The delete feed of an object (AUDITHISTORY rows with `ACCESSMODE = 'D'`) cannot be
    /// used: AUDITHISTORY refused the read, or one of its rows names no record.
    #[error("delete feed of {object} from AUDITHISTORY: {message}")]
    DeleteFeed {
        /// The object whose deletes were read.
        object: String,
        /// What is wrong (the AUDITHISTORY row ID and value, or Intacct's refusal) and how to
        /// go on.
        message: String,
    },

    /// An object's metadata cannot become an Arrow schema.
    #[error("schema of {object}: {message}")]
    Schema {
        /// The Intacct object.
        object: String,
        /// What is wrong.
        message: String,
    },

    /// Arrow refused to build an object's columns into a record batch.
    #[error("schema of {object}: {source}")]
    Arrow {
        /// The Intacct object.
        object: String,
        /// Arrow's complaint.
        #[source]
        source: arrow::error::ArrowError,
    },

    /// The stage (object store) failed or holds something unexpected.
    #[error("stage {location}: {source}")]
    Stage {
        /// The stage URL or object path (never with credentials).
        location: String,
        /// What happened.
        #[source]
        source: StageFailure,
        /// True when the store reported a transient failure.
        transient: bool,
    },

    /// A file of the manifest on the stage (a commit, checkpoint, lease or batch schema) is not
    /// what it should be: it does not parse, vanished, or says something else than its name.
    #[error("manifest: {path} {problem}")]
    ManifestCorrupt {
        /// The file, relative to the stage.
        path: String,
        /// What is wrong with it.
        #[source]
        problem: Corruption,
    },

    /// A batch the manifest does not know.
    #[error("manifest: batch {batch_id} is not in the manifest")]
    UnknownBatch {
        /// The batch id asked for.
        batch_id: String,
    },

    /// A batch asked to load is not staged (it is still being created, already loaded, or
    /// failed).
    #[error("manifest: batch {batch_id} is {status}, not staged: nothing to load")]
    BatchNotStaged {
        /// The batch.
        batch_id: String,
        /// Where it is (`created`, `loaded`, `failed`).
        status: String,
    },

    /// An object has no batch on the stage, so its columns are unknown.
    #[error(
        "manifest: {object} has no batch on the stage, so its columns are unknown: run it first"
    )]
    NoBatchOf {
        /// The object.
        object: String,
    },

    /// Other writers kept taking a create-once file first (a manifest version, the run lock):
    /// this writer gave up.
    #[error(
        "manifest: gave up on {path} after {attempts} attempts: other runs keep writing it first"
    )]
    Contended {
        /// The file, relative to the stage.
        path: String,
        /// How many times it tried.
        attempts: usize,
    },

    /// Loading a batch failed at one step (the statement's error, or a check of its answer).
    /// The batch stays staged and resumes at that step, so this is not retried in place,
    /// whatever its cause.
    #[error("load of {object} batch {batch_id}, step {step}: {cause}")]
    Load {
        /// The object.
        object: String,
        /// The batch.
        batch_id: String,
        /// `copy-N`, `merge`, `cleanup`.
        step: String,
        /// What went wrong.
        #[source]
        cause: LoadFailure,
    },

    /// A manifest commit would break one of the manifest's rules (listed in the module docs
    /// of `crate::manifest`).
    #[error("manifest version {version} breaks the rule {rule}: {detail}")]
    ManifestRule {
        /// The version of the rejected commit.
        version: u64,
        /// Which rule.
        rule: ManifestRule,
        /// What the commit tried.
        detail: String,
    },

    /// Another run of the same pipeline holds the run lock.
    #[error(
        "pipeline {pipeline} is locked by {holder} until {expires_at}; wait for it to finish, or delete {path} on the stage if that run is known to be dead"
    )]
    LockHeld {
        /// The pipeline.
        pipeline: String,
        /// Who holds it (host, pid, run id, start time).
        holder: String,
        /// When the lease runs out (RFC 3339).
        expires_at: String,
        /// The lease object on the stage.
        path: String,
    },

    /// This run's lock is no longer its own: another run took it over (this run stalled past
    /// the lock's expiry) or its lease vanished. The run stopped, its manifest valid, so two
    /// runs never write at once.
    #[error(
        "the run lock {path} was {}; this run stopped (the manifest is valid; the other run goes on from it)",
        .taken_by.as_deref().map(|holder| format!("taken over by {holder}")).unwrap_or_else(|| "deleted by another run".to_owned())
    )]
    LockLost {
        /// The lease object on the stage.
        path: String,
        /// Who holds it now (host, pid, run id, start time); `None` when the lease is gone.
        taken_by: Option<String>,
    },

    /// A background task of the run (the run lock's renewal) panicked or was cancelled.
    #[error("{task} failed: {source}")]
    Task {
        /// Which task.
        task: &'static str,
        /// How it ended.
        #[source]
        source: tokio::task::JoinError,
    },

    /// The run was interrupted (Ctrl-C or SIGTERM): running statements were cancelled, the
    /// lock released, the manifest left valid.
    #[error(
        "interrupted: running statements were cancelled and the manifest is valid; run the command again to resume"
    )]
    Interrupted,

    /// Snowflake ran a statement and it failed (HTTP 422), or it was cancelled for exceeding its
    /// timeout (HTTP 408). Sending it again unchanged does not help.
    #[error(
        "Snowflake statement{} failed (HTTP {http_status}): {code} ({sql_state}): {message}",
        .statement_handle.as_deref().map(|h| format!(" {h}")).unwrap_or_default()
    )]
    Statement {
        /// Snowflake's error code (`000904`, `002003`, ...).
        code: String,
        /// The SQLSTATE (`42000`, `42S02`, ...).
        sql_state: String,
        /// Snowflake's message.
        message: String,
        /// The statement's handle, when Snowflake gave one.
        statement_handle: Option<String>,
        /// 422 or 408.
        http_status: u16,
    },

    /// Snowflake authentication cannot work as configured: a key that will not load, a wrong
    /// passphrase, a key or token Snowflake refuses. The message says what to change.
    #[error("Snowflake authentication: {message}")]
    SnowflakeAuth {
        /// What is wrong and what to do (never a key, passphrase or token).
        message: String,
    },

    /// `init` cannot make or use a Snowflake object the pipeline needs: the loader's role lacks
    /// a grant, the database is missing, or an object exists with other settings than the
    /// loader's. The message names the object and the statement an administrator runs.
    #[error("Snowflake {object}: {message}")]
    SnowflakeSetup {
        /// The object (`schema FINANCE.INTACCT_RAW`, `file format …`).
        object: String,
        /// What is missing or wrong, and how to fix it.
        message: String,
    },

    /// A Snowflake response does not have the documented shape, or a value does not match its
    /// column's encoding.
    #[error("unexpected response from Snowflake: {detail}")]
    SnowflakeResponse {
        /// What was expected and a short snippet of what came.
        detail: String,
    },

    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// A limit on a whole Snowflake result ([`Error::ResultTooLarge`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum ResultLimit {
    /// At most this many rows.
    Rows(u64),
    /// At most this many bytes of values (as text on the wire).
    Bytes(u64),
}

impl fmt::Display for ResultLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResultLimit::Rows(n) => write!(f, "{n} rows"),
            ResultLimit::Bytes(n) => write!(f, "{n} bytes"),
        }
    }
}

/// Why a load step failed: the statement's own error, or Snowflake's answer failing a check
/// against the manifest.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadFailure {
    /// The statement failed (Snowflake's error, or the client's).
    #[error("{0}")]
    Statement(#[source] Box<Error>),
    /// Snowflake's answer does not match what the manifest says (rows loaded, files
    /// processed).
    #[error("{0}")]
    Check(String),
}

impl Error {
    /// True when sending the same request again later may succeed: rate limits, concurrency
    /// limits, transient server errors, timeouts, truncated bodies. Bad credentials, bad
    /// queries, unknown fields and configuration errors are not retryable.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Intacct(failure) => failure.class().is_retryable(),
            Error::EntitySession { source, .. } => source.is_retryable(),
            Error::MalformedResponse { kind, .. } => matches!(
                kind,
                MalformedKind::Empty | MalformedKind::Html | MalformedKind::Truncated
            ),
            Error::HttpStatus { status, .. } => {
                matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
            }
            Error::Transport { .. } | Error::IntacctUnavailable { .. } => true,
            Error::Stage { transient, .. } => *transient,
            Error::Config { .. }
            | Error::Secret { .. }
            | Error::InvalidRequest(_)
            | Error::TransactionBudget { .. }
            | Error::NotImplemented(_)
            | Error::Io { .. }
            | Error::Value { .. }
            | Error::DeleteFeed { .. }
            | Error::Schema { .. }
            | Error::Arrow { .. }
            | Error::ManifestCorrupt { .. }
            | Error::UnknownBatch { .. }
            | Error::BatchNotStaged { .. }
            | Error::NoBatchOf { .. }
            | Error::Contended { .. }
            | Error::ManifestRule { .. }
            | Error::Load { .. }
            | Error::LockHeld { .. }
            | Error::ReadIncomplete { .. }
            | Error::BodyTooLarge { .. }
            | Error::XmlTooDeep { .. }
            | Error::ResultTooLarge { .. }
            | Error::LockLost { .. }
            | Error::Task { .. }
            | Error::Interrupted
            | Error::Statement { .. }
            | Error::SnowflakeAuth { .. }
            | Error::SnowflakeSetup { .. }
            | Error::SnowflakeResponse { .. }
            | Error::ClockSkew { .. } => false,
        }
    }

    /// `Retry-After` in seconds, when the server sent one.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Error::HttpStatus {
                retry_after_secs, ..
            }
            | Error::IntacctUnavailable {
                retry_after_secs, ..
            } => *retry_after_secs,
            _ => None,
        }
    }

    /// Process exit code of a command this error stopped (a command that finished exits with
    /// its run report's outcome instead; see the README's "Exit codes").
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config { .. }
            | Error::Secret { .. }
            | Error::SnowflakeAuth { .. }
            | Error::SnowflakeSetup { .. }
            | Error::ClockSkew { .. } => 2,
            Error::NotImplemented(_) | Error::TransactionBudget { .. } => 3,
            Error::LockHeld { .. } | Error::IntacctUnavailable { .. } => 4,
            Error::Interrupted => 130,
            _ => 1,
        }
    }
}

/// At most `max` characters of a response body, on one line, with anything that may be a
/// secret replaced by `[redacted]`: the values of password and session elements and members,
/// plain or escaped in any of the ways of `redact` (a proxy that echoes the request, even
/// HTML-escaped, would otherwise put them in a log, the manifest or a run report), bearer
/// tokens and JWTs. Every error message that quotes a body goes through here.
pub fn snippet(body: &[u8], max: usize) -> String {
    let text = redact_secrets(&String::from_utf8_lossy(body));
    plain_snippet(text.as_bytes(), max)
}

fn redact_secrets(text: &str) -> String {
    let out = redact::redact_values(text);
    let out = redact_between(&out, "Bearer ", " \"'<,\n\r");
    redact_jwts(&out)
}

/// Replaces what follows each (ASCII case-insensitive) `start` up to the first of `stops`.
fn redact_between(text: &str, start: &str, stops: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let start_lower = start.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while let Some(found) = lower[at..].find(&start_lower) {
        let value_from = at + found + start.len();
        out.push_str(&text[at..value_from]);
        let value_to = text[value_from..]
            .find(|c| stops.contains(c))
            .map_or(text.len(), |n| value_from + n);
        if value_to > value_from {
            out.push_str("[redacted]");
        }
        at = value_to;
    }
    out.push_str(&text[at..]);
    out
}

/// Replaces JWT-shaped words (`eyJ…` header, payload and signature in base64url).
fn redact_jwts(text: &str) -> String {
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("eyJ") {
        out.push_str(&rest[..start]);
        let candidate = &rest[start..];
        let end = candidate
            .find(|c: char| !(is_b64(c) || c == '.'))
            .unwrap_or(candidate.len());
        let word = &candidate[..end];
        if word.split('.').count() >= 3 {
            out.push_str("[redacted]");
        } else {
            out.push_str(word);
        }
        rest = &candidate[end..];
    }
    out.push_str(rest);
    out
}

/// At most `max` characters of a body, on one line (no redaction: for text that holds no
/// secret, such as a value of the data).
pub fn plain_snippet(body: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The variant's name; the match has no wildcard, so a new variant fails to compile here
    /// until it has a row in the table below.
    fn kind(error: &Error) -> &'static str {
        match error {
            Error::Config { .. } => "Config",
            Error::Secret { .. } => "Secret",
            Error::Intacct(_) => "Intacct",
            Error::EntitySession { .. } => "EntitySession",
            Error::IntacctUnavailable { .. } => "IntacctUnavailable",
            Error::TransactionBudget { .. } => "TransactionBudget",
            Error::MalformedResponse { .. } => "MalformedResponse",
            Error::InvalidRequest(_) => "InvalidRequest",
            Error::HttpStatus { .. } => "HttpStatus",
            Error::BodyTooLarge { .. } => "BodyTooLarge",
            Error::Transport { .. } => "Transport",
            Error::ReadIncomplete { .. } => "ReadIncomplete",
            Error::NotImplemented(_) => "NotImplemented",
            Error::Value { .. } => "Value",
            Error::DeleteFeed { .. } => "DeleteFeed",
            Error::Schema { .. } => "Schema",
            Error::Arrow { .. } => "Arrow",
            Error::Stage { .. } => "Stage",
            Error::ManifestCorrupt { .. } => "ManifestCorrupt",
            Error::UnknownBatch { .. } => "UnknownBatch",
            Error::BatchNotStaged { .. } => "BatchNotStaged",
            Error::NoBatchOf { .. } => "NoBatchOf",
            Error::Contended { .. } => "Contended",
            Error::Load { .. } => "Load",
            Error::ManifestRule { .. } => "ManifestRule",
            Error::LockHeld { .. } => "LockHeld",
            Error::LockLost { .. } => "LockLost",
            Error::Task { .. } => "Task",
            Error::Interrupted => "Interrupted",
            Error::Statement { .. } => "Statement",
            Error::SnowflakeAuth { .. } => "SnowflakeAuth",
            Error::SnowflakeSetup { .. } => "SnowflakeSetup",
            Error::SnowflakeResponse { .. } => "SnowflakeResponse",
            Error::Io { .. } => "Io",
            Error::XmlTooDeep { .. } => "XmlTooDeep",
            Error::ResultTooLarge { .. } => "ResultTooLarge",
            Error::ClockSkew { .. } => "ClockSkew",
        }
    }

    fn intacct(class: FailureClass) -> Error {
        Error::Intacct(IntacctFailure {
            level: ErrorLevel::Result,
            function: Some("query".into()),
            control_id: None,
            aborted: false,
            errors: vec![],
            class,
        })
    }

    fn malformed(kind: MalformedKind) -> Error {
        Error::MalformedResponse {
            kind,
            detail: String::new(),
        }
    }

    fn http(status: u16) -> Error {
        Error::HttpStatus {
            service: Service::Snowflake,
            status,
            retry_after_secs: None,
            detail: String::new(),
        }
    }

    fn stage(transient: bool) -> Error {
        Error::Stage {
            location: "memory:///x".into(),
            source: StageFailure::AlreadyExists,
            transient,
        }
    }

    fn cancelled_task() -> tokio::task::JoinError {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let task = tokio::spawn(std::future::pending::<()>());
            task.abort();
            task.await.unwrap_err()
        })
    }

    /// The exit code of each kind is the README's table ("Exit codes"); retrying helps only
    /// with rate limits, transient server and store failures, timeouts and cut-off bodies.
    #[test]
    fn every_kind_has_its_exit_code_and_retryability() {
        let text = String::new;
        let cases: Vec<(Error, i32, bool)> = vec![
            (
                Error::Config {
                    location: text(),
                    message: text(),
                },
                2,
                false,
            ),
            (
                Error::Secret {
                    name: text(),
                    message: text(),
                    source: None,
                },
                2,
                false,
            ),
            (intacct(FailureClass::RateLimited), 1, true),
            (intacct(FailureClass::ConcurrencyLimit), 1, true),
            (intacct(FailureClass::Unavailable), 1, true),
            (intacct(FailureClass::Transient), 1, true),
            (intacct(FailureClass::SessionRefused), 1, false),
            (intacct(FailureClass::BadCredentials), 1, false),
            (intacct(FailureClass::TransactionAborted), 1, false),
            (intacct(FailureClass::QueryFailed), 1, false),
            (intacct(FailureClass::ResultIdExpired), 1, false),
            (intacct(FailureClass::PermissionDenied), 1, false),
            (intacct(FailureClass::Permanent), 1, false),
            (intacct(FailureClass::Unknown), 1, false),
            (
                Error::EntitySession {
                    entity: "E1".into(),
                    source: Box::new(intacct(FailureClass::RateLimited)),
                },
                1,
                true,
            ),
            (
                Error::EntitySession {
                    entity: "E1".into(),
                    source: Box::new(intacct(FailureClass::BadCredentials)),
                },
                1,
                false,
            ),
            (
                Error::IntacctUnavailable {
                    detail: text(),
                    retry_after_secs: None,
                },
                4,
                true,
            ),
            (Error::TransactionBudget { limit: 1 }, 3, false),
            (malformed(MalformedKind::Empty), 1, true),
            (malformed(MalformedKind::Html), 1, true),
            (malformed(MalformedKind::Truncated), 1, true),
            (malformed(MalformedKind::InvalidUtf8), 1, false),
            (malformed(MalformedKind::NotXml), 1, false),
            (malformed(MalformedKind::NoResponseElement), 1, false),
            (malformed(MalformedKind::UnexpectedStructure), 1, false),
            (Error::InvalidRequest(text()), 1, false),
            (http(408), 1, true),
            (http(429), 1, true),
            (http(500), 1, true),
            (http(502), 1, true),
            (http(503), 1, true),
            (http(504), 1, true),
            (http(400), 1, false),
            (http(401), 1, false),
            (http(404), 1, false),
            (http(524), 1, false),
            (
                Error::BodyTooLarge {
                    service: Service::Intacct,
                    limit_bytes: 1,
                },
                1,
                false,
            ),
            (
                Error::Transport {
                    service: Service::Intacct,
                    message: text(),
                    timeout: false,
                },
                1,
                true,
            ),
            (
                Error::ReadIncomplete {
                    object: text(),
                    message: text(),
                },
                1,
                false,
            ),
            (Error::NotImplemented("x"), 3, false),
            (
                Error::Value {
                    object: text(),
                    record_no: None,
                    field: text(),
                    value: text(),
                    expected: "a number",
                },
                1,
                false,
            ),
            (
                Error::DeleteFeed {
                    object: text(),
                    message: text(),
                },
                1,
                false,
            ),
            (
                Error::Schema {
                    object: text(),
                    message: text(),
                },
                1,
                false,
            ),
            (
                Error::Arrow {
                    object: text(),
                    source: arrow::error::ArrowError::InvalidArgumentError(text()),
                },
                1,
                false,
            ),
            (stage(true), 1, true),
            (stage(false), 1, false),
            (
                Error::ManifestCorrupt {
                    path: text(),
                    problem: Corruption::Vanished,
                },
                1,
                false,
            ),
            (Error::UnknownBatch { batch_id: text() }, 1, false),
            (
                Error::BatchNotStaged {
                    batch_id: text(),
                    status: text(),
                },
                1,
                false,
            ),
            (Error::NoBatchOf { object: text() }, 1, false),
            (
                Error::Contended {
                    path: text(),
                    attempts: 3,
                },
                1,
                false,
            ),
            (
                Error::Load {
                    object: text(),
                    batch_id: text(),
                    step: "merge".into(),
                    cause: LoadFailure::Statement(Box::new(http(503))),
                },
                1,
                false,
            ),
            (
                Error::Load {
                    object: text(),
                    batch_id: text(),
                    step: "copy-1".into(),
                    cause: LoadFailure::Check(text()),
                },
                1,
                false,
            ),
            (
                Error::ManifestRule {
                    version: 1,
                    rule: ManifestRule::VersionOrder,
                    detail: text(),
                },
                1,
                false,
            ),
            (
                Error::LockHeld {
                    pipeline: text(),
                    holder: text(),
                    expires_at: text(),
                    path: text(),
                },
                4,
                false,
            ),
            (
                Error::LockLost {
                    path: text(),
                    taken_by: Some(text()),
                },
                1,
                false,
            ),
            (
                Error::LockLost {
                    path: text(),
                    taken_by: None,
                },
                1,
                false,
            ),
            (
                Error::Task {
                    task: "renewal",
                    source: cancelled_task(),
                },
                1,
                false,
            ),
            (Error::Interrupted, 130, false),
            (
                Error::Statement {
                    code: text(),
                    sql_state: text(),
                    message: text(),
                    statement_handle: None,
                    http_status: 422,
                },
                1,
                false,
            ),
            (Error::SnowflakeAuth { message: text() }, 2, false),
            (
                Error::SnowflakeSetup {
                    object: text(),
                    message: text(),
                },
                2,
                false,
            ),
            (
                Error::XmlTooDeep {
                    max_depth: 64,
                    at_byte: 9,
                    path: text(),
                },
                1,
                false,
            ),
            (
                Error::ResultTooLarge {
                    statement_handle: text(),
                    limit: ResultLimit::Rows(1),
                    partition: 1,
                    partitions: 2,
                },
                1,
                false,
            ),
            (Error::SnowflakeResponse { detail: text() }, 1, false),
            (
                Error::ClockSkew {
                    local: text(),
                    gateway: text(),
                    skew_secs: 7_201,
                    lookback_secs: 7_200,
                },
                2,
                false,
            ),
            (
                Error::Io {
                    path: text(),
                    source: std::io::Error::other("disk"),
                },
                1,
                false,
            ),
        ];
        let mut kinds = std::collections::BTreeSet::new();
        for (error, exit_code, retryable) in &cases {
            kinds.insert(kind(error));
            assert_eq!(error.exit_code(), *exit_code, "{error:?}");
            assert_eq!(error.is_retryable(), *retryable, "{error:?}");
        }
        assert_eq!(kinds.len(), 37, "a kind has no row: {kinds:?}");
    }

    #[test]
    fn bodies_quoted_in_errors_never_carry_a_secret() {
        let echoed = b"<html>bad gateway: <request><password>pa55-w0rd</password><sessionid>S3SSION.id.x</sessionid><userid>loader</userid></request> Authorization: Bearer tok-123 and eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJYIn0.c2lnbmF0dXJl end {\"user_password\":\"hunter2\"}";
        let text = snippet(echoed, 1_000);
        for secret in [
            "pa55-w0rd",
            "S3SSION.id.x",
            "tok-123",
            "eyJhbGciOiJSUzI1NiJ9",
            "hunter2",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(text.contains("<userid>loader"), "{text}");
        assert!(text.contains("<password>[redacted]</password>"), "{text}");
        assert_eq!(snippet(b"plain 503 page", 100), "plain 503 page");
        // The same request echoed HTML-escaped, once with named and once with numeric
        // references.
        let escaped = b"<html><pre>&lt;request&gt;&lt;password&gt;pa55-w0rd&lt;/password&gt;&#60;sessionid&#62;S3SSION.id.x&#60;/sessionid&#62;&lt;userid&gt;loader&lt;/userid&gt;";
        let text = snippet(escaped, 1_000);
        assert!(
            !text.contains("pa55-w0rd") && !text.contains("S3SSION"),
            "{text}"
        );
        assert!(
            text.contains("&lt;password&gt;[redacted]&lt;/password&gt;"),
            "{text}"
        );
        assert!(text.contains("&lt;userid&gt;loader"), "{text}");
        assert_eq!(plain_snippet(b"Bearer x", 100), "Bearer x");
    }
}
