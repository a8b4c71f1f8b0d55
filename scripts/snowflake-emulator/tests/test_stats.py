"""GET /__emulator/stats counts statements by kind, so a test can assert that an object with no
changes sent no COPY, MERGE or DELETE; it keeps the older counters as they were."""

from __future__ import annotations

from conftest import VendorSetup
from sqlapi_client import SqlApi
from vendor_parts import write_batch

KINDS = {
    "copy", "merge", "insert", "update", "delete", "truncate", "create", "alter", "drop",
    "grant", "select", "show", "describe", "list", "other",
}


def delta(before: dict, after: dict, key: str) -> dict[str, int]:
    return {kind: after[key][kind] - before[key].get(kind, 0) for kind in after[key] if after[key][kind] != before[key].get(kind, 0)}


def test_every_kind_is_reported_and_counted(vendor: VendorSetup) -> None:
    api = vendor.api
    before = api.stats()
    assert set(before["statements_by_kind"]) == KINDS
    assert set(before["statements_executed"]) == {"copy", "merge", "other"}
    assert {"submissions", "served_from_history", "auth_failures", "polls", "faults_injected"} <= set(before)

    api.sql(vendor.copy_sql(write_batch(vendor.stage_dir, "b1")))
    api.sql(vendor.merge_sql("b1"))
    api.sql(vendor.delete_sql("b1"))
    api.sql("INSERT INTO VENDOR (RECORDNO) VALUES (99)")
    api.sql("UPDATE VENDOR SET NAME = 'x' WHERE RECORDNO = 99")
    api.sql("SELECT COUNT(*) FROM VENDOR")
    api.sql("WITH v AS (SELECT 1 AS A) SELECT A FROM v")
    api.sql("SHOW TABLES")
    api.sql("DESC FILE FORMAT PARQUET_FMT")
    api.sql("ALTER TABLE VENDOR ADD COLUMN IF NOT EXISTS EXTRA VARCHAR")
    api.sql("CREATE TABLE SCRATCH (ID NUMBER); TRUNCATE TABLE SCRATCH; DROP TABLE SCRATCH",
            parameters={"MULTI_STATEMENT_COUNT": "3"})
    api.sql("LIST @SAGE_STAGE")
    after = api.stats()

    assert delta(before, after, "statements_by_kind") == {
        "copy": 1, "merge": 1, "delete": 1, "insert": 1, "update": 1, "select": 2, "show": 1,
        "describe": 1, "alter": 1, "create": 1, "truncate": 1, "drop": 1, "list": 1,
    }
    assert delta(before, after, "statements_executed") == {"copy": 1, "merge": 1, "other": 12}
    # Queries and DML run on the warehouse; DDL, SHOW, DESC and LIST do not.
    assert after["warehouse_statements"] - before["warehouse_statements"] == 7


def test_an_unchanged_object_sends_no_copy_merge_or_delete(vendor: VendorSetup) -> None:
    api = vendor.api
    files = write_batch(vendor.stage_dir, "b1")
    api.sql(vendor.copy_sql(files))
    before = api.stats()["statements_by_kind"]

    api.sql("SELECT COUNT(*) FROM VENDOR_STG")  # what a loader with nothing to do may still send

    after = api.stats()["statements_by_kind"]
    assert {kind: after[kind] - before[kind] for kind in ("copy", "merge", "delete")} == {"copy": 0, "merge": 0, "delete": 0}


def test_administrator_statements_are_counted_apart(api: SqlApi) -> None:
    before = api.stats()
    api.admin_sql("CREATE ROLE COUNTED_APART; SELECT 1")
    after = api.stats()
    assert after["statements_by_kind"] == before["statements_by_kind"]
    assert after["statements_executed"] == before["statements_executed"]
    assert after["warehouse_statements"] == before["warehouse_statements"]
    assert after["admin_statements"] == before["admin_statements"] + 2
