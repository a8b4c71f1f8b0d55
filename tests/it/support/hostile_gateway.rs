//! A loopback gateway in front of the simulator that answers chosen requests with hostile
//! bodies: a corpus file, a status, the request echoed (plain or HTML-escaped), or the
//! simulator's own answer rewritten. Everything else
//! is passed through unchanged, so the real client reads the real protocol around the one bad
//! answer. It also keeps every session id the simulator issued (the secret-hygiene test
//! searches for them).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use intacct_sim::{self as sim, SimConfig, SimHandle};
use tokio::sync::oneshot;

/// Rewrites the simulator's answer.
pub(crate) type Rewriter = Box<dyn Fn(&[u8]) -> Vec<u8> + Send + Sync>;

/// What a matched request gets instead of the simulator's answer.
pub(crate) enum Answer {
    /// HTTP 200 with this body.
    Body(Vec<u8>),
    /// The simulator's answer, rewritten.
    Rewrite(Rewriter),
    /// This status with an HTML error page that starts with the whole request (a proxy that
    /// echoes what it could not forward): passwords and session id included.
    Echo(u16),
    /// This status with an HTML error page that quotes the whole request HTML-escaped, as a
    /// page would show it: with named references (`&lt;password&gt;`), or with numeric ones
    /// (`&#60;password&#62;`).
    EscapedEcho(u16, Escape),
}

/// How [`Answer::EscapedEcho`] escapes the request.
#[derive(Clone, Copy)]
pub(crate) enum Escape {
    /// `&lt;` `&gt;` `&amp;` `&quot;`.
    Named,
    /// `&#60;` `&#62;` `&#38;` `&#34;`.
    Numeric,
}

/// `text` escaped for HTML in the `escape` style.
fn html_escaped(text: &str, escape: Escape) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        match (c, escape) {
            ('<', Escape::Named) => out.push_str("&lt;"),
            ('>', Escape::Named) => out.push_str("&gt;"),
            ('&', Escape::Named) => out.push_str("&amp;"),
            ('"', Escape::Named) => out.push_str("&quot;"),
            ('<' | '>' | '&' | '"', Escape::Numeric) => out.push_str(&format!("&#{};", c as u32)),
            _ => out.push(c),
        }
    }
    out
}

/// Which requests a rule answers.
pub(crate) struct Rule {
    /// The function element (`query`, `lookup`, `getAPISession`, …).
    pub(crate) function: &'static str,
    /// The object the function names, when it matters.
    pub(crate) object: Option<&'static str>,
    /// Only requests whose body contains this text.
    pub(crate) contains: Option<&'static str>,
    /// The answer.
    pub(crate) answer: Answer,
}

impl Rule {
    pub(crate) fn every(function: &'static str, object: &'static str, answer: Answer) -> Rule {
        Rule {
            function,
            object: Some(object),
            contains: None,
            answer,
        }
    }

    /// Every `query` of `object` in its created pass (rows whose WHENMODIFIED is empty).
    pub(crate) fn created_pass(object: &'static str, answer: Answer) -> Rule {
        Rule {
            contains: Some("<isnull>"),
            ..Rule::every("query", object, answer)
        }
    }
}

struct ProxyState {
    upstream: String,
    http: reqwest::Client,
    rules: Mutex<Vec<Rule>>,
    session_ids: Mutex<Vec<String>>,
    /// Requests answered by a rule.
    answered: Mutex<u64>,
}

/// The simulator with the hostile gateway in front; the client is pointed at the gateway, and
/// the simulator advertises the gateway as the session endpoint.
pub(crate) struct HostileGateway {
    pub(crate) sim: SimHandle,
    addr: SocketAddr,
    state: Arc<ProxyState>,
    stop: Option<oneshot::Sender<()>>,
}

const ENDPOINT_PATH: &str = "/ia/xml/xmlgw.phtml";

impl HostileGateway {
    pub(crate) async fn start(mut config: SimConfig) -> HostileGateway {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        config.advertised_endpoint = Some(format!("http://{addr}{ENDPOINT_PATH}"));
        let sim = sim::spawn(config).await.unwrap();
        let state = Arc::new(ProxyState {
            upstream: sim.endpoint_url(),
            http: reqwest::Client::new(),
            rules: Mutex::new(Vec::new()),
            session_ids: Mutex::new(Vec::new()),
            answered: Mutex::new(0),
        });
        let app = Router::new()
            .route(ENDPOINT_PATH, post(forward))
            .with_state(state.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        HostileGateway {
            sim,
            addr,
            state,
            stop: Some(stop),
        }
    }

    /// The endpoint the client is given.
    pub(crate) fn endpoint_url(&self) -> String {
        format!("http://{}{ENDPOINT_PATH}", self.addr)
    }

    /// Replaces the rules (and their counts).
    pub(crate) fn set_rules(&self, rules: Vec<Rule>) {
        *self.state.rules.lock().unwrap() = rules;
        *self.state.answered.lock().unwrap() = 0;
    }

    /// Requests a rule answered since the last [`HostileGateway::set_rules`].
    pub(crate) fn answered(&self) -> u64 {
        *self.state.answered.lock().unwrap()
    }

    /// Every session id the simulator issued through this gateway.
    pub(crate) fn session_ids(&self) -> Vec<String> {
        self.state.session_ids.lock().unwrap().clone()
    }

    pub(crate) async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.sim.shutdown().await.unwrap();
    }
}

/// The function element and object of a request body.
pub(crate) fn classify(body: &str) -> (String, Option<String>) {
    let function = body
        .find("<function")
        .and_then(|at| body[at..].find('>').map(|end| at + end + 1))
        .map(|after| {
            let rest = body[after..].trim_start();
            let rest = rest.strip_prefix('<').unwrap_or(rest);
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .unwrap_or_default();
    let object = body.find("<object>").map(|at| {
        let rest = &body[at + "<object>".len()..];
        rest[..rest.find('<').unwrap_or(rest.len())]
            .trim()
            .to_owned()
    });
    (function, object)
}

fn text_between<'a>(body: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = body.find(start)? + start.len();
    let to = body[from..].find(end)? + from;
    Some(&body[from..to])
}

async fn forward(
    State(state): State<Arc<ProxyState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let text = String::from_utf8_lossy(&body).into_owned();
    let (function, object) = classify(&text);
    let mut request = state.http.post(&state.upstream).body(body.clone());
    if let Some(content_type) = headers.get(axum::http::header::CONTENT_TYPE) {
        request = request.header(axum::http::header::CONTENT_TYPE, content_type.clone());
    }
    let upstream = match request.send().await {
        Ok(response) => response,
        Err(_) => return StatusCode::BAD_GATEWAY.into_response(),
    };
    let status = StatusCode::from_u16(upstream.status().as_u16()).unwrap();
    let upstream_body = upstream.bytes().await.unwrap_or_default();
    if let Some(id) = text_between(
        &String::from_utf8_lossy(&upstream_body),
        "<sessionid>",
        "</sessionid>",
    ) {
        state.session_ids.lock().unwrap().push(id.to_owned());
    }
    let mut rules = state.rules.lock().unwrap();
    for rule in rules.iter_mut() {
        if rule.function != function
            || (rule.object.is_some() && rule.object != object.as_deref())
            || rule.contains.is_some_and(|c| !text.contains(c))
        {
            continue;
        }
        *state.answered.lock().unwrap() += 1;
        let replaced = match &rule.answer {
            Answer::Body(bytes) => bytes.clone(),
            Answer::Rewrite(rewrite) => rewrite(&upstream_body),
            Answer::Echo(_) => format!("<html><pre>{text}</pre></html>").into_bytes(),
            Answer::EscapedEcho(_, escape) => {
                format!("<html><pre>{}</pre></html>", html_escaped(&text, *escape)).into_bytes()
            }
        };
        let status = match rule.answer {
            Answer::Echo(status) | Answer::EscapedEcho(status, _) => {
                StatusCode::from_u16(status).unwrap()
            }
            _ => StatusCode::OK,
        };
        return (
            status,
            [(axum::http::header::CONTENT_TYPE, "text/xml; charset=UTF-8")],
            replaced,
        )
            .into_response();
    }
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "text/xml; charset=UTF-8")],
        upstream_body,
    )
        .into_response()
}
