//! `intacct-snowflake sim intacct` as a process: it runs the `intacct-sim` binary built beside
//! it with the same arguments, and says clearly where that binary is missing.

use std::ffi::OsStr;
use std::process::{Output, Stdio};

use tokio::io::{AsyncBufReadExt, BufReader};

use intacct_snowflake::intacct::Call;

use super::*;
use crate::support;

/// Starts `intacct-snowflake sim intacct ARGS` and returns it with the first line it printed.
async fn start(args: &[&str]) -> (tokio::process::Child, String) {
    let mut child = sim_intacct()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().unwrap();
    let line = BufReader::new(stdout)
        .lines()
        .next_line()
        .await
        .unwrap()
        .expect("a first line");
    (child, line)
}

#[tokio::test]
async fn the_command_prints_its_address_and_serves_until_killed() {
    let (mut child, line) =
        start(&["--listen", "127.0.0.1:0", "--scale", "tiny", "--seed", "7"]).await;
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

/// Runs `program ARGS` to completion.
fn run(program: &std::path::Path, args: &[&OsStr]) -> Output {
    std::process::Command::new(program)
        .args(args)
        .env_remove("INTACCT_SIM_LOG")
        .env_remove("INTACCT_SIM_LOG_FORMAT")
        .output()
        .expect("binary runs")
}

/// What `intacct-sim ARGS` does, `intacct-snowflake sim intacct ARGS` does: the same output
/// on both streams and the same exit code, for arguments with spaces, dashes and flags the
/// product itself also knows (`--help`, `--version`).
#[test]
fn sim_intacct_passes_every_argument_and_the_exit_code_through() {
    let simulator = simulator_binary();
    let cases: &[(&[&str], i32)] = &[
        // The simulator's own help, not the product's.
        (&["--help"], 0),
        (&["-h"], 0),
        (&["--version"], 0),
        // A value with spaces and a dash-led word in it reaches the simulator whole.
        (&["--scale", "two --help thousand"], 2),
        (&["--no-such-option"], 2),
        // A bad fault spec is the simulator's configuration error (2); an address it cannot
        // bind is its IO error (1).
        (&["--faults", "no-such-fault@VENDOR", "--scale", "tiny"], 2),
        (&["--listen", "256.0.0.1:0", "--scale", "tiny"], 1),
    ];
    for (args, code) in cases {
        let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        let direct = run(&simulator, &args);
        let through = run(
            &support::binary(),
            &[&[OsStr::new("sim"), OsStr::new("intacct")], &args[..]].concat(),
        );
        assert_eq!(direct.status.code(), Some(*code), "{args:?}: {direct:?}");
        assert_eq!(through.status.code(), direct.status.code(), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&through.stdout),
            String::from_utf8_lossy(&direct.stdout),
            "{args:?}"
        );
        assert_eq!(
            String::from_utf8_lossy(&through.stderr),
            String::from_utf8_lossy(&direct.stderr),
            "{args:?}"
        );
    }
    let help = String::from_utf8(run(&simulator, &[OsStr::new("--help")]).stdout).unwrap();
    assert!(help.contains("Usage: intacct-sim"), "{help}");
    assert!(help.contains("POST /__sim/advance?days=N"), "{help}");
    let error = run(
        &support::binary(),
        &[
            OsStr::new("sim"),
            OsStr::new("intacct"),
            OsStr::new("--faults"),
            OsStr::new("no-such-fault@VENDOR"),
        ],
    );
    let stderr = String::from_utf8_lossy(&error.stderr);
    assert!(stderr.contains("no-such-fault"), "{stderr}");
}

/// On Unix `sim intacct` becomes the simulator: the pid the caller holds is the simulator's
/// (its executable is `intacct-sim`), and SIGTERM sent to it stops the simulator cleanly.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn sim_intacct_is_the_simulator_process_and_stops_on_sigterm() {
    let (mut child, line) = start(&["--listen", "127.0.0.1:0", "--scale", "tiny"]).await;
    assert!(line.starts_with("listening on "), "{line}");
    let pid = child.id().expect("running");
    let executable = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap();
    assert_eq!(
        executable.canonicalize().unwrap(),
        simulator_binary().canonicalize().unwrap()
    );
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait())
        .await
        .expect("the simulator stops on SIGTERM")
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

/// Where `intacct-sim` is not beside the product binary, `sim intacct` fails at once naming
/// the path it looked at and the command that builds it.
#[test]
fn sim_intacct_without_the_simulator_binary_says_where_and_how_to_build_it() {
    let binary = support::binary();
    let dir = tempfile::tempdir_in(binary.parent().expect("the binary is in a folder")).unwrap();
    let lonely = dir
        .path()
        .join(binary.file_name().expect("the binary has a file name"));
    // A hard link, not a copy: the copy's write handle could leak into a process another test
    // forks at that moment, and running the copy would then fail with "Text file busy".
    std::fs::hard_link(&binary, &lonely).unwrap();
    let out = run(
        &lonely,
        &[
            OsStr::new("sim"),
            OsStr::new("intacct"),
            OsStr::new("--help"),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let missing = dir
        .path()
        .join(format!("intacct-sim{}", std::env::consts::EXE_SUFFIX));
    assert!(stderr.contains(&missing.display().to_string()), "{stderr}");
    assert!(stderr.contains("cargo build --release"), "{stderr}");
    assert!(stderr.contains("cargo build -p intacct-sim"), "{stderr}");
}
