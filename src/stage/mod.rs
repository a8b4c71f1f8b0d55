//! Stages: the object store behind a stage URL, and the Parquet part writer.
//!
//! A stage is an [`ObjectStore`] plus a prefix, chosen by URL through object_store's own
//! parsing: `file:///abs/dir` (or a plain path, made absolute and created), `s3://bucket/prefix`
//! and `memory://` (tests). S3 options come from the usual `AWS_*` environment variables
//! (`AWS_REGION`, `AWS_ENDPOINT_URL` or `AWS_ENDPOINT`, `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_ALLOW_HTTP`,
//! `AWS_VIRTUAL_HOSTED_STYLE_REQUEST`, …) or from explicit options, which win.
//!
//! # Written once, and durable before it counts
//!
//! Everything this crate writes to a stage is written once:
//! * small objects (manifest commits, checkpoints, the lock, batch schemas, raw pages,
//!   quarantine files, parts smaller than the upload buffer) go through
//!   [`Stage::put_create`]: `PutMode::Create`, a conditional `PUT` with `If-None-Match: *` on
//!   S3 and a hard link on a local directory;
//! * a Parquet part larger than the upload buffer is a multipart upload. object_store 0.14
//!   sends `If-None-Match` on `CompleteMultipartUpload` only inside its own copy-if-not-exists,
//!   not for the uploads it exposes, so on S3 such a part is completed unconditionally; its
//!   name carries a random id of the writing attempt (see `parts`), which no other writer
//!   uses, so nothing else ever completes an upload to it. On a local directory (and
//!   `memory://`) the upload goes to a temporary name beside it and is then renamed
//!   create-once (`RenameTargetMode::Create`, a hard link), so a part there is created once
//!   as well.
//!
//! On a local directory the store fsyncs a file and its directory before a write returns
//! (object_store 0.14's `LocalFileSystem::with_fsync`: `sync_all` on the file, then the hard
//! link or rename, then an fsync of the parent directory), so a manifest commit counts only
//! once it would survive a power loss; S3 acknowledges a `PUT` only once the object is
//! durable.
//!
//! An "already exists" answer is not always someone else's object: object_store retries a
//! conditional `PUT` answered with a 5xx, and when the first attempt did land, the retry is
//! refused with 412 and reported as "already exists". [`Stage::put_create`] therefore reads
//! the object back: the same bytes are this writer's own write ([`CreateOutcome::Created`]);
//! other bytes are a genuine conflict ([`CreateOutcome::AlreadyExists`]). Every object this
//! crate creates carries something of its writer (a run id, a time, a random id), so two
//! writers never race with the same bytes.
//!
//! Before a batch is copied into Snowflake, every file it names is checked against the size
//! and sha256 recorded when it was written ([`Stage::check_file`]).

pub(crate) mod parts;

pub use parts::{PartWriter, StageOptions, StagedBatch, StagedFile};

use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use sha2::Digest as _;

use crate::error::{Error, FileProblem, Result, StageFailure};

/// An object store and the prefix under which a pipeline keeps its files.
#[derive(Clone, Debug)]
pub struct Stage {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    url: String,
}

/// What [`Stage::put_create`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreateOutcome {
    /// The object was created.
    Created,
    /// An object already existed at that path; nothing was written.
    AlreadyExists,
}

/// One object found by [`Stage::list`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StagedObject {
    /// Path relative to the stage prefix.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
}

impl Stage {
    /// Opens the stage at `url`, with S3 options from the `AWS_*` environment variables.
    pub fn open(url: &str) -> Result<Stage> {
        let env: Vec<(String, String)> = std::env::vars()
            .filter(|(k, _)| k.starts_with("AWS_"))
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .map(|(k, v)| match k.as_str() {
                // object_store's option for the S3 endpoint is `aws_endpoint`.
                "aws_endpoint_url" | "aws_endpoint_url_s3" => ("aws_endpoint".to_owned(), v),
                _ => (k, v),
            })
            .collect();
        Stage::open_with_options(url, env)
    }

    /// Opens the stage at `url` with explicit object_store options (`aws_endpoint`,
    /// `aws_allow_http`, `aws_access_key_id`, …).
    pub fn open_with_options(
        url: &str,
        options: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Stage> {
        let parsed = stage_url(url)?;
        let options: Vec<(String, String)> = options.into_iter().collect();
        if !matches!(parsed.scheme(), "file" | "memory") {
            certificate_checks_kept(&options)?;
        }
        let (store, prefix) =
            object_store::parse_url_opts(&parsed, options).map_err(|e| Error::Stage {
                location: url.to_owned(),
                source: e.into(),
                transient: false,
            })?;
        let store: Arc<dyn ObjectStore> = if parsed.scheme() == "file" {
            // A commit counts only once it survives a power loss: fsync the file and its
            // directory before a write returns (object_store's own parsing leaves it off).
            Arc::new(object_store::local::LocalFileSystem::new().with_fsync(true))
        } else {
            Arc::from(store)
        };
        Ok(Stage {
            store,
            prefix,
            url: redact_url(&parsed),
        })
    }

    /// A stage over an existing store (tests share one in-memory store between opens, or
    /// wrap a store in one that injects faults); `url` says what kind of store it is
    /// (`file://`, `memory://`, `s3://`).
    pub fn from_store(store: Arc<dyn ObjectStore>, prefix: &str, url: &str) -> Stage {
        Stage {
            store,
            prefix: Path::from(prefix),
            url: url.to_owned(),
        }
    }

    /// The stage URL (without credentials), for messages and reports.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The underlying store.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The full object path of a stage-relative path (`a/b/c`).
    pub fn path(&self, relative: &str) -> Path {
        let relative = Path::from(relative);
        let mut parts: Vec<_> = self.prefix.parts().collect();
        parts.extend(relative.parts());
        Path::from_iter(parts)
    }

    /// A path relative to the stage prefix.
    pub fn relative(&self, path: &Path) -> String {
        match path.prefix_match(&self.prefix) {
            Some(parts) => Path::from_iter(parts).to_string(),
            None => path.to_string(),
        }
    }

    /// Whether the stage is a local directory (or a test store standing in for one).
    pub(crate) fn is_local(&self) -> bool {
        self.url.starts_with("file:")
    }

    /// Whether a multipart upload can be published create-once by a rename (a local
    /// directory, memory), rather than completed under its own name (S3).
    pub(crate) fn renames_uploads(&self) -> bool {
        self.url.starts_with("file:") || self.url.starts_with("memory:")
    }

    /// Writes `bytes` at `relative` only if nothing is there yet. An object already there
    /// with exactly these bytes is this writer's own earlier attempt (a retried `PUT` whose
    /// first attempt landed, see the module docs): [`CreateOutcome::Created`].
    pub async fn put_create(&self, relative: &str, bytes: Bytes) -> Result<CreateOutcome> {
        let options = PutOptions {
            mode: PutMode::Create,
            ..PutOptions::default()
        };
        match self
            .store
            .put_opts(
                &self.path(relative),
                PutPayload::from_bytes(bytes.clone()),
                options,
            )
            .await
        {
            Ok(_) => Ok(CreateOutcome::Created),
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => {
                if self
                    .get(relative)
                    .await?
                    .is_some_and(|found| found == bytes)
                {
                    tracing::info!(
                        path = relative,
                        "the stage answered that the object already exists, and it holds the bytes written: an earlier attempt of this write landed"
                    );
                    Ok(CreateOutcome::Created)
                } else {
                    Ok(CreateOutcome::AlreadyExists)
                }
            }
            Err(e) => Err(self.error(relative, e)),
        }
    }

    /// Reads an object; `None` when it does not exist.
    pub async fn get(&self, relative: &str) -> Result<Option<Bytes>> {
        match self.store.get(&self.path(relative)).await {
            Ok(result) => Ok(Some(result.bytes().await.on_stage(self, relative)?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.error(relative, e)),
        }
    }

    /// The size of an object; `None` when it does not exist.
    pub async fn size(&self, relative: &str) -> Result<Option<u64>> {
        match self.store.head(&self.path(relative)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.error(relative, e)),
        }
    }

    /// Checks that the file at `file.path` is the one written: its size, then the sha256 of
    /// its bytes (streamed, so memory stays at one chunk), against what was recorded.
    /// `Ok(None)` when it matches; a failure to read is an error, a difference the
    /// [`FileProblem`].
    pub async fn check_file(&self, file: &StagedFile) -> Result<Option<FileProblem>> {
        let result = match self.store.get(&self.path(&file.path)).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => return Ok(Some(FileProblem::Missing)),
            Err(e) => return Err(self.error(&file.path, e)),
        };
        if result.meta.size != file.bytes {
            return Ok(Some(FileProblem::Size {
                expected: file.bytes,
                found: result.meta.size,
            }));
        }
        let mut hasher = sha2::Sha256::new();
        let mut chunks = result.into_stream();
        while let Some(chunk) = chunks.try_next().await.on_stage(self, &file.path)? {
            hasher.update(&chunk);
        }
        let found = hex::encode(hasher.finalize());
        Ok(
            (!found.eq_ignore_ascii_case(&file.sha256)).then(|| FileProblem::Checksum {
                expected: file.sha256.clone(),
                found,
            }),
        )
    }

    /// Deletes an object (absent is fine).
    pub async fn delete(&self, relative: &str) -> Result<()> {
        match self.store.delete(&self.path(relative)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.error(relative, e)),
        }
    }

    /// Every object under a stage-relative prefix, sorted by path.
    pub async fn list(&self, relative_prefix: &str) -> Result<Vec<StagedObject>> {
        let prefix = self.path(relative_prefix);
        let mut found: Vec<StagedObject> = self
            .store
            .list(Some(&prefix))
            .map_ok(|meta| StagedObject {
                path: self.relative(&meta.location),
                bytes: meta.size,
            })
            .try_collect()
            .await
            .on_stage(self, relative_prefix)?;
        found.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(found)
    }

    /// The error of a failure at `relative`, named by its whole location; a failure of the
    /// store itself is transient unless the store says it is final (not found, refused, …).
    pub(crate) fn error(&self, relative: &str, failure: impl Into<StageFailure>) -> Error {
        let source = failure.into();
        let transient = match &source {
            StageFailure::Store(e) => !matches!(
                e,
                object_store::Error::NotFound { .. }
                    | object_store::Error::AlreadyExists { .. }
                    | object_store::Error::Precondition { .. }
                    | object_store::Error::NotSupported { .. }
                    | object_store::Error::NotImplemented { .. }
                    | object_store::Error::InvalidPath { .. }
                    | object_store::Error::PermissionDenied { .. }
                    | object_store::Error::Unauthenticated { .. }
            ),
            _ => false,
        };
        Error::Stage {
            location: format!("{}/{relative}", self.url),
            source,
            transient,
        }
    }
}

/// Names a stage failure by the file it happened at: `result.on_stage(&stage, path)?`.
pub(crate) trait OnStage<T> {
    /// The value, or [`Stage::error`] at `relative`.
    fn on_stage(self, stage: &Stage, relative: &str) -> Result<T>;
}

impl<T, E: Into<StageFailure>> OnStage<T> for std::result::Result<T, E> {
    fn on_stage(self, stage: &Stage, relative: &str) -> Result<T> {
        self.map_err(|failure| stage.error(relative, failure))
    }
}

/// The URL object_store should see: plain paths become absolute `file://` URLs (and the
/// directory is created).
fn stage_url(url: &str) -> Result<url::Url> {
    let config_error = |message: String| Error::Config {
        location: format!("stage url {url}"),
        message,
    };
    if url.contains("://") || url.starts_with("file:") || url.starts_with("memory:") {
        let parsed = url::Url::parse(url).map_err(|e| config_error(e.to_string()))?;
        if parsed.scheme() == "file" {
            let dir = parsed
                .to_file_path()
                .map_err(|()| config_error("not an absolute local path".into()))?;
            create_dir(&dir)?;
        }
        return Ok(parsed);
    }
    let dir = std::path::absolute(url).map_err(|e| config_error(e.to_string()))?;
    create_dir(&dir)?;
    url::Url::from_directory_path(&dir).map_err(|()| config_error("not a usable local path".into()))
}

/// Refuses object_store's `allow_invalid_certificates` (`AWS_ALLOW_INVALID_CERTIFICATES`, or
/// the option with or without its `aws_` prefix, any case) unless every S3 endpoint given is
/// on loopback: elsewhere anyone on the path could pose as the store and read or replace the
/// stage. A value that is not plainly false counts as set (object_store would refuse it
/// later anyway). Without an endpoint the store is AWS itself, never loopback.
fn certificate_checks_kept(options: &[(String, String)]) -> Result<()> {
    let key_of = |k: &str| {
        let lower = k.to_ascii_lowercase();
        lower.strip_prefix("aws_").unwrap_or(&lower).to_owned()
    };
    let Some((key, value)) = options
        .iter()
        .rev()
        .find(|(k, _)| key_of(k) == "allow_invalid_certificates")
    else {
        return Ok(());
    };
    let value = value.trim().to_ascii_lowercase();
    if matches!(value.as_str(), "" | "0" | "false" | "off" | "no" | "n") {
        return Ok(());
    }
    let endpoints: Vec<&str> = options
        .iter()
        .filter(|(k, _)| {
            matches!(
                key_of(k).as_str(),
                "endpoint" | "endpoint_url" | "endpoint_url_s3"
            )
        })
        .map(|(_, v)| v.as_str())
        .collect();
    let loopback = !endpoints.is_empty()
        && endpoints
            .iter()
            .all(|e| url::Url::parse(e).is_ok_and(|u| crate::endpoint::is_loopback(&u)));
    if loopback {
        return Ok(());
    }
    Err(Error::Config {
        location: key.to_ascii_uppercase(),
        message: format!(
            "skipping TLS certificate checks is allowed only for an S3 endpoint on loopback (127.0.0.0/8, ::1, localhost), the stand-ins; the endpoint here is {}: unset it",
            if endpoints.is_empty() {
                "AWS itself".to_owned()
            } else {
                endpoints
                    .iter()
                    .map(|e| {
                        url::Url::parse(e)
                            .ok()
                            .and_then(|u| u.host_str().map(str::to_owned))
                            .unwrap_or_else(|| "not a URL".to_owned())
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ),
    })
}

fn create_dir(dir: &std::path::Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.display().to_string(),
        source,
    })
}

fn redact_url(url: &url::Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_password(None);
    let _ = shown.set_username("");
    shown.set_query(None);
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(options: &[(&str, &str)]) -> Result<Stage> {
        Stage::open_with_options(
            "s3://bucket/prefix",
            options
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn unchecked_certificates_are_refused_unless_the_s3_endpoint_is_loopback() {
        let base = [("aws_region", "us-east-1"), ("aws_allow_http", "true")];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut all = base.to_vec();
            all.extend_from_slice(extra);
            open(&all)
        };
        for refused in [
            vec![("aws_allow_invalid_certificates", "true")],
            vec![
                ("aws_allow_invalid_certificates", "true"),
                ("aws_endpoint", "https://s3.example.com"),
            ],
            vec![
                ("ALLOW_INVALID_CERTIFICATES", "yes"),
                ("aws_endpoint", "http://10.0.0.5:9000"),
            ],
            vec![
                ("aws_endpoint", "http://127.0.0.1:9000"),
                ("aws_endpoint_url_s3", "https://s3.example.com"),
                ("aws_allow_invalid_certificates", "1"),
            ],
        ] {
            let err = with(&refused).unwrap_err();
            match &err {
                Error::Config { location, message } => {
                    assert!(
                        location.eq_ignore_ascii_case("aws_allow_invalid_certificates")
                            || location.eq_ignore_ascii_case("allow_invalid_certificates"),
                        "{location}"
                    );
                    assert!(message.contains("loopback"), "{message}");
                }
                other => panic!("expected a configuration error, got {other:?}"),
            }
            assert_eq!(err.exit_code(), 2);
        }
        for allowed in [
            vec![
                ("aws_allow_invalid_certificates", "true"),
                ("aws_endpoint", "http://127.0.0.1:9000"),
            ],
            vec![
                ("aws_allow_invalid_certificates", "true"),
                ("aws_endpoint", "https://localhost:9000"),
            ],
            vec![("aws_allow_invalid_certificates", "false")],
            vec![("aws_endpoint", "https://s3.example.com")],
        ] {
            with(&allowed).unwrap();
        }
    }
}
