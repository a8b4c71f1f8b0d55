//! The Intacct client: sessions, transport and retries turned into reliable calls.
//!
//! One [`IntacctClient`] serves one company (one user, one session cache, one concurrency
//! limit), shared by every object and window; it is cheap to clone and every clone shares all
//! of that. It guarantees:
//! * every function is sent with `uniqueid=false` (reads only) and a function controlid
//!   `<label>-r<request>-a<attempt>` (e.g. `<batch>-<object>-p<page>-r<request>-a<attempt>`)
//!   that names batch, object, page and attempt, and is unique in the run: `<request>` counts
//!   every request the client (all its clones and entities) sends, so a page asked for again
//!   (halved, or split into slices) never repeats an earlier id;
//! * retryable failures are retried per [`RetryPolicy`] (exponential backoff with full
//!   jitter, honouring `Retry-After`, bounded by attempts and total time): transport errors,
//!   timeouts (default 300 s a request), 5xx (524 and Cloudflare's 520–527 included: every
//!   function sent is a read), 429/GW-0010, concurrency refusals (`200024`, at any level),
//!   truncated or HTML bodies, the maintenance answer. Permanent ones (bad credentials,
//!   permissions, unknown fields, bad queries) fail at once with Intacct's own text;
//! * a session refused at the authentication level is dropped and replaced by a new login,
//!   then the call is sent again: at once the first time, and within the retry budget (a
//!   backoff and an attempt each) when the session is refused again right after a new login
//!   (sessions can be invalidated on Sage's side at any time). Only a refused *login* is final
//!   (see `session`);
//! * every request is charged to the run's transactions (per object and kind; see `ledger`)
//!   and goes through the company's adaptive request slots (see `slots`); with
//!   `max_transactions_per_run` set, a request past it is not sent
//!   ([`Error::TransactionBudget`]). [`IntacctClient::usage`] reports both;
//! * once a call gave up on the gateway's maintenance answer, the run's later calls fail at
//!   once with it ([`Error::IntacctUnavailable`]): the run ends as "try again later";
//! * `lookup` is single flight per object, like the session: concurrent callers for the same
//!   object share one request and its answer, cached for the client's life (a failed lookup
//!   is not cached; the next waiting caller sends its own).
//!
//! It is the layer under the object reads (`reader`), which page through an object with the
//! calls this client sends; the reads' own rules (passes, slices, concurrency) are in `reader`.
//!
//! # Multi-entity companies
//!
//! Top-level reads omit entity-private records unless `showprivate` is set, so every `query`
//! sends it, and one top-level session reads the whole company. An API user restricted to
//! entity-level access has no top-level session; the pipeline lists its entities instead:
//!
//! ```text
//! [intacct]
//! entities = ["E100", "E200"]
//! ```
//!
//! Each entity is then read through a client of its own ([`IntacctClient::for_entity`]): its
//! own login with `locationid`, its own session cache and lookups, the company's concurrency
//! limit shared. A refused entity login is [`Error::EntitySession`] naming the entity (and
//! remembered for the run, like any refusal); a refusal of the credentials themselves (the
//! sender, HTTP 401/403, a wrong password) is shared by every entity's client, so it costs one
//! `getAPISession` per run, not one per entity (see `session`).
//!
//! The pipeline reads one batch per object and entity (the batch's `entity` is in the
//! manifest, and `status` shows one line per `OBJECT@ENTITY`), with marks per object and entity
//! (see [`crate::manifest`]). All batches of an object load into the same table, and the MERGE
//! is on RECORDNO (unique across the company): a shared record seen from several entities
//! loads once, and `MEGAENTITYID` says which entity owns it. `verify` reads each entity
//! through its own client too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use chrono_tz::Tz;
use tokio::time::Instant;
use url::Url;

use crate::error::FailureClass;
use crate::error::{Error, MalformedKind, Result};
use crate::intacct::codes;
use crate::intacct::ledger::{Charge, TransactionKind, TransactionUsage};
use crate::intacct::request::{
    Authentication, Call, Function, Request, SenderCredentials, render_request,
};
use crate::intacct::response::{ObjectMeta, ResultData};
use crate::intacct::session::{LoginCredentials, Session, SessionCache};
use crate::intacct::slots::ConcurrencyUsage;
use crate::intacct::transport::{Retrier, Transport, is_page_too_big};
use crate::retry::RetryPolicy;
use crate::secret::Secret;

/// The longest controlid the gateway accepts.
const MAX_CONTROL_ID_CHARS: usize = 256;

/// Everything the client needs, independent of the pipeline file.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The gateway for the first login (`https://api.intacct.com/ia/xml/xmlgw.phtml`).
    pub endpoint: Url,
    /// Web Services sender credentials.
    pub sender: SenderCredentials,
    /// API user.
    pub user_id: String,
    /// Company id.
    pub company_id: String,
    /// API user's password.
    pub user_password: Secret,
    /// Entity to scope the session to.
    pub location_id: Option<String>,
    /// Longest use of one session, whatever the gateway allows (default 3000 s = 50 min).
    pub session_ttl_secs: u64,
    /// Per HTTP exchange (default 60 s).
    pub timeout_secs: u64,
    /// In-flight requests for this company at most, shared by every read (default 2): the
    /// tier's limit minus what the tenant's other integrations use. The client adapts below it
    /// when the gateway refuses for concurrency or requests time out.
    pub max_concurrent_requests: usize,
    /// Requests (billable transactions) a run may send at most; `None`: no limit.
    pub max_transactions_per_run: Option<u64>,
    /// Retry bounds.
    pub retry: RetryPolicy,
    /// The tenant's time zone, in which the gateway writes and reads timestamps.
    pub tenant_time_zone: Tz,
    /// Pages buffered between a read and its consumer (default 4).
    pub page_buffer: usize,
}

impl ClientConfig {
    /// A configuration with the defaults for everything but the endpoint and credentials.
    pub fn new(
        endpoint: Url,
        sender: SenderCredentials,
        user_id: impl Into<String>,
        company_id: impl Into<String>,
        user_password: Secret,
    ) -> ClientConfig {
        ClientConfig {
            endpoint,
            sender,
            user_id: user_id.into(),
            company_id: company_id.into(),
            user_password,
            location_id: None,
            session_ttl_secs: 3_000,
            timeout_secs: 300,
            max_concurrent_requests: 2,
            max_transactions_per_run: None,
            retry: RetryPolicy::default(),
            tenant_time_zone: chrono_tz::UTC,
            page_buffer: 4,
        }
    }
}

/// The Intacct client of one company.
#[derive(Clone, Debug)]
pub struct IntacctClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    retry: RetryPolicy,
    tz: Tz,
    page_buffer: usize,
    sender: SenderCredentials,
    transport: Transport,
    sessions: SessionCache,
    /// One cell per object: the first caller fills it while later ones wait on it.
    lookups: Mutex<HashMap<String, Arc<LookupCell>>>,
    /// The API user's id, for `readByName USERINFO`.
    user_id: String,
    /// Fields `query` refused (or the deny list names), by object, for the client's life.
    refused_fields: Mutex<std::collections::BTreeMap<String, std::collections::BTreeSet<String>>>,
}

/// What a run's Intacct requests cost and met, for the run report and `status`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IntacctUsage {
    /// Requests sent (billable transactions), per object and kind, and the budget.
    pub transactions: TransactionUsage,
    /// The company's request slots: the ceiling, the levels reached, refusals and timeouts.
    pub concurrency: ConcurrencyUsage,
    /// The maintenance answer that stopped the run, when one did.
    pub unavailable: Option<String>,
}

/// How one call is sent.
#[derive(Clone, Debug)]
pub(super) struct CallOptions {
    /// What the call is charged as.
    pub(super) charge: Charge,
    /// Hand back the body of the successful response.
    pub(super) keep_body: bool,
    /// A timeout (or 524, or `DL02000001`) is handed back after a pause instead of retried:
    /// the caller asks for a smaller page.
    pub(super) page_too_big_fails_fast: bool,
    /// The gateway's generic `DL02000001` failure is handed back after this many attempts
    /// (`None`: as any other failure, per the policy and `page_too_big_fails_fast`).
    pub(super) generic_error_attempts: Option<u32>,
}

impl CallOptions {
    /// `call` charged by what it is, no body kept, timeouts retried.
    fn of(call: &Call) -> CallOptions {
        CallOptions {
            charge: charge_of(call),
            keep_body: false,
            page_too_big_fails_fast: false,
            generic_error_attempts: None,
        }
    }
}

/// What a call is charged as, by what it reads: the reads of `reader` say so themselves.
fn charge_of(call: &Call) -> Charge {
    match call {
        Call::GetApiSession { .. } => Charge::new(
            crate::intacct::session::LOGIN_OBJECT,
            TransactionKind::Login,
        ),
        Call::Lookup { object } | Call::Inspect { object, .. } => {
            Charge::new(object, TransactionKind::Lookup)
        }
        Call::Query(q) => Charge::new(&q.object, page_kind(&q.object)),
        Call::ReadByQuery(q) => Charge::new(&q.object, page_kind(&q.object)),
        Call::Read { object, .. } => Charge::new(object, page_kind(object)),
        Call::ReadMore { .. } => Charge::new("", TransactionKind::DataPage),
        Call::ReadByName { object, .. } => Charge::new(object, TransactionKind::Other),
        Call::ReadUserFormatting { .. } => Charge::new("USERINFO", TransactionKind::Other),
    }
}

/// A page of `object`: of the delete feed for AUDITHISTORY, of data otherwise.
pub(super) fn page_kind(object: &str) -> TransactionKind {
    if object.eq_ignore_ascii_case("AUDITHISTORY") {
        TransactionKind::AuditRead
    } else {
        TransactionKind::DataPage
    }
}

/// The cached (or in-flight) `lookup` of one object.
type LookupCell = tokio::sync::OnceCell<Arc<ObjectMeta>>;

impl IntacctClient {
    /// A client; nothing is sent until the first call.
    pub fn new(config: ClientConfig) -> Result<IntacctClient> {
        if config.max_concurrent_requests == 0 {
            return Err(Error::Config {
                location: "intacct.max_concurrent_requests".into(),
                message: "must be at least 1".into(),
            });
        }
        let transport = Transport::new(
            config.timeout_secs,
            config.max_concurrent_requests,
            config.max_transactions_per_run,
        )?;
        let sessions = SessionCache::new(
            config.endpoint.clone(),
            LoginCredentials {
                sender: config.sender.clone(),
                user_id: config.user_id.clone(),
                company_id: config.company_id,
                user_password: config.user_password,
                location_id: config.location_id,
            },
            Duration::from_secs(config.session_ttl_secs),
            config.retry.clone(),
            transport.clone(),
        );
        Ok(IntacctClient {
            inner: Arc::new(Inner {
                retry: config.retry,
                tz: config.tenant_time_zone,
                page_buffer: config.page_buffer.max(1),
                sender: config.sender,
                transport,
                sessions,
                lookups: Mutex::new(HashMap::new()),
                refused_fields: Mutex::new(std::collections::BTreeMap::new()),
                user_id: config.user_id,
            }),
        })
    }

    /// A client for one entity of a multi-entity company: its own session, logged in with
    /// `locationid` = `entity` (cached for the client's life like the company's), its own
    /// `lookup` cache and refused fields; the transport, and with it the company's
    /// concurrency limit, is shared with this client.
    pub fn for_entity(&self, entity: &str) -> IntacctClient {
        let inner = &self.inner;
        IntacctClient {
            inner: Arc::new(Inner {
                retry: inner.retry.clone(),
                tz: inner.tz,
                page_buffer: inner.page_buffer,
                sender: inner.sender.clone(),
                transport: inner.transport.clone(),
                sessions: inner.sessions.for_location(entity),
                lookups: Mutex::new(HashMap::new()),
                refused_fields: Mutex::new(std::collections::BTreeMap::new()),
                user_id: inner.user_id.clone(),
            }),
        }
    }

    /// Opens (or reuses) the client's session: the sender and the user are accepted, or the
    /// error says which was refused.
    pub async fn login(&self) -> Result<()> {
        self.inner.sessions.get().await.map(|_| ())
    }

    /// The gateway's clock now: opens (or reuses) the client's session and takes the
    /// `sessiontimestamp` of the newest answer, plus the time counted here since it arrived
    /// (never later than the gateway's own clock). A gateway that sends no usable timestamp is
    /// [`Error::MalformedResponse`]: without it the clocks cannot be compared, and the run
    /// plans no window on a guess (Sage sends one in every authentication block).
    pub async fn gateway_time(&self) -> Result<chrono::DateTime<chrono::Utc>> {
        self.login().await?;
        match self.inner.sessions.gateway_time() {
            Some(Ok(time)) => Ok(time),
            Some(Err(detail)) => Err(malformed(format!(
                "{detail}: the gateway's clock cannot be compared with this machine's, so no window is planned"
            ))),
            None => Err(malformed(
                "no answer of the gateway told its time: the clocks cannot be compared, so no window is planned".to_owned(),
            )),
        }
    }

    /// The API user's formatting preferences: `readByName` USERINFO for the user's RECORDNO,
    /// then `readUserFormatting` (see `crate::intacct::preferences`).
    pub async fn user_formatting(&self) -> Result<crate::intacct::preferences::UserFormatting> {
        let call = Call::ReadByName {
            object: "USERINFO".into(),
            keys: vec![self.inner.user_id.clone()],
            fields: vec!["RECORDNO".into()],
        };
        let ResultData::Records(users) = self.call("readByName-USERINFO", &call).await? else {
            return Err(malformed("readByName USERINFO returned no records".into()));
        };
        let key = users
            .column_index("RECORDNO")
            .and_then(|c| users.value(0, c))
            .ok_or_else(|| malformed("readByName USERINFO found no API user".into()))?
            .to_owned();
        let call = Call::ReadUserFormatting { key };
        match self.call("readUserFormatting", &call).await? {
            ResultData::Records(page) => {
                crate::intacct::preferences::UserFormatting::from_page(&page)
            }
            _ => Err(malformed(
                "readUserFormatting returned no preferences".into(),
            )),
        }
    }

    /// Reads the API user's preferences and refuses to run unless they are month/day/year,
    /// 24-hour, in the tenant time zone (`crate::intacct::preferences::check`).
    pub async fn check_user_formatting(&self, now: chrono::DateTime<chrono::Utc>) -> Result<()> {
        let prefs = self.user_formatting().await?;
        crate::intacct::preferences::check(&prefs, self.inner.tz, now)
    }

    /// Fields of `object` left out of its `query` reads so far: the deny list's
    /// ([`crate::intacct::objects::not_queryable`]) and those the gateway refused by name, in name order.
    pub fn refused_fields(&self, object: &str) -> Vec<String> {
        self.lock_refused()
            .get(&object.to_ascii_uppercase())
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn lock_refused(
        &self,
    ) -> std::sync::MutexGuard<
        '_,
        std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
    > {
        self.inner
            .refused_fields
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn remember_refused(&self, object: &str, fields: &[String]) {
        self.lock_refused()
            .entry(object.to_ascii_uppercase())
            .or_default()
            .extend(fields.iter().map(|f| f.to_ascii_uppercase()));
    }

    /// The tenant time zone filters are rendered in.
    pub fn tenant_time_zone(&self) -> Tz {
        self.inner.tz
    }

    /// Pages buffered between a read and its consumer.
    pub(super) fn page_buffer(&self) -> usize {
        self.inner.page_buffer
    }

    /// Successful logins so far (for run reports).
    pub fn logins(&self) -> u64 {
        self.inner.sessions.logins()
    }

    /// What the run's requests cost and met so far: transactions, the request slots, the
    /// maintenance answer that stopped the run (shared by every clone and entity client).
    pub fn usage(&self) -> IntacctUsage {
        let transport = &self.inner.transport;
        IntacctUsage {
            transactions: transport.transactions(),
            concurrency: transport.concurrency(),
            unavailable: transport.unavailable().map(|e| e.to_string()),
        }
    }

    /// Sends one function with the shared session, retrying per the policy.
    ///
    /// `label` prefixes the function controlid (`<label>-r<request>-a<attempt>`). A
    /// result-level failure is returned as [`Error::Intacct`].
    pub async fn call(&self, label: &str, call: &Call) -> Result<ResultData> {
        self.call_with(label, call, &CallOptions::of(call))
            .await
            .map(|(data, _)| data)
    }

    /// [`IntacctClient::call`] as `options` say: charged as they say, also returning the body
    /// of the successful response when they keep it (`None` otherwise).
    pub(super) async fn call_with(
        &self,
        label: &str,
        call: &Call,
        options: &CallOptions,
    ) -> Result<(ResultData, Option<Bytes>)> {
        let transport = &self.inner.transport;
        let mut retrier = Retrier::new(&self.inner.retry, label, transport);
        let mut relogged = false;
        loop {
            let session = self.inner.sessions.get().await?;
            let control_id = control_id(label, transport.next_request_no(), retrier.attempt());
            match self
                .send(&session, &control_id, call, &options.charge)
                .await
            {
                Ok((data, body)) => return Ok((data, body.filter(|_| options.keep_body))),
                // A capped call (the delete feed's reads) gives the gateway's generic failure
                // a few attempts, then hands it back for a smaller page.
                Err(e) if is_generic_failure(&e) && options.generic_error_attempts.is_some() => {
                    if options
                        .generic_error_attempts
                        .is_some_and(|cap| retrier.attempt() >= cap)
                    {
                        return Err(e);
                    }
                    retrier.failed(e).await?
                }
                Err(e) if is_session_refused(&e) => {
                    // The session was refused (expired, or invalidated on Sage's side): a new
                    // login, and the same call again; at once the first time, within the
                    // retry budget when a fresh session is refused too.
                    self.inner.sessions.invalidate(session.generation);
                    if relogged {
                        retrier.failed_session(e).await?;
                    }
                    relogged = true;
                }
                Err(e) if options.page_too_big_fails_fast && is_page_too_big(&e) => {
                    retrier.pause(&e).await;
                    return Err(e);
                }
                Err(e) => retrier.failed(e).await?,
            }
        }
    }

    /// Field metadata of `object` from `lookup`, cached for the client's life. Single flight:
    /// while one caller's request for `object` is in flight, others for the same object wait
    /// for its answer instead of sending their own.
    pub async fn lookup(&self, object: &str) -> Result<Arc<ObjectMeta>> {
        let cell = self
            .lock_lookups()
            .entry(object.to_owned())
            .or_default()
            .clone();
        cell.get_or_try_init(|| self.fetch_lookup(object))
            .await
            .cloned()
    }

    /// One `lookup` request for `object`.
    async fn fetch_lookup(&self, object: &str) -> Result<Arc<ObjectMeta>> {
        let call = Call::Lookup {
            object: object.to_owned(),
        };
        let data = self.call(&format!("lookup-{object}"), &call).await?;
        let ResultData::Objects(types) = data else {
            return Err(malformed(format!("lookup of {object} returned no <Type>")));
        };
        let meta = types
            .into_iter()
            .find(|t| t.name.eq_ignore_ascii_case(object))
            .ok_or_else(|| malformed(format!("lookup of {object} did not describe {object}")))?;
        Ok(Arc::new(meta))
    }

    async fn send(
        &self,
        session: &Session,
        control_id: &str,
        call: &Call,
        charge: &Charge,
    ) -> Result<(ResultData, Option<Bytes>)> {
        let request = Request {
            control_id: control_id.to_owned(),
            unique_id: false,
            transaction: false,
            authentication: Authentication::Session(session.id.clone()),
            functions: vec![Function {
                control_id: control_id.to_owned(),
                call: call.clone(),
            }],
        };
        let body = render_request(&request, &self.inner.sender)?;
        tracing::debug!(controlid = control_id, "sending");
        let sent_at = Instant::now();
        let (response, raw) = self
            .inner
            .transport
            .exchange_with_body(&session.endpoint, body, charge)
            .await?;
        self.inner.sessions.observe(
            session.generation,
            sent_at,
            response.authentication.as_ref(),
        );
        let result = response
            .results
            .into_iter()
            .next()
            .ok_or_else(|| malformed(format!("response to {control_id} has no <result>")))?;
        result
            .outcome
            .map(|data| (data, Some(raw)))
            .map_err(|failure| match codes::classify(&failure) {
                FailureClass::Unavailable => Error::IntacctUnavailable {
                    detail: Error::Intacct(failure).to_string(),
                    retry_after_secs: None,
                },
                _ => Error::Intacct(failure),
            })
    }

    fn lock_lookups(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<LookupCell>>> {
        self.inner.lookups.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub(super) fn malformed(detail: String) -> Error {
    Error::MalformedResponse {
        kind: MalformedKind::UnexpectedStructure,
        detail,
    }
}

/// `<label>-r<request>-a<attempt>`, the label cut so the whole fits the gateway's
/// 256-character limit and the request and attempt suffix survives.
fn control_id(label: &str, request: u64, attempt: u32) -> String {
    let suffix = format!("-r{request}-a{attempt}");
    let keep = MAX_CONTROL_ID_CHARS.saturating_sub(suffix.len());
    let mut out: String = label.chars().take(keep).collect();
    out.push_str(&suffix);
    out
}

/// True for the gateway's catch-all failure, `DL02000001` "There was an error processing the
/// request." (Sage's SDK fixture `SdkTest.testReadByQueryFailure`).
fn is_generic_failure(error: &Error) -> bool {
    matches!(error, Error::Intacct(f) if f.errors.iter().any(|e| e.errorno == "DL02000001"))
}

/// True when the gateway refused the credentials of a session call: an authentication-level
/// failure (how an expired session shows), or a bad-credentials error at another level (HTTP
/// 401 `XMLGW_JPP0002`). One new login settles it: either it works, or the login itself is
/// refused with a clear error.
fn is_session_refused(error: &Error) -> bool {
    match error {
        Error::Intacct(f) => matches!(
            f.class(),
            FailureClass::SessionRefused | FailureClass::BadCredentials
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_ids_are_capped_at_256_chars() {
        let long = format!("{}-VENDOR-p1", "x".repeat(300));
        let id = control_id(&long, 40_001, 12);
        assert_eq!(id.chars().count(), 256);
        assert!(id.ends_with("x-r40001-a12"));
        assert_eq!(control_id("b1-VENDOR-p3", 7, 2), "b1-VENDOR-p3-r7-a2");
    }
}
