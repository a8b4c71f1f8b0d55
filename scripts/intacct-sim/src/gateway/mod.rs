//! The gateway's behaviour: authentication, sessions, and one `<result>` per function.
//!
//! Owns the mutable state behind the endpoint — sessions, readByQuery cursors, executed
//! function control ids, counters — each behind its own lock, and the dataset behind a
//! read/write lock that only the admin API takes for writing. Everything here is
//! synchronous; [`crate::server`] runs it on a blocking thread and adds HTTP, faults
//! and latency.
//!
//! Error shapes (all HTTP 200):
//! * bad sender → control failure `XL03000006` "Incorrect Intacct XML Partner ID or password.";
//! * bad login → authentication failure `XL03000006` "Sign-in information is incorrect";
//! * unknown or expired session → authentication failure `XL03000006` with description2
//!   "Invalid session" (clients key on "authentication failure while using a sessionid");
//! * a duplicate function controlid under `uniqueid=true` → result failure `XL03000010`
//!   "A request with the control id '…' has already been executed." (the real code is
//!   undocumented; this one is the simulator's);
//! * a request refused for concurrency → `200024` "There are too many operations running for
//!   this company (200024)" at the control, operation or result level (see `crate::slots`
//!   for the evidence and the guesses);
//!
//! Every function controlid is recorded per company: `control_ids_repeated` in the counters
//! says how many requests reused one (whatever `uniqueid` said), so a test can check a client
//! never repeats an id.
//! * in an `operation transaction="true"`, the first failure stops execution: earlier results
//!   become `aborted`, the failing one keeps its error, later ones are `aborted`, and each
//!   carries `XL03000009`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use intacct_snowflake::intacct::{Authentication, Call, ErrorDetail};

use crate::config::{RefusalLevel, SimConfig};
use crate::dataset::Dataset;
use crate::filter_eval::Columns;
use crate::query_exec::{self, Failure};

mod reads;

use crate::request_parse::{ParsedFunction, ParsedRequest};
use crate::response_write::{
    self, AuthEcho, ControlEcho, DataOut, ResultOut, ResultStatus, RowsOut, error,
};
use reads::{names, project};

/// Largest `query` page.
pub(super) const MAX_QUERY_PAGE_SIZE: u32 = 2000;
/// Largest `readByQuery` page.
pub(super) const MAX_READ_BY_QUERY_PAGE_SIZE: u32 = 1000;
/// Page size when none is sent.
pub(super) const DEFAULT_PAGE_SIZE: u32 = 100;

const ROLLBACK: &str =
    "The entire transaction in this operation has been rolled back due to an error.";

/// One API session.
#[derive(Clone, Debug)]
struct Session {
    user_id: String,
    company_id: String,
    location_id: Option<String>,
    expires_at: Instant,
    /// Last readByQuery resultId per object, for `readMore` by object.
    last_result_ids: HashMap<String, String>,
}

/// A readByQuery cursor.
#[derive(Clone, Debug)]
struct Cursor {
    object: String,
    columns: Vec<usize>,
    keys: Vec<u64>,
    position: usize,
    page_size: usize,
    expires_at: Instant,
}

/// Request counters, as `GET /__sim/counters` reports them.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub(super) struct Counters {
    /// HTTP requests to the gateway endpoint.
    pub requests: u64,
    /// Pages of records returned (query, readByQuery, readMore, read results).
    pub pages: u64,
    /// Sessions opened by getAPISession.
    pub sessions_opened: u64,
    /// Functions executed, by name.
    pub functions: BTreeMap<String, u64>,
    /// Faults injected, by kind (automatic concurrency rejections included).
    pub faults_injected: BTreeMap<String, u64>,
    /// Most requests of clients seen in flight at once for one company (the co-tenant's and
    /// detached ones not counted).
    pub max_in_flight: u64,
    /// Requests refused for concurrency (held, then refused; injected `concurrency` faults
    /// included).
    pub refusals: u64,
    /// Function controlids sent again after an earlier request of the company used them.
    pub control_ids_repeated: u64,
}

/// The simulated gateway's state.
#[derive(Debug)]
pub(super) struct Gateway {
    /// Configuration.
    pub config: SimConfig,
    /// `<endpoint>` returned by getAPISession.
    pub endpoint: String,
    /// The data.
    pub dataset: RwLock<Dataset>,
    sessions: Mutex<HashMap<String, Session>>,
    cursors: Mutex<HashMap<String, Cursor>>,
    executed: Mutex<HashSet<(String, String)>>,
    /// Every function controlid seen, per company.
    control_ids: Mutex<HashSet<(String, String)>>,
    /// Counters.
    pub counters: Mutex<Counters>,
    /// Every AUDITHISTORY `query`, in arrival order (see [`crate::audit`]).
    pub audit_reads: Mutex<Vec<crate::audit::AuditRead>>,
}

/// What authentication established.
#[derive(Clone, Debug)]
struct Principal {
    user_id: String,
    company_id: String,
    location_id: Option<String>,
    session_id: Option<String>,
}

impl Principal {
    /// What this principal's reads see (`show_private`: the read sent `showprivate`).
    fn scope(&self, show_private: bool) -> crate::entities::Scope<'_> {
        crate::entities::Scope {
            location: self.location_id.as_deref(),
            show_private,
        }
    }
}

/// Options for one request's execution coming from injected faults.
#[derive(Clone, Debug, Default)]
pub(super) struct ExecOptions {
    /// Treat every readMore resultId as expired.
    pub expire_result_ids: bool,
}

/// The outcome of a request that passed control-level checks.
#[derive(Debug)]
pub(super) struct Executed {
    /// The XML body.
    pub body: String,
    /// Pages of records returned (drives latency).
    pub pages: u64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl Gateway {
    /// Builds the state; the dataset is created here (fast for every scale).
    pub(super) fn new(config: SimConfig, endpoint: String) -> Gateway {
        let dataset = Dataset::new(config.dataset.clone()).with_audit_lag(config.audit_lag_secs);
        Gateway {
            config,
            endpoint,
            dataset: RwLock::new(dataset),
            sessions: Mutex::new(HashMap::new()),
            cursors: Mutex::new(HashMap::new()),
            executed: Mutex::new(HashSet::new()),
            control_ids: Mutex::new(HashSet::new()),
            counters: Mutex::new(Counters::default()),
            audit_reads: Mutex::new(Vec::new()),
        }
    }

    /// Read access to the dataset.
    pub(super) fn dataset(&self) -> std::sync::RwLockReadGuard<'_, Dataset> {
        self.dataset.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Write access to the dataset (admin API only).
    pub(super) fn dataset_mut(&self) -> std::sync::RwLockWriteGuard<'_, Dataset> {
        self.dataset.write().unwrap_or_else(|e| e.into_inner())
    }

    /// True when a session in `scope` sees the record (always, in a single-entity company).
    fn sees(
        &self,
        dataset: &Dataset,
        object: &str,
        record_no: u64,
        scope: crate::entities::Scope<'_>,
    ) -> bool {
        self.config
            .multi_entity
            .as_ref()
            .is_none_or(|company| company.sees(dataset, object, record_no, scope))
    }

    /// Writes the record's owner into its MEGAENTITY fields (multi-entity companies only).
    pub(super) fn stamp_owner(
        &self,
        dataset: &Dataset,
        object: &str,
        record: &mut crate::dataset::SimRecord,
    ) {
        if let Some(company) = &self.config.multi_entity {
            company.stamp(dataset, object, record);
        }
    }

    /// Expires every session.
    pub(super) fn expire_all_sessions(&self) -> usize {
        let mut sessions = lock(&self.sessions);
        let n = sessions.len();
        sessions.clear();
        n
    }

    /// Expires one session (fault `session-expiry`).
    pub(super) fn expire_session(&self, session_id: &str) {
        lock(&self.sessions).remove(session_id);
    }

    /// Expires every readByQuery resultId.
    pub(super) fn expire_all_result_ids(&self) -> usize {
        let mut cursors = lock(&self.cursors);
        let n = cursors.len();
        cursors.clear();
        n
    }

    /// Adds one to a fault counter.
    pub(super) fn count_fault(&self, kind: &str) {
        *lock(&self.counters)
            .faults_injected
            .entry(kind.to_owned())
            .or_default() += 1;
    }

    /// The company a request acts for: its login's, or its session's; `None` for an
    /// unknown session.
    pub(super) fn company_of(&self, request: &ParsedRequest) -> Option<String> {
        match &request.request.authentication {
            Authentication::Login { company_id, .. } => Some(company_id.clone()),
            Authentication::Session(id) => lock(&self.sessions)
                .get(id.expose())
                .map(|s| s.company_id.clone()),
        }
    }

    /// `sessiontimestamp` and `sessiontimeout`: the gateway's clock, which is the simulated
    /// one (the clock that stamps every record and audit row, as Intacct's one clock does),
    /// in the tenant zone with its offset, and the timeout a session duration later.
    fn session_times(&self) -> (String, String) {
        let tz = self.config.dataset.time_zone;
        let now = self.dataset().now().with_timezone(&tz);
        let timeout = now + chrono::Duration::seconds(self.config.session_timeout_secs as i64);
        let format = "%Y-%m-%dT%H:%M:%S%:z";
        (
            now.format(format).to_string(),
            timeout.format(format).to_string(),
        )
    }

    /// Records the request's function controlids; counts those an earlier request of the
    /// company already used.
    pub(super) fn record_control_ids(&self, request: &ParsedRequest) {
        let company = self.company_of(request).unwrap_or_default().to_lowercase();
        let mut seen = lock(&self.control_ids);
        let repeated = request
            .functions
            .iter()
            .filter(|f| !seen.insert((company.clone(), f.control_id.clone())))
            .count() as u64;
        drop(seen);
        if repeated > 0 {
            lock(&self.counters).control_ids_repeated += repeated;
        }
    }

    /// The answer to a request refused for concurrency: the `nth` refusal (1-based), at
    /// `level` (in turn for [`RefusalLevel::Rotate`]).
    pub(super) fn concurrency_refusal(
        &self,
        request: &ParsedRequest,
        level: RefusalLevel,
        nth: u64,
    ) -> String {
        let refusal = error(crate::slots::REFUSAL_ERRORNO, crate::slots::REFUSAL_TEXT);
        let level = match level {
            RefusalLevel::Rotate => match nth % 3 {
                1 => RefusalLevel::Control,
                2 => RefusalLevel::Operation,
                _ => RefusalLevel::Result,
            },
            fixed => fixed,
        };
        let control = Self::control_echo(request);
        let pretty = request.include_whitespace;
        if level == RefusalLevel::Control {
            return response_write::control_failure(&control, &[refusal], pretty);
        }
        let (user_id, company_id) = self.user_and_company(request);
        let auth = AuthEcho {
            success: true,
            user_id,
            company_id,
            location_id: None,
            session_times: Some(self.session_times()),
        };
        if level == RefusalLevel::Operation {
            return response_write::operation_failure(&control, &auth, &[refusal], pretty);
        }
        let results: Vec<ResultOut> = request
            .functions
            .iter()
            .map(|f| ResultOut {
                status: ResultStatus::Failure,
                function: f.name.clone(),
                control_id: f.control_id.clone(),
                data: None,
                errors: vec![refusal.clone()],
            })
            .collect();
        response_write::success(&control, &auth, &results, pretty)
    }

    /// The user and company a request acts for (empty for an unknown session).
    fn user_and_company(&self, request: &ParsedRequest) -> (String, String) {
        match &request.request.authentication {
            Authentication::Login {
                user_id,
                company_id,
                ..
            } => (user_id.clone(), company_id.clone()),
            Authentication::Session(id) => lock(&self.sessions)
                .get(id.expose())
                .map(|s| (s.user_id.clone(), s.company_id.clone()))
                .unwrap_or_default(),
        }
    }

    /// The control block echoed for a request.
    pub(super) fn control_echo(request: &ParsedRequest) -> ControlEcho {
        ControlEcho {
            sender_id: request.sender.sender_id.clone(),
            control_id: request.request.control_id.clone(),
            unique_id: request.request.unique_id,
            dtd_version: request.dtd_version.clone(),
        }
    }

    /// True when the sender credentials are the configured ones.
    pub(super) fn sender_ok(&self, request: &ParsedRequest) -> bool {
        let expected = &self.config.credentials;
        request.sender.sender_id == expected.sender_id
            && request.sender.sender_password.expose() == expected.sender_password.expose()
    }

    /// The control-level failure for a bad sender.
    pub(super) fn bad_sender(request: &ParsedRequest) -> String {
        response_write::control_failure(
            &Self::control_echo(request),
            &[error(
                "XL03000006",
                "Incorrect Intacct XML Partner ID or password.",
            )],
            request.include_whitespace,
        )
    }

    /// An authentication-level failure for a request.
    pub(super) fn auth_failure(
        &self,
        request: &ParsedRequest,
        errorno: &str,
        description2: &str,
    ) -> String {
        let (user_id, company_id) = self.user_and_company(request);
        response_write::auth_failure(
            &Self::control_echo(request),
            &AuthEcho {
                success: false,
                user_id,
                company_id,
                location_id: None,
                session_times: None,
            },
            &[error(errorno, description2)],
            request.include_whitespace,
        )
    }

    fn authenticate(&self, request: &ParsedRequest) -> Result<Principal, String> {
        match &request.request.authentication {
            Authentication::Login {
                user_id,
                company_id,
                password,
                location_id,
            } => {
                let expected = &self.config.credentials;
                if user_id.eq_ignore_ascii_case(&expected.user_id)
                    && company_id.eq_ignore_ascii_case(&expected.company_id)
                    && password.expose() == expected.user_password.expose()
                {
                    if let Some(company) = &self.config.multi_entity
                        && let Some(reason) = company.refusal(user_id, location_id.as_deref())
                    {
                        return Err(self.auth_failure(request, "XL03000006", &reason));
                    }
                    Ok(Principal {
                        user_id: user_id.clone(),
                        company_id: company_id.clone(),
                        location_id: location_id.clone(),
                        session_id: None,
                    })
                } else {
                    Err(self.auth_failure(
                        request,
                        "XL03000006",
                        "Sign-in information is incorrect",
                    ))
                }
            }
            Authentication::Session(id) => {
                let mut sessions = lock(&self.sessions);
                let now = Instant::now();
                match sessions.get_mut(id.expose()) {
                    Some(session) if session.expires_at > now => {
                        // Sliding timeout.
                        session.expires_at =
                            now + Duration::from_secs(self.config.session_timeout_secs);
                        Ok(Principal {
                            user_id: session.user_id.clone(),
                            company_id: session.company_id.clone(),
                            location_id: session.location_id.clone(),
                            session_id: Some(id.expose().to_owned()),
                        })
                    }
                    _ => {
                        sessions.remove(id.expose());
                        drop(sessions);
                        Err(self.auth_failure(request, "XL03000006", "Invalid session"))
                    }
                }
            }
        }
    }

    /// Runs a request that passed the sender check: authenticates, executes every function,
    /// and writes the response. `fail_results` marks functions (by index) that an injected
    /// `result-error` fails with the given errorno.
    pub(super) fn execute(
        &self,
        request: &ParsedRequest,
        options: &ExecOptions,
        fail_results: &HashMap<usize, String>,
    ) -> Executed {
        let principal = match self.authenticate(request) {
            Ok(p) => p,
            Err(body) => return Executed { body, pages: 0 },
        };
        let only_function = request.functions.len() == 1;
        let mut results: Vec<ResultOut> = Vec::new();
        let mut pages = 0;
        let mut failed_at = None;
        for (index, function) in request.functions.iter().enumerate() {
            *lock(&self.counters)
                .functions
                .entry(function.name.clone())
                .or_default() += 1;
            let duplicate = request.request.unique_id
                && lock(&self.executed).contains(&(
                    principal.company_id.to_lowercase(),
                    function.control_id.clone(),
                ));
            let outcome = if let Some(errorno) = fail_results.get(&index) {
                Err(injected_result_error(errorno))
            } else if duplicate {
                Err(error(
                    "XL03000010",
                    &format!(
                        "A request with the control id '{}' has already been executed.",
                        function.control_id
                    ),
                ))
            } else {
                self.run_function(function, &principal, only_function, options)
                    .map_err(|(no, d)| error(&no, &d))
            };
            match outcome {
                Ok(data) => {
                    if matches!(data, DataOut::Rows(_)) {
                        pages += 1;
                    }
                    if request.request.unique_id {
                        lock(&self.executed).insert((
                            principal.company_id.to_lowercase(),
                            function.control_id.clone(),
                        ));
                    }
                    results.push(ResultOut {
                        status: ResultStatus::Success,
                        function: function.name.clone(),
                        control_id: function.control_id.clone(),
                        data: Some(data),
                        errors: vec![],
                    });
                }
                Err(detail) => {
                    results.push(ResultOut {
                        status: ResultStatus::Failure,
                        function: function.name.clone(),
                        control_id: function.control_id.clone(),
                        data: None,
                        errors: vec![detail],
                    });
                    if request.request.transaction {
                        failed_at = Some(index);
                        break;
                    }
                }
            }
        }
        if let Some(failed) = failed_at {
            for (index, result) in results.iter_mut().enumerate() {
                if index != failed {
                    result.status = ResultStatus::Aborted;
                    result.data = None;
                }
                result.errors.push(error("XL03000009", ROLLBACK));
            }
            for function in &request.functions[failed + 1..] {
                results.push(ResultOut {
                    status: ResultStatus::Aborted,
                    function: function.name.clone(),
                    control_id: function.control_id.clone(),
                    data: None,
                    errors: vec![error("XL03000009", ROLLBACK)],
                });
            }
            pages = 0;
        }
        lock(&self.counters).pages += pages;
        let auth = AuthEcho {
            success: true,
            user_id: principal.user_id.clone(),
            company_id: principal.company_id.clone(),
            location_id: principal.location_id.clone(),
            session_times: Some(self.session_times()),
        };
        Executed {
            body: response_write::success(
                &Self::control_echo(request),
                &auth,
                &results,
                request.include_whitespace,
            ),
            pages,
        }
    }

    fn run_function(
        &self,
        function: &ParsedFunction,
        principal: &Principal,
        only_function: bool,
        options: &ExecOptions,
    ) -> Result<DataOut, Failure> {
        let call = function
            .call
            .as_ref()
            .map_err(|reason| ("XL03000003".to_owned(), reason.clone()))?;
        let read = match call {
            Call::Query(query) => Some((query.object.as_str(), "QUERY")),
            Call::ReadByQuery(rbq) => Some((rbq.object.as_str(), "READ_BY_QUERY")),
            Call::Read { object, .. } => Some((object.as_str(), "READ")),
            _ => None,
        };
        if let Some((object, operation)) = read
            && self
                .config
                .denied_objects
                .iter()
                .any(|denied| denied.eq_ignore_ascii_case(object))
        {
            return Err(crate::config::read_refusal(object, operation));
        }
        match call {
            Call::GetApiSession { location_id } => {
                if !only_function {
                    return Err((
                        "Get API Session Failed".into(),
                        "getAPISession must be the only function in its request".into(),
                    ));
                }
                // No `<locationid>`: the login's (or session's) scope; an empty one: the top
                // level (Sage's API sessions page).
                let location_id = match location_id {
                    None => principal.location_id.clone(),
                    Some(l) if l.is_empty() => None,
                    Some(l) => Some(l.clone()),
                };
                if let Some(company) = &self.config.multi_entity
                    && let Some(reason) =
                        company.refusal(&principal.user_id, location_id.as_deref())
                {
                    return Err(("XL03000006".into(), reason));
                }
                let session_id = format!("{}..", new_id());
                lock(&self.sessions).insert(
                    session_id.clone(),
                    Session {
                        user_id: principal.user_id.clone(),
                        company_id: principal.company_id.clone(),
                        location_id: location_id.clone(),
                        expires_at: Instant::now()
                            + Duration::from_secs(self.config.session_timeout_secs),
                        last_result_ids: HashMap::new(),
                    },
                );
                lock(&self.counters).sessions_opened += 1;
                Ok(DataOut::Session {
                    session_id,
                    endpoint: self.endpoint.clone(),
                    location_id,
                })
            }
            Call::Query(query) => self.run_query(query, principal),
            Call::ReadByQuery(rbq) => self.run_read_by_query(rbq, principal),
            Call::ReadMore { result_id } => self.run_read_more(result_id, principal, options),
            Call::Read {
                object,
                keys,
                fields,
            } => {
                let dataset = self.dataset();
                let meta = query_exec::object_meta(&dataset, object)?;
                let columns = Columns::new(meta);
                let selected = query_exec::select_columns(&columns, fields)?;
                let mut rows = Vec::new();
                let scope = principal.scope(false);
                for key in keys {
                    if let Some(mut record) = key.parse().ok().and_then(|k| dataset.get(object, k))
                    {
                        if !self.sees(&dataset, object, record.record_no, scope) {
                            continue;
                        }
                        self.stamp_owner(&dataset, object, &mut record);
                        rows.push(project(&record.values, &selected));
                    }
                }
                Ok(DataOut::Rows(RowsOut {
                    attrs: vec![
                        ("listtype", object.clone()),
                        ("count", rows.len().to_string()),
                    ],
                    row_element: object.clone(),
                    columns: names(&columns, &selected),
                    rows,
                }))
            }
            Call::ReadByName { object, keys, .. } => {
                // Only USERINFO, by USERID: the API user is record 1.
                if !object.eq_ignore_ascii_case("USERINFO") {
                    return Err((
                        "Query Failed".into(),
                        format!("Object definition {object} not found"),
                    ));
                }
                let user = &self.config.credentials.user_id;
                let rows: Vec<Vec<Option<String>>> = keys
                    .iter()
                    .filter(|k| k.eq_ignore_ascii_case(user))
                    .map(|k| vec![Some("1".into()), Some(k.clone())])
                    .collect();
                Ok(DataOut::Rows(RowsOut {
                    attrs: vec![
                        ("listtype", "userinfo".into()),
                        ("count", rows.len().to_string()),
                    ],
                    row_element: "userinfo".into(),
                    columns: vec!["RECORDNO".into(), "LOGINID".into()],
                    rows,
                }))
            }
            Call::ReadUserFormatting { key } => {
                if key.trim() != "1" {
                    return Err(("Query Failed".into(), format!("No user with key {key}")));
                }
                let prefs = &self.config.user_formatting;
                let offset = prefs.gmt_offset.clone().unwrap_or_else(|| {
                    let dataset = self.dataset();
                    let tz = dataset.config().time_zone;
                    chrono::TimeZone::from_utc_datetime(&tz, &dataset.now().naive_utc())
                        .format("%z")
                        .to_string()
                });
                Ok(DataOut::Rows(RowsOut {
                    attrs: vec![],
                    row_element: "userformatting".into(),
                    columns: vec![
                        "locale".into(),
                        "dateformat".into(),
                        "gmtoffset".into(),
                        "clock".into(),
                    ],
                    rows: vec![vec![
                        Some(prefs.locale.clone()),
                        Some(prefs.date_format.clone()),
                        Some(offset),
                        Some(prefs.clock.clone()),
                    ]],
                }))
            }
            Call::Lookup { object } => {
                let dataset = self.dataset();
                Ok(DataOut::Lookup(
                    query_exec::object_meta(&dataset, object)?.clone(),
                ))
            }
            Call::Inspect { object, detail } => {
                let dataset = self.dataset();
                if object == "*" {
                    return Ok(DataOut::InspectAll(
                        dataset
                            .object_names()
                            .iter()
                            .map(|s| s.to_string())
                            .collect(),
                    ));
                }
                Ok(DataOut::Inspect {
                    meta: query_exec::object_meta(&dataset, object)?.clone(),
                    detail: *detail,
                })
            }
        }
    }
}

fn injected_result_error(errorno: &str) -> ErrorDetail {
    if errorno == "DL02000001" {
        ErrorDetail {
            errorno: errorno.into(),
            description: Some("Error".into()),
            description2: Some("There was an error processing the request.".into()),
            correction: None,
        }
    } else {
        error(errorno, "Injected result failure.")
    }
}
