"""Shared fixtures: keys and a token made at test time, one emulator started through the launcher
for the whole session, a fresh database per test, and the VENDOR example set up from sql/."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from key_pairs import KeyPair, key_pair_jwt, new_key_pair
from launcher import RunningEmulator, start_emulator
from sql_templates import render
from sqlapi_client import TEST_WAREHOUSE, SqlApi

ACCOUNT = "MYORG-TESTACCT"
USER = "LOADER_USER"
LOADER_ROLE = "LOADER"
ANALYST_ROLE = "ANALYST"
STORAGE_INTEGRATION = "SAGE_S3_INT"


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="session")
def trusted_key(key_dir: Path) -> KeyPair:
    return new_key_pair(key_dir, "trusted")


@pytest.fixture(scope="session")
def untrusted_key(key_dir: Path) -> KeyPair:
    return new_key_pair(key_dir, "untrusted")


@pytest.fixture(scope="session")
def pat_value(key_dir: Path) -> str:
    return secrets.token_urlsafe(24)


@pytest.fixture(scope="session")
def pat_file(key_dir: Path, pat_value: str) -> Path:
    path = key_dir / "pat.txt"
    path.write_text(pat_value + "\n")
    return path


@contextmanager
def extra_emulator(
    tmp_path_factory: pytest.TempPathFactory,
    trusted_key: KeyPair,
    args: list[str],
    env: dict[str, str] | None = None,
) -> Iterator[RunningEmulator]:
    """An emulator of its own for a module whose flags or clock must not touch the shared one."""
    log_path = tmp_path_factory.mktemp("emulator") / "emulator.log"
    running = start_emulator(
        [
            "--public-key", str(trusted_key.public_pem),
            "--account", ACCOUNT,
            "--user", USER,
            "--sync-wait-secs", "2",
            "--storage-integration", STORAGE_INTEGRATION,
            *args,
        ],
        log_path,
        env=env,
    )
    try:
        yield running
    finally:
        assert running.stop() == 0, running.log_tail()


def client_of(running: RunningEmulator, trusted_key: KeyPair) -> SqlApi:
    return SqlApi(running.base_url, lambda: jwt_credentials(trusted_key))


def fresh_database(api: SqlApi, admin: bool = False) -> SqlApi:
    """A database and RAW schema of their own (created by the administrator when `admin`)."""
    name = "T_" + uuid.uuid4().hex[:10].upper()
    if admin:
        api.admin_sql(f"CREATE DATABASE {name}; CREATE SCHEMA {name}.RAW")
    else:
        api.sql(f"CREATE DATABASE {name}")
        api.sql(f"CREATE SCHEMA {name}.RAW")
    return api.scoped(name, "RAW")


def vendor_setup(db: SqlApi, stage_dir: Path, stage_url: str | None = None) -> VendorSetup:
    """The VENDOR example's file format, stage and tables in `db`, over `stage_url` (default: the
    file:// URL of `stage_dir`)."""
    stage_dir.mkdir(parents=True, exist_ok=True)
    names = {"database": db.database, "schema": db.schema, "file_format": "PARQUET_FMT", "stage": "SAGE_STAGE"}
    db.sql(render("parquet_file_format.sql", **names))
    db.sql(
        render(
            "external_stage.sql",
            **names,
            stage_url=stage_url or stage_dir.as_uri() + "/",
            storage_integration=STORAGE_INTEGRATION,
        )
    )
    db.sql(render("vendor_tables.sql", **names), parameters={"MULTI_STATEMENT_COUNT": "2"})
    return VendorSetup(db, stage_dir, names)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory, trusted_key: KeyPair, pat_file: Path) -> Iterator[RunningEmulator]:
    log_path = tmp_path_factory.mktemp("emulator") / "emulator.log"
    running = start_emulator(
        [
            "--public-key", str(trusted_key.public_pem),
            "--pat", str(pat_file),
            # Lower case on purpose: the JWT names account and user upper-cased.
            "--account", ACCOUNT.lower(),
            "--user", USER.lower(),
            "--sync-wait-secs", "2",
            "--partition-rows", "100",
            "--require-warehouse",
            # The warehouses and roles of the account: requests name them literally.
            "--warehouse", TEST_WAREHOUSE,
            "--warehouse", "LOAD_WH",
            "--role", LOADER_ROLE,
            "--role", ANALYST_ROLE,
            "--storage-integration", STORAGE_INTEGRATION,
        ],
        log_path,
    )
    yield running
    assert running.stop() == 0, running.log_tail()
    assert running.remaining_stdout() == "", "stdout must hold only the listening line"


def jwt_credentials(key: KeyPair) -> tuple[str, str]:
    return key_pair_jwt(key, ACCOUNT, USER), "KEYPAIR_JWT"


@pytest.fixture
def api(emulator: RunningEmulator, trusted_key: KeyPair) -> Iterator[SqlApi]:
    client = SqlApi(emulator.base_url, lambda: jwt_credentials(trusted_key))
    client.set_faults("")
    yield client
    client.set_faults("")


@pytest.fixture
def db(api: SqlApi) -> SqlApi:
    """A client bound to a database and schema of its own, so tests never see each other's rows."""
    return fresh_database(api)


@dataclass
class VendorSetup:
    api: SqlApi
    stage_dir: Path
    names: dict[str, str]

    def copy_sql(self, files: list[str]) -> str:
        return render(
            "copy_into_staging.sql",
            **self.names,
            staging_table="VENDOR_STG",
            object_path="vendor",
            files=", ".join(f"'{name}'" for name in files),
        )

    def merge_sql(self, batch_id: str) -> str:
        columns = ["RECORDNO", "VENDORID", "NAME", "ZIP", "TOTALDUE", "WHENMODIFIED", "_BATCH_ID", "_EXTRACTED_AT", "_DELETED"]
        return render(
            "merge_from_staging.sql",
            **self.names,
            target_table="VENDOR",
            staging_table="VENDOR_STG",
            key_column="RECORDNO",
            batch_id=batch_id,
            update_set=", ".join(f"{column} = s.{column}" for column in columns[1:]),
            insert_columns=", ".join(columns),
            insert_values=", ".join(f"s.{column}" for column in columns),
        )

    def delete_sql(self, batch_id: str) -> str:
        return render("delete_staged_batch.sql", **self.names, staging_table="VENDOR_STG", batch_id=batch_id)

    def count(self, table: str) -> int:
        return int(self.api.scalar(f"SELECT COUNT(*) FROM {table}"))


@pytest.fixture
def vendor(db: SqlApi, tmp_path: Path) -> VendorSetup:
    """The VENDOR example created with the DDL from sql/, over a file:// stage."""
    return vendor_setup(db, tmp_path / "stage")
