//! A loopback forwarder in front of the Snowflake emulator: it passes every request on, keeps
//! every `Authorization` header it saw (the JWTs the client minted, the token it sent), and
//! can answer the statement submissions whose SQL contains a chosen text with a garbage body
//! instead of forwarding them (so the statement never runs).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// Submissions whose body contains `needle` get `status` and `body`.
#[derive(Clone)]
pub(crate) struct Garbage {
    pub(crate) needle: &'static str,
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

struct ProxyState {
    upstream: String,
    http: reqwest::Client,
    authorizations: Mutex<Vec<String>>,
    garbage: Mutex<Option<Garbage>>,
    answered: Mutex<u64>,
}

pub(crate) struct SnowflakeProxy {
    addr: SocketAddr,
    state: Arc<ProxyState>,
}

impl SnowflakeProxy {
    pub(crate) async fn start(upstream: &str) -> SnowflakeProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(ProxyState {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            authorizations: Mutex::new(Vec::new()),
            garbage: Mutex::new(None),
            answered: Mutex::new(0),
        });
        let app = Router::new().fallback(forward).with_state(state.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        SnowflakeProxy { addr, state }
    }

    /// `http://127.0.0.1:<port>`.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(crate) fn set_garbage(&self, garbage: Option<Garbage>) {
        *self.state.garbage.lock().unwrap() = garbage;
    }

    /// Submissions answered with garbage so far.
    pub(crate) fn answered(&self) -> u64 {
        *self.state.answered.lock().unwrap()
    }

    /// The bearer tokens seen, without the scheme, each once.
    pub(crate) fn tokens(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .state
            .authorizations
            .lock()
            .unwrap()
            .iter()
            .filter_map(|h| h.strip_prefix("Bearer ").map(str::to_owned))
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

async fn forward(
    State(state): State<Arc<ProxyState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(value) = headers.get(axum::http::header::AUTHORIZATION) {
        state
            .authorizations
            .lock()
            .unwrap()
            .push(value.to_str().unwrap_or_default().to_owned());
    }
    let garbage = state.garbage.lock().unwrap().clone();
    if let Some(g) = garbage
        && method == Method::POST
        && uri.path() == "/api/v2/statements"
        && String::from_utf8_lossy(&body).contains(g.needle)
    {
        *state.answered.lock().unwrap() += 1;
        return (StatusCode::from_u16(g.status).unwrap(), g.body).into_response();
    }
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = state.http.request(
        reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap(),
        format!("{}{path}", state.upstream),
    );
    for (name, value) in &headers {
        if name == "host" || name == "content-length" {
            continue;
        }
        request = request.header(name.as_str(), value.as_bytes());
    }
    let upstream = match request.body(body).send().await {
        Ok(r) => r,
        Err(_) => return StatusCode::BAD_GATEWAY.into_response(),
    };
    let status = StatusCode::from_u16(upstream.status().as_u16()).unwrap();
    let mut out = HeaderMap::new();
    for (name, value) in upstream.headers() {
        if matches!(
            name.as_str(),
            "content-length" | "transfer-encoding" | "connection"
        ) {
            continue;
        }
        if let (Ok(n), Ok(v)) = (
            axum::http::HeaderName::from_bytes(name.as_str().as_bytes()),
            axum::http::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            out.insert(n, v);
        }
    }
    let body = upstream.bytes().await.unwrap_or_default();
    (status, out, body).into_response()
}
