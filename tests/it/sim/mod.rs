//! Integration tests of the Intacct gateway simulator: real HTTP against `sim::spawn` on
//! 127.0.0.1:0, requests rendered by the protocol layer or written by hand, responses read
//! with the protocol parser. Expectations come from the fixtures, the reference, and the
//! simulator's ground truth (`/__sim/records`) through simple models written here.

mod admin;
mod auth;
mod cli;
mod faults;
mod reads;

use std::collections::BTreeMap;
use std::path::PathBuf;

use intacct_sim::{
    DEFAULT_COMPANY_ID, DEFAULT_SENDER_ID, DEFAULT_SENDER_PASSWORD, DEFAULT_USER_ID,
    DEFAULT_USER_PASSWORD, Scale, SimConfig, SimHandle, spawn,
};
use intacct_snowflake::intacct::parse_response;
use intacct_snowflake::intacct::{
    Authentication, Call, Filter, Function, OrderBy, Query, ReadByQuery, Request,
    SenderCredentials, render_request,
};
use intacct_snowflake::intacct::{RecordPage, Response, ResultData};
use intacct_snowflake::secret::Secret;

/// A ground-truth record: field → value (None for null).
pub(crate) type Truth = BTreeMap<String, Option<String>>;

/// The built `intacct-sim` binary: beside `intacct-snowflake`, where `sim intacct` looks for it.
/// Cargo builds a package's binaries only for that package's own tests, so `scripts/test.sh`
/// runs `cargo build` (both binaries) first; panics naming the path and the command that
/// builds it when it is missing.
pub(crate) fn simulator_binary() -> PathBuf {
    let path = crate::support::binary()
        .with_file_name(format!("intacct-sim{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} is missing: build it with `cargo build` (both binaries) or \
         `cargo build -p intacct-sim` before running these tests",
        path.display()
    );
    path
}

/// `intacct-snowflake sim intacct`, once the simulator binary it runs is there.
pub(crate) fn sim_intacct() -> tokio::process::Command {
    simulator_binary();
    let mut command = tokio::process::Command::new(crate::support::binary());
    command.args(["sim", "intacct"]);
    command
}

/// A simulator on the `tiny` dataset unless told otherwise.
pub(crate) fn config(scale: Scale) -> SimConfig {
    let mut config = SimConfig::default();
    config.dataset.scale = scale;
    config
}

pub(crate) async fn start(config: SimConfig) -> Sim {
    let handle = spawn(config).await.expect("simulator starts");
    Sim {
        http: reqwest::Client::new(),
        handle,
    }
}

pub(crate) fn sender() -> SenderCredentials {
    SenderCredentials {
        sender_id: DEFAULT_SENDER_ID.into(),
        sender_password: Secret::new(DEFAULT_SENDER_PASSWORD),
    }
}

pub(crate) fn login() -> Authentication {
    Authentication::Login {
        user_id: DEFAULT_USER_ID.into(),
        company_id: DEFAULT_COMPANY_ID.into(),
        password: Secret::new(DEFAULT_USER_PASSWORD),
        location_id: None,
    }
}

pub(crate) fn function(control_id: &str, call: Call) -> Function {
    Function {
        control_id: control_id.into(),
        call,
    }
}

pub(crate) fn request(authentication: Authentication, functions: Vec<Function>) -> Request {
    Request {
        control_id: "test-request".into(),
        unique_id: false,
        transaction: false,
        authentication,
        functions,
    }
}

pub(crate) fn query(object: &str, filter: Option<Filter>, order: &[(&str, bool)]) -> Query {
    Query {
        object: object.into(),
        select: vec!["*".into()],
        filter,
        order_by: order
            .iter()
            .map(|(f, a)| OrderBy {
                field: (*f).into(),
                ascending: *a,
            })
            .collect(),
        page_size: Some(2000),
        ..Query::default()
    }
}

/// A running simulator and an HTTP client for it.
pub(crate) struct Sim {
    pub(crate) http: reqwest::Client,
    pub(crate) handle: SimHandle,
}

impl Sim {
    /// POSTs a raw body to the gateway: (status, content type, body).
    pub(crate) async fn post_raw(&self, body: String) -> (u16, String, String) {
        let response = self
            .http
            .post(self.handle.endpoint_url())
            .header("content-type", "application/xml")
            .body(body)
            .send()
            .await
            .expect("request sent");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap_or_default().to_owned())
            .unwrap_or_default();
        let text = response.text().await.expect("body read");
        (status, content_type, text)
    }

    /// Sends a request rendered by the protocol layer and parses the answer.
    pub(crate) async fn send(&self, request: &Request) -> intacct_snowflake::Result<Response> {
        let body = render_request(request, &sender()).expect("request renders");
        let (status, _, text) = self.post_raw(body).await;
        assert_eq!(status, 200, "HTTP status; body: {text}");
        parse_response(text.as_bytes())
    }

    /// Opens a session: (session id, endpoint).
    pub(crate) async fn session(&self) -> (String, String) {
        let response = self
            .send(&request(
                login(),
                vec![function("s", Call::GetApiSession { location_id: None })],
            ))
            .await
            .expect("getAPISession succeeds");
        match &response.results[0].outcome {
            Ok(ResultData::Session(s)) => (s.session_id.expose().to_owned(), s.endpoint.clone()),
            other => panic!("unexpected {other:?}"),
        }
    }

    /// Runs one function under a session and returns its page.
    pub(crate) async fn page(&self, session: &str, call: Call) -> RecordPage {
        let response = self
            .send(&request(
                Authentication::Session(Secret::new(session)),
                vec![function("f", call)],
            ))
            .await
            .expect("response parses");
        match response.results.into_iter().next().map(|r| r.outcome) {
            Some(Ok(ResultData::Records(page))) => page,
            other => panic!("unexpected {other:?}"),
        }
    }

    /// Ground truth of an object.
    pub(crate) async fn truth(&self, object: &str) -> Vec<Truth> {
        self.handle
            .records(object)
            .await
            .expect("records")
            .into_iter()
            .map(|m| {
                m.into_iter()
                    .map(|(k, v)| (k, v.as_str().map(str::to_owned)))
                    .collect()
            })
            .collect()
    }
}

/// RECORDNO of every row of a page.
pub(crate) fn record_nos(page: &RecordPage) -> Vec<u64> {
    (0..page.len())
        .map(|r| {
            page.get(r, "RECORDNO")
                .expect("RECORDNO")
                .parse()
                .expect("number")
        })
        .collect()
}

pub(crate) fn truth_nos(truth: &[Truth], keep: impl Fn(&Truth) -> bool) -> Vec<u64> {
    truth
        .iter()
        .filter(|r| keep(r))
        .map(|r| r["RECORDNO"].as_deref().unwrap().parse().unwrap())
        .collect()
}

/// `query` with offset paging until every match is read.
pub(crate) async fn query_all(sim: &Sim, session: &str, q: Query) -> Vec<u64> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let mut q = q.clone();
        q.offset = Some(offset);
        let page = sim.page(session, Call::Query(q)).await;
        out.extend(record_nos(&page));
        offset += page.len() as u32;
        if page.num_remaining == Some(0) || page.is_empty() {
            return out;
        }
    }
}

/// `readByQuery` + `readMore` until `numremaining` is 0.
pub(crate) async fn read_by_query_all(sim: &Sim, session: &str, rbq: ReadByQuery) -> Vec<u64> {
    let first = sim.page(session, Call::ReadByQuery(rbq)).await;
    let mut out = record_nos(&first);
    let mut remaining = first.num_remaining;
    let result_id = first.result_id.clone();
    while remaining != Some(0) {
        let page = sim
            .page(
                session,
                Call::ReadMore {
                    result_id: result_id.clone().expect("resultId while rows remain"),
                },
            )
            .await;
        out.extend(record_nos(&page));
        remaining = page.num_remaining;
    }
    out
}
