//! Reading staged Parquet back: with the crate's own arrow reader, and with the pinned
//! pyarrow, an independent reader.

use arrow::record_batch::RecordBatch;
use intacct_snowflake::config::Spec;
use intacct_snowflake::manifest::BatchState;
use intacct_snowflake::stage::Stage;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::{pytools_python, repo_root};

/// Every record batch of a staged batch's Parquet parts.
pub(crate) async fn batch_rows(spec: &Spec, batch: &BatchState) -> Vec<RecordBatch> {
    let stage = Stage::open(&spec.stage.url).unwrap();
    let mut out = Vec::new();
    for file in &batch.files {
        let body = stage.get(&file.path).await.unwrap().expect("part exists");
        for b in ParquetRecordBatchReaderBuilder::try_new(body)
            .unwrap()
            .build()
            .unwrap()
        {
            out.push(b.unwrap());
        }
    }
    out
}

/// One Parquet file as the pinned pyarrow reads it (`scripts/pytools/read_parquet.py`): its
/// JSON (rows, `num_rows`, `compression`…) and its schema as (column, Arrow type) pairs.
pub(crate) struct PyarrowFile {
    pub(crate) json: serde_json::Value,
    pub(crate) schema: Vec<(String, String)>,
}

/// Reads `paths` with the pinned pyarrow.
pub(crate) fn read_with_pyarrow(paths: &[String]) -> Vec<PyarrowFile> {
    let output = std::process::Command::new(pytools_python())
        .arg(repo_root().join("scripts/pytools/read_parquet.py"))
        .args(paths)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let files: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    files
        .into_iter()
        .map(|json| {
            let schema = json["schema"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    (
                        f["name"].as_str().unwrap().to_owned(),
                        f["type"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            PyarrowFile { json, schema }
        })
        .collect()
}
