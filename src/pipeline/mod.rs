//! Orchestration of the pieces: extract (with its delete feed, [`deletes`]) and status now;
//! load, backfill and replay later.
//!
//! Commands read the pipeline file into a [`crate::config::Spec`], map it onto the plain option
//! structs of the modules they drive ([`extract_options`] is the one place for `extract`), take
//! the run lock on the stage, and leave a run report at `_reports/<run_id>.json` (counts and
//! durations only, never a secret).

pub mod deletes;
pub mod extract;
pub mod progress;
pub mod status;

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use tokio::sync::Mutex;

use crate::cli::{ExtractArgs, StatusArgs};
use crate::config::Spec;
use crate::error::{Error, Result};
use crate::intacct::client::{ClientConfig, IntacctClient, ReadMethod};
use crate::intacct::request::SenderCredentials;
use crate::manifest::Manifest;
use crate::manifest::lock::RunLock;
use crate::stage::Stage;
use crate::stage::parts::StageOptions;

use extract::{ExtractOptions, ObjectJob, ObjectReport};

/// Runs `extract`.
pub async fn extract_command(args: ExtractArgs) -> Result<()> {
    let spec = crate::config::load(&args.config)?;
    let now = match &args.now {
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map_err(|e| Error::Config {
                location: "--now".into(),
                message: format!("{text:?} is not an RFC 3339 time: {e}"),
            })?
            .with_timezone(&Utc),
        None => Utc::now(),
    };
    let options = extract_options(&spec, &args.objects, now, !args.no_progress)?;
    let client = IntacctClient::new(client_config(&spec))?;
    let stage = Stage::open(&spec.stage.url)?;
    let run_id = new_run_id(now);
    let lock = RunLock::acquire(
        &stage,
        &spec.name,
        &run_id,
        Duration::seconds(spec.stage.lock_ttl_secs as i64),
    )
    .await?;
    let renewal = spawn_renewal(lock, spec.stage.lock_ttl_secs);
    let outcome = run_extract(&client, &stage, &run_id, &options).await;
    let released = renewal.release().await;
    let reports = outcome?;
    print!("{}", extract_summary(&reports));
    let report = serde_json::json!({
        "run_id": run_id,
        "pipeline": spec.name,
        "command": "extract",
        "started_at": now,
        "finished_at": Utc::now(),
        "objects": reports,
    });
    let body = serde_json::to_vec_pretty(&report).expect("report serialises");
    stage
        .put_create(&format!("_reports/{run_id}.json"), Bytes::from(body))
        .await?;
    if let Some(error) = extract::failure_of(&reports) {
        return Err(error);
    }
    released
}

/// Opens the manifest and extracts every object of `options`.
pub async fn run_extract(
    client: &IntacctClient,
    stage: &Stage,
    run_id: &str,
    options: &ExtractOptions,
) -> Result<Vec<ObjectReport>> {
    let manifest = Arc::new(Mutex::new(Manifest::open(stage.clone(), run_id).await?));
    let progress = progress::Progress::new(options.progress);
    Ok(extract::extract(client, manifest, options, &progress).await)
}

/// Runs `status`.
pub async fn status_command(args: StatusArgs) -> Result<()> {
    let spec = crate::config::load(&args.config)?;
    let stage = Stage::open(&spec.stage.url)?;
    let manifest = Manifest::open(stage, "status").await?;
    let rows = status::object_status(manifest.state());
    if args.json {
        let text = serde_json::to_string_pretty(&rows).expect("status serialises");
        println!("{text}");
    } else {
        print!("{}", status::render_table(&rows, manifest.state().version));
    }
    Ok(())
}

/// The extract options of a pipeline: objects in scope (all, or `only`), windows ending at
/// `now`, part sizes.
pub fn extract_options(
    spec: &Spec,
    only: &[String],
    now: DateTime<Utc>,
    progress: bool,
) -> Result<ExtractOptions> {
    let wanted: Vec<String> = only.iter().map(|o| o.trim().to_ascii_uppercase()).collect();
    if let Some(unknown) = wanted
        .iter()
        .find(|w| !spec.extract.objects.iter().any(|o| &o.name == *w))
    {
        return Err(Error::Config {
            location: "--objects".into(),
            message: format!(
                "{unknown} is not in the pipeline's objects ({})",
                spec.extract
                    .objects
                    .iter()
                    .map(|o| o.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    let objects = spec
        .extract
        .objects
        .iter()
        .filter(|o| wanted.is_empty() || wanted.contains(&o.name))
        .map(|o| ObjectJob {
            name: o.name.clone(),
            method: match o.method {
                crate::config::ReadMethod::Query => ReadMethod::Query,
                crate::config::ReadMethod::ReadByQuery => ReadMethod::ReadByQuery,
            },
            fields: o.fields.clone(),
            page_size: o.page_size.unwrap_or(spec.intacct.page_size),
        })
        .collect();
    Ok(ExtractOptions {
        objects,
        lookback: Duration::seconds(spec.extract.lookback_secs as i64),
        now,
        concurrent_objects: spec.intacct.max_concurrent_requests.max(1),
        quarantine_bad_values: spec.extract.quarantine_bad_values,
        deletes: spec.extract.deletes,
        stage: StageOptions {
            part_max_rows: spec.stage.part_max_rows as u64,
            part_max_bytes: spec.stage.part_max_bytes,
            row_group_rows: spec.stage.row_group_rows,
            keep_raw_pages: spec.stage.keep_raw_pages,
            ..StageOptions::default()
        },
        progress,
    })
}

/// The client configuration of a pipeline.
pub fn client_config(spec: &Spec) -> ClientConfig {
    let i = &spec.intacct;
    let mut config = ClientConfig::new(
        i.endpoint.clone(),
        SenderCredentials {
            sender_id: i.sender_id.clone(),
            sender_password: i.sender_password.clone(),
        },
        i.user_id.clone(),
        i.company_id.clone(),
        i.user_password.clone(),
    );
    config.location_id = i.location_id.clone();
    config.session_ttl_secs = i.session_ttl_secs;
    config.timeout_secs = i.timeout_secs;
    config.max_concurrent_requests = i.max_concurrent_requests;
    config.retry = crate::intacct::backoff::RetryPolicy {
        max_attempts: i.retry.max_attempts,
        initial_backoff_ms: i.retry.initial_backoff_ms,
        max_backoff_ms: i.retry.max_backoff_ms,
        max_elapsed_secs: i.retry.max_elapsed_secs,
    };
    config.tenant_time_zone = i.time_zone;
    config.page_buffer = spec.extract.channel_pages.max(1);
    config
}

fn new_run_id(now: DateTime<Utc>) -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{}-{}", now.format("%Y%m%dT%H%M%SZ"), &random[..8])
}

/// The short table printed at the end of `extract`.
pub fn extract_summary(reports: &[ObjectReport]) -> String {
    let mut out = format!(
        "{:<14} {:>7} {:>10} {:>8} {:>6} {:>12} {:>8}  {}\n",
        "object", "pages", "records", "deleted", "parts", "bytes", "seconds", "result"
    );
    for r in reports {
        out.push_str(&format!(
            "{:<14} {:>7} {:>10} {:>8} {:>6} {:>12} {:>8.1}  {}\n",
            r.object,
            r.pages,
            r.records,
            r.deleted,
            r.parts,
            r.bytes,
            r.seconds,
            r.error
                .as_deref()
                .map_or("staged".to_owned(), |e| format!("FAILED: {e}"))
        ));
    }
    out
}

/// The run lock, renewed in the background until released.
struct Renewal {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<()>>,
}

fn spawn_renewal(mut lock: RunLock, ttl_secs: u64) -> Renewal {
    let (stop, mut stopped) = tokio::sync::oneshot::channel();
    let period = std::time::Duration::from_secs((ttl_secs / 4).max(1));
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = &mut stopped => return lock.release().await,
                _ = tokio::time::sleep(period) => {
                    if let Err(e) = lock.renew().await {
                        tracing::warn!(error = %e, "could not renew the run lock");
                    }
                }
            }
        }
    });
    Renewal { stop, task }
}

impl Renewal {
    async fn release(self) -> Result<()> {
        let _ = self.stop.send(());
        self.task
            .await
            .map_err(|e| Error::Manifest(format!("run lock task failed: {e}")))?
    }
}
