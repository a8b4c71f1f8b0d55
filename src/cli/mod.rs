//! The command-line interface: argument types (clap derive), one file per command body, the
//! printing, and the exit codes. The only place clap lives.
//!
//! `main` stays thin: it parses arguments, sets up tracing (colour only on a terminal, JSON on
//! request) and the tokio runtime, and runs the command. A command that finished exits with
//! its run report's outcome ([`exit_code`]); one that stopped on an error, with the error's
//! ([`crate::Error::exit_code`]). The README's "Exit codes" lists both.

mod commands;
mod epilogue;
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
    /// Log filter, e.g. `info`, `debug`, `intacct_snowflake=debug` (also RUST_LOG, which
    /// wins). Without either: on a terminal only warnings and errors (the progress bars and
    /// the summary tables say the rest; `--log info` brings the detail back); redirected (a
    /// file, a scheduler, CI), `info`.
    #[arg(long, global = true, env = "INTACCT_SNOWFLAKE_LOG")]
    pub log: Option<String>,

    /// Log format: `text` (colour only on a terminal) or `json` (one object per line, for
    /// schedulers and log shippers).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Same as `--log-format json`.
    #[arg(long, global = true, hide = true)]
    pub log_json: bool,

    /// After the command, write its figures to this file in Prometheus' text format (for
    /// node_exporter's textfile collector), atomically: per object the last load, rows,
    /// deleted rows, lag, batches by state and Intacct requests; the exit code and duration.
    /// Example: `--metrics-file /var/lib/node_exporter/textfile/intacct_nightly.prom`
    #[arg(long, global = true, value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,

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
    /// The first run of an object is its full initial load. `--dry-run` prints the plan (the
    /// windows and why, the staged batches loaded first, their statements) and sends nothing.
    /// Examples:
    ///
    ///     intacct-snowflake run --config pipelines/nightly.toml
    ///     intacct-snowflake run --config pipelines/nightly.toml --dry-run
    #[command(verbatim_doc_comment)]
    Run(RunArgs),
    /// Extract records changed since each object's mark to Parquet on the stage (no load).
    ///
    /// Example: `intacct-snowflake extract --objects VENDOR,APBILL`
    Extract(RunArgs),
    /// Load every staged, unloaded batch into Snowflake (COPY INTO, a count of the staged
    /// rows, MERGE, cleanup).
    ///
    /// A batch a crashed run left half-loaded resumes at the step it reached: it polls the
    /// statement handle recorded in the manifest, or resends the recorded requestId; a step
    /// that failed for certain is sent again under a new one. A batch with no rows sends
    /// nothing. Example: `intacct-snowflake load`
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
    /// Show, per object, the watermark, lag, batches by state, rows, quarantined values, the
    /// last failures and the changes loads made to its table (with the backfill that fills a
    /// new column for older rows), and the reporting views the newest run could not build
    /// (with the missing columns).
    ///
    /// `--html FILE` also writes the same as one self-contained page (no script, nothing from
    /// the network) with a chart of the last 30 runs; every run leaves one beside its report on
    /// the stage (`_reports/<run_id>.html`). Examples:
    ///
    ///     intacct-snowflake status --config pipelines/nightly.toml
    ///     intacct-snowflake status --config pipelines/nightly.toml --html status.html
    #[command(verbatim_doc_comment)]
    Status(StatusArgs),
    /// Accept the schema changes a frozen object's staged batches hold (`schema = "freeze"`).
    ///
    /// A batch that brings a new column or a wider type to an object whose schema is frozen
    /// stays staged and is not loaded; its error names each column. This records the
    /// acceptance in the manifest; the next `load` or `run` then changes the table and loads
    /// the batch. Example:
    ///
    ///     intacct-snowflake accept-schema --config pipelines/nightly.toml --object VENDOR
    ///     intacct-snowflake load --config pipelines/nightly.toml --objects VENDOR
    #[command(verbatim_doc_comment)]
    AcceptSchema(AcceptSchemaArgs),
    /// Print a dbt `sources.yml` (version 2) for every loaded table, from the schemas on the
    /// stage: columns with their Snowflake types, `loaded_at_field: _EXTRACTED_AT`, a
    /// freshness block, `unique` and `not_null` on each merge key, `_DELETED` described.
    ///
    /// Example: `intacct-snowflake dbt-sources --config pipelines/nightly.toml > models/staging/intacct/sources.yml`
    DbtSources(DbtSourcesArgs),
    /// Rebuild one object from Intacct beside its live table and swap it in.
    ///
    /// Reads the whole object again into a batch, loads it into `<OBJECT>__RESET` (created
    /// from the batch's schema and the live table's other columns), then `ALTER TABLE <OBJECT>
    /// SWAP WITH <OBJECT>__RESET` and drops the old rows: the live table is readable, and
    /// never empty, throughout. Interrupted, the same command resumes. The nightly watermark
    /// does not move, so the next run still reads what changed during the reset. Example:
    ///
    ///     intacct-snowflake reset --config pipelines/nightly.toml --object APBILL
    #[command(verbatim_doc_comment)]
    Reset(ResetArgs),
    /// Compare Intacct's keys with Snowflake's live rows, per object.
    ///
    /// Keys live in Snowflake but gone from Intacct are marked deleted (through a staged batch
    /// of tombstones, recorded in the manifest); keys Intacct has that Snowflake lacks are
    /// reported. Exits with code 5 when anything differed. Example:
    ///
    ///     intacct-snowflake verify --objects VENDOR,APBILL
    #[command(verbatim_doc_comment)]
    Verify(VerifyArgs),
    /// Check that the pipeline can run, one line per check with what to do when it fails:
    /// Intacct's sender, login, user preferences, each object's fields, AUDITHISTORY and the
    /// entities; Snowflake's authentication, role and warehouse, database and schema, the
    /// privileges `init` and a load need, and the stage (listed by Snowflake, written by this
    /// tool). Exits 2 when a check fails. Takes no lock, writes no manifest, stages and loads
    /// nothing (a probe file under `_check/` on the stage is written, read and deleted).
    ///
    ///     intacct-snowflake check --config pipelines/nightly.toml
    #[command(verbatim_doc_comment)]
    Check(ObjectArgs),
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
    /// Stage housekeeping: `stage prune` removes the files of batches loaded long ago.
    #[command(subcommand)]
    Stage(StageCommand),
    /// Manifest housekeeping: `manifest abandon` gives up a batch that cannot be loaded;
    /// `manifest compact` writes a checkpoint without the history nothing reads any more.
    #[command(subcommand)]
    Manifest(ManifestCommand),
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
    /// The pipeline file (or INTACCT_SNOWFLAKE_CONFIG; the flag wins).
    #[arg(
        long,
        short,
        env = "INTACCT_SNOWFLAKE_CONFIG",
        default_value = "pipelines/demo.toml"
    )]
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
    /// Print the plan and send nothing: each object's window (from, to, and why), the staged
    /// batches a run loads first and the statements their load sends. No request goes to
    /// Intacct (not even a login) or to Snowflake, nothing is written to the stage and no
    /// lock is taken.
    #[arg(long)]
    pub dry_run: bool,
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
    /// The pipeline file (or INTACCT_SNOWFLAKE_CONFIG; the flag wins).
    #[arg(
        long,
        short,
        env = "INTACCT_SNOWFLAKE_CONFIG",
        default_value = "pipelines/demo.toml"
    )]
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
    /// The pipeline file (or INTACCT_SNOWFLAKE_CONFIG; the flag wins).
    #[arg(
        long,
        short,
        env = "INTACCT_SNOWFLAKE_CONFIG",
        default_value = "pipelines/demo.toml"
    )]
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
    /// The pipeline file (or INTACCT_SNOWFLAKE_CONFIG; the flag wins).
    #[arg(
        long,
        short,
        env = "INTACCT_SNOWFLAKE_CONFIG",
        default_value = "pipelines/demo.toml"
    )]
    pub config: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also write the status as a self-contained HTML page to this file.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Measure the lag against this RFC 3339 instant, the clock a run uses, instead of the
    /// current time (simulated clocks).
    #[arg(long, env = "INTACCT_SNOWFLAKE_NOW", hide = true)]
    pub now: Option<String>,
}

/// Options of `accept-schema`.
#[derive(Debug, Args)]
pub(crate) struct AcceptSchemaArgs {
    /// The pipeline file (or INTACCT_SNOWFLAKE_CONFIG; the flag wins).
    #[arg(
        long,
        short,
        env = "INTACCT_SNOWFLAKE_CONFIG",
        default_value = "pipelines/demo.toml"
    )]
    pub config: PathBuf,
    /// The object whose held schema changes are accepted (e.g. `VENDOR`).
    #[arg(long)]
    pub object: String,
}

/// Options of `dbt-sources`.
#[derive(Debug, Args)]
pub(crate) struct DbtSourcesArgs {
    /// The pipeline file (or INTACCT_SNOWFLAKE_CONFIG; the flag wins).
    #[arg(
        long,
        short,
        env = "INTACCT_SNOWFLAKE_CONFIG",
        default_value = "pipelines/demo.toml"
    )]
    pub config: PathBuf,
    /// The dbt source's name.
    #[arg(long, default_value = "intacct")]
    pub source_name: String,
}

/// Options of `reset`.
#[derive(Debug, Args)]
pub(crate) struct ResetArgs {
    /// The pipeline file (or INTACCT_SNOWFLAKE_CONFIG; the flag wins).
    #[arg(
        long,
        short,
        env = "INTACCT_SNOWFLAKE_CONFIG",
        default_value = "pipelines/demo.toml"
    )]
    pub config: PathBuf,
    /// The object to rebuild (e.g. `APBILL`).
    #[arg(long)]
    pub object: String,
    /// Do not draw progress bars even on a terminal.
    #[arg(long)]
    pub no_progress: bool,
    /// End the read at this RFC 3339 instant instead of the current time (simulated clocks).
    #[arg(long, env = "INTACCT_SNOWFLAKE_NOW", hide = true)]
    pub now: Option<String>,
}

/// Stage commands.
#[derive(Debug, Subcommand)]
pub(crate) enum StageCommand {
    /// Remove the files of batches loaded before a horizon: their Parquet parts, raw pages and
    /// quarantine files. What replay needs is kept.
    ///
    /// A replay loads a saved batch from its Parquet parts, so the horizon (`--older-than`
    /// before now) is the replay horizon: a batch loaded since can still be replayed, an older
    /// one cannot (`replay` then says it was pruned, and a `backfill` over its window reads it
    /// from Intacct again). A batch's files go only when it is loaded (its rows are in
    /// Snowflake), was read from Intacct (not a replay), was first loaded before the horizon,
    /// and no replay of it is waiting to load. Never removed: the files of a created, staged
    /// or failed batch, the manifest, the schemas, the lock and the reports. The batches are
    /// recorded as pruned in the manifest before their files are deleted, and the run report
    /// lists them. It takes the pipeline's run lock. Examples:
    ///
    ///     intacct-snowflake stage prune --config pipelines/nightly.toml --older-than 90d --dry-run
    ///     intacct-snowflake stage prune --config pipelines/nightly.toml --older-than 90d
    #[command(verbatim_doc_comment)]
    Prune(PruneArgs),
}

/// Manifest commands.
#[derive(Debug, Subcommand)]
pub(crate) enum ManifestCommand {
    /// Give up a staged or created batch that was never loaded, typically one whose files
    /// are gone from the stage (`status` lists those; a load of it fails naming the file).
    ///
    /// The batch is recorded as failed (`batch_abandoned` in the manifest). For a staged
    /// nightly batch, its stream's staged marks go back to where they were before it, so the
    /// next `run` reads its window again from Intacct; a later nightly batch of the same
    /// stream that is staged and not loaded is abandoned with it (it would move the
    /// watermark past the abandoned window), newest first. A loaded batch is never
    /// abandoned, and no watermark moves. It takes the pipeline's run lock. Example:
    ///
    ///     intacct-snowflake manifest abandon --config pipelines/nightly.toml --batch 3f2c…
    #[command(verbatim_doc_comment)]
    Abandon(AbandonArgs),
    /// Write a compacted checkpoint: the folded manifest without what nothing reads any more
    /// (failed batches' files and progress, loaded batches' statement handles and figures,
    /// pruned batches' part and raw page lists), so opening reads less. Every batch, mark,
    /// requestId, replay source and audit check stays, and the commits stay on the stage. It
    /// takes the pipeline's run lock and prints the state's size before and after. Example:
    ///
    ///     intacct-snowflake manifest compact --config pipelines/nightly.toml
    #[command(verbatim_doc_comment)]
    Compact(CompactArgs),
}

/// Options of `manifest abandon`.
#[derive(Debug, Args)]
pub(crate) struct AbandonArgs {
    /// The pipeline file (or INTACCT_SNOWFLAKE_CONFIG; the flag wins).
    #[arg(
        long,
        short,
        env = "INTACCT_SNOWFLAKE_CONFIG",
        default_value = "pipelines/demo.toml"
    )]
    pub config: PathBuf,
    /// The batch to give up (its id, from `status` or the error that named it).
    #[arg(long)]
    pub batch: String,
    /// Why, recorded with it in the manifest.
    #[arg(long, default_value = "abandoned with `manifest abandon`")]
    pub reason: String,
}

/// Options of `stage prune`.
#[derive(Debug, Args)]
pub(crate) struct PruneArgs {
    /// The pipeline file (or INTACCT_SNOWFLAKE_CONFIG; the flag wins).
    #[arg(
        long,
        short,
        env = "INTACCT_SNOWFLAKE_CONFIG",
        default_value = "pipelines/demo.toml"
    )]
    pub config: PathBuf,
    /// Remove the files of batches first loaded longer ago than this: `90d`, `12w`, `2160h`.
    #[arg(long)]
    pub older_than: String,
    /// Print what would be removed; remove nothing, write nothing, take no lock.
    #[arg(long)]
    pub dry_run: bool,
    /// Measure ages from this RFC 3339 instant instead of the current time (simulated clocks).
    #[arg(long, env = "INTACCT_SNOWFLAKE_NOW", hide = true)]
    pub now: Option<String>,
}

/// Options of `manifest compact`.
#[derive(Debug, Args)]
pub(crate) struct CompactArgs {
    /// The pipeline file (or INTACCT_SNOWFLAKE_CONFIG; the flag wins).
    #[arg(
        long,
        short,
        env = "INTACCT_SNOWFLAKE_CONFIG",
        default_value = "pipelines/demo.toml"
    )]
    pub config: PathBuf,
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
    init_tracing(cli.log.as_deref(), format);
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
    let started_at = chrono::Utc::now();
    let command = cli.command.name();
    let config = cli.command.pipeline_file();
    let (code, error) = match runtime.block_on(run(cli.command)) {
        Ok(outcome) => (exit_code(outcome), None),
        Err(e) => {
            eprintln!("error: {e}");
            (u8::try_from(e.exit_code()).unwrap_or(1), Some(e))
        }
    };
    runtime.block_on(epilogue::finish(epilogue::Ending {
        command,
        config,
        metrics_file: cli.metrics_file,
        started_at,
        exit_code: code,
        error: error.as_ref(),
    }));
    ExitCode::from(code)
}

impl Command {
    /// The command's name, as notifications and metrics label it.
    fn name(&self) -> &'static str {
        match self {
            Command::Run(_) => "run",
            Command::Extract(_) => "extract",
            Command::Load(_) => "load",
            Command::Backfill(_) => "backfill",
            Command::Replay(_) => "replay",
            Command::Status(_) => "status",
            Command::Verify(_) => "verify",
            Command::Check(_) => "check",
            Command::Sql(_) => "sql",
            Command::Init(_) => "init",
            Command::Query(_) => "query",
            Command::Sim(_) => "sim",
            Command::Secrets(_) => "secrets",
            Command::AcceptSchema(_) => "accept-schema",
            Command::DbtSources(_) => "dbt-sources",
            Command::Reset(_) => "reset",
            Command::Stage(StageCommand::Prune(_)) => "stage prune",
            Command::Manifest(ManifestCommand::Compact(_)) => "manifest compact",
            Command::Manifest(ManifestCommand::Abandon(_)) => "manifest abandon",
        }
    }

    /// The pipeline file the command works on (`None`: it has none).
    fn pipeline_file(&self) -> Option<PathBuf> {
        match self {
            Command::Run(a) | Command::Extract(a) => Some(a.pipeline.config.clone()),
            Command::Load(a) | Command::Check(a) | Command::Sql(a) | Command::Init(a) => {
                Some(a.config.clone())
            }
            Command::Backfill(a) => Some(a.pipeline.config.clone()),
            Command::Replay(a) => Some(a.config.clone()),
            Command::Status(a) => Some(a.config.clone()),
            Command::Verify(a) => Some(a.pipeline.config.clone()),
            Command::Query(a) => Some(a.config.clone()),
            Command::AcceptSchema(a) => Some(a.config.clone()),
            Command::DbtSources(a) => Some(a.config.clone()),
            Command::Reset(a) => Some(a.config.clone()),
            Command::Stage(StageCommand::Prune(a)) => Some(a.config.clone()),
            Command::Manifest(ManifestCommand::Compact(a)) => Some(a.config.clone()),
            Command::Manifest(ManifestCommand::Abandon(a)) => Some(a.config.clone()),
            Command::Sim(_) | Command::Secrets(_) => None,
        }
    }
}

fn init_tracing(explicit: Option<&str>, format: LogFormat) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let terminal = std::io::stderr().is_terminal();
    let rust_log = std::env::var("RUST_LOG").ok();
    let choice = log_filter(rust_log.as_deref(), explicit, terminal);
    let filter = EnvFilter::try_new(&choice.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    // On a terminal each line is written above the progress bars, never into one.
    let writer =
        tracing_subscriber::fmt::writer::BoxMakeWriter::new(move || -> Box<dyn std::io::Write> {
            if terminal {
                Box::new(AboveBars)
            } else {
                Box::new(std::io::stderr())
            }
        });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder
            .with_ansi(terminal)
            .with_target(!choice.quiet)
            .init(),
    }
}

/// A log line's writer on a terminal: through the progress bars (see
/// [`crate::pipeline::write_above_bars`]).
struct AboveBars;

impl std::io::Write for AboveBars {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        crate::pipeline::write_above_bars(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The log filter a process uses, and whether it is the quiet terminal default.
#[derive(Debug, PartialEq, Eq)]
struct LogChoice {
    /// The `EnvFilter` directives.
    filter: String,
    /// The terminal default: warnings and errors only, without module paths (a person reads
    /// them between the progress bars and the tables).
    quiet: bool,
}

/// `RUST_LOG` when it parses, else `--log` (or `INTACCT_SNOWFLAKE_LOG`) when it parses, else
/// the default: `warn` on a terminal, `info` when stderr goes elsewhere, so a scheduler's or
/// a CI log keeps every event.
fn log_filter(rust_log: Option<&str>, explicit: Option<&str>, terminal: bool) -> LogChoice {
    let parses = |f: &&str| tracing_subscriber::EnvFilter::try_new(f).is_ok();
    if let Some(filter) = rust_log.filter(parses).or(explicit.filter(parses)) {
        return LogChoice {
            filter: filter.to_owned(),
            quiet: false,
        };
    }
    LogChoice {
        filter: if terminal { "warn" } else { "info" }.to_owned(),
        quiet: terminal,
    }
}

/// The process exit code of a command that finished with `outcome`: 0 success, 1 every
/// object or batch failed, 3 some did (or the transaction budget stopped the run), 4 Intacct
/// is offline for maintenance (try again later, like a held run lock), 5 `verify` found
/// differences.
pub(crate) fn exit_code(outcome: Outcome) -> u8 {
    outcome.exit_code()
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
        Command::Check(args) => done(commands::check(args).await),
        Command::Query(args) => done(commands::query(args).await),
        Command::Stage(StageCommand::Prune(args)) => commands::prune(args).await,
        Command::Manifest(ManifestCommand::Compact(args)) => {
            done(commands::manifest_compact(args).await)
        }
        Command::Manifest(ManifestCommand::Abandon(args)) => done(commands::abandon(args).await),
        Command::Sim(SimCommand::Intacct(args)) => done(sim::run(args)),
        Command::Secrets(SecretsCommand::Encrypt(args)) => done(secrets::encrypt(args)),
        Command::Secrets(SecretsCommand::List(args)) => done(secrets::list(args)),
        Command::Backfill(args) => commands::backfill(args).await,
        Command::Replay(args) => commands::replay(args).await,
        Command::Verify(args) => commands::verify(args).await,
        Command::AcceptSchema(args) => done(commands::accept_schema(args).await),
        Command::DbtSources(args) => done(commands::dbt_sources(args).await),
        Command::Reset(args) => commands::reset(args).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choice(filter: &str, quiet: bool) -> LogChoice {
        LogChoice {
            filter: filter.to_owned(),
            quiet,
        }
    }

    #[test]
    fn a_terminal_shows_warnings_unless_asked_and_a_redirected_run_keeps_info() {
        assert_eq!(log_filter(None, None, true), choice("warn", true));
        assert_eq!(log_filter(None, None, false), choice("info", false));
        assert_eq!(log_filter(None, Some("info"), true), choice("info", false));
        assert_eq!(
            log_filter(Some("debug"), Some("info"), true),
            choice("debug", false),
            "RUST_LOG wins"
        );
        assert_eq!(
            log_filter(Some("[bad"), Some("info"), true),
            choice("info", false),
            "a RUST_LOG that does not parse is passed over"
        );
        assert_eq!(log_filter(None, Some("[bad"), true), choice("warn", true));
    }
}
