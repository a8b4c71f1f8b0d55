"""Statement lifecycle: handles, the request-id history, one executor, timeouts and cancel.

Every submitted request becomes a `Statement` with a handle; a multi-statement request also gets
one child `Statement` per statement (fetchable by its own handle, as in Snowflake). Statements run
one at a time on a single executor thread, in submission order: the emulator is a test fixture,
and serial execution keeps DuckDB free of write conflicts and makes every run reproducible. The
HTTP layer waits for a statement as long as Snowflake would (the sync wait, 45 s by default) and
answers 202 past it, so a slow statement turns asynchronous exactly like a real one.

Idempotency follows Snowflake's docs ("Resubmitting a request to execute SQL statements",
docs.snowflake.com/en/developer-guide/sql-api/submitting-requests): a resend of a `requestId` with
`retry=true` is answered from the statement already submitted under that id (its result if it
succeeded, its progress if it is still running) and runs nothing. Without `retry=true` a known
`requestId` is an ordinary new submission: Snowflake only looks up statement history when asked
to, so it runs again.

Snowflake documents `retry=true` for a request whose outcome is unknown; it says nothing of a
resend after a definite failure (422, a cancel, a 408). The emulator takes the harsher reading
(a guess): that resend too is answered from history, with the same failure and handle, and runs
nothing, so a client that resends the id of a statement that definitely failed keeps failing
until the id leaves the window, and must use a new id for a new attempt.

A `requestId` stays matchable for `--request-id-window-secs` (default 24 hours, on the
emulator's clock) after its statement was submitted; a resend after that runs the statement
again. Guess: Snowflake documents no window; 24 hours is how long it keeps a statement's result
for the SQL API to fetch (and the harsher choice than keeping ids forever).
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from fakesnow.instance import FakeSnow

from snowflake_emulator.counters import Counters
from snowflake_emulator.access_control import AccessControl
from snowflake_emulator.engine import DEFAULT_TIMEZONE, Services, Session, StatementResult
from snowflake_emulator.faults import ExecutionFaults
from snowflake_emulator.sql_errors import (
    COMMAND_NOT_SUPPORTED,
    MULTI_STATEMENT_FAILED,
    STATEMENT_COUNT_MISMATCH,
    UNSUPPORTED_FEATURE,
    StatementError,
    StatementInterrupted,
    from_exception,
)
from snowflake_emulator.statement_text import TRANSACTION_COMMANDS, StatementText, split_statements
from snowflake_emulator.wire_values import text_column

log = logging.getLogger("snowflake_emulator.statements")

MULTI_STATEMENT_COLUMN = "multiple statement execution"
MULTI_STATEMENT_DONE = "Multiple statements executed successfully."


class State(Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    TIMED_OUT = "timed_out"


FINISHED = {State.SUCCEEDED, State.FAILED, State.CANCELED, State.TIMED_OUT}


@dataclass
class Submission:
    """A validated POST /api/v2/statements."""

    text: str
    request_id: str
    database: str | None
    schema: str | None
    timeout_secs: int
    statement_count: int  # MULTI_STATEMENT_COUNT; 0 means any number
    bindings: dict[str, Any] | None
    nullable: bool
    warehouse: str | None = None
    timezone: str | None = None  # the TIMEZONE parameter; Snowflake's default when None
    role: str | None = None
    admin: bool = False  # the emulator's administrator (ACCOUNTADMIN, no checks, not counted)


@dataclass
class Statement:
    handle: str
    request_id: str
    created_on_ms: int
    timeout_secs: int
    nullable: bool
    kinds: frozenset[str]
    pieces: list[StatementText] = field(default_factory=list)
    state: State = State.QUEUED
    result: StatementResult | None = None
    error: StatementError | None = None
    child_handles: list[str] | None = None
    held_polls: int = 0  # the running=N fault: polls still to answer 202 after it finished
    faults: ExecutionFaults = field(default_factory=ExecutionFaults)
    finished: threading.Event = field(default_factory=threading.Event)
    # Execution internals.
    submission: Submission | None = None
    interrupt_reason: str | None = None  # "cancel" or "timeout"
    wake: threading.Event = field(default_factory=threading.Event)
    session: Session | None = None

    @property
    def is_finished(self) -> bool:
        return self.state in FINISHED


DEFAULT_REQUEST_ID_WINDOW_SECS = 24 * 3600


class StatementRegistry:
    def __init__(
        self,
        fake: FakeSnow,
        counters: Counters,
        services: Services,
        max_kept: int = 10_000,
        require_warehouse: bool = False,
        request_id_window_secs: float = DEFAULT_REQUEST_ID_WINDOW_SECS,
    ) -> None:
        self._fake = fake
        self._require_warehouse = require_warehouse
        self._request_id_window_ms = request_id_window_secs * 1000
        self._counters = counters
        self._services = services
        self._max_kept = max_kept
        self._lock = threading.Lock()
        self._statements: OrderedDict[str, Statement] = OrderedDict()
        self._by_request_id: dict[str, str] = {}
        self._queue: queue.Queue[Statement | None] = queue.Queue()
        self._executor = threading.Thread(target=self._execute_forever, name="statement-executor", daemon=True)
        self._executor.start()

    # -- submission -------------------------------------------------------------------------

    def previous_attempt(self, request_id: str) -> Statement | None:
        """The statement a `retry=true` resend should be answered with, if any."""
        with self._lock:
            handle = self._by_request_id.get(request_id)
            statement = self._statements.get(handle) if handle else None
        if statement is None:
            return None
        if self._services.clock.now_ms() - statement.created_on_ms > self._request_id_window_ms:
            return None  # too old to be matched: the resend runs again
        return statement

    def plan(self, submission: Submission) -> Statement:
        """Split and check a submission; a request Snowflake refuses comes back already FAILED."""
        statement = Statement(
            handle=new_handle(),
            request_id=submission.request_id,
            created_on_ms=self._services.clock.now_ms(),
            timeout_secs=submission.timeout_secs,
            nullable=submission.nullable,
            kinds=frozenset(),
            submission=submission,
        )
        try:
            statement.pieces = split_statements(submission.text)
            statement.kinds = frozenset(piece.kind for piece in statement.pieces) or frozenset({"other"})
            if statement.pieces:  # no statement at all is the HTTP layer's 400, not a count mismatch
                _check_request(submission, statement.pieces)
        except StatementError as refused:
            statement.state, statement.error = State.FAILED, refused
            statement.finished.set()
        return statement

    def start(self, statement: Statement, faults: ExecutionFaults) -> None:
        statement.faults = faults
        statement.held_polls = faults.running_polls
        self._remember(statement)
        if not statement.is_finished:
            self._queue.put(statement)

    def remember_refused(self, statement: Statement) -> None:
        self._remember(statement)

    # -- status, polls and cancel -------------------------------------------------------------

    def get(self, handle: str) -> Statement | None:
        with self._lock:
            return self._statements.get(handle)

    def poll(self, handle: str) -> tuple[Statement | None, bool]:
        """The statement and whether this poll must still answer 202 (the running=N fault)."""
        with self._lock:
            statement = self._statements.get(handle)
            if statement is None or not statement.is_finished:
                return statement, False
            if statement.held_polls > 0:
                statement.held_polls -= 1
                return statement, True
            return statement, False

    def cancel(self, handle: str) -> Statement | None:
        with self._lock:
            statement = self._statements.get(handle)
            if statement is None or statement.is_finished:
                return statement
            if statement.state == State.QUEUED:
                statement.state = State.CANCELED
                statement.finished.set()
                return statement
        self._interrupt(statement, "cancel")
        return statement

    def close(self) -> None:
        self._queue.put(None)
        self._executor.join(timeout=10)

    # -- execution ----------------------------------------------------------------------------

    def _execute_forever(self) -> None:
        while (statement := self._queue.get()) is not None:
            try:
                self._execute(statement)
            except Exception:  # noqa: BLE001 - the executor must outlive any single statement
                log.exception("statement %s crashed the executor step", statement.handle)

    def _execute(self, statement: Statement) -> None:
        with self._lock:
            if statement.state != State.QUEUED:
                return  # cancelled while queued
            statement.state = State.RUNNING
        timer = threading.Timer(statement.timeout_secs, self._interrupt, args=(statement, "timeout"))
        timer.daemon = True
        timer.start()
        state, result, error = State.FAILED, None, None
        try:
            if statement.faults.slow_secs and statement.wake.wait(statement.faults.slow_secs):
                raise StatementInterrupted()
            result = self._run_statements(statement)
            state = State.SUCCEEDED
        except StatementInterrupted:
            state = State.TIMED_OUT if statement.interrupt_reason == "timeout" else State.CANCELED
        except StatementError as failed:
            error = failed
        except Exception as unexpected:  # noqa: BLE001
            error = from_exception(unexpected)
        finally:
            timer.cancel()
        with self._lock:
            statement.state, statement.result, statement.error = state, result, error
            statement.finished.set()
        outcome = state.value + (f" {error}".replace("\n", " ") if error else "")
        log.info("statement %s %s", statement.handle, outcome)

    def _run_statements(self, statement: Statement) -> StatementResult:
        submission = statement.submission
        assert submission is not None
        access = (
            AccessControl.admin_session()
            if submission.admin
            else self._services.access.open_session(submission.role, submission.warehouse, self._require_warehouse)
        )
        session = Session(
            self._fake,
            submission.database,
            submission.schema,
            self._services,
            access,
            timezone=submission.timezone or DEFAULT_TIMEZONE,
        )
        with self._lock:
            statement.session = session
        try:
            if statement.interrupt_reason:
                raise StatementInterrupted()
            if len(statement.pieces) == 1:
                piece = statement.pieces[0]
                self._count(piece, submission)
                return session.execute(piece.sql, submission.bindings)
            return self._run_multi(statement, session)
        finally:
            with self._lock:
                statement.session = None
            session.close()

    def _run_multi(self, statement: Statement, session: Session) -> StatementResult:
        statement.child_handles = []
        for piece in statement.pieces:
            if statement.interrupt_reason:
                raise StatementInterrupted()
            child = Statement(
                handle=new_handle(),
                request_id=statement.request_id,
                created_on_ms=self._services.clock.now_ms(),
                timeout_secs=statement.timeout_secs,
                nullable=statement.nullable,
                kinds=frozenset({piece.kind}),
                pieces=[piece],
                state=State.RUNNING,
            )
            self._remember(child, index_request_id=False)
            statement.child_handles.append(child.handle)
            self._count(piece, statement.submission)
            try:
                child.result = session.execute(piece.sql)
                child.state = State.SUCCEEDED
            except StatementError as failed:
                child.state, child.error = State.FAILED, failed
                raise _multi_statement_failure(piece, failed) from failed
            except StatementInterrupted:
                child.state = State.TIMED_OUT if statement.interrupt_reason == "timeout" else State.CANCELED
                raise
            finally:
                child.finished.set()
        return StatementResult([text_column(MULTI_STATEMENT_COLUMN)], [[MULTI_STATEMENT_DONE]])

    def _count(self, piece: StatementText, submission: Submission | None) -> None:
        if submission is not None and submission.admin:
            self._counters.count("admin_statements")
        else:
            self._counters.statement_executed(piece.kind, piece.verb)

    def _interrupt(self, statement: Statement, reason: str) -> None:
        with self._lock:
            if statement.is_finished or statement.interrupt_reason:
                return
            statement.interrupt_reason = reason
            statement.wake.set()
            session = statement.session
        if session is not None:
            session.interrupt()

    # -- bookkeeping --------------------------------------------------------------------------

    def _remember(self, statement: Statement, index_request_id: bool = True) -> None:
        with self._lock:
            self._statements[statement.handle] = statement
            if index_request_id:
                self._by_request_id[statement.request_id] = statement.handle
            # Oldest finished statements go first; the history is for resends and polls, which
            # come soon after the submission.
            excess = len(self._statements) - self._max_kept
            for handle in list(itertools.islice(self._statements, max(excess, 0))):
                old = self._statements[handle]
                if old.is_finished:
                    del self._statements[handle]
                    if self._by_request_id.get(old.request_id) == handle:
                        del self._by_request_id[old.request_id]


def new_handle() -> str:
    # Snowflake's handles are UUID-shaped (019c06a4-0000-df4f-0000-00100006589e).
    return str(uuid.uuid4())


def _check_request(submission: Submission, pieces: list[StatementText]) -> None:
    if submission.statement_count not in (0, len(pieces)):
        raise StatementError(
            *STATEMENT_COUNT_MISMATCH,
            f"Actual statement count {len(pieces)} did not match the desired statement count "
            f"{submission.statement_count}.",
        )
    if len(pieces) > 1 and submission.bindings:
        raise StatementError(*UNSUPPORTED_FEATURE, "Bindings are not supported in multi-statement requests.")
    if len(pieces) == 1 and (command := TRANSACTION_COMMANDS.get(pieces[0].first_word)):
        # Snowflake runs transaction control only inside a multi-statement request.
        raise StatementError(*COMMAND_NOT_SUPPORTED, f"Command not supported by SQL API: {command}")


def _multi_statement_failure(piece: StatementText, failed: StatementError) -> StatementError:
    # Snowflake runs multi-statement requests through a JavaScript wrapper (SYSTEM$MULTISTMT), whose
    # error carries the failing statement's own code and message only in its text.
    shown = piece.sql if len(piece.sql) <= 100 else piece.sql[:100] + "..."
    return StatementError(
        *MULTI_STATEMENT_FAILED,
        "JavaScript execution error: Uncaught Execution of multiple statements failed on statement "
        f'"{shown}" (at line {piece.line}, position {piece.position}).\n'
        f"{failed.message} ({failed.code}/{failed.sql_state}) in SYSTEM$MULTISTMT",
    )
