"""External S3 stages read from an S3-compatible endpoint (moto's server on loopback, started by
the tests): COPY by FILES, PATTERN and path prefix with load metadata keyed by the object's ETag
and aged by its LastModified, the missing-file error, LIST, and a storage integration that must
exist."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import VendorSetup, client_of, extra_emulator, fresh_database, vendor_setup
from key_pairs import KeyPair
from sqlapi_client import SqlApi
from vendor_parts import PART_0, PART_1, write_part

ZERO_FILES = [["Copy executed with 0 files processed."]]
AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing-key", "AWS_SECRET_ACCESS_KEY": "testing-secret", "AWS_REGION": "us-east-1"}


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def s3_api(tmp_path_factory: pytest.TempPathFactory, trusted_key: KeyPair, moto_endpoint: str) -> Iterator[SqlApi]:
    with extra_emulator(
        tmp_path_factory, trusted_key, ["--s3-endpoint", moto_endpoint, "--warehouse", "TEST_WH"], env=AWS_ENV
    ) as running:
        yield client_of(running, trusted_key)


class Bucket:
    """A bucket of its own for one test, written through boto3 as the extractor writes the stage."""

    def __init__(self, endpoint: str, scratch: Path) -> None:
        import boto3

        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"],
            region_name=AWS_ENV["AWS_REGION"],
        )
        self.name = "stage-" + uuid.uuid4().hex[:12]
        self.client.create_bucket(Bucket=self.name)
        self.scratch = scratch

    def url(self, prefix: str = "landing/") -> str:
        return f"s3://{self.name}/{prefix}"

    def put_part(self, key: str, rows: list[tuple], batch_id: str) -> bytes:
        local = write_part(self.scratch / uuid.uuid4().hex / "part.parquet", rows, batch_id)
        body = local.read_bytes()
        self.client.put_object(Bucket=self.name, Key=key, Body=body)
        return body

    def put_batch(self, batch_id: str) -> list[str]:
        self.put_part(f"landing/vendor/{batch_id}/part-00000.parquet", PART_0, batch_id)
        self.put_part(f"landing/vendor/{batch_id}/part-00001.parquet", PART_1, batch_id)
        return [f"{batch_id}/part-00000.parquet", f"{batch_id}/part-00001.parquet"]


@pytest.fixture
def bucket(moto_endpoint: str, tmp_path: Path) -> Bucket:
    return Bucket(moto_endpoint, tmp_path)


@pytest.fixture
def on_s3(s3_api: SqlApi, bucket: Bucket, tmp_path: Path) -> VendorSetup:
    return vendor_setup(fresh_database(s3_api), tmp_path / "unused", stage_url=bucket.url())


def test_copy_by_files_keys_load_metadata_by_etag(on_s3: VendorSetup, bucket: Bucket) -> None:
    api = on_s3.api
    files = bucket.put_batch("b1")

    copied = api.sql(on_s3.copy_sql(files))
    assert [row[:4] for row in copied.data] == [
        [f"{bucket.url()}vendor/b1/part-00000.parquet", "LOADED", "3", "3"],
        [f"{bucket.url()}vendor/b1/part-00001.parquet", "LOADED", "3", "3"],
    ]
    assert on_s3.count("VENDOR_STG") == 6
    assert api.sql("SELECT ZIP FROM VENDOR_STG WHERE RECORDNO = 1").data == [["00640"]]
    assert api.sql(on_s3.copy_sql(files)).data == ZERO_FILES

    # The same bytes written again keep their ETag: still loaded. Other bytes: a new file.
    bucket.put_part("landing/vendor/b1/part-00000.parquet", PART_0, "b1")
    assert api.sql(on_s3.copy_sql(files)).data == ZERO_FILES
    bucket.put_part("landing/vendor/b1/part-00001.parquet", PART_1[:1], "b1")
    assert [row[:4] for row in api.sql(on_s3.copy_sql(files)).data] == [
        [f"{bucket.url()}vendor/b1/part-00001.parquet", "LOADED", "1", "1"],
    ]
    history = api.sql(
        "SELECT FILE_NAME FROM INFORMATION_SCHEMA.LOAD_HISTORY WHERE TABLE_NAME = 'VENDOR_STG' ORDER BY FILE_NAME"
    ).data
    assert {row[0] for row in history} == {f"{bucket.url()}vendor/b1/part-00000.parquet", f"{bucket.url()}vendor/b1/part-00001.parquet"}


def test_a_named_object_that_is_not_there_fails_and_loads_nothing(on_s3: VendorSetup, bucket: Bucket) -> None:
    bucket.put_batch("b1")
    failed = on_s3.api.wait(on_s3.api.submit(on_s3.copy_sql(["b1/part-00000.parquet", "b1/part-00007.parquet"])))
    assert failed.status == 422
    assert failed.body["code"] == "091016"
    assert failed.body["message"].startswith(f"Remote file '{bucket.url()}vendor/b1/part-00007.parquet' was not found.")
    assert on_s3.count("VENDOR_STG") == 0


def test_prefix_and_pattern_select_objects(on_s3: VendorSetup, bucket: Bucket) -> None:
    bucket.put_batch("b1")
    bucket.put_batch("b2")
    fmt = "FILE_FORMAT = (FORMAT_NAME = 'PARQUET_FMT') MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE"
    # The pattern is matched against the whole object key, bucket prefix included.
    patterned = on_s3.api.sql(f"COPY INTO VENDOR_STG FROM @SAGE_STAGE PATTERN = '.*b2/part-00001[.]parquet' {fmt}")
    assert [row[0] for row in patterned.data] == [f"{bucket.url()}vendor/b2/part-00001.parquet"]
    unanchored = on_s3.api.sql(f"COPY INTO VENDOR_STG FROM @SAGE_STAGE PATTERN = 'vendor/b1/.*' {fmt}")
    assert unanchored.data == ZERO_FILES

    prefixed = on_s3.api.sql(f"COPY INTO VENDOR_STG FROM @SAGE_STAGE/vendor/b1/ {fmt}")
    assert [row[0].rsplit("/", 2)[-2:] for row in prefixed.data] == [["b1", "part-00000.parquet"], ["b1", "part-00001.parquet"]]
    assert on_s3.count("VENDOR_STG") == 9


def test_list_shows_each_object_with_its_etag(on_s3: VendorSetup, bucket: Bucket) -> None:
    body = bucket.put_part("landing/vendor/b1/part-00000.parquet", PART_0, "b1")
    bucket.put_part("landing/other/readme.parquet", PART_1, "x")

    listed = on_s3.api.sql(f'LIST @"{on_s3.names["database"]}"."RAW"."SAGE_STAGE"/vendor/')
    assert listed.column_names() == ["name", "size", "md5", "last_modified"]
    assert [row[:3] for row in listed.data] == [
        [f"{bucket.url()}vendor/b1/part-00000.parquet", str(len(body)), hashlib.md5(body).hexdigest()],  # noqa: S324
    ]
    assert listed.data[0][3].endswith(" GMT")
    everything = on_s3.api.sql("LIST @SAGE_STAGE PATTERN = '.*[.]parquet'")
    assert len(everything.data) == 2


def test_an_old_object_is_uncertain_by_its_last_modified(on_s3: VendorSetup, bucket: Bucket) -> None:
    api = on_s3.api
    files = bucket.put_batch("b1")
    api.sql(on_s3.copy_sql(files[:1]))  # the table's initial load
    api.advance_clock(days=65)

    assert api.sql(on_s3.copy_sql(files)).data == ZERO_FILES
    loaded = api.sql(on_s3.copy_sql(files).rstrip().rstrip(";") + " LOAD_UNCERTAIN_FILES = TRUE")
    assert [row[0].rsplit("/", 1)[-1] for row in loaded.data] == ["part-00000.parquet", "part-00001.parquet"]


def test_a_storage_integration_that_does_not_exist_is_an_error(s3_api: SqlApi, bucket: Bucket) -> None:
    db = fresh_database(s3_api)
    failed = db.wait(db.submit(f"CREATE STAGE NOT_YET URL = '{bucket.url()}' STORAGE_INTEGRATION = NO_SUCH_INT"))
    assert failed.status == 422
    assert (failed.body["code"], failed.body["message"]) == (
        "002003",
        "SQL compilation error:\nIntegration 'NO_SUCH_INT' does not exist or not authorized.",
    )
    assert db.sql("SHOW STAGES LIKE 'NOT_YET'").data == []
    db.admin_sql(
        "CREATE STORAGE INTEGRATION NEW_INT TYPE = EXTERNAL_STAGE STORAGE_PROVIDER = 'S3' ENABLED = TRUE "
        f"STORAGE_AWS_ROLE_ARN = 'arn:aws:iam::000000000000:role/loader' STORAGE_ALLOWED_LOCATIONS = ('{bucket.url()}')"
    )
    created = db.sql(f"CREATE STAGE NOT_YET URL = '{bucket.url()}' STORAGE_INTEGRATION = new_int")
    assert created.data == [["Stage area NOT_YET successfully created."]]


def test_without_an_s3_endpoint_an_s3_stage_cannot_be_read(vendor: VendorSetup) -> None:
    vendor.api.sql("CREATE STAGE ON_S3 URL = 's3://somewhere/prefix/' STORAGE_INTEGRATION = SAGE_S3_INT")
    failed = vendor.api.wait(vendor.api.submit("COPY INTO VENDOR_STG FROM @ON_S3 FILES = ('x.parquet')"))
    assert failed.status == 422
    assert "--s3-endpoint" in failed.body["message"]
