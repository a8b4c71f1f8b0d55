//! `intacct-snowflake sim intacct` as a process.

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};

use intacct_snowflake::intacct::Call;

use super::*;
use crate::support;

#[tokio::test]
async fn the_command_prints_its_address_and_serves_until_killed() {
    let mut child = tokio::process::Command::new(support::binary())
        .args([
            "sim",
            "intacct",
            "--listen",
            "127.0.0.1:0",
            "--scale",
            "tiny",
            "--seed",
            "7",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let line = lines.next_line().await.unwrap().expect("a first line");
    let base = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    assert!(base.starts_with("http://127.0.0.1:"));
    let body = render_request(
        &request(
            login(),
            vec![function("s", Call::GetApiSession { location_id: None })],
        ),
        &sender(),
    )
    .unwrap();
    let text = reqwest::Client::new()
        .post(format!("{base}/ia/xml/xmlgw.phtml"))
        .body(body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let response = parse_response(text.as_bytes()).expect("a session");
    match &response.results[0].outcome {
        Ok(intacct_snowflake::intacct::ResultData::Session(s)) => {
            assert_eq!(s.endpoint, format!("{base}/ia/xml/xmlgw.phtml"));
        }
        other => panic!("unexpected {other:?}"),
    }
    child.kill().await.unwrap();
}
