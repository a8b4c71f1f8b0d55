//! One HTTP exchange with the XML gateway: POST a rendered request, classify what comes back.
//!
//! Owns what every request of a company passes through, shared by every object, window and
//! entity of the run (every clone of the client and every entity's client share one
//! [`Transport`]):
//! * the company's request slots (`super::slots`): a slot is held for exactly one HTTP
//!   exchange (request sent, whole body read), never across a backoff sleep or a whole object
//!   read, and each exchange tells the slots what its answer says of the company's load
//!   (a concurrency refusal at any level, a timeout or a 524 steps the level down; clean
//!   answers creep it back up);
//! * the run's transactions (`super::ledger`): every request is charged before it is sent,
//!   and the budget, when spent, stops it unsent with [`Error::TransactionBudget`];
//! * the request sequence that makes every controlid unique ([`Transport::next_request_no`]);
//! * the maintenance latch: once a request gave up on the gateway's maintenance answer
//!   ([`Error::IntacctUnavailable`]), every later request of the run fails with it at once,
//!   unsent, so a run that meets the weekly maintenance window stops instead of retrying each
//!   object in turn.
//!
//! HTTP statuses, following the reference's decision order (§3.3, §3.5):
//! * 2xx → the body is parsed; control and authentication failures become
//!   [`Error::Intacct`], a malformed body [`Error::MalformedResponse`], the maintenance answer
//!   [`Error::IntacctUnavailable`];
//! * 429 and 5xx → [`Error::HttpStatus`] with `Retry-After`, whatever the body says (the
//!   status and the header are what a retry needs), except a maintenance answer (an Intacct
//!   failure saying so, or a page whose text does), which is [`Error::IntacctUnavailable`];
//! * other 4xx with an XML body → the Intacct error inside it (e.g. 401 + `XMLGW_JPP0002`),
//!   otherwise [`Error::HttpStatus`].
//!
//! A body larger than [`PARSE_INLINE_MAX_BYTES`] is parsed on tokio's blocking pool: a
//! 2,000-record page takes tens of milliseconds to parse, which on an async worker would
//! stall every other exchange's I/O on that worker (and, with the simulator in the same
//! process, the gateway's own answers).
//!
//! Nothing here logs or returns a request body: it carries passwords or the session id.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use tokio::time::Instant;
use url::Url;

use crate::error::{Error, Result, Service, snippet};
use crate::intacct::codes::{self, FailureClass};
use crate::intacct::ledger::{Charge, Ledger, TransactionUsage};
use crate::intacct::parse::parse_response;
use crate::intacct::response::{ErrorLevel, IntacctFailure, Response};
use crate::intacct::slots::{ConcurrencyUsage, Signal, Slots};
use crate::retry::{RetryPolicy, backoff_delay, may_retry};

/// The maintenance answer a request gave up on: what it said, and its `Retry-After`.
type Offline = (String, Option<u64>);

/// The HTTP side of the client: connection pool, timeout, the company's slots, the run's
/// transactions and request sequence.
#[derive(Clone, Debug)]
pub(crate) struct Transport {
    http: reqwest::Client,
    slots: Arc<Slots>,
    ledger: Arc<Ledger>,
    sequence: Arc<AtomicU64>,
    /// The maintenance answer a request gave up on: every later request fails with it.
    unavailable: Arc<Mutex<Option<Offline>>>,
}

impl Transport {
    /// A transport with a `timeout_secs` per exchange, at most `max_concurrent_requests` in
    /// flight and at most `max_transactions` requests sent (`None`: no limit).
    pub(crate) fn new(
        timeout_secs: u64,
        max_concurrent_requests: usize,
        max_transactions: Option<u64>,
    ) -> Result<Transport> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(timeout_secs))
            .gzip(true)
            .user_agent(concat!("intacct-snowflake/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| transport_error(&e))?;
        Ok(Transport {
            http,
            slots: Slots::new(max_concurrent_requests),
            ledger: Arc::new(Ledger::new(max_transactions)),
            sequence: Arc::new(AtomicU64::new(0)),
            unavailable: Arc::new(Mutex::new(None)),
        })
    }

    /// The next number of the run's request sequence (1, 2, …), for controlids.
    pub(crate) fn next_request_no(&self) -> u64 {
        self.sequence.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The run's transactions so far.
    pub(crate) fn transactions(&self) -> TransactionUsage {
        self.ledger.usage()
    }

    /// The slots' levels and signals so far.
    pub(crate) fn concurrency(&self) -> ConcurrencyUsage {
        self.slots.usage()
    }

    /// The maintenance answer that stopped the run, when one did.
    pub(crate) fn unavailable(&self) -> Option<Error> {
        self.lock_unavailable()
            .as_ref()
            .map(|(detail, retry_after_secs)| Error::IntacctUnavailable {
                detail: detail.clone(),
                retry_after_secs: *retry_after_secs,
            })
    }

    fn lock_unavailable(&self) -> std::sync::MutexGuard<'_, Option<Offline>> {
        self.unavailable.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records that a request gave up on `error`; a maintenance answer stops the run's later
    /// requests.
    fn gave_up(&self, error: &Error) {
        if let Error::IntacctUnavailable {
            detail,
            retry_after_secs,
        } = error
        {
            let mut latch = self.lock_unavailable();
            if latch.is_none() {
                tracing::error!(error = %error, "Intacct is offline: no further request this run");
                *latch = Some((detail.clone(), *retry_after_secs));
            }
        }
    }

    /// Sends one rendered request body to `endpoint`, charged as `charge`, and classifies
    /// the answer.
    pub(crate) async fn exchange(
        &self,
        endpoint: &Url,
        body: String,
        charge: &Charge,
    ) -> Result<Response> {
        self.exchange_with_body(endpoint, body, charge)
            .await
            .map(|(response, _)| response)
    }

    /// [`Transport::exchange`], also handing back the response body as received (a cheap
    /// reference-counted handle on the bytes already read), for callers that keep raw pages.
    pub(crate) async fn exchange_with_body(
        &self,
        endpoint: &Url,
        body: String,
        charge: &Charge,
    ) -> Result<(Response, Bytes)> {
        if let Some(stopped) = self.unavailable() {
            return Err(stopped);
        }
        let slot = self.slots.acquire().await;
        // Checked again: the run may have stopped while this request waited for its slot.
        if let Some(stopped) = self.unavailable() {
            slot.release(Signal::Neutral);
            return Err(stopped);
        }
        if let Err(e) = self.ledger.charge(charge) {
            slot.release(Signal::Neutral);
            return Err(e);
        }
        let sent = async {
            let response = self
                .http
                .post(endpoint.clone())
                .header(CONTENT_TYPE, "application/xml")
                .body(body)
                .send()
                .await
                .map_err(|e| transport_error(&e))?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let bytes = crate::http_body::read_capped(
                response,
                crate::http_body::INTACCT_MAX_BODY_BYTES,
                Service::Intacct,
                |e| transport_error(&e),
            )
            .await?;
            Ok::<_, Error>((status, headers, bytes))
        }
        .await;
        let (status, headers, bytes) = match sent {
            Ok(answer) => answer,
            Err(e) => {
                slot.release(match &e {
                    Error::Transport { timeout: true, .. } => Signal::TimedOut,
                    _ => Signal::Neutral,
                });
                return Err(e);
            }
        };
        if bytes.len() <= PARSE_INLINE_MAX_BYTES {
            let outcome = classify(status, &headers, &bytes);
            slot.release(signal(status, &bytes, &outcome));
            return outcome.map(|response| (response, bytes));
        }
        // A body this large is records, never a refusal.
        slot.release(if (200..300).contains(&status) {
            Signal::Clean
        } else {
            Signal::Neutral
        });
        tokio::task::spawn_blocking(move || {
            classify(status, &headers, &bytes).map(|response| (response, bytes))
        })
        .await
        .unwrap_or_else(|e| match e.try_into_panic() {
            // A parser panic is a bug: surface it as if the parse had run inline.
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => Err(Error::Transport {
                service: Service::Intacct,
                message: format!("response parsing was cancelled: {e}"),
                timeout: false,
            }),
        })
    }
}

/// What an answer says of the company's load.
fn signal(status: u16, body: &[u8], outcome: &Result<Response>) -> Signal {
    let refused = |f: &IntacctFailure| codes::classify(f) == FailureClass::ConcurrencyLimit;
    match outcome {
        Ok(response) => {
            if response
                .results
                .iter()
                .any(|r| r.outcome.as_ref().is_err_and(refused))
            {
                Signal::Refused
            } else {
                Signal::Clean
            }
        }
        Err(Error::Intacct(failure)) if refused(failure) => Signal::Refused,
        Err(Error::HttpStatus { status: 524, .. }) => Signal::TimedOut,
        Err(Error::HttpStatus { status: 429, .. }) => {
            match parse_response(body) {
                Err(Error::Intacct(failure)) if refused(&failure) => Signal::Refused,
                // A rate limit: the backoff answers it, the slots need not.
                _ => Signal::Neutral,
            }
        }
        Err(_) if (200..300).contains(&status) => Signal::Clean,
        Err(_) => Signal::Neutral,
    }
}

/// Bodies up to this size are parsed on the calling task; larger ones on the blocking pool.
pub(super) const PARSE_INLINE_MAX_BYTES: usize = 64 * 1024;

/// The body and status of one exchange as a protocol outcome.
fn classify(status: u16, headers: &HeaderMap, body: &[u8]) -> Result<Response> {
    let unavailable = |detail: String| Error::IntacctUnavailable {
        detail,
        retry_after_secs: retry_after_secs(headers),
    };
    if (200..300).contains(&status) {
        return parse_response(body).map_err(|e| match e {
            Error::Intacct(f) if codes::classify(&f) == FailureClass::Unavailable => {
                unavailable(Error::Intacct(f).to_string())
            }
            other => other,
        });
    }
    let http_error = || Error::HttpStatus {
        service: Service::Intacct,
        status,
        retry_after_secs: retry_after_secs(headers),
        detail: snippet(body, 200),
    };
    if status >= 500 {
        if looks_like_xml(headers, body)
            && let Err(Error::Intacct(f)) = parse_response(body)
            && codes::classify(&f) == FailureClass::Unavailable
        {
            return Err(unavailable(format!("HTTP {status}: {}", Error::Intacct(f))));
        }
        if codes::is_maintenance_text(&snippet(body, 2_000)) {
            return Err(unavailable(format!(
                "HTTP {status}: {}",
                snippet(body, 200)
            )));
        }
    }
    if status == 429 || status >= 500 {
        return Err(http_error());
    }
    if (400..500).contains(&status) && looks_like_xml(headers, body) {
        return match parse_response(body) {
            Err(Error::Intacct(failure)) => Err(Error::Intacct(failure)),
            _ => Err(http_error()),
        };
    }
    Err(http_error())
}

fn looks_like_xml(headers: &HeaderMap, body: &[u8]) -> bool {
    let declared = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("xml"));
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| &body[i..])
        .unwrap_or_default();
    declared || start.starts_with(b"<?xml") || start.starts_with(b"<response")
}

/// `Retry-After` as delta-seconds; an HTTP-date is ignored (the backoff still applies).
fn retry_after_secs(headers: &HeaderMap) -> Option<u64> {
    headers.get(RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()
}

fn transport_error(e: &reqwest::Error) -> Error {
    // The endpoint URL carries no secret, but the message is kept to the cause chain anyway.
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    Error::Transport {
        service: Service::Intacct,
        message,
        timeout: e.is_timeout(),
    }
}

/// Whether a failed read may be sent again. Everything [`Error::is_retryable`] allows, plus
/// HTTP 524 (a CDN cut the connection while the origin kept working): the official SDKs do
/// not retry 524 because a *write* may have happened, but every function this client sends
/// is a read, so running it twice is harmless. Likewise Cloudflare's other origin errors,
/// 520–523 and 525–527 (unknown error, origin down, connection timed out, origin
/// unreachable, TLS handshake failed, invalid certificate, Railgun error), which the gateway's
/// CDN answers in front of a busy or restarting origin: transient, like a 5xx.
pub(crate) fn is_retryable_read(error: &Error) -> bool {
    error.is_retryable()
        || matches!(
            error,
            Error::HttpStatus {
                service: Service::Intacct,
                status: 520..=527,
                ..
            }
        )
}

/// True for a refused session or login (an authentication-level failure that is not a
/// concurrency refusal or the maintenance answer): the session layer decides, never a retry of
/// the same request.
pub(crate) fn is_session_refusal(error: &Error) -> bool {
    matches!(error, Error::Intacct(f)
        if f.level == ErrorLevel::Authentication
            && codes::classify(f) == FailureClass::SessionRefused)
}

/// A failure that a smaller page may avoid: a timeout, the CDN's 524 (the origin took too
/// long) or Intacct's DL02000001 (a query that ran out of time).
pub(crate) fn is_page_too_big(error: &Error) -> bool {
    match error {
        Error::Transport { timeout, .. } => *timeout,
        Error::HttpStatus { status: 524, .. } => true,
        Error::Intacct(f) => f.errors.iter().any(|e| e.errorno == "DL02000001"),
        _ => false,
    }
}

/// The retry loop of one request: counts attempts, decides and sleeps between them.
///
/// Usage: send attempt [`Retrier::attempt`]; on failure, `retrier.failed(error).await?`
/// either sleeps the policy's backoff (then send again) or hands the error back for good.
/// Refused sessions are not retried by [`Retrier::failed`]: the session layer decides, and
/// hands a session refused again right after a new login to [`Retrier::failed_session`],
/// which retries it within the same budget. Once the run met the maintenance answer for good,
/// nothing is retried.
#[derive(Debug)]
pub(crate) struct Retrier<'a> {
    policy: &'a RetryPolicy,
    what: &'a str,
    transport: &'a Transport,
    started: Instant,
    attempt: u32,
}

impl<'a> Retrier<'a> {
    pub(crate) fn new(
        policy: &'a RetryPolicy,
        what: &'a str,
        transport: &'a Transport,
    ) -> Retrier<'a> {
        Retrier {
            policy,
            what,
            transport,
            started: Instant::now(),
            attempt: 1,
        }
    }

    /// The current attempt, 1-based.
    pub(crate) fn attempt(&self) -> u32 {
        self.attempt
    }

    /// After a failed attempt: `Ok(())` once the backoff has been slept and another attempt
    /// may go, or the error when it is permanent or the budget is spent.
    pub(crate) async fn failed(&mut self, error: Error) -> Result<()> {
        let retryable = is_retryable_read(&error) && !is_session_refusal(&error);
        self.decide(error, retryable).await
    }

    /// After a session refused again right after a new login (sessions can be invalidated on
    /// Sage's side at any time): retried like a transient failure, within the same budget.
    pub(crate) async fn failed_session(&mut self, error: Error) -> Result<()> {
        self.decide(error, true).await
    }

    /// Waits before a smaller page is asked for after `error` (a page that timed out may
    /// still run at Sage: the same heavy page is never resent at once). Counts no attempt.
    pub(crate) async fn pause(&self, error: &Error) {
        let delay = backoff_delay(self.policy, self.attempt, rand::random::<f64>(), None)
            .max(Duration::from_millis(self.policy.initial_backoff_ms));
        tracing::info!(what = self.what, delay_ms = delay.as_millis() as u64, error = %error, "page timed out; waiting before a smaller one");
        tokio::time::sleep(delay).await;
    }

    async fn decide(&mut self, error: Error, retryable: bool) -> Result<()> {
        let what = self.what;
        let attempt = self.attempt;
        if !retryable || self.transport.unavailable().is_some() {
            self.transport.gave_up(&error);
            return Err(error);
        }
        let retry_after = error.retry_after_secs().map(Duration::from_secs);
        let delay = backoff_delay(self.policy, attempt, rand::random::<f64>(), retry_after);
        if !may_retry(self.policy, attempt, self.started.elapsed(), delay) {
            tracing::warn!(what, attempts = attempt, error = %error, "giving up after retries");
            self.transport.gave_up(&error);
            return Err(error);
        }
        tracing::info!(
            what,
            attempt,
            delay_ms = delay.as_millis() as u64,
            error = %error,
            "request failed; retrying"
        );
        tokio::time::sleep(delay).await;
        self.attempt += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_reads_delta_seconds_only() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after_secs(&h), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static(" 7 "));
        assert_eq!(retry_after_secs(&h), Some(7));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after_secs(&h), None);
    }

    #[test]
    fn rate_limit_and_server_errors_keep_status_and_retry_after() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        let body = b"<response><control><status>failure</status></control></response>";
        match classify(429, &h, body) {
            Err(e @ Error::HttpStatus { status: 429, .. }) => {
                assert!(is_retryable_read(&e));
                assert_eq!(e.retry_after_secs(), Some(2));
            }
            other => panic!("unexpected {other:?}"),
        }
        for status in [500, 502, 503, 504, 520, 521, 522, 523, 524, 525, 526, 527] {
            let e = classify(status, &HeaderMap::new(), b"").unwrap_err();
            assert!(is_retryable_read(&e), "{status} should be retried");
        }
    }

    const OFFLINE: &[u8] = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><response><control><status>failure</status></control><errormessage><error><errorno>GW-0003</errorno><description>The Service is Temporarily Off-line, [Support ID: x]</description></error></errormessage></response>";

    fn refusal_at(level: &str) -> Vec<u8> {
        let error = "<errormessage><error><errorno>200024</errorno><description></description><description2>There are too many operations running for this company (200024)</description2><correction></correction></error></errormessage>";
        let control_ok = "<control><status>success</status><senderid>s</senderid><controlid>c</controlid><uniqueid>false</uniqueid><dtdversion>3.0</dtdversion></control>";
        let auth = |status: &str| {
            format!(
                "<authentication><status>{status}</status><userid>u</userid><companyid>c</companyid><locationid></locationid></authentication>"
            )
        };
        match level {
            "control" => format!("<response><control><status>failure</status><senderid>s</senderid><controlid>c</controlid></control>{error}</response>"),
            "operation" => format!("<response>{control_ok}<operation>{}{error}</operation></response>", auth("success")),
            _ => format!("<response>{control_ok}<operation>{}<result><status>failure</status><function>query</function><controlid>f</controlid>{error}</result></operation></response>", auth("success")),
        }
        .into_bytes()
    }

    #[test]
    fn the_maintenance_answer_is_unavailable_whatever_its_status() {
        for status in [200, 503] {
            let e = classify(status, &HeaderMap::new(), OFFLINE).unwrap_err();
            assert!(
                matches!(e, Error::IntacctUnavailable { .. }),
                "{status}: {e:?}"
            );
            assert_eq!(e.exit_code(), 4);
            assert!(is_retryable_read(&e));
            assert!(e.to_string().contains("try again"), "{e}");
        }
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("1800"));
        let page = b"<html><body><h1>Down for scheduled maintenance</h1></body></html>";
        match classify(503, &h, page) {
            Err(Error::IntacctUnavailable {
                retry_after_secs: Some(1800),
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
        // A plain 503 is an outage to retry, not the maintenance answer.
        assert!(matches!(
            classify(503, &HeaderMap::new(), b""),
            Err(Error::HttpStatus { status: 503, .. })
        ));
    }

    #[test]
    fn a_concurrency_refusal_at_any_level_steps_the_slots_down() {
        for level in ["control", "operation", "result"] {
            let body = refusal_at(level);
            let outcome = classify(200, &HeaderMap::new(), &body);
            assert_eq!(signal(200, &body, &outcome), Signal::Refused, "{level}");
            if level != "result" {
                let e = outcome.unwrap_err();
                assert!(is_retryable_read(&e), "{level}: {e}");
                assert!(!is_session_refusal(&e), "{level}: {e}");
            }
        }
        let concurrent = br#"<response><control><status>failure</status></control><errormessage><error><errorno>GW-0010</errorno><description>Too many concurrent requests for company c.</description></error></errormessage></response>"#;
        let outcome = classify(429, &HeaderMap::new(), concurrent);
        assert_eq!(signal(429, concurrent, &outcome), Signal::Refused);
        let rate = br#"<response><control><status>failure</status></control><errormessage><error><errorno>GW-0010</errorno><description>Too many requests in a short period of time.</description></error></errormessage></response>"#;
        let outcome = classify(429, &HeaderMap::new(), rate);
        assert_eq!(signal(429, rate, &outcome), Signal::Neutral);
        let outcome = classify(524, &HeaderMap::new(), b"");
        assert_eq!(signal(524, b"", &outcome), Signal::TimedOut);
        let outcome = classify(502, &HeaderMap::new(), b"<html>bad gateway</html>");
        assert_eq!(signal(502, b"", &outcome), Signal::Neutral);
    }

    #[test]
    fn client_errors_without_xml_are_not_retried() {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        let e = classify(403, &h, b"forbidden").unwrap_err();
        assert!(matches!(e, Error::HttpStatus { status: 403, .. }));
        assert!(!is_retryable_read(&e));
    }

    #[test]
    fn xml_sniffing_ignores_leading_whitespace() {
        let h = HeaderMap::new();
        assert!(looks_like_xml(
            &h,
            b"\n  <?xml version=\"1.0\"?><response/>"
        ));
        assert!(!looks_like_xml(&h, b"<html><body>502</body></html>"));
    }
}
