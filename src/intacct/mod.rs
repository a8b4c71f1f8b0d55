//! The Intacct side: the XML wire protocol (pure), sessions and the paging client (IO).
//!
//! * [`request`] — request types and their rendering to XML, with escaping;
//! * [`response`] — the typed values a response parses into;
//! * [`parse`] — the streaming response parser (three error levels, records, metadata);
//! * [`codes`] — what Intacct error numbers mean for retrying;
//! * [`names`] — the rule from Intacct field names to Snowflake columns;
//! * [`objects`] — per-object facts of real tenants (delete keys, line headers);
//! * [`client`] — the paging client of one company: reads objects as streams of pages;
//! * `session` — the shared, single-flight `getAPISession` cache;
//! * `preferences` — the API user's date/time preferences and the start-up check;
//! * [`paging`] — the keyset cursor over (timestamp, RECORDNO);
//! * [`backoff`] — the retry policy, now [`crate::retry`] (shared with the Snowflake client);
//! * `transport` — one HTTP exchange, the per-company concurrency limit, retries;
//! * [`tenant_time`] — UTC instants to and from the tenant's wall-clock text.

pub use crate::retry as backoff;
pub mod client;
pub mod codes;
pub mod names;
pub mod objects;
pub mod paging;
pub mod parse;
mod preferences;
pub mod request;
pub mod response;
mod session;
pub mod tenant_time;
mod transport;
