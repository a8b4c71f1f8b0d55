//! API sessions: one `getAPISession` login shared by every caller of a client.
//!
//! Invariants:
//! * **single flight** — at most one login runs at a time (across the caches of one company's
//!   entities too); callers that find no valid session
//!   queue behind it and take the session it produced;
//! * **bounded lifetime** — a session is used until the earliest of `login + session_ttl_secs`
//!   (default 3000, at most 50 minutes) and the gateway's `sessiontimeout` minus a margin, and
//!   is replaced *before* that point (not after a failure). The gateway's lifetime is measured
//!   as `sessiontimeout − sessiontimestamp` (both from the gateway's clock) and applied to the
//!   local monotonic clock, so a skewed or simulated server clock cannot make every session
//!   look expired or eternal. Each response slides the expiry forward, never past `login + ttl`;
//! * **generations** — every login gets a new generation number; a caller whose session was
//!   refused invalidates only *that* generation, so two callers refused at once cause one
//!   re-login, not two;
//! * a **refused login** — refused at any level: HTTP 401/403, a control-level failure (the
//!   sender), an authentication-level failure (the user), or any other failure of
//!   `getAPISession` that retrying cannot heal — is remembered for the life of the client
//!   (the run) and returned to every later caller without another request: credentials do
//!   not heal, and every further attempt counts towards locking the user out. The caches of
//!   one company's entities share what refuses the credentials themselves (the sender, HTTP
//!   401/403, "Sign-in information is incorrect"), so a wrong password costs one login per
//!   run, not one per entity; a refusal of one scope (a user without access to an entity or
//!   to the top level) stays with that scope's cache;
//! * the session id and the passwords are [`Secret`]s and are never logged.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use tokio::time::Instant;
use url::Url;

use crate::error::{Error, MalformedKind, Result};
use crate::intacct::ledger::{Charge, TransactionKind};
use crate::intacct::request::{
    Authentication, Call, Function, Request, SenderCredentials, render_request,
};
use crate::intacct::response::{AuthenticationBlock, IntacctFailure, ResultData};
use crate::intacct::transport::{Retrier, Transport};
use crate::retry::RetryPolicy;
use crate::secret::Secret;

/// What logins are counted under in the run's transactions.
pub(crate) const LOGIN_OBJECT: &str = "getAPISession";

/// The longest safety margin kept before the gateway's session timeout.
const MAX_EXPIRY_MARGIN: Duration = Duration::from_secs(60);

/// A logged-in session, as handed to callers.
#[derive(Debug)]
pub(crate) struct Session {
    /// The session id.
    pub(crate) id: Secret,
    /// Where every request of this session goes.
    pub(crate) endpoint: Url,
    /// Which login produced it.
    pub(crate) generation: u64,
}

/// What a login needs.
#[derive(Clone, Debug)]
pub(crate) struct LoginCredentials {
    pub(crate) sender: SenderCredentials,
    pub(crate) user_id: String,
    pub(crate) company_id: String,
    pub(crate) user_password: Secret,
    pub(crate) location_id: Option<String>,
}

#[derive(Debug)]
struct Entry {
    session: Arc<Session>,
    logged_in_at: Instant,
    expires_at: Instant,
}

/// A remembered login refusal (an [`Error`] is not `Clone`, so the parts that can refuse).
#[derive(Clone, Debug)]
enum Refusal {
    Intacct(IntacctFailure),
    Http {
        service: crate::error::Service,
        status: u16,
        detail: String,
    },
}

impl Refusal {
    /// The refusal to remember for `error`, when it is one: never a failure that retrying
    /// could heal (rate limits, outages, timeouts), which the retrier already gave up on.
    fn of(error: &Error) -> Option<Refusal> {
        if error.is_retryable() {
            return None;
        }
        match error {
            Error::Intacct(failure) => Some(Refusal::Intacct(failure.clone())),
            Error::HttpStatus {
                service,
                status: status @ (401 | 403),
                detail,
                ..
            } => Some(Refusal::Http {
                service: *service,
                status: *status,
                detail: detail.clone(),
            }),
            _ => None,
        }
    }

    /// True when the refusal is of the credentials themselves, whatever the scope: the sender
    /// (control level), HTTP 401/403, or the user's sign-in; not a refusal of one scope.
    fn refuses_credentials(&self) -> bool {
        match self {
            Refusal::Http { .. } => true,
            Refusal::Intacct(failure) => {
                failure.level == crate::intacct::response::ErrorLevel::Control
                    || failure.errors.iter().any(|e| {
                        [&e.description, &e.description2]
                            .into_iter()
                            .flatten()
                            .any(|t| {
                                t.to_ascii_lowercase()
                                    .contains("sign-in information is incorrect")
                            })
                    })
            }
        }
    }

    fn error(&self) -> Error {
        match self {
            Refusal::Intacct(failure) => Error::Intacct(failure.clone()),
            Refusal::Http {
                service,
                status,
                detail,
            } => Error::HttpStatus {
                service: *service,
                status: *status,
                retry_after_secs: None,
                detail: detail.clone(),
            },
        }
    }
}

#[derive(Debug, Default)]
struct State {
    current: Option<Entry>,
    generation: u64,
    refused: Option<Refusal>,
    logins: u64,
    /// The gateway's newest `sessiontimestamp` and when its answer arrived (see
    /// [`SessionCache::gateway_time`]).
    clock: Option<ClockReading>,
}

/// One reading of the gateway's clock: its `sessiontimestamp` (or what was wrong with it) and
/// the local monotonic instant its answer arrived.
#[derive(Clone, Debug)]
struct ClockReading {
    time: std::result::Result<DateTime<FixedOffset>, String>,
    at: Instant,
}

/// The session cache of one client (one company and user).
#[derive(Debug)]
pub(crate) struct SessionCache {
    login_endpoint: Url,
    credentials: LoginCredentials,
    ttl: Duration,
    retry: RetryPolicy,
    transport: Transport,
    state: Mutex<State>,
    /// Held while logging in; shared by every cache of the company, so a refusal of the
    /// credentials is seen before another scope sends the same credentials again.
    login_flight: Arc<tokio::sync::Mutex<()>>,
    /// A refusal of the credentials, shared with every cache of the same company.
    credentials_refused: Arc<Mutex<Option<Refusal>>>,
}

impl SessionCache {
    pub(crate) fn new(
        login_endpoint: Url,
        credentials: LoginCredentials,
        ttl: Duration,
        retry: RetryPolicy,
        transport: Transport,
    ) -> SessionCache {
        SessionCache {
            login_endpoint,
            credentials,
            ttl,
            retry,
            transport,
            state: Mutex::new(State::default()),
            login_flight: Arc::new(tokio::sync::Mutex::new(())),
            credentials_refused: Arc::new(Mutex::new(None)),
        }
    }

    /// A cache of its own for the same user and company, scoped to `location_id` (an entity):
    /// it shares the transport, so the company's concurrency limit still binds.
    pub(crate) fn for_location(&self, location_id: &str) -> SessionCache {
        SessionCache {
            credentials_refused: self.credentials_refused.clone(),
            login_flight: self.login_flight.clone(),
            ..SessionCache::new(
                self.login_endpoint.clone(),
                LoginCredentials {
                    location_id: Some(location_id.to_owned()),
                    ..self.credentials.clone()
                },
                self.ttl,
                self.retry.clone(),
                self.transport.clone(),
            )
        }
    }

    /// A session valid for a while yet, logging in (once, for all waiting callers) if needed.
    /// A refusal of an entity-scoped login is [`Error::EntitySession`] naming the entity.
    pub(crate) async fn get(&self) -> Result<Arc<Session>> {
        self.get_unnamed().await.map_err(|error| {
            match (&self.credentials.location_id, error.is_retryable()) {
                (Some(entity), false) => Error::EntitySession {
                    entity: entity.clone(),
                    source: Box::new(error),
                },
                _ => error,
            }
        })
    }

    async fn get_unnamed(&self) -> Result<Arc<Session>> {
        if let Some(session) = self.valid_now()? {
            return Ok(session);
        }
        let _flight = self.login_flight.lock().await;
        if let Some(session) = self.valid_now()? {
            return Ok(session);
        }
        let started = Instant::now();
        match self.login().await {
            Ok((id, endpoint, auth)) => {
                let arrived = Instant::now();
                let mut state = self.lock();
                state.clock = Some(ClockReading {
                    time: auth.as_ref().map_or_else(
                        || Err("the login's answer carries no authentication block".to_owned()),
                        AuthenticationBlock::session_time,
                    ),
                    at: arrived,
                });
                state.generation += 1;
                state.logins += 1;
                let session = Arc::new(Session {
                    id,
                    endpoint,
                    generation: state.generation,
                });
                let expires_at = expiry(started, started, self.ttl, auth.as_ref());
                tracing::info!(
                    generation = state.generation,
                    valid_for_secs = expires_at.saturating_duration_since(started).as_secs(),
                    "API session opened"
                );
                state.current = Some(Entry {
                    session: session.clone(),
                    logged_in_at: started,
                    expires_at,
                });
                Ok(session)
            }
            Err(error) => {
                if let Some(refusal) = Refusal::of(&error) {
                    tracing::error!(error = %error, "Intacct refused the login; no further login this run");
                    if refusal.refuses_credentials() {
                        *self
                            .credentials_refused
                            .lock()
                            .unwrap_or_else(|p| p.into_inner()) = Some(refusal.clone());
                    }
                    self.lock().refused = Some(refusal);
                }
                Err(error)
            }
        }
    }

    /// Drops the session of `generation` if it is still the current one.
    pub(crate) fn invalidate(&self, generation: u64) {
        let mut state = self.lock();
        if state
            .current
            .as_ref()
            .is_some_and(|e| e.session.generation == generation)
        {
            tracing::info!(
                generation,
                "API session refused by the gateway; dropping it"
            );
            state.current = None;
        }
    }

    /// Slides the expiry of `generation` with a response's authentication block; `sent_at` is
    /// when that request was sent.
    pub(crate) fn observe(
        &self,
        generation: u64,
        sent_at: Instant,
        auth: Option<&AuthenticationBlock>,
    ) {
        let arrived = Instant::now();
        if let Some(time) = auth.and_then(|a| a.session_time().ok()) {
            self.lock().clock = Some(ClockReading {
                time: Ok(time),
                at: arrived,
            });
        }
        if auth.is_none_or(|a| a.session_timeout.is_none()) {
            return;
        }
        let mut state = self.lock();
        if let Some(entry) = state
            .current
            .as_mut()
            .filter(|e| e.session.generation == generation)
        {
            entry.expires_at = expiry(sent_at, entry.logged_in_at, self.ttl, auth);
        }
    }

    /// The gateway's time now, from its newest `sessiontimestamp` plus the time this
    /// machine's monotonic clock counted since that answer arrived (so never later than the
    /// gateway's own clock, which had moved on while the answer travelled); `None` before any
    /// login, `Err` when the login's answer carried no usable timestamp.
    pub(crate) fn gateway_time(&self) -> Option<std::result::Result<DateTime<Utc>, String>> {
        let reading = self.lock().clock.clone()?;
        Some(reading.time.map(|time| {
            let elapsed = chrono::Duration::from_std(reading.at.elapsed()).unwrap_or_default();
            time.to_utc() + elapsed
        }))
    }

    /// Logins that succeeded so far.
    pub(crate) fn logins(&self) -> u64 {
        self.lock().logins
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn valid_now(&self) -> Result<Option<Arc<Session>>> {
        if let Some(refusal) = self
            .credentials_refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            return Err(refusal.error());
        }
        let state = self.lock();
        if let Some(refusal) = &state.refused {
            return Err(refusal.error());
        }
        Ok(state
            .current
            .as_ref()
            .filter(|e| Instant::now() < e.expires_at)
            .map(|e| e.session.clone()))
    }

    async fn login(&self) -> Result<(Secret, Url, Option<AuthenticationBlock>)> {
        let mut retrier = Retrier::new(&self.retry, "getAPISession", &self.transport);
        loop {
            match self.login_once(retrier.attempt()).await {
                Ok(session) => return Ok(session),
                Err(error) => retrier.failed(error).await?,
            }
        }
    }

    async fn login_once(&self, attempt: u32) -> Result<(Secret, Url, Option<AuthenticationBlock>)> {
        let c = &self.credentials;
        let control_id = format!(
            "getAPISession-r{}-a{attempt}",
            self.transport.next_request_no()
        );
        let request = Request {
            control_id: control_id.clone(),
            unique_id: false,
            transaction: false,
            authentication: Authentication::Login {
                user_id: c.user_id.clone(),
                company_id: c.company_id.clone(),
                password: c.user_password.clone(),
                location_id: c.location_id.clone(),
            },
            functions: vec![Function {
                control_id: control_id.clone(),
                call: Call::GetApiSession {
                    location_id: c.location_id.clone(),
                },
            }],
        };
        let body = render_request(&request, &c.sender)?;
        tracing::debug!(controlid = %control_id, "logging in");
        let login = Charge::new(LOGIN_OBJECT, TransactionKind::Login);
        let response = self
            .transport
            .exchange(&self.login_endpoint, body, &login)
            .await?;
        let auth = response.authentication;
        let result = response
            .results
            .into_iter()
            .next()
            .ok_or_else(|| malformed("getAPISession response has no <result>".to_owned()))?;
        match result.outcome.map_err(Error::Intacct)? {
            ResultData::Session(api) => {
                let endpoint = if api.endpoint.trim().is_empty() {
                    self.login_endpoint.clone()
                } else {
                    Url::parse(api.endpoint.trim()).map_err(|e| {
                        malformed(format!("getAPISession endpoint is not a URL: {e}"))
                    })?
                };
                // The session id goes to this endpoint with every call: a gateway that names
                // a plain-http host elsewhere than loopback is not followed.
                if let Some(refusal) =
                    crate::endpoint::plain_http_refusal(&endpoint, "the session id")
                {
                    return Err(malformed(format!(
                        "getAPISession names the session endpoint {refusal}"
                    )));
                }
                Ok((api.session_id, endpoint, auth))
            }
            _ => Err(malformed(
                "getAPISession result carries no session".to_owned(),
            )),
        }
    }
}

fn malformed(detail: String) -> Error {
    Error::MalformedResponse {
        kind: MalformedKind::UnexpectedStructure,
        detail,
    }
}

/// When to stop using a session: `logged_in_at + ttl`, or earlier when the gateway's
/// remaining lifetime (measured from `sent_at`) minus a margin ends first.
fn expiry(
    sent_at: Instant,
    logged_in_at: Instant,
    ttl: Duration,
    auth: Option<&AuthenticationBlock>,
) -> Instant {
    let hard = logged_in_at + ttl;
    match auth.and_then(gateway_lifetime) {
        Some(lifetime) => hard.min(sent_at + lifetime - expiry_margin(lifetime)),
        None => hard,
    }
}

/// The margin kept before the gateway's timeout: a minute, or a quarter of a short lifetime
/// (so a session that lives for seconds, as in tests, is still usable).
fn expiry_margin(lifetime: Duration) -> Duration {
    MAX_EXPIRY_MARGIN.min(lifetime / 4)
}

/// `sessiontimeout − sessiontimestamp`; when the timestamp is missing, the timeout against
/// the local wall clock.
fn gateway_lifetime(auth: &AuthenticationBlock) -> Option<Duration> {
    let parse = |s: &str| DateTime::<FixedOffset>::parse_from_rfc3339(s.trim()).ok();
    let timeout = parse(auth.session_timeout.as_deref()?)?;
    let reference = match auth.session_time() {
        Ok(stamp) => stamp.to_utc(),
        Err(_) => Utc::now(),
    };
    (timeout.to_utc() - reference)
        .to_std()
        .ok()
        .or(Some(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(stamp: Option<&str>, timeout: Option<&str>) -> AuthenticationBlock {
        AuthenticationBlock {
            session_timestamp: stamp.map(str::to_owned),
            session_timeout: timeout.map(str::to_owned),
            ..AuthenticationBlock::default()
        }
    }

    #[test]
    fn lifetime_is_measured_on_the_gateway_clock() {
        // The SDK fixture: a 24 h session, offsets included.
        let a = auth(
            Some("2015-10-22T20:58:27-07:00"),
            Some("2015-10-23T20:58:27-07:00"),
        );
        assert_eq!(gateway_lifetime(&a), Some(Duration::from_secs(86_400)));
        // A timeout already past relative to its own timestamp is no lifetime at all.
        let past = auth(
            Some("2023-04-25T03:00:25+00:00"),
            Some("2023-04-25T00:50:25+00:00"),
        );
        assert_eq!(gateway_lifetime(&past), Some(Duration::ZERO));
        assert_eq!(gateway_lifetime(&auth(None, None)), None);
    }

    #[test]
    fn expiry_is_the_earlier_of_ttl_and_gateway_timeout_minus_margin() {
        let t0 = Instant::now();
        let ttl = Duration::from_secs(3_000);
        // 24 h gateway session: the 50-minute ttl wins.
        let long = auth(
            Some("2015-10-22T20:58:27-07:00"),
            Some("2015-10-23T20:58:27-07:00"),
        );
        assert_eq!(expiry(t0, t0, ttl, Some(&long)), t0 + ttl);
        // 30-minute gateway session: 30 min − 60 s.
        let short = auth(
            Some("2024-01-01T00:00:00+00:00"),
            Some("2024-01-01T00:30:00+00:00"),
        );
        assert_eq!(
            expiry(t0, t0, ttl, Some(&short)),
            t0 + Duration::from_secs(1_740)
        );
        // Sliding: a later response moves it, but never past login + ttl.
        let later = t0 + Duration::from_secs(2_000);
        assert_eq!(expiry(later, t0, ttl, Some(&short)), t0 + ttl);
        // No gateway information: the ttl alone.
        assert_eq!(expiry(t0, t0, ttl, None), t0 + ttl);
    }

    #[test]
    fn short_lifetimes_keep_a_proportional_margin() {
        assert_eq!(
            expiry_margin(Duration::from_secs(8)),
            Duration::from_secs(2)
        );
        assert_eq!(
            expiry_margin(Duration::from_secs(7_200)),
            Duration::from_secs(60)
        );
    }
}
