//! The one integration-test binary: every integration test is a module here, so arrow and
//! parquet are linked once.

mod after_command;
mod aging;
mod bad_input;
mod chaos;
mod check;
mod cli;
mod client;
mod deletes;
mod deploy;
mod dry_run;
mod end_to_end;
mod entities;
mod exit_codes;
mod extract;
mod keys;
mod load;
mod lock;
mod privacy;
mod protocol;
mod prune;
mod raw_pages;
mod reset;
mod schema_changes;
mod secret_hygiene;
mod sim;
mod sim_dataset;
mod slots;
mod snowflake;
mod stage;
mod status_page;
mod support;
mod terminal;
mod time_zones;
mod values;
