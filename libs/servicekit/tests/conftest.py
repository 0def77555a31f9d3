"""A scratch service of the kit's own (`kitevents`: schema, roles, event tables, stream), so the
kit's consumer, relay and AI job are tested without borrowing a real service's tables."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import psycopg
import pytest

from servicekit.events.streams import connect, ensure_stream
from servicekit.migrations import ensure_schema_and_roles, event_tables_ddl, idempotency_table_ddl, user_table_ddl
from servicekit.settings import ServiceSettings

KIT_SERVICE = "kitevents"


@pytest.fixture(scope="session")
def kit_settings(infra: Any) -> ServiceSettings:
    ensure_schema_and_roles(infra.admin_dsn, KIT_SERVICE)
    with psycopg.connect(infra.admin_dsn, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass(%s)", (f"{KIT_SERVICE}.outbox",)).fetchone() == (None,):
            for statement in [
                *event_tables_ddl(KIT_SERVICE),
                f'CREATE TABLE "{KIT_SERVICE}".results (id uuid PRIMARY KEY, user_id uuid NOT NULL, '
                "provider text NOT NULL, fallback boolean NOT NULL, body jsonb NOT NULL)",
                *user_table_ddl(KIT_SERVICE, "results"),
            ]:
                conn.execute(statement)
    return ServiceSettings(
        service_name=KIT_SERVICE,
        environment="test",
        database_url=infra.dsn(f"{KIT_SERVICE}_app"),
        worker_database_url=infra.dsn(f"{KIT_SERVICE}_worker"),
        nats_url=infra.nats_url,
        consumer_watchdog_seconds=2.0,
    )


@pytest.fixture
async def nats_js(kit_settings: ServiceSettings) -> AsyncIterator[Any]:
    nc = await connect(kit_settings.nats_url, "kit-test")
    js = nc.jetstream()
    await ensure_stream(js, KIT_SERVICE)
    yield js
    await nc.close()


@pytest.fixture(scope="session")
def scratch_settings(infra: Any) -> Callable[[str, list[str]], ServiceSettings]:
    """A scratch schema of a kit test (roles, its idempotency table and `ddl`, made once) and the
    settings of an app on it as the application role."""

    def make(schema: str, ddl: list[str]) -> ServiceSettings:
        ensure_schema_and_roles(infra.admin_dsn, schema)
        with psycopg.connect(infra.admin_dsn, autocommit=True) as conn:
            if conn.execute("SELECT to_regclass(%s)", (f"{schema}.idempotency_keys",)).fetchone() == (None,):
                for statement in [*ddl, *idempotency_table_ddl(schema)]:
                    conn.execute(statement)
        return ServiceSettings(service_name=schema, environment="test", database_url=infra.dsn(f"{schema}_app"))

    return make
