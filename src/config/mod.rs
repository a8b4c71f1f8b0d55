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
//! `[notify] webhook_url` is a secret too (an incoming webhook's URL carries its token).
//!
//! `[extract] deletes` picks the delete feed ([`DeleteFeed`]): `"audit_history"` (default)
//! stages AUDITHISTORY deletes as tombstones, `"off"` sends no AUDITHISTORY request at all.
//!
//! The module's files, in the order a pipeline passes through them: `raw` (the serde mirror
//! and `${NAME}` interpolation), `validate` (raw tables into the [`Spec`], one function per
//! table), `checks` (one value's checks, whatever its table), `credentials` (the age file
//! behind `credentials:NAME`) and `spec` (the validated types).

mod checks;
pub(crate) mod credentials;
mod raw;
mod spec;
mod validate;

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};

pub use checks::is_loopback;
pub use credentials::CredentialSource;
pub use raw::interpolate;
pub use spec::{
    DEFAULT_KEY, DEFAULT_NOTIFY_EXIT_CODES, DEFAULT_WATERMARK_FIELD, DeleteFeed, ExtractSpec,
    IntacctSpec, KNOWN_OBJECTS, NotifySpec, ObjectSpec, ReadMethod, RetrySpec, SchemaPolicy,
    SnowflakeAuth, SnowflakeSpec, Spec, StageSpec,
};

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

/// The pipeline's name and `[notify]` settings alone, from a file that may not validate as a
/// whole: what a command that stopped on its configuration can still announce. `Ok((None,
/// None))` when the file has neither; an error when the `[notify]` table itself is wrong.
pub fn load_notify(path: &Path) -> Result<(Option<String>, Option<NotifySpec>)> {
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
    let raw: raw::RawNotifyOnly = toml::from_str(&text).map_err(|e| Error::Config {
        location: path.display().to_string(),
        message: e.message().to_owned(),
    })?;
    let at = validate::Inputs {
        path,
        env: &env,
        cwd: &cwd,
        creds: &creds,
    };
    let notify = raw
        .notify
        .as_ref()
        .map(|n| validate::notify(n, &at))
        .transpose()?;
    Ok((raw.name, notify))
}

/// Parses pipeline text against an explicit environment: the pure core of [`load`].
pub fn parse(
    text: &str,
    path: &Path,
    env: &BTreeMap<String, String>,
    cwd: &Path,
    creds: &CredentialSource,
) -> Result<Spec> {
    let raw = raw::parse(text, path)?;
    validate::pipeline(
        raw,
        &validate::Inputs {
            path,
            env,
            cwd,
            creds,
        },
    )
}

#[cfg(test)]
mod tests;
