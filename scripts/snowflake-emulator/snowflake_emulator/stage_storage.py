"""Named stages: reading a stage reference as written, and the files behind a stage's URL.

A reference is `@name`, `@schema.name` or `@db.schema.name`, each part plain (upper-cased, as
Snowflake resolves unquoted identifiers) or double-quoted (taken literally, `""` for a quote), and
optionally followed by `/path/` inside the stage. `@"DB"."RAW"."STAGE"/vendor/`, which the loader
sends, is the same stage as `@db.raw.stage/vendor/`. Table stages (`@%t`) and the user stage
(`@~`) are not named stages: fakesnow keeps handling them.

The files behind a stage's URL come from one of two stores:

* `file:///dir/`: the local directory (tests, the demo). A file's signature is its size and MD5,
  its LAST_MODIFIED the file's modification time.
* `s3://bucket/prefix/`: an S3-compatible endpoint given with `--s3-endpoint` (moto's server in
  tests), with credentials from the usual AWS environment variables (AWS_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION; region us-east-1 when none), path-style
  addressing. A file's signature is the object's ETag, its LAST_MODIFIED the object's, as
  Snowflake's load metadata keeps them ("Loading older files", docs.snowflake.com/en/user-guide/
  data-load-considerations-load). Without `--s3-endpoint`, anything that must read an S3 stage
  fails with an error saying so: the emulator never talks to real AWS.

`LIST @stage[/path] [PATTERN = '...']` answers Snowflake's columns `name` (the file's full URL, as
for external stages), `size`, `md5` (the ETag for S3, the MD5 for local files) and
`last_modified` (`Tue, 5 Dec 2026 20:43:38 GMT`).

PATTERN: Snowflake applies a bulk load's (and LIST's) regular expression to the whole storage
location, not to the path after the stage URL (the same docs page, "Pattern matching": Snowpipe
trims the stage's path, bulk loads do not). The emulator matches the whole pattern against the
object key within the bucket (S3) or the absolute path without its leading `/` (local), so a
pattern written for the part after the stage URL only matches when it starts with `.*`, as in
Snowflake.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

from snowflake_emulator.identifiers import split_name
from snowflake_emulator.sql_errors import (
    NO_CURRENT_DATABASE,
    NO_CURRENT_SCHEMA,
    REMOTE_FILE_NOT_FOUND,
    UNSUPPORTED_FEATURE,
    StatementError,
)

CHUNK_BYTES = 1 << 20
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class StageReference:
    """`@a.b.c/path` as written: its name parts (normalised) and the path after the name."""

    parts: tuple[str, ...]
    path: str


@dataclass(frozen=True)
class StageName:
    database: str
    schema: str
    name: str

    def qualified(self) -> str:
        return f"{self.database}.{self.schema}.{self.name}"


def parse_stage_reference(text: str) -> StageReference | None:
    """The named stage a `@...` reference names; None for table and user stages or non-stages."""
    if not text.startswith("@") or text.startswith(("@%", "@~")):
        return None
    split = split_name(text[1:])
    if split is None:
        return None
    parts, rest = split
    if rest and not rest.startswith("/"):
        return None
    return StageReference(tuple(parts), rest.lstrip("/"))


def resolve_stage_name(
    reference: StageReference, current_database: str | None, current_schema: str | None, command: str = "COPY"
) -> StageName:
    parts = list(reference.parts)
    if len(parts) == 1:
        if not current_schema:
            raise _no_namespace(command, "schema")
        parts = [current_database or "", current_schema, *parts]
    elif len(parts) == 2:
        parts = [current_database or "", *parts]
    if len(parts) != 3:
        raise StatementError("001003", "42000", f"SQL compilation error:\ninvalid stage name '{'.'.join(parts)}'")
    if not parts[0]:
        raise _no_namespace(command, "database")
    return StageName(*parts)


def _no_namespace(command: str, what: str) -> StatementError:
    return StatementError(
        *(NO_CURRENT_DATABASE if what == "database" else NO_CURRENT_SCHEMA),
        f"Cannot perform {command}. This session does not have a current {what}. "
        f"Call 'USE {what.upper()}', or use a qualified name.",
    )


@dataclass
class StagedFile:
    """One file under a stage URL."""

    relative: str  # path after the stage URL
    size: int
    last_modified: float  # epoch seconds
    signature: str  # what load metadata compares: ETag (S3) or size:MD5 (local)
    md5: str  # what LIST shows


class S3Settings:
    """How to reach the S3-compatible endpoint (`--s3-endpoint`); clients made on first use."""

    def __init__(self, endpoint: str | None) -> None:
        self.endpoint = endpoint
        self._client: Any = None

    def client(self) -> Any:  # noqa: ANN401 - a boto3 S3 client
        if self.endpoint is None:
            raise StatementError(
                *UNSUPPORTED_FEATURE,
                "The local emulator reads s3:// stages only from an S3-compatible endpoint given with --s3-endpoint.",
            )
        if self._client is None:
            import boto3  # imported here: slow, and only S3 stages need it
            from botocore.config import Config

            self._client = boto3.client(
                "s3",
                endpoint_url=self.endpoint,
                region_name=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
                config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}),
            )
        return self._client


class StageStorage(Protocol):
    url: str  # the stage URL, ending with "/"

    def list(self, prefix: str) -> list[StagedFile]: ...

    def stat(self, relative: str) -> StagedFile | None: ...

    def copy_to(self, relative: str, destination: Path) -> None: ...

    def local_path(self, relative: str) -> Path | None: ...

    def pattern_subject(self, relative: str) -> str: ...


def open_storage(url: str, s3: S3Settings) -> StageStorage | None:
    """The store behind a stage URL; None for URLs the emulator leaves to fakesnow (internal stages)."""
    scheme = urlparse(url).scheme.lower()
    if scheme == "file":
        return LocalStorage(url)
    if scheme == "s3":
        return S3Storage(url, s3)
    return None


def file_url(storage: StageStorage, relative: str) -> str:
    return storage.url + relative


def missing_file_error(url: str) -> StatementError:
    return StatementError(
        *REMOTE_FILE_NOT_FOUND,
        f"Remote file '{url}' was not found. If you are running a copy "
        "command, please make sure files are not deleted when they are being loaded or files "
        "are not being loaded into two different tables concurrently with auto purge option.",
    )


@dataclass
class LocalStorage:
    url: str
    root: Path = field(init=False)

    def __post_init__(self) -> None:
        self.root = Path(unquote(urlparse(self.url).path))
        self.url = self.root.as_uri().rstrip("/") + "/"

    def list(self, prefix: str) -> list[StagedFile]:
        found: list[StagedFile] = []
        if not self.root.is_dir():
            return found
        for directory, _dirs, names in os.walk(self.root):
            for name in names:
                relative = (Path(directory) / name).relative_to(self.root).as_posix()
                if relative.startswith(prefix) and (staged := self.stat(relative)):
                    found.append(staged)
        return sorted(found, key=lambda staged: staged.relative)

    def stat(self, relative: str) -> StagedFile | None:
        path = self.root / relative
        try:
            info = path.stat()
        except OSError:
            return None
        if not path.is_file():
            return None
        md5 = _md5(path)
        return StagedFile(relative, info.st_size, info.st_mtime, f"{info.st_size}:{md5}", md5)

    def copy_to(self, relative: str, destination: Path) -> None:
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.root / relative, destination)

    def local_path(self, relative: str) -> Path | None:
        return self.root / relative

    def pattern_subject(self, relative: str) -> str:
        return (self.root / relative).as_posix().lstrip("/")


@dataclass
class S3Storage:
    url: str
    s3: S3Settings
    bucket: str = field(init=False)
    prefix: str = field(init=False)

    def __post_init__(self) -> None:
        parsed = urlparse(self.url)
        self.bucket = parsed.netloc
        self.prefix = parsed.path.lstrip("/")
        if self.prefix and not self.prefix.endswith("/"):
            self.prefix += "/"
        self.url = f"s3://{self.bucket}/{self.prefix}"

    def list(self, prefix: str) -> list[StagedFile]:
        client = self.s3.client()
        found: list[StagedFile] = []
        try:
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                for item in page.get("Contents", []):
                    key = item["Key"]
                    if key.endswith("/"):
                        continue  # a "folder" marker, not a file
                    found.append(_s3_file(key[len(self.prefix) :], item["Size"], item["LastModified"], item["ETag"]))
        except Exception as error:  # noqa: BLE001 - any S3 failure is the statement's failure
            raise _s3_error(self.url, error) from error
        return sorted(found, key=lambda staged: staged.relative)

    def stat(self, relative: str) -> StagedFile | None:
        client = self.s3.client()
        try:
            head = client.head_object(Bucket=self.bucket, Key=self.prefix + relative)
        except Exception as error:  # noqa: BLE001
            if _is_not_found(error):
                return None
            raise _s3_error(self.url, error) from error
        return _s3_file(relative, head["ContentLength"], head["LastModified"], head["ETag"])

    def copy_to(self, relative: str, destination: Path) -> None:
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.s3.client().download_file(self.bucket, self.prefix + relative, str(destination))
        except Exception as error:  # noqa: BLE001
            if _is_not_found(error):
                raise missing_file_error(self.url + relative) from error
            raise _s3_error(self.url, error) from error

    def local_path(self, relative: str) -> Path | None:
        return None

    def pattern_subject(self, relative: str) -> str:
        return self.prefix + relative


def _s3_file(relative: str, size: int, last_modified: Any, etag: str) -> StagedFile:  # noqa: ANN401
    tag = etag.strip('"')
    return StagedFile(relative, int(size), last_modified.timestamp(), tag, tag)


def _is_not_found(error: Exception) -> bool:
    response = getattr(error, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    return code in {"404", "NoSuchKey", "NotFound"}


def _s3_error(url: str, error: Exception) -> StatementError:
    # UNVERIFIED code: Snowflake's answer when the cloud store refuses a request varies by cause.
    return StatementError("091003", "22000", f"Failure using stage area. Cause: [{error}] ({url})")


def _md5(path: Path) -> str:
    digest = hashlib.md5()  # noqa: S324 - a content checksum, as Snowflake's load metadata keeps
    with path.open("rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def matches(pattern: re.Pattern[str] | None, storage: StageStorage, staged: StagedFile) -> bool:
    return pattern is None or pattern.fullmatch(storage.pattern_subject(staged.relative)) is not None


def list_rows(
    storage: StageStorage, files: list[StagedFile], to_emulated: Callable[[float], float]
) -> list[list[str | None]]:
    """LIST's rows: name, size, md5, last_modified (on the emulator's clock)."""
    return [
        [
            file_url(storage, staged.relative),
            str(staged.size),
            staged.md5,
            formatdate(to_emulated(staged.last_modified), usegmt=True),
        ]
        for staged in files
    ]
