//! An S3-compatible server on loopback: moto's server from the pinned pytools venv.
//!
//! The venv is made by `scripts/pytools/setup.sh`; when it is missing, starting the server
//! panics with that instruction — S3 tests fail, never skip.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use intacct_snowflake::stage::Stage;

use super::repo_root;

/// A running moto server with one bucket; killed on drop.
pub(crate) struct Moto {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub(crate) endpoint: String,
    /// The bucket created at start.
    pub(crate) bucket: String,
}

impl Moto {
    /// Starts moto on a free loopback port and creates `bucket`.
    pub(crate) async fn start(bucket: &str) -> Moto {
        let server = repo_root().join("scripts/pytools/.venv/bin/moto_server");
        assert!(
            server.exists(),
            "{} is missing: run scripts/pytools/setup.sh first",
            server.display()
        );
        // moto cannot report a port it picked itself, so take a free one and hand it over.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let child = Command::new(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            bucket: bucket.to_owned(),
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let created = client
                .put(format!("{}/{bucket}", moto.endpoint))
                .send()
                .await;
            match created {
                Ok(response) if response.status().is_success() => break,
                _ if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                other => panic!("moto did not come up on {}: {other:?}", moto.endpoint),
            }
        }
        moto
    }

    /// object_store options for this server (test keys, plain HTTP, path-style requests).
    pub(crate) fn options(&self) -> Vec<(String, String)> {
        [
            ("aws_endpoint", self.endpoint.as_str()),
            ("aws_allow_http", "true"),
            ("aws_region", "us-east-1"),
            ("aws_access_key_id", "testing-key"),
            ("aws_secret_access_key", "testing-secret"),
            ("aws_virtual_hosted_style_request", "false"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// A stage under `prefix` in the bucket.
    pub(crate) fn stage(&self, prefix: &str) -> Stage {
        Stage::open_with_options(&format!("s3://{}/{prefix}", self.bucket), self.options())
            .expect("s3 stage opens")
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
