//! Bad private keys and passphrases: each is a `SnowflakeAuth` error that names the key file
//! and says what to change, never quoting a key, a passphrase or a token. Every key file is
//! made at test time (openssl), broken ones included: no key material is kept in the tree.

use std::path::{Path, PathBuf};

use intacct_snowflake::Error;
use intacct_snowflake::secret::Secret;
use intacct_snowflake::snowflake::SigningKey;

use crate::support::keys::{PASSPHRASE, TestKeys, openssl};

/// The message of the `SnowflakeAuth` error loading `path` gives; panics on any other
/// outcome.
fn auth_error(path: &Path, passphrase: Option<&str>) -> String {
    let passphrase = passphrase.map(Secret::new);
    match SigningKey::load(path, passphrase.as_ref()) {
        Err(Error::SnowflakeAuth { message }) => {
            assert!(
                message.contains(&path.display().to_string()),
                "the message names the key file: {message}"
            );
            if let Some(p) = &passphrase {
                assert!(
                    !message.contains(p.expose()),
                    "the message quotes the passphrase"
                );
            }
            assert!(!message.contains("MII"), "the message quotes key material");
            message
        }
        Err(other) => panic!(
            "expected SnowflakeAuth for {}, got {other:?}",
            path.display()
        ),
        Ok(_) => panic!("{} loaded", path.display()),
    }
}

fn assert_says(message: &str, any_of: &[&str]) {
    let lower = message.to_lowercase();
    assert!(
        any_of.iter().any(|w| lower.contains(w)),
        "none of {any_of:?} in {message}"
    );
}

/// A key file that is not a usable PEM private key, written at test time into its own
/// directory: `broken` takes a freshly generated PKCS#8 PEM and returns the file's bytes.
fn broken_key(broken: impl FnOnce(String) -> String) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    openssl(
        dir.path(),
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "good.p8",
        ],
    );
    let good = std::fs::read_to_string(dir.path().join("good.p8")).unwrap();
    assert!(
        good.starts_with("-----BEGIN PRIVATE KEY-----"),
        "{good:.40}"
    );
    let path = dir.path().join("rsa_key.p8");
    std::fs::write(&path, broken(good)).unwrap();
    std::fs::remove_file(dir.path().join("good.p8")).unwrap();
    (dir, path)
}

#[test]
fn a_file_that_is_not_a_key() {
    let (_dir, path) =
        broken_key(|_| "this is not a key, it is a shopping list:\n- eggs\n- milk\n".into());
    let message = auth_error(&path, None);
    assert_says(&message, &["is not a pem private key"]);
    assert_says(&message, &["pkcs#8 pem"]);
}

#[test]
fn an_empty_key_file() {
    let (_dir, path) = broken_key(|_| String::new());
    let message = auth_error(&path, None);
    assert_says(&message, &["is not a pem private key"]);
}

#[test]
fn a_pem_cut_before_its_end_line() {
    // The header and the first body line only.
    let (_dir, path) = broken_key(|good| good.lines().take(2).collect::<Vec<_>>().join("\n"));
    let message = auth_error(&path, None);
    assert_says(&message, &["is not a pem private key"]);
}

#[test]
fn a_pem_whose_body_is_not_base64() {
    let (_dir, path) = broken_key(|good| {
        let mut lines: Vec<String> = good.lines().map(str::to_owned).collect();
        lines[2] = format!("{}!!!not base64!!!", &lines[2][..20]);
        lines.join("\n") + "\n"
    });
    let message = auth_error(&path, None);
    assert_says(&message, &["is not a pem private key"]);
}

#[test]
fn a_missing_key_file_names_it() {
    let path = PathBuf::from("/nonexistent/bad-input/rsa_key.p8");
    let message = auth_error(&path, None);
    assert_says(&message, &["cannot read the private key"]);
    assert_says(&message, &["no such file"]);
}

#[test]
fn an_encrypted_key_with_the_wrong_passphrase() {
    let keys = TestKeys::generate();
    let wrong = "not-the-passphrase-7f3a";
    for key in [&keys.pkcs8_des3, &keys.pkcs8_aes256] {
        let message = auth_error(key, Some(wrong));
        assert_says(
            &message,
            &["the passphrase in snowflake.private_key_passphrase does not open"],
        );
    }
    // The right one loads: the failure above is the passphrase, not the file.
    SigningKey::load(&keys.pkcs8_aes256, Some(&Secret::new(PASSPHRASE))).unwrap();
}

#[test]
fn an_encrypted_key_without_a_passphrase() {
    let keys = TestKeys::generate();
    let message = auth_error(&keys.pkcs8_des3, None);
    assert_says(
        &message,
        &["is an encrypted private key but no passphrase is configured"],
    );
}

#[test]
fn a_public_key_where_the_private_key_belongs() {
    let keys = TestKeys::generate();
    let message = auth_error(&keys.public, None);
    assert_says(&message, &["holds a pem \"public key\", not a private key"]);
}

#[test]
fn a_legacy_encrypted_rsa_pem_and_a_non_rsa_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(d, &["genrsa", "-out", "raw.pem", "2048"]);
    openssl(
        d,
        &[
            "rsa",
            "-in",
            "raw.pem",
            "-traditional",
            "-aes256",
            "-passout",
            "pass:legacy-pass-1",
            "-out",
            "legacy.pem",
        ],
    );
    let message = auth_error(&d.join("legacy.pem"), Some("legacy-pass-1"));
    assert_says(
        &message,
        &["openssl's legacy encryption (proc-type: 4,encrypted)"],
    );
    assert_says(&message, &["openssl pkcs8 -topk8"]);
    openssl(
        d,
        &[
            "ecparam",
            "-genkey",
            "-name",
            "prime256v1",
            "-noout",
            "-out",
            "ec.pem",
        ],
    );
    openssl(
        d,
        &[
            "pkcs8", "-topk8", "-nocrypt", "-in", "ec.pem", "-out", "ec.p8",
        ],
    );
    let message = auth_error(&d.join("ec.p8"), None);
    assert_says(&message, &["is not an rsa pkcs#8 private key"]);
}

/// Through the binary, over a stage that holds a staged batch: a bad key stops `run` with
/// exit 2 before anything is read or loaded, and nothing on the stage moves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_key_stops_the_run_before_anything_moves() {
    let world = crate::support::gateway_world::GatewayWorld::start().await;
    let (_dir, key) = broken_key(|_| "not a key\n".into());
    let out = std::process::Command::new(crate::support::binary())
        .current_dir(crate::support::repo_root())
        .args(["run", "--config"])
        .arg(crate::support::repo_root().join("pipelines/demo.toml"))
        .env("INTACCT_ENDPOINT", world.gateway.endpoint_url())
        .env("STAGE_URL", world.stage_dir())
        .env("SNOWFLAKE_URL", "http://127.0.0.1:9")
        .env("SNOWFLAKE_PRIVATE_KEY_PATH", &key)
        .env("INTACCT_SNOWFLAKE_NOW", world.now.to_rfc3339())
        .env("INTACCT_SNOWFLAKE_LOG", "warn")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: Snowflake authentication: {} (snowflake.private_key_path) is not a PEM private key",
            key.display()
        )),
        "{stderr}"
    );
    let counters = world.gateway.sim.counters().await.unwrap();
    assert_eq!(
        counters["functions"]["query"].as_u64().unwrap_or(0),
        // The baseline's reads only: CLASS's two passes and its delete feed.
        world.baseline_queries,
        "{counters}"
    );
    world.assert_nothing_moved().await;
    world.shutdown().await;
}
