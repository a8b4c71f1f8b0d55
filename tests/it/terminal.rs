//! What a person sees on a terminal: a `run` and a `status` typed into a real terminal (tmux,
//! 200×50) show the summary tables and no INFO log line, no module path; `--log info` brings
//! the detail back (so the check can fail). Needs tmux (`scripts/test.sh` installs it); where
//! it is missing the test says so and passes without checking.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::demo_pipeline::sim_clock;
use crate::support::world::World;

/// A tmux server of this test's own (its own socket), killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn available() -> bool {
        Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    fn new(name: &str) -> Tmux {
        Tmux {
            socket: format!("intacct-snowflake-test-{}-{name}", std::process::id()),
        }
    }

    fn tmux(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap()
    }

    /// Runs `script` in a new 200×50 session; the whole screen and history once it printed
    /// its end marker.
    fn run(&self, script: &Path) -> String {
        let command = format!("bash {}; echo __finished__; sleep 600", script.display());
        let started = self.tmux(&[
            "new-session",
            "-d",
            "-x",
            "200",
            "-y",
            "50",
            "-s",
            "t",
            &command,
        ]);
        assert!(started.status.success(), "{started:?}");
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let pane = self.tmux(&["capture-pane", "-p", "-J", "-S", "-", "-t", "t"]);
            let text = String::from_utf8_lossy(&pane.stdout).into_owned();
            if text.lines().any(|l| l.trim() == "__finished__") {
                return text;
            }
            assert!(Instant::now() < deadline, "no end after 300 s:\n{text}");
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

/// `'…'` for a shell.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A script that runs `commands` as `w` would (its binary, pipeline and environment), without
/// any log setting, plus `extra` arguments on each.
fn script(
    w: &World,
    now: chrono::DateTime<chrono::Utc>,
    commands: &[&[&str]],
    extra: &[&str],
) -> String {
    let mut out = String::from("unset RUST_LOG INTACCT_SNOWFLAKE_LOG\n");
    for command in commands {
        let template = w.command(command, now);
        if out.lines().count() == 1 {
            for (key, value) in template.get_envs() {
                let key = key.to_string_lossy();
                if key == "INTACCT_SNOWFLAKE_LOG" {
                    continue;
                }
                if let Some(value) = value {
                    out.push_str(&format!(
                        "export {key}={}\n",
                        quoted(&value.to_string_lossy())
                    ));
                }
            }
            out.push_str(&format!(
                "cd {}\n",
                quoted(&template.get_current_dir().unwrap().display().to_string())
            ));
        }
        let mut line = quoted(&template.get_program().to_string_lossy());
        for arg in template
            .get_args()
            .chain(extra.iter().map(std::ffi::OsStr::new))
        {
            line.push(' ');
            line.push_str(&quoted(&arg.to_string_lossy()));
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_on_a_terminal_shows_its_tables_and_no_info_lines_unless_asked() {
    if !Tmux::available() {
        eprintln!(
            "SKIPPED: tmux is not installed, so the terminal view of a run is not checked \
             (scripts/test.sh installs it with apt-get)"
        );
        return;
    }
    let w = World::start().await;
    w.ok(&["init"]).await;
    let now = sim_clock(&w.sim).await;
    let dir = tempfile::tempdir().unwrap();
    let quiet = dir.path().join("quiet.sh");
    let commands: [&[&str]; 2] = [&["run", "--objects", "VENDOR,CLASS"], &["status"]];
    std::fs::write(&quiet, script(&w, now, &commands, &[])).unwrap();
    let screen = Tmux::new("quiet").run(&quiet);
    for line in screen.lines() {
        assert!(
            !line.contains(" INFO ") && !line.contains("intacct_snowflake::"),
            "a log line on the terminal: {line:?}\n{screen}"
        );
    }
    // The summary tables and the status table are there.
    assert!(screen.contains("run report: _reports/"), "{screen}");
    assert!(
        screen
            .lines()
            .any(|l| l.starts_with("VENDOR") && l.contains("staged")),
        "{screen}"
    );
    assert!(screen.contains("manifest version"), "{screen}");

    // Asked for, the detail comes back.
    w.sim.advance_days(1).await.unwrap();
    let now = sim_clock(&w.sim).await;
    let verbose = dir.path().join("verbose.sh");
    std::fs::write(
        &verbose,
        script(&w, now, &commands[..1], &["--log", "info"]),
    )
    .unwrap();
    let screen = Tmux::new("verbose").run(&verbose);
    assert!(
        screen
            .lines()
            .any(|l| l.contains(" INFO ") && l.contains("intacct_snowflake::")),
        "--log info shows no INFO line:\n{screen}"
    );
    w.sim.shutdown().await.unwrap();
}
