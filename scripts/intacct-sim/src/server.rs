//! HTTP side of the simulator: the gateway endpoint, fault injection, the company's request
//! slots, latency, and a listener whose connections can be reset on purpose.
//!
//! `POST /ia/xml/xmlgw.phtml` answers `text/xml; encoding="UTF-8"`. Order of checks per
//! request: count it; parse (malformed → control failure `XL03000003` with a Support ID);
//! record its function controlids; decide injected faults (transport faults answer at once);
//! check the sender; admit it to one of the company's slots (over the limit: held, then
//! refused with `200024`; see `crate::slots`); authenticate and execute on a blocking thread;
//! answer no sooner than `latency_ms` per page of records after admission (the execution is
//! part of that time, as on a real gateway); send. A request whose client goes away before the
//! answer keeps its slot until its work would have ended; one the CDN cuts (`http524`) keeps
//! it for the detached time.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use intacct_snowflake::intacct::{Authentication, Call};
use intacct_snowflake::{Error, Result};

use crate::admin;
use crate::config::SimConfig;
use crate::faults::{FaultKind, FaultPlan, FunctionTag, Target};
use crate::gateway::{ExecOptions, Gateway};
use crate::request_parse::{ParsedRequest, parse_request};
use crate::response_write::{self, ControlEcho, error};
use crate::state::{AppState, lock};

/// The gateway path.
pub(super) const GATEWAY_PATH: &str = "/ia/xml/xmlgw.phtml";

const XML_CONTENT_TYPE: &str = "text/xml; encoding=\"UTF-8\"";

/// Identifies a connection so a handler can reset it.
#[derive(Clone, Debug)]
pub(super) struct ConnTag {
    kill: Arc<AtomicBool>,
}

/// A TCP listener whose streams fail (and close with RST) once their tag is killed.
#[derive(Debug)]
struct SimListener {
    inner: TcpListener,
}

/// A TCP stream that can be made to fail.
#[derive(Debug)]
struct SimStream {
    inner: TcpStream,
    kill: Arc<AtomicBool>,
}

impl SimStream {
    fn killed(&self) -> Option<io::Error> {
        if self.kill.load(Ordering::SeqCst) {
            // Zero linger turns the close into a reset.
            let _ = self.inner.set_zero_linger();
            Some(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "reset fault",
            ))
        } else {
            None
        }
    }
}

impl AsyncRead for SimStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(e) = self.killed() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for SimStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Some(e) = self.killed() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = self.killed() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl Listener for SimListener {
    type Io = SimStream;
    type Addr = ConnTag;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let kill = Arc::new(AtomicBool::new(false));
                    return (
                        SimStream {
                            inner: stream,
                            kill: kill.clone(),
                        },
                        ConnTag { kill },
                    );
                }
                Err(e) => {
                    tracing::warn!(error = %e, "simulator accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr().map(|_| ConnTag {
            kill: Arc::new(AtomicBool::new(false)),
        })
    }
}

impl Connected<IncomingStream<'_, SimListener>> for ConnTag {
    fn connect_info(stream: IncomingStream<'_, SimListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// Serves the simulator on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    config: SimConfig,
) -> Result<()> {
    serve_when_ready(listener, shutdown, config, |_| {}).await
}

/// [`serve`], calling `ready` with the address once the dataset is built and requests are
/// answered at once.
pub(super) async fn serve_when_ready(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    config: SimConfig,
    ready: impl FnOnce(SocketAddr) + Send + 'static,
) -> Result<()> {
    let addr: SocketAddr = listener.local_addr().map_err(|source| Error::Io {
        path: "simulator listener".into(),
        source,
    })?;
    let faults =
        FaultPlan::parse(&config.faults, config.dataset.seed).map_err(|message| Error::Config {
            location: "--faults".into(),
            message,
        })?;
    let endpoint = config
        .advertised_endpoint
        .clone()
        .unwrap_or_else(|| format!("http://{addr}{GATEWAY_PATH}"));
    let gateway = tokio::task::spawn_blocking(move || Arc::new(Gateway::new(config, endpoint)))
        .await
        .map_err(|e| Error::Io {
            path: format!("simulator on {addr}"),
            source: io::Error::other(e.to_string()),
        })?;
    let state = Arc::new(AppState::new(gateway, faults));
    let co_tenant = state.gateway.config.co_tenant.map(|co_tenant| {
        state
            .slots
            .spawn_co_tenant(&state.gateway.config.credentials.company_id, co_tenant)
    });
    let app = Router::new()
        .route(GATEWAY_PATH, post(gateway_endpoint))
        .nest("/__sim", admin::routes())
        .with_state(state);
    ready(addr);
    let served = axum::serve(
        SimListener { inner: listener },
        app.into_make_service_with_connect_info::<ConnTag>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(|source| Error::Io {
        path: format!("simulator on {addr}"),
        source,
    });
    if let Some(co_tenant) = co_tenant {
        co_tenant.abort();
    }
    served
}

fn xml(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(XML_CONTENT_TYPE),
        )],
        body,
    )
        .into_response()
}

fn support_id() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("[Support ID: {}%7E{}]", &id[..12], &id[12..24])
}

fn request_id() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
    format!(
        "[Request ID: {}:{}_{}.{}]",
        &id[..8],
        &id[8..12],
        &id[12..20],
        &id[20..22]
    )
}

/// HTTP 429 with a gateway body.
fn too_many(description: &str) -> Response {
    let mut response = xml(
        StatusCode::TOO_MANY_REQUESTS,
        response_write::gateway_error("GW-0010", &format!("{description} {}", request_id())),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

fn rate_limited() -> Response {
    too_many("Too many requests in a short period of time. Please try again later.")
}

/// The over-limit answer (see `crate::slots`), counted.
fn concurrency_refused(gateway: &Gateway, request: &ParsedRequest) -> Response {
    let nth = {
        let mut counters = lock(&gateway.counters);
        counters.refusals += 1;
        counters.refusals
    };
    gateway.count_fault("concurrency");
    xml(
        StatusCode::OK,
        gateway.concurrency_refusal(request, gateway.config.refusal_level, nth),
    )
}

/// The maintenance answer (a guess at its shape: see `crate::faults`).
fn maintenance() -> Response {
    xml(
        StatusCode::SERVICE_UNAVAILABLE,
        response_write::gateway_error(
            "GW-0001",
            &format!("The Service is Temporarily Off-line, {}", support_id()),
        ),
    )
}

fn http_fault(code: u16) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match code {
        401 => xml(
            status,
            response_write::gateway_error(
                "XMLGW_JPP0002",
                "Sign-in information is incorrect. Please check your request.",
            ),
        ),
        502 => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=UTF-8"),
            )],
            "<!DOCTYPE html>\n<html><head><title>api.intacct.com | 502: Bad gateway</title></head>\
             <body><div id=\"cf-error-details\" class=\"cf-error-details-wrapper\">\
             <h1>Bad gateway</h1><p>Error code 502</p></div></body></html>\n",
        )
            .into_response(),
        _ => (status, Body::empty()).into_response(),
    }
}

/// What a request's functions are, for fault targeting.
fn function_tags(request: &ParsedRequest) -> Vec<FunctionTag> {
    request
        .functions
        .iter()
        .map(|f| FunctionTag {
            name: f.name.clone(),
            object: match &f.call {
                Ok(Call::Query(q)) => Some(q.object.clone()),
                Ok(Call::ReadByQuery(r)) => Some(r.object.clone()),
                Ok(Call::Read { object, .. })
                | Ok(Call::Lookup { object })
                | Ok(Call::Inspect { object, .. }) => Some(object.clone()),
                _ => None,
            },
        })
        .collect()
}

fn targets(target: &Target, tag: &FunctionTag) -> bool {
    match target {
        Target::Any => true,
        Target::Function(name) => tag.name.eq_ignore_ascii_case(name),
        Target::Object(object) => tag
            .object
            .as_deref()
            .is_some_and(|o| o.eq_ignore_ascii_case(object)),
    }
}

async fn gateway_endpoint(
    State(state): State<Arc<AppState>>,
    ConnectInfo(conn): ConnectInfo<ConnTag>,
    body: Bytes,
) -> Response {
    let gateway = state.gateway.clone();
    lock(&gateway.counters).requests += 1;
    let text = String::from_utf8_lossy(&body);
    let request = match parse_request(&text) {
        Ok(r) => r,
        Err(schema) => {
            let body = response_write::control_failure(
                &ControlEcho::default(),
                &[error(
                    "XL03000003",
                    &format!("{} {}", schema.0, support_id()),
                )],
                true,
            );
            return xml(StatusCode::OK, body);
        }
    };

    gateway.record_control_ids(&request);
    let tags = function_tags(&request);
    let fired = lock(&state.faults).decide(&tags);
    let mut options = ExecOptions::default();
    let mut fail_results = HashMap::new();
    let mut truncate = None;
    let mut session_expiry = false;
    let mut auth_error = None;
    let mut slow_ms = 0u64;
    let mut cut = false;
    for (kind, target) in &fired {
        if *kind != FaultKind::Concurrency {
            gateway.count_fault(&kind.name());
        }
        match kind {
            FaultKind::Reset => {
                conn.kill.store(true, Ordering::SeqCst);
                return (StatusCode::OK, Body::empty()).into_response();
            }
            FaultKind::Http(524) => cut = true,
            FaultKind::Http(code) => return http_fault(*code),
            FaultKind::RateLimit => return rate_limited(),
            FaultKind::Maintenance => return maintenance(),
            FaultKind::Concurrency => return concurrency_refused(&gateway, &request),
            FaultKind::ControlError(errorno) => {
                return xml(
                    StatusCode::OK,
                    response_write::control_failure(
                        &Gateway::control_echo(&request),
                        &[error(errorno, "Injected control-level failure.")],
                        request.include_whitespace,
                    ),
                );
            }
            FaultKind::Slow(ms) => slow_ms += ms,
            FaultKind::AuthError(errorno) => auth_error = Some(errorno.clone()),
            FaultKind::SessionExpiry => session_expiry = true,
            FaultKind::ExpireResultId => options.expire_result_ids = true,
            FaultKind::ResultError(errorno) => {
                for (index, tag) in tags.iter().enumerate() {
                    if targets(target, tag) {
                        fail_results.insert(index, errorno.clone());
                    }
                }
            }
            FaultKind::Truncate | FaultKind::TruncateXml => truncate = Some(kind.clone()),
        }
    }

    if !gateway.sender_ok(&request) {
        return xml(StatusCode::OK, Gateway::bad_sender(&request));
    }
    let company = gateway
        .company_of(&request)
        .unwrap_or_else(|| gateway.config.credentials.company_id.clone());
    let Some(mut slot) = state.slots.admit(&company).await else {
        return concurrency_refused(&gateway, &request);
    };
    lock(&gateway.counters).max_in_flight = state.slots.max_in_flight();
    if cut {
        // The CDN gives up on the request; the origin goes on running it in its slot.
        slot.cut();
        return http_fault(524);
    }
    // If the client goes away, the work goes on (a page's latency at least) in its slot.
    slot.runs_until(
        tokio::time::Instant::now() + Duration::from_millis(slow_ms + gateway.config.latency_ms),
    );
    // A slow response holds its concurrency slot, as on the real gateway.
    if slow_ms > 0 {
        tokio::time::sleep(Duration::from_millis(slow_ms)).await;
    }
    // A slow fault adds to the latency rather than being absorbed by it.
    let admitted = tokio::time::Instant::now();
    if session_expiry && let Authentication::Session(id) = &request.request.authentication {
        gateway.expire_session(id.expose());
    }
    if let Some(errorno) = auth_error {
        let body = gateway.auth_failure(&request, &errorno, "Injected authentication failure.");
        slot.answered();
        return xml(StatusCode::OK, body);
    }

    let worker = gateway.clone();
    let executed =
        tokio::task::spawn_blocking(move || worker.execute(&request, &options, &fail_results))
            .await;
    let executed = match executed {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(error = %e, "simulator request panicked");
            slot.answered();
            return (StatusCode::INTERNAL_SERVER_ERROR, Body::empty()).into_response();
        }
    };
    let latency = gateway.config.latency_ms.saturating_mul(executed.pages);
    slot.runs_until(admitted + Duration::from_millis(latency));
    if latency > 0 {
        tokio::time::sleep_until(admitted + Duration::from_millis(latency)).await;
    }
    // Answered: the slot comes free as the handler returns (a handler dropped before this
    // point, its client gone, leaves the slot busy until the work would have ended).
    slot.answered();
    match truncate {
        Some(FaultKind::Truncate) => truncated_transfer(executed.body),
        Some(_) => {
            let mut body = executed.body;
            let mut cut = body.len() / 2;
            while !body.is_char_boundary(cut) {
                cut -= 1;
            }
            body.truncate(cut);
            xml(StatusCode::OK, body)
        }
        None => xml(StatusCode::OK, executed.body),
    }
}

/// Sends half the body under a Content-Length for all of it, then fails the stream so the
/// connection closes mid-body.
fn truncated_transfer(body: String) -> Response {
    let full = body.len();
    let half = Bytes::from(body.into_bytes()).slice(..full / 2);
    // The pause lets the head and the first half reach the client before the abort.
    let abort = futures::stream::once(async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        Err::<Bytes, _>(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "truncate fault",
        ))
    });
    let stream = futures::StreamExt::chain(futures::stream::iter([Ok(half)]), abort);
    let mut response = Response::new(Body::from_stream(stream));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(XML_CONTENT_TYPE),
    );
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(full));
    response
}
