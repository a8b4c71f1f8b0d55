//! A manifest corrupted on disk: a commit or checkpoint that is cut short, empty, of the wrong
//! shape, misnumbered, of an unknown action, or forged against the manifest's rules. Opening
//! fails with `Error::ManifestCorrupt` naming the file (or `Error::ManifestRule` naming the rule and
//! version); an extract refuses to start and writes nothing; every other file is unchanged,
//! and once the bad file is gone the manifest opens to exactly the state before.

use intacct_snowflake::Error;
use intacct_snowflake::intacct::IntacctClient;
use intacct_snowflake::manifest::{Manifest, ManifestRule};
use intacct_snowflake::pipeline::{client_config, extract_options, run_extract};
use intacct_snowflake::stage::Stage;

use super::corpus;
use crate::support::gateway_world::{GatewayWorld, OBJECT};
use crate::support::stage_state::{manifest_state, stage_files};

/// Every file on the stage, manifest included, with its bytes' digest.
async fn all_files(stage: &Stage) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for object in stage.list("").await.unwrap() {
        let body = stage.get(&object.path).await.unwrap().unwrap();
        out.push((object.path, body.to_vec()));
    }
    out.sort();
    out
}

/// Writes the corpus file `name` at `path` (relative to the stage), with `{{VERSION}}` set to
/// `version`; opens the manifest and tries an extract; checks nothing was written and that
/// removing the file restores the state. The open error.
async fn corrupt(name: &str, path: &str, version: u64) -> Error {
    let world = GatewayWorld::start().await;
    let before = manifest_state(&world.spec).await;
    let stage = Stage::open(&world.spec.stage.url).unwrap();
    let text = String::from_utf8(corpus(&format!("manifest/{name}")))
        .unwrap()
        .replace("{{VERSION}}", &version.to_string())
        .replace("{{WRONG_VERSION}}", &(version + 7).to_string());
    let path = path.replace("{{VERSION}}", &format!("{version:020}"));
    let local = world.stage_dir().join(&path);
    std::fs::create_dir_all(local.parent().unwrap()).unwrap();
    std::fs::write(&local, text).unwrap();
    let files_before = all_files(&stage).await;
    let parts_before = stage_files(&world.spec).await;

    let error = Manifest::open(stage.clone(), "check").await.unwrap_err();
    let options = extract_options(&world.spec, &[OBJECT.to_owned()], world.now, false).unwrap();
    let client = IntacctClient::new(client_config(&world.spec)).unwrap();
    let extract_error = run_extract(&client, &stage, "bad-input", &options)
        .await
        .unwrap_err();
    assert_eq!(extract_error.to_string(), error.to_string());
    assert_eq!(all_files(&stage).await, files_before, "a file changed");
    assert_eq!(stage_files(&world.spec).await, parts_before);

    std::fs::remove_file(&local).unwrap();
    assert_eq!(manifest_state(&world.spec).await, before, "state lost");
    world.shutdown().await;
    error
}

fn manifest_message(error: &Error) -> String {
    match error {
        Error::ManifestCorrupt { path, problem } => format!("{path} {problem}"),
        other => panic!("expected Error::ManifestCorrupt, got {other:?}"),
    }
}

async fn next_version() -> u64 {
    // Every case's baseline is the same extract; its manifest ends at this version.
    let world = GatewayWorld::start().await;
    let version = manifest_state(&world.spec).await.version;
    world.shutdown().await;
    version + 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupted_commits_name_their_file() {
    let v = next_version().await;
    let file = format!("_manifest/{v:020}.json");
    // (A truncated or empty newest commit is torn, set aside: `torn_commits`.)
    for (name, says) in [
        ("wrong-shape-commit.json", "missing field"),
        (
            "unknown-action-commit.json",
            "unknown variant `batch_teleported`",
        ),
    ] {
        let error = corrupt(name, "_manifest/{{VERSION}}.json", v).await;
        let message = manifest_message(&error);
        assert!(
            message.starts_with(&format!("{file} is not a commit: ")),
            "{name}: {message}"
        );
        assert!(message.contains(says), "{name}: {says:?} not in {message}");
        assert!(!error.is_retryable());
    }
}

/// A newest commit cut short (a power loss before it reached the disk) is set aside to
/// `_manifest/_torn/` and the manifest opens at the version before; a commit cut short with
/// a commit after it stays a corruption naming it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn torn_commits() {
    for name in ["truncated-commit.json", "empty-commit.json"] {
        let world = GatewayWorld::start().await;
        let before = manifest_state(&world.spec).await;
        let v = before.version + 1;
        let text = String::from_utf8(corpus(&format!("manifest/{name}")))
            .unwrap()
            .replace("{{VERSION}}", &v.to_string());
        let local = world.stage_dir().join(format!("_manifest/{v:020}.json"));
        std::fs::write(&local, &text).unwrap();
        let stage = Stage::open(&world.spec.stage.url).unwrap();
        let opened = Manifest::open(stage.clone(), "check").await.unwrap();
        assert_eq!(*opened.state(), before, "{name}");
        assert!(
            !local.exists(),
            "{name}: the torn commit is still in the log"
        );
        let aside = world
            .stage_dir()
            .join(format!("_manifest/_torn/{v:020}.json"));
        assert_eq!(std::fs::read_to_string(&aside).unwrap(), text, "{name}");
        world.shutdown().await;
    }

    // Cut short with a commit after it: not a torn newest commit but a damaged log.
    let world = GatewayWorld::start().await;
    let state = manifest_state(&world.spec).await;
    assert!(state.version >= 2, "{}", state.version);
    let path = "_manifest/00000000000000000001.json";
    let local = world.stage_dir().join(path);
    let whole = std::fs::read(&local).unwrap();
    std::fs::write(&local, &whole[..whole.len() / 2]).unwrap();
    let stage = Stage::open(&world.spec.stage.url).unwrap();
    let error = Manifest::open(stage, "check").await.unwrap_err();
    let message = manifest_message(&error);
    assert!(
        message.starts_with(&format!("{path} is not a commit: ")),
        "{message}"
    );
    assert!(message.contains("EOF while parsing"), "{message}");
    assert!(local.exists());
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misnumbered_commit_breaks_the_version_order() {
    let v = next_version().await;
    let error = corrupt("misnumbered-commit.json", "_manifest/{{VERSION}}.json", v).await;
    match error {
        Error::ManifestRule { version, rule, .. } => {
            assert_eq!(rule, ManifestRule::VersionOrder);
            assert_eq!(version, v + 7);
        }
        other => panic!("expected ManifestRule, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_commit_staging_an_unknown_batch_is_refused() {
    let v = next_version().await;
    let error = corrupt(
        "staged-unknown-batch-commit.json",
        "_manifest/{{VERSION}}.json",
        v,
    )
    .await;
    match &error {
        Error::ManifestRule {
            version,
            rule,
            detail,
        } => {
            assert_eq!(*rule, ManifestRule::UnknownBatch);
            assert_eq!(*version, v);
            assert!(
                detail.contains("00000000-0000-0000-0000-00000000dead"),
                "{detail}"
            );
        }
        other => panic!("expected ManifestRule, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_checkpoint_names_its_file() {
    let v = next_version().await - 1;
    let error = corrupt(
        "truncated-checkpoint.json",
        "_manifest/_checkpoints/{{VERSION}}.json",
        v,
    )
    .await;
    let message = manifest_message(&error);
    assert!(
        message.starts_with(&format!(
            "_manifest/_checkpoints/{v:020}.json is not a checkpoint: "
        )),
        "{message}"
    );
}
