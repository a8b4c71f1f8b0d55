"""Command line: parse flags, build the emulator, print `listening on http://ADDR`, serve until
SIGINT or SIGTERM, then close the database cleanly (so `--db-path` files are checkpointed)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from snowflake_emulator.faults import FaultPlan, FaultSpecError

log = logging.getLogger("snowflake_emulator")


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
    args = parse_args(argv)

    # Imported only now: fakesnow and the Snowflake connector take seconds to import, and a flag
    # mistake should be reported at once.
    from snowflake_emulator.auth import Authenticator, load_public_key
    from snowflake_emulator.counters import Counters
    from snowflake_emulator.database import open_fakesnow
    from snowflake_emulator.http_front import Emulator, EmulatorServer
    from snowflake_emulator.statements import StatementRegistry

    authenticator = Authenticator(
        keys=[load_public_key(path) for path in args.public_key],
        pat=read_pat(args.pat),
        account=args.account,
        user=args.user,
    )
    counters = Counters()
    fake = open_fakesnow(args.db_path)
    registry = StatementRegistry(
        fake, counters, max_kept=args.max_kept_statements, require_warehouse=args.require_warehouse
    )
    emulator = Emulator(
        authenticator=authenticator,
        registry=registry,
        counters=counters,
        faults=args.fault_plan,
        sync_wait_secs=args.sync_wait_secs,
        partition_rows=args.partition_rows,
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
