//! What happens after a command has its exit code, whatever it was: the `[notify]` webhook is
//! told (when the pipeline announces that code) and `--metrics-file` is written.
//!
//! A command body leaves what it concluded with here ([`remember_report`] for a run report,
//! [`remember_failures`] for `check`'s failed lines): one command runs per process, and this
//! keeps the bodies' signatures what they are. The epilogue reads the pipeline file again for
//! its settings; when the file does not validate (the command stopped with exit code 2), the
//! pipeline's name and `[notify]` table are still read on their own, so a broken pipeline is
//! announced too. Neither the notification nor the metrics file ever changes the exit code: a
//! failure of either is a warning in the log.

use std::path::PathBuf;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::config::{NotifySpec, Spec};
use crate::error::Error;
use crate::manifest::Manifest;
use crate::notify::{self, CommandEnd};
use crate::pipeline::{Failure, SavedReport};
use crate::stage::Stage;

/// What the command body concluded with.
#[derive(Default)]
struct Concluded {
    report: Option<SavedReport>,
    failures: Vec<Failure>,
}

static CONCLUDED: Mutex<Option<Concluded>> = Mutex::new(None);

fn concluded() -> std::sync::MutexGuard<'static, Option<Concluded>> {
    CONCLUDED.lock().unwrap_or_else(|p| p.into_inner())
}

/// Keeps the command's saved run report for the epilogue.
pub(super) fn remember_report(saved: &SavedReport) {
    concluded().get_or_insert_with(Concluded::default).report = Some(saved.clone());
}

/// Keeps what failed in a command that leaves no run report (`check`).
pub(super) fn remember_failures(failures: Vec<Failure>) {
    concluded().get_or_insert_with(Concluded::default).failures = failures;
}

/// How the command ended.
pub(super) struct Ending<'a> {
    /// The command's name (`run`, `check`, …).
    pub(super) command: &'static str,
    /// Its pipeline file (`None`: a command without one).
    pub(super) config: Option<PathBuf>,
    /// `--metrics-file`.
    pub(super) metrics_file: Option<PathBuf>,
    /// When it started.
    pub(super) started_at: DateTime<Utc>,
    /// Its exit code.
    pub(super) exit_code: u8,
    /// The error that stopped it, when one did.
    pub(super) error: Option<&'a Error>,
}

/// Tells the webhook and writes the metrics file, as the pipeline and the options ask.
pub(super) async fn finish(ending: Ending<'_>) {
    let Some(config) = ending.config.as_deref() else {
        return;
    };
    let finished_at = Utc::now();
    let concluded = concluded().take().unwrap_or_default();
    let (name, notify_settings) = match crate::config::load_notify(config) {
        Ok(found) => found,
        Err(error) => {
            tracing::warn!(%error, "could not read the [notify] settings; no notification is sent");
            (None, None)
        }
    };
    let announce = notify_settings
        .as_ref()
        .filter(|n| notify::announces(n, ending.exit_code));
    // The whole pipeline only when something needs it: its secrets to scrub from a
    // notification, its stage for the metrics.
    let spec = if announce.is_some() || ending.metrics_file.is_some() {
        crate::config::load(config).ok()
    } else {
        None
    };
    let pipeline = spec.as_ref().map(|s| s.name.clone()).or(name);
    if let Some(settings) = announce {
        announce_end(
            settings,
            &ending,
            &concluded,
            pipeline.clone(),
            spec.as_ref(),
        )
        .await;
    }
    if let Some(path) = &ending.metrics_file {
        let manifest = match &spec {
            Some(spec) => match open_manifest(spec).await {
                Ok(manifest) => Some(manifest),
                Err(error) => {
                    tracing::warn!(%error, "could not read the manifest for the metrics file; writing the run's figures only");
                    None
                }
            },
            None => None,
        };
        let text = crate::metrics::render(&crate::metrics::Figures {
            pipeline: pipeline.as_deref(),
            command: ending.command,
            exit_code: ending.exit_code,
            started_at: ending.started_at,
            finished_at,
            report: concluded.report.as_ref().map(|s| &s.report),
            manifest: manifest.as_ref().map(Manifest::state),
        });
        if let Err(error) = crate::metrics::write_atomically(path, &text) {
            tracing::warn!(%error, "could not write the metrics file");
        }
    }
}

async fn open_manifest(spec: &Spec) -> crate::error::Result<Manifest> {
    Manifest::open(Stage::open(&spec.stage.url)?, "metrics").await
}

/// Posts the notification of `ending`; a failure is a warning.
async fn announce_end(
    settings: &NotifySpec,
    ending: &Ending<'_>,
    concluded: &Concluded,
    pipeline: Option<String>,
    spec: Option<&Spec>,
) {
    let report = concluded.report.as_ref();
    let outcome = match (report, ending.error) {
        (Some(saved), _) => serde_json::to_value(saved.report.outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        (None, Some(Error::LockHeld { .. })) => "locked".into(),
        (None, Some(Error::Interrupted)) => "interrupted".into(),
        (None, Some(_)) => "error".into(),
        (None, None) if ending.exit_code == 0 => "success".into(),
        (None, None) => "failed".into(),
    };
    let failed = match report {
        Some(saved) => saved.report.failures(),
        None => concluded.failures.clone(),
    };
    let report_path = report.map(|saved| match spec {
        Some(spec) => format!("{}/{}", spec.stage.url.trim_end_matches('/'), saved.path),
        None => saved.path.clone(),
    });
    let end = CommandEnd {
        pipeline,
        command: ending.command.to_owned(),
        exit_code: ending.exit_code,
        outcome,
        failed,
        report_path,
        error: ending.error.map(ToString::to_string),
    };
    let mut secrets = spec.map(Spec::secrets).unwrap_or_default();
    secrets.push(&settings.webhook_url);
    let body = notify::body(&end, &secrets);
    match notify::post(settings, &body).await {
        Ok(()) => tracing::info!(exit_code = ending.exit_code, "notification posted"),
        Err(error) => tracing::warn!(%error, "could not post the notification"),
    }
}
