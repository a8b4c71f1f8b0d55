//! What a stage holds after a run: its manifest, folded, and the digest of every file on it.

use std::collections::BTreeMap;

use intacct_snowflake::config::Spec;
use intacct_snowflake::manifest::{Manifest, ManifestState};
use intacct_snowflake::stage::Stage;
use sha2::{Digest, Sha256};

/// The manifest of `spec`'s stage, folded.
pub(crate) async fn manifest_state(spec: &Spec) -> ManifestState {
    let stage = Stage::open(&spec.stage.url).unwrap();
    Manifest::open(stage, "check")
        .await
        .unwrap()
        .state()
        .clone()
}

/// sha256 of every file on the stage but the manifest, by path.
pub(crate) async fn stage_files(spec: &Spec) -> BTreeMap<String, String> {
    let stage = Stage::open(&spec.stage.url).unwrap();
    let mut out = BTreeMap::new();
    for object in stage.list("").await.unwrap() {
        if object.path.starts_with("_manifest") {
            continue;
        }
        let body = stage.get(&object.path).await.unwrap().unwrap();
        out.insert(object.path, hex::encode(Sha256::digest(&body)));
    }
    out
}
