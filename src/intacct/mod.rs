//! The Intacct side: the XML wire protocol (pure), sessions and the paging client (IO).
//!
//! * [`request`] — request types and their rendering to XML, with escaping;
//! * [`response`] — the typed values a response parses into;
//! * [`parse`] — the streaming response parser (three error levels, records, metadata);
//! * [`codes`] — what Intacct error numbers mean for retrying;
//! * [`names`] — the rule from Intacct field names to Snowflake columns.

pub mod codes;
pub mod names;
pub mod parse;
pub mod request;
pub mod response;
