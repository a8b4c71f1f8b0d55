//! The command-line interface: argument types (clap derive) and dispatch.
//!
//! `main` stays thin: it parses arguments, sets up tracing and the tokio runtime, runs the
//! command, and maps [`crate::Error::exit_code`] to the process exit code. Commands that are
//! planned but not built yet say so and exit with code 3.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::error::{Error, Result};

/// Moves Sage Intacct accounting data into Snowflake through typed Parquet files on a stage.
///
/// A pipeline file (default `pipelines/demo.toml`) says where Intacct, the stage and Snowflake
/// are, which objects to move, and how. Secrets come from the environment or from an
/// age-encrypted credentials file, never from the pipeline file.
#[derive(Debug, Parser)]
#[command(name = "intacct-snowflake", version, propagate_version = true)]
pub struct Cli {
    /// Log filter, e.g. `info`, `debug`, `intacct_snowflake=debug` (also RUST_LOG).
    #[arg(
        long,
        global = true,
        env = "INTACCT_SNOWFLAKE_LOG",
        default_value = "info"
    )]
    pub log: String,

    /// Log as JSON lines instead of text (for schedulers and log shippers).
    #[arg(long, global = true)]
    pub log_json: bool,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Every command the tool offers.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Extract changed records and load them: the nightly job (extract, then load).
    Run(PipelineArgs),
    /// Extract records changed since each object's watermark to Parquet on the stage.
    Extract(ExtractArgs),
    /// Load staged batches into Snowflake with COPY INTO and MERGE.
    Load(PipelineArgs),
    /// Extract and load explicit time windows without moving the nightly watermark.
    Backfill(PipelineArgs),
    /// Load saved batches again from the stage alone, without calling Intacct.
    Replay(PipelineArgs),
    /// Show, per object, the watermark, batches by state, rows and bytes (from the manifest).
    Status(StatusArgs),
    /// Compare Snowflake with the manifest (row counts per batch and per object).
    Verify(PipelineArgs),
    /// Print the Snowflake DDL and statements the loader would run.
    Sql(PipelineArgs),
    /// Create the Snowflake objects (file format, stage, tables) for a pipeline.
    Init(PipelineArgs),
    /// Local stand-ins for development and tests.
    #[command(subcommand)]
    Sim(SimCommand),
    /// Manage the age-encrypted credentials file.
    #[command(subcommand)]
    Secrets(SecretsCommand),
}

/// Options shared by every command that works on a pipeline.
#[derive(Debug, Args)]
pub struct PipelineArgs {
    /// The pipeline file.
    #[arg(long, short, default_value = "pipelines/demo.toml")]
    pub config: PathBuf,
}

/// Options of `extract`.
#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// The pipeline file.
    #[arg(long, short, default_value = "pipelines/demo.toml")]
    pub config: PathBuf,
    /// Only these objects (comma-separated Intacct names, e.g. `VENDOR,APBILL`).
    #[arg(long, value_delimiter = ',')]
    pub objects: Vec<String>,
    /// Do not draw progress bars even on a terminal.
    #[arg(long)]
    pub no_progress: bool,
    /// End every window at this RFC 3339 instant instead of the current time (for simulated
    /// clocks in tests and demos).
    #[arg(long, env = "INTACCT_SNOWFLAKE_NOW", hide = true)]
    pub now: Option<String>,
}

/// Options of `status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The pipeline file.
    #[arg(long, short, default_value = "pipelines/demo.toml")]
    pub config: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// The local stand-ins.
#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Serve a simulator of the Intacct XML gateway on loopback.
    Intacct(crate::sim::SimArgs),
}

/// Credentials-file commands.
#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Encrypt `KEY=VALUE` lines from standard input into an age credentials file.
    Encrypt(crate::config::credentials::EncryptArgs),
    /// List the names (never the values) of the secrets in a credentials file.
    List(crate::config::credentials::ListArgs),
}

/// Parses the process arguments, runs the command and returns the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(&cli.log, cli.log_json);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}

fn init_tracing(filter: &str, json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .or_else(|| EnvFilter::try_new(filter).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Runs one command.
pub async fn run(command: Command) -> Result<()> {
    match command {
        Command::Extract(args) => crate::pipeline::extract_command(args).await,
        Command::Status(args) => crate::pipeline::status_command(args).await,
        Command::Sim(SimCommand::Intacct(args)) => crate::sim::run_command(args).await,
        Command::Secrets(SecretsCommand::Encrypt(args)) => {
            crate::config::credentials::encrypt_command(args)
        }
        Command::Secrets(SecretsCommand::List(args)) => {
            crate::config::credentials::list_command(args)
        }
        Command::Run(_) => Err(Error::NotImplemented("run")),
        Command::Load(_) => Err(Error::NotImplemented("load")),
        Command::Backfill(_) => Err(Error::NotImplemented("backfill")),
        Command::Replay(_) => Err(Error::NotImplemented("replay")),
        Command::Verify(_) => Err(Error::NotImplemented("verify")),
        Command::Sql(_) => Err(Error::NotImplemented("sql")),
        Command::Init(_) => Err(Error::NotImplemented("init")),
    }
}
