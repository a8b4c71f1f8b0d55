//! The `intacct-sim` command line: the server's options (clap derive) turned into a
//! [`SimConfig`], logging, serving until SIGINT or SIGTERM, and the exit code.
//!
//! `intacct-snowflake sim intacct ARGS…` runs this binary with the same `ARGS…`, and passes its
//! own log settings in `INTACCT_SIM_LOG` and `INTACCT_SIM_LOG_FORMAT`. Exit codes are the
//! product's ([`intacct_snowflake::Error::exit_code`]): 2 for a bad option or fault spec, 1 when
//! the address cannot be bound, 0 after a clean stop.

use std::io::Write as _;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, ValueEnum};

use intacct_snowflake::secret::Secret;
use intacct_snowflake::{Error, Result};

use crate::config::{self, SimConfig, SimCredentials, SimUserFormatting};
use crate::dataset::{DatasetConfig, Scale};
use crate::entities::MultiEntity;
use crate::{faults, server, shutdown};

/// Serves a simulator of the Sage Intacct XML gateway on loopback.
///
/// Prints `listening on http://ADDR` once the dataset is built, then answers until SIGINT or
/// SIGTERM.
#[derive(Debug, Parser)]
#[command(name = "intacct-sim", version)]
struct Cli {
    /// Log filter, e.g. `info`, `debug`, `intacct_sim=debug` (also RUST_LOG).
    #[arg(
        long,
        env = "INTACCT_SIM_LOG",
        hide_env_values = true,
        default_value = "info"
    )]
    log: String,
    /// Log format: `text` (colour only on a terminal) or `json` (one object per line).
    #[arg(long, env = "INTACCT_SIM_LOG_FORMAT", hide_env_values = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// The server's options.
    #[command(flatten)]
    sim: SimArgs,
}

/// How log lines are written to stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// JSON lines.
    Json,
}

/// The server's options.
///
/// Test credentials default to sender `sim-sender` / `sim-sender-password`, company
/// `sim-company`, user `sim-user` / `sim-user-password`.
#[derive(Debug, Args)]
#[command(after_long_help = ADMIN_HELP)]
struct SimArgs {
    /// Address to listen on (loopback; port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8085")]
    listen: String,
    /// Dataset seed: the same seed gives the same data.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Dataset size: tiny, demo, large, or a number of records.
    #[arg(long, default_value = "demo", value_parser = parse_scale)]
    scale: Scale,
    /// Start of the simulated clock (RFC 3339).
    #[arg(long, default_value = "2026-01-15T00:00:00Z")]
    start: DateTime<Utc>,
    /// Tenant time zone in which timestamps are written.
    #[arg(long, default_value = "America/Los_Angeles")]
    time_zone: chrono_tz::Tz,
    /// Time each page of records takes to answer, counted from admission (the simulator's own
    /// work is part of it).
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Requests in flight per company above which the gateway answers HTTP 429 (GW-0010).
    #[arg(long, default_value_t = 4)]
    max_concurrent: usize,
    /// Fault spec: comma-separated KIND[=ARG][@TARGET][:nth=N|:every=N|:rate=P]; kinds
    /// control-error, auth-error, result-error, session-expiry, rate-limit, concurrency,
    /// http500, http502, http503, http524, http401, slow=MS, truncate, truncate-xml, reset,
    /// expire-result-id.
    #[arg(long, default_value = "")]
    faults: String,
    /// Session duration in seconds (the timeout slides with every request).
    #[arg(long, default_value_t = 3600)]
    session_timeout_secs: u64,
    /// How long a readByQuery resultId stays valid after its last use, in seconds.
    #[arg(long, default_value_t = 1800)]
    result_id_ttl_secs: u64,
    /// `<endpoint>` returned by getAPISession (default: this server's own URL).
    #[arg(long)]
    advertised_endpoint: Option<String>,
    /// For benchmarks on `large`: count at most N `query` matches past the page, so
    /// totalcount and numremaining are lower bounds (non-zero while rows remain). Default:
    /// exact counts, whose cost grows with the matching index range.
    #[arg(long)]
    count_limit: Option<u64>,
    /// How long after its ACCESSTIME an AUDITHISTORY row becomes readable, in seconds (the
    /// real audit trail lags by up to two hours; 0 shows every row at once).
    #[arg(long, default_value_t = crate::dataset::DEFAULT_AUDIT_LAG_SECS, value_parser = clap::value_parser!(i64).range(0..=7 * 86_400))]
    audit_lag_secs: i64,
    /// Accepted sender id.
    #[arg(long, default_value = config::DEFAULT_SENDER_ID)]
    sender_id: String,
    /// Accepted sender password (a test value).
    #[arg(long, default_value = config::DEFAULT_SENDER_PASSWORD, hide_default_value = true)]
    sender_password: String,
    /// Accepted company id.
    #[arg(long, default_value = config::DEFAULT_COMPANY_ID)]
    company_id: String,
    /// Accepted user id.
    #[arg(long, default_value = config::DEFAULT_USER_ID)]
    user_id: String,
    /// Accepted user password (a test value).
    #[arg(long, default_value = config::DEFAULT_USER_PASSWORD, hide_default_value = true)]
    user_password: String,
    /// A multi-entity company with these entities (comma-separated ids, e.g. E100,E200):
    /// records are owned by the top level or an entity, some private.
    #[arg(long, value_delimiter = ',')]
    entities: Vec<String>,
    /// Restrict the API user to these entities, without top-level access (needs --entities).
    #[arg(long, value_delimiter = ',', requires = "entities")]
    user_entities: Vec<String>,
    /// Objects the API user may not read (comma-separated, e.g. AUDITHISTORY): query,
    /// readByQuery and read of them fail with the gateway's permission refusal; lookup works.
    #[arg(long, value_delimiter = ',')]
    deny_objects: Vec<String>,
}

const ADMIN_HELP: &str = "\
Test credentials (defaults): sender sim-sender / sim-sender-password, company sim-company,
user sim-user / sim-user-password.

Admin API on the same port:
  POST /__sim/advance?days=N        advance simulated time N days (creates, updates, deletes)
  GET  /__sim/records?object=X      ground truth of object X as JSON lines, RECORDNO order
  GET  /__sim/counters              requests, pages, sessions_opened, functions,
                                    faults_injected, max_in_flight
  GET  /__sim/clock                 the simulated now
  POST /__sim/faults                body = fault spec; replaces the active rules
  POST /__sim/sessions/expire       expire every session
  POST /__sim/result-ids/expire     expire every readByQuery resultId";

/// Parses `--scale`.
fn parse_scale(text: &str) -> std::result::Result<Scale, String> {
    match text {
        "tiny" => Ok(Scale::Tiny),
        "demo" => Ok(Scale::Demo),
        "large" => Ok(Scale::Large),
        n => n
            .parse()
            .map(Scale::Records)
            .map_err(|_| format!("scale must be tiny, demo, large or a number, not {n:?}")),
    }
}

impl SimArgs {
    /// The server configuration these options describe.
    fn config(&self) -> SimConfig {
        SimConfig {
            credentials: SimCredentials {
                sender_id: self.sender_id.clone(),
                sender_password: Secret::new(self.sender_password.clone()),
                company_id: self.company_id.clone(),
                user_id: self.user_id.clone(),
                user_password: Secret::new(self.user_password.clone()),
            },
            dataset: DatasetConfig {
                seed: self.seed,
                scale: self.scale,
                start: self.start,
                time_zone: self.time_zone,
            },
            session_timeout_secs: self.session_timeout_secs,
            result_id_ttl_secs: self.result_id_ttl_secs,
            latency_ms: self.latency_ms,
            max_concurrent: self.max_concurrent,
            faults: self.faults.clone(),
            advertised_endpoint: self.advertised_endpoint.clone(),
            count_limit: self.count_limit,
            audit_lag_secs: self.audit_lag_secs,
            sort_timeout_rows: config::DEFAULT_SORT_TIMEOUT_ROWS,
            user_formatting: SimUserFormatting::default(),
            multi_entity: (!self.entities.is_empty()).then(|| MultiEntity {
                entities: self.entities.clone(),
                user_entities: (!self.user_entities.is_empty()).then(|| self.user_entities.clone()),
            }),
            denied_objects: self
                .deny_objects
                .iter()
                .map(|o| o.to_ascii_uppercase())
                .collect(),
        }
    }
}

/// Parses the process arguments, serves until interrupted and returns the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(&cli.log, cli.log_format);
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
    match runtime.block_on(serve_until_interrupted(&cli.sim.listen, cli.sim.config())) {
        Ok(()) => ExitCode::SUCCESS,
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

/// Serves the simulator on `listen` until interrupted: prints `listening on http://ADDR`
/// once ready.
async fn serve_until_interrupted(listen: &str, config: SimConfig) -> Result<()> {
    faults::FaultPlan::parse(&config.faults, 0).map_err(|message| Error::Config {
        location: "--faults".into(),
        message,
    })?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| Error::Io {
            path: listen.to_owned(),
            source,
        })?;
    server::serve_when_ready(listener, shutdown::requested(), config, |addr| {
        let mut stdout = std::io::stdout();
        let _ = writeln!(stdout, "listening on http://{addr}");
        let _ = stdout.flush();
    })
    .await
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::Cli;

    #[test]
    fn the_audit_lag_is_on_by_default_and_can_be_set_or_turned_off() {
        let config = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("intacct-sim").chain(args.iter().copied()))
                .map(|cli| cli.sim.config())
        };
        assert_eq!(config(&[]).unwrap().audit_lag_secs, 2 * 3_600);
        assert_eq!(
            config(&["--audit-lag-secs", "600"]).unwrap().audit_lag_secs,
            600
        );
        assert_eq!(
            config(&["--audit-lag-secs", "0"]).unwrap().audit_lag_secs,
            0
        );
        assert!(config(&["--audit-lag-secs", "-1"]).is_err());
    }
}
