//! Broken pipeline files, through the binary: each exits 2 with a message naming the file
//! and the key (or the secret's variable) and what would be right; nothing is written to the
//! stage and nothing is asked of Intacct or Snowflake (both point at a port nobody listens on,
//! so a request would fail differently).

use std::process::Command;

use super::corpus_path;
use crate::support::{binary, repo_root};

/// Runs `run` on the corpus pipeline `name` against an empty stage; (exit code, stderr,
/// stage entries after).
fn run_pipeline(name: &str) -> (Option<i32>, String, usize) {
    let stage = tempfile::tempdir().unwrap();
    let out = Command::new(binary())
        .current_dir(repo_root())
        .args(["run", "--config"])
        .arg(corpus_path(&format!("config/{name}")))
        .env("STAGE_URL", stage.path())
        .env("INTACCT_ENDPOINT", "http://127.0.0.1:9/ia/xml/xmlgw.phtml")
        .env("SNOWFLAKE_URL", "http://127.0.0.1:9")
        .env_remove("INTACCT_USER_PASSWORD")
        .env_remove("INTACCT_SENDER_PASSWORD")
        .env_remove("BAD_INPUT_UNSET_PASSWORD_VARIABLE")
        .env("INTACCT_SNOWFLAKE_LOG", "warn")
        .output()
        .unwrap();
    let entries = std::fs::read_dir(stage.path()).unwrap().count();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        entries,
    )
}

/// Exit 2, `error: configuration error in <file>: <location>: …` with each of `says`, and an
/// untouched stage.
fn config_case(name: &str, location: &str, says: &[&str]) {
    let (code, stderr, entries) = run_pipeline(name);
    assert_eq!(code, Some(2), "{name}: {stderr}");
    let file = corpus_path(&format!("config/{name}"));
    let expected = format!(
        "error: configuration error in {}: {location}",
        file.display()
    );
    assert!(stderr.contains(&expected), "{expected:?} not in {stderr}");
    for text in says {
        assert!(stderr.contains(text), "{name}: {text:?} not in {stderr}");
    }
    assert_eq!(entries, 0, "{name}: the stage was written to");
}

#[test]
fn a_file_that_is_not_toml_names_the_line() {
    config_case("not-toml.toml", "line 30", &["unclosed table"]);
}

#[test]
fn a_misspelt_key_names_it_and_the_right_ones() {
    config_case(
        "misspelt-key.toml",
        "line 33",
        &["unknown field `chanel_pages`", "`channel_pages`"],
    );
}

#[test]
fn a_value_of_the_wrong_type_names_the_line() {
    config_case(
        "wrong-type.toml",
        "line 21",
        &["invalid type: string \"two\""],
    );
}

#[test]
fn a_page_size_of_zero_names_the_limit() {
    config_case(
        "page-size-zero.toml",
        "intacct.page_size",
        &["outside 1..=2000"],
    );
}

#[test]
fn a_timeout_past_its_bound_names_the_bound() {
    config_case(
        "timeout-out-of-range.toml",
        "intacct.timeout_secs",
        &["99999999999 is outside 1..=3600"],
    );
}

#[test]
fn an_endpoint_that_is_not_a_url() {
    config_case(
        "endpoint-not-a-url.toml",
        "intacct.endpoint",
        &["\"not a url at all\" is not a URL"],
    );
}

#[test]
fn an_unknown_time_zone() {
    config_case(
        "unknown-time-zone.toml",
        "intacct.time_zone",
        &["unknown time zone \"Mars/Olympus_Mons\""],
    );
}

#[test]
fn a_stage_url_of_an_unknown_scheme() {
    config_case(
        "stage-url-unknown-scheme.toml",
        "stage.url",
        &["unsupported stage scheme \"ftp\""],
    );
}

#[test]
fn both_a_token_and_a_key() {
    config_case("both-token-and-key.toml", "snowflake", &["not both"]);
}

#[test]
fn a_literal_secret_is_refused_without_being_quoted() {
    let (code, stderr, entries) = run_pipeline("literal-secret.toml");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("intacct.sender_password: a secret must be a reference"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("pl41n-t3xt"),
        "the literal secret is quoted"
    );
    assert_eq!(entries, 0);
}

/// Secret errors name the variable and the key it is for (exit 2).
#[test]
fn secrets_that_are_not_available() {
    for (name, variable, key, says) in [
        (
            "secret-from-an-unset-variable.toml",
            "BAD_INPUT_UNSET_PASSWORD_VARIABLE",
            "intacct.user_password",
            "is not set",
        ),
        (
            "default-secret-for-a-remote-endpoint.toml",
            "INTACCT_SENDER_PASSWORD",
            "intacct.sender_password",
            "used only for loopback endpoints",
        ),
    ] {
        let (code, stderr, entries) = run_pipeline(name);
        assert_eq!(code, Some(2), "{name}: {stderr}");
        let expected = format!("error: secret {variable} is not available");
        assert!(stderr.contains(&expected), "{expected:?} not in {stderr}");
        assert!(stderr.contains(&format!("(for {key})")), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
        assert_eq!(entries, 0, "{name}");
    }
}
