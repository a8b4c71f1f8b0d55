//! The Parquet part writer: record batches of one batch id into `part-NNNNN.parquet` files.
//!
//! Parts land at `<object>/<batch_id>/part-00001-<attempt>.parquet`,
//! `part-00002-<attempt>.parquet`, … (zstd,
//! statistics on, dictionaries for text columns only, row groups of
//! [`StageOptions::row_group_rows`]), rolling to a new part when
//! the current one reaches [`StageOptions::part_max_rows`] rows or about
//! [`StageOptions::part_max_bytes`] bytes. Each part's sha256 and size are computed from the
//! bytes as they are uploaded, so no part is read back. Optional raw response pages go to
//! `<object>/<batch_id>/raw/page-00001.xml.zst` (the object's own pages) and
//! `<object>/<batch_id>/raw/deletes-page-00001.xml.zst` (its delete feed's AUDITHISTORY
//! pages), each kind numbered from 1, and quarantined rows to
//! `<object>/<batch_id>/quarantine-00001.jsonl`.
//!
//! `<attempt>` is a random id drawn by each [`PartWriter`]: a run that resumes a batch, or
//! a stalled run and the run that took its lock over, never write a part of the same name.
//!
//! Invariants: memory is bounded by one row group being encoded plus the upload buffer, not by
//! the batch size; a part is created once: one smaller than the upload buffer is written with
//! [`Stage::put_create`], a larger one is a multipart upload that, on a local directory or in
//! memory, goes to `<part>.upload` and is renamed to its name create-once, and on S3 is
//! completed under its attempt-unique name (see the stage's module docs); a part that would
//! replace a file fails the batch. [`PartWriter::finish`] returns only after every part is
//! complete on the store, so a caller that commits the returned list after it names only
//! files that are all present, with the size and sha256 of the bytes uploaded.
//!
//! A test hook, in debug builds only: `INTACCT_SNOWFLAKE_TEST_DISK_FULL_AFTER_BYTES=<n>` makes
//! the part writes of a local stage fail like a full disk (`ENOSPC`) once this process has
//! written `n` bytes of parts, half-way through a part when `n` falls inside one.

use arrow::datatypes::{DataType, SchemaRef};
use arrow::record_batch::RecordBatch;
use bytes::Bytes;
use futures::FutureExt;
use futures::future::BoxFuture;
use object_store::path::Path;
use object_store::{ObjectStoreExt, WriteMultipart};
use parquet::arrow::AsyncArrowWriter;
use parquet::arrow::async_writer::AsyncFileWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use sha2::{Digest, Sha256};

use super::{CreateOutcome, OnStage, Stage};
use crate::error::{Error, Result, StageFailure};
use crate::schema::QuarantinedRow;

/// How parts are cut and what is kept beside them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageOptions {
    /// Roll to a new part after this many rows.
    pub part_max_rows: u64,
    /// Roll to a new part once a part reaches about this many bytes.
    pub part_max_bytes: u64,
    /// Rows per Parquet row group.
    pub row_group_rows: usize,
    /// Keep the raw response pages, zstd-compressed, beside the parts.
    pub keep_raw_pages: bool,
    /// zstd level of the Parquet pages.
    pub zstd_level: i32,
}

impl Default for StageOptions {
    /// Parts of at most 1M rows or 128 MiB (Snowflake loads files of 100–250 MB compressed
    /// best) and row groups of 128Ki rows.
    fn default() -> Self {
        StageOptions {
            part_max_rows: 1_000_000,
            part_max_bytes: 128 * 1024 * 1024,
            row_group_rows: 128 * 1024,
            keep_raw_pages: false,
            zstd_level: 3,
        }
    }
}

/// One file of a staged batch, as the manifest lists it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StagedFile {
    /// Path relative to the stage root.
    pub path: String,
    /// Rows (Parquet parts) or lines (quarantine files); 0 for raw pages.
    pub rows: u64,
    /// Size in bytes.
    pub bytes: u64,
    /// sha256 of the content, hex.
    pub sha256: String,
}

/// Everything a finished batch left on the stage.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StagedBatch {
    /// The Parquet parts, in order.
    pub parts: Vec<StagedFile>,
    /// Raw pages, in order (empty unless kept).
    pub raw_pages: Vec<StagedFile>,
    /// Quarantine files (empty unless rows were set aside).
    pub quarantine: Vec<StagedFile>,
}

impl StagedBatch {
    /// Rows in all parts.
    pub fn rows(&self) -> u64 {
        self.parts.iter().map(|f| f.rows).sum()
    }

    /// Bytes of all parts.
    pub fn bytes(&self) -> u64 {
        self.parts.iter().map(|f| f.bytes).sum()
    }
}

/// Streams record batches into rolling Parquet parts.
pub struct PartWriter {
    stage: Stage,
    dir: String,
    schema: SchemaRef,
    options: StageOptions,
    current: Option<OpenPart>,
    staged: StagedBatch,
    /// Raw pages written so far, by file-name prefix (`page`, `deletes-page`).
    raw_counts: std::collections::BTreeMap<&'static str, usize>,
    /// The number of the next Parquet part.
    next_part: usize,
    /// The number of the next quarantine file.
    next_quarantine: usize,
    /// This writer's random id, in the name of every part it writes.
    attempt: String,
}

/// The highest `N` among names `<prefix>N.<ext>` or `<prefix>N-<attempt>.<ext>` (0 when
/// there is none).
fn highest_number(names: &[String], prefix: &str) -> usize {
    names
        .iter()
        .filter_map(|n| {
            n.strip_prefix(prefix)?
                .split(['.', '-'])
                .next()?
                .parse::<usize>()
                .ok()
        })
        .max()
        .unwrap_or(0)
}

/// The file-name prefix of an object's own raw pages.
pub(crate) const RAW_PAGE_PREFIX: &str = "page";
/// The file-name prefix of the raw AUDITHISTORY pages of an object's delete feed.
pub(crate) const RAW_DELETES_PAGE_PREFIX: &str = "deletes-page";

struct OpenPart {
    writer: AsyncArrowWriter<PartSink>,
    path: String,
    rows: u64,
}

impl std::fmt::Debug for PartWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartWriter")
            .field("dir", &self.dir)
            .field("staged", &self.staged)
            .finish_non_exhaustive()
    }
}

impl PartWriter {
    /// A writer for `<object>/<batch_id>/` on `stage`.
    pub fn new(
        stage: Stage,
        object: &str,
        batch_id: &str,
        schema: SchemaRef,
        options: StageOptions,
    ) -> PartWriter {
        PartWriter {
            stage,
            dir: batch_dir(object, batch_id),
            schema,
            options,
            current: None,
            staged: StagedBatch::default(),
            raw_counts: std::collections::BTreeMap::new(),
            next_part: 1,
            next_quarantine: 1,
            attempt: uuid::Uuid::new_v4().simple().to_string()[..12].to_owned(),
        }
    }

    /// A writer that goes on with a batch an interrupted extract left part-written: `done`
    /// are the files its progress recorded; new parts are numbered after every part already
    /// on the stage in the batch's directory (an interrupted run may have completed one more
    /// than it recorded; that one is never listed, so never loaded), under this writer's own
    /// attempt id.
    pub async fn resume(
        stage: Stage,
        object: &str,
        batch_id: &str,
        schema: SchemaRef,
        options: StageOptions,
        done: StagedBatch,
    ) -> Result<PartWriter> {
        let mut writer = PartWriter::new(stage, object, batch_id, schema, options);
        let parts = writer.file_names(&writer.dir).await?;
        writer.next_part = highest_number(&parts, "part-").max(done.parts.len()) + 1;
        let raw = writer.file_names(&format!("{}/raw", writer.dir)).await?;
        for prefix in [RAW_PAGE_PREFIX, RAW_DELETES_PAGE_PREFIX] {
            let dash = format!("{prefix}-");
            let recorded = done
                .raw_pages
                .iter()
                .filter(|f| {
                    f.path
                        .rsplit('/')
                        .next()
                        .is_some_and(|n| n.starts_with(&dash))
                })
                .count();
            writer
                .raw_counts
                .insert(prefix, recorded.max(highest_number(&raw, &dash)));
        }
        writer.next_quarantine =
            highest_number(&parts, "quarantine-").max(done.quarantine.len()) + 1;
        writer.staged = done;
        Ok(writer)
    }

    async fn file_names(&self, dir: &str) -> Result<Vec<String>> {
        Ok(self
            .stage
            .list(dir)
            .await?
            .into_iter()
            .filter_map(|o| o.path.rsplit('/').next().map(str::to_owned))
            .collect())
    }

    /// Completes the open part, so every row written so far is in a complete file, and
    /// returns the files: what a progress commit records.
    pub async fn checkpoint(&mut self) -> Result<&StagedBatch> {
        self.close_part().await?;
        Ok(&self.staged)
    }

    /// What has been completed so far.
    pub fn staged(&self) -> &StagedBatch {
        &self.staged
    }

    /// Appends rows, rolling parts as needed.
    pub async fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let mut offset = 0;
        while offset < batch.num_rows() {
            if self.current.is_none() {
                self.current = Some(self.open_part().await?);
            }
            let part = self.current.as_mut().expect("opened above");
            let room = (self.options.part_max_rows.saturating_sub(part.rows)).max(1) as usize;
            let take = room.min(batch.num_rows() - offset);
            let slice = batch.slice(offset, take);
            part.writer
                .write(&slice)
                .await
                .on_stage(&self.stage, &part.path)?;
            part.rows += take as u64;
            offset += take;
            let approx_bytes =
                (part.writer.bytes_written() + part.writer.in_progress_size()) as u64;
            if part.rows >= self.options.part_max_rows
                || approx_bytes >= self.options.part_max_bytes
            {
                self.close_part().await?;
            }
        }
        Ok(())
    }

    /// Keeps one raw response page of the object (zstd), when the options say so.
    pub async fn write_raw_page(&mut self, xml: &[u8]) -> Result<()> {
        self.write_raw(RAW_PAGE_PREFIX, xml).await
    }

    /// Keeps one raw AUDITHISTORY page of the object's delete feed (zstd), when the options
    /// say so; named apart from the object's own pages.
    pub async fn write_raw_deletes_page(&mut self, xml: &[u8]) -> Result<()> {
        self.write_raw(RAW_DELETES_PAGE_PREFIX, xml).await
    }

    async fn write_raw(&mut self, prefix: &'static str, xml: &[u8]) -> Result<()> {
        if !self.options.keep_raw_pages {
            return Ok(());
        }
        let compressed =
            zstd::bulk::compress(xml, self.options.zstd_level).map_err(|source| Error::Io {
                path: "zstd".into(),
                source,
            })?;
        let number = self.raw_counts.get(prefix).copied().unwrap_or(0) + 1;
        let path = format!("{}/raw/{prefix}-{number:05}.xml.zst", self.dir);
        let file = self.create_small(&path, Bytes::from(compressed), 0).await?;
        self.raw_counts.insert(prefix, number);
        self.staged.raw_pages.push(file);
        Ok(())
    }

    /// Writes rows set aside by the schema as one JSON-lines quarantine file.
    pub async fn write_quarantine(&mut self, rows: &[QuarantinedRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut body = Vec::new();
        for row in rows {
            serde_json::to_writer(&mut body, row).expect("plain struct serialises");
            body.push(b'\n');
        }
        let path = format!("{}/quarantine-{:05}.jsonl", self.dir, self.next_quarantine);
        let file = self
            .create_small(&path, Bytes::from(body), rows.len() as u64)
            .await?;
        self.next_quarantine += 1;
        self.staged.quarantine.push(file);
        Ok(())
    }

    /// Completes the open part and returns every file written.
    pub async fn finish(mut self) -> Result<StagedBatch> {
        self.close_part().await?;
        Ok(self.staged)
    }

    async fn open_part(&mut self) -> Result<OpenPart> {
        let path = format!(
            "{}/part-{:05}-{}.parquet",
            self.dir, self.next_part, self.attempt
        );
        if self.stage.size(&path).await?.is_some() {
            return Err(already_exists(&self.stage, &path));
        }
        let level = ZstdLevel::try_new(self.options.zstd_level).on_stage(&self.stage, &path)?;
        let mut props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(level))
            .set_statistics_enabled(EnabledStatistics::Page)
            .set_max_row_group_row_count(Some(self.options.row_group_rows))
            .set_created_by(format!("intacct-snowflake {}", env!("CARGO_PKG_VERSION")));
        for field in self.schema.fields() {
            if !dictionary_pays(field.data_type()) {
                props = props
                    .set_column_dictionary_enabled(ColumnPath::from(field.name().as_str()), false);
            }
        }
        let props = props.build();
        let writer = AsyncArrowWriter::try_new(
            PartSink::new(self.stage.clone(), &path),
            self.schema.clone(),
            Some(props),
        )
        .on_stage(&self.stage, &path)?;
        Ok(OpenPart {
            writer,
            path,
            rows: 0,
        })
    }

    async fn close_part(&mut self) -> Result<()> {
        let Some(mut part) = self.current.take() else {
            return Ok(());
        };
        part.writer
            .finish()
            .await
            .on_stage(&self.stage, &part.path)?;
        let sink = part.writer.into_inner();
        let (bytes, sha256) = sink.publish().await?;
        self.next_part += 1;
        self.staged.parts.push(StagedFile {
            path: part.path,
            rows: part.rows,
            bytes,
            sha256,
        });
        Ok(())
    }

    async fn create_small(&self, path: &str, body: Bytes, rows: u64) -> Result<StagedFile> {
        let file = StagedFile {
            path: path.to_owned(),
            rows,
            bytes: body.len() as u64,
            sha256: hex::encode(Sha256::digest(&body)),
        };
        match self.stage.put_create(path, body).await? {
            CreateOutcome::Created => Ok(file),
            CreateOutcome::AlreadyExists => Err(already_exists(&self.stage, path)),
        }
    }
}

/// `<object>/<batch_id>`: where a batch's files live.
pub(crate) fn batch_dir(object: &str, batch_id: &str) -> String {
    format!("{object}/{batch_id}")
}

/// Bytes of a part held in memory before it becomes a multipart upload (object_store's
/// `BufWriter` default): a smaller part is one create-once `PUT`.
const UPLOAD_BUFFER_BYTES: usize = 10 * 1024 * 1024;
/// Size of each piece of a multipart upload (S3's minimum is 5 MiB).
const UPLOAD_PIECE_BYTES: usize = 5 * 1024 * 1024;
/// Pieces of one part in flight at once.
const UPLOAD_PIECES_IN_FLIGHT: usize = 8;

/// Where a part's bytes go, hashed and counted on the way: held in memory up to
/// [`UPLOAD_BUFFER_BYTES`], then streamed as a multipart upload. [`PartSink::publish`] makes
/// the part visible under its name, create-once.
struct PartSink {
    stage: Stage,
    /// The part, relative to the stage.
    relative: String,
    /// Bytes held until the buffer fills (or the part ends).
    held: Vec<Bytes>,
    held_bytes: usize,
    /// The multipart upload, once the buffer filled, and where it goes.
    upload: Option<(WriteMultipart, Path)>,
    /// Where the completed upload's bytes are (before [`PartSink::publish`]).
    uploaded: Option<Path>,
    hasher: Sha256,
    bytes: u64,
}

impl PartSink {
    fn new(stage: Stage, relative: &str) -> PartSink {
        PartSink {
            stage,
            relative: relative.to_owned(),
            held: Vec::new(),
            held_bytes: 0,
            upload: None,
            uploaded: None,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// Where a multipart upload goes: a name beside the part where it can be renamed
    /// create-once, else the part's own (attempt-unique) name.
    fn upload_path(&self) -> Path {
        if self.stage.renames_uploads() {
            self.stage.path(&format!("{}.upload", self.relative))
        } else {
            self.stage.path(&self.relative)
        }
    }

    async fn write_bytes(&mut self, bs: Bytes) -> object_store::Result<()> {
        #[cfg(debug_assertions)]
        if self.stage.is_local() {
            test_disk::charge(&self.stage.path(&self.relative), bs.len() as u64)?;
        }
        self.hasher.update(&bs);
        self.bytes += bs.len() as u64;
        match &mut self.upload {
            Some((upload, _)) => {
                upload.wait_for_capacity(UPLOAD_PIECES_IN_FLIGHT).await?;
                upload.put(bs);
            }
            None => {
                self.held_bytes += bs.len();
                self.held.push(bs);
                if self.held_bytes >= UPLOAD_BUFFER_BYTES {
                    let path = self.upload_path();
                    let upload = self.stage.store().put_multipart(&path).await?;
                    let mut upload =
                        WriteMultipart::new_with_chunk_size(upload, UPLOAD_PIECE_BYTES);
                    for held in std::mem::take(&mut self.held) {
                        upload.put(held);
                    }
                    self.held_bytes = 0;
                    self.upload = Some((upload, path));
                }
            }
        }
        Ok(())
    }

    /// Completes a multipart upload (the part is not visible under its name yet on a local
    /// directory or in memory); a part still held in memory waits for [`PartSink::publish`].
    async fn complete_upload(&mut self) -> object_store::Result<()> {
        if let Some((upload, path)) = self.upload.take() {
            upload.finish().await?;
            self.uploaded = Some(path);
        }
        Ok(())
    }

    /// Makes the part visible under its name, create-once; its size and sha256 (hex).
    async fn publish(self) -> Result<(u64, String)> {
        let sha256 = hex::encode(self.hasher.finalize());
        match self.uploaded {
            None => {
                let body: Vec<u8> = self.held.iter().flat_map(|b| b.iter().copied()).collect();
                match self
                    .stage
                    .put_create(&self.relative, Bytes::from(body))
                    .await?
                {
                    CreateOutcome::Created => {}
                    CreateOutcome::AlreadyExists => {
                        return Err(already_exists(&self.stage, &self.relative));
                    }
                }
            }
            Some(uploaded) if uploaded != self.stage.path(&self.relative) => {
                match self
                    .stage
                    .store()
                    .rename_if_not_exists(&uploaded, &self.stage.path(&self.relative))
                    .await
                {
                    Ok(()) => {}
                    Err(object_store::Error::AlreadyExists { .. }) => {
                        return Err(already_exists(&self.stage, &self.relative));
                    }
                    Err(e) => return Err(self.stage.error(&self.relative, e)),
                }
            }
            Some(_) => {}
        }
        Ok((self.bytes, sha256))
    }
}

fn external(e: object_store::Error) -> parquet::errors::ParquetError {
    parquet::errors::ParquetError::External(Box::new(e))
}

impl AsyncFileWriter for PartSink {
    fn write(&mut self, bs: Bytes) -> BoxFuture<'_, parquet::errors::Result<()>> {
        async move { self.write_bytes(bs).await.map_err(external) }.boxed()
    }

    fn complete(&mut self) -> BoxFuture<'_, parquet::errors::Result<()>> {
        async move { self.complete_upload().await.map_err(external) }.boxed()
    }
}

/// The debug-only disk that fills up: `INTACCT_SNOWFLAKE_TEST_DISK_FULL_AFTER_BYTES`.
#[cfg(debug_assertions)]
mod test_disk {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};

    use object_store::path::Path;

    /// Bytes of parts this process wrote to a local stage.
    static WRITTEN: AtomicU64 = AtomicU64::new(0);

    fn limit() -> Option<u64> {
        static LIMIT: OnceLock<Option<u64>> = OnceLock::new();
        *LIMIT.get_or_init(|| {
            let limit = std::env::var("INTACCT_SNOWFLAKE_TEST_DISK_FULL_AFTER_BYTES")
                .ok()?
                .trim()
                .parse()
                .ok()?;
            tracing::warn!(
                limit,
                "the test hook INTACCT_SNOWFLAKE_TEST_DISK_FULL_AFTER_BYTES is set: part writes to a local stage fail like a full disk past this many bytes"
            );
            Some(limit)
        })
    }

    /// Counts `bytes` about to be written to `location`; a full disk's error once they pass
    /// the limit (and nothing is counted then).
    pub(super) fn charge(location: &Path, bytes: u64) -> object_store::Result<()> {
        let Some(limit) = limit() else {
            return Ok(());
        };
        let before = WRITTEN.fetch_add(bytes, Ordering::SeqCst);
        if before + bytes <= limit {
            return Ok(());
        }
        WRITTEN.fetch_sub(bytes, Ordering::SeqCst);
        Err(object_store::Error::Generic {
            store: "LocalFileSystem",
            source: Box::new(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                format!("No space left on device (os error 28) writing {location}"),
            )),
        })
    }
}

fn already_exists(stage: &Stage, path: &str) -> Error {
    stage.error(path, StageFailure::AlreadyExists)
}

/// Whether a dictionary is worth building for a column of this type. Text (names, ids,
/// states, currencies) repeats and a dictionary shrinks it; for numbers, decimals, dates and
/// timestamps, mostly distinct per row (keys, amounts, instants), building one costs a hash
/// per value and then falls back, while zstd already takes care of the repeats.
fn dictionary_pays(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Boolean
    )
}
