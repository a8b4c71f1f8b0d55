"""The engine without the HTTP front, for tests that must reach inside a statement (a cancel at
an exact point): a Session on a fakesnow instance with the services a running emulator has."""

from __future__ import annotations

from fakesnow.instance import FakeSnow

from snowflake_emulator.access_control import AccessControl, AccountSettings
from snowflake_emulator.clock import EmulatorClock
from snowflake_emulator.engine import Services, Session
from snowflake_emulator.stage_storage import S3Settings


def new_session(
    fake: FakeSnow, database: str | None, schema: str | None, storage_integrations: tuple[str, ...] = ()
) -> Session:
    clock = EmulatorClock()
    access = AccessControl(fake.duck_conn, AccountSettings(storage_integrations=storage_integrations), clock)
    services = Services(clock=clock, access=access, s3=S3Settings(None))
    return Session(fake, database, schema, services, access.open_session(None, None, require_warehouse=False))
