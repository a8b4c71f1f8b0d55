//! The crate's one public error type.
//!
//! Every failure a caller can act on has its own variant; [`Error::is_retryable`] is the single
//! place that decides whether trying again can help, so no caller matches on message text.
//! Messages name what was wrong and where (object, record, field; statement, batch) and never
//! contain a secret: session ids and passwords are [`crate::secret::Secret`]s, which do not
//! print, and HTTP bodies are quoted only through [`crate::error::snippet`].

use std::fmt;

use crate::intacct::response::{ErrorLevel, IntacctFailure};

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
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::Intacct => "Intacct",
            Service::Snowflake => "Snowflake",
            Service::Stage => "stage",
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
    #[error("secret {name} is not available: {message}")]
    Secret {
        /// Which secret (its name, never its value).
        name: String,
        /// Why.
        message: String,
    },

    /// Intacct reported an error inside a response body.
    #[error("{}", describe_intacct(.0))]
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

    /// A response body could not be read as an Intacct response.
    #[error("malformed response from Intacct ({kind}): {detail}")]
    MalformedResponse {
        /// What kind of malformation.
        kind: MalformedKind,
        /// Where it went wrong (byte offset, element) and a short snippet.
        detail: String,
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

    /// The stage (object store) failed or holds something unexpected.
    #[error("stage {location}: {message}")]
    Stage {
        /// The stage URL or object path (never with credentials).
        location: String,
        /// What happened.
        message: String,
        /// True when the store reported a transient failure.
        transient: bool,
    },

    /// The manifest is unreadable or a commit would break one of its invariants.
    #[error("manifest: {0}")]
    Manifest(String),

    /// Loading a batch failed at one step (the statement's error, or a check of its answer).
    #[error("load of {object} batch {batch_id}, step {step}: {message}")]
    Load {
        /// The object.
        object: String,
        /// The batch.
        batch_id: String,
        /// `copy-N`, `merge`, `cleanup`.
        step: String,
        /// What went wrong.
        message: String,
    },

    /// A manifest commit would break one of the manifest's rules (see [`crate::manifest`]).
    #[error("manifest version {version} breaks the rule {rule}: {detail}")]
    ManifestRule {
        /// The version of the rejected commit.
        version: u64,
        /// Which rule.
        rule: crate::manifest::ManifestRule,
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

    /// Another run took over this run's lock (this run stalled past the lock's expiry): the
    /// run stopped, its manifest valid, so the two never write at once.
    #[error(
        "the run lock was taken over by another run; this run stopped (the manifest is valid; the other run goes on from it)"
    )]
    LockLost,

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

impl Error {
    /// True when sending the same request again later may succeed: rate limits, concurrency
    /// limits, transient server errors, timeouts, truncated bodies. Bad credentials, bad
    /// queries, unknown fields and configuration errors are not retryable.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Intacct(failure) => crate::intacct::codes::is_retryable(failure),
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
            | Error::Manifest(_)
            | Error::ManifestRule { .. }
            | Error::Load { .. }
            | Error::LockHeld { .. }
            | Error::ReadIncomplete { .. }
            | Error::BodyTooLarge { .. }
            | Error::LockLost
            | Error::Interrupted
            | Error::Statement { .. }
            | Error::SnowflakeAuth { .. }
            | Error::SnowflakeResponse { .. } => false,
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
            Error::Config { .. } | Error::Secret { .. } | Error::SnowflakeAuth { .. } => 2,
            Error::NotImplemented(_) | Error::TransactionBudget { .. } => 3,
            Error::LockHeld { .. } | Error::IntacctUnavailable { .. } => 4,
            Error::Interrupted => 130,
            _ => 1,
        }
    }
}

fn describe_intacct(failure: &IntacctFailure) -> String {
    let level = match failure.level {
        ErrorLevel::Control => "control",
        ErrorLevel::Authentication => "authentication",
        ErrorLevel::Result => "result",
    };
    let mut out = format!("Intacct {level}-level ");
    out.push_str(if failure.aborted { "abort" } else { "failure" });
    if let Some(function) = &failure.function {
        out.push_str(&format!(" in {function}"));
    }
    if let Some(id) = &failure.control_id {
        out.push_str(&format!(" (controlid {id})"));
    }
    if failure.errors.is_empty() {
        out.push_str(": no error detail in the response");
    }
    for (i, e) in failure.errors.iter().enumerate() {
        out.push_str(if i == 0 { ": " } else { "; " });
        out.push_str(&e.errorno);
        for text in [&e.description, &e.description2, &e.correction]
            .into_iter()
            .flatten()
        {
            out.push_str(" — ");
            out.push_str(text);
        }
    }
    out
}

/// At most `max` characters of a response body, on one line, with anything that may be a
/// secret replaced by `[redacted]`: the values of password and session elements (a proxy that
/// echoes the request would otherwise put them in a log, the manifest or a run report), bearer
/// tokens and JWTs. Every error message that quotes a body goes through here.
pub fn snippet(body: &[u8], max: usize) -> String {
    let text = redact_secrets(&String::from_utf8_lossy(body));
    plain_snippet(text.as_bytes(), max)
}

/// Elements whose values are secrets, wherever a body carries them.
const SECRET_ELEMENTS: [&str; 5] = [
    "password",
    "sessionid",
    "sender_password",
    "user_password",
    "private_key_passphrase",
];

fn redact_secrets(text: &str) -> String {
    let mut out = text.to_owned();
    for element in SECRET_ELEMENTS {
        out = redact_between(&out, &format!("<{element}>"), "<");
        out = redact_between(&out, &format!("\"{element}\":\""), "\"");
    }
    out = redact_between(&out, "Bearer ", " \"'<,\n\r");
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
        assert_eq!(plain_snippet(b"Bearer x", 100), "Bearer x");
    }
}
