"""The ORM-free path: the same RLS scoping as the session, compiled statements, pipelined
round trips, stale pools."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb
from sqlalchemy import Boolean, Column, MetaData, String, Table, bindparam, func, insert, select
from sqlalchemy.dialects.postgresql import JSONB, UUID

from contracts.profiler import PersonaRequested
from servicekit.direct import DirectPool, DirectReader, Statement, direct_transaction
from servicekit.events import emit_direct
from servicekit.events.outbox import notify_channel
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
async def pool(kit_settings: ServiceSettings) -> AsyncIterator[DirectPool]:
    pool = DirectPool(kit_settings.database_url, size=2)
    await pool.open()
    yield pool
    await pool.close()


@pytest.fixture
async def traced(kit_settings: ServiceSettings) -> AsyncIterator[tuple[DirectPool, psycopg.AsyncConnection[Any]]]:
    """A pool of one connection, and that connection (to trace what goes over it)."""
    pool = DirectPool(kit_settings.database_url, size=1)
    await pool.open()
    conn = await pool._connection()
    await pool._give_back(conn)
    yield pool, conn
    await pool.close()


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
    pool: DirectPool, two_users: tuple[uuid.UUID, uuid.UUID]
) -> None:
    ada, bob = two_users
    async with direct_transaction(pool, ada) as tx:
        rows = await tx.all(BY_PROVIDER, provider="reads-test")
    assert [row["user_id"] for row in rows] == [ada]  # uuid.UUID, not text
    assert rows[0]["body"] == {"owner": str(ada), "nested": [1, {"a": None}]}  # JSONB decoded
    async with direct_transaction(pool, bob) as tx:
        row = await tx.one(BY_PROVIDER, provider="reads-test")
    assert row is not None
    assert row["user_id"] == bob
    async with direct_transaction(pool, None) as tx:  # no user: deny by default
        assert await tx.all(EVERY_ROW) == []


async def test_the_user_does_not_outlive_the_transaction_on_the_pooled_connection(
    pool: DirectPool, two_users: tuple[uuid.UUID, uuid.UUID]
) -> None:
    ada, _ = two_users
    async with direct_transaction(pool, ada) as tx, direct_transaction(pool, ada) as other:  # both connections
        assert await tx.one(BY_PROVIDER, provider="reads-test") is not None
        assert await other.one(BY_PROVIDER, provider="reads-test") is not None
    assert await DirectReader(pool, ada).one(BY_PROVIDER, provider="reads-test") is not None
    held = [await pool._connection(), await pool._connection()]
    try:
        for conn in held:
            cursor = await conn.execute("SELECT current_setting('app.user_id', true)")
            assert (await cursor.fetchone()) in (("",), (None,))
    finally:
        for conn in held:
            await pool._give_back(conn)


async def test_a_reader_sees_only_its_users_rows(pool: DirectPool, two_users: tuple[uuid.UUID, uuid.UUID]) -> None:
    ada, bob = two_users
    rows = await DirectReader(pool, ada).all(BY_PROVIDER, provider="reads-test")
    assert [row["user_id"] for row in rows] == [ada]
    assert rows[0]["body"] == {"owner": str(ada), "nested": [1, {"a": None}]}
    row = await DirectReader(pool, bob).one(BY_PROVIDER, provider="reads-test")
    assert row is not None
    assert row["user_id"] == bob
    assert await DirectReader(pool, None).all(EVERY_ROW) == []


def _round_trips(trace: str) -> int:
    """Times the client waited for the server: a server message right after a client one
    (libpq's protocol trace: timestamp, direction F/B, length, message)."""
    directions = [line.split("\t")[1] for line in trace.splitlines() if line.count("\t") >= 3]
    return sum(1 for before, after in itertools.pairwise(directions) if (before, after) == ("F", "B"))


async def test_begin_set_config_and_commit_ride_with_the_statements(
    tmp_path: Any, two_users: tuple[uuid.UUID, uuid.UUID], traced: tuple[DirectPool, psycopg.AsyncConnection[Any]]
) -> None:
    """The reason for this path: a statement on its own is one round trip; a transaction, one
    per awaited result plus the Sync that commits it (the naive form takes three more: BEGIN,
    set_config, COMMIT)."""
    ada, _ = two_users
    single, conn = traced

    with (tmp_path / "reader.txt").open("w") as sink:
        conn.pgconn.trace(sink.fileno())
        assert await DirectReader(single, ada).one(BY_PROVIDER, provider="reads-test") is not None
        conn.pgconn.untrace()  # flushes libpq's buffer
    text = (tmp_path / "reader.txt").read_text()
    assert _round_trips(text) == 1
    assert "set_config" in text
    assert "BEGIN" not in text  # one implicit transaction up to the Sync

    with (tmp_path / "tx.txt").open("w") as sink:
        conn.pgconn.trace(sink.fileno())
        async with direct_transaction(single, ada) as tx:
            assert await tx.one(BY_PROVIDER, provider="reads-test") is not None
            assert len(await tx.all(BY_PROVIDER, provider="reads-test")) == 1
        conn.pgconn.untrace()
    text = (tmp_path / "tx.txt").read_text()
    assert _round_trips(text) == 3
    assert "BEGIN" not in text  # the Sync commits the implicit transaction
    assert "COMMIT" not in text


async def test_an_error_in_the_block_rolls_back_and_leaves_the_pool_usable(
    pool: DirectPool, two_users: tuple[uuid.UUID, uuid.UUID]
) -> None:
    ada, _ = two_users

    async def failing_handler() -> None:
        async with direct_transaction(pool, ada) as tx:
            await tx.one(BY_PROVIDER, provider="reads-test")
            raise RuntimeError("the handler failed")

    with pytest.raises(RuntimeError):
        await failing_handler()
    async with direct_transaction(pool, ada) as tx:
        assert await tx.one(BY_PROVIDER, provider="reads-test") is not None


async def test_pooled_connections_killed_by_the_server_are_replaced_unseen(
    pool: DirectPool, infra: Any, kit_settings: ServiceSettings, two_users: tuple[uuid.UUID, uuid.UUID]
) -> None:
    ada, _ = two_users
    async with (
        direct_transaction(pool, ada) as first,
        direct_transaction(pool, ada) as second,
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
        async with direct_transaction(pool, ada) as tx:
            assert await tx.one(BY_PROVIDER, provider="reads-test") is not None


def _stored(infra: Any, user: uuid.UUID) -> int:
    with psycopg.connect(infra.admin_dsn, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM kitevents.results WHERE user_id = %s", (user,)).fetchone()
    assert row is not None
    return int(row[0])


async def test_a_write_commits_rolls_back_on_error_and_rls_checks_the_owner(pool: DirectPool, infra: Any) -> None:
    ada, bob = uuid.uuid4(), uuid.uuid4()
    async with direct_transaction(pool, ada) as tx:
        row = await tx.one(ADD, id=uuid.uuid4(), user_id=ada, body=Jsonb({"n": 1}))
    assert row is not None
    assert row["body"] == {"n": 1}
    assert _stored(infra, ada) == 1

    async def failing_handler() -> None:
        async with direct_transaction(pool, ada) as tx:
            await tx.one(ADD, id=uuid.uuid4(), user_id=ada, body=Jsonb({"n": 2}))
            raise RuntimeError("the handler failed after writing")

    with pytest.raises(RuntimeError):
        await failing_handler()
    assert _stored(infra, ada) == 1  # rolled back

    async def write_for_another_user() -> None:
        async with direct_transaction(pool, ada) as tx:
            await tx.one(ADD, id=uuid.uuid4(), user_id=bob, body=Jsonb({}))

    with pytest.raises(psycopg.errors.InsufficientPrivilege):  # the policy's WITH CHECK
        await write_for_another_user()
    assert _stored(infra, bob) == 0


async def test_a_failed_statement_rolls_back_its_transaction_and_the_connection_is_reused(
    pool: DirectPool, infra: Any
) -> None:
    ada = uuid.uuid4()
    row_id = uuid.uuid4()

    async def insert_twice() -> None:
        async with direct_transaction(pool, ada) as tx:
            await tx.one(ADD, id=row_id, user_id=ada, body=Jsonb({"n": 1}))
            await tx.one(ADD, id=row_id, user_id=ada, body=Jsonb({"n": 2}))

    with pytest.raises(psycopg.errors.UniqueViolation):
        await insert_twice()
    assert _stored(infra, ada) == 0
    by_id = Statement(select(results.c.id).where(results.c.id == bindparam("id")))
    with pytest.raises(psycopg.errors.InvalidTextRepresentation):
        await DirectReader(pool, ada).one(by_id, id="x")
    for _ in range(3):  # both pooled connections are idle again, not left in a failed transaction
        async with direct_transaction(pool, ada) as tx:
            assert await tx.one(ADD, id=uuid.uuid4(), user_id=ada, body=Jsonb({})) is not None
        assert await DirectReader(pool, ada).all(EVERY_ROW) != []
    assert _stored(infra, ada) == 3


async def test_a_reader_replaces_connections_killed_by_the_server(
    pool: DirectPool, infra: Any, two_users: tuple[uuid.UUID, uuid.UUID]
) -> None:
    ada, _ = two_users
    async with direct_transaction(pool, ada) as first, direct_transaction(pool, ada) as second:
        assert await first.one(BY_PROVIDER, provider="reads-test") is not None
        assert await second.one(BY_PROVIDER, provider="reads-test") is not None
    with psycopg.connect(infra.admin_dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'kitevents_app'")
    for _ in range(3):
        assert await DirectReader(pool, ada).one(BY_PROVIDER, provider="reads-test") is not None


async def test_the_statements_of_a_transaction_share_one_transaction(pool: DirectPool) -> None:
    """No BEGIN: what runs before the Sync is one implicit transaction, rows fetched midway or not."""
    xid = Statement(select(func.pg_current_xact_id().label("xid"), func.current_setting("app.user_id").label("user")))
    ada = uuid.uuid4()
    async with direct_transaction(pool, ada) as tx:
        first, second = await tx.one(xid), await tx.one(xid)
    assert first is not None
    assert first == second
    assert first["user"] == str(ada)
    async with direct_transaction(pool, ada) as tx:
        assert await tx.one(xid) != first  # the Sync ended the one before


async def test_emit_queues_the_payload_and_wakes_the_relay_only_if_the_transaction_commits(infra: Any) -> None:
    user = uuid.uuid4()
    payload = PersonaRequested(persona_id=uuid.uuid4(), session_id=uuid.uuid4())
    pool = DirectPool(infra.dsn("profiler_app"), size=1)  # the API role: INSERT on the outbox, no SELECT
    await pool.open()
    listener = await psycopg.AsyncConnection.connect(infra.admin_dsn, autocommit=True)
    try:
        await listener.execute(f"LISTEN {notify_channel('profiler')}")
        async with direct_transaction(pool, user) as tx:
            event = await emit_direct(tx, payload, user_id=user)

        async def failing_handler() -> None:
            async with direct_transaction(pool, user) as tx:
                await emit_direct(tx, payload, user_id=user)
                raise RuntimeError("the handler failed after queueing")

        with pytest.raises(RuntimeError):
            await failing_handler()
        notified = [n async for n in listener.notifies(timeout=1.0)]
    finally:
        await listener.close()
        await pool.close()
    assert [n.channel for n in notified] == [notify_channel("profiler")]  # the committed one only
    with psycopg.connect(infra.admin_dsn) as conn:
        rows = conn.execute(
            "SELECT id, subject, payload::text FROM profiler.outbox WHERE payload->'data'->>'persona_id' = %s",
            (str(payload.persona_id),),
        ).fetchall()
    assert [(row[0], row[1]) for row in rows] == [(event.id, "journey.profiler.persona.requested")]
    envelope = json.loads(rows[0][2])
    assert envelope["subject"] == str(user)
    assert envelope["version"] == PersonaRequested.VERSION
    assert PersonaRequested.model_validate(envelope["data"]) == payload


async def test_a_sent_statement_rides_with_the_commit_and_its_error_rolls_the_transaction_back(
    tmp_path: Any, infra: Any, traced: tuple[DirectPool, psycopg.AsyncConnection[Any]]
) -> None:
    ada = uuid.uuid4()
    single, conn = traced
    with (tmp_path / "tx.txt").open("w") as sink:
        conn.pgconn.trace(sink.fileno())
        async with direct_transaction(single, ada) as tx:
            await tx.one(ADD, id=uuid.uuid4(), user_id=ada, body=Jsonb({"n": 1}))
            await tx.send(ADD, id=uuid.uuid4(), user_id=ada, body=Jsonb({"n": 2}))
        conn.pgconn.untrace()
    assert _round_trips((tmp_path / "tx.txt").read_text()) == 2  # the second insert went with the Sync
    assert _stored(infra, ada) == 2

    async def send_a_failing_statement() -> None:
        async with direct_transaction(single, ada) as tx:
            await tx.one(ADD, id=uuid.uuid4(), user_id=ada, body=Jsonb({"n": 3}))
            await tx.send(ADD, id=uuid.uuid4(), user_id=uuid.uuid4(), body=Jsonb({}))  # RLS refuses it

    with pytest.raises(psycopg.errors.InsufficientPrivilege):  # raised at the Sync that commits
        await send_a_failing_statement()
    assert _stored(infra, ada) == 2  # the first insert rolled back with it
    async with direct_transaction(single, ada) as tx:  # the connection is usable again
        assert await tx.one(ADD, id=uuid.uuid4(), user_id=ada, body=Jsonb({"n": 4})) is not None
    assert _stored(infra, ada) == 3


async def test_queued_statements_come_back_in_one_round_trip_and_after_commit_waits_for_the_commit(
    tmp_path: Any, infra: Any, traced: tuple[DirectPool, psycopg.AsyncConnection[Any]]
) -> None:
    ada = uuid.uuid4()
    single, conn = traced
    fired: list[str] = []
    with (tmp_path / "tx.txt").open("w") as sink:
        conn.pgconn.trace(sink.fileno())
        async with direct_transaction(single, ada) as tx:
            first = await tx.queue(ADD, id=uuid.uuid4(), user_id=ada, body=Jsonb({"n": 1}))  # answered at once
            second = await tx.queue(ADD, id=uuid.uuid4(), user_id=ada, body=Jsonb({"n": 2}))
            third = await tx.queue(ADD, id=uuid.uuid4(), user_id=ada, body=Jsonb({"n": 3}))
            bodies = [(await q.one() or {})["body"] for q in (third, second, first)]  # any order
            tx.after_commit(lambda: fired.append("committed"))
            assert fired == []
        conn.pgconn.untrace()
    assert bodies == [{"n": 3}, {"n": 2}, {"n": 1}]
    # The first statement, the two queued ones together, then the Sync.
    assert _round_trips((tmp_path / "tx.txt").read_text()) == 3
    assert fired == ["committed"]
    assert _stored(infra, ada) == 3

    async def roll_back() -> None:
        async with direct_transaction(single, ada) as tx:
            await tx.queue(ADD, id=uuid.uuid4(), user_id=ada, body=Jsonb({"n": 4}))
            tx.after_commit(lambda: fired.append("rolled back"))
            raise RuntimeError("the handler failed")

    with pytest.raises(RuntimeError):
        await roll_back()
    assert fired == ["committed"]  # never told of a transaction that rolled back
    assert _stored(infra, ada) == 3
