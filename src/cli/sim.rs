//! `sim intacct`: runs the Intacct gateway simulator, the `intacct-sim` binary that a workspace
//! build (`cargo build --release`) puts beside this one.
//!
//! Every argument after `sim intacct` reaches the simulator unchanged, `--help` included. On
//! Unix this process becomes the simulator (exec), so the pid the caller holds and the signals
//! it sends are the simulator's; elsewhere the simulator runs as a child and its exit code is
//! this process's. The log settings (`--log`, `--log-format`, or their environment) travel in
//! `INTACCT_SIM_LOG` and `INTACCT_SIM_LOG_FORMAT`, which the simulator reads.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Args;

use super::LogFormat;
use crate::error::{Error, Result};

/// The simulator's binary name.
const SIMULATOR: &str = "intacct-sim";

/// `sim intacct`: every argument is the simulator's.
#[derive(Debug, Args)]
#[command(disable_help_flag = true, disable_version_flag = true)]
pub(crate) struct SimArgs {
    /// The simulator's options and their values (`sim intacct --help` lists them).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    args: Vec<OsString>,
    /// The log filter given to this command, if any (the simulator has its own default).
    #[arg(from_global)]
    log: Option<String>,
    /// The log format given to this command.
    #[arg(from_global)]
    log_format: LogFormat,
    /// `--log-json`, the older spelling of `--log-format json`.
    #[arg(from_global)]
    log_json: bool,
}

/// Runs the simulator beside the current executable with `args`; returns only if it cannot
/// be started (on Unix) or never (elsewhere: it exits with the simulator's code).
pub(super) fn run(args: SimArgs) -> Result<()> {
    let here = std::env::current_exe().map_err(|source| Error::Io {
        path: "the current executable".into(),
        source,
    })?;
    let simulator = beside(&here);
    if !simulator.is_file() {
        return Err(Error::Io {
            path: simulator.display().to_string(),
            source: io::Error::new(
                io::ErrorKind::NotFound,
                "the simulator's binary is missing; `cargo build --release` builds it beside \
                 intacct-snowflake (or `cargo build -p intacct-sim` for a debug build)",
            ),
        });
    }
    let json = args.log_json || args.log_format == LogFormat::Json;
    let mut command = Command::new(&simulator);
    command
        .args(&args.args)
        .env("INTACCT_SIM_LOG_FORMAT", if json { "json" } else { "text" });
    if let Some(log) = &args.log {
        command.env("INTACCT_SIM_LOG", log);
    }
    let started = |source| Error::Io {
        path: simulator.display().to_string(),
        source,
    };
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        // exec returns only when it failed.
        Err(started(command.exec()))
    }
    #[cfg(not(unix))]
    {
        let status = command.status().map_err(started)?;
        std::process::exit(status.code().unwrap_or(1))
    }
}

/// `intacct-sim` in the directory of `executable` (the only place looked at: a binary on
/// `PATH` could be another build).
fn beside(executable: &Path) -> PathBuf {
    executable.with_file_name(format!("{SIMULATOR}{}", std::env::consts::EXE_SUFFIX))
}
