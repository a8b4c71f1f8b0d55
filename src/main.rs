//! The `intacct-snowflake` command: parse arguments, set up logging and the runtime, run,
//! and map the outcome to an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    intacct_snowflake::run_cli()
}
