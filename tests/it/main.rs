//! The one integration-test binary: every integration test is a module here, so arrow and
//! parquet are linked once.

mod bad_input;
mod chaos;
mod cli;
mod client;
mod deletes;
mod end_to_end;
mod entities;
mod exit_codes;
mod extract;
mod keys;
mod lines;
mod load;
mod lock;
mod privacy;
mod protocol;
mod raw_pages;
mod secret_hygiene;
mod sim;
mod sim_dataset;
mod snowflake;
mod stage;
mod support;
mod time_zones;
mod values;
