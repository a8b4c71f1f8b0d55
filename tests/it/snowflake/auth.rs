//! Every key form authenticates; bad keys and tokens fail with the specific error, before any
//! statement runs; JWT claims match an independent computation with openssl.

use base64::Engine as _;
use intacct_snowflake::Error;
use intacct_snowflake::snowflake::{PASSPHRASE_SETTING, SigningKey, claims};

use super::*;

fn auth_message(result: Result<SnowflakeClient, Error>) -> String {
    match result {
        Err(Error::SnowflakeAuth { message }) => message,
        Err(other) => panic!("expected Error::SnowflakeAuth, got {other:?}"),
        Ok(_) => panic!("expected Error::SnowflakeAuth, got a client"),
    }
}

#[tokio::test]
async fn every_pkcs8_form_runs_select_1() {
    let f = Fixture::start(|_| {}).await;
    let forms = [
        (&f.keys.pkcs8, None),
        (&f.keys.pkcs8_des3, passphrase()),
        (&f.keys.pkcs8_aes256, passphrase()),
    ];
    let mut fingerprints = Vec::new();
    for (path, pass) in forms {
        let client = SnowflakeClient::new(config(&f.emulator, key_auth(path, pass), "SF_TEST"))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let out = client
            .execute(&statement("SELECT 1 AS ONE"))
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(out.value(0, "ONE"), Some("1"), "{}", path.display());
        fingerprints.push(client.key_fingerprint().expect("key-pair fingerprint"));
    }
    let expected = f.keys.openssl_fingerprint(&f.keys.public);
    assert!(
        fingerprints.iter().all(|fp| *fp == expected),
        "{fingerprints:?} vs {expected}"
    );
    assert_eq!(f.emulator.counter("auth_failures").await, 0);
}

#[tokio::test]
async fn bad_local_keys_fail_when_the_client_is_built() {
    let f = Fixture::start(|_| {}).await;
    let before = f.emulator.counter("submissions").await;
    let cfg = |path: &std::path::Path, pass: Option<&str>| {
        config(&f.emulator, key_auth(path, pass), "SF_TEST")
    };

    let wrong = auth_message(SnowflakeClient::new(cfg(
        &f.keys.pkcs8_des3,
        Some("not the passphrase"),
    )));
    assert!(
        wrong.contains("does not open") && wrong.contains(PASSPHRASE_SETTING),
        "{wrong}"
    );
    assert!(
        !wrong.contains("not the passphrase"),
        "the passphrase leaked: {wrong}"
    );
    let wrong_aes = auth_message(SnowflakeClient::new(cfg(
        &f.keys.pkcs8_aes256,
        Some("nope"),
    )));
    assert!(wrong_aes.contains("does not open"), "{wrong_aes}");

    let missing = auth_message(SnowflakeClient::new(cfg(&f.keys.pkcs8_des3, None)));
    assert!(
        missing.contains("encrypted") && missing.contains(PASSPHRASE_SETTING),
        "{missing}"
    );

    let pkcs1 = auth_message(SnowflakeClient::new(cfg(&f.keys.pkcs1, None)));
    assert!(
        pkcs1.contains("PKCS#1") && pkcs1.contains("openssl pkcs8 -topk8"),
        "{pkcs1}"
    );

    let absent = auth_message(SnowflakeClient::new(cfg(
        std::path::Path::new("/nonexistent/key.p8"),
        None,
    )));
    assert!(absent.contains("/nonexistent/key.p8"), "{absent}");

    let stats = f.emulator.stats().await;
    assert_eq!(f.emulator.counter("submissions").await, before, "{stats}");
    assert_eq!(stats["auth_failures"], 0, "{stats}");
}

#[tokio::test]
async fn a_key_snowflake_does_not_know_fails_with_its_fingerprint_and_runs_nothing() {
    let f = Fixture::start(|_| {}).await;
    let executed = f.emulator.statements_executed().await;
    let client = SnowflakeClient::new(config(
        &f.emulator,
        key_auth(&f.keys.other, None),
        "SF_TEST",
    ))
    .expect("an unrelated but valid key loads");
    let other_fp = f.keys.openssl_fingerprint(&f.keys.other_public);
    assert_eq!(client.key_fingerprint().as_deref(), Some(other_fp.as_str()));
    let err = client
        .execute(&statement("CREATE TABLE SHOULD_NOT_EXIST (I INT)"))
        .await
        .expect_err("the emulator trusts another key");
    let Error::SnowflakeAuth { message } = &err else {
        panic!("expected Error::SnowflakeAuth, got {err:?}")
    };
    assert!(!err.is_retryable());
    assert!(message.contains(&other_fp), "{message}");
    assert!(
        message.contains("RSA_PUBLIC_KEY_FP") && message.contains("LOADER"),
        "{message}"
    );
    // Refused, re-minted once, refused again; nothing ran.
    assert_eq!(f.emulator.counter("auth_failures").await, 2);
    assert_eq!(f.emulator.statements_executed().await, executed);
}

#[tokio::test]
async fn programmatic_access_token_runs_and_a_wrong_one_is_refused() {
    let keys = TestKeys::generate();
    let token = "pat-test-token-7f3a";
    let emulator = Emulator::start(&EmulatorOptions {
        pat: Some(token.into()),
        ..EmulatorOptions::key_pair(&keys.public, ACCOUNT, USER)
    });
    let client = SnowflakeClient::new(config(
        &emulator,
        SnowflakeAuth::ProgrammaticAccessToken(Secret::new(token)),
        "SF_TEST",
    ))
    .unwrap();
    assert_eq!(client.key_fingerprint(), None);
    let out = client.execute(&statement("SELECT 2 AS TWO")).await.unwrap();
    assert_eq!(out.value(0, "two"), Some("2"));

    let wrong = SnowflakeClient::new(config(
        &emulator,
        SnowflakeAuth::ProgrammaticAccessToken(Secret::new("pat-wrong")),
        "SF_TEST",
    ))
    .unwrap();
    let err = wrong.execute(&statement("SELECT 3")).await.unwrap_err();
    let Error::SnowflakeAuth { message } = &err else {
        panic!("expected Error::SnowflakeAuth, got {err:?}")
    };
    assert!(
        message.contains("snowflake.token") && !message.contains("pat-wrong"),
        "{message}"
    );
    assert_eq!(emulator.statements_executed().await, 1);
}

#[tokio::test]
async fn jwt_claims_and_signature_match_openssl() {
    let keys = TestKeys::generate();
    let expected_fp = keys.openssl_fingerprint(&keys.public);
    let key = SigningKey::load(&keys.pkcs8_des3, Some(&Secret::new(PASSPHRASE))).unwrap();
    assert_eq!(key.fingerprint(), expected_fp);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let token = key
        .sign(&claims(
            "myorg-myaccount.privatelink",
            "loader",
            key.fingerprint(),
            now,
        ))
        .unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header: serde_json::Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "JWT");
    let claims: serde_json::Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(
        claims["iss"],
        format!("MYORG-MYACCOUNT.LOADER.{expected_fp}")
    );
    assert_eq!(claims["sub"], "MYORG-MYACCOUNT.LOADER");
    let (iat, exp) = (
        claims["iat"].as_u64().unwrap(),
        claims["exp"].as_u64().unwrap(),
    );
    assert_eq!(iat, now);
    assert!(exp > iat && exp - iat <= 3600, "iat {iat} exp {exp}");

    // The signature verifies with openssl and the public key alone.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("signed"),
        format!("{}.{}", parts[0], parts[1]),
    )
    .unwrap();
    std::fs::write(dir.path().join("sig"), b64.decode(parts[2]).unwrap()).unwrap();
    let verify = std::process::Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(&keys.public)
        .args(["-signature", "sig", "signed"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
}
