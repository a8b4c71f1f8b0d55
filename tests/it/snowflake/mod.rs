//! The Snowflake SQL API v2 client against the local emulator on 127.0.0.1: authentication
//! with every key form, statements through faults, and value decoding of a real result.

mod auth;
mod statements;
mod values;

use intacct_snowflake::retry::RetryPolicy;
use intacct_snowflake::secret::Secret;
use intacct_snowflake::snowflake::SnowflakeAuth;
use intacct_snowflake::{SnowflakeClient, SnowflakeConfig, Statement};

use crate::support::emulator::{Emulator, EmulatorOptions};
use crate::support::keys::{PASSPHRASE, TestKeys};

/// The account as a user writes it; the JWT names it `MYORG-MYACCOUNT`.
pub(crate) const ACCOUNT: &str = "myorg-myaccount";
/// The login name; the JWT names it `LOADER`.
pub(crate) const USER: &str = "loader";

/// A configuration for `emulator` with fast retries and polls, in database `database`.
pub(crate) fn config(emulator: &Emulator, auth: SnowflakeAuth, database: &str) -> SnowflakeConfig {
    SnowflakeConfig {
        base_url: emulator.url(),
        account: ACCOUNT.into(),
        user: USER.into(),
        auth,
        database: database.into(),
        schema: "RAW".into(),
        warehouse: Some("LOAD_WH".into()),
        role: Some("LOADER".into()),
        statement_timeout_secs: 60,
        request_timeout_secs: 30,
        retry: RetryPolicy {
            max_attempts: 6,
            initial_backoff_ms: 50,
            max_backoff_ms: 200,
            max_elapsed_secs: 60,
        },
        poll_max_backoff_ms: 200,
    }
}

/// Key-pair auth with `path`, and the test passphrase when `encrypted`.
pub(crate) fn key_auth(path: &std::path::Path, passphrase: Option<&str>) -> SnowflakeAuth {
    SnowflakeAuth::KeyPair {
        private_key_path: path.to_owned(),
        passphrase: passphrase.map(Secret::new),
    }
}

/// A statement with a fresh requestId.
pub(crate) fn statement(sql: &str) -> Statement {
    Statement::new(sql, "intacct-snowflake:test:client")
}

/// Keys, an emulator trusting the first key for ACCOUNT/USER, and a client with the unencrypted
/// key on database `SF_TEST`, schema `RAW` (both created).
pub(crate) struct Fixture {
    pub(crate) keys: TestKeys,
    pub(crate) emulator: Emulator,
    pub(crate) client: SnowflakeClient,
}

impl Fixture {
    pub(crate) async fn start(tweak: impl FnOnce(&mut EmulatorOptions)) -> Fixture {
        let keys = TestKeys::generate();
        let mut options = EmulatorOptions::key_pair(&keys.public, ACCOUNT, USER);
        tweak(&mut options);
        let emulator = Emulator::start(&options);
        let client =
            SnowflakeClient::new(config(&emulator, key_auth(&keys.pkcs8, None), "SF_TEST"))
                .expect("client builds");
        client
            .execute(&statement("CREATE DATABASE IF NOT EXISTS SF_TEST"))
            .await
            .unwrap_or_else(|e| panic!("create database: {e}\n{}", emulator.log_tail()));
        client
            .execute(&statement("CREATE SCHEMA IF NOT EXISTS SF_TEST.RAW"))
            .await
            .unwrap_or_else(|e| panic!("create schema: {e}\n{}", emulator.log_tail()));
        Fixture {
            keys,
            emulator,
            client,
        }
    }
}

/// The passphrase of the encrypted test keys.
pub(crate) fn passphrase() -> Option<&'static str> {
    Some(PASSPHRASE)
}
