//! A local simulator of the Sage Intacct XML gateway.

pub mod dataset;

use clap::Args;

/// Options of `sim intacct`.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Address to listen on (loopback; port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8085")]
    pub listen: String,
}

/// Runs `sim intacct` until interrupted.
pub async fn run_command(args: SimArgs) -> crate::Result<()> {
    let _ = args;
    Err(crate::Error::NotImplemented("sim intacct"))
}
