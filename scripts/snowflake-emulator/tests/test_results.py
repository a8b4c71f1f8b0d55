"""Result shapes and value encodings: rowType, documented wire strings per type, nullable=false,
partitions with Link headers and gzip, bindings, and keep-alive connections."""

from __future__ import annotations

import http.client

from sqlapi_client import SqlApi


def test_success_body_has_the_documented_members(db: SqlApi) -> None:
    result = db.sql("SELECT 1 AS ONE")
    body = result.body
    assert body["code"] == "090001"
    assert body["sqlState"] == "00000"
    assert body["message"] == "Statement executed successfully."
    assert body["statementStatusUrl"].startswith(f"/api/v2/statements/{body['statementHandle']}")
    assert isinstance(body["createdOn"], int)
    meta = body["resultSetMetaData"]
    assert meta["format"] == "jsonv2"
    assert meta["numRows"] == 1
    assert meta["partitionInfo"] == [{"rowCount": 1, "uncompressedSize": len('[["1"]]')}]
    assert meta["rowType"] == [
        {
            "name": "ONE", "database": "", "schema": "", "table": "", "nullable": True, "type": "fixed",
            "byteLength": None, "length": None, "scale": 0, "precision": 38, "collation": None,
        }
    ]
    assert body["data"] == [["1"]]
    assert "stats" not in body


def test_values_are_encoded_as_snowflake_documents(db: SqlApi) -> None:
    result = db.sql(
        "SELECT 1.50::NUMBER(10,2) AS N, 42 AS I, 1.5::FLOAT AS F, TRUE AS B, FALSE AS B2, "
        "'2024-01-01'::DATE AS D, '2024-01-01 10:00:00'::TIMESTAMP_NTZ AS TN, "
        "'2024-01-01 10:00:00+01:00'::TIMESTAMP_TZ AS TZ, '1969-12-31 23:59:58.5'::TIMESTAMP_NTZ AS BEFORE_EPOCH, "
        "'12:00:01.5'::TIME AS TM, PARSE_JSON('{\"a\":1}') AS V, TO_BINARY('0A1B', 'HEX') AS BIN, "
        "'00640' AS S, NULL AS NOTHING"
    )
    assert dict(zip(result.column_names(), result.column_types(), strict=True)) == {
        "N": "fixed", "I": "fixed", "F": "real", "B": "boolean", "B2": "boolean", "D": "date",
        "TN": "timestamp_ntz", "TZ": "timestamp_tz", "BEFORE_EPOCH": "timestamp_ntz", "TM": "time",
        "V": "variant", "BIN": "binary", "S": "text", "NOTHING": "text",
    }
    assert dict(zip(result.column_names(), result.data[0], strict=True)) == {
        "N": "1.50",
        "I": "42",
        "F": "1.5",
        "B": "true",
        "B2": "false",
        "D": "19723",  # days since 1970-01-01
        "TN": "1704103200.000000000",
        # 10:00 at +01:00 is 09:00 UTC; the offset field is minutes + 1440 and DuckDB keeps UTC.
        "TZ": "1704099600.000000000 1440",
        "BEFORE_EPOCH": "-1.500000000",
        "TM": "43201.500000000",
        "V": '{"a":1}',
        "BIN": "0A1B",
        "S": "00640",
        "NOTHING": None,
    }


def test_nullable_false_sends_null_as_text(db: SqlApi) -> None:
    assert db.sql("SELECT NULL AS A, 'x' AS B", nullable=False).data == [["null", "x"]]
    assert db.sql("SELECT NULL AS A, 'x' AS B").data == [[None, "x"]]


def test_large_results_are_partitioned_with_links_and_gzip(db: SqlApi) -> None:
    # The session's emulator runs with --partition-rows 100.
    first = db.sql("SELECT SEQ4() AS N FROM TABLE(GENERATOR(ROWCOUNT => 250)) ORDER BY N")
    meta = first.body["resultSetMetaData"]
    assert meta["numRows"] == 250
    assert [info["rowCount"] for info in meta["partitionInfo"]] == [100, 100, 50]
    assert first.data == [[str(n)] for n in range(100)]
    handle = first.handle
    assert first.headers["Link"] == (
        f'</api/v2/statements/{handle}?partition=0>; rel="first",'
        f'</api/v2/statements/{handle}?partition=1>; rel="next",'
        f'</api/v2/statements/{handle}?partition=2>; rel="last"'
    )

    second = db.status(handle, partition=1)
    assert second.status == 200
    assert second.headers.get("Content-Encoding") == "gzip"  # the client sent Accept-Encoding: gzip
    assert set(second.body) == {"data"}  # metadata comes with partition 0 only
    assert second.data == [[str(n)] for n in range(100, 200)]
    assert 'rel="prev"' in second.headers["Link"] and 'rel="next"' in second.headers["Link"]

    last = db.status(handle, partition=2)
    assert last.data == [[str(n)] for n in range(200, 250)]
    assert db.status(handle, partition=3).status == 422

    # A finished handle re-serves partition 0 with its metadata.
    again = db.status(handle)
    assert again.status == 200 and again.body["resultSetMetaData"]["numRows"] == 250


def test_empty_result_is_one_empty_partition(db: SqlApi) -> None:
    empty = db.sql("SELECT 1 AS A WHERE FALSE")
    assert empty.data == []
    assert empty.body["resultSetMetaData"]["numRows"] == 0
    assert empty.body["resultSetMetaData"]["partitionInfo"] == [{"rowCount": 0, "uncompressedSize": 2}]


def test_positional_bindings(db: SqlApi) -> None:
    db.sql("CREATE TABLE B (ID NUMBER, NAME VARCHAR)")
    inserted = db.sql(
        "INSERT INTO B VALUES (?, ?)",
        bindings={"1": {"type": "FIXED", "value": "7"}, "2": {"type": "TEXT", "value": "seven"}},
    )
    assert inserted.body["stats"]["numRowsInserted"] == 1
    found = db.sql("SELECT NAME FROM B WHERE ID = ?", bindings={"1": {"type": "FIXED", "value": "7"}})
    assert found.data == [["seven"]]


def test_keep_alive_serves_several_requests_on_one_connection(db: SqlApi) -> None:
    connection = http.client.HTTPConnection(db.host, db.port, timeout=30)
    try:
        body = {"statement": "SELECT 1", "database": db.database, "schema": db.schema, "warehouse": db.warehouse}
        first = db.request("POST", "/api/v2/statements", body, connection=connection)
        socket_used = connection.sock
        second = db.request("POST", "/api/v2/statements", body, connection=connection)
        status = db.request("GET", f"/api/v2/statements/{first.handle}", connection=connection)
        reused = socket_used is not None and connection.sock is socket_used
    finally:
        connection.close()
    assert (first.status, second.status, status.status) == (200, 200, 200)
    assert reused, "the server closed a keep-alive connection between requests"
    assert first.handle != second.handle
    assert status.data == [["1"]]
