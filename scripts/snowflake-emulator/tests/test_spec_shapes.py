"""Every kind of answer the emulator gives, validated against the response schemas of Snowflake's
published OpenAPI spec of the SQL API (a trimmed copy with attribution in spec/): 200 ResultSet
(query, DML with stats, multi-statement, a later partition, COPY), 202 and 408 QueryStatus, 422
QueryFailureStatus, and the cancel answers (CancelStatus).

The spec is OpenAPI 3.0: `nullable: true` is turned into a JSON Schema type union before
validating. One documented difference is allowed: `rowType` entries carry null `length`,
`precision` and `scale` where they do not apply, as the examples in Snowflake's "Handling
responses" page show (the spec types them as plain integers)."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import VendorSetup
from sqlapi_client import Response, SqlApi
from vendor_parts import write_batch

SPEC = json.loads((Path(__file__).parent / "spec" / "sqlapi-schemas.json").read_text())
STATEMENTS = "POST /api/v2/statements"
STATUS = "GET /api/v2/statements/{statementHandle}"
CANCEL = "POST /api/v2/statements/{statementHandle}/cancel"
NULLABLE_ROW_TYPE_MEMBERS = ("length", "precision", "scale")


def json_schema(node: Any) -> Any:  # noqa: ANN401 - any part of an OpenAPI 3.0 schema
    """OpenAPI 3.0 `nullable: true` as JSON Schema: the type or null."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") is True and "type" in converted:
        converted["type"] = [converted["type"], "null"]
    return converted


def schema_for(name: str) -> dict[str, Any]:
    schema = json_schema(copy.deepcopy(SPEC["schemas"][name]))
    if name == "ResultSet":
        members = schema["properties"]["resultSetMetaData"]["properties"]["rowType"]["items"]["properties"]
        for member in NULLABLE_ROW_TYPE_MEMBERS:
            members[member]["type"] = [members[member]["type"], "null"]
    return schema


def assert_conforms(operation: str, response: Response) -> None:
    name = SPEC["x-responses"][operation].get(str(response.status))
    assert name, f"the spec defines no body for {operation} answering {response.status}"
    jsonschema.Draft4Validator(schema_for(name)).validate(response.body)
    if "statementHandle" in response.body:
        uuid.UUID(response.body["statementHandle"])  # format: uuid


def test_the_trimmed_spec_keeps_what_it_says(db: SqlApi) -> None:
    assert set(SPEC["schemas"]) == {"ResultSet", "QueryStatus", "QueryFailureStatus", "CancelStatus"}
    assert SPEC["schemas"]["QueryFailureStatus"]["required"] == ["message", "statementHandle"]
    assert "Apache License, Version 2.0" in SPEC["x-license"]
    assert "Apache License, Version 2.0" in (Path(__file__).parent / "spec" / "LICENSE").read_text()


def test_results_conform_to_result_set(vendor: VendorSetup) -> None:
    api = vendor.api
    query = api.sql("SELECT 1 AS ONE, NULL AS NOTHING, 'x' AS TEXT, 1.5::FLOAT AS F, CURRENT_DATE() AS D")
    assert_conforms(STATEMENTS, query)
    assert query.body["requestId"]

    inserted = api.sql("INSERT INTO VENDOR (RECORDNO, NAME) VALUES (1, 'a'), (2, 'b')")
    assert_conforms(STATEMENTS, inserted)

    files = write_batch(vendor.stage_dir, "b1")
    copied = api.sql(vendor.copy_sql(files))
    assert_conforms(STATEMENTS, copied)
    assert_conforms(STATEMENTS, api.sql(vendor.copy_sql(files)))  # "Copy executed with 0 files processed."

    merged = api.sql(vendor.merge_sql("b1"))
    assert_conforms(STATEMENTS, merged)
    # The duplicate count carries the name real answers use, not the spec's numDuplicateRowsUpdated.
    assert set(merged.body["stats"]) == {"numRowsInserted", "numRowsUpdated", "numRowsDeleted", "numDmlDuplicates"}

    multi = api.sql("SELECT 1; SELECT 2", parameters={"MULTI_STATEMENT_COUNT": "2"})
    assert_conforms(STATEMENTS, multi)
    for handle in multi.body["statementHandles"]:
        assert_conforms(STATUS, api.status(handle))

    large = api.sql("SELECT SEQ4() AS N FROM TABLE(GENERATOR(ROWCOUNT => 150))")
    assert_conforms(STATUS, api.status(large.handle, partition=1))


def test_running_timed_out_and_failed_statements_conform(db: SqlApi) -> None:
    db.sql("CREATE TABLE T (ID NUMBER)")
    db.set_faults("slow=2:other:nth=1")
    running = db.submit("INSERT INTO T VALUES (1)", run_async=True)
    assert running.status == 202
    assert_conforms(STATEMENTS, running)
    assert_conforms(STATUS, db.status(running.handle))
    assert_conforms(STATUS, db.wait(running))

    db.set_faults("slow=5:other:nth=1")
    timed_out = db.submit("INSERT INTO T VALUES (2)", timeout=1)
    assert timed_out.status == 408
    assert_conforms(STATEMENTS, timed_out)

    for failed in (
        db.submit("SELEC 1"),
        db.submit("SELECT * FROM NO_SUCH_TABLE"),
        db.submit("BEGIN"),
        db.submit("SELECT 1; SELECT 2", parameters={"MULTI_STATEMENT_COUNT": "3"}),
        db.with_role("nobody").submit("SELECT 1"),
    ):
        assert failed.status == 422, failed.body
        assert_conforms(STATEMENTS, failed)
        assert_conforms(STATUS, db.status(failed.handle))

    assert_conforms(STATUS, db.status("01b2c3d4-0000-0000-0000-000000000000"))
    small = db.sql("SELECT 1")
    out_of_range = db.status(small.handle, partition=5)
    assert out_of_range.status == 422
    assert_conforms(STATUS, out_of_range)


def test_cancel_answers_conform(db: SqlApi) -> None:
    db.set_faults("slow=30:other:nth=1")
    running = db.submit("SELECT 1", run_async=True)
    cancelled = db.cancel(running.handle)
    assert cancelled.status == 200
    assert_conforms(CANCEL, cancelled)
    assert_conforms(STATUS, db.status(running.handle))
    unknown = db.cancel("01b2c3d4-0000-0000-0000-000000000000")
    assert unknown.status == 422
    assert_conforms(CANCEL, unknown)


@pytest.mark.parametrize("status", [429, 503])
def test_front_door_faults_have_no_spec_body_but_are_json(db: SqlApi, status: int) -> None:
    db.set_faults(f"{status}:any:nth=1")
    refused = db.submit("SELECT 1")
    assert refused.status == status
    assert str(status) not in SPEC["x-responses"][STATEMENTS]
    assert isinstance(refused.body["message"], str)
