//! Pipeline files (`pipelines/*.toml`) parsed into a validated [`Spec`].
//!
//! A pipeline file is read in three steps, each a pure function but the first:
//!
//! 1. [`load`] reads the file and the environment;
//! 2. every string value may use `${NAME}` (required variable) or `${NAME:-default}`
//!    (default when the variable is unset or empty); `$${` writes a literal `${`;
//! 3. the result is deserialised with `deny_unknown_fields` (a misspelt key is an error naming
//!    it) and validated into a [`Spec`] whose names carry their unit (`timeout_secs`,
//!    `page_size`).
//!
//! Secrets (`sender_password`, `user_password`, `private_key_passphrase`, `token`) are never
//! taken from the file itself. Their value must be a reference: `${NAME}` / `${NAME:-default}`
//! (the environment) or `credentials:NAME` (the age-encrypted credentials file, see
//! `credentials`). A literal is refused. A `${NAME:-default}` default is accepted only when
//! the endpoint it unlocks is on loopback, so the demo's simulator credentials work out of the
//! box and a production pipeline can never carry a password in plain text.
//!
//! `[extract] deletes` picks the delete feed ([`DeleteFeed`]): `"audit_history"` (default)
//! stages AUDITHISTORY deletes as tombstones, `"off"` sends no AUDITHISTORY request at all.

pub(crate) mod credentials;
mod raw;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::secret::Secret;

pub use raw::interpolate;

/// Every Intacct object the tool knows how to extract, in dependency-friendly order.
pub const KNOWN_OBJECTS: &[&str] = &[
    "VENDOR",
    "APBILL",
    "APBILLITEM",
    "APPYMT",
    "APPYMTDETAIL",
    "GLACCOUNT",
    "DEPARTMENT",
    "LOCATION",
    "CLASS",
    "PROJECT",
    "CUSTOMER",
    "EMPLOYEE",
];

/// A validated pipeline.
#[derive(Clone, Debug)]
pub struct Spec {
    /// The pipeline's name (stage lock and reports use it).
    pub name: String,
    /// The file it was read from.
    pub source: PathBuf,
    /// Where Intacct is and how to talk to it.
    pub intacct: IntacctSpec,
    /// What to extract.
    pub extract: ExtractSpec,
    /// Where the Parquet files and the manifest go.
    pub stage: StageSpec,
    /// Where the data is loaded.
    pub snowflake: SnowflakeSpec,
}

/// The `[intacct]` table.
#[derive(Clone, Debug)]
pub struct IntacctSpec {
    /// The XML gateway endpoint (`…/ia/xml/xmlgw.phtml`).
    pub endpoint: url::Url,
    /// Web Services sender id.
    pub sender_id: String,
    /// Web Services sender password.
    pub sender_password: Secret,
    /// Company id.
    pub company_id: String,
    /// API user id.
    pub user_id: String,
    /// API user password.
    pub user_password: Secret,
    /// Entity (multi-entity companies), `None` for the top level.
    pub location_id: Option<String>,
    /// Entities read one by one, each through a session of its own (`locationid`), for an
    /// API user restricted to entity-level access; empty: one top-level session.
    pub entities: Vec<String>,
    /// Time zone in which the tenant writes and reads timestamps.
    pub time_zone: chrono_tz::Tz,
    /// Longest a session is reused, in seconds (never past the gateway's `sessiontimeout`).
    pub session_ttl_secs: u64,
    /// HTTP timeout of one request, in seconds.
    pub timeout_secs: u64,
    /// Requests in flight at once for this company, across all objects and windows.
    pub max_concurrent_requests: usize,
    /// Records per `query` page (1..=2000).
    pub page_size: u32,
    /// Retry policy for transient failures.
    pub retry: RetrySpec,
}

/// `[intacct.retry]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetrySpec {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First backoff ceiling, in milliseconds (full jitter below it).
    pub initial_backoff_ms: u64,
    /// Largest backoff ceiling, in milliseconds.
    pub max_backoff_ms: u64,
    /// Give up retrying one request after this many seconds in all.
    pub max_elapsed_secs: u64,
}

/// How an object is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ReadMethod {
    /// `query` with keyset paging on RECORDNO inside the window: the default.
    Query,
    /// `readByQuery` + `readMore`: the fallback for objects `query` cannot serve.
    ReadByQuery,
}

/// Where `extract` learns about hard deletes (`extract.deletes`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeleteFeed {
    /// Read AUDITHISTORY rows with `ACCESSMODE = 'D'` for every object in scope, over the same
    /// window as the object, and stage them as tombstone rows (`_DELETED = true`): the
    /// default, because a hard delete is invisible to a WHENMODIFIED poll. The API user needs
    /// read permission on AUDITHISTORY.
    #[default]
    AuditHistory,
    /// No delete feed: deleted records stay in Snowflake as they were last staged.
    Off,
}

/// `[extract]`.
#[derive(Clone, Debug)]
pub struct ExtractSpec {
    /// How far before the watermark each incremental read starts, in seconds (Intacct is
    /// eventually consistent).
    pub lookback_secs: u64,
    /// How far before its own mark the delete feed reads AUDITHISTORY, in seconds (default
    /// 10800): the audit trail lags the change by up to two hours.
    pub delete_lookback_secs: u64,
    /// Pages buffered between the reader and the Parquet writer per object.
    pub channel_pages: usize,
    /// A backfill window records its progress (files and read position) every this many
    /// pages, so an interrupted window resumes there.
    pub checkpoint_pages: u64,
    /// A value that does not fit its declared type in a column other than the key, the
    /// delete key and the timestamps is staged as NULL and kept in the batch's quarantine
    /// file, counted per field in the run report (default true); false fails the object.
    /// A bad key or timestamp fails the object either way.
    pub quarantine_bad_values: bool,
    /// Where deletes come from (`extract.deletes`, default `audit_history`).
    pub deletes: DeleteFeed,
    /// The objects in scope, in order.
    pub objects: Vec<ObjectSpec>,
}

/// One object in scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectSpec {
    /// Intacct object name, upper case.
    pub name: String,
    /// How to read it.
    pub method: ReadMethod,
    /// Explicit field list; `None` means every field `lookup` reports.
    pub fields: Option<Vec<String>>,
    /// Fields never read (besides the default private fields); the key, timestamp and
    /// delete-key fields cannot be excluded.
    pub exclude_fields: Vec<String>,
    /// Page size override.
    pub page_size: Option<u32>,
    /// Lookback override, in seconds.
    pub lookback_secs: Option<u64>,
    /// The column the target table is merged on, one row per value (default `RECORDNO`, the
    /// gateway's primary key; a natural key such as `VENDORID` keeps one row per ID even when
    /// Intacct deletes and re-creates the record under a new RECORDNO).
    pub key: String,
    /// The modification timestamp incremental reads ask by and the MERGE orders changes by
    /// (default `WHENMODIFIED`); `lookup` must type it as a timestamp.
    pub watermark_field: String,
    /// Delete-feed lookback override, in seconds.
    pub delete_lookback_secs: Option<u64>,
}

/// The default [`ObjectSpec::key`].
pub const DEFAULT_KEY: &str = "RECORDNO";
/// The default [`ObjectSpec::watermark_field`].
pub const DEFAULT_WATERMARK_FIELD: &str = "WHENMODIFIED";

/// `[stage]`.
#[derive(Clone, Debug)]
pub struct StageSpec {
    /// `file:///abs/dir`, `s3://bucket/prefix` or `memory://`; a plain path is made absolute.
    pub url: String,
    /// Roll to a new Parquet part after this many rows.
    pub part_max_rows: usize,
    /// Roll to a new Parquet part after this many bytes.
    pub part_max_bytes: u64,
    /// Rows per Parquet row group.
    pub row_group_rows: usize,
    /// Keep the raw response pages (zstd) beside the parts.
    pub keep_raw_pages: bool,
    /// A run lock older than this is considered abandoned, in seconds.
    pub lock_ttl_secs: u64,
}

/// How the loader authenticates to Snowflake.
#[derive(Clone, Debug)]
pub enum SnowflakeAuth {
    /// Key-pair JWT signed with an RSA private key (PKCS#8 PEM).
    KeyPair {
        /// The key file.
        private_key_path: PathBuf,
        /// Passphrase of an encrypted key.
        passphrase: Option<Secret>,
    },
    /// A programmatic access token.
    ProgrammaticAccessToken(Secret),
}

/// `[snowflake]`.
#[derive(Clone, Debug)]
pub struct SnowflakeSpec {
    /// Base URL (`https://<account>.snowflakecomputing.com`).
    pub url: url::Url,
    /// Account identifier.
    pub account: String,
    /// Login name.
    pub user: String,
    /// How to authenticate.
    pub auth: SnowflakeAuth,
    /// Target database.
    pub database: String,
    /// Target schema.
    pub schema: String,
    /// Warehouse, when not the user's default.
    pub warehouse: Option<String>,
    /// Role, when not the user's default.
    pub role: Option<String>,
    /// Statement timeout, in seconds.
    pub timeout_secs: u64,
    /// The external stage's name (in `database.schema`).
    pub stage_name: String,
    /// The Parquet file format's name (in `database.schema`).
    pub file_format: String,
    /// Where Snowflake reads the stage: `s3://bucket/prefix/` in production (the same place as
    /// `[stage] url`), a `file:///abs/dir/` URL for the local emulator. Always ends with `/`.
    pub stage_url: String,
    /// The storage integration the external stage uses (required for `s3://` stages).
    pub storage_integration: Option<String>,
    /// Objects loaded at once (each object's batches load in order).
    pub load_concurrency: usize,
    /// `init` also sends `CREATE DATABASE IF NOT EXISTS` (off by default: the loader's role
    /// rarely may create databases; the local emulator starts empty).
    pub create_database: bool,
}

/// The URL Snowflake reads the stage at: the configured one, else the stage's own URL when
/// Snowflake can read it (`file://` for the emulator, `s3://`); always ending with `/`.
fn snowflake_stage_url(
    configured: Option<String>,
    stage_url: &str,
    location: &str,
) -> Result<String> {
    let url = match configured {
        Some(url) => url,
        None if stage_url.starts_with("file://") || stage_url.starts_with("s3://") => {
            stage_url.to_owned()
        }
        None => {
            return Err(Error::Config {
                location: location.to_owned(),
                message: format!(
                    "Snowflake cannot read the stage {stage_url}; set snowflake.stage_url to where it can (s3://bucket/prefix/)"
                ),
            });
        }
    };
    if url.contains('\'') || url.chars().any(char::is_control) {
        return Err(Error::Config {
            location: location.to_owned(),
            message: "must not contain quotes or control characters".into(),
        });
    }
    Ok(if url.ends_with('/') {
        url
    } else {
        format!("{url}/")
    })
}

/// `value` when it lies in `range`, else an error naming the key and the range: durations
/// past these bounds are mistakes, and unbounded ones would overflow time arithmetic.
fn bounded(value: u64, range: std::ops::RangeInclusive<u64>, location: &str) -> Result<u64> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(Error::Config {
            location: location.to_owned(),
            message: format!("{value} is outside {}..={}", range.start(), range.end()),
        })
    }
}

/// The longest lookback accepted, in seconds (a year): longer ones are mistakes, and would
/// overflow time arithmetic if unbounded.
const MAX_LOOKBACK_SECS: u64 = 366 * 86_400;

/// Reads, interpolates and validates a pipeline file with the process environment.
pub fn load(path: &Path) -> Result<Spec> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let cwd = std::env::current_dir().map_err(|source| Error::Io {
        path: ".".into(),
        source,
    })?;
    let creds = CredentialSource::from_env(&env);
    parse(&text, path, &env, &cwd, &creds)
}

/// Where `credentials:NAME` references are looked up.
#[derive(Default)]
pub struct CredentialSource {
    file: Option<PathBuf>,
    env: BTreeMap<String, String>,
}

/// Prints the file and how it would be opened, never the environment it holds (which may
/// carry passwords and the age passphrase).
impl std::fmt::Debug for CredentialSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialSource")
            .field("file", &self.file)
            .field(
                "identity_set",
                &self.env.contains_key(credentials::IDENTITY_ENV),
            )
            .field(
                "passphrase_set",
                &self.env.contains_key(credentials::PASSPHRASE_ENV),
            )
            .finish_non_exhaustive()
    }
}

impl CredentialSource {
    /// `INTACCT_SNOWFLAKE_CREDENTIALS` names the file; its key comes from
    /// `INTACCT_SNOWFLAKE_AGE_IDENTITY` (an identity file) or
    /// `INTACCT_SNOWFLAKE_AGE_PASSPHRASE`.
    pub fn from_env(env: &BTreeMap<String, String>) -> CredentialSource {
        CredentialSource {
            file: env
                .get(credentials::FILE_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            env: env.clone(),
        }
    }

    fn lookup(&self, name: &str, key: &str) -> Result<Secret> {
        let file = self.file.as_ref().ok_or_else(|| Error::Secret {
            name: name.to_owned(),
            message: format!(
                "{key} refers to the credentials file, but {} is not set",
                credentials::FILE_ENV
            ),
        })?;
        let all = credentials::open(file, &self.env)?;
        all.get(name).cloned().ok_or_else(|| Error::Secret {
            name: name.to_owned(),
            message: format!("not found in credentials file {}", file.display()),
        })
    }
}

/// Parses pipeline text against an explicit environment: the pure core of [`load`].
pub fn parse(
    text: &str,
    path: &Path,
    env: &BTreeMap<String, String>,
    cwd: &Path,
    creds: &CredentialSource,
) -> Result<Spec> {
    let location = |key: &str| format!("{}: {key}", path.display());
    let raw = raw::parse(text, path)?;
    let resolve = |key: &str, value: &str| -> Result<String> {
        interpolate(value, env).map_err(|message| Error::Config {
            location: location(key),
            message,
        })
    };

    let i = &raw.intacct;
    let endpoint = parse_url(
        &resolve("intacct.endpoint", &i.endpoint)?,
        &location("intacct.endpoint"),
    )?;
    let intacct_loopback = is_loopback(&endpoint);
    let secret = |key: &str, value: &str, loopback: bool| -> Result<Option<Secret>> {
        resolve_secret(key, value, loopback, env, creds).map_err(|e| match e {
            Error::Config { message, .. } => Error::Config {
                location: location(key),
                message,
            },
            other => other,
        })
    };
    let required = |key: &str, v: Option<Secret>| -> Result<Secret> {
        v.ok_or_else(|| Error::Config {
            location: location(key),
            message: "must not be empty".into(),
        })
    };
    let page_size = i.page_size.unwrap_or(2000);
    if !(1..=2000).contains(&page_size) {
        return Err(Error::Config {
            location: location("intacct.page_size"),
            message: format!("{page_size} is outside 1..=2000, the query function's limit"),
        });
    }
    let max_concurrent_requests = i.max_concurrent_requests.unwrap_or(2);
    if max_concurrent_requests == 0 {
        return Err(Error::Config {
            location: location("intacct.max_concurrent_requests"),
            message: "must be at least 1".into(),
        });
    }
    let tz_name = resolve("intacct.time_zone", i.time_zone.as_deref().unwrap_or("UTC"))?;
    let time_zone: chrono_tz::Tz = tz_name.parse().map_err(|_| Error::Config {
        location: location("intacct.time_zone"),
        message: format!(
            "unknown time zone {tz_name:?}; use an IANA name such as America/Los_Angeles or UTC"
        ),
    })?;
    let session_ttl_secs = i.session_ttl_secs.unwrap_or(3000);
    if session_ttl_secs == 0 || session_ttl_secs > 3000 {
        return Err(Error::Config {
            location: location("intacct.session_ttl_secs"),
            message: format!(
                "{session_ttl_secs} is outside 1..=3000 (sessions are reused for at most 50 minutes)"
            ),
        });
    }
    let retry = i.retry.clone().unwrap_or_default();
    let retry = RetrySpec {
        max_attempts: retry.max_attempts.unwrap_or(8).max(1),
        initial_backoff_ms: bounded(
            retry.initial_backoff_ms.unwrap_or(500),
            0..=3_600_000,
            &location("intacct.retry.initial_backoff_ms"),
        )?,
        max_backoff_ms: bounded(
            retry.max_backoff_ms.unwrap_or(30_000),
            0..=3_600_000,
            &location("intacct.retry.max_backoff_ms"),
        )?,
        max_elapsed_secs: bounded(
            retry.max_elapsed_secs.unwrap_or(600),
            0..=86_400,
            &location("intacct.retry.max_elapsed_secs"),
        )?,
    };
    let location_id = resolve(
        "intacct.location_id",
        i.location_id.as_deref().unwrap_or(""),
    )?;
    let entities = entities(
        i.entities.as_deref().unwrap_or(&[]),
        !location_id.is_empty(),
        &location("intacct.entities"),
    )?;
    let intacct = IntacctSpec {
        sender_id: non_empty(
            &resolve("intacct.sender_id", &i.sender_id)?,
            &location("intacct.sender_id"),
        )?,
        sender_password: required(
            "intacct.sender_password",
            secret(
                "intacct.sender_password",
                &i.sender_password,
                intacct_loopback,
            )?,
        )?,
        company_id: non_empty(
            &resolve("intacct.company_id", &i.company_id)?,
            &location("intacct.company_id"),
        )?,
        user_id: non_empty(
            &resolve("intacct.user_id", &i.user_id)?,
            &location("intacct.user_id"),
        )?,
        user_password: required(
            "intacct.user_password",
            secret("intacct.user_password", &i.user_password, intacct_loopback)?,
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
            &location("intacct.timeout_secs"),
        )?,
        max_concurrent_requests,
        page_size,
        retry,
    };

    let e = raw.extract.clone().unwrap_or_default();
    let names: Vec<String> = match &e.objects {
        Some(list) => list.iter().map(|o| o.to_ascii_uppercase()).collect(),
        None => KNOWN_OBJECTS.iter().map(|s| s.to_string()).collect(),
    };
    if names.is_empty() {
        return Err(Error::Config {
            location: location("extract.objects"),
            message: "no object in scope".into(),
        });
    }
    let mut objects = Vec::with_capacity(names.len());
    for name in names {
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(Error::Config {
                location: location("extract.objects"),
                message: format!("{name:?} is not an Intacct object name"),
            });
        }
        if objects.iter().any(|o: &ObjectSpec| o.name == name) {
            return Err(Error::Config {
                location: location("extract.objects"),
                message: format!("{name} is listed twice"),
            });
        }
        let over = e.object.get(&name).cloned().unwrap_or_default();
        if let Some(ps) = over.page_size {
            let max = if over.method == Some(ReadMethod::ReadByQuery) {
                1000
            } else {
                2000
            };
            if !(1..=max).contains(&ps) {
                return Err(Error::Config {
                    location: location(&format!("extract.object.{name}.page_size")),
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
                    location: location(&format!("extract.object.{name}.{setting}")),
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
                location: location(&format!("extract.object.{name}.key")),
                message: format!("{key} cannot be both the key and the watermark field"),
            });
        }
        if let Some(needed) = exclude_fields.iter().find(|f| {
            crate::intacct::objects::is_required_field(&name, f)
                || **f == key
                || **f == watermark_field
        }) {
            return Err(Error::Config {
                location: location(&format!("extract.object.{name}.exclude_fields")),
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
                    location: location(&format!("extract.object.{name}.{key}")),
                    message: format!("{secs} is more than {MAX_LOOKBACK_SECS} (one year)"),
                });
            }
        }
        objects.push(ObjectSpec {
            method: over.method.unwrap_or(ReadMethod::Query),
            fields: over.fields,
            exclude_fields,
            page_size: over.page_size,
            lookback_secs: over.lookback_secs,
            key,
            watermark_field,
            delete_lookback_secs: over.delete_lookback_secs,
            name,
        });
    }
    if let Some(unknown) = e
        .object
        .keys()
        .find(|k| !objects.iter().any(|o| &o.name == *k))
    {
        return Err(Error::Config {
            location: location(&format!("extract.object.{unknown}")),
            message: format!("{unknown} has settings but is not in extract.objects"),
        });
    }
    let extract = ExtractSpec {
        lookback_secs: match e.lookback_secs.unwrap_or(7200) {
            secs if secs > MAX_LOOKBACK_SECS => {
                return Err(Error::Config {
                    location: location("extract.lookback_secs"),
                    message: format!("{secs} is more than {MAX_LOOKBACK_SECS} (one year)"),
                });
            }
            secs => secs,
        },
        delete_lookback_secs: bounded(
            e.delete_lookback_secs
                .unwrap_or(crate::intacct::objects::AUDIT_LAG_LOOKBACK_SECS as u64),
            0..=MAX_LOOKBACK_SECS,
            &location("extract.delete_lookback_secs"),
        )?,
        channel_pages: e.channel_pages.unwrap_or(4).max(1),
        checkpoint_pages: e.checkpoint_pages.unwrap_or(50).clamp(1, 1_000_000),
        quarantine_bad_values: e.quarantine_bad_values.unwrap_or(true),
        deletes: e.deletes.unwrap_or_default(),
        objects,
    };

    let s = raw.stage.clone();
    let stage = StageSpec {
        url: normalise_stage_url(&resolve("stage.url", &s.url)?, cwd, &location("stage.url"))?,
        part_max_rows: s.part_max_rows.unwrap_or(1_000_000).max(1),
        part_max_bytes: s.part_max_bytes.unwrap_or(256 * 1024 * 1024).max(1024),
        row_group_rows: s.row_group_rows.unwrap_or(128 * 1024).max(1),
        keep_raw_pages: s.keep_raw_pages.unwrap_or(false),
        lock_ttl_secs: bounded(
            s.lock_ttl_secs.unwrap_or(6 * 3600),
            60..=7 * 86_400,
            &location("stage.lock_ttl_secs"),
        )?,
    };

    let f = &raw.snowflake;
    let sf_url = parse_url(
        &resolve("snowflake.url", &f.url)?,
        &location("snowflake.url"),
    )?;
    let sf_loopback = is_loopback(&sf_url);
    let token = match &f.token {
        Some(t) => secret("snowflake.token", t, sf_loopback)?,
        None => None,
    };
    let auth = match (token, &f.private_key_path) {
        (Some(token), None) => SnowflakeAuth::ProgrammaticAccessToken(token),
        (None, Some(key)) => {
            let key = resolve("snowflake.private_key_path", key)?;
            let passphrase = match &f.private_key_passphrase {
                Some(p) => secret("snowflake.private_key_passphrase", p, sf_loopback)?,
                None => None,
            };
            SnowflakeAuth::KeyPair {
                private_key_path: cwd
                    .join(non_empty(&key, &location("snowflake.private_key_path"))?),
                passphrase,
            }
        }
        (Some(_), Some(_)) => {
            return Err(Error::Config {
                location: location("snowflake"),
                message: "set either private_key_path (key-pair JWT) or token (programmatic access token), not both".into(),
            });
        }
        (None, None) => {
            return Err(Error::Config {
                location: location("snowflake"),
                message: "set private_key_path (key-pair JWT) or token (programmatic access token)"
                    .into(),
            });
        }
    };
    let optional = |key: &str, v: &Option<String>| -> Result<Option<String>> {
        Ok(match v {
            Some(v) => Some(resolve(key, v)?).filter(|s| !s.is_empty()),
            None => None,
        })
    };
    let snowflake = SnowflakeSpec {
        url: sf_url,
        account: non_empty(
            &resolve("snowflake.account", &f.account)?,
            &location("snowflake.account"),
        )?,
        user: non_empty(
            &resolve("snowflake.user", &f.user)?,
            &location("snowflake.user"),
        )?,
        auth,
        database: identifier(
            &resolve("snowflake.database", &f.database)?,
            &location("snowflake.database"),
        )?,
        schema: identifier(
            &resolve("snowflake.schema", &f.schema)?,
            &location("snowflake.schema"),
        )?,
        warehouse: optional("snowflake.warehouse", &f.warehouse)?,
        role: optional("snowflake.role", &f.role)?,
        // Snowflake's own limit on a statement is seven days.
        timeout_secs: bounded(
            f.timeout_secs.unwrap_or(3600),
            1..=604_800,
            &location("snowflake.timeout_secs"),
        )?,
        stage_name: identifier(
            &resolve(
                "snowflake.stage_name",
                f.stage_name.as_deref().unwrap_or("INTACCT_STAGE"),
            )?,
            &location("snowflake.stage_name"),
        )?,
        file_format: identifier(
            &resolve(
                "snowflake.file_format",
                f.file_format.as_deref().unwrap_or("INTACCT_PARQUET"),
            )?,
            &location("snowflake.file_format"),
        )?,
        stage_url: snowflake_stage_url(
            optional("snowflake.stage_url", &f.stage_url)?,
            &stage.url,
            &location("snowflake.stage_url"),
        )?,
        storage_integration: optional("snowflake.storage_integration", &f.storage_integration)?
            .map(|name| identifier(&name, &location("snowflake.storage_integration")))
            .transpose()?,
        load_concurrency: match f.load_concurrency.unwrap_or(4) {
            0 => {
                return Err(Error::Config {
                    location: location("snowflake.load_concurrency"),
                    message: "must be at least 1".into(),
                });
            }
            n => n.min(64),
        },
        create_database: f.create_database.unwrap_or(false),
    };
    if snowflake.stage_url.starts_with("s3://") && snowflake.storage_integration.is_none() {
        return Err(Error::Config {
            location: location("snowflake.storage_integration"),
            message: format!(
                "the stage {} is on S3, so Snowflake needs a storage integration to read it: create one (see the README's Snowflake set-up) and name it here",
                snowflake.stage_url
            ),
        });
    }

    let name = raw.name.clone();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(Error::Config {
            location: location("name"),
            message: format!("{name:?} must be letters, digits, '-' or '_'"),
        });
    }
    Ok(Spec {
        name,
        source: path.to_path_buf(),
        intacct,
        extract,
        stage,
        snowflake,
    })
}

/// Resolves a secret reference. `Ok(None)` means "empty" (allowed for optional secrets).
fn resolve_secret(
    key: &str,
    value: &str,
    endpoint_is_loopback: bool,
    env: &BTreeMap<String, String>,
    creds: &CredentialSource,
) -> Result<Option<Secret>> {
    let config_error = |message: String| Error::Config {
        location: key.to_owned(),
        message,
    };
    if let Some(name) = value.strip_prefix("credentials:") {
        return creds.lookup(name, key).map(Some);
    }
    let Some(reference) = raw::EnvReference::parse_whole(value) else {
        return Err(config_error(
            "a secret must be a reference, `${ENV_VAR}` or `credentials:NAME`, never a literal in the pipeline file".into(),
        ));
    };
    match env.get(reference.name).filter(|v| !v.is_empty()) {
        Some(v) => Ok(Some(Secret::new(v.clone()))),
        None => match reference.default {
            None => Err(Error::Secret {
                name: reference.name.to_owned(),
                message: format!(
                    "environment variable {} (for {key}) is not set",
                    reference.name
                ),
            }),
            Some("") => Ok(None),
            Some(default) if endpoint_is_loopback => Ok(Some(Secret::new(default))),
            Some(_) => Err(Error::Secret {
                name: reference.name.to_owned(),
                message: format!(
                    "environment variable {} (for {key}) is not set; its default in the pipeline file is used only for loopback endpoints",
                    reference.name
                ),
            }),
        },
    }
}

fn parse_url(value: &str, location: &str) -> Result<url::Url> {
    let url = url::Url::parse(value).map_err(|e| Error::Config {
        location: location.to_owned(),
        message: format!("{value:?} is not a URL: {e}"),
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::Config {
            location: location.to_owned(),
            message: format!("{value:?} must be an http or https URL"),
        });
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::Config {
            location: location.to_owned(),
            message: "credentials do not belong in a URL; use the secret keys".into(),
        });
    }
    Ok(url)
}

/// True when a URL's host is a loopback address or `localhost`.
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// `intacct.entities`: distinct (case-insensitively, as Intacct compares ids), non-empty
/// entity ids without spaces, control characters or `@` (the manifest writes an entity's
/// stream as `OBJECT@ENTITY`), and never beside `location_id`, which scopes the one session.
fn entities(list: &[String], has_location_id: bool, location: &str) -> Result<Vec<String>> {
    let refuse = |message: String| Error::Config {
        location: location.to_owned(),
        message,
    };
    if !list.is_empty() && has_location_id {
        return Err(refuse(
            "set either entities (one session per entity) or location_id (one session), not both"
                .into(),
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for id in list {
        if id.is_empty()
            || id
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '@')
        {
            return Err(refuse(format!(
                "{id:?} is not an entity id: ids are non-empty, without spaces or '@'"
            )));
        }
        if !seen.insert(id.to_uppercase()) {
            return Err(refuse(format!("entity {id} is listed twice")));
        }
    }
    Ok(list.to_vec())
}

fn non_empty(value: &str, location: &str) -> Result<String> {
    if value.trim().is_empty() {
        Err(Error::Config {
            location: location.to_owned(),
            message: "must not be empty".into(),
        })
    } else {
        Ok(value.to_owned())
    }
}

fn identifier(value: &str, location: &str) -> Result<String> {
    let ok = value
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if ok {
        Ok(value.to_ascii_uppercase())
    } else {
        Err(Error::Config {
            location: location.to_owned(),
            message: format!("{value:?} is not an unquoted Snowflake identifier"),
        })
    }
}

/// Accepts `file://`, `s3://`, `memory://` URLs and plain paths (made absolute against `cwd`).
fn normalise_stage_url(value: &str, cwd: &Path, location: &str) -> Result<String> {
    if value.trim().is_empty() {
        return Err(Error::Config {
            location: location.to_owned(),
            message: "must not be empty".into(),
        });
    }
    if let Some((scheme, _)) = value.split_once("://") {
        return match scheme {
            "file" | "s3" | "memory" => Ok(value.to_owned()),
            other => Err(Error::Config {
                location: location.to_owned(),
                message: format!(
                    "unsupported stage scheme {other:?}; use file://, s3:// or memory://"
                ),
            }),
        };
    }
    let path = cwd.join(value);
    let url = url::Url::from_directory_path(&path).map_err(|()| Error::Config {
        location: location.to_owned(),
        message: format!("{} cannot be made into a file URL", path.display()),
    })?;
    Ok(url.to_string())
}

#[cfg(test)]
mod tests;
