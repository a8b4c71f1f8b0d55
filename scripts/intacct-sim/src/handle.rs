//! A simulator running in the current process, for tests, benchmarks and the demo.

use std::net::SocketAddr;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use intacct_snowflake::{Error, Result};

use crate::config::SimConfig;
use crate::server::{GATEWAY_PATH, serve};

/// A running simulator; [`SimHandle::shutdown`] stops it (dropping the handle stops it too).
#[derive(Debug)]
pub struct SimHandle {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<()>>>,
    http: reqwest::Client,
}

/// Starts a simulator on `127.0.0.1:0`.
pub async fn spawn(config: SimConfig) -> Result<SimHandle> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|source| Error::Io {
            path: "127.0.0.1:0".into(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| Error::Io {
        path: "127.0.0.1:0".into(),
        source,
    })?;
    // Validate the fault spec before spawning so a bad spec is this call's error.
    crate::faults::FaultPlan::parse(&config.faults, 0).map_err(|message| Error::Config {
        location: "faults".into(),
        message,
    })?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(
        listener,
        async move {
            let _ = stopped.await;
        },
        config,
    ));
    Ok(SimHandle {
        addr,
        stop: Some(stop),
        task: Some(task),
        http: reqwest::Client::new(),
    })
}

fn transport(e: reqwest::Error) -> Error {
    Error::Transport {
        service: intacct_snowflake::error::Service::Intacct,
        message: format!("simulator admin API: {e}"),
        timeout: e.is_timeout(),
    }
}

impl SimHandle {
    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The gateway endpoint URL.
    pub fn endpoint_url(&self) -> String {
        format!("{}{GATEWAY_PATH}", self.base_url())
    }

    async fn admin_json(&self, request: reqwest::RequestBuilder) -> Result<serde_json::Value> {
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let text = response.text().await.map_err(transport)?;
        if !status.is_success() {
            return Err(Error::HttpStatus {
                service: intacct_snowflake::error::Service::Intacct,
                status: status.as_u16(),
                retry_after_secs: None,
                detail: text,
            });
        }
        serde_json::from_str(&text).map_err(|e| Error::Transport {
            service: intacct_snowflake::error::Service::Intacct,
            message: format!("simulator admin API answered non-JSON: {e}"),
            timeout: false,
        })
    }

    /// `POST /__sim/advance?days=N`: the change summary.
    pub async fn advance_days(&self, days: u32) -> Result<serde_json::Value> {
        let url = format!("{}/__sim/advance?days={days}", self.base_url());
        self.admin_json(self.http.post(url)).await
    }

    /// `POST /__sim/custom-field?object=X`: adds the custom field `NEW_CUSTOM_FIELD` to the
    /// object from now on.
    pub async fn add_custom_field(&self, object: &str) -> Result<serde_json::Value> {
        let url = format!("{}/__sim/custom-field?object={object}", self.base_url());
        self.admin_json(self.http.post(url)).await
    }

    /// `GET /__sim/records?object=X`: every live record as a JSON object, RECORDNO order.
    pub async fn records(
        &self,
        object: &str,
    ) -> Result<Vec<serde_json::Map<String, serde_json::Value>>> {
        let url = format!("{}/__sim/records?object={object}", self.base_url());
        let response = self.http.get(url).send().await.map_err(transport)?;
        let text = response.text().await.map_err(transport)?;
        text.lines()
            .map(|line| {
                serde_json::from_str(line).map_err(|e| Error::Transport {
                    service: intacct_snowflake::error::Service::Intacct,
                    message: format!("bad records line: {e}"),
                    timeout: false,
                })
            })
            .collect()
    }

    /// `GET /__sim/counters`.
    pub async fn counters(&self) -> Result<serde_json::Value> {
        let url = format!("{}/__sim/counters", self.base_url());
        self.admin_json(self.http.get(url)).await
    }

    /// `GET /__sim/audit-reads`: every AUDITHISTORY `query` the gateway was sent, in order.
    pub async fn audit_reads(&self) -> Result<serde_json::Value> {
        let url = format!("{}/__sim/audit-reads", self.base_url());
        self.admin_json(self.http.get(url)).await
    }

    /// `POST /__sim/faults`: replaces the fault rules.
    pub async fn set_faults(&self, spec: &str) -> Result<serde_json::Value> {
        let url = format!("{}/__sim/faults", self.base_url());
        self.admin_json(self.http.post(url).body(spec.to_owned()))
            .await
    }

    /// `POST /__sim/sessions/expire`.
    pub async fn expire_sessions(&self) -> Result<serde_json::Value> {
        let url = format!("{}/__sim/sessions/expire", self.base_url());
        self.admin_json(self.http.post(url)).await
    }

    /// `POST /__sim/result-ids/expire`.
    pub async fn expire_result_ids(&self) -> Result<serde_json::Value> {
        let url = format!("{}/__sim/result-ids/expire", self.base_url());
        self.admin_json(self.http.post(url)).await
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.unwrap_or(Ok(())),
            None => Ok(()),
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
