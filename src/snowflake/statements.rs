//! [`SnowflakeClient`]: runs one statement at a time through the SQL API v2.
//!
//! Invariants:
//!
//! * Every POST carries the caller's `requestId`. Every resend — after a transport failure or
//!   timeout, 429, 500, 502, 503 or 504 — carries the **same** `requestId` with `retry=true`, so
//!   a statement that ran but whose answer was lost is answered from Snowflake's history instead
//!   of running twice. A [`Statement`] marked `resend` carries `retry=true` from its first send.
//!   Snowflake documents `retry=true` for a request whose outcome is unknown only; after a
//!   definite failure ([`FailureKind::StatementFailed`]: 422, 408) a caller that tries again
//!   uses a new requestId ([`failure_kind`] says which is which).
//! * [`SnowflakeClient::execute`] waits for the answer (Snowflake holds a POST up to 45 s);
//!   [`SnowflakeClient::submit_async`] sends `async=true` and returns the statement handle at
//!   once, so the caller can record it before [`SnowflakeClient::wait_for`] polls it (a process
//!   that dies meanwhile resumes by polling the recorded handle, not by sending again).
//! * A 202 (`333334`), on the POST or on a poll, is polled with a capped doubling wait (0.5, 1,
//!   2, 4 s, ... from 0.1 s after an `async=true` submission; up to
//!   [`SnowflakeConfig::poll_max_backoff_ms`]) until the result, a failure, or the statement
//!   timeout plus [`POLL_SLACK`] (then the statement is cancelled). A 429, 5xx or transport
//!   failure on a poll only delays the next poll (bounded by the retry policy's attempt
//!   count); a statement is never resubmitted from the polling loop.
//! * 401 mints a fresh token and tries once more; a second 401 is
//!   [`Error::SnowflakeAuth`] naming the key's fingerprint. 408 and
//!   422 become [`Error::Statement`]; 400, 403, 404, 405 and 415 fail
//!   at once as [`Error::HttpStatus`].
//! * A result is returned whole: partitions 1..n are fetched (gzip) and appended, and the row
//!   count is checked against `numRows`. The whole result is capped (rows and value bytes
//!   over every partition, see `limits`): past a cap it is [`Error::ResultTooLarge`].
//! * Handles of statements being polled are kept so [`SnowflakeClient::cancel_running`] can
//!   cancel them (Ctrl-C). A statement still inside its first, synchronous POST has no handle
//!   yet and cannot be cancelled this way; one submitted with `async=true` has one at once.
//! * Logs carry `requestId`, `statementHandle` and the query tag; never a token.
//!
//! Guesses where Snowflake's docs are silent (each with the statement that settles it on a
//! real account in `sql/README.md`, "To confirm on a real account"): a `retry=true` resend of a
//! requestId whose statement failed is answered with that failure and runs nothing (so a new
//! attempt needs a new id); a requestId stays matchable, and a statement handle pollable, for a
//! limited time (about the 24 hours Snowflake keeps a result; the emulator's default), after
//! which a resend runs the statement again and a poll answers 422 `000709` (or 404), which
//! [`failure_kind`] reads as [`FailureKind::HandleUnknown`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;

use crate::error::{Error, Result, Service};
use crate::retry::{backoff_delay, may_retry};
use crate::snowflake::auth::Credentials;
use crate::snowflake::limits::{MAX_RESULT_BYTES, MAX_RESULT_ROWS, ResultBudget};
use crate::snowflake::values::DmlStats;
use crate::snowflake::wire::{self, Reply, ResponseBody, SubmitBody};
use crate::snowflake::{Column, SnowflakeConfig, Statement, StatementOutcome};

/// Extra time allowed past a statement's own timeout before the client gives up polling
/// (Snowflake itself answers 408 at the timeout; this covers a server that never does).
pub(super) const POLL_SLACK: Duration = Duration::from_secs(60);
/// First wait between polls of a statement that outlasted its synchronous POST.
const FIRST_POLL_DELAY: Duration = Duration::from_millis(500);
/// First wait between polls of a statement submitted with `async=true`: it may well be done
/// in a moment, and the doubling soon spaces out the polls of a long one.
const FIRST_ASYNC_POLL_DELAY: Duration = Duration::from_millis(100);
const STATEMENTS_PATH: &str = "/api/v2/statements";

/// A SQL API v2 client; cheap to clone (shared state inside).
#[derive(Clone)]
pub struct SnowflakeClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: SnowflakeConfig,
    http: reqwest::Client,
    credentials: Credentials,
    /// statementHandle → (requestId, query tag) of statements being polled.
    in_flight: Mutex<BTreeMap<String, (String, String)>>,
    /// Checked before every request: a run that lost its run lock sends nothing more.
    gate: Option<Gate>,
}

/// A check every request passes first; its error is returned instead of sending (the run
/// lock's fence: `crate::manifest::Fence::check`).
pub type Gate = Arc<dyn Fn() -> Result<()> + Send + Sync>;

impl std::fmt::Debug for SnowflakeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnowflakeClient")
            .field("base_url", &self.inner.config.base_url.as_str())
            .field("account", &self.inner.config.account)
            .field("user", &self.inner.config.user)
            .finish_non_exhaustive()
    }
}

/// What an asynchronous submission came back with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Submitted {
    /// The statement had already ended: a resend answered from Snowflake's history.
    Finished(StatementOutcome),
    /// Snowflake accepted it and runs it: poll this handle ([`SnowflakeClient::wait_for`]).
    Running {
        /// Snowflake's handle of the statement.
        statement_handle: String,
    },
}

/// A POST Snowflake accepted: its result, or the handle of a statement still running.
enum Accepted {
    Done(Box<ResponseBody>),
    Running {
        handle: String,
        status_url: Option<String>,
    },
}

/// What a failed request says about the statement it carried, which decides whether a new
/// attempt may take a new requestId.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// Snowflake ran the statement, or refused it, and answered so: 422 (a compilation or
    /// execution error, a cancelled statement) or 408 (cancelled at its timeout). Resending
    /// the same requestId with `retry=true` would only be answered with the same failure; a
    /// new attempt takes a new requestId.
    StatementFailed,
    /// The outcome is unknown (a transport failure or timeout, 429 or 5xx after the resends,
    /// an authentication or request error): the statement may have run. Only a resend of the
    /// same requestId with `retry=true` is safe.
    OutcomeUnknown,
    /// A poll named a statement handle Snowflake does not know (any more): what became of the
    /// statement is unknown, and its requestId decides (resend it with `retry=true`).
    HandleUnknown,
}

/// Snowflake's code for a statement handle it does not know.
const UNKNOWN_HANDLE_CODE: &str = "000709";

/// Which [`FailureKind`] `error` is.
pub fn failure_kind(error: &Error) -> FailureKind {
    match error {
        Error::Statement { code, .. } if code == UNKNOWN_HANDLE_CODE => FailureKind::HandleUnknown,
        // The spec lists 404 for GET of a statement; an unknown handle may come back that way.
        Error::HttpStatus {
            service: Service::Snowflake,
            status: 404,
            ..
        } => FailureKind::HandleUnknown,
        Error::Statement {
            http_status: 408 | 422,
            ..
        } => FailureKind::StatementFailed,
        _ => FailureKind::OutcomeUnknown,
    }
}

/// One HTTP answer, read whole.
struct Raw {
    status: u16,
    retry_after_secs: Option<u64>,
    body: bytes::Bytes,
}

impl SnowflakeClient {
    /// Builds the client: reads and checks the private key (or token) and signs a first JWT,
    /// so a key that will not load, a missing or wrong passphrase or a PKCS#1 file fails here,
    /// before any statement.
    pub fn new(config: SnowflakeConfig) -> Result<SnowflakeClient> {
        SnowflakeClient::build(config, None)
    }

    /// A client whose every request (submit, poll, cancel) first passes `gate`: what a run
    /// that holds the run lock uses, so that once the lock is lost nothing more of the run
    /// reaches Snowflake.
    pub fn gated(config: SnowflakeConfig, gate: Gate) -> Result<SnowflakeClient> {
        SnowflakeClient::build(config, Some(gate))
    }

    fn build(config: SnowflakeConfig, gate: Option<Gate>) -> Result<SnowflakeClient> {
        let credentials = Credentials::new(&config.auth, &config.account, &config.user)?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("intacct-snowflake/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(config.request_timeout_secs.max(1)))
            .build()
            .map_err(|e| Error::Config {
                location: "snowflake".into(),
                message: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(SnowflakeClient {
            inner: Arc::new(Inner {
                config,
                http,
                credentials,
                in_flight: Mutex::new(BTreeMap::new()),
                gate,
            }),
        })
    }

    /// `SHA256:...` of the public key, for key-pair auth.
    pub fn key_fingerprint(&self) -> Option<String> {
        self.inner.credentials.fingerprint().map(str::to_owned)
    }

    /// The role every statement names (as stored), when not the user's default.
    pub fn role(&self) -> Option<&str> {
        self.inner.config.role.as_deref()
    }

    /// Runs one statement to its end and returns its whole result.
    pub async fn execute(&self, statement: &Statement) -> Result<StatementOutcome> {
        match self.submit(statement, false).await? {
            Accepted::Done(done) => self.finish(statement, *done).await,
            Accepted::Running { handle, status_url } => {
                self.poll(statement, handle, status_url, FIRST_POLL_DELAY)
                    .await
            }
        }
    }

    /// Submits one statement with `async=true`: Snowflake answers at once with its handle
    /// (202) while it runs, so the caller can record the handle before it waits
    /// ([`SnowflakeClient::wait_for`]). A statement that has already finished (a resend answered
    /// from Snowflake's history) comes back whole.
    pub async fn submit_async(&self, statement: &Statement) -> Result<Submitted> {
        match self.submit(statement, true).await? {
            Accepted::Done(done) => Ok(Submitted::Finished(self.finish(statement, *done).await?)),
            Accepted::Running { handle, .. } => Ok(Submitted::Running {
                statement_handle: handle,
            }),
        }
    }

    /// Polls the statement `statement_handle` (submitted as `statement`, perhaps by an earlier
    /// process) until it ends, and returns its whole result. A handle Snowflake does not know
    /// (any more) fails with an error [`failure_kind`] calls [`FailureKind::HandleUnknown`].
    pub async fn wait_for(
        &self,
        statement: &Statement,
        statement_handle: &str,
    ) -> Result<StatementOutcome> {
        self.poll(
            statement,
            statement_handle.to_owned(),
            None,
            FIRST_ASYNC_POLL_DELAY,
        )
        .await
    }

    /// POSTs the statement (with `async=true` when asked), resending the same requestId with
    /// `retry=true` after a transient failure, until Snowflake accepts it or gives a definite
    /// answer.
    async fn submit(&self, statement: &Statement, run_async: bool) -> Result<Accepted> {
        let config = &self.inner.config;
        let body = SubmitBody::new(
            &statement.sql,
            config.statement_timeout_secs,
            &config.database,
            &config.schema,
            config.warehouse.as_deref(),
            config.role.as_deref(),
            &statement.query_tag,
        );
        let body = serde_json::to_vec(&body).expect("a submit body serialises");
        let request_id = statement.request_id.as_str();
        let tag = statement.query_tag.as_str();
        let started = Instant::now();
        let mut retry = statement.resend;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let url = self.statements_url(request_id, retry, run_async)?;
            tracing::debug!(
                request_id,
                query_tag = tag,
                attempt,
                retry,
                run_async,
                "submitting statement"
            );
            let failure = match self.exchange(Method::POST, url, Some(&body)).await {
                Ok(Reply::Done(done)) => return Ok(Accepted::Done(Box::new(done))),
                Ok(Reply::Running { handle, status_url }) => {
                    return Ok(Accepted::Running { handle, status_url });
                }
                Ok(Reply::Transient(e)) => e,
                Ok(Reply::Failed(e)) => {
                    tracing::warn!(request_id, query_tag = tag, error = %e, "statement failed");
                    return Err(e);
                }
                Ok(Reply::Unauthorized(message)) => {
                    return Err(self.inner.credentials.refused(&message));
                }
                Err(e @ Error::Transport { .. }) => e,
                Err(e) => return Err(e),
            };
            let delay = backoff_delay(
                &config.retry,
                attempt,
                rand::random::<f64>(),
                failure.retry_after_secs().map(Duration::from_secs),
            );
            if !may_retry(&config.retry, attempt, started.elapsed(), delay) {
                tracing::warn!(request_id, query_tag = tag, attempt, error = %failure, "statement submission failed; giving up");
                return Err(failure);
            }
            tracing::warn!(
                request_id,
                query_tag = tag,
                attempt,
                delay_ms = delay.as_millis() as u64,
                error = %failure,
                "statement submission failed; resending with the same requestId and retry=true"
            );
            tokio::time::sleep(delay).await;
            retry = true;
        }
    }

    /// Asks Snowflake to cancel every statement this client is polling. Best effort: failures
    /// are logged, never returned.
    pub async fn cancel_running(&self) {
        let running: Vec<(String, (String, String))> = self
            .inner
            .in_flight
            .lock()
            .expect("in-flight lock")
            .iter()
            .map(|(h, v)| (h.clone(), v.clone()))
            .collect();
        for (handle, (request_id, tag)) in running {
            match self.cancel(&handle).await {
                Ok(()) => tracing::info!(
                    statement_handle = %handle,
                    request_id = %request_id,
                    query_tag = %tag,
                    "statement cancelled"
                ),
                Err(e) => tracing::warn!(
                    statement_handle = %handle,
                    request_id = %request_id,
                    query_tag = %tag,
                    error = %e,
                    "statement could not be cancelled"
                ),
            }
        }
    }

    async fn cancel(&self, handle: &str) -> Result<()> {
        let url = self.url(&format!("{STATEMENTS_PATH}/{handle}/cancel"))?;
        match self.exchange(Method::POST, url, Some(b"{}")).await? {
            Reply::Done(_) => Ok(()),
            Reply::Running { .. } => Ok(()),
            Reply::Unauthorized(message) => Err(self.inner.credentials.refused(&message)),
            Reply::Transient(e) | Reply::Failed(e) => Err(e),
        }
    }

    /// Polls a running statement until it ends.
    async fn poll(
        &self,
        statement: &Statement,
        handle: String,
        status_url: Option<String>,
        first_delay: Duration,
    ) -> Result<StatementOutcome> {
        let config = &self.inner.config;
        let request_id = statement.request_id.as_str();
        let tag = statement.query_tag.as_str();
        let _tracked = InFlight::track(&self.inner, &handle, request_id, tag);
        tracing::info!(request_id, statement_handle = %handle, query_tag = tag, "statement running; polling");
        let url = match status_url.filter(|u| u.starts_with(STATEMENTS_PATH)) {
            Some(path) => self.url(&path)?,
            None => self.url(&format!("{STATEMENTS_PATH}/{handle}"))?,
        };
        let cap = Duration::from_millis(config.poll_max_backoff_ms.max(1));
        let timeout = if config.statement_timeout_secs == 0 {
            Duration::from_secs(604_800)
        } else {
            Duration::from_secs(config.statement_timeout_secs)
        };
        let deadline = Instant::now() + timeout + POLL_SLACK;
        let mut delay = first_delay.min(cap);
        let mut failures = 0u32;
        loop {
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(cap);
            match self.exchange(Method::GET, url.clone(), None).await {
                Ok(Reply::Done(done)) => return self.finish(statement, done).await,
                Ok(Reply::Running { .. }) => {}
                Ok(Reply::Transient(Error::HttpStatus {
                    status: 429,
                    retry_after_secs,
                    ..
                })) => {
                    // Documented for a GET of a running statement: keep polling.
                    if let Some(secs) = retry_after_secs {
                        delay = delay.max(Duration::from_secs(secs));
                    }
                }
                Ok(Reply::Transient(e)) | Err(e @ Error::Transport { .. }) => {
                    failures += 1;
                    if failures >= config.retry.max_attempts {
                        return Err(e);
                    }
                    tracing::warn!(request_id, statement_handle = %handle, error = %e, "poll failed; polling again");
                    if let Some(secs) = e.retry_after_secs() {
                        delay = delay.max(Duration::from_secs(secs));
                    }
                }
                Ok(Reply::Failed(e)) => {
                    tracing::warn!(request_id, statement_handle = %handle, query_tag = tag, error = %e, "statement failed");
                    return Err(e);
                }
                Ok(Reply::Unauthorized(message)) => {
                    return Err(self.inner.credentials.refused(&message));
                }
                Err(e) => return Err(e),
            }
            if Instant::now() >= deadline {
                let _ = self.cancel(&handle).await;
                return Err(Error::Statement {
                    code: "000630".into(),
                    sql_state: "57014".into(),
                    message: format!(
                        "still running {} s after its statement timeout of {} s; cancelled by the client",
                        POLL_SLACK.as_secs(),
                        timeout.as_secs()
                    ),
                    statement_handle: Some(handle),
                    http_status: 408,
                });
            }
        }
    }

    /// A finished statement: partition 0 is in `done`; fetches the others.
    async fn finish(&self, statement: &Statement, done: ResponseBody) -> Result<StatementOutcome> {
        let handle = done
            .statement_handle
            .clone()
            .ok_or_else(|| Error::SnowflakeResponse {
                detail: format!(
                    "result of requestId {} has no statementHandle",
                    statement.request_id
                ),
            })?;
        let meta = done
            .result_set_meta_data
            .clone()
            .unwrap_or(wire::ResultSetMetaData {
                num_rows: None,
                row_type: Vec::new(),
                partition_info: None,
            });
        let columns: Vec<Column> = meta
            .row_type
            .iter()
            .map(|c| Column {
                name: c.name.clone(),
                type_name: c.type_name.to_ascii_lowercase(),
                scale: c.scale,
                precision: c.precision,
                nullable: c.nullable.unwrap_or(true),
            })
            .collect();
        let mut rows = done.data.unwrap_or_default();
        let partitions = meta.partition_info.as_ref().map_or(1, Vec::len);
        let mut budget = ResultBudget::new(&handle, partitions, MAX_RESULT_ROWS, MAX_RESULT_BYTES);
        let announced = meta
            .partition_info
            .iter()
            .flatten()
            .filter_map(|p| p.row_count)
            .sum::<u64>()
            .max(meta.num_rows.unwrap_or(0));
        budget.check_announced(announced)?;
        budget.add(0, &rows)?;
        for partition in 1..partitions {
            let mut more = self.partition(&handle, partition).await?;
            budget.add(partition, &more)?;
            rows.append(&mut more);
        }
        if let Some(expected) = meta.num_rows
            && expected != rows.len() as u64
        {
            return Err(Error::SnowflakeResponse {
                detail: format!(
                    "statement {handle} reported {expected} rows but {} arrived in {partitions} partitions",
                    rows.len()
                ),
            });
        }
        if let Some(bad) = rows.iter().position(|r| r.len() != columns.len()) {
            return Err(Error::SnowflakeResponse {
                detail: format!(
                    "statement {handle}: row {bad} has {} values for {} columns",
                    rows[bad].len(),
                    columns.len()
                ),
            });
        }
        let stats: Option<DmlStats> = done.stats.map(DmlStats::from);
        tracing::debug!(
            request_id = %statement.request_id,
            statement_handle = %handle,
            query_tag = %statement.query_tag,
            rows = rows.len(),
            partitions,
            "statement finished"
        );
        Ok(StatementOutcome {
            statement_handle: handle,
            columns,
            rows,
            stats,
            message: done.message.unwrap_or_default(),
        })
    }

    /// `GET /api/v2/statements/{h}?partition=N`, retried on transient failures.
    async fn partition(&self, handle: &str, partition: usize) -> Result<Vec<Vec<Option<String>>>> {
        let policy = &self.inner.config.retry;
        let mut url = self.url(&format!("{STATEMENTS_PATH}/{handle}"))?;
        url.query_pairs_mut()
            .append_pair("partition", &partition.to_string());
        let started = Instant::now();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let failure = match self.exchange(Method::GET, url.clone(), None).await {
                Ok(Reply::Done(body)) => {
                    return body.data.ok_or_else(|| Error::SnowflakeResponse {
                        detail: format!("partition {partition} of statement {handle} has no data"),
                    });
                }
                Ok(Reply::Running { .. }) => Error::SnowflakeResponse {
                    detail: format!(
                        "partition {partition} of finished statement {handle} answered 202"
                    ),
                },
                Ok(Reply::Transient(e)) | Err(e @ Error::Transport { .. }) => e,
                Ok(Reply::Failed(e)) => return Err(e),
                Ok(Reply::Unauthorized(message)) => {
                    return Err(self.inner.credentials.refused(&message));
                }
                Err(e) => return Err(e),
            };
            let delay = backoff_delay(
                policy,
                attempt,
                rand::random::<f64>(),
                failure.retry_after_secs().map(Duration::from_secs),
            );
            if !may_retry(policy, attempt, started.elapsed(), delay) {
                return Err(failure);
            }
            tokio::time::sleep(delay).await;
        }
    }

    /// One request with a current token; a 401 drops the cached token and tries once more
    /// with a fresh one. A second 401 comes back as [`Reply::Unauthorized`].
    async fn exchange(&self, method: Method, url: url::Url, body: Option<&[u8]>) -> Result<Reply> {
        let mut reminted = false;
        loop {
            let raw = self.send(method.clone(), url.clone(), body).await?;
            match wire::classify(raw.status, &raw.body, raw.retry_after_secs) {
                Reply::Unauthorized(message) if !reminted => {
                    tracing::warn!(path = url.path(), reason = %message, "token refused (401); trying once more with a fresh token");
                    self.inner.credentials.invalidate();
                    reminted = true;
                }
                Reply::Failed(e) => return Ok(Reply::Failed(self.inner.config.explain(e))),
                reply => return Ok(reply),
            }
        }
    }

    async fn send(&self, method: Method, url: url::Url, body: Option<&[u8]>) -> Result<Raw> {
        if let Some(gate) = &self.inner.gate {
            gate()?;
        }
        let bearer = self.inner.credentials.bearer()?;
        let mut request = self
            .inner
            .http
            .request(method, url)
            .header(
                reqwest::header::AUTHORIZATION,
                format!("Bearer {}", bearer.token.expose()),
            )
            .header("X-Snowflake-Authorization-Token-Type", bearer.token_type)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_vec());
        }
        let transport = |e: reqwest::Error| Error::Transport {
            service: Service::Snowflake,
            timeout: e.is_timeout(),
            message: e.without_url().to_string(),
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let retry_after_secs = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let body = crate::http_body::read_capped(
            response,
            crate::http_body::SNOWFLAKE_MAX_BODY_BYTES,
            Service::Snowflake,
            transport,
        )
        .await?;
        Ok(Raw {
            status,
            retry_after_secs,
            body,
        })
    }

    fn statements_url(&self, request_id: &str, retry: bool, run_async: bool) -> Result<url::Url> {
        let mut url = self.url(STATEMENTS_PATH)?;
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("requestId", request_id);
            if retry {
                query.append_pair("retry", "true");
            }
            if run_async {
                query.append_pair("async", "true");
            }
        }
        Ok(url)
    }

    fn url(&self, path_and_query: &str) -> Result<url::Url> {
        self.inner
            .config
            .base_url
            .join(path_and_query)
            .map_err(|e| Error::Config {
                location: "snowflake.url".into(),
                message: format!("cannot join {path_and_query} to the base URL: {e}"),
            })
    }
}

/// Registers a handle as in flight for as long as it lives.
struct InFlight<'a> {
    inner: &'a Inner,
    handle: String,
}

impl<'a> InFlight<'a> {
    fn track(inner: &'a Inner, handle: &str, request_id: &str, tag: &str) -> InFlight<'a> {
        inner
            .in_flight
            .lock()
            .expect("in-flight lock")
            .insert(handle.to_owned(), (request_id.to_owned(), tag.to_owned()));
        InFlight {
            inner,
            handle: handle.to_owned(),
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Ok(mut map) = self.inner.in_flight.lock() {
            map.remove(&self.handle);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replied(status: u16, body: &str) -> Error {
        match wire::classify(status, body.as_bytes(), None) {
            Reply::Failed(e) | Reply::Transient(e) => e,
            _ => panic!("{status} {body} is not a failure"),
        }
    }

    #[test]
    fn definite_failures_unknown_outcomes_and_unknown_handles_are_told_apart() {
        // The spec's QueryFailureStatus example, and a cancelled statement.
        let compile = replied(
            422,
            r#"{"code":"000123","sqlState":"42601","message":"SQL compilation error",
                "statementHandle":"e4ce975e-f7ff-4b5e-b15e-bf25f59371ae","createdOn":1597090533987}"#,
        );
        assert_eq!(failure_kind(&compile), FailureKind::StatementFailed);
        let cancelled = replied(
            422,
            r#"{"code":"000604","sqlState":"57014","message":"SQL execution canceled","statementHandle":"h"}"#,
        );
        assert_eq!(failure_kind(&cancelled), FailureKind::StatementFailed);
        let timed_out = replied(
            408,
            r#"{"code":"000630","sqlState":"57014","message":"timeout","statementHandle":"h"}"#,
        );
        assert_eq!(failure_kind(&timed_out), FailureKind::StatementFailed);
        let unknown = replied(
            422,
            r#"{"code":"000709","sqlState":"02000","message":"Statement h not found","statementHandle":"h"}"#,
        );
        assert_eq!(failure_kind(&unknown), FailureKind::HandleUnknown);
        assert_eq!(
            failure_kind(&replied(404, "{}")),
            FailureKind::HandleUnknown
        );
        for status in [429, 500, 503, 504] {
            assert_eq!(
                failure_kind(&replied(status, "{}")),
                FailureKind::OutcomeUnknown,
                "{status}"
            );
        }
        let transport = Error::Transport {
            service: Service::Snowflake,
            timeout: true,
            message: "operation timed out".into(),
        };
        assert_eq!(failure_kind(&transport), FailureKind::OutcomeUnknown);
    }
}
