"""The locked-down loader role (--locked-down-role): USAGE on the database and schema, CREATE
TABLE / VIEW / STAGE / FILE FORMAT on the schema, USAGE on the storage integration, nothing more.
CREATE SCHEMA and CREATE DATABASE fail with Snowflake's insufficient-privileges error even with IF
NOT EXISTS and an existing object; everything that only reads works; the administrator's grants
widen what the role may do."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ACCOUNT, STORAGE_INTEGRATION, client_of, extra_emulator, fresh_database
from key_pairs import KeyPair
from sql_templates import render
from sqlapi_client import SqlApi

LOADER = "INTACCT_LOADER"
ANALYSTS = "FINANCE_ANALYST"
ACCESS_DENIED = ("003001", "42501")


@pytest.fixture(scope="module")
def locked_api(tmp_path_factory: pytest.TempPathFactory, trusted_key: KeyPair) -> Iterator[SqlApi]:
    with extra_emulator(
        tmp_path_factory, trusted_key, ["--locked-down-role", LOADER, "--role", ANALYSTS, "--warehouse", "TEST_WH"]
    ) as running:
        yield client_of(running, trusted_key)


@pytest.fixture
def locked(locked_api: SqlApi) -> SqlApi:
    """A database and schema the administrator created, and the loader's client bound to them."""
    return fresh_database(locked_api, admin=True)


def refused(api: SqlApi, statement: str) -> tuple[str, str, str]:
    failed = api.wait(api.submit(statement))
    assert failed.status == 422, (statement, failed.body)
    return failed.body["code"], failed.body["sqlState"], failed.body["message"]


def test_create_schema_and_database_if_not_exists_fail_even_when_they_exist(locked: SqlApi) -> None:
    database = locked.database
    on_database = (*ACCESS_DENIED, f"SQL access control error:\nInsufficient privileges to operate on database '{database}'")
    on_account = (*ACCESS_DENIED, f"SQL access control error:\nInsufficient privileges to operate on account '{ACCOUNT}'")

    assert refused(locked, f"CREATE SCHEMA IF NOT EXISTS {database}.RAW") == on_database
    assert refused(locked, f'CREATE SCHEMA IF NOT EXISTS "{database}"."RAW"') == on_database
    assert refused(locked, f"CREATE SCHEMA {database}.OTHER") == on_database
    assert refused(locked, f"CREATE DATABASE IF NOT EXISTS {database}") == on_account
    assert refused(locked, "CREATE DATABASE SOMETHING_NEW") == on_account
    # The loader's own template, rendered as the product renders it.
    assert refused(locked, render("create_schema.sql", database=database, schema="RAW")) == on_database


def test_reading_the_catalog_works(locked: SqlApi) -> None:
    database = locked.database
    schemas = locked.sql(f"SHOW SCHEMAS LIKE 'raw' IN DATABASE {database}")
    assert [row[schemas.column_names().index("name")] for row in schemas.data] == ["RAW"]
    databases = locked.sql(f"SHOW DATABASES LIKE '{database}'")
    assert [row[databases.column_names().index("name")] for row in databases.data] == [database]
    assert locked.sql(f"SHOW DATABASES LIKE '{database}_NOT'").data == []
    assert locked.sql(
        f"SELECT SCHEMA_NAME FROM {database}.INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME = 'RAW'"
    ).data == [["RAW"]]


def test_schema_level_ddl_and_reads_of_what_it_made(locked: SqlApi, tmp_path: Path) -> None:
    names = {"database": locked.database, "schema": "RAW", "file_format": "PARQUET_FMT", "stage": "SAGE_STAGE"}
    locked.sql(render("parquet_file_format.sql", **names))
    locked.sql(
        render("external_stage.sql", **names, stage_url=tmp_path.as_uri() + "/", storage_integration=STORAGE_INTEGRATION)
    )
    locked.sql(render("vendor_tables.sql", **names), parameters={"MULTI_STATEMENT_COUNT": "2"})
    locked.sql(f"CREATE OR REPLACE VIEW {locked.database}.RAW.VENDOR_CURRENT AS SELECT RECORDNO FROM {locked.database}.RAW.VENDOR")

    formats = locked.sql(f"SHOW FILE FORMATS IN SCHEMA {locked.database}.RAW")
    assert [row[formats.column_names().index("name")] for row in formats.data] == ["PARQUET_FMT"]
    stages = locked.sql(f"SHOW STAGES IN SCHEMA {locked.database}.RAW")
    stage_row = dict(zip(stages.column_names(), stages.data[0], strict=True))
    assert (stage_row["name"], stage_row["storage_integration"]) == ("SAGE_STAGE", STORAGE_INTEGRATION)
    described = dict((row[0], row[2]) for row in locked.sql(f"DESC FILE FORMAT {locked.database}.RAW.PARQUET_FMT").data)
    assert described["USE_LOGICAL_TYPE"] == "TRUE"
    grants = locked.sql(f"SHOW GRANTS ON VIEW {locked.database}.RAW.VENDOR_CURRENT")
    assert [(row[1], row[5]) for row in grants.data] == [("OWNERSHIP", LOADER)]


def test_the_administrator_grants_what_the_role_lacks(locked: SqlApi) -> None:
    database = locked.database
    assert refused(locked, f"CREATE SCHEMA IF NOT EXISTS {database}.STAGING")[0] == "003001"
    locked.admin_sql(f"GRANT CREATE SCHEMA ON DATABASE {database} TO ROLE {LOADER}")
    assert locked.sql(f"CREATE SCHEMA IF NOT EXISTS {database}.STAGING").data == [["Schema STAGING successfully created."]]
    assert locked.sql(f"CREATE SCHEMA IF NOT EXISTS {database}.RAW").data == [["RAW already exists, statement succeeded."]]


def test_the_analysts_get_select_on_a_view_from_the_administrator(locked: SqlApi) -> None:
    database = locked.database
    locked.sql(f"CREATE TABLE {database}.RAW.BILLS (ID NUMBER)")
    locked.sql(f"CREATE VIEW {database}.RAW.OPEN_BILLS AS SELECT ID FROM {database}.RAW.BILLS")
    # Account-level grants are not the loader's to give.
    assert refused(locked, f"GRANT CREATE SCHEMA ON DATABASE {database} TO ROLE {LOADER}") == (
        *ACCESS_DENIED,
        f"SQL access control error:\nInsufficient privileges to operate on account '{ACCOUNT}'",
    )
    locked.admin_sql(f"GRANT SELECT ON VIEW {database}.RAW.OPEN_BILLS TO ROLE {ANALYSTS}")
    grants = locked.sql(f"SHOW GRANTS ON VIEW {database}.RAW.OPEN_BILLS")
    assert sorted((row[1], row[5], row[7]) for row in grants.data) == [
        ("OWNERSHIP", LOADER, LOADER),
        ("SELECT", ANALYSTS, "ACCOUNTADMIN"),
    ]
    # The analysts' role is not locked down: it reads the view.
    assert locked.with_role(ANALYSTS).sql(f"SELECT COUNT(*) FROM {database}.RAW.OPEN_BILLS").data == [["0"]]


def test_a_database_the_role_created_is_its_own_to_add_schemas_to(locked: SqlApi) -> None:
    name = f"{locked.database}_OWN"
    locked.admin_sql(f"GRANT CREATE DATABASE ON ACCOUNT TO ROLE {LOADER}")
    try:
        assert locked.sql(f"CREATE DATABASE IF NOT EXISTS {name}").data == [[f"Database {name} successfully created."]]
        # The owner of a database may create schemas in it, IF NOT EXISTS or not.
        assert locked.sql(f"CREATE SCHEMA IF NOT EXISTS {name}.RAW").data == [["Schema RAW successfully created."]]
        assert locked.sql(f"CREATE SCHEMA IF NOT EXISTS {name}.RAW").data == [["RAW already exists, statement succeeded."]]
        # Databases made by others stay out of reach.
        assert refused(locked, f"CREATE SCHEMA IF NOT EXISTS {locked.database}.MORE")[0] == "003001"
    finally:
        locked.admin_sql(f"REVOKE CREATE DATABASE ON ACCOUNT FROM ROLE {LOADER}")
