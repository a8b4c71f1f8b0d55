//! A pipeline's settings as each client takes them: the validated [`Spec`] turned into the
//! Intacct client's [`ClientConfig`] and the Snowflake client's [`SnowflakeConfig`].
//!
//! The clients own their configuration types and know nothing of pipeline files; `config`
//! knows nothing of the clients. This module is the one place the two meet, so a setting
//! reaches a client through exactly one mapping.

use crate::config::Spec;
use crate::intacct::{ClientConfig, SenderCredentials};
use crate::snowflake::{
    DEFAULT_POLL_MAX_BACKOFF_MS, DEFAULT_REQUEST_TIMEOUT_SECS, SnowflakeAuth, SnowflakeConfig,
};

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

/// The Snowflake client configuration of a pipeline: its `[snowflake]` connection and
/// context, with the client's own request timeout, poll cap and retry policy (the reference
/// table's), which a pipeline file does not set.
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
        retry: SnowflakeConfig::default_retry(),
        poll_max_backoff_ms: DEFAULT_POLL_MAX_BACKOFF_MS,
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
        assert_eq!(config.poll_max_backoff_ms, 10_000);
        assert_eq!(config.retry.max_backoff_ms, 60_000);
        assert!(
            matches!(&config.auth, SnowflakeAuth::ProgrammaticAccessToken(t) if t.expose() == "t")
        );
    }
}
