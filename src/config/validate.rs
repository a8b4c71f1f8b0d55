//! Raw tables ([`super::raw`]) into the validated [`Spec`]: one function per TOML table.
//!
//! Each function takes its raw table and returns its part of the spec, or the first
//! [`Error::Config`] it finds, located as `<file>: <table>.<key>` and saying what a right
//! value is. The tables are checked in a fixed order — `[intacct]` (with `[intacct.retry]`),
//! `[extract]` (with each `[extract.object.NAME]`), `[stage]`, `[snowflake]`, `[notify]`, then
//! the top-level `name` — and each table's keys in a fixed order, so a file with several mistakes
//! always reports the same one first. `[snowflake]` reads the validated `[stage] url`: by
//! default Snowflake reads the stage where the extractor wrote it.
//!
//! Secrets are references, never literals: `${NAME}` / `${NAME:-default}` or
//! `credentials:NAME` (see [`super::checks`]); a default stands in only when the endpoint it
//! unlocks is on loopback.

use std::collections::BTreeMap;
use std::path::Path;

use super::checks::{
    DEFAULT_CLOCK_MARGIN_SECS, MAX_CLOCK_MARGIN_SECS, MAX_LOOKBACK_SECS, bounded, entities,
    identifier, is_loopback, non_empty, normalise_stage_url, parse_secure_url, resolve_secret,
    snowflake_stage_url,
};
use super::credentials::CredentialSource;
use super::raw::{
    EnvReference, RawExtract, RawIntacct, RawNotify, RawObject, RawPipeline, RawRetry,
    RawSnowflake, RawStage, interpolate,
};
use super::spec::{
    DEFAULT_KEY, DEFAULT_NOTIFY_EXIT_CODES, DEFAULT_WATERMARK_FIELD, ExtractSpec, IntacctSpec,
    KNOWN_OBJECTS, NotifySpec, ObjectSpec, ReadMethod, RetrySpec, SnowflakeAuth, SnowflakeSpec,
    Spec, StageSpec,
};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// What a pipeline file's values are resolved against, and where its errors point.
pub(super) struct Inputs<'a> {
    /// The file: every error location starts with it.
    pub(super) path: &'a Path,
    /// The environment `${NAME}` reads.
    pub(super) env: &'a BTreeMap<String, String>,
    /// The directory relative paths are made absolute against.
    pub(super) cwd: &'a Path,
    /// Where `credentials:NAME` is looked up.
    pub(super) creds: &'a CredentialSource,
}

impl Inputs<'_> {
    /// `<file>: <key>`, where a configuration error points.
    fn location(&self, key: &str) -> String {
        format!("{}: {key}", self.path.display())
    }

    /// `value` with its `${NAME}` references replaced from the environment.
    fn resolve(&self, key: &str, value: &str) -> Result<String> {
        interpolate(value, self.env).map_err(|message| Error::Config {
            location: self.location(key),
            message,
        })
    }

    /// A secret setting (`None`: empty); `loopback` says whether the endpoint it unlocks is
    /// on loopback, where a default in the file may stand in for it.
    fn secret(&self, key: &str, value: &str, loopback: bool) -> Result<Option<Secret>> {
        resolve_secret(key, value, loopback, self.env, self.creds).map_err(|e| match e {
            Error::Config { message, .. } => Error::Config {
                location: self.location(key),
                message,
            },
            other => other,
        })
    }

    /// A secret that must not be empty.
    fn required(&self, key: &str, value: Option<Secret>) -> Result<Secret> {
        value.ok_or_else(|| Error::Config {
            location: self.location(key),
            message: "must not be empty".into(),
        })
    }

    /// An optional setting, resolved; empty counts as unset.
    fn optional(&self, key: &str, value: Option<&str>) -> Result<Option<String>> {
        Ok(match value {
            Some(v) => Some(self.resolve(key, v)?).filter(|s| !s.is_empty()),
            None => None,
        })
    }
}

/// The whole pipeline, table by table.
pub(super) fn pipeline(raw: RawPipeline, at: &Inputs) -> Result<Spec> {
    let intacct = intacct(&raw.intacct, at)?;
    let extract = extract(raw.extract.unwrap_or_default(), at)?;
    let stage = stage(&raw.stage, at)?;
    let snowflake = snowflake(&raw.snowflake, &stage.url, at)?;
    let notify = raw.notify.as_ref().map(|n| notify(n, at)).transpose()?;
    let name = name(raw.name, at)?;
    Ok(Spec {
        name,
        source: at.path.to_path_buf(),
        intacct,
        extract,
        stage,
        snowflake,
        notify,
    })
}

/// `[notify]`: the webhook URL by reference only (it carries the channel's token; a default
/// stands in only for a loopback URL), an http or https URL once resolved (the error never
/// quotes it), the exit codes to announce (default 1, 2, 3 and 5) and a bounded timeout.
pub(super) fn notify(n: &RawNotify, at: &Inputs) -> Result<NotifySpec> {
    let key = "notify.webhook_url";
    let default_is_loopback = EnvReference::parse_whole(&n.webhook_url)
        .and_then(|r| r.default)
        .and_then(|d| url::Url::parse(d).ok())
        .is_some_and(|u| is_loopback(&u));
    let webhook_url = at.required(key, at.secret(key, &n.webhook_url, default_is_loopback)?)?;
    match url::Url::parse(webhook_url.expose()) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {}
        _ => {
            return Err(Error::Config {
                location: at.location(key),
                message: "the value it names is not an http or https URL (it is not shown: a webhook URL carries a token)".into(),
            });
        }
    }
    let on_exit_codes = match &n.on_exit_codes {
        None => DEFAULT_NOTIFY_EXIT_CODES.to_vec(),
        Some(codes) => {
            let mut out = Vec::with_capacity(codes.len());
            for &code in codes {
                match u8::try_from(code) {
                    Ok(code) if [0, 1, 2, 3, 4, 5, 130].contains(&code) => out.push(code),
                    _ => {
                        return Err(Error::Config {
                            location: at.location("notify.on_exit_codes"),
                            message: format!(
                                "{code} is not an exit code of this tool (0, 1, 2, 3, 4, 5, 130)"
                            ),
                        });
                    }
                }
            }
            out
        }
    };
    Ok(NotifySpec {
        webhook_url,
        on_exit_codes,
        timeout_secs: bounded(
            n.timeout_secs.unwrap_or(10),
            1..=300,
            &at.location("notify.timeout_secs"),
        )?,
    })
}

/// `[intacct]`: the endpoint, the credentials (secrets by reference), the tenant's time zone
/// and the limits of one company's request slots.
fn intacct(i: &RawIntacct, at: &Inputs) -> Result<IntacctSpec> {
    let endpoint = parse_secure_url(
        &at.resolve("intacct.endpoint", &i.endpoint)?,
        &at.location("intacct.endpoint"),
        "the sender and user passwords and the session id",
    )?;
    let intacct_loopback = is_loopback(&endpoint);
    let page_size = i.page_size.unwrap_or(2000);
    if !(1..=2000).contains(&page_size) {
        return Err(Error::Config {
            location: at.location("intacct.page_size"),
            message: format!("{page_size} is outside 1..=2000, the query function's limit"),
        });
    }
    let max_concurrent_requests = i.max_concurrent_requests.unwrap_or(2);
    if max_concurrent_requests == 0 {
        return Err(Error::Config {
            location: at.location("intacct.max_concurrent_requests"),
            message: "must be at least 1".into(),
        });
    }
    if i.max_transactions_per_run == Some(0) {
        return Err(Error::Config {
            location: at.location("intacct.max_transactions_per_run"),
            message:
                "must be at least 1 (a run needs a login and a page); leave it out for no limit"
                    .into(),
        });
    }
    let tz_name = at.resolve("intacct.time_zone", i.time_zone.as_deref().unwrap_or("UTC"))?;
    let time_zone: chrono_tz::Tz = tz_name.parse().map_err(|_| Error::Config {
        location: at.location("intacct.time_zone"),
        message: format!(
            "unknown time zone {tz_name:?}; use an IANA name such as America/Los_Angeles or UTC"
        ),
    })?;
    let session_ttl_secs = i.session_ttl_secs.unwrap_or(3000);
    if session_ttl_secs == 0 || session_ttl_secs > 3000 {
        return Err(Error::Config {
            location: at.location("intacct.session_ttl_secs"),
            message: format!(
                "{session_ttl_secs} is outside 1..=3000 (sessions are reused for at most 50 minutes)"
            ),
        });
    }
    let retry = retry(
        i.retry.clone().unwrap_or_default(),
        "intacct.retry",
        &INTACCT_RETRY,
        at,
    )?;
    let location_id = at.resolve(
        "intacct.location_id",
        i.location_id.as_deref().unwrap_or(""),
    )?;
    let entities = entities(
        i.entities.as_deref().unwrap_or(&[]),
        !location_id.is_empty(),
        &at.location("intacct.entities"),
    )?;
    Ok(IntacctSpec {
        sender_id: non_empty(
            &at.resolve("intacct.sender_id", &i.sender_id)?,
            &at.location("intacct.sender_id"),
        )?,
        sender_password: at.required(
            "intacct.sender_password",
            at.secret(
                "intacct.sender_password",
                &i.sender_password,
                intacct_loopback,
            )?,
        )?,
        company_id: non_empty(
            &at.resolve("intacct.company_id", &i.company_id)?,
            &at.location("intacct.company_id"),
        )?,
        user_id: non_empty(
            &at.resolve("intacct.user_id", &i.user_id)?,
            &at.location("intacct.user_id"),
        )?,
        user_password: at.required(
            "intacct.user_password",
            at.secret("intacct.user_password", &i.user_password, intacct_loopback)?,
        )?,
        location_id: (!location_id.is_empty()).then_some(location_id),
        entities,
        endpoint,
        time_zone,
        session_ttl_secs,
        // Large line objects can take minutes per page on a real tenant.
        timeout_secs: bounded(
            i.timeout_secs.unwrap_or(300),
            1..=3_600,
            &at.location("intacct.timeout_secs"),
        )?,
        max_concurrent_requests,
        max_transactions_per_run: i.max_transactions_per_run,
        page_size,
        retry,
    })
}

/// `[intacct.retry]`'s defaults: 8 attempts, 500 ms doubling to 30 s, 600 s in all.
const INTACCT_RETRY: RetrySpec = RetrySpec {
    max_attempts: 8,
    initial_backoff_ms: 500,
    max_backoff_ms: 30_000,
    max_elapsed_secs: 600,
};

/// `[snowflake.retry]`'s defaults, the SQL API client's reference policy: 8 attempts, 1 s
/// doubling to 60 s, 900 s in all.
const SNOWFLAKE_RETRY: RetrySpec = RetrySpec {
    max_attempts: 8,
    initial_backoff_ms: 1_000,
    max_backoff_ms: 60_000,
    max_elapsed_secs: 900,
};

/// A retry table (`table` is `intacct.retry` or `snowflake.retry`): every setting optional
/// (`defaults` otherwise), every backoff bounded.
fn retry(retry: RawRetry, table: &str, defaults: &RetrySpec, at: &Inputs) -> Result<RetrySpec> {
    Ok(RetrySpec {
        max_attempts: retry.max_attempts.unwrap_or(defaults.max_attempts).max(1),
        initial_backoff_ms: bounded(
            retry
                .initial_backoff_ms
                .unwrap_or(defaults.initial_backoff_ms),
            0..=3_600_000,
            &at.location(&format!("{table}.initial_backoff_ms")),
        )?,
        max_backoff_ms: bounded(
            retry.max_backoff_ms.unwrap_or(defaults.max_backoff_ms),
            0..=3_600_000,
            &at.location(&format!("{table}.max_backoff_ms")),
        )?,
        max_elapsed_secs: bounded(
            retry.max_elapsed_secs.unwrap_or(defaults.max_elapsed_secs),
            0..=86_400,
            &at.location(&format!("{table}.max_elapsed_secs")),
        )?,
    })
}

/// `[extract]`: the objects in scope (every known object when `objects` is absent), each
/// named once and with its own table only when it is in scope, and the lookbacks.
fn extract(e: RawExtract, at: &Inputs) -> Result<ExtractSpec> {
    let names: Vec<String> = match &e.objects {
        Some(list) => list.iter().map(|o| o.to_ascii_uppercase()).collect(),
        None => KNOWN_OBJECTS.iter().map(|s| s.to_string()).collect(),
    };
    if names.is_empty() {
        return Err(Error::Config {
            location: at.location("extract.objects"),
            message: "no object in scope".into(),
        });
    }
    let mut objects = Vec::with_capacity(names.len());
    for name in names {
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(Error::Config {
                location: at.location("extract.objects"),
                message: format!("{name:?} is not an Intacct object name"),
            });
        }
        if objects.iter().any(|o: &ObjectSpec| o.name == name) {
            return Err(Error::Config {
                location: at.location("extract.objects"),
                message: format!("{name} is listed twice"),
            });
        }
        let over = e.object.get(&name).cloned().unwrap_or_default();
        objects.push(object(name, over, at)?);
    }
    if let Some(unknown) = e
        .object
        .keys()
        .find(|k| !objects.iter().any(|o| &o.name == *k))
    {
        return Err(Error::Config {
            location: at.location(&format!("extract.object.{unknown}")),
            message: format!("{unknown} has settings but is not in extract.objects"),
        });
    }
    Ok(ExtractSpec {
        lookback_secs: match e.lookback_secs.unwrap_or(7200) {
            secs if secs > MAX_LOOKBACK_SECS => {
                return Err(Error::Config {
                    location: at.location("extract.lookback_secs"),
                    message: format!("{secs} is more than {MAX_LOOKBACK_SECS} (one year)"),
                });
            }
            secs => secs,
        },
        delete_lookback_secs: bounded(
            e.delete_lookback_secs
                .unwrap_or(crate::intacct::objects::AUDIT_LAG_LOOKBACK_SECS as u64),
            0..=MAX_LOOKBACK_SECS,
            &at.location("extract.delete_lookback_secs"),
        )?,
        clock_margin_secs: bounded(
            e.clock_margin_secs.unwrap_or(DEFAULT_CLOCK_MARGIN_SECS),
            0..=MAX_CLOCK_MARGIN_SECS,
            &at.location("extract.clock_margin_secs"),
        )?,
        channel_pages: e.channel_pages.unwrap_or(4).max(1),
        checkpoint_pages: e.checkpoint_pages.unwrap_or(50).clamp(1, 1_000_000),
        quarantine_bad_values: e.quarantine_bad_values.unwrap_or(true),
        deletes: e.deletes.unwrap_or_default(),
        objects,
    })
}

/// `[extract.object.NAME]` (every setting optional): the page size within its read method's
/// limit, a key and a watermark field that are field names and differ, no excluded field that
/// paging, merging or deletes need, lookbacks of at most a year.
fn object(name: String, over: RawObject, at: &Inputs) -> Result<ObjectSpec> {
    if let Some(ps) = over.page_size {
        let max = if over.method == Some(ReadMethod::ReadByQuery) {
            1000
        } else {
            2000
        };
        if !(1..=max).contains(&ps) {
            return Err(Error::Config {
                location: at.location(&format!("extract.object.{name}.page_size")),
                message: format!("{ps} is outside 1..={max}"),
            });
        }
    }
    let exclude_fields: Vec<String> = over
        .exclude_fields
        .unwrap_or_default()
        .into_iter()
        .map(|f| f.to_ascii_uppercase())
        .collect();
    let field_name = |setting: &str, value: Option<String>, default: &str| -> Result<String> {
        let value = value.unwrap_or_else(|| default.to_owned());
        if value.is_empty()
            || !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            || value.starts_with(|c: char| c.is_ascii_digit())
        {
            return Err(Error::Config {
                location: at.location(&format!("extract.object.{name}.{setting}")),
                message: format!("{value:?} is not an Intacct field name"),
            });
        }
        Ok(value.to_ascii_uppercase())
    };
    let key = field_name("key", over.key, DEFAULT_KEY)?;
    let watermark_field = field_name(
        "watermark_field",
        over.watermark_field,
        DEFAULT_WATERMARK_FIELD,
    )?;
    if key == watermark_field {
        return Err(Error::Config {
            location: at.location(&format!("extract.object.{name}.key")),
            message: format!("{key} cannot be both the key and the watermark field"),
        });
    }
    if let Some(needed) = exclude_fields.iter().find(|f| {
        crate::intacct::objects::is_required_field(&name, f) || **f == key || **f == watermark_field
    }) {
        return Err(Error::Config {
            location: at.location(&format!("extract.object.{name}.exclude_fields")),
            message: format!("{needed} cannot be excluded: paging, merging or deletes need it"),
        });
    }
    for (key, value) in [
        ("lookback_secs", over.lookback_secs),
        ("delete_lookback_secs", over.delete_lookback_secs),
    ] {
        if let Some(secs) = value
            && secs > MAX_LOOKBACK_SECS
        {
            return Err(Error::Config {
                location: at.location(&format!("extract.object.{name}.{key}")),
                message: format!("{secs} is more than {MAX_LOOKBACK_SECS} (one year)"),
            });
        }
    }
    Ok(ObjectSpec {
        method: over.method.unwrap_or(ReadMethod::Query),
        fields: over.fields,
        exclude_fields,
        page_size: over.page_size,
        lookback_secs: over.lookback_secs,
        key,
        watermark_field,
        delete_lookback_secs: over.delete_lookback_secs,
        schema: over.schema.unwrap_or_default(),
        name,
    })
}

/// `[stage]`: a stage URL (or a path made absolute), Parquet part and row-group sizes with
/// floors, and a bounded run lock lease. `lock_ttl_secs`, the lifetime of the single-file
/// lock of earlier releases, still parses and is ignored, with a warning: the lease replaced it.
fn stage(s: &RawStage, at: &Inputs) -> Result<StageSpec> {
    Ok(StageSpec {
        url: normalise_stage_url(
            &at.resolve("stage.url", &s.url)?,
            at.cwd,
            &at.location("stage.url"),
        )?,
        part_max_rows: s.part_max_rows.unwrap_or(1_000_000).max(1),
        part_max_bytes: s.part_max_bytes.unwrap_or(256 * 1024 * 1024).max(1024),
        row_group_rows: s.row_group_rows.unwrap_or(128 * 1024).max(1),
        keep_raw_pages: s.keep_raw_pages.unwrap_or(false),
        lock_lease_secs: bounded(
            s.lock_lease_secs.unwrap_or(DEFAULT_LOCK_LEASE_SECS),
            2..=3600,
            &at.location("stage.lock_lease_secs"),
        )?,
    })
    .inspect(|_| {
        if s.lock_ttl_secs.is_some() {
            tracing::warn!(
                location = at.location("stage.lock_ttl_secs"),
                "stage.lock_ttl_secs is deprecated and ignored: the run lock is renewed within stage.lock_lease_secs"
            );
        }
    })
}

/// The default run lock lease: a holder that has not renewed for this long is dead.
const DEFAULT_LOCK_LEASE_SECS: u64 = 120;

/// `[snowflake]`: the account and one way to authenticate, every name as Snowflake stores it
/// ([`identifier`]: unquoted upper-cased, quoted kept), and where Snowflake reads the stage (by
/// default `stage_url`, the validated `[stage] url`; an S3 stage needs a storage integration,
/// and a local directory is readable only by a Snowflake on loopback, the emulator).
fn snowflake(f: &RawSnowflake, stage_url: &str, at: &Inputs) -> Result<SnowflakeSpec> {
    let sf_url = parse_secure_url(
        &at.resolve("snowflake.url", &f.url)?,
        &at.location("snowflake.url"),
        "the JWT or programmatic access token",
    )?;
    let auth = snowflake_auth(f, is_loopback(&sf_url), at)?;
    let snowflake = SnowflakeSpec {
        url: sf_url,
        account: non_empty(
            &at.resolve("snowflake.account", &f.account)?,
            &at.location("snowflake.account"),
        )?,
        user: non_empty(
            &at.resolve("snowflake.user", &f.user)?,
            &at.location("snowflake.user"),
        )?,
        auth,
        database: identifier(
            &at.resolve("snowflake.database", &f.database)?,
            &at.location("snowflake.database"),
        )?,
        schema: identifier(
            &at.resolve("snowflake.schema", &f.schema)?,
            &at.location("snowflake.schema"),
        )?,
        warehouse: at
            .optional("snowflake.warehouse", f.warehouse.as_deref())?
            .map(|name| identifier(&name, &at.location("snowflake.warehouse")))
            .transpose()?,
        role: at
            .optional("snowflake.role", f.role.as_deref())?
            .map(|name| identifier(&name, &at.location("snowflake.role")))
            .transpose()?,
        // Snowflake's own limit on a statement is seven days.
        timeout_secs: bounded(
            f.timeout_secs.unwrap_or(3600),
            1..=604_800,
            &at.location("snowflake.timeout_secs"),
        )?,
        stage_name: identifier(
            &at.resolve(
                "snowflake.stage_name",
                f.stage_name.as_deref().unwrap_or("INTACCT_STAGE"),
            )?,
            &at.location("snowflake.stage_name"),
        )?,
        file_format: identifier(
            &at.resolve(
                "snowflake.file_format",
                f.file_format.as_deref().unwrap_or("INTACCT_PARQUET"),
            )?,
            &at.location("snowflake.file_format"),
        )?,
        stage_url: snowflake_stage_url(
            at.optional("snowflake.stage_url", f.stage_url.as_deref())?,
            stage_url,
            &at.location("snowflake.stage_url"),
        )?,
        storage_integration: at
            .optional(
                "snowflake.storage_integration",
                f.storage_integration.as_deref(),
            )?
            .map(|name| identifier(&name, &at.location("snowflake.storage_integration")))
            .transpose()?,
        load_concurrency: match f.load_concurrency.unwrap_or(4) {
            0 => {
                return Err(Error::Config {
                    location: at.location("snowflake.load_concurrency"),
                    message: "must be at least 1".into(),
                });
            }
            n => n.min(64),
        },
        create_database: f.create_database.unwrap_or(false),
        poll_max_backoff_ms: bounded(
            f.poll_max_backoff_ms
                .unwrap_or(crate::snowflake::DEFAULT_POLL_MAX_BACKOFF_MS),
            1..=600_000,
            &at.location("snowflake.poll_max_backoff_ms"),
        )?,
        retry: retry(
            f.retry.clone().unwrap_or_default(),
            "snowflake.retry",
            &SNOWFLAKE_RETRY,
            at,
        )?,
    };
    if snowflake.stage_url.starts_with("file://") && !is_loopback(&snowflake.url) {
        let key = if f.stage_url.is_some() {
            "snowflake.stage_url"
        } else {
            "stage.url"
        };
        return Err(Error::Config {
            location: at.location(key),
            message: format!(
                "Snowflake at {} cannot read a local directory ({}): only the local emulator can. Put the stage on S3 (stage.url = \"s3://bucket/prefix/\", with snowflake.storage_integration naming an integration that allows it; see the README's Snowflake set-up)",
                snowflake.url.host_str().unwrap_or("?"),
                snowflake.stage_url
            ),
        });
    }
    if snowflake.stage_url.starts_with("s3://") && snowflake.storage_integration.is_none() {
        return Err(Error::Config {
            location: at.location("snowflake.storage_integration"),
            message: format!(
                "the stage {} is on S3, so Snowflake needs a storage integration to read it: create one (see the README's Snowflake set-up) and name it here",
                snowflake.stage_url
            ),
        });
    }
    Ok(snowflake)
}

/// `[snowflake]`'s credentials: exactly one of `private_key_path` (with an optional
/// `private_key_passphrase`) and `token`, secrets by reference; `loopback` says whether the
/// Snowflake URL is on loopback.
fn snowflake_auth(f: &RawSnowflake, loopback: bool, at: &Inputs) -> Result<SnowflakeAuth> {
    let token = match &f.token {
        Some(t) => at.secret("snowflake.token", t, loopback)?,
        None => None,
    };
    Ok(match (token, &f.private_key_path) {
        (Some(token), None) => SnowflakeAuth::ProgrammaticAccessToken(token),
        (None, Some(key)) => {
            let key = at.resolve("snowflake.private_key_path", key)?;
            let passphrase = match &f.private_key_passphrase {
                Some(p) => at.secret("snowflake.private_key_passphrase", p, loopback)?,
                None => None,
            };
            SnowflakeAuth::KeyPair {
                private_key_path: at
                    .cwd
                    .join(non_empty(&key, &at.location("snowflake.private_key_path"))?),
                passphrase,
            }
        }
        (Some(_), Some(_)) => {
            return Err(Error::Config {
                location: at.location("snowflake"),
                message: "set either private_key_path (key-pair JWT) or token (programmatic access token), not both".into(),
            });
        }
        (None, None) => {
            return Err(Error::Config {
                location: at.location("snowflake"),
                message: "set private_key_path (key-pair JWT) or token (programmatic access token)"
                    .into(),
            });
        }
    })
}

/// The top-level `name`: it names the stage lock and the reports, so letters, digits, `-`
/// and `_` only.
fn name(name: String, at: &Inputs) -> Result<String> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(Error::Config {
            location: at.location("name"),
            message: format!("{name:?} must be letters, digits, '-' or '_'"),
        });
    }
    Ok(name)
}
