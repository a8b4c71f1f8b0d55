"""The HTTP front: routes, headers, request validation, fault injection points, admin endpoints.

Routes:

* `POST /api/v2/statements?requestId=&retry=&async=&nullable=` submit one or more statements;
* `GET  /api/v2/statements/{handle}?partition=N` status and result partition;
* `POST /api/v2/statements/{handle}/cancel`;
* `GET  /__emulator/stats` counters (see counters.py);
* `GET  /__emulator/faults`, `POST /__emulator/faults` with `{"spec": "..."}` to read or replace
  the fault rules (grammar in faults.py) without a restart;
* `GET  /__emulator/clock`, `POST /__emulator/clock` with `{"advance_days": N}` and/or
  `{"advance_secs": S}` to read or move the emulator's clock forward (clock.py);
* `POST /__emulator/sql` with `{"statement": "...", "database": ..., "schema": ...}`: runs the
  statements (any number, `;`-separated) as the account administrator, with no privilege checks
  and no counting (access_control.py), and answers as the SQL API would. How a test creates the
  objects, roles and grants a locked-down loader must find in place.

The admin routes take no token: the emulator only ever listens on loopback, for tests.

Served by the standard library's ThreadingHTTPServer speaking HTTP/1.1 with keep-alive: one thread
per connection suits the blocking fakesnow calls, and owning the socket is what lets the `drop`
fault close a connection without a response, which ASGI servers do not allow.
"""

from __future__ import annotations

import gzip
import json
import logging
import socket
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from snowflake_emulator import responses
from snowflake_emulator.auth import AuthError, Authenticator, expired_token_error
from snowflake_emulator.clock import SECONDS_PER_DAY, EmulatorClock
from snowflake_emulator.counters import Counters
from snowflake_emulator.faults import ExecutionFaults, FaultPlan, FaultSpecError
from snowflake_emulator.responses import Reply
from snowflake_emulator.statements import StatementRegistry, Submission

log = logging.getLogger("snowflake_emulator.http")

ADMIN_PREFIX = "/__emulator"
# Snowflake's STATEMENT_TIMEOUT_IN_SECONDS default (2 days), and the ceiling `timeout: 0` means.
DEFAULT_TIMEOUT_SECS = 172_800
MAX_TIMEOUT_SECS = 604_800
# How long a connection may sit idle between keep-alive requests before the server closes it.
IDLE_CONNECTION_SECS = 120


@dataclass
class Emulator:
    """Everything a request handler needs, shared by all connections."""

    authenticator: Authenticator
    registry: StatementRegistry
    counters: Counters
    faults: FaultPlan
    sync_wait_secs: float
    partition_rows: int
    clock: EmulatorClock


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        super().__init__(address, SqlApiHandler)
        self.emulator = emulator


class BadRequest(Exception):
    """An invalid SQL API payload: 400 `390142`."""


class SqlApiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "snowflake-emulator"
    timeout = IDLE_CONNECTION_SECS
    server: EmulatorServer

    # -- dispatch -------------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        started = time.monotonic()
        url = urlsplit(self.path)
        query = {name: values[-1] for name, values in parse_qs(url.query).items()}
        body = self._read_body()
        segments = [segment for segment in url.path.split("/") if segment]
        reply: Reply | None
        try:
            reply = self._route(method, segments, query, body)
        except Exception:  # noqa: BLE001 - a bug answers 500 and the connection lives on
            log.exception("request %s %s failed", method, url.path)
            reply = Reply(500, {"code": "000500", "message": "Internal error in the local emulator."})
        if reply is None:
            status = "dropped"
            self._drop_connection()
        else:
            status = str(reply.status)
            try:
                self._send(reply)
            except (BrokenPipeError, ConnectionResetError):
                status += " (client had gone)"
                self.close_connection = True
        # The query string carries only requestId, retry, async, nullable and partition: no secret.
        log.info("%s %s -> %s in %.0f ms", method, self.path, status, (time.monotonic() - started) * 1000)

    def _route(self, method: str, segments: list[str], query: dict[str, str], body: bytes) -> Reply | None:
        if segments[:3] == ["api", "v2", "statements"]:
            rest = segments[3:]
            if not rest:
                return self._submit(query, body) if method == "POST" else _method_not_allowed()
            if len(rest) == 1:
                return self._status(rest[0], query) if method == "GET" else _method_not_allowed()
            if len(rest) == 2 and rest[1] == "cancel":
                return self._cancel(rest[0]) if method == "POST" else _method_not_allowed()
        if segments[:1] == [ADMIN_PREFIX.strip("/")]:
            return self._admin(method, segments[1:], body)
        return Reply(404, {"message": f"Not found: {urlsplit(self.path).path}"})

    # -- SQL API --------------------------------------------------------------------------------

    def _submit(self, query: dict[str, str], body: bytes) -> Reply | None:
        emulator = self.server.emulator
        if refused := self._authenticate():
            return refused
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return Reply(415, {"message": f"Unsupported media type {content_type or '(none)'}: use application/json."})
        try:
            submission = _submission(body, query)
        except BadRequest as invalid:
            log.info("invalid payload: %s", invalid)
            return Reply(400, {"code": "390142", "message": "Incoming request does not contain a valid payload."})
        if not submission.text.strip():
            return Reply(400, {"code": "000900", "message": "Empty SQL statement."})

        emulator.counters.count("submissions")
        statement = emulator.registry.plan(submission)
        if not statement.pieces and not statement.is_finished:
            return Reply(400, {"code": "000900", "message": "Empty SQL statement."})

        if fault := emulator.faults.front_door(statement.kinds):
            emulator.counters.fault_injected(fault)
            log.info("fault %s injected before running request %s", fault, submission.request_id)
            return _front_door_fault(fault)

        run_async = query.get("async", "").lower() == "true"
        if query.get("retry", "").lower() == "true" and (
            previous := emulator.registry.previous_attempt(submission.request_id)
        ):
            emulator.counters.count("served_from_history")
            log.info("requestId %s resent with retry=true: answered from %s", submission.request_id, previous.handle)
            if run_async:
                return responses.running(previous)
            previous.finished.wait(emulator.sync_wait_secs)
            return responses.for_statement(previous, 0, emulator.partition_rows, held=previous.held_polls > 0)

        if statement.is_finished:  # refused while planning: count mismatch, BEGIN alone, ...
            emulator.registry.remember_refused(statement)
            return responses.for_statement(statement, 0, emulator.partition_rows)

        execution_faults = emulator.faults.execution(statement.kinds)
        for name in execution_faults.names():
            emulator.counters.fault_injected(name)
        emulator.registry.start(statement, execution_faults)

        if execution_faults.drop_response:
            statement.finished.wait()
            log.info("fault drop: closing the connection after statement %s ran", statement.handle)
            return None
        if run_async:
            return responses.running(statement)
        statement.finished.wait(emulator.sync_wait_secs)
        # A submission never uses up the polls of the running=N fault.
        return responses.for_statement(statement, 0, emulator.partition_rows, held=statement.held_polls > 0)

    def _status(self, handle: str, query: dict[str, str]) -> Reply:
        emulator = self.server.emulator
        if refused := self._authenticate():
            return refused
        emulator.counters.count("polls")
        try:
            partition = int(query.get("partition", "0"))
        except ValueError:
            return Reply(400, {"code": "390142", "message": "Incoming request does not contain a valid payload."})
        statement, held = emulator.registry.poll(handle)
        if statement is None:
            return responses.handle_not_found(handle)
        return responses.for_statement(statement, partition, emulator.partition_rows, held=held)

    def _cancel(self, handle: str) -> Reply:
        emulator = self.server.emulator
        if refused := self._authenticate():
            return refused
        statement = emulator.registry.cancel(handle)
        if statement is None:
            return responses.handle_not_found(handle)
        # Give the interrupt a moment to land so the next poll already sees the cancelled state.
        statement.finished.wait(2.0)
        return responses.cancel_acknowledged(statement)

    def _authenticate(self) -> Reply | None:
        try:
            self.server.emulator.authenticator.check(self.headers)
        except AuthError as refused:
            self.server.emulator.counters.count("auth_failures")
            log.info("401: %s", refused.reason)
            return Reply(401, refused.body())
        return None

    # -- admin ----------------------------------------------------------------------------------

    def _admin(self, method: str, segments: list[str], body: bytes) -> Reply:
        emulator = self.server.emulator
        if segments == ["stats"] and method == "GET":
            return Reply(200, emulator.counters.snapshot())
        if segments == ["clock"] and method == "GET":
            return Reply(200, emulator.clock.describe())
        if segments == ["clock"] and method == "POST":
            try:
                request = json.loads(body or b"{}")
                days = float(request.get("advance_days", 0))
                secs = float(request.get("advance_secs", 0))
                emulator.clock.advance(days * SECONDS_PER_DAY + secs)
            except (ValueError, TypeError, AttributeError) as invalid:
                return Reply(400, {"message": f"Invalid clock change: {invalid}"})
            log.info("clock advanced to %s", emulator.clock.describe()["now"])
            return Reply(200, emulator.clock.describe())
        if segments == ["sql"] and method == "POST":
            try:
                request = json.loads(body or b"{}")
                if not isinstance(request, dict) or not isinstance(request.get("statement"), str):
                    raise ValueError("body has no string `statement`")
            except ValueError as invalid:
                return Reply(400, {"message": f"Invalid admin SQL request: {invalid}"})
            return run_admin_sql(emulator.registry, request["statement"], request.get("database"), request.get("schema"))
        if segments == ["faults"] and method == "GET":
            return Reply(200, emulator.faults.describe())
        if segments == ["faults"] and method == "POST":
            try:
                spec = json.loads(body or b"{}").get("spec", "")
                if not isinstance(spec, str):
                    raise FaultSpecError("spec must be a string")
                emulator.faults = FaultPlan(spec)
            except (ValueError, AttributeError) as invalid:
                return Reply(400, {"message": f"Invalid fault spec: {invalid}"})
            log.info("fault rules replaced: %r", spec)
            return Reply(200, emulator.faults.describe())
        return Reply(404, {"message": f"Not found: {urlsplit(self.path).path}"})

    # -- wire -----------------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        # Read the whole body before answering anything, so a keep-alive connection stays in step.
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while (size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)) > 0:
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, reply: Reply) -> None:
        payload = json.dumps(reply.body, separators=(",", ":")).encode()
        headers = dict(reply.headers)
        if reply.gzip_allowed and "gzip" in (self.headers.get("Accept-Encoding") or "").lower():
            payload = gzip.compress(payload)
            headers["Content-Encoding"] = "gzip"
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _drop_connection(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # the client went first

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # one line per request is logged by _dispatch, with the timing

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        log.info("%s %s", self.address_string(), format % args)


def _submission(body: bytes, query: dict[str, str]) -> Submission:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequest(f"body is not JSON: {error}") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("statement"), str):
        raise BadRequest("body has no string `statement`")

    timeout = payload.get("timeout")
    if timeout is None:
        timeout_secs = DEFAULT_TIMEOUT_SECS
    elif isinstance(timeout, int) and not isinstance(timeout, bool) and timeout >= 0:
        timeout_secs = MAX_TIMEOUT_SECS if timeout == 0 else min(timeout, MAX_TIMEOUT_SECS)
    else:
        raise BadRequest("timeout must be a whole number of seconds")

    parameters = payload.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise BadRequest("parameters must be an object")
    # The docs spell parameter names in upper case and the OpenAPI spec in lower case.
    by_name = {str(name).upper(): value for name, value in parameters.items()}
    try:
        statement_count = int(by_name.get("MULTI_STATEMENT_COUNT", 1))
    except (TypeError, ValueError):
        raise BadRequest("MULTI_STATEMENT_COUNT must be a whole number") from None
    if statement_count < 0:
        raise BadRequest("MULTI_STATEMENT_COUNT must not be negative")

    bindings = payload.get("bindings")
    if bindings is not None and not isinstance(bindings, dict):
        raise BadRequest("bindings must be an object")
    for field_name in ("database", "schema", "warehouse", "role"):
        if payload.get(field_name) is not None and not isinstance(payload[field_name], str):
            raise BadRequest(f"{field_name} must be a string")

    return Submission(
        text=payload["statement"],
        request_id=query.get("requestId") or str(uuid.uuid4()),
        database=payload.get("database") or None,
        schema=payload.get("schema") or None,
        timeout_secs=timeout_secs,
        statement_count=statement_count,
        bindings=bindings or None,
        nullable=query.get("nullable", "true").lower() != "false",
        warehouse=payload.get("warehouse") or None,
        timezone=_timezone(by_name.get("TIMEZONE")),
        role=payload.get("role") or None,
    )


def run_admin_sql(
    registry: StatementRegistry, text: str, database: str | None = None, schema: str | None = None
) -> Reply:
    """Run statements as the account administrator and answer as the SQL API would."""
    submission = Submission(
        text=text,
        request_id=str(uuid.uuid4()),
        database=database or None,
        schema=schema or None,
        timeout_secs=DEFAULT_TIMEOUT_SECS,
        statement_count=0,
        bindings=None,
        nullable=True,
        admin=True,
    )
    statement = registry.plan(submission)
    if not statement.pieces and not statement.is_finished:
        return Reply(400, {"code": "000900", "message": "Empty SQL statement."})
    if statement.is_finished:
        registry.remember_refused(statement)
    else:
        registry.start(statement, ExecutionFaults())
    statement.finished.wait()
    return responses.for_statement(statement, 0, 1_000_000)


def _timezone(value: Any) -> str | None:  # noqa: ANN401 - whatever the JSON held
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise BadRequest("TIMEZONE must be a time zone name")
    return value.strip()


def _front_door_fault(kind: str) -> Reply:
    # UNVERIFIED: Snowflake documents the statuses, not the bodies of 429 and 503; clients must
    # act on the status alone, so these bodies carry only a message.
    if kind == "429":
        return Reply(429, {"message": "Too many requests. Retry with backoff."})
    if kind == "503":
        return Reply(503, {"message": "Service temporarily unavailable. Retry with backoff."})
    return Reply(401, expired_token_error().body())


def _method_not_allowed() -> Reply:
    return Reply(405, {"message": "Method not allowed."})
