//! A pipeline's settings as each part of the run takes them: the validated [`Spec`] turned
//! into the Intacct client's [`ClientConfig`], the Snowflake client's [`SnowflakeConfig`], and
//! the extract's [`ExtractOptions`] (one [`ObjectJob`] per object, or per object and entity).
//!
//! The clients own their configuration types and know nothing of pipeline files; `config`
//! knows nothing of the clients. This module is the one place the two meet, so a setting
//! reaches a client through exactly one mapping.

use chrono::{DateTime, Duration, Utc};

use crate::config::{DeleteFeed, Spec};
use crate::error::{Error, Result};
use crate::intacct::{ClientConfig, ReadMethod, SenderCredentials};
use crate::manifest::stream_key;
use crate::snowflake::{DEFAULT_REQUEST_TIMEOUT_SECS, SnowflakeAuth, SnowflakeConfig};
use crate::stage::StageOptions;

/// One object to extract (or one object of one entity): what to read and how. Its window is
/// not here: `super::plan` decides it from the manifest and the clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectJob {
    /// Intacct object name.
    pub name: String,
    /// `query` or `readByQuery`.
    pub method: ReadMethod,
    /// Explicit field list (`None`: every field `lookup` lists).
    pub fields: Option<Vec<String>>,
    /// Rows per page.
    pub page_size: u32,
    /// Fields never read.
    pub exclude_fields: Vec<String>,
    /// This object's lookback (`None`: the pipeline's).
    pub lookback: Option<Duration>,
    /// The column the target table is merged on.
    pub key: String,
    /// The modification timestamp the read pages by.
    pub watermark_field: String,
    /// This object's delete-feed lookback (`None`: the pipeline's).
    pub delete_lookback: Option<Duration>,
    /// The entity read, through a session of its own (`intacct.entities`); `None`: the
    /// company, through the client's session.
    pub entity: Option<String>,
}

impl ObjectJob {
    /// The stream the job reads: the object, or `OBJECT@ENTITY` (as the manifest keys marks).
    pub fn stream(&self) -> String {
        stream_key(&self.name, self.entity.as_deref())
    }
}

/// Everything `extract` needs besides the client and the manifest.
#[derive(Clone, Debug)]
pub struct ExtractOptions {
    /// Objects, in order.
    pub objects: Vec<ObjectJob>,
    /// Re-read this much before each mark.
    pub lookback: Duration,
    /// The delete feed re-reads this much before its own mark (the audit trail lags).
    pub delete_lookback: Duration,
    /// The end of every nightly window (normally the current time).
    pub now: DateTime<Utc>,
    /// Objects extracted at once (requests are limited by the client besides).
    pub concurrent_objects: usize,
    /// Keyset chains read at once within one object's nightly window
    /// ([`crate::intacct::ReadRequest::slices`]); a backfill window reads one chain, since it
    /// records its position to resume from.
    pub slices_per_object: u32,
    /// Set bad values aside instead of failing.
    pub quarantine_bad_values: bool,
    /// Where deletes come from.
    pub deletes: DeleteFeed,
    /// Part sizes (and whether raw pages are kept).
    pub stage: StageOptions,
    /// Draw progress bars.
    pub progress: bool,
    /// Backfill batches record their progress every this many pages.
    pub checkpoint_pages: u64,
}

/// The extract options of a pipeline: objects in scope (all, or `only`), windows ending at
/// `now`, part sizes; with `intacct.entities`, one job per object and entity, in object order.
pub fn extract_options(
    spec: &Spec,
    only: &[String],
    now: DateTime<Utc>,
    progress: bool,
) -> Result<ExtractOptions> {
    let wanted = objects_in_scope(spec, only)?;
    let entities: Vec<Option<String>> = if spec.intacct.entities.is_empty() {
        vec![None]
    } else {
        spec.intacct.entities.iter().cloned().map(Some).collect()
    };
    let objects = spec
        .extract
        .objects
        .iter()
        .filter(|o| wanted.is_empty() || wanted.contains(&o.name))
        .flat_map(|o| entities.iter().map(move |entity| (o, entity.clone())))
        .map(|(o, entity)| ObjectJob {
            entity,
            name: o.name.clone(),
            method: match o.method {
                crate::config::ReadMethod::Query => ReadMethod::Query,
                crate::config::ReadMethod::ReadByQuery => ReadMethod::ReadByQuery,
            },
            fields: o.fields.clone(),
            page_size: o.page_size.unwrap_or(spec.intacct.page_size),
            exclude_fields: o.exclude_fields.clone(),
            lookback: o.lookback_secs.map(|s| Duration::seconds(s as i64)),
            key: o.key.clone(),
            watermark_field: o.watermark_field.clone(),
            delete_lookback: o.delete_lookback_secs.map(|s| Duration::seconds(s as i64)),
        })
        .collect();
    Ok(ExtractOptions {
        objects,
        lookback: Duration::seconds(spec.extract.lookback_secs as i64),
        delete_lookback: Duration::seconds(spec.extract.delete_lookback_secs as i64),
        now,
        concurrent_objects: spec.intacct.max_concurrent_requests.max(1),
        // One chain more than there are request slots: a chain splits only between its own
        // requests, so the spare one waits at the limit and takes a slot the moment one frees.
        slices_per_object: u32::try_from(spec.intacct.max_concurrent_requests)
            .unwrap_or(u32::MAX)
            .saturating_add(1),
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
        checkpoint_pages: spec.extract.checkpoint_pages,
    })
}

/// The objects `only` names (upper-cased), each checked against the pipeline's; empty when
/// `only` is.
pub fn objects_in_scope(spec: &Spec, only: &[String]) -> Result<Vec<String>> {
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
    Ok(wanted)
}

/// The Intacct client configuration of a pipeline.
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
    config.max_transactions_per_run = i.max_transactions_per_run;
    config.retry = crate::retry::RetryPolicy {
        max_attempts: i.retry.max_attempts,
        initial_backoff_ms: i.retry.initial_backoff_ms,
        max_backoff_ms: i.retry.max_backoff_ms,
        max_elapsed_secs: i.retry.max_elapsed_secs,
    };
    config.tenant_time_zone = i.time_zone;
    config.page_buffer = spec.extract.channel_pages.max(1);
    config
}

/// The Snowflake client configuration of a pipeline: its `[snowflake]` connection, context,
/// poll cap (`snowflake.poll_max_backoff_ms`) and retry policy (`[snowflake.retry]`, by
/// default the reference table's), with the client's own request timeout, which a pipeline
/// file does not set.
pub fn snowflake_config(spec: &Spec) -> SnowflakeConfig {
    let s = &spec.snowflake;
    SnowflakeConfig {
        base_url: s.url.clone(),
        account: s.account.clone(),
        user: s.user.clone(),
        auth: match &s.auth {
            crate::config::SnowflakeAuth::KeyPair {
                private_key_path,
                passphrase,
            } => SnowflakeAuth::KeyPair {
                private_key_path: private_key_path.clone(),
                passphrase: passphrase.clone(),
            },
            crate::config::SnowflakeAuth::ProgrammaticAccessToken(token) => {
                SnowflakeAuth::ProgrammaticAccessToken(token.clone())
            }
        },
        database: s.database.clone(),
        schema: s.schema.clone(),
        warehouse: s.warehouse.clone(),
        role: s.role.clone(),
        statement_timeout_secs: s.timeout_secs,
        request_timeout_secs: DEFAULT_REQUEST_TIMEOUT_SECS,
        retry: crate::retry::RetryPolicy {
            max_attempts: s.retry.max_attempts,
            initial_backoff_ms: s.retry.initial_backoff_ms,
            max_backoff_ms: s.retry.max_backoff_ms,
            max_elapsed_secs: s.retry.max_elapsed_secs,
        },
        poll_max_backoff_ms: s.poll_max_backoff_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SnowflakeSpec;
    use crate::secret::Secret;

    /// The demo pipeline (it needs no environment) with `snowflake` as its `[snowflake]`.
    fn spec_with(snowflake: SnowflakeSpec) -> Spec {
        let env = std::collections::BTreeMap::new();
        let mut spec = crate::config::parse(
            include_str!("../../pipelines/demo.toml"),
            std::path::Path::new("demo.toml"),
            &env,
            std::path::Path::new("/work"),
            &crate::config::CredentialSource::from_env(&env),
        )
        .unwrap();
        spec.snowflake = snowflake;
        spec
    }

    #[test]
    fn snowflake_retry_and_poll_cap_default_to_the_reference_policy() {
        let env = std::collections::BTreeMap::new();
        let spec = crate::config::parse(
            include_str!("../../pipelines/demo.toml"),
            std::path::Path::new("demo.toml"),
            &env,
            std::path::Path::new("/work"),
            &crate::config::CredentialSource::from_env(&env),
        )
        .unwrap();
        let config = snowflake_config(&spec);
        assert_eq!(config.retry, SnowflakeConfig::default_retry());
        assert_eq!(
            config.poll_max_backoff_ms,
            crate::snowflake::DEFAULT_POLL_MAX_BACKOFF_MS
        );
    }

    #[test]
    fn snowflake_config_from_the_pipeline_spec() {
        let snowflake = SnowflakeSpec {
            url: url::Url::parse("https://myorg-myaccount.snowflakecomputing.com").unwrap(),
            account: "myorg-myaccount".into(),
            user: "loader".into(),
            auth: crate::config::SnowflakeAuth::ProgrammaticAccessToken(Secret::new("t")),
            database: "SAGE".into(),
            schema: "RAW".into(),
            warehouse: Some("LOAD_WH".into()),
            role: None,
            timeout_secs: 3600,
            stage_name: "INTACCT_STAGE".into(),
            file_format: "INTACCT_PARQUET".into(),
            stage_url: "s3://bucket/prefix/".into(),
            storage_integration: Some("INTACCT_S3".into()),
            load_concurrency: 4,
            create_database: false,
            poll_max_backoff_ms: 250,
            retry: crate::config::RetrySpec {
                max_attempts: 5,
                initial_backoff_ms: 100,
                max_backoff_ms: 3_000,
                max_elapsed_secs: 120,
            },
        };
        let spec = spec_with(snowflake.clone());
        let config = snowflake_config(&spec);
        assert_eq!(config.base_url, snowflake.url);
        assert_eq!(
            (config.database.as_str(), config.schema.as_str()),
            ("SAGE", "RAW")
        );
        assert_eq!(config.warehouse.as_deref(), Some("LOAD_WH"));
        assert_eq!(config.role, None);
        assert_eq!(config.statement_timeout_secs, 3600);
        assert!(
            config.request_timeout_secs > 45,
            "above Snowflake's synchronous wait"
        );
        assert_eq!(config.poll_max_backoff_ms, 250);
        assert_eq!(
            config.retry,
            crate::retry::RetryPolicy {
                max_attempts: 5,
                initial_backoff_ms: 100,
                max_backoff_ms: 3_000,
                max_elapsed_secs: 120,
            }
        );
        assert!(
            matches!(&config.auth, SnowflakeAuth::ProgrammaticAccessToken(t) if t.expose() == "t")
        );
    }
}
