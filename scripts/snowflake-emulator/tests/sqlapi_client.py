"""A small SQL API v2 client for the tests, on http.client: one connection per request unless a
test asks for a shared one, no automatic retries, so every fault reaches the test as it happened."""

from __future__ import annotations

import gzip
import http.client
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

# (token, token type) for the Authorization and X-Snowflake-Authorization-Token-Type headers.
Credentials = Callable[[], tuple[str, str]]


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def handle(self) -> str:
        return self.body["statementHandle"]

    @property
    def data(self) -> list[list[str | None]]:
        return self.body["data"]

    def column_names(self) -> list[str]:
        return [column["name"] for column in self.body["resultSetMetaData"]["rowType"]]

    def column_types(self) -> list[str]:
        return [column["type"] for column in self.body["resultSetMetaData"]["rowType"]]


# The warehouse every request names unless a test says otherwise: the session emulator runs with
# --require-warehouse, as the loader's tests do.
TEST_WAREHOUSE = "TEST_WH"


class SqlApi:
    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        database: str | None = None,
        schema: str | None = None,
        warehouse: str | None = TEST_WAREHOUSE,
        role: str | None = None,
    ):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.credentials = credentials
        self.database = database
        self.schema = schema
        self.warehouse = warehouse
        self.role = role

    def _with(self, **changes: Any) -> SqlApi:  # noqa: ANN401
        settings = {
            "database": self.database,
            "schema": self.schema,
            "warehouse": self.warehouse,
            "role": self.role,
            **changes,
        }
        return SqlApi(f"http://{self.host}:{self.port}", self.credentials, **settings)

    def scoped(self, database: str, schema: str) -> SqlApi:
        return self._with(database=database, schema=schema)

    def without_warehouse(self) -> SqlApi:
        return self._with(warehouse=None)

    def with_warehouse(self, warehouse: str | None) -> SqlApi:
        return self._with(warehouse=warehouse)

    def with_role(self, role: str | None) -> SqlApi:
        return self._with(role=role)

    # -- raw HTTP ---------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,  # noqa: ANN401
        headers: dict[str, str] | None = None,
        auth: bool = True,
        connection: http.client.HTTPConnection | None = None,
    ) -> Response:
        sent = {"Accept": "application/json", "User-Agent": "emulator-tests/1.0", "Accept-Encoding": "gzip"}
        if body is not None:
            sent["Content-Type"] = "application/json"
        if auth:
            token, token_type = self.credentials()
            sent["Authorization"] = f"Bearer {token}"
            sent["X-Snowflake-Authorization-Token-Type"] = token_type
        sent.update(headers or {})
        sent = {name: value for name, value in sent.items() if value is not None}
        payload = body if isinstance(body, bytes) else None if body is None else json.dumps(body).encode()
        conn = connection or http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request(method, path, body=payload, headers=sent)
            answer = conn.getresponse()
            raw = answer.read()
            response_headers = {name: value for name, value in answer.getheaders()}
        finally:
            if connection is None:
                conn.close()
        if response_headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        return Response(answer.status, response_headers, json.loads(raw) if raw else None)

    # -- SQL API ----------------------------------------------------------------------------------

    def submit(
        self,
        statement: str,
        *,
        request_id: str | None = None,
        retry: bool = False,
        run_async: bool = False,
        nullable: bool | None = None,
        parameters: dict[str, str] | None = None,
        timeout: int | None = None,
        bindings: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
    ) -> Response:
        query: dict[str, str] = {"requestId": request_id or str(uuid.uuid4())}
        if retry:
            query["retry"] = "true"
        if run_async:
            query["async"] = "true"
        if nullable is not None:
            query["nullable"] = "true" if nullable else "false"
        body: dict[str, Any] = {"statement": statement}
        if self.database:
            body["database"] = self.database
        if self.schema:
            body["schema"] = self.schema
        if self.warehouse:
            body["warehouse"] = self.warehouse
        if self.role:
            body["role"] = self.role
        if parameters:
            body["parameters"] = parameters
        if timeout is not None:
            body["timeout"] = timeout
        if bindings:
            body["bindings"] = bindings
        return self.request("POST", f"/api/v2/statements?{urlencode(query)}", body, headers=headers, auth=auth)

    def status(self, handle: str, partition: int | None = None) -> Response:
        query = f"?partition={partition}" if partition is not None else ""
        return self.request("GET", f"/api/v2/statements/{handle}{query}")

    def cancel(self, handle: str) -> Response:
        return self.request("POST", f"/api/v2/statements/{handle}/cancel", b"")

    def wait(self, response: Response, limit_secs: float = 30) -> Response:
        """Poll a 202 until the statement finishes, as the loader will."""
        deadline = time.monotonic() + limit_secs
        while response.status == 202:
            assert time.monotonic() < deadline, "statement still running at the test's limit"
            time.sleep(0.05)
            response = self.status(response.handle)
        return response

    def sql(self, statement: str, **kwargs: Any) -> Response:  # noqa: ANN401
        """Run a statement to its end and insist that it succeeded."""
        response = self.wait(self.submit(statement, **kwargs))
        assert response.status == 200, (response.status, response.body)
        return response

    def scalar(self, statement: str) -> str | None:
        return self.sql(statement).data[0][0]

    # -- admin ------------------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        return self.request("GET", "/__emulator/stats", auth=False).body

    def admin_sql(self, statement: str, database: str | None = None, schema: str | None = None) -> Response:
        """Statements run as the account administrator (POST /__emulator/sql); must succeed."""
        body = {"statement": statement, "database": database, "schema": schema}
        response = self.request("POST", "/__emulator/sql", body, auth=False)
        assert response.status == 200, (response.status, response.body)
        return response

    def clock(self) -> dict[str, Any]:
        return self.request("GET", "/__emulator/clock", auth=False).body

    def advance_clock(self, days: float = 0, secs: float = 0) -> dict[str, Any]:
        response = self.request("POST", "/__emulator/clock", {"advance_days": days, "advance_secs": secs}, auth=False)
        assert response.status == 200, response.body
        return response.body

    def set_faults(self, spec: str) -> Response:
        response = self.request("POST", "/__emulator/faults", {"spec": spec}, auth=False)
        assert response.status == 200, response.body
        return response
