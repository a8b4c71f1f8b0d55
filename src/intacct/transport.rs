//! One HTTP exchange with the XML gateway: POST a rendered request, classify what comes back.
//!
//! Owns the per-company concurrency limit: a semaphore permit is held for exactly one HTTP
//! exchange (request sent, whole body read), never across a backoff sleep or a whole object
//! read, so every object and backfill window of a company shares the same
//! `max_concurrent_requests`.
//!
//! HTTP statuses, following the reference's decision order (§3.3, §3.5):
//! * 2xx → the body is parsed; control and authentication failures become
//!   [`Error::Intacct`], a malformed body [`Error::MalformedResponse`];
//! * 429 and 5xx → [`Error::HttpStatus`] with `Retry-After`, whatever the body says (the
//!   status and the header are what a retry needs);
//! * other 4xx with an XML body → the Intacct error inside it (e.g. 401 + `XMLGW_JPP0002`),
//!   otherwise [`Error::HttpStatus`].
//!
//! A body larger than [`PARSE_INLINE_MAX_BYTES`] is parsed on tokio's blocking pool: a
//! 2,000-record page takes tens of milliseconds to parse, which on an async worker would
//! stall every other exchange's I/O on that worker (and, with the simulator in the same
//! process, the gateway's own answers).
//!
//! Nothing here logs or returns a request body: it carries passwords or the session id.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use url::Url;

use crate::error::{Error, Result, Service, snippet};
use crate::intacct::parse::parse_response;
use crate::intacct::response::{ErrorLevel, Response};
use crate::retry::{RetryPolicy, backoff_delay, may_retry};

/// The HTTP side of the client: connection pool, timeout, concurrency limit.
#[derive(Clone, Debug)]
pub(crate) struct Transport {
    http: reqwest::Client,
    permits: Arc<Semaphore>,
}

impl Transport {
    /// A transport with a `timeout_secs` per exchange and `max_concurrent_requests` permits.
    pub(crate) fn new(timeout_secs: u64, max_concurrent_requests: usize) -> Result<Transport> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(timeout_secs))
            .gzip(true)
            .user_agent(concat!("intacct-snowflake/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| transport_error(&e))?;
        Ok(Transport {
            http,
            permits: Arc::new(Semaphore::new(max_concurrent_requests.max(1))),
        })
    }

    /// Sends one rendered request body to `endpoint` and classifies the answer.
    pub(crate) async fn exchange(&self, endpoint: &Url, body: String) -> Result<Response> {
        self.exchange_with_body(endpoint, body)
            .await
            .map(|(response, _)| response)
    }

    /// [`Transport::exchange`], also handing back the response body as received (a cheap
    /// reference-counted handle on the bytes already read), for callers that keep raw pages.
    pub(crate) async fn exchange_with_body(
        &self,
        endpoint: &Url,
        body: String,
    ) -> Result<(Response, Bytes)> {
        let (status, headers, bytes) = {
            let _permit = self
                .permits
                .acquire()
                .await
                .expect("the semaphore is never closed");
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
            (status, headers, bytes)
        };
        if bytes.len() <= PARSE_INLINE_MAX_BYTES {
            return classify(status, &headers, &bytes).map(|response| (response, bytes));
        }
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

/// Bodies up to this size are parsed on the calling task; larger ones on the blocking pool.
pub(super) const PARSE_INLINE_MAX_BYTES: usize = 64 * 1024;

/// The body and status of one exchange as a protocol outcome.
fn classify(status: u16, headers: &HeaderMap, body: &[u8]) -> Result<Response> {
    if (200..300).contains(&status) {
        return parse_response(body);
    }
    let http_error = || Error::HttpStatus {
        service: Service::Intacct,
        status,
        retry_after_secs: retry_after_secs(headers),
        detail: snippet(body, 200),
    };
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

/// True for an authentication-level Intacct failure: a refused login or a refused session.
pub(crate) fn is_authentication_failure(error: &Error) -> bool {
    matches!(error, Error::Intacct(f) if f.level == ErrorLevel::Authentication)
}

/// The retry loop of one request: counts attempts, decides and sleeps between them.
///
/// Usage: send attempt [`Retrier::attempt`]; on failure, `retrier.failed(error).await?`
/// either sleeps the policy's backoff (then send again) or hands the error back for good.
/// Authentication-level failures are never retried here: the session layer decides.
#[derive(Debug)]
pub(crate) struct Retrier<'a> {
    policy: &'a RetryPolicy,
    what: &'a str,
    started: Instant,
    attempt: u32,
}

impl<'a> Retrier<'a> {
    pub(crate) fn new(policy: &'a RetryPolicy, what: &'a str) -> Retrier<'a> {
        Retrier {
            policy,
            what,
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
        let what = self.what;
        let attempt = self.attempt;
        if !is_retryable_read(&error) || is_authentication_failure(&error) {
            return Err(error);
        }
        let retry_after = error.retry_after_secs().map(Duration::from_secs);
        let delay = backoff_delay(self.policy, attempt, rand::random::<f64>(), retry_after);
        if !may_retry(self.policy, attempt, self.started.elapsed(), delay) {
            tracing::warn!(what, attempts = attempt, error = %error, "giving up after retries");
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
