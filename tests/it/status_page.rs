//! The status page of a real run (simulator and emulator), rendered by headless Chromium:
//! every run report has its page beside it, `status --html` writes one, the page references
//! nothing outside itself, and its screenshot, taken with the network closed, is a PNG of the
//! requested size showing the green, amber and red badges. Skipped, saying so, only where no
//! Chromium is installed (`scripts/test.sh` installs Debian's).

use std::path::Path;
use std::process::Command;

use crate::schema_changes::pipeline_with;
use crate::support::world::World;
use crate::support::{pytools_python, repo_root};

const GREEN: &str = "1a7f37";
const AMBER: &str = "bf8700";
const RED: &str = "cf222e";

fn chromium() -> Option<String> {
    ["chromium", "chromium-browser"]
        .into_iter()
        .find_map(|name| {
            Command::new("sh")
                .args(["-c", &format!("command -v {name}")])
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_of_a_run_renders_in_chromium_with_its_colours() {
    let mut w = World::start().await;
    w.config = pipeline_with(&w, "[extract.object.VENDOR]\nschema = \"freeze\"\n");
    let objects = "VENDOR,APBILL,GLACCOUNT,DEPARTMENT";
    w.ok(&["init"]).await;
    w.ok(&["run", "--objects", objects, "--no-progress"]).await;
    // VENDOR turns red (a new column held by its frozen schema), CLASS amber (staged, never
    // loaded), the others stay green.
    w.sim.add_custom_field("VENDOR").await.unwrap();
    w.sim.advance_days(1).await.unwrap();
    let out = w.cli(&["run", "--objects", objects, "--no-progress"]).await;
    assert_eq!(out.status.code(), Some(3));
    w.ok(&["extract", "--objects", "CLASS", "--no-progress"])
        .await;

    let reports = w.stage_dir.path().join("_reports");
    let mut jsons = 0;
    for entry in std::fs::read_dir(&reports).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "json") {
            jsons += 1;
            let page = std::fs::read_to_string(path.with_extension("html"))
                .unwrap_or_else(|e| panic!("no page beside {}: {e}", path.display()));
            assert!(page.starts_with("<!DOCTYPE html>"));
        }
    }
    assert_eq!(jsons, 3);

    let dir = tempfile::tempdir().unwrap();
    let page_path = dir.path().join("status.html");
    w.ok(&["status", "--html", page_path.to_str().unwrap()])
        .await;
    let page = std::fs::read_to_string(&page_path).unwrap();
    // Lag is measured at the simulated clock: the loaded objects are green.
    for (object, class) in [
        ("APBILL", "green"),
        ("GLACCOUNT", "green"),
        ("DEPARTMENT", "green"),
        ("CLASS", "amber"),
        ("VENDOR", "red"),
    ] {
        let row =
            format!("<tr><td><span class=\"badge {class}\">{class}</span></td><td>{object}</td>");
        assert!(page.contains(&row), "{object} is not {class}");
    }
    assert!(page.contains(intacct_sim::NEW_CUSTOM_FIELD));
    assert_eq!(page.matches("<rect").count(), 3, "one bar per run");
    for far in [
        "http://", "https://", "<script", "<link", "<img", "@import", "url(",
    ] {
        assert!(!page.contains(far), "{far} in the page");
    }

    let Some(browser) = chromium() else {
        eprintln!(
            "SKIPPED the browser half of the status page test: chromium is not installed \
             (scripts/test.sh installs Debian's chromium)"
        );
        return;
    };
    let png = dir.path().join("status.png");
    let shot = Command::new("bash")
        .arg(repo_root().join("scripts/status-page-screenshot.sh"))
        .arg(&page_path)
        .arg(&png)
        .arg("1280x1600")
        .env("CHROMIUM", &browser)
        .output()
        .unwrap();
    assert!(
        shot.status.success(),
        "{}",
        String::from_utf8_lossy(&shot.stderr)
    );
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let counted = Command::new(pytools_python())
        .arg(repo_root().join("scripts/pytools/png_colours.py"))
        .arg(&png)
        .args([GREEN, AMBER, RED])
        .output()
        .unwrap();
    assert!(
        counted.status.success(),
        "{}",
        String::from_utf8_lossy(&counted.stderr)
    );
    let counted: serde_json::Value = serde_json::from_slice(&counted.stdout).unwrap();
    assert_eq!(
        (counted["width"].as_u64(), counted["height"].as_u64()),
        (Some(1280), Some(1600))
    );
    // A badge is some 1,000 pixels of its colour; the legend shows one of each. Three green
    // objects, one amber, one red (with the page's own red badge and the failure's).
    for (colour, at_least) in [(GREEN, 3_000), (AMBER, 1_500), (RED, 3_000)] {
        let n = counted["counts"][colour].as_u64().unwrap();
        assert!(n >= at_least, "colour #{colour} shows in {n} pixels only");
    }
    if std::env::var("INTACCT_SNOWFLAKE_UPDATE_SCREENSHOT").is_ok_and(|v| v == "1") {
        std::fs::copy(&png, repo_root().join("scripts/status-page.png")).unwrap();
        std::fs::copy(
            &page_path,
            Path::new(&repo_root()).join("target/status-page.html"),
        )
        .ok();
    }
    w.sim.shutdown().await.unwrap();
}
