"""Command line: parse flags, build the emulator, print `listening on http://ADDR`, serve until
SIGINT or SIGTERM, then close the database cleanly (so `--db-path` files are checkpointed).

Flags may also come from the environment variable SNOWFLAKE_EMULATOR_EXTRA_FLAGS (split like a
shell command line and appended to the command line's flags): a way to run a test suite that
starts the emulator itself (the Rust integration tests) with a strict mode turned on, e.g.
`SNOWFLAKE_EMULATOR_EXTRA_FLAGS='--locked-down-role INTACCT_LOADER'`. The emulator logs the flags
it took from there.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from snowflake_emulator.faults import FaultPlan, FaultSpecError

log = logging.getLogger("snowflake_emulator")

EXTRA_FLAGS_VARIABLE = "SNOWFLAKE_EMULATOR_EXTRA_FLAGS"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="snowflake-emulator",
        description="Snowflake SQL API v2 over fakesnow (DuckDB), for tests, benchmarks and the demo.",
    )
    parser.add_argument("--listen", required=True, metavar="HOST:PORT", help="address to bind; port 0 picks one")
    parser.add_argument(
        "--public-key",
        action="append",
        default=[],
        type=Path,
        metavar="PEMFILE",
        help="RSA public key (PEM) that KEYPAIR_JWT tokens are verified against; repeat for key rotation",
    )
    parser.add_argument("--pat", metavar="TOKEN-FILE-or-value", help="accepted PROGRAMMATIC_ACCESS_TOKEN")
    parser.add_argument("--account", help="account the JWT must name (any upper-case account when omitted)")
    parser.add_argument("--user", help="user the JWT must name (with --account)")
    parser.add_argument("--db-path", type=Path, metavar="DIR", help="persist data in this directory (one file per database)")
    parser.add_argument("--faults", default="", metavar="SPEC", help="fault rules, e.g. 503:copy:nth=1,drop:merge:rate=0.5,seed=7")
    parser.add_argument(
        "--sync-wait-secs",
        type=float,
        default=45.0,
        help="how long a POST waits for its statement before answering 202 (Snowflake: 45)",
    )
    parser.add_argument(
        "--require-warehouse",
        action="store_true",
        help="fail queries and DML of a request that names no warehouse (000606), as Snowflake does "
        "for a user without a default warehouse",
    )
    parser.add_argument("--partition-rows", type=int, default=10_000, help="rows per result partition")
    parser.add_argument("--max-kept-statements", type=int, default=10_000, help="statement history kept for polls and resends")
    account = parser.add_argument_group(
        "account objects",
        "What exists in the emulated account, each name as Snowflake stores it (LOAD_WH for a warehouse created "
        "as load_wh). The request body's `warehouse` and `role` are matched literally (case-sensitive), as the "
        "SQL API does.",
    )
    account.add_argument(
        "--warehouse",
        action="append",
        metavar="NAME",
        help="a warehouse that exists (repeatable); without any, every warehouse name is accepted. A body "
        "`warehouse` that does not exist leaves the session without one: queries and DML fail with 000606",
    )
    account.add_argument(
        "--role",
        action="append",
        metavar="NAME",
        help="a role the user has (repeatable); without any (and without --locked-down-role), every role is "
        "accepted. A body `role` the user lacks fails the request with 390189",
    )
    account.add_argument("--default-role", metavar="NAME", help="the user's default role (for requests naming none)")
    account.add_argument(
        "--locked-down-role",
        metavar="NAME",
        help="a role with only USAGE and CREATE TABLE/VIEW/STAGE/FILE FORMAT on schemas (and what an admin grants): "
        "CREATE SCHEMA/DATABASE [IF NOT EXISTS] fail with 003001 even when the object exists. The user's default "
        "role unless --default-role says otherwise",
    )
    account.add_argument(
        "--storage-integration",
        action="append",
        default=[],
        metavar="NAME",
        help="a storage integration that exists (repeatable); CREATE STAGE naming another fails",
    )
    account.add_argument(
        "--setup-sql",
        type=Path,
        metavar="FILE",
        help="statements run once at start as the account administrator (databases, roles, grants a test needs)",
    )
    parser.add_argument(
        "--s3-endpoint",
        metavar="URL",
        help="S3-compatible endpoint that s3:// stages are read from (credentials from the AWS environment variables)",
    )
    parser.add_argument(
        "--request-id-window-secs",
        type=float,
        default=24 * 3600,
        help="how long (on the emulator clock) a requestId stays matchable for retry=true resends",
    )
    args = parser.parse_args(argv)
    if not args.public_key and not args.pat:
        parser.error("give --public-key, --pat, or both")
    if bool(args.account) != bool(args.user):
        parser.error("--account and --user go together")
    if args.partition_rows < 1:
        parser.error("--partition-rows must be at least 1")
    host, sep, port = args.listen.rpartition(":")
    if not sep or not host or not port.isdigit():
        parser.error("--listen must be HOST:PORT")
    args.address = (host.strip("[]"), int(port))
    try:
        args.fault_plan = FaultPlan(args.faults)
    except FaultSpecError as invalid:
        parser.error(str(invalid))
    return args


def read_pat(value: str | None) -> str | None:
    """`--pat` names a file holding the token, or is the token itself."""
    if value is None:
        return None
    candidate = Path(value)
    try:
        if candidate.is_file():
            return candidate.read_text().strip()
    except OSError:
        pass  # too long or odd for a path: a literal token
    return value.strip()


def main(argv: list[str]) -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # sqlglot warns each time its DuckDB output drops a Snowflake-only property (TRANSIENT tables);
    # harmless here, and it would repeat for every staging-table DDL.
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    extra = shlex.split(os.environ.get(EXTRA_FLAGS_VARIABLE, ""))
    if extra:
        log.info("flags from %s: %s", EXTRA_FLAGS_VARIABLE, " ".join(extra))
    args = parse_args([*argv, *extra])

    # Imported only now: fakesnow and the Snowflake connector take seconds to import, and a flag
    # mistake should be reported at once.
    from snowflake_emulator.access_control import AccessControl, AccountSettings
    from snowflake_emulator.auth import Authenticator, load_public_key
    from snowflake_emulator.clock import EmulatorClock
    from snowflake_emulator.counters import Counters
    from snowflake_emulator.database import open_fakesnow
    from snowflake_emulator.engine import Services
    from snowflake_emulator.http_front import Emulator, EmulatorServer, run_admin_sql
    from snowflake_emulator.stage_storage import S3Settings
    from snowflake_emulator.statements import StatementRegistry

    authenticator = Authenticator(
        keys=[load_public_key(path) for path in args.public_key],
        pat=read_pat(args.pat),
        account=args.account,
        user=args.user,
    )
    counters = Counters()
    clock = EmulatorClock()
    fake = open_fakesnow(args.db_path)
    access = AccessControl(
        fake.duck_conn,
        AccountSettings(
            account=args.account,
            warehouses=args.warehouse,
            roles=args.role,
            default_role=args.default_role,
            locked_down_role=args.locked_down_role,
            storage_integrations=tuple(args.storage_integration),
        ),
        clock,
    )
    services = Services(clock=clock, access=access, s3=S3Settings(args.s3_endpoint), counters=counters)
    registry = StatementRegistry(
        fake,
        counters,
        services,
        max_kept=args.max_kept_statements,
        require_warehouse=args.require_warehouse,
        request_id_window_secs=args.request_id_window_secs,
    )
    if args.setup_sql is not None:
        answer = run_admin_sql(registry, args.setup_sql.read_text())
        if answer.status != 200:
            log.error("--setup-sql %s failed: %s", args.setup_sql, answer.body.get("message"))
            registry.close()
            fake.duck_conn.close()
            return 2
    emulator = Emulator(
        authenticator=authenticator,
        registry=registry,
        counters=counters,
        faults=args.fault_plan,
        sync_wait_secs=args.sync_wait_secs,
        partition_rows=args.partition_rows,
        clock=clock,
    )
    server = EmulatorServer(args.address, emulator)

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("%s received, shutting down", signal.Signals(signum).name)
        # shutdown() waits for serve_forever() to return, which runs on this very thread: ask
        # from another one.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    host, port = server.server_address[:2]
    shown_host = f"[{host}]" if ":" in str(host) else host
    print(f"listening on http://{shown_host}:{port}", flush=True)
    log.info("serving the SQL API v2 on %s:%s (data: %s)", shown_host, port, args.db_path or "in memory")
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        registry.close()
        fake.duck_conn.close()
        log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
