//! No secret reaches a log line, a run report, a manifest file, an error message or a staged
//! file. The pipeline runs with distinctive secrets made at test time — the Intacct sender and
//! user passwords, the session id the simulator issues, the JWTs the client mints, a
//! programmatic access token and the private key's passphrase — at debug level, in both log
//! formats, with faults on both stand-ins: one run that succeeds and runs that fail (a
//! gateway answering an HTML page that echoes the request, plain or HTML-escaped with named or
//! numeric references, a key whose passphrase is wrong). Then every output (raw pages
//! decompressed) is searched for each secret, raw and in base64. A failure names the file and
//! the kind of secret, never the secret. The runs use the `INTACCT_SNOWFLAKE_NOW` test hook,
//! which each says in a WARN line and in its run report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use base64::Engine;
use intacct_sim::Scale;
use intacct_sim::{SimConfig, SimCredentials};
use intacct_snowflake::secret::Secret;

use crate::support::demo_pipeline::sim_clock;
use crate::support::emulator::{Emulator, EmulatorOptions};
use crate::support::hostile_gateway::{Answer, Escape, HostileGateway, Rule};
use crate::support::keys::TestKeys;
use crate::support::load_harness::{ACCOUNT, USER};
use crate::support::snowflake_proxy::SnowflakeProxy;
use crate::support::{binary, repo_root};

/// A distinctive value no code or data would hold by chance.
fn sentinel(kind: &str) -> String {
    format!("Zq{kind}{}", uuid::Uuid::new_v4().simple())
}

/// Encrypts `keys.pkcs8` under `passphrase` (PKCS#8 v2, AES-256), as Snowflake's own
/// instructions do.
fn encrypted_key(keys: &TestKeys, dir: &Path, name: &str, passphrase: &str) -> PathBuf {
    let out = dir.join(name);
    let status = std::process::Command::new("openssl")
        .args(["pkcs8", "-topk8", "-v2", "aes256", "-inform", "PEM", "-in"])
        .arg(&keys.pkcs8)
        .arg("-passout")
        .arg(format!("pass:{passphrase}"))
        .arg("-out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "openssl encrypts the key");
    out
}

/// The demo pipeline with the secrets as environment references, raw pages kept and Intacct
/// retries short; `auth` is the Snowflake authentication lines.
fn pipeline_file(dir: &Path, name: &str, auth: &str) -> PathBuf {
    let text = std::fs::read_to_string(repo_root().join("pipelines/demo.toml")).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        let line = match line.split('=').next().map(str::trim) {
            Some("sender_password") => "sender_password = \"${INTACCT_SENDER_PASSWORD}\"".into(),
            Some("user_password") => "user_password = \"${INTACCT_USER_PASSWORD}\"".into(),
            Some("private_key_path") => auth.to_owned(),
            Some("keep_raw_pages") => "keep_raw_pages = true".into(),
            Some("max_attempts") => "max_attempts = 2".into(),
            Some("initial_backoff_ms") => "initial_backoff_ms = 10".into(),
            Some("max_backoff_ms") => "max_backoff_ms = 50".into(),
            _ => line.to_owned(),
        };
        out.push_str(&line);
        out.push('\n');
    }
    let path = dir.join(name);
    std::fs::write(&path, out).unwrap();
    path
}

/// Every text a run left: stdout and stderr of each command, every file under the stage.
#[derive(Default)]
struct Outputs {
    /// (where, bytes).
    items: Vec<(String, Vec<u8>)>,
}

impl Outputs {
    fn command(&mut self, label: &str, out: &Output) {
        self.items
            .push((format!("{label} stdout"), out.stdout.clone()));
        self.items
            .push((format!("{label} stderr"), out.stderr.clone()));
    }

    fn tree(&mut self, root: &Path) {
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let bytes = std::fs::read(&path).unwrap();
                    let shown = path.strip_prefix(root).unwrap().display().to_string();
                    if shown.ends_with(".zst") {
                        // Raw pages are kept compressed: search what they hold.
                        let plain = zstd::stream::decode_all(&bytes[..]).unwrap();
                        self.items
                            .push((format!("stage file {shown} (decompressed)"), plain));
                    }
                    self.items.push((format!("stage file {shown}"), bytes));
                }
            }
        }
    }

    fn files_named(&self, part: &str) -> usize {
        self.items.iter().filter(|(w, _)| w.contains(part)).count()
    }

    /// Every place that holds one of `secrets` (raw, the start of a sentinel, or in base64 or
    /// base64url at any of the three alignments inside a longer encoded text), as
    /// "where: kind".
    fn leaks(&self, secrets: &BTreeMap<String, Vec<String>>) -> Vec<String> {
        let mut found = Vec::new();
        for (kind, values) in secrets {
            for value in values {
                let mut forms = encoded_forms(value);
                // A snippet cut short may show only the start of a secret: a sentinel's kind
                // and its first 6 random characters are already a leak.
                if value.starts_with("Zq") && value.len() > 26 {
                    forms.push(value[..value.len() - 26].to_owned());
                }
                for (place, bytes) in &self.items {
                    if forms
                        .iter()
                        .any(|f| bytes.windows(f.len()).any(|w| w == f.as_bytes()))
                    {
                        found.push(format!("{place}: {kind}"));
                    }
                }
            }
        }
        found.sort();
        found.dedup();
        found
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_a_log_report_manifest_error_or_staged_file() {
    let sender_password = sentinel("SenderPw");
    let user_password = sentinel("UserPw");
    let passphrase = sentinel("KeyPass");
    let pat = sentinel("Pat");

    let mut config = SimConfig::default();
    config.dataset.scale = Scale::Tiny;
    config.credentials = SimCredentials {
        sender_password: Secret::new(sender_password.clone()),
        user_password: Secret::new(user_password.clone()),
        ..SimCredentials::default()
    };
    config.faults = "http503@query:rate=0.05,session-expiry@query:nth=4".into();
    let gateway = HostileGateway::start(config).await;

    let keys = TestKeys::generate();
    let dir = tempfile::tempdir().unwrap();
    let key = encrypted_key(&keys, dir.path(), "key.p8", &passphrase);
    let wrong_key = encrypted_key(&keys, dir.path(), "other.p8", &sentinel("Other"));
    let mut options = EmulatorOptions::key_pair(&keys.public, ACCOUNT, USER);
    options.pat = Some(pat.clone());
    options.require_warehouse = true;
    let emulator = Emulator::start(&options);
    emulator
        .set_faults("503:copy:nth=1,drop:merge:nth=1,429:other:nth=3")
        .await;
    let snowflake = SnowflakeProxy::start(&emulator.base_url).await;

    let key_pair = pipeline_file(
        dir.path(),
        "key-pair.toml",
        "private_key_path = \"${SNOWFLAKE_PRIVATE_KEY_PATH}\"\nprivate_key_passphrase = \"${SNOWFLAKE_KEY_PASSPHRASE}\"",
    );
    let token = pipeline_file(dir.path(), "pat.toml", "token = \"${SNOWFLAKE_PAT}\"");
    let stage = tempfile::tempdir().unwrap();

    let run = |pipeline: &Path, key_path: &Path, format: &str, args: &[&str], now: String| {
        let mut command = std::process::Command::new(binary());
        command
            .current_dir(repo_root())
            .args(args)
            .arg("--config")
            .arg(pipeline)
            .args(["--log-format", format])
            .env("INTACCT_ENDPOINT", gateway.endpoint_url())
            .env("INTACCT_SENDER_PASSWORD", &sender_password)
            .env("INTACCT_USER_PASSWORD", &user_password)
            .env("STAGE_URL", stage.path())
            .env("SNOWFLAKE_URL", snowflake.url())
            .env("SNOWFLAKE_PRIVATE_KEY_PATH", key_path)
            .env("SNOWFLAKE_KEY_PASSPHRASE", &passphrase)
            .env("SNOWFLAKE_PAT", &pat)
            .env("INTACCT_SNOWFLAKE_NOW", now)
            .env("INTACCT_SNOWFLAKE_LOG", "debug")
            .env("RUST_LOG", "debug")
            .env_remove("INTACCT_SNOWFLAKE_CRASH_AT");
        command
    };
    let mut outputs = Outputs::default();
    let now = || async { sim_clock(&gateway.sim).await.to_rfc3339() };

    // 1. Succeeds through the faults: init and run, key pair, JSON logs.
    let out = run(&key_pair, &key, "json", &["init"], now().await)
        .output()
        .unwrap();
    outputs.command("init (key pair, json)", &out);
    assert_eq!(out.status.code(), Some(0), "init: {}", tail(&out));
    let out = run(&key_pair, &key, "json", &["run"], now().await)
        .output()
        .unwrap();
    outputs.command("run (key pair, json)", &out);
    assert_eq!(out.status.code(), Some(0), "run: {}", tail(&out));
    // The clock came from the test hook: the log and the report say so.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("WARN") && l.contains("INTACCT_SNOWFLAKE_NOW")),
        "{}",
        tail(&out)
    );
    let report = run_report(stage.path());
    assert!(
        report["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("INTACCT_SNOWFLAKE_NOW")),
        "{}",
        report["warnings"]
    );

    // 2. Fails in part: a day later, with a PAT and text logs, the gateway answers CLASS (200)
    // and DEPARTMENT (400) with an HTML page that echoes the whole request (sender password,
    // session id).
    gateway.sim.advance_days(1).await.unwrap();
    gateway.set_rules(vec![
        Rule::every("query", "CLASS", Answer::Echo(200)),
        Rule::every("query", "DEPARTMENT", Answer::Echo(400)),
        Rule::every(
            "query",
            "LOCATION",
            Answer::EscapedEcho(200, Escape::Numeric),
        ),
        Rule::every("query", "PROJECT", Answer::EscapedEcho(400, Escape::Named)),
    ]);
    let out = run(&token, &key, "text", &["run"], now().await)
        .output()
        .unwrap();
    outputs.command("run (PAT, text, echoing gateway)", &out);
    assert_eq!(out.status.code(), Some(3), "partial run: {}", tail(&out));
    assert!(gateway.answered() > 0, "the echo was served");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("HTML page instead of XML"),
        "{}",
        tail(&out)
    );
    assert!(stderr.contains("HTTP 400 from Intacct"), "{}", tail(&out));
    gateway.set_rules(Vec::new());

    // 3. Fails at once: a key whose passphrase is not the one given (exit 2), both formats.
    for format in ["text", "json"] {
        let out = run(&key_pair, &wrong_key, format, &["run"], now().await)
            .output()
            .unwrap();
        outputs.command(&format!("run (wrong passphrase, {format})"), &out);
        assert_eq!(
            out.status.code(),
            Some(2),
            "wrong passphrase: {}",
            tail(&out)
        );
    }

    // The faults fired on both sides.
    let counters = gateway.sim.counters().await.unwrap();
    let injected = &counters["faults_injected"];
    assert!(
        injected["session-expiry"].as_u64().unwrap_or(0) > 0,
        "{counters}"
    );
    assert!(
        emulator.faults_injected("503").await > 0 && emulator.faults_injected("drop").await > 0,
        "{}",
        emulator.stats().await
    );

    outputs.tree(stage.path());
    assert!(outputs.files_named("_reports/") >= 2, "run reports written");
    assert!(outputs.files_named("_manifest/") >= 2, "manifest written");
    assert!(outputs.files_named(".parquet") >= 12, "parts staged");
    assert!(outputs.files_named("raw") >= 1, "raw pages staged");

    let session_ids = gateway.session_ids();
    let tokens = snowflake.tokens();
    assert!(!session_ids.is_empty(), "sessions were issued");
    assert!(
        tokens.iter().any(|t| t.starts_with("eyJ")),
        "JWTs were sent"
    );
    assert!(tokens.contains(&pat), "the PAT was sent");
    let mut secrets: BTreeMap<String, Vec<String>> = BTreeMap::new();
    secrets.insert(
        "Intacct sender password".into(),
        vec![sender_password.clone()],
    );
    secrets.insert("Intacct user password".into(), vec![user_password.clone()]);
    secrets.insert("Intacct session id".into(), session_ids);
    secrets.insert("private key passphrase".into(), vec![passphrase.clone()]);
    secrets.insert("programmatic access token".into(), vec![pat.clone()]);
    let jwts: Vec<String> = tokens
        .iter()
        .filter(|t| t.starts_with("eyJ"))
        .cloned()
        .collect();
    // A JWT's header and claims are not secret, but its signature appears only where the
    // whole token was printed (or cut short).
    let signatures: Vec<String> = jwts
        .iter()
        .filter_map(|t| t.rsplit('.').next().map(str::to_owned))
        .collect();
    secrets.insert("Snowflake JWT".into(), jwts);
    secrets.insert("Snowflake JWT signature".into(), signatures);
    let leaks = outputs.leaks(&secrets);
    assert!(leaks.is_empty(), "secrets found in:\n{}", leaks.join("\n"));
    gateway.shutdown().await;
}

/// The one report of a `run` on the stage.
fn run_report(stage: &Path) -> serde_json::Value {
    let runs: Vec<serde_json::Value> = std::fs::read_dir(stage.join("_reports"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| serde_json::from_slice::<serde_json::Value>(&std::fs::read(p).unwrap()).unwrap())
        .filter(|r| r["command"] == "run")
        .collect();
    assert_eq!(runs.len(), 1, "one run so far");
    runs.into_iter().next().unwrap()
}

/// `value` itself and the text its bytes become in base64 and base64url when they start at
/// byte offset 0, 1 or 2 of a 3-byte group (the characters that also depend on neighbouring
/// bytes are left off).
fn encoded_forms(value: &str) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    let mut forms = vec![value.to_owned()];
    for engine in [&STANDARD, &URL_SAFE] {
        for offset in 0..3 {
            let mut bytes = vec![0u8; offset];
            bytes.extend_from_slice(value.as_bytes());
            let encoded = engine.encode(&bytes);
            let encoded = encoded.trim_end_matches('=');
            // The first group holds prefix bytes unless the offset is 0; the last may hold
            // bytes that follow.
            let from = if offset == 0 { 0 } else { 4 };
            let to = encoded.len().saturating_sub(4);
            if to > from + 8 {
                forms.push(encoded[from..to].to_owned());
            }
        }
    }
    forms.sort();
    forms.dedup();
    forms
}

/// The last lines of a command's stderr, for assertion messages; lines that hold a
/// sentinel or a JWT are left out, so a failure never prints a secret.
fn tail(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.contains("Zq") && !l.contains("eyJ"))
        .collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}
