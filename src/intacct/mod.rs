//! The Intacct side: the XML wire protocol (pure), sessions and the paging client (IO).
//!
//! * `request` — request types and their rendering to XML, with escaping;
//! * `response` — the typed values a response parses into;
//! * `parse` — the streaming response parser (three error levels, records, metadata);
//! * `codes` — what Intacct error numbers mean for retrying;
//! * `names` — the rule from Intacct field names to Snowflake columns;
//! * [`objects`] — per-object facts of real tenants (delete keys, line headers, private fields);
//! * `client` — the client of one company: sessions, calls with retries, `lookup` (its docs:
//!   retries, multi-entity companies);
//! * `reader` — object reads on top of it: the read types, and one read's passes, keyset
//!   chains and RECORDNO slices, as a stream of pages (its docs: reads, concurrency);
//! * `session` — the shared, single-flight `getAPISession` cache;
//! * `preferences` — the API user's date/time preferences and the start-up check;
//! * `paging` — the keyset cursor over RECORDNO inside a closed window;
//! * `transport` — one HTTP exchange, retries, and what every request of a company passes
//!   through: its request slots, the run's transactions, the request sequence;
//! * `slots` — the company's request slots, adapted to the gateway's answers (AIMD);
//! * `ledger` — the run's transactions per object and kind, and their budget;
//! * [`tenant_time`] — UTC instants to and from the tenant's wall-clock text.
//!
//! The public surface is what the binary, the tests and the benchmarks use: the items
//! re-exported below, and the two pure tables [`objects`] and [`tenant_time`].

pub(crate) mod client;
pub(crate) mod codes;
mod ledger;
pub(crate) mod names;
pub mod objects;
pub(crate) mod paging;
pub(crate) mod parse;
pub(crate) mod preferences;
mod reader;
pub(crate) mod request;
pub(crate) mod response;
mod session;
mod slots;
pub mod tenant_time;
mod transport;

pub use client::{ClientConfig, IntacctClient, IntacctUsage};
pub use codes::{FailureClass, classify, is_retryable};
pub use ledger::{Tally, TransactionCounts, TransactionKind, TransactionUsage};
pub use names::column_name;
pub use paging::{Cursor, KeyFields, PageOrder, Pass, RecordKey, TimeWindow};
pub use parse::parse_response;
pub use preferences::AUDIT_TRAIL_PERMISSION;
pub use reader::{ObjectRead, Page, ReadMethod, ReadProgress, ReadRequest};
pub use request::{
    Authentication, Call, Comparison, Filter, Function, OrderBy, Query, ReadByQuery, Request,
    SenderCredentials, escape_attr, escape_text, is_forbidden_xml_char, render_request,
};
pub use response::{
    ErrorDetail, ErrorLevel, FieldMeta, IntacctFailure, IntacctType, ObjectMeta, RecordPage,
    Response, ResultData,
};
pub use slots::ConcurrencyUsage;
