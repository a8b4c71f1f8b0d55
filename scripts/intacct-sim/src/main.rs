//! The `intacct-sim` command: serve the Intacct gateway simulator on loopback until stopped.

use std::process::ExitCode;

fn main() -> ExitCode {
    intacct_sim::run_cli()
}
