//! An object store that fails chosen writes: every write to some paths (permission denied),
//! or the write that would pass a byte budget on some paths (no space left on device) — in a
//! single put or half-way through a multipart upload; or a write that lands and is then
//! reported as "already exists", as object_store reports a conditional `PUT` whose first
//! attempt landed but was answered with a 5xx, so that its retry met 412. Everything else
//! goes to the store it wraps.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, UploadPart,
};

/// Which writes fail.
#[derive(Clone, Copy, Debug)]
pub(crate) enum StoreFault {
    /// Every write to a path containing this text fails: permission denied.
    Refuse(&'static str),
    /// Writes to paths containing this text succeed until this many bytes in all were
    /// written to them; the write that would pass it fails: no space left on device.
    FullAfter(&'static str, u64),
    /// Every create-once write to a path containing this text lands, and is then reported
    /// as `AlreadyExists` (the retry of a 5xx answered 412).
    LandsThenAlreadyExists(&'static str),
}

/// An object store that passes everything to `inner` but the writes its fault fails.
#[derive(Debug)]
pub(crate) struct FaultyStore {
    inner: Arc<dyn ObjectStore>,
    fault: StoreFault,
    /// Bytes accepted on the fault's paths.
    pub(crate) written: Arc<AtomicU64>,
    /// Writes that landed and were reported as already there.
    pub(crate) landed_then_refused: Arc<AtomicU64>,
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
            landed_then_refused: Arc::new(AtomicU64::new(0)),
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
        let create = matches!(opts.mode, object_store::PutMode::Create);
        let landed = self.inner.put_opts(location, payload, opts).await?;
        match self.fault {
            StoreFault::LandsThenAlreadyExists(part)
                if create && location.as_ref().contains(part) =>
            {
                self.landed_then_refused.fetch_add(1, Ordering::SeqCst);
                Err(object_store::Error::AlreadyExists {
                    path: location.to_string(),
                    source: "precondition failed: the retry of a PUT answered 503 met the object its first attempt wrote".into(),
                })
            }
            _ => Ok(landed),
        }
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
