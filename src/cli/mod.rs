//! The command-line interface: argument types (clap derive), one file per command body, the
//! printing, and the exit codes. The only place clap lives.
//!
//! `main` stays thin: it parses arguments, sets up tracing (colour only on a terminal, JSON on
//! request) and the tokio runtime, and runs the command. A command that finished exits with
//! its run report's outcome ([`exit_code`]); one that stopped on an error, with the error's
//! ([`crate::Error::exit_code`]). The README's "Exit codes" lists both.

mod commands;
mod interrupt;
mod secrets;
mod sim;
mod summary;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::error::Result;
use crate::pipeline::Outcome;

/// Moves Sage Intacct accounting data into Snowflake through typed Parquet files on a stage.
///
/// A pipeline file (default `pipelines/demo.toml`) says where Intacct, the stage and Snowflake
/// are, which objects to move, and how. Secrets come from the environment or from an
/// age-encrypted credentials file, never from the pipeline file.
///
/// The nightly job is `intacct-snowflake run --config pipelines/nightly.toml`; `init` once
/// before the first run (and safely at any time after).
#[derive(Debug, Parser)]
#[command(name = "intacct-snowflake", version, propagate_version = true)]
pub(crate) struct Cli {
    /// Log filter, e.g. `info`, `debug`, `intacct_snowflake=debug` (also RUST_LOG).
    #[arg(
        long,
        global = true,
        env = "INTACCT_SNOWFLAKE_LOG",
        default_value = "info"
    )]
    pub log: String,

    /// Log format: `text` (colour only on a terminal) or `json` (one object per line, for
    /// schedulers and log shippers).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Same as `--log-format json`.
    #[arg(long, global = true, hide = true)]
    pub log_json: bool,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// How log lines are written to stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    Text,
    /// JSON lines.
    Json,
}

/// Every command the tool offers.
#[derive(Debug, Subcommand)]
// One value per process, parsed once: its size does not matter, and boxing clap arguments
// would only add indirection.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Command {
    /// The nightly job: load what an earlier run left staged, extract every object changed
    /// since its watermark (minus the lookback; deletes included), and load it.
    ///
    /// The first run of an object is its full initial load. Example:
    ///
    ///     intacct-snowflake run --config pipelines/nightly.toml
    #[command(verbatim_doc_comment)]
    Run(RunArgs),
    /// Extract records changed since each object's mark to Parquet on the stage (no load).
    ///
    /// Example: `intacct-snowflake extract --objects VENDOR,APBILL`
    Extract(RunArgs),
    /// Load every staged, unloaded batch into Snowflake (COPY INTO, MERGE, cleanup).
    ///
    /// A batch a crashed run left half-loaded resumes at the step it reached, resending the
    /// requestId recorded in the manifest. Example: `intacct-snowflake load`
    Load(ObjectArgs),
    /// Extract and load explicit time windows without moving the nightly watermark.
    ///
    /// `[--from, --to)` is cut into windows (`--window`, default 30 days) that are extracted
    /// and loaded in parallel within the pipeline's concurrency. Interrupted, it resumes: a
    /// window already loaded is not redone, one already staged is only loaded. It takes the
    /// pipeline's run lock, so a nightly run of the same pipeline waits (exit code 4) rather
    /// than interleave. Example:
    ///
    ///     intacct-snowflake backfill --from 2023-01-01 --to 2026-01-01 --window 30d
    #[command(verbatim_doc_comment)]
    Backfill(BackfillArgs),
    /// Load saved batches again from the stage alone, without calling Intacct.
    ///
    /// Each saved batch becomes a replay batch (same files) that is loaded with COPY FORCE and
    /// MERGE: a newer row is never overwritten by an older one, so a replay is safe to run any
    /// number of times, on any machine that can read the stage. Examples:
    ///
    ///     intacct-snowflake replay --batch 3f2c…
    ///     intacct-snowflake replay --object APBILL --since 2026-01-01 --until 2026-02-01
    #[command(verbatim_doc_comment)]
    Replay(ReplayArgs),
    /// Show, per object, the watermark, lag, batches by state, rows and the last failures.
    Status(StatusArgs),
    /// Compare Intacct's keys with Snowflake's live rows, per object.
    ///
    /// Keys live in Snowflake but gone from Intacct are marked deleted (through a staged batch
    /// of tombstones, recorded in the manifest); keys Intacct has that Snowflake lacks are
    /// reported. Exits with code 5 when anything differed. Example:
    ///
    ///     intacct-snowflake verify --objects VENDOR,APBILL
    #[command(verbatim_doc_comment)]
    Verify(VerifyArgs),
    /// Print every statement `init` and a load of the staged batches would send (sends nothing).
    ///
    /// Example: `intacct-snowflake sql --config pipelines/nightly.toml > review.sql`
    Sql(ObjectArgs),
    /// Create (or bring up to date) the Snowflake schema, file format, stage, tables and
    /// reporting views. Idempotent: safe to re-run at any time; never drops or replaces data.
    ///
    /// Example: `intacct-snowflake init --config pipelines/nightly.toml`
    Init(ObjectArgs),
    /// Run one read-only query (SELECT, WITH, SHOW, DESCRIBE) in the pipeline's database and
    /// schema and print the rows as a table.
    ///
    /// Example: `intacct-snowflake query "SELECT * FROM AP_AGING ORDER BY TOTAL_DUE DESC" --limit 10`
    Query(QueryArgs),
    /// Local stand-ins for development and tests.
    #[command(subcommand)]
    Sim(SimCommand),
    /// Manage the age-encrypted credentials file.
    #[command(subcommand)]
    Secrets(SecretsCommand),
}

/// Options of commands that work on a pipeline's objects.
#[derive(Debug, Args)]
pub(crate) struct ObjectArgs {
    /// The pipeline file.
    #[arg(long, short, default_value = "pipelines/demo.toml")]
    pub config: PathBuf,
    /// Only these objects (comma-separated Intacct names, e.g. `VENDOR,APBILL`).
    #[arg(long, value_delimiter = ',')]
    pub objects: Vec<String>,
}

/// Options of `run` and `extract`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The pipeline file and objects.
    #[command(flatten)]
    pub pipeline: ObjectArgs,
    /// Do not draw progress bars even on a terminal.
    #[arg(long)]
    pub no_progress: bool,
    /// End every window at this RFC 3339 instant instead of the current time (for simulated
    /// clocks in tests and demos).
    #[arg(long, env = "INTACCT_SNOWFLAKE_NOW", hide = true)]
    pub now: Option<String>,
}

/// Options of `backfill`.
#[derive(Debug, Args)]
pub(crate) struct BackfillArgs {
    /// The pipeline file and objects.
    #[command(flatten)]
    pub pipeline: ObjectArgs,
    /// Start of the range: a date (YYYY-MM-DD, midnight UTC) or an RFC 3339 instant.
    #[arg(long)]
    pub from: String,
    /// End of the range (exclusive), same forms.
    #[arg(long)]
    pub to: String,
    /// Window length: `30d`, `12h`, `2w`.
    #[arg(long, default_value = "30d")]
    pub window: String,
    /// Do not draw progress bars even on a terminal.
    #[arg(long)]
    pub no_progress: bool,
}

/// Options of `replay`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["batch", "object"])))]
pub(crate) struct ReplayArgs {
    /// The pipeline file.
    #[arg(long, short, default_value = "pipelines/demo.toml")]
    pub config: PathBuf,
    /// Batches to load again (ids from `status`, the run reports or the manifest).
    #[arg(long, num_args = 1.., value_delimiter = ',')]
    pub batch: Vec<String>,
    /// Every loaded batch of this object (narrowed by --since and --until).
    #[arg(long)]
    pub object: Option<String>,
    /// Only batches whose window ends after this date (YYYY-MM-DD, UTC) or RFC 3339 instant.
    #[arg(long, requires = "object")]
    pub since: Option<String>,
    /// Only batches whose window starts before this date or instant.
    #[arg(long, requires = "object")]
    pub until: Option<String>,
}

/// Options of `verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The pipeline file and objects.
    #[command(flatten)]
    pub pipeline: ObjectArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Read Intacct as of this RFC 3339 instant instead of the current time (simulated clocks).
    #[arg(long, env = "INTACCT_SNOWFLAKE_NOW", hide = true)]
    pub now: Option<String>,
}

/// Options of `query`.
#[derive(Debug, Args)]
pub(crate) struct QueryArgs {
    /// The pipeline file.
    #[arg(long, short, default_value = "pipelines/demo.toml")]
    pub config: PathBuf,
    /// The statement.
    pub sql: String,
    /// Print at most this many rows.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

/// Options of `status`.
#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// The pipeline file.
    #[arg(long, short, default_value = "pipelines/demo.toml")]
    pub config: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// The local stand-ins.
#[derive(Debug, Subcommand)]
pub(crate) enum SimCommand {
    /// Serve a simulator of the Intacct XML gateway on loopback: runs `intacct-sim`, built
    /// beside this binary, with the same arguments (`sim intacct --help` lists them).
    Intacct(sim::SimArgs),
}

/// Credentials-file commands.
#[derive(Debug, Subcommand)]
pub(crate) enum SecretsCommand {
    /// Encrypt `KEY=VALUE` lines from standard input into an age credentials file.
    Encrypt(secrets::EncryptArgs),
    /// List the names (never the values) of the secrets in a credentials file.
    List(secrets::ListArgs),
}

/// Parses the process arguments, runs the command and returns the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let format = if cli.log_json {
        LogFormat::Json
    } else {
        cli.log_format
    };
    init_tracing(&cli.log, format);
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
        Ok(outcome) => ExitCode::from(exit_code(outcome)),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}

fn init_tracing(filter: &str, format: LogFormat) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .or_else(|| EnvFilter::try_new(filter).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
    }
}

/// The process exit code of a command that finished with `outcome`: 0 success, 1 every
/// object or batch failed, 3 some did (or the transaction budget stopped the run), 4 Intacct
/// is offline for maintenance (try again later, like a held run lock), 5 `verify` found
/// differences.
pub(crate) fn exit_code(outcome: Outcome) -> u8 {
    match outcome {
        Outcome::Success => 0,
        Outcome::Failed => 1,
        Outcome::Partial => 3,
        Outcome::TryLater => 4,
        Outcome::VerifyDiffers => 5,
    }
}

/// Runs one command; the outcome of its run report (a success for the commands that leave
/// none).
pub(crate) async fn run(command: Command) -> Result<Outcome> {
    let done = |result: Result<()>| result.map(|()| Outcome::Success);
    match command {
        Command::Run(args) => commands::run(args).await,
        Command::Extract(args) => commands::extract(args).await,
        Command::Load(args) => commands::load(args).await,
        Command::Init(args) => done(commands::init(args).await),
        Command::Sql(args) => done(commands::sql(args).await),
        Command::Status(args) => done(commands::status(args).await),
        Command::Query(args) => done(commands::query(args).await),
        Command::Sim(SimCommand::Intacct(args)) => done(sim::run(args)),
        Command::Secrets(SecretsCommand::Encrypt(args)) => done(secrets::encrypt(args)),
        Command::Secrets(SecretsCommand::List(args)) => done(secrets::list(args)),
        Command::Backfill(args) => commands::backfill(args).await,
        Command::Replay(args) => commands::replay(args).await,
        Command::Verify(args) => commands::verify(args).await,
    }
}
