//! A local simulator of the Sage Intacct XML gateway: the `intacct-sim` binary (also run as
//! `intacct-snowflake sim intacct`), and in process through [`spawn`] for the tests and the
//! benchmarks.
//!
//! One port serves both the gateway, `POST /ia/xml/xmlgw.phtml`, and an admin API under
//! `/__sim/` (`admin`). The gateway implements `getAPISession`, `query`, `readByQuery`,
//! `readMore`, `read`, `lookup` and `inspect` over a seeded `dataset`, with the reference's
//! three error levels, sliding session timeouts, expiring resultIds, a per-company concurrency
//! limit, per-page latency and injected `faults`.
//!
//! It is a client of the product like any other: it uses only the product's public protocol
//! surface (`intacct_snowflake::intacct`'s request and response types and time formats,
//! `Secret`, `Error`).
//!
//! # Layout
//!
//! * `request_parse` — request XML → protocol types;
//! * `filter_eval`, `rbq_query` — filters and readByQuery query strings, evaluated on records;
//! * `audit` — which AUDITHISTORY reads the gateway admits, and the log of them;
//! * `query_exec` — runs one read: checks the object, the fields and the sort's cost, pages
//!   and counts the matches; `query_exec/plan` reads from the filter which index range to
//!   visit and whether the requested order streams; `query_exec/scan` visits it, rendering
//!   only what decides the filter (or nothing: stamps);
//! * `gateway` — authentication, sessions, cursors, one result per function;
//! * `response_write` — response XML in the fixtures' shape;
//! * `entities` — multi-entity companies: record owners, what each session sees;
//! * `dataset` — the seeded, deterministic data and its changes over simulated time;
//! * `faults` — the fault spec and the plan that injects it (the maintenance answer among it);
//! * `slots` — a company's request slots: the limit, the hold and the refusal, requests that
//!   keep running after their client went away, a co-tenant's bursts (the evidence and the
//!   guesses are in its docs);
//! * `state` — what the HTTP handlers share: the gateway, the faults, the slots;
//! * `server`, `admin`, `handle` — HTTP, the admin API, the in-process handle;
//! * `config` — the server's configuration and the test credentials;
//! * `cli` (private; [`run_cli`] is the binary's entry) — the command-line options of
//!   `intacct-sim`, serving until interrupted, exit codes;
//! * `shutdown` (private) — SIGINT and SIGTERM.
//!
//! Documented choices where the real gateway's behaviour is unverified: expired or unknown
//! session ids fail at the authentication level with `XL03000006`; a request over the
//! company's limit (two by default) is held 30 s and then refused with `200024` "There are too
//! many operations running for this company (200024)" at the control, operation or result
//! level in turn (`slots`); a request whose client went away keeps its slot until its work
//! would have ended, one the CDN cut (`http524`) for 15 minutes; the maintenance answer is an
//! HTTP 503 "The Service is Temporarily Off-line" (`faults`); a duplicate function controlid
//! under `uniqueid=true` fails its result with `XL03000010`;
//! `sessiontimestamp` is the simulated clock (in the tenant time zone, with its offset), the
//! clock that stamps records and audit rows too, and `sessiontimeout` a session duration
//! after it, as Sage documents it ("the session duration … plus the current time"); the
//! simulated clock stands still between simulated days (`POST /__sim/advance`), so every
//! answer of a day tells the same time. A client's skew against it is set on the client's
//! side (`INTACCT_SNOWFLAKE_NOW`).
//!
//! Cost: `query` reports an exact `totalcount`, which visits every match in the scanned index
//! range. Only the page's records are rendered in full; the count renders just the columns
//! the filter and the index order read, so a keyset page on `large` costs a light pass over
//! the rest of its window. `--count-limit N` bounds that pass to N matches past the page.

mod admin;
mod audit;
mod cli;
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
mod shutdown;
mod slots;
mod state;

pub use cli::main as run_cli;
pub use config::{
    CoTenant, DEFAULT_COMPANY_ID, DEFAULT_CONCURRENCY_HOLD_MS, DEFAULT_DETACHED_SLOT_MS,
    DEFAULT_MAX_CONCURRENT, DEFAULT_SENDER_ID, DEFAULT_SENDER_PASSWORD, DEFAULT_SORT_TIMEOUT_ROWS,
    DEFAULT_USER_ID, DEFAULT_USER_PASSWORD, RefusalLevel, SimConfig, SimCredentials,
    SimUserFormatting,
};
pub use dataset::{Dataset, DatasetConfig, NEW_CUSTOM_FIELD, Scale, SimRecord};
pub use entities::MultiEntity;
pub use handle::{SimHandle, spawn};
pub use server::serve;
