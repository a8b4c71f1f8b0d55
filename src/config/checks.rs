//! Checks of one setting's value, the same whichever table it is in: URLs (and whether they
//! are on loopback), non-empty strings, Snowflake identifiers (unquoted or quoted), bounded
//! durations, stage URLs, entity lists, and secret references.
//!
//! A check takes the value and the location to name (`<file>: <table>.<key>`) and returns the
//! value as the spec keeps it, or an [`Error::Config`] at that location saying what is right.
//! A secret reference that cannot be resolved fails with [`Error::Secret`] naming the variable
//! or the credentials entry, never a value.

use std::collections::BTreeMap;
use std::path::Path;

use super::credentials::CredentialSource;
use super::raw;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// `value` when it lies in `range`, else an error naming the key and the range: durations
/// past these bounds are mistakes, and unbounded ones would overflow time arithmetic.
pub(super) fn bounded(
    value: u64,
    range: std::ops::RangeInclusive<u64>,
    location: &str,
) -> Result<u64> {
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
pub(super) const MAX_LOOKBACK_SECS: u64 = 366 * 86_400;

/// The default `extract.clock_margin_secs`: a minute covers a gateway answer's round trip
/// and its timestamp cut to the second many times over, and costs a nightly run nothing (the
/// next run reads that minute).
pub(super) const DEFAULT_CLOCK_MARGIN_SECS: u64 = 60;

/// The longest `extract.clock_margin_secs` accepted (an hour): windows that end longer ago
/// than that are a mistake.
pub(super) const MAX_CLOCK_MARGIN_SECS: u64 = 3_600;

/// Resolves a secret reference. `Ok(None)` means "empty" (allowed for optional secrets).
pub(super) fn resolve_secret(
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
                source: None,
            }),
            Some("") => Ok(None),
            Some(default) if endpoint_is_loopback => Ok(Some(Secret::new(default))),
            Some(_) => Err(Error::Secret {
                name: reference.name.to_owned(),
                message: format!(
                    "environment variable {} (for {key}) is not set; its default in the pipeline file is used only for loopback endpoints",
                    reference.name
                ),
                source: None,
            }),
        },
    }
}

/// An `http` or `https` URL with no credentials in it.
pub(super) fn parse_url(value: &str, location: &str) -> Result<url::Url> {
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

pub use crate::endpoint::is_loopback;

/// [`parse_url`], refusing plain `http` to a host that is not loopback: `what` (the
/// passwords, the session id, the JWT or token) would travel in clear.
pub(super) fn parse_secure_url(value: &str, location: &str, what: &str) -> Result<url::Url> {
    let url = parse_url(value, location)?;
    match crate::endpoint::plain_http_refusal(&url, what) {
        Some(message) => Err(Error::Config {
            location: location.to_owned(),
            message,
        }),
        None => Ok(url),
    }
}

/// `intacct.entities`: distinct (case-insensitively, as Intacct compares ids), non-empty
/// entity ids without spaces, control characters or `@` (the manifest writes an entity's
/// stream as `OBJECT@ENTITY`), and never beside `location_id`, which scopes the one session.
pub(super) fn entities(
    list: &[String],
    has_location_id: bool,
    location: &str,
) -> Result<Vec<String>> {
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

/// A value that is not blank.
pub(super) fn non_empty(value: &str, location: &str) -> Result<String> {
    if value.trim().is_empty() {
        Err(Error::Config {
            location: location.to_owned(),
            message: "must not be empty".into(),
        })
    } else {
        Ok(value.to_owned())
    }
}

/// A Snowflake identifier as Snowflake stores it, by SQL's rule: an unquoted name (letters,
/// digits, `_`, `$`, not starting with a digit) is upper-cased (`load_wh` is `LOAD_WH`); a
/// double-quoted one (`"load_wh"`, with `""` for a `"` inside) is kept exactly as written. The
/// SQL API takes `database`, `schema`, `warehouse` and `role` as stored names, case-sensitive, so
/// every Snowflake name a pipeline sets goes through here once.
pub(super) fn identifier(value: &str, location: &str) -> Result<String> {
    let refuse = |why: &str| Error::Config {
        location: location.to_owned(),
        message: format!(
            "{value:?} {why}; write an unquoted identifier (letters, digits, _ and $, upper-cased as Snowflake does: load_wh is LOAD_WH) or a double-quoted one kept exactly as written ('\"load_wh\"')"
        ),
    };
    if let Some(inner) = value
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .filter(|_| value.len() >= 2)
    {
        if inner.replace("\"\"", "").contains('"') {
            return Err(refuse(
                "has a lone \" inside its quotes (write \"\" for one)",
            ));
        }
        let name = inner.replace("\"\"", "\"");
        if name.is_empty() {
            return Err(refuse("is an empty quoted identifier"));
        }
        if name.chars().count() > 255 || name.chars().any(char::is_control) {
            return Err(refuse(
                "is longer than 255 characters or has control characters",
            ));
        }
        return Ok(name);
    }
    let ok = value
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && value.chars().count() <= 255
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if ok {
        Ok(value.to_ascii_uppercase())
    } else {
        Err(refuse("is not a Snowflake identifier"))
    }
}

/// Accepts `file://`, `s3://`, `memory://` URLs and plain paths (made absolute against `cwd`).
pub(super) fn normalise_stage_url(value: &str, cwd: &Path, location: &str) -> Result<String> {
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

/// The URL Snowflake reads the stage at: the configured one, else the stage's own URL when
/// Snowflake can read it (`file://` for the emulator, `s3://`); always ending with `/`.
pub(super) fn snowflake_stage_url(
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
