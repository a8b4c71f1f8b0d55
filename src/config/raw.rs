//! The serde mirror of a pipeline file, before validation, and `${VAR}` interpolation.
//!
//! Every table denies unknown keys, so a misspelt setting is an error that names it rather
//! than a silently ignored line.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::spec::{DeleteFeed, ReadMethod, SchemaPolicy};
use crate::error::{Error, Result};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPipeline {
    pub(super) name: String,
    pub(super) intacct: RawIntacct,
    pub(super) extract: Option<RawExtract>,
    pub(super) stage: RawStage,
    pub(super) snowflake: RawSnowflake,
    pub(super) notify: Option<RawNotify>,
}

/// `[notify]`: where a command that ends badly is announced.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNotify {
    pub(super) webhook_url: String,
    pub(super) on_exit_codes: Option<Vec<i64>>,
    pub(super) timeout_secs: Option<u64>,
}

/// The name and the `[notify]` table of a pipeline file, read on their own (every other key
/// ignored): what a command that failed before its pipeline validated can still announce.
#[derive(Debug, Deserialize)]
pub(super) struct RawNotifyOnly {
    pub(super) name: Option<String>,
    pub(super) notify: Option<RawNotify>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIntacct {
    pub(super) endpoint: String,
    pub(super) sender_id: String,
    pub(super) sender_password: String,
    pub(super) company_id: String,
    pub(super) user_id: String,
    pub(super) user_password: String,
    pub(super) location_id: Option<String>,
    pub(super) entities: Option<Vec<String>>,
    pub(super) time_zone: Option<String>,
    pub(super) session_ttl_secs: Option<u64>,
    pub(super) timeout_secs: Option<u64>,
    pub(super) max_concurrent_requests: Option<usize>,
    pub(super) max_transactions_per_run: Option<u64>,
    pub(super) page_size: Option<u32>,
    pub(super) retry: Option<RawRetry>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRetry {
    pub(super) max_attempts: Option<u32>,
    pub(super) initial_backoff_ms: Option<u64>,
    pub(super) max_backoff_ms: Option<u64>,
    pub(super) max_elapsed_secs: Option<u64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExtract {
    pub(super) lookback_secs: Option<u64>,
    pub(super) delete_lookback_secs: Option<u64>,
    pub(super) clock_margin_secs: Option<u64>,
    pub(super) channel_pages: Option<usize>,
    pub(super) checkpoint_pages: Option<u64>,
    pub(super) quarantine_bad_values: Option<bool>,
    pub(super) deletes: Option<DeleteFeed>,
    pub(super) objects: Option<Vec<String>>,
    #[serde(default)]
    pub(super) object: BTreeMap<String, RawObject>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawObject {
    pub(super) method: Option<ReadMethod>,
    pub(super) fields: Option<Vec<String>>,
    pub(super) exclude_fields: Option<Vec<String>>,
    pub(super) page_size: Option<u32>,
    pub(super) lookback_secs: Option<u64>,
    pub(super) key: Option<String>,
    pub(super) watermark_field: Option<String>,
    pub(super) delete_lookback_secs: Option<u64>,
    pub(super) schema: Option<SchemaPolicy>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStage {
    pub(super) url: String,
    pub(super) part_max_rows: Option<usize>,
    pub(super) part_max_bytes: Option<u64>,
    pub(super) row_group_rows: Option<usize>,
    pub(super) keep_raw_pages: Option<bool>,
    pub(super) lock_lease_secs: Option<u64>,
    /// Deprecated (the single-file lock's lifetime): parsed, ignored, warned about.
    pub(super) lock_ttl_secs: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSnowflake {
    pub(super) url: String,
    pub(super) account: String,
    pub(super) user: String,
    pub(super) private_key_path: Option<String>,
    pub(super) private_key_passphrase: Option<String>,
    pub(super) token: Option<String>,
    pub(super) database: String,
    pub(super) schema: String,
    pub(super) warehouse: Option<String>,
    pub(super) role: Option<String>,
    pub(super) timeout_secs: Option<u64>,
    pub(super) stage_name: Option<String>,
    pub(super) file_format: Option<String>,
    pub(super) stage_url: Option<String>,
    pub(super) storage_integration: Option<String>,
    pub(super) load_concurrency: Option<usize>,
    pub(super) create_database: Option<bool>,
    pub(super) poll_max_backoff_ms: Option<u64>,
    pub(super) retry: Option<RawRetry>,
}

pub(super) fn parse(text: &str, path: &Path) -> Result<RawPipeline> {
    toml::from_str(text).map_err(|e| Error::Config {
        location: match e.span() {
            Some(span) => format!("{}: line {}", path.display(), line_of(text, span.start)),
            None => path.display().to_string(),
        },
        message: e.message().to_owned(),
    })
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// A whole value that is exactly one `${NAME}` or `${NAME:-default}`.
pub(super) struct EnvReference<'a> {
    pub(super) name: &'a str,
    pub(super) default: Option<&'a str>,
}

impl<'a> EnvReference<'a> {
    pub(super) fn parse_whole(value: &'a str) -> Option<EnvReference<'a>> {
        let inner = value.strip_prefix("${")?.strip_suffix('}')?;
        if inner.contains('}') {
            return None;
        }
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        valid_var_name(name).then_some(EnvReference { name, default })
    }
}

fn valid_var_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Replaces `${NAME}` and `${NAME:-default}` in `value` from `env`; `$${` is a literal `${`.
///
/// An unset (or empty) variable without a default is an error naming it.
pub fn interpolate(
    value: &str,
    env: &BTreeMap<String, String>,
) -> std::result::Result<String, String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos..];
        if let Some(tail) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("${") {
            let end = tail
                .find('}')
                .ok_or_else(|| format!("unclosed ${{ in {value:?}"))?;
            let inner = &tail[..end];
            let (name, default) = match inner.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (inner, None),
            };
            if !valid_var_name(name) {
                return Err(format!("{name:?} is not an environment variable name"));
            }
            match (env.get(name).filter(|v| !v.is_empty()), default) {
                (Some(v), _) => out.push_str(v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => return Err(format!("environment variable {name} is not set")),
            }
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}
