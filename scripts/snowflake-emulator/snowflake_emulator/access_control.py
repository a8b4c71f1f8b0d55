"""Who a request runs as, on which warehouse, and what that role may do: roles, warehouses,
storage integrations, grants, and the locked-down loader role.

**The request's warehouse and role are identifiers taken literally.** The SQL API's `warehouse`,
`role`, `database` and `schema` fields are case-sensitive (OpenAPI spec snowflakedb/snowflake-
rest-api-specs `specifications/sqlapi.yaml`: "The value in this field is case-sensitive."; docs
"Submitting a request", docs.snowflake.com/en/developer-guide/sql-api/submitting-requests: "The
values in these fields are case-sensitive. If you omit these fields, the SQL API uses the values
of the corresponding properties for the user"). So `load_wh` in the body names another warehouse
than `LOAD_WH`, while `USE WAREHOUSE load_wh` in SQL resolves the unquoted identifier to LOAD_WH.

* Warehouses that exist: `--warehouse NAME` (repeatable) and `CREATE WAREHOUSE`. With none
  declared, any name is accepted (the emulator then has no warehouses to look up). A body
  `warehouse` that does not exist leaves the session without a current warehouse, so every
  query and DML statement fails with `000606` "No active warehouse selected in the current
  session." — Snowflake's answer when a session's warehouse name does not resolve
  (snowflakedb/snowflake-connector-python#795: a warehouse name that did not match the stored
  name gave exactly this on SELECT), while DDL still runs. Guess: the SQL API does not refuse the
  request itself (Snowflake only validates the warehouse at login when asked to, cf. the
  terraform provider's `validate_default_parameters` tests: "The requested warehouse does not
  exist or not authorized." only with validation on). `--require-warehouse` keeps its meaning:
  a request naming no warehouse has none (the user has no default warehouse).
  `USE WAREHOUSE x` of a warehouse that does not exist is `002043` "Object does not exist, or
  operation cannot be performed.".
* Roles the user has: `--role NAME` (repeatable), `--locked-down-role NAME`, `CREATE ROLE`, and
  PUBLIC. With none declared, any role is accepted. A body `role` the user does not have fails
  the request before anything runs: 422 `390189` / `08004` "Role '<role>' specified in the connect
  string does not exist or not authorized. Contact your local system administrator, or attempt
  to login with another role, e.g. PUBLIC." (the login error drivers print, e.g. "390189 (08004):
  Role 'PRIVATE' specified in the connect string does not exist or not authorized. ..." in
  Snowflake-Labs/sfguides; Snowflake-Labs/terraform-provider-snowflake acceptance tests). Guess:
  the SQL API answers it as a statement failure with a handle. A request without a role runs as
  the user's default role: `--default-role`, else the locked-down role, else the first `--role`,
  else SYSADMIN.
* Storage integrations: `--storage-integration NAME` (repeatable) and `CREATE STORAGE
  INTEGRATION`. `CREATE STAGE ... STORAGE_INTEGRATION = X` of one that does not exist fails with
  `002003` "SQL compilation error:\nIntegration 'X' does not exist or not authorized." (wording
  and code follow Snowflake's pattern for objects; UNVERIFIED), also when the stage already exists
  and the statement says IF NOT EXISTS (the harsher guess).

**The locked-down role** (`--locked-down-role NAME`): the role a careful administrator gives a
loader. It has USAGE on databases and schemas, CREATE TABLE, CREATE VIEW, CREATE STAGE and CREATE
FILE FORMAT on schemas, USAGE on storage integrations, ownership of what it creates — and nothing
else unless granted (`GRANT CREATE SCHEMA ON DATABASE d TO ROLE r`, `GRANT CREATE DATABASE ON
ACCOUNT TO ROLE r`). Snowflake checks the privilege of a CREATE before it looks at IF NOT
EXISTS, so `CREATE SCHEMA IF NOT EXISTS x` fails even when x exists, and so does `CREATE DATABASE
IF NOT EXISTS`. Evidence: astronomer/astro-sdk#329 (`CREATE SCHEMA IF NOT EXISTS tmp_astro` →
"003001 (42501): SQL access control error:\nInsufficient privileges to operate on database
'SANDBOX'"), dbt-labs/dbt-external-tables#214 (same error, schema existed), dbt-labs/dbt-event-
logging#39 ("Running CREATE IF NOT EXISTS still requires CREATE SCHEMA privileges, at least in
Snowflake"), snowflakedb/snowpark-python#425 (CREATE TABLE IF NOT EXISTS needs CREATE TABLE on the
schema although the table exists), sqitchers/sqitch#826. For a database: "Insufficient privileges
to operate on account '<ACCOUNT>'" (the account is `--account`, upper-cased). Newer Snowflake
releases append "Your primary role X must have CREATE DATABASE granted on ACCOUNT."; the emulator
answers the older first line only. Also refused for that role: CREATE ROLE, CREATE WAREHOUSE,
CREATE STORAGE INTEGRATION and grants on account objects (account), DROP DATABASE / DROP SCHEMA
(the database / schema), GRANT or REVOKE on a view or table another role owns (that object).
Everything that reads (SHOW SCHEMAS LIKE, SHOW DATABASES LIKE, INFORMATION_SCHEMA, SHOW FILE
FORMATS, SHOW STAGES, DESC FILE FORMAT, SHOW GRANTS) works.

The emulator's administrator (`POST /__emulator/sql`, `--setup-sql FILE`) runs as ACCOUNTADMIN
with no checks: that is how a test creates the database, schema, roles and grants a locked-down
loader finds in place.

**Grants.** `GRANT <privileges> ON <VIEW|TABLE|SCHEMA|DATABASE|INTEGRATION|WAREHOUSE> name TO ROLE
r [WITH GRANT OPTION]`, `... ON ACCOUNT`, and REVOKE are recorded; `SHOW GRANTS ON <kind> name`
and `SHOW GRANTS TO ROLE r` list them in Snowflake's columns `created_on`, `privilege`,
`granted_on`, `name`, `granted_to`, `grantee_name`, `grant_option`, `granted_by`
(docs.snowflake.com/en/sql-reference/sql/show-grants), including the OWNERSHIP grant of the role
that created a view or table. `CREATE OR REPLACE VIEW v` drops every grant on v unless the
statement says `COPY GRANTS` (docs "CREATE VIEW", COPY GRANTS: "If you replace an existing view
without COPY GRANTS, the new view does not inherit any explicit access privileges granted on the
original view"); the new view is owned by the role that replaced it. DROP VIEW / DROP TABLE drop
their grants. Other GRANT forms (`GRANT ROLE ... TO USER`, `... ON ALL VIEWS IN SCHEMA`, future
grants) are accepted and not recorded.

Roles, warehouses, integrations and grants live in `_fs_global` (so `--db-path` keeps them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb
from fakesnow.instance import GLOBAL_DATABASE_NAME
from sqlglot import exp

from snowflake_emulator.identifiers import quote_if_needed, split_name
from snowflake_emulator.sql_errors import (
    INSUFFICIENT_PRIVILEGES,
    OBJECT_DOES_NOT_EXIST_OR_CANNOT_OPERATE,
    OBJECT_NOT_AUTHORIZED,
    ROLE_NOT_AUTHORIZED,
    SYNTAX_ERROR,
    StatementError,
)
from snowflake_emulator.wire_values import Column, seconds_text, text_column

if TYPE_CHECKING:
    from snowflake_emulator.clock import EmulatorClock

ADMIN_ROLE = "ACCOUNTADMIN"
PUBLIC_ROLE = "PUBLIC"
FALLBACK_DEFAULT_ROLE = "SYSADMIN"
OBJECTS_TABLE = f"{GLOBAL_DATABASE_NAME}._fs_information_schema._emulator_account_objects"
GRANTS_TABLE = f"{GLOBAL_DATABASE_NAME}._fs_information_schema._emulator_grants"
SHOW_GRANTS_COLUMNS: list[Column] = [
    Column("created_on", "timestamp_ltz", precision=0, scale=9),
    text_column("privilege"),
    text_column("granted_on"),
    text_column("name"),
    text_column("granted_to"),
    text_column("grantee_name"),
    text_column("grant_option"),
    text_column("granted_by"),
]
SHOW_GRANTS_ON = re.compile(
    r"^SHOW\s+GRANTS\s+ON\s+(?:(?P<account>ACCOUNT)|(?P<kind>FILE\s+FORMAT|STORAGE\s+INTEGRATION|\w+)\s+(?P<name>.+?))\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
SHOW_GRANTS_TO_ROLE = re.compile(r"^SHOW\s+GRANTS\s+TO\s+ROLE\s+(?P<name>.+?)\s*;?\s*$", re.IGNORECASE | re.DOTALL)
CREATE_ROLE = re.compile(r"^CREATE\s+(OR\s+REPLACE\s+)?ROLE\s+(?P<exists>IF\s+NOT\s+EXISTS\s+)?(?P<name>.+?)\s*;?\s*$", re.IGNORECASE)


@dataclass
class AccountSettings:
    """The account as the flags declare it."""

    account: str | None = None
    warehouses: list[str] | None = None  # None: any warehouse name is accepted
    roles: list[str] | None = None  # None: any role is accepted
    default_role: str | None = None
    locked_down_role: str | None = None
    storage_integrations: tuple[str, ...] = ()


@dataclass
class SessionAccess:
    """One request's identity: its role, its warehouse, and whether checks apply."""

    role: str
    warehouse: str | None  # the current warehouse; None when the session has none
    admin: bool = False
    locked_down: bool = False


@dataclass
class Outcome:
    """What an access-control statement returns: rows in Snowflake's columns."""

    columns: list[Column]
    rows: list[list[str | None]]


def status(message: str = "Statement executed successfully.") -> Outcome:
    return Outcome([text_column("status")], [[message]])


class AccessControl:
    def __init__(self, conn: duckdb.DuckDBPyConnection, settings: AccountSettings, clock: EmulatorClock) -> None:
        self._conn = conn
        self._settings = settings
        self._clock = clock
        self._models_warehouses = settings.warehouses is not None
        self._models_roles = settings.roles is not None or settings.locked_down_role is not None
        cursor = conn.cursor()
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {OBJECTS_TABLE} (kind VARCHAR, name VARCHAR)")
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {GRANTS_TABLE} (created_on DOUBLE, privilege VARCHAR, granted_on VARCHAR, "
            "name VARCHAR, granted_to VARCHAR, grantee_name VARCHAR, grant_option BOOLEAN, granted_by VARCHAR)"
        )
        for name in settings.warehouses or []:
            self._add_object(cursor, "WAREHOUSE", name)
        for name in [*(settings.roles or []), *([settings.locked_down_role] if settings.locked_down_role else [])]:
            self._add_object(cursor, "ROLE", name)
        for name in settings.storage_integrations:
            self._add_object(cursor, "INTEGRATION", name)
        cursor.close()

    # -- sessions ---------------------------------------------------------------------------

    @property
    def default_role(self) -> str:
        settings = self._settings
        return (
            settings.default_role
            or settings.locked_down_role
            or (settings.roles[0] if settings.roles else None)
            or FALLBACK_DEFAULT_ROLE
        )

    def open_session(self, role: str | None, warehouse: str | None, require_warehouse: bool) -> SessionAccess:
        """The identity of a request from its body's `role` and `warehouse` (taken literally)."""
        if role is not None and self._models_roles and not self._exists("ROLE", role) and role != PUBLIC_ROLE:
            raise StatementError(
                *ROLE_NOT_AUTHORIZED,
                f"Role '{role}' specified in the connect string does not exist or not authorized. "
                "Contact your local system administrator, or attempt to login with another role, e.g. PUBLIC.",
            )
        session_role = role or self.default_role
        if warehouse is not None:
            current = warehouse if not self._models_warehouses or self._exists("WAREHOUSE", warehouse) else None
        elif require_warehouse:
            current = None
        else:
            # The user's default warehouse.
            current = (self._settings.warehouses or ["DEFAULT_WH"])[0]
        return SessionAccess(
            role=session_role,
            warehouse=current,
            locked_down=self._settings.locked_down_role is not None and session_role == self._settings.locked_down_role,
        )

    @staticmethod
    def admin_session() -> SessionAccess:
        return SessionAccess(role=ADMIN_ROLE, warehouse="ADMIN_WH", admin=True)

    def use_warehouse(self, session: SessionAccess, name: str) -> None:
        if self._models_warehouses and not self._exists("WAREHOUSE", name):
            raise StatementError(
                *OBJECT_DOES_NOT_EXIST_OR_CANNOT_OPERATE,
                "SQL compilation error:\nObject does not exist, or operation cannot be performed.",
            )
        session.warehouse = name

    # -- checks before a statement ----------------------------------------------------------

    def check(
        self, expression: exp.Expr, session: SessionAccess, current_database: str | None, current_schema: str | None
    ) -> None:
        """Refuse what the session's role may not do; the locked-down role only."""
        if session.admin or not session.locked_down:
            return
        if isinstance(expression, exp.Create):
            kind = str(expression.args.get("kind") or "").upper()
            if kind == "DATABASE" and not self._granted(session.role, "CREATE DATABASE", "ACCOUNT", "ACCOUNT"):
                raise self._insufficient("account", self._account())
            if kind == "SCHEMA":
                database = _catalog_of(expression, current_database)
                if database and not self._granted(session.role, "CREATE SCHEMA", "DATABASE", quote_if_needed(database)):
                    raise self._insufficient("database", database)
            if kind in {"WAREHOUSE", "STORAGE INTEGRATION"}:
                raise self._insufficient("account", self._account())
        elif isinstance(expression, exp.Command) and CREATE_ROLE.match(_command_text(expression)):
            raise self._insufficient("account", self._account())
        elif isinstance(expression, exp.Drop):
            kind = str(expression.args.get("kind") or "").upper()
            table = (expression.args.get("tables") or [None])[0]
            if kind == "DATABASE" and isinstance(table, exp.Table):
                raise self._insufficient("database", _name(table.this) or "")
            if kind == "SCHEMA" and isinstance(table, exp.Table):
                raise self._insufficient("schema", _name(table.this) or "")
        elif isinstance(expression, (exp.Grant, exp.Revoke)):
            kind = str(expression.args.get("kind") or "ACCOUNT").upper()
            if kind in {"VIEW", "TABLE"}:
                target = self._object_name(expression.args.get("securable"), current_database, current_schema)
                owner = self._owner(kind, target)
                if owner is not None and owner != session.role:
                    raise self._insufficient(kind.lower(), target.rsplit(".", 1)[-1])
            else:
                raise self._insufficient("account", self._account())
        elif isinstance(expression, exp.Command) and _command_text(expression).upper().startswith("GRANT"):
            raise self._insufficient("account", self._account())

    def check_storage_integration(self, expression: exp.Expr) -> None:
        """A CREATE STAGE may only name a storage integration that exists."""
        integration = stage_integration(expression)
        if integration is not None and not self._exists("INTEGRATION", integration):
            raise StatementError(
                *OBJECT_NOT_AUTHORIZED,
                f"SQL compilation error:\nIntegration '{quote_if_needed(integration)}' does not exist or not authorized.",
            )

    # -- statements run here ----------------------------------------------------------------

    def handles(self, expression: exp.Expr) -> bool:
        if isinstance(expression, (exp.Grant, exp.Revoke)):
            return True
        if isinstance(expression, exp.Create):
            return str(expression.args.get("kind") or "").upper() in {"WAREHOUSE", "STORAGE INTEGRATION"}
        if isinstance(expression, exp.Command):
            text = _command_text(expression)
            return bool(
                SHOW_GRANTS_ON.match(text)
                or SHOW_GRANTS_TO_ROLE.match(text)
                or CREATE_ROLE.match(text)
                or text.upper().startswith("GRANT")
                or text.upper().startswith("REVOKE")
            )
        return False

    def execute(
        self, expression: exp.Expr, session: SessionAccess, current_database: str | None, current_schema: str | None
    ) -> Outcome:
        cursor = self._conn.cursor()
        try:
            if isinstance(expression, (exp.Grant, exp.Revoke)):
                return self._grant(cursor, expression, session, current_database, current_schema)
            if isinstance(expression, exp.Create):
                kind = str(expression.args.get("kind") or "").upper()
                name = _name(expression.this) or ""
                stored = "WAREHOUSE" if kind == "WAREHOUSE" else "INTEGRATION"
                if self._exists(stored, name, cursor):
                    if expression.args.get("exists"):
                        return status(f"{name} already exists, statement succeeded.")
                    if not expression.args.get("replace"):
                        raise StatementError(
                            "002002", "42710", f"SQL compilation error:\nObject '{name}' already exists."
                        )
                self._add_object(cursor, stored, name)
                label = "Warehouse" if kind == "WAREHOUSE" else "Integration"
                return status(f"{label} {name} successfully created.")
            text = _command_text(expression)
            if match := SHOW_GRANTS_ON.match(text):
                if match.group("account"):
                    return self._show(cursor, "granted_on = 'ACCOUNT'", [])
                kind = re.sub(r"\s+", " ", match.group("kind").upper())
                kind = "INTEGRATION" if kind == "STORAGE INTEGRATION" else kind
                name = self._text_name(match.group("name"), kind, current_database, current_schema)
                return self._show(cursor, "granted_on = ? AND name = ?", [kind, name])
            if match := SHOW_GRANTS_TO_ROLE.match(text):
                role = _text_identifier(match.group("name"))
                return self._show(cursor, "granted_to = 'ROLE' AND grantee_name = ?", [role])
            if match := CREATE_ROLE.match(text):
                role = _text_identifier(match.group("name"))
                if self._exists("ROLE", role, cursor) and match.group("exists"):
                    return status(f"{role} already exists, statement succeeded.")
                self._add_object(cursor, "ROLE", role)
                return status(f"Role {role} successfully created.")
            # Other GRANT and REVOKE forms: accepted, not recorded.
            return status()
        finally:
            cursor.close()

    # -- bookkeeping after DDL --------------------------------------------------------------

    def after_ddl(
        self, expression: exp.Expr, session: SessionAccess, current_database: str | None, current_schema: str | None
    ) -> None:
        """Ownership of a created database, schema, view or table; grants dropped with a replaced
        or dropped view or table. (The owner of a database may create schemas in it.)"""
        cursor = self._conn.cursor()
        try:
            if isinstance(expression, exp.Create):
                kind = str(expression.args.get("kind") or "").upper()
                if kind in {"DATABASE", "SCHEMA"}:
                    name = self._created_container(expression, kind, current_database)
                    if name is not None and (expression.args.get("replace") or self._owner(kind, name, cursor) is None):
                        cursor.execute(
                            f"DELETE FROM {GRANTS_TABLE} WHERE granted_on = ? AND name = ? AND privilege = 'OWNERSHIP'",
                            [kind, name],
                        )
                        self._insert_grant(cursor, "OWNERSHIP", kind, name, session.role, False, session.role)
                    return
                if kind not in {"VIEW", "TABLE"}:
                    return
                target = expression.this.this if isinstance(expression.this, exp.Schema) else expression.this
                name = self._object_name(target, current_database, current_schema)
                replaced = bool(expression.args.get("replace"))
                properties = expression.args.get("properties")
                copy_grants = properties is not None and any(
                    isinstance(prop, exp.CopyGrantsProperty) for prop in properties.expressions
                )
                if replaced and not copy_grants:
                    cursor.execute(f"DELETE FROM {GRANTS_TABLE} WHERE granted_on = ? AND name = ?", [kind, name])
                if replaced or self._owner(kind, name, cursor) is None:
                    cursor.execute(
                        f"DELETE FROM {GRANTS_TABLE} WHERE granted_on = ? AND name = ? AND privilege = 'OWNERSHIP'",
                        [kind, name],
                    )
                    self._insert_grant(cursor, "OWNERSHIP", kind, name, session.role, False, session.role)
            elif isinstance(expression, exp.Drop):
                kind = str(expression.args.get("kind") or "").upper()
                if kind in {"VIEW", "TABLE"}:
                    for table in expression.args.get("tables") or []:
                        name = self._object_name(table, current_database, current_schema)
                        cursor.execute(f"DELETE FROM {GRANTS_TABLE} WHERE granted_on = ? AND name = ?", [kind, name])
        finally:
            cursor.close()

    # -- internals ----------------------------------------------------------------------------

    @staticmethod
    def _created_container(expression: exp.Create, kind: str, current_database: str | None) -> str | None:
        """The name of a created database (D) or schema (D.S), as grants name them."""
        if kind == "DATABASE":
            identifier = expression.find(exp.Identifier)
            name = _name(identifier)
            return quote_if_needed(name) if name else None
        table = expression.find(exp.Table)
        schema = _name(table.args.get("db")) if table else None
        database = (_name(table.args.get("catalog")) if table else None) or current_database
        return f"{quote_if_needed(database)}.{quote_if_needed(schema)}" if schema and database else None

    def _grant(
        self,
        cursor: duckdb.DuckDBPyConnection,
        expression: exp.Grant | exp.Revoke,
        session: SessionAccess,
        current_database: str | None,
        current_schema: str | None,
    ) -> Outcome:
        kind = str(expression.args.get("kind") or "ACCOUNT").upper()
        securable = expression.args.get("securable")
        if kind == "ACCOUNT" or (isinstance(securable, exp.Table) and _name(securable.this) == "ACCOUNT" and not securable.args.get("db")):
            kind, name = "ACCOUNT", "ACCOUNT"
        elif kind in {"VIEW", "TABLE"}:
            name = self._object_name(securable, current_database, current_schema)
            self._require_relation(cursor, kind, name)
        elif kind == "SCHEMA":
            name = self._object_name(securable, current_database, None, parts=2)
        else:
            name = self._object_name(securable, None, None, parts=1)
        privileges = [str(privilege.this.name if isinstance(privilege.this, exp.Var) else privilege.this).upper()
                      for privilege in expression.args.get("privileges") or []]
        grantees = []
        for principal in expression.args.get("principals") or []:
            role = _name(principal.this) or ""
            if str(principal.args.get("kind") or "ROLE").upper() != "ROLE":
                continue
            if self._models_roles and not self._exists("ROLE", role, cursor) and role != PUBLIC_ROLE:
                raise StatementError(
                    *OBJECT_NOT_AUTHORIZED, f"SQL compilation error:\nRole '{quote_if_needed(role)}' does not exist or not authorized."
                )
            grantees.append(role)
        revoking = isinstance(expression, exp.Revoke)
        for role in grantees:
            for privilege in privileges:
                cursor.execute(
                    f"DELETE FROM {GRANTS_TABLE} WHERE privilege = ? AND granted_on = ? AND name = ? "
                    "AND granted_to = 'ROLE' AND grantee_name = ?",
                    [privilege, kind, name, role],
                )
                if not revoking:
                    grant_option = bool(expression.args.get("grant_option"))
                    self._insert_grant(cursor, privilege, kind, name, role, grant_option, session.role)
        return status()

    def _show(self, cursor: duckdb.DuckDBPyConnection, where: str, params: list[str]) -> Outcome:
        rows = cursor.execute(
            f"SELECT created_on, privilege, granted_on, name, granted_to, grantee_name, grant_option, granted_by "
            f"FROM {GRANTS_TABLE} WHERE {where} ORDER BY created_on, privilege, grantee_name",
            params,
        ).fetchall()
        return Outcome(
            SHOW_GRANTS_COLUMNS,
            [
                [seconds_text(int(row[0] * 1_000_000_000)), row[1], row[2], row[3], row[4], row[5],
                 "true" if row[6] else "false", row[7]]
                for row in rows
            ],
        )

    def _insert_grant(
        self,
        cursor: duckdb.DuckDBPyConnection,
        privilege: str,
        kind: str,
        name: str,
        role: str,
        grant_option: bool,
        granted_by: str,
    ) -> None:
        cursor.execute(
            f"INSERT INTO {GRANTS_TABLE} VALUES (?, ?, ?, ?, 'ROLE', ?, ?, ?)",
            [self._clock.now(), privilege, kind, name, role, grant_option, granted_by],
        )

    def _granted(self, role: str, privilege: str, kind: str, name: str) -> bool:
        cursor = self._conn.cursor()
        try:
            return cursor.execute(
                f"SELECT 1 FROM {GRANTS_TABLE} WHERE granted_to = 'ROLE' AND grantee_name = ? "
                "AND (privilege = ? OR privilege = 'OWNERSHIP' OR privilege = 'ALL') AND granted_on = ? AND name = ?",
                [role, privilege, kind, name],
            ).fetchone() is not None
        finally:
            cursor.close()

    def _owner(self, kind: str, name: str, cursor: duckdb.DuckDBPyConnection | None = None) -> str | None:
        own = cursor or self._conn.cursor()
        try:
            found = own.execute(
                f"SELECT grantee_name FROM {GRANTS_TABLE} WHERE privilege = 'OWNERSHIP' AND granted_on = ? AND name = ?",
                [kind, name],
            ).fetchone()
            return found[0] if found else None
        finally:
            if cursor is None:
                own.close()

    def _exists(self, kind: str, name: str, cursor: duckdb.DuckDBPyConnection | None = None) -> bool:
        own = cursor or self._conn.cursor()
        try:
            return own.execute(f"SELECT 1 FROM {OBJECTS_TABLE} WHERE kind = ? AND name = ?", [kind, name]).fetchone() is not None
        finally:
            if cursor is None:
                own.close()

    def _add_object(self, cursor: duckdb.DuckDBPyConnection, kind: str, name: str) -> None:
        if not self._exists(kind, name, cursor):
            cursor.execute(f"INSERT INTO {OBJECTS_TABLE} VALUES (?, ?)", [kind, name])

    def _account(self) -> str:
        return (self._settings.account or "ACCOUNT").upper()

    @staticmethod
    def _insufficient(kind: str, name: str) -> StatementError:
        return StatementError(
            *INSUFFICIENT_PRIVILEGES, f"SQL access control error:\nInsufficient privileges to operate on {kind} '{name}'"
        )

    @staticmethod
    def _object_name(
        target: exp.Expr | None, current_database: str | None, current_schema: str | None, parts: int = 3
    ) -> str:
        """A securable's name as SHOW GRANTS shows it: DB.SCHEMA.NAME, quoted where needed."""
        if not isinstance(target, exp.Table):
            raise StatementError(*SYNTAX_ERROR, "SQL compilation error:\nmissing object name")
        names = [_name(target.args.get("catalog")), _name(target.args.get("db")), _name(target.this)]
        defaults = [current_database, current_schema]
        if parts == 2:
            names = [_name(target.args.get("db")), _name(target.this)]
            defaults = [current_database]
        elif parts == 1:
            names, defaults = [_name(target.this)], []
        resolved = [name or (defaults[index] if index < len(defaults) else None) for index, name in enumerate(names)]
        if any(name is None for name in resolved):
            raise StatementError(*SYNTAX_ERROR, "SQL compilation error:\nthe object name needs a database and schema")
        return ".".join(quote_if_needed(name) for name in resolved if name is not None)

    def _text_name(self, text: str, kind: str, current_database: str | None, current_schema: str | None) -> str:
        split = split_name(text.strip())
        if split is None or split[1].strip():
            raise StatementError(*SYNTAX_ERROR, f"SQL compilation error:\ninvalid name '{text}'")
        parts = split[0]
        wanted = {"DATABASE": 1, "INTEGRATION": 1, "WAREHOUSE": 1, "SCHEMA": 2}.get(kind, 3)
        missing = wanted - len(parts)
        prefix = [current_database, current_schema][: wanted - 1][:missing] if missing > 0 else []
        if missing < 0 or len(prefix) < missing or any(part is None for part in prefix):
            raise StatementError(*SYNTAX_ERROR, f"SQL compilation error:\ninvalid name '{text}'")
        return ".".join(quote_if_needed(part) for part in [*prefix, *parts] if part is not None)

    def _require_relation(self, cursor: duckdb.DuckDBPyConnection, kind: str, name: str) -> None:
        split = split_name(name)
        parts = split[0] if split else []
        if len(parts) == 3:
            catalog_view = "duckdb_views()" if kind == "VIEW" else "duckdb_tables()"
            column = "view_name" if kind == "VIEW" else "table_name"
            if cursor.execute(
                f"SELECT 1 FROM {catalog_view} WHERE database_name = ? AND schema_name = ? AND {column} = ?", parts
            ).fetchone():
                return
        raise StatementError(
            *OBJECT_NOT_AUTHORIZED, f"SQL compilation error:\n{kind.title()} '{name}' does not exist or not authorized."
        )


def stage_integration(expression: exp.Expr) -> str | None:
    """The STORAGE_INTEGRATION a CREATE STAGE names, as an identifier resolves."""
    if not (isinstance(expression, exp.Create) and str(expression.args.get("kind") or "").upper() == "STAGE"):
        return None
    properties = expression.args.get("properties")
    for prop in properties.expressions if properties is not None else []:
        if isinstance(prop, exp.Property) and isinstance(prop.this, exp.Var) and prop.this.name.upper() == "STORAGE_INTEGRATION":
            value = prop.args.get("value")
            if isinstance(value, exp.Identifier):
                return _name(value)
            if isinstance(value, exp.Column) and isinstance(value.this, exp.Identifier):
                return _name(value.this)
            if value is not None:
                return _text_identifier(value.name if isinstance(value, (exp.Var, exp.Literal)) else value.sql())
    return None


def _command_text(expression: exp.Command) -> str:
    return f"{expression.this} {expression.expression.name if isinstance(expression.expression, exp.Literal) else expression.expression}".strip()


def _catalog_of(expression: exp.Create, current_database: str | None) -> str | None:
    table = expression.this if isinstance(expression.this, exp.Table) else expression.find(exp.Table)
    if isinstance(table, exp.Table):
        # CREATE SCHEMA d.s parses as a table whose "catalog" is d and whose "db" is s.
        return _name(table.args.get("catalog")) or current_database
    return current_database


def _name(identifier: exp.Expr | None) -> str | None:
    if isinstance(identifier, exp.Identifier):
        return identifier.this if identifier.quoted else identifier.this.upper()
    if isinstance(identifier, exp.Expr) and identifier.name:
        return identifier.name.upper()
    return None


def _text_identifier(text: str) -> str:
    split = split_name(text.strip())
    if split is None or len(split[0]) != 1 or split[1].strip():
        raise StatementError(*SYNTAX_ERROR, f"SQL compilation error:\ninvalid identifier '{text}'")
    return split[0][0]
