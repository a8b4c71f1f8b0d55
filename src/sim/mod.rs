//! A local simulator of the Sage Intacct XML gateway (`intacct-snowflake sim intacct`).
//!
//! One port serves both the gateway, `POST /ia/xml/xmlgw.phtml`, and an admin API under
//! `/__sim/` (`admin`). The gateway implements `getAPISession`, `query`, `readByQuery`,
//! `readMore`, `read`, `lookup` and `inspect` over a seeded `dataset`, with the reference's
//! three error levels, sliding session timeouts, expiring resultIds, a per-company concurrency
//! limit, per-page latency and injected `faults`.
//!
//! Module map:
//! * `request_parse` — request XML → protocol types;
//! * `filter_eval`, `rbq_query`, `query_exec` — filters, readByQuery strings, scans;
//! * `gateway` — authentication, sessions, cursors, one result per function;
//! * `response_write` — response XML in the fixtures' shape;
//! * `entities` — multi-entity companies: record owners, what each session sees;
//! * `server`, `admin`, `handle` — HTTP, admin API, in-process handle for tests.
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

mod admin;
pub(crate) mod config;
pub(crate) mod dataset;
pub mod entities;
mod faults;
mod filter_eval;
mod gateway;
mod handle;
mod query_exec;
mod rbq_query;
mod request_parse;
mod response_write;
mod server;

use std::io::Write as _;

pub use config::{
    DEFAULT_COMPANY_ID, DEFAULT_SENDER_ID, DEFAULT_SENDER_PASSWORD, DEFAULT_SORT_TIMEOUT_ROWS,
    DEFAULT_USER_ID, DEFAULT_USER_PASSWORD, SimConfig, SimCredentials, SimUserFormatting,
};
pub use dataset::{Dataset, DatasetConfig, Scale, SimRecord};
pub use entities::MultiEntity;
pub use handle::{SimHandle, spawn};
pub use server::serve;

/// Serves the simulator on `listen` until interrupted: prints `listening on http://ADDR`
/// once ready (what `sim intacct` runs).
pub async fn serve_until_interrupted(listen: &str, config: SimConfig) -> crate::Result<()> {
    faults::FaultPlan::parse(&config.faults, 0).map_err(|message| crate::Error::Config {
        location: "--faults".into(),
        message,
    })?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| crate::Error::Io {
            path: listen.to_owned(),
            source,
        })?;
    server::serve_when_ready(listener, crate::shutdown::requested(), config, |addr| {
        let mut stdout = std::io::stdout();
        let _ = writeln!(stdout, "listening on http://{addr}");
        let _ = stdout.flush();
    })
    .await
}
