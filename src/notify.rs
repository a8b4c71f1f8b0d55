//! Telling a chat channel that a command ended badly: one POST of a short JSON summary to the
//! pipeline's `[notify] webhook_url` when the command's exit code is one of `on_exit_codes`
//! (by default 1, 2, 3 and 5: every failure but a held lock and an interrupt).
//!
//! The body is what Slack's and Microsoft Teams' incoming webhooks take — a `text` field, a
//! short line and a few more — with the same facts as fields for anything that reads JSON:
//!
//! ```json
//! {"text": "intacct-snowflake run of pipeline nightly ended with exit code 3 (partial)\n• APBILL: …\nrun report: s3://…/_reports/….json",
//!  "pipeline": "nightly", "command": "run", "exit_code": 3, "outcome": "partial",
//!  "failed": [{"object": "APBILL", "error": "…"}], "report_path": "s3://…/_reports/….json"}
//! ```
//!
//! Invariants:
//! * never a secret in the body: every error passes through [`crate::error::snippet`] (which
//!   redacts passwords, session ids, bearer tokens and JWTs a body may echo) and then every
//!   secret value the pipeline holds (its passwords, token, passphrase and the webhook URL
//!   itself) is replaced by `[redacted]` wherever it appears;
//! * exactly one POST per command, never retried (a retry could announce a failure twice); a
//!   POST that fails is a warning in the log (without the URL) and never changes the exit code.

use std::time::Duration;

use serde::Serialize;

use crate::config::NotifySpec;
use crate::error::{Error, Result, Service};
use crate::pipeline::Failure;
use crate::secret::Secret;

/// Failures listed in the text (the `failed` field has them all).
const TEXT_FAILURES: usize = 5;
/// Characters kept of one error.
const ERROR_CHARS: usize = 400;

/// How a command ended: what a notification says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct CommandEnd {
    /// The pipeline's name, when its file could be read.
    pub(crate) pipeline: Option<String>,
    /// The command (`run`, `backfill`, `check`, …).
    pub(crate) command: String,
    /// The process exit code.
    pub(crate) exit_code: u8,
    /// The run report's outcome (`success`, `partial`, `failed`, `verify_differs`), or what
    /// stopped the command before it had one (`error`, `locked`, `interrupted`).
    pub(crate) outcome: String,
    /// What failed, per object (or per check).
    pub(crate) failed: Vec<Failure>,
    /// Where the run report is, when the command left one.
    pub(crate) report_path: Option<String>,
    /// The error that stopped the command, when one did.
    pub(crate) error: Option<String>,
}

/// The JSON body POSTed to the webhook.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Body {
    /// One short human line and a few more (what chat tools show).
    pub(crate) text: String,
    /// The pipeline's name (`null` when its file could not be read).
    pub(crate) pipeline: Option<String>,
    /// The command.
    pub(crate) command: String,
    /// The process exit code.
    pub(crate) exit_code: u8,
    /// See [`CommandEnd::outcome`].
    pub(crate) outcome: String,
    /// What failed.
    pub(crate) failed: Vec<Failure>,
    /// Where the run report is.
    pub(crate) report_path: Option<String>,
}

/// True when `settings` announce `exit_code`.
pub(crate) fn announces(settings: &NotifySpec, exit_code: u8) -> bool {
    settings.on_exit_codes.contains(&exit_code)
}

/// The body announcing `end`, with every value of `secrets` scrubbed from its text (pure).
pub(crate) fn body(end: &CommandEnd, secrets: &[&Secret]) -> Body {
    let clean = |text: &str| {
        scrub(
            &crate::error::snippet(text.as_bytes(), ERROR_CHARS),
            secrets,
        )
    };
    let failed: Vec<Failure> = end
        .failed
        .iter()
        .map(|f| Failure {
            object: clean(&f.object),
            error: clean(&f.error),
        })
        .collect();
    let mut text = format!(
        "intacct-snowflake {} of pipeline {} ended with exit code {} ({})",
        end.command,
        end.pipeline.as_deref().unwrap_or("(unknown)"),
        end.exit_code,
        end.outcome
    );
    if let Some(error) = &end.error {
        text.push_str(&format!("\nerror: {}", clean(error)));
    }
    for f in failed.iter().take(TEXT_FAILURES) {
        text.push_str(&format!("\n• {}: {}", f.object, f.error));
    }
    if failed.len() > TEXT_FAILURES {
        text.push_str(&format!("\n… and {} more", failed.len() - TEXT_FAILURES));
    }
    let report_path = end.report_path.as_deref().map(|p| scrub(p, secrets));
    if let Some(path) = &report_path {
        text.push_str(&format!("\nrun report: {path}"));
    }
    Body {
        text,
        pipeline: end.pipeline.as_deref().map(|p| scrub(p, secrets)),
        command: end.command.clone(),
        exit_code: end.exit_code,
        outcome: end.outcome.clone(),
        failed,
        report_path,
    }
}

/// `text` with every non-empty secret value replaced by `[redacted]`.
fn scrub(text: &str, secrets: &[&Secret]) -> String {
    let mut out = text.to_owned();
    for secret in secrets {
        if !secret.is_empty() {
            out = out.replace(secret.expose(), "[redacted]");
        }
    }
    out
}

/// POSTs `body` to the webhook, once. An error names the status or the failure, never the URL.
pub(crate) async fn post(settings: &NotifySpec, body: &Body) -> Result<()> {
    let failed = |message: String, timeout: bool| Error::Transport {
        service: Service::Notify,
        message,
        timeout,
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(settings.timeout_secs))
        .build()
        .map_err(|e| failed(e.without_url().to_string(), false))?;
    let response = client
        .post(settings.webhook_url.expose())
        .json(body)
        .send()
        .await
        .map_err(|e| {
            let timeout = e.is_timeout();
            failed(e.without_url().to_string(), timeout)
        })?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let text = response.bytes().await.unwrap_or_default();
    Err(Error::HttpStatus {
        service: Service::Notify,
        status: status.as_u16(),
        retry_after_secs: None,
        detail: crate::error::snippet(&text, 200),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(codes: &[u8]) -> NotifySpec {
        NotifySpec {
            webhook_url: Secret::new("https://hooks.example.com/services/T0/B0/tok3n"),
            on_exit_codes: codes.to_vec(),
            timeout_secs: 5,
        }
    }

    fn end() -> CommandEnd {
        CommandEnd {
            pipeline: Some("nightly".into()),
            command: "run".into(),
            exit_code: 3,
            outcome: "partial".into(),
            failed: vec![Failure {
                object: "APBILL batch b1".into(),
                error: "Snowflake statement failed (HTTP 422): 002003 (42S02): no such table"
                    .into(),
            }],
            report_path: Some("file:///stage/_reports/r1.json".into()),
            error: None,
        }
    }

    #[test]
    fn the_body_is_a_chat_text_with_the_facts_as_fields() {
        let body = body(&end(), &[]);
        assert_eq!(
            body.text,
            "intacct-snowflake run of pipeline nightly ended with exit code 3 (partial)\n\
             • APBILL batch b1: Snowflake statement failed (HTTP 422): 002003 (42S02): no such table\n\
             run report: file:///stage/_reports/r1.json"
        );
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(json["exit_code"], 3);
        assert_eq!(json["pipeline"], "nightly");
        assert_eq!(json["command"], "run");
        assert_eq!(json["outcome"], "partial");
        assert_eq!(json["failed"][0]["object"], "APBILL batch b1");
        assert_eq!(json["report_path"], "file:///stage/_reports/r1.json");

        let mut many = end();
        many.failed = (0..7)
            .map(|i| Failure {
                object: format!("O{i}"),
                error: "x".repeat(1_000),
            })
            .collect();
        many.error = Some("stopped".into());
        let body = super::body(&many, &[]);
        assert_eq!(body.failed.len(), 7);
        assert!(
            body.text
                .ends_with("… and 2 more\nrun report: file:///stage/_reports/r1.json")
        );
        assert!(body.text.contains("\nerror: stopped\n"), "{}", body.text);
        assert!(body.failed[0].error.chars().count() <= ERROR_CHARS + 1);
    }

    #[test]
    fn no_secret_reaches_the_body() {
        let password = Secret::new("pa55-W0rd-of-the-user");
        let hook = settings(&[3]).webhook_url;
        let mut e = end();
        e.failed[0].error = format!(
            "HTTP 502 from Intacct: <request><password>echoed</password><login>{}</login> Authorization: Bearer tok-123 posted to {}",
            password.expose(),
            hook.expose()
        );
        e.error = Some(format!("also {}", password.expose()));
        let body = body(&e, &[&password, &hook]);
        let json = serde_json::to_string(&body).unwrap();
        for secret in [
            "echoed",
            "tok-123",
            password.expose(),
            hook.expose(),
            "tok3n",
        ] {
            assert!(!json.contains(secret), "{secret} in {json}");
        }
        assert!(json.contains("[redacted]"), "{json}");
    }

    #[test]
    fn failures_are_announced_by_default_and_a_held_lock_or_an_interrupt_not() {
        let defaults = settings(crate::config::DEFAULT_NOTIFY_EXIT_CODES);
        for code in [1, 2, 3, 5] {
            assert!(announces(&defaults, code), "{code}");
        }
        for code in [0, 4, 130] {
            assert!(!announces(&defaults, code), "{code}");
        }
        assert!(announces(&settings(&[0]), 0));
    }
}
