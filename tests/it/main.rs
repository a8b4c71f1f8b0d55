//! The one integration-test binary: every integration test is a module here, so arrow and
//! parquet are linked once.

mod cli;
mod client;
mod deletes;
mod extract;
mod privacy;
mod protocol;
mod raw_pages;
mod sim;
mod sim_dataset;
mod stage;
mod support;
mod values;
