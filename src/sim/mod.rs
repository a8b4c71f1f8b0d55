//! A local simulator of the Sage Intacct XML gateway (`intacct-snowflake sim intacct`).
//!
//! One port serves both the gateway, `POST /ia/xml/xmlgw.phtml`, and an admin API under
//! `/__sim/` ([`admin`]). The gateway implements `getAPISession`, `query`, `readByQuery`,
//! `readMore`, `read`, `lookup` and `inspect` over a seeded [`dataset`], with the reference's
//! three error levels, sliding session timeouts, expiring resultIds, a per-company concurrency
//! limit, per-page latency and injected [`faults`].
//!
//! Module map:
//! * [`request_parse`] — request XML → protocol types;
//! * [`filter_eval`], [`rbq_query`], [`query_exec`] — filters, readByQuery strings, scans;
//! * [`gateway`] — authentication, sessions, cursors, one result per function;
//! * [`response_write`] — response XML in the fixtures' shape;
//! * [`server`], [`admin`], [`handle`] — HTTP, admin API, in-process handle for tests.
//!
//! Documented choices where the real gateway's behaviour is unverified: expired or unknown
//! session ids fail at the authentication level with `XL03000006`; the concurrency limit
//! answers HTTP 429 with errorno `GW-0010` (like the rate limit, description "Too many concurrent
//! requests …"); a duplicate function controlid under `uniqueid=true` fails its
//! result with `XL03000010`; `sessiontimestamp`/`sessiontimeout` follow the wall clock (in
//! the tenant time zone) while record timestamps follow the simulated clock.
//!
//! Cost: `query` reports an exact `totalcount`, which visits every match in the scanned index
//! range. Only the page's records are rendered in full; the count renders just the columns
//! the filter and the index order read, so a keyset page on `large` costs a light pass over
//! the rest of its window. `--count-limit N` bounds that pass to N matches past the page.

pub mod admin;
pub mod config;
pub mod dataset;
pub mod faults;
pub mod filter_eval;
pub mod gateway;
pub mod handle;
pub mod query_exec;
pub mod rbq_query;
pub mod request_parse;
pub mod response_write;
pub mod server;

use std::io::Write as _;

use chrono::{DateTime, Utc};
use clap::Args;

pub use config::{SimConfig, SimCredentials};
pub use handle::{SimHandle, spawn};
pub use server::serve;

use crate::secret::Secret;
use crate::sim::dataset::{DatasetConfig, Scale};

/// Options of `sim intacct`.
///
/// Test credentials default to sender `sim-sender` / `sim-sender-password`, company
/// `sim-company`, user `sim-user` / `sim-user-password`.
#[derive(Debug, Args)]
#[command(after_long_help = ADMIN_HELP)]
pub struct SimArgs {
    /// Address to listen on (loopback; port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8085")]
    pub listen: String,
    /// Dataset seed: the same seed gives the same data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Dataset size: tiny, demo, large, or a number of records.
    #[arg(long, default_value = "demo", value_parser = parse_scale)]
    pub scale: Scale,
    /// Start of the simulated clock (RFC 3339).
    #[arg(long, default_value = "2026-01-15T00:00:00Z")]
    pub start: DateTime<Utc>,
    /// Tenant time zone in which timestamps are written.
    #[arg(long, default_value = "America/Los_Angeles")]
    pub time_zone: chrono_tz::Tz,
    /// Time each page of records takes to answer, counted from admission (the simulator's own
    /// work is part of it).
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Requests in flight per company above which the gateway answers HTTP 429 (GW-0010).
    #[arg(long, default_value_t = 4)]
    pub max_concurrent: usize,
    /// Fault spec: comma-separated KIND[=ARG][@TARGET][:nth=N|:every=N|:rate=P]; kinds
    /// control-error, auth-error, result-error, session-expiry, rate-limit, concurrency,
    /// http500, http502, http503, http524, http401, slow=MS, truncate, truncate-xml, reset,
    /// expire-result-id.
    #[arg(long, default_value = "")]
    pub faults: String,
    /// Session duration in seconds (the timeout slides with every request).
    #[arg(long, default_value_t = 3600)]
    pub session_timeout_secs: u64,
    /// How long a readByQuery resultId stays valid after its last use, in seconds.
    #[arg(long, default_value_t = 1800)]
    pub result_id_ttl_secs: u64,
    /// `<endpoint>` returned by getAPISession (default: this server's own URL).
    #[arg(long)]
    pub advertised_endpoint: Option<String>,
    /// For benchmarks on `large`: count at most N `query` matches past the page, so
    /// totalcount and numremaining are lower bounds (non-zero while rows remain). Default:
    /// exact counts, whose cost grows with the matching index range.
    #[arg(long)]
    pub count_limit: Option<u64>,
    /// Accepted sender id.
    #[arg(long, default_value = config::DEFAULT_SENDER_ID)]
    pub sender_id: String,
    /// Accepted sender password (a test value).
    #[arg(long, default_value = config::DEFAULT_SENDER_PASSWORD, hide_default_value = true)]
    pub sender_password: String,
    /// Accepted company id.
    #[arg(long, default_value = config::DEFAULT_COMPANY_ID)]
    pub company_id: String,
    /// Accepted user id.
    #[arg(long, default_value = config::DEFAULT_USER_ID)]
    pub user_id: String,
    /// Accepted user password (a test value).
    #[arg(long, default_value = config::DEFAULT_USER_PASSWORD, hide_default_value = true)]
    pub user_password: String,
}

const ADMIN_HELP: &str = "\
Test credentials (defaults): sender sim-sender / sim-sender-password, company sim-company,
user sim-user / sim-user-password.

Admin API on the same port:
  POST /__sim/advance?days=N        advance simulated time N days (creates, updates, deletes)
  GET  /__sim/records?object=X      ground truth of object X as JSON lines, RECORDNO order
  GET  /__sim/counters              requests, pages, sessions_opened, functions,
                                    faults_injected, max_in_flight
  GET  /__sim/clock                 the simulated now
  POST /__sim/faults                body = fault spec; replaces the active rules
  POST /__sim/sessions/expire       expire every session
  POST /__sim/result-ids/expire     expire every readByQuery resultId";

/// Parses `--scale`.
fn parse_scale(text: &str) -> Result<Scale, String> {
    match text {
        "tiny" => Ok(Scale::Tiny),
        "demo" => Ok(Scale::Demo),
        "large" => Ok(Scale::Large),
        n => n
            .parse()
            .map(Scale::Records)
            .map_err(|_| format!("scale must be tiny, demo, large or a number, not {n:?}")),
    }
}

impl SimArgs {
    /// The server configuration these options describe.
    pub fn config(&self) -> SimConfig {
        SimConfig {
            credentials: SimCredentials {
                sender_id: self.sender_id.clone(),
                sender_password: Secret::new(self.sender_password.clone()),
                company_id: self.company_id.clone(),
                user_id: self.user_id.clone(),
                user_password: Secret::new(self.user_password.clone()),
            },
            dataset: DatasetConfig {
                seed: self.seed,
                scale: self.scale,
                start: self.start,
                time_zone: self.time_zone,
            },
            session_timeout_secs: self.session_timeout_secs,
            result_id_ttl_secs: self.result_id_ttl_secs,
            latency_ms: self.latency_ms,
            max_concurrent: self.max_concurrent,
            faults: self.faults.clone(),
            advertised_endpoint: self.advertised_endpoint.clone(),
            count_limit: self.count_limit,
            audit_lag_secs: crate::sim::dataset::DEFAULT_AUDIT_LAG_SECS,
            user_formatting: config::SimUserFormatting::default(),
        }
    }
}

/// Resolves when the process gets SIGINT or SIGTERM.
async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs `sim intacct` until interrupted: prints `listening on http://ADDR` once ready.
pub async fn run_command(args: SimArgs) -> crate::Result<()> {
    let config = args.config();
    faults::FaultPlan::parse(&config.faults, 0).map_err(|message| crate::Error::Config {
        location: "--faults".into(),
        message,
    })?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|source| crate::Error::Io {
            path: args.listen.clone(),
            source,
        })?;
    server::serve_when_ready(listener, interrupted(), config, |addr| {
        let mut stdout = std::io::stdout();
        let _ = writeln!(stdout, "listening on http://{addr}");
        let _ = stdout.flush();
    })
    .await
}
