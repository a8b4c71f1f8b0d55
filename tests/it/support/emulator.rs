//! The Snowflake SQL API v2 emulator on loopback, started through `scripts/snowflake-emulator.sh`
//! exactly as users start it: the test reads its one `listening on http://…` line, talks to it
//! by base URL, changes its faults at run time (`POST /__emulator/faults`), runs statements as
//! the account administrator (`POST /__emulator/sql`: the objects, roles and grants a test
//! finds in place) and reads what ran (`GET /__emulator/stats`). [`EmulatorOptions`] has a field
//! for each of the emulator's account flags (warehouses and roles that exist, a locked-down
//! role, storage integrations, set-up SQL, an S3 endpoint). The process is killed on drop.
//!
//! The launcher builds its pinned venv on first use (about 1.5 min), hence the generous start
//! limit; a start that fails panics with the emulator's log — tests fail, never skip.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::repo_root;

/// How to start one emulator. Only `public_keys` or `pat` is required.
#[derive(Clone, Debug, Default)]
pub(crate) struct EmulatorOptions {
    /// RSA public keys (PEM) that KEYPAIR_JWT tokens are verified against.
    pub(crate) public_keys: Vec<PathBuf>,
    /// `--account`/`--user`: the subject a JWT must name (both or neither).
    pub(crate) account_user: Option<(String, String)>,
    /// `--pat`: an accepted programmatic access token (value or file).
    pub(crate) pat: Option<String>,
    /// `--require-warehouse`: statements need a `warehouse` in the body. Only passed when set, so
    /// emulators without the flag still start for every other test.
    pub(crate) require_warehouse: bool,
    /// `--faults SPEC`.
    pub(crate) faults: Option<String>,
    /// `--db-path DIR`.
    pub(crate) db_path: Option<PathBuf>,
    /// `--partition-rows N`.
    pub(crate) partition_rows: Option<usize>,
    /// `--sync-wait-secs S`.
    pub(crate) sync_wait_secs: Option<f64>,
    /// Any other flags, as given (`--warehouse`, `--role`, `--setup-sql`, …).
    pub(crate) extra_args: Vec<String>,
    /// `--warehouse NAME`, each: the warehouses that exist (the body's `warehouse` is then
    /// matched literally); none: any name is accepted.
    pub(crate) warehouses: Vec<String>,
    /// `--role NAME`, each: roles the user has (the body's `role` is then matched literally).
    pub(crate) roles: Vec<String>,
    /// `--locked-down-role NAME`: the user's default role, with only USAGE and CREATE
    /// TABLE/VIEW/STAGE/FILE FORMAT on schemas and what the administrator grants.
    pub(crate) locked_down_role: Option<String>,
    /// `--storage-integration NAME`, each: integrations that exist.
    pub(crate) storage_integrations: Vec<String>,
    /// `--setup-sql FILE`: statements run once at start as the account administrator.
    pub(crate) setup_sql: Option<PathBuf>,
    /// `--s3-endpoint URL`: where `s3://` stages are read (with the AWS variables of `env`).
    pub(crate) s3_endpoint: Option<String>,
    /// Environment variables of the emulator's process (the AWS credentials of an S3 stage).
    pub(crate) env: Vec<(String, String)>,
}

impl EmulatorOptions {
    /// Key-pair auth against `public_key` for `account`/`user`.
    pub(crate) fn key_pair(public_key: &Path, account: &str, user: &str) -> EmulatorOptions {
        EmulatorOptions {
            public_keys: vec![public_key.to_owned()],
            account_user: Some((account.to_owned(), user.to_owned())),
            ..EmulatorOptions::default()
        }
    }

    fn args(&self) -> Vec<String> {
        let mut args = vec!["--listen".to_owned(), "127.0.0.1:0".to_owned()];
        for key in &self.public_keys {
            args.push("--public-key".into());
            args.push(key.display().to_string());
        }
        if let Some((account, user)) = &self.account_user {
            args.extend([
                "--account".into(),
                account.clone(),
                "--user".into(),
                user.clone(),
            ]);
        }
        if let Some(pat) = &self.pat {
            args.extend(["--pat".into(), pat.clone()]);
        }
        if self.require_warehouse {
            args.push("--require-warehouse".into());
        }
        if let Some(faults) = &self.faults {
            args.extend(["--faults".into(), faults.clone()]);
        }
        if let Some(dir) = &self.db_path {
            args.extend(["--db-path".into(), dir.display().to_string()]);
        }
        if let Some(rows) = self.partition_rows {
            args.extend(["--partition-rows".into(), rows.to_string()]);
        }
        if let Some(secs) = self.sync_wait_secs {
            args.extend(["--sync-wait-secs".into(), secs.to_string()]);
        }
        args.extend(self.extra_args.iter().cloned());
        for (flag, names) in [
            ("--warehouse", &self.warehouses),
            ("--role", &self.roles),
            ("--storage-integration", &self.storage_integrations),
        ] {
            for name in names {
                args.extend([flag.to_owned(), name.clone()]);
            }
        }
        if let Some(role) = &self.locked_down_role {
            args.extend(["--locked-down-role".into(), role.clone()]);
        }
        if let Some(file) = &self.setup_sql {
            args.extend(["--setup-sql".into(), file.display().to_string()]);
        }
        if let Some(endpoint) = &self.s3_endpoint {
            args.extend(["--s3-endpoint".into(), endpoint.clone()]);
        }
        args
    }
}

/// A running emulator; killed on drop.
pub(crate) struct Emulator {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub(crate) base_url: String,
    log_path: PathBuf,
    _log_dir: tempfile::TempDir,
    http: reqwest::Client,
}

impl Emulator {
    /// Starts the emulator and waits for its `listening on` line (blocking; fine inside a test).
    pub(crate) fn start(options: &EmulatorOptions) -> Emulator {
        let log_dir = tempfile::tempdir().expect("a temp dir for the emulator log");
        let log_path = log_dir.path().join("emulator.log");
        let log = std::fs::File::create(&log_path).expect("emulator log file");
        let mut child = Command::new(repo_root().join("scripts/snowflake-emulator.sh"))
            .args(options.args())
            .envs(options.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("scripts/snowflake-emulator.sh starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        // A first start builds the venv.
        let line = match rx.recv_timeout(Duration::from_secs(300)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!("emulator not ready after 300 s:\n{}", log_tail(&log_path));
            }
        };
        let base_url = match line.trim_end().strip_prefix("listening on ") {
            Some(url) if url.starts_with("http://127.0.0.1:") => url.to_owned(),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "emulator printed {line:?} instead of `listening on http://127.0.0.1:PORT`:\n{}",
                    log_tail(&log_path)
                );
            }
        };
        Emulator {
            child,
            base_url,
            log_path,
            _log_dir: log_dir,
            http: reqwest::Client::new(),
        }
    }

    /// The base URL as a `url::Url`.
    pub(crate) fn url(&self) -> url::Url {
        url::Url::parse(&self.base_url).expect("emulator URL parses")
    }

    /// `GET /__emulator/stats`.
    pub(crate) async fn stats(&self) -> serde_json::Value {
        self.http
            .get(format!("{}/__emulator/stats", self.base_url))
            .send()
            .await
            .expect("stats request")
            .error_for_status()
            .expect("stats status")
            .json()
            .await
            .expect("stats JSON")
    }

    /// Statements that actually ran, all kinds together.
    pub(crate) async fn statements_executed(&self) -> u64 {
        let stats = self.stats().await;
        stats["statements_executed"]
            .as_object()
            .expect("statements_executed object")
            .values()
            .map(|v| v.as_u64().expect("a count"))
            .sum()
    }

    /// A top-level counter of the stats (`submissions`, `served_from_history`, `polls`, ...).
    pub(crate) async fn counter(&self, name: &str) -> u64 {
        self.stats().await[name].as_u64().unwrap_or(0)
    }

    /// Faults injected of `kind` so far.
    pub(crate) async fn faults_injected(&self, kind: &str) -> u64 {
        self.stats().await["faults_injected"][kind]
            .as_u64()
            .unwrap_or(0)
    }

    /// Replaces the fault rules (`POST /__emulator/faults`); panics when the emulator refuses the
    /// spec.
    pub(crate) async fn set_faults(&self, spec: &str) {
        let response = self
            .http
            .post(format!("{}/__emulator/faults", self.base_url))
            .json(&serde_json::json!({ "spec": spec }))
            .send()
            .await
            .expect("faults request");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "fault spec {spec:?} refused: {status} {body}"
        );
    }

    /// Runs `sql` (any number of `;`-separated statements) as the account administrator
    /// (`POST /__emulator/sql`: no privilege checks, not counted); the rows of the last
    /// statement. Panics when a statement fails.
    pub(crate) async fn admin_sql(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        let response = self
            .http
            .post(format!("{}/__emulator/sql", self.base_url))
            .json(&serde_json::json!({ "statement": sql }))
            .send()
            .await
            .expect("admin SQL request");
        let status = response.status();
        let body: serde_json::Value = response.json().await.expect("admin SQL answer");
        assert!(
            status.is_success(),
            "admin SQL {sql:?} failed: {status} {body}"
        );
        serde_json::from_value(body["data"].clone()).expect("rows of strings and nulls")
    }

    /// Moves the emulator's clock `days` forward (`POST /__emulator/clock`): load records and
    /// staged files age with it (the 64-day rule).
    pub(crate) async fn advance_clock_days(&self, days: f64) {
        self.http
            .post(format!("{}/__emulator/clock", self.base_url))
            .json(&serde_json::json!({ "advance_days": days }))
            .send()
            .await
            .expect("clock request")
            .error_for_status()
            .expect("clock status");
    }

    /// The last lines of the emulator's log (for assertion messages).
    pub(crate) fn log_tail(&self) -> String {
        log_tail(&self.log_path)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}
