"""The ORM-free path: the same RLS scoping as the session, compiled statements, stale pools."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb
from sqlalchemy import Boolean, Column, MetaData, String, Table, bindparam, insert, select
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncEngine

from servicekit.db import create_engine
from servicekit.direct import Statement, direct_transaction
from servicekit.settings import ServiceSettings

# The kit's scratch table (conftest: kitevents.results, user-owned with RLS).
results = Table(
    "results",
    MetaData(schema="kitevents"),
    Column("id", UUID, primary_key=True),
    Column("user_id", UUID),
    Column("provider", String),
    Column("fallback", Boolean),
    Column("body", JSONB),
)
BY_PROVIDER = Statement(
    select(results).where(results.c.provider == bindparam("provider"), results.c.fallback.is_(False))
)
EVERY_ROW = Statement(select(results.c.id))
ADD = Statement(
    insert(results)
    .values(
        id=bindparam("id"),
        user_id=bindparam("user_id"),
        provider="direct-write",
        fallback=False,
        body=bindparam("body"),
    )
    .returning(results.c.id, results.c.body)
)


@pytest.fixture
async def engine(kit_settings: ServiceSettings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(kit_settings.database_url, pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture
def two_users(infra: Any) -> tuple[uuid.UUID, uuid.UUID]:
    ada, bob = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(infra.admin_dsn, autocommit=True) as conn:
        for user in (ada, bob):
            conn.execute(
                "INSERT INTO kitevents.results VALUES (%s, %s, 'reads-test', false, %s)",
                (uuid.uuid4(), user, Jsonb({"owner": str(user), "nested": [1, {"a": None}]})),
            )
    return ada, bob


async def test_a_tx_sees_only_its_users_rows_as_typed_dicts(
    engine: AsyncEngine, two_users: tuple[uuid.UUID, uuid.UUID]
) -> None:
    ada, bob = two_users
    async with direct_transaction(engine, ada) as tx:
        rows = await tx.all(BY_PROVIDER, provider="reads-test")
    assert [row["user_id"] for row in rows] == [ada]  # uuid.UUID, not text
    assert rows[0]["body"] == {"owner": str(ada), "nested": [1, {"a": None}]}  # JSONB decoded
    async with direct_transaction(engine, bob) as tx:
        row = await tx.one(BY_PROVIDER, provider="reads-test")
    assert row is not None
    assert row["user_id"] == bob
    async with direct_transaction(engine, None) as tx:  # no user: deny by default
        assert await tx.all(EVERY_ROW) == []


async def test_the_user_does_not_outlive_the_transaction_on_the_pooled_connection(
    engine: AsyncEngine, two_users: tuple[uuid.UUID, uuid.UUID]
) -> None:
    ada, _ = two_users
    async with direct_transaction(engine, ada) as tx:
        assert await tx.one(BY_PROVIDER, provider="reads-test") is not None
    async with engine.connect() as conn:  # the one pooled connection just given back, reused
        raw = await conn.get_raw_connection()
        driver: psycopg.AsyncConnection[Any] = raw.driver_connection  # type: ignore[assignment]
        cursor = await driver.execute("SELECT current_setting('app.user_id', true)")
        assert (await cursor.fetchone()) in (("",), (None,))
        await driver.rollback()


async def test_an_error_in_the_block_rolls_back_and_leaves_the_pool_usable(
    engine: AsyncEngine, two_users: tuple[uuid.UUID, uuid.UUID]
) -> None:
    ada, _ = two_users

    async def failing_handler() -> None:
        async with direct_transaction(engine, ada) as tx:
            await tx.one(BY_PROVIDER, provider="reads-test")
            raise RuntimeError("the handler failed")

    with pytest.raises(RuntimeError):
        await failing_handler()
    async with direct_transaction(engine, ada) as tx:
        assert await tx.one(BY_PROVIDER, provider="reads-test") is not None


async def test_pooled_connections_killed_by_the_server_are_replaced_unseen(
    engine: AsyncEngine, infra: Any, kit_settings: ServiceSettings, two_users: tuple[uuid.UUID, uuid.UUID]
) -> None:
    ada, _ = two_users
    async with (
        direct_transaction(engine, ada) as first,
        direct_transaction(engine, ada) as second,
    ):  # two pooled connections
        assert await first.one(BY_PROVIDER, provider="reads-test") is not None
        assert await second.one(BY_PROVIDER, provider="reads-test") is not None
    role = "kitevents_app"
    with psycopg.connect(infra.admin_dsn, autocommit=True) as conn:
        killed = conn.execute(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s) t",
            (role,),
        ).fetchone()
    assert killed is not None
    assert killed[0] >= 2
    for _ in range(3):  # each would have been handed a dead connection
        async with direct_transaction(engine, ada) as tx:
            assert await tx.one(BY_PROVIDER, provider="reads-test") is not None


def _stored(infra: Any, user: uuid.UUID) -> int:
    with psycopg.connect(infra.admin_dsn, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM kitevents.results WHERE user_id = %s", (user,)).fetchone()
    assert row is not None
    return int(row[0])


async def test_a_write_commits_rolls_back_on_error_and_rls_checks_the_owner(engine: AsyncEngine, infra: Any) -> None:
    ada, bob = uuid.uuid4(), uuid.uuid4()
    async with direct_transaction(engine, ada) as tx:
        row = await tx.one(ADD, id=uuid.uuid4(), user_id=ada, body=Jsonb({"n": 1}))
    assert row is not None
    assert row["body"] == {"n": 1}
    assert _stored(infra, ada) == 1

    async def failing_handler() -> None:
        async with direct_transaction(engine, ada) as tx:
            await tx.one(ADD, id=uuid.uuid4(), user_id=ada, body=Jsonb({"n": 2}))
            raise RuntimeError("the handler failed after writing")

    with pytest.raises(RuntimeError):
        await failing_handler()
    assert _stored(infra, ada) == 1  # rolled back

    async def write_for_another_user() -> None:
        async with direct_transaction(engine, ada) as tx:
            await tx.one(ADD, id=uuid.uuid4(), user_id=bob, body=Jsonb({}))

    with pytest.raises(psycopg.errors.InsufficientPrivilege):  # the policy's WITH CHECK
        await write_for_another_user()
    assert _stored(infra, bob) == 0
