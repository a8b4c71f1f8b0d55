//! A stage that refuses writes, or fills up half-way through a part: the extract fails with
//! `Error::Stage` naming the file, the batch is never staged (and is recorded failed when the
//! manifest can still be written), the marks do not move, and the files staged before are
//! byte-identical. The faults come from [`FaultyStore`], an object_store wrapper.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use futures::stream::BoxStream;
use intacct_snowflake::intacct::client::IntacctClient;
use intacct_snowflake::manifest::BatchStatus;
use intacct_snowflake::pipeline::extract::ObjectReport;
use intacct_snowflake::pipeline::{client_config, extract_options, run_extract};
use intacct_snowflake::stage::Stage;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, UploadPart,
};

use super::gateway::{GatewayWorld, OBJECT};
use super::gateway_proxy::{Answer, Rule};
use crate::deletes::manifest_state;

/// Which writes fail.
#[derive(Clone, Copy, Debug)]
pub(crate) enum StoreFault {
    /// Every write to a path containing this text fails: permission denied.
    Refuse(&'static str),
    /// Writes to paths containing this text succeed until this many bytes in all were
    /// written to them; the write that would pass it fails: no space left on device.
    FullAfter(&'static str, u64),
}

/// An object store that passes everything to `inner` but the writes its fault fails.
#[derive(Debug)]
pub(crate) struct FaultyStore {
    inner: Arc<dyn ObjectStore>,
    fault: StoreFault,
    written: Arc<AtomicU64>,
}

impl fmt::Display for FaultyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FaultyStore({})", self.inner)
    }
}

fn refused(location: &Path) -> object_store::Error {
    object_store::Error::Generic {
        store: "FaultyStore",
        source: Box::new(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!("permission denied writing {location}"),
        )),
    }
}

fn full(location: &Path) -> object_store::Error {
    object_store::Error::Generic {
        store: "FaultyStore",
        source: Box::new(std::io::Error::new(
            std::io::ErrorKind::StorageFull,
            format!("no space left on device writing {location}"),
        )),
    }
}

impl FaultyStore {
    pub(crate) fn new(inner: Arc<dyn ObjectStore>, fault: StoreFault) -> FaultyStore {
        FaultyStore {
            inner,
            fault,
            written: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Counts `bytes` written to `location`; the error when the fault fails it.
    fn charge(
        fault: StoreFault,
        written: &AtomicU64,
        location: &Path,
        bytes: u64,
    ) -> object_store::Result<()> {
        match fault {
            StoreFault::Refuse(part) if location.as_ref().contains(part) => Err(refused(location)),
            StoreFault::FullAfter(part, limit) if location.as_ref().contains(part) => {
                let before = written.fetch_add(bytes, Ordering::SeqCst);
                if before + bytes > limit {
                    // Only what was accepted counts.
                    written.fetch_sub(bytes, Ordering::SeqCst);
                    Err(full(location))
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }
}

struct FaultyUpload {
    inner: Box<dyn MultipartUpload>,
    fault: StoreFault,
    written: Arc<AtomicU64>,
    location: Path,
}

impl fmt::Debug for FaultyUpload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FaultyUpload({})", self.location)
    }
}

#[async_trait]
impl MultipartUpload for FaultyUpload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        match FaultyStore::charge(
            self.fault,
            &self.written,
            &self.location,
            data.content_length() as u64,
        ) {
            Ok(()) => self.inner.put_part(data),
            Err(e) => Box::pin(async move { Err(e) }),
        }
    }

    async fn complete(&mut self) -> object_store::Result<PutResult> {
        self.inner.complete().await
    }

    async fn abort(&mut self) -> object_store::Result<()> {
        self.inner.abort().await
    }
}

#[async_trait]
impl ObjectStore for FaultyStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        Self::charge(
            self.fault,
            &self.written,
            location,
            payload.content_length() as u64,
        )?;
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        if let StoreFault::Refuse(part) = self.fault
            && location.as_ref().contains(part)
        {
            return Err(refused(location));
        }
        let inner = self.inner.put_multipart_opts(location, opts).await?;
        Ok(Box::new(FaultyUpload {
            inner,
            fault: self.fault,
            written: self.written.clone(),
            location: location.clone(),
        }))
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        Self::charge(self.fault, &self.written, to, 0)?;
        self.inner.copy_opts(from, to, options).await
    }
}

/// The world's stage behind a [`FaultyStore`], and the count of bytes it accepted on the
/// fault's paths.
fn faulty_stage(world: &GatewayWorld, fault: StoreFault) -> (Stage, Arc<AtomicU64>) {
    let base = Stage::open(&world.spec.stage.url).unwrap();
    let prefix = world
        .stage_dir()
        .display()
        .to_string()
        .trim_start_matches('/')
        .to_owned();
    let store = FaultyStore::new(base.store().clone(), fault);
    let accepted = store.written.clone();
    (
        Stage::from_store(Arc::new(store), &prefix, base.url()),
        accepted,
    )
}

/// Extracts CLASS up to now onto `stage` while `rules` answer; its report.
async fn extract_onto(world: &GatewayWorld, stage: &Stage, rules: Vec<Rule>) -> ObjectReport {
    world.gateway.set_rules(rules);
    let options = extract_options(&world.spec, &[OBJECT.to_owned()], world.now, false).unwrap();
    let client = IntacctClient::new(client_config(&world.spec)).unwrap();
    run_extract(&client, stage, "bad-input", &options)
        .await
        .unwrap()
        .remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stage_that_refuses_every_write_fails_before_anything_is_staged() {
    let world = GatewayWorld::start().await;
    let (stage, _) = faulty_stage(&world, StoreFault::Refuse(""));
    let report = extract_onto(&world, &stage, Vec::new()).await;
    let error = report.error.as_deref().expect("the extract failed");
    assert!(error.starts_with("stage "), "{error}");
    assert!(error.contains("permission denied writing"), "{error}");
    // The first write of an extract is the object's schema.
    assert!(
        error.contains(&format!("_schemas/{OBJECT}/")),
        "names the file: {error}"
    );
    world.assert_nothing_moved().await;
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stage_that_refuses_parts_fails_the_batch_naming_the_part() {
    let world = GatewayWorld::start().await;
    let (stage, _) = faulty_stage(&world, StoreFault::Refuse("part-"));
    let report = extract_onto(&world, &stage, Vec::new()).await;
    let error = report.error.as_deref().expect("the extract failed");
    assert!(error.starts_with("stage "), "{error}");
    assert!(
        error.contains(&format!("{OBJECT}/{}/part-00001.parquet", report.batch_id)),
        "names the part: {error}"
    );
    assert!(error.contains("permission denied"), "{error}");
    let state = manifest_state(&world.spec).await;
    assert_eq!(state.batches[&report.batch_id].status, BatchStatus::Failed);
    world.assert_nothing_moved().await;
    world.shutdown().await;
}

/// A part larger than the upload buffer goes up in several pieces; the store fills after the
/// first. The part never appears, the batch is failed, nothing moved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stage_that_fills_up_half_way_through_a_part() {
    let world = GatewayWorld::start().await;
    // 24 MiB of text that zstd cannot shrink much, in one record: a part of well over the
    // 10 MiB upload buffer.
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let noise: String = (0..24 * 1024 * 1024)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            char::from(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                    [(seed % 62) as usize],
            )
        })
        .collect();
    let page = String::from_utf8(super::corpus("gateway/good-page.xml"))
        .unwrap()
        .replace(
            "<DESCRIPTION>Monthly service for 41 janitorial supplies for Atlanta DC</DESCRIPTION>",
            &format!("<DESCRIPTION>{noise}</DESCRIPTION>"),
        );
    let (stage, accepted) = faulty_stage(&world, StoreFault::FullAfter("part-", 12 * 1024 * 1024));
    let report = extract_onto(
        &world,
        &stage,
        vec![Rule::created_pass(OBJECT, Answer::Body(page.into_bytes()))],
    )
    .await;
    let error = report.error.as_deref().expect("the extract failed");
    let part = format!("{OBJECT}/{}/part-00001.parquet", report.batch_id);
    assert!(error.starts_with("stage "), "{error}");
    assert!(error.contains(&part), "names the part: {error}");
    assert!(error.contains("no space left on device"), "{error}");
    // Half-way: the store took the first pieces of the part before it filled.
    let accepted = accepted.load(Ordering::SeqCst);
    assert!(accepted >= 5 * 1024 * 1024, "{accepted} bytes accepted");
    let state = manifest_state(&world.spec).await;
    assert_eq!(state.batches[&report.batch_id].status, BatchStatus::Failed);
    let plain = Stage::open(&world.spec.stage.url).unwrap();
    assert_eq!(
        plain.get(&part).await.unwrap(),
        None,
        "a half part is visible"
    );
    world.assert_nothing_moved().await;
    world.shutdown().await;
}
