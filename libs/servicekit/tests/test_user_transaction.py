"""`user_transaction`: BEGIN and the RLS `set_config` go out together (one round trip), and the
user stays scoped to that one transaction on a pooled connection."""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import psycopg
from sqlalchemy import text

from servicekit.db import create_engine, user_transaction
from servicekit.settings import ServiceSettings

_SETTING = text("SELECT current_setting('app.user_id', true), now() = statement_timestamp()")


async def test_the_user_is_set_in_the_transaction_and_gone_after_it(kit_settings: ServiceSettings) -> None:
    engine = create_engine(kit_settings.database_url, pool_size=1)  # one connection: both reuse it
    try:
        alice, bob = uuid.uuid4(), uuid.uuid4()
        async with user_transaction(engine, alice) as db:
            setting, first_statement = (await db.execute(_SETTING)).one()
            assert setting == str(alice)
            assert first_statement is False  # now() is the BEGIN's time: set_config ran in this transaction
            backend = (await db.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with user_transaction(engine, None) as db:
            assert (await db.execute(text("SELECT pg_backend_pid()"))).scalar_one() == backend
            assert (await db.execute(_SETTING)).one()[0] == ""
        async with user_transaction(engine, bob) as db:
            assert (await db.execute(_SETTING)).one()[0] == str(bob)
            assert (await db.execute(text("SELECT pg_backend_pid()"))).scalar_one() == backend
    finally:
        await engine.dispose()


async def test_begin_and_set_config_share_one_sync(kit_settings: ServiceSettings) -> None:
    """The libpq protocol trace of the begin: both statements are sent before one Sync."""
    engine = create_engine(kit_settings.database_url, pool_size=1)
    try:
        async with user_transaction(engine, None) as db:  # opens the pooled connection
            await db.execute(text("SELECT 1"))
        with tempfile.TemporaryDirectory() as scratch:
            trace_path = Path(scratch) / "trace"
            async with engine.connect() as probe:
                raw = (await probe.get_raw_connection()).driver_connection
            assert isinstance(raw, psycopg.AsyncConnection)
            with trace_path.open("w") as trace:
                raw.pgconn.trace(trace.fileno())
                try:
                    async with user_transaction(engine, uuid.uuid4()):
                        pass
                finally:
                    raw.pgconn.untrace()
                    trace.flush()
                    os.fsync(trace.fileno())
            lines = [line.split("\t") for line in trace_path.read_text().splitlines()]
        # (direction, message): F from the client, B from the server
        messages = [(fields[1], fields[3].split(" ")[0]) for fields in lines if len(fields) > 3]
        sent_before_reply = [m for d, m in messages[: [d for d, _ in messages].index("B")]]
        # BEGIN and set_config are both sent before the server's first answer, with one Sync
        # between them and the COMMIT (psycopg may add a Flush).
        assert sent_before_reply.count("Execute") == 2, messages
        sent = [m for d, m in messages if d == "F"]
        assert sent.count("Sync") == 1, messages
        assert sent[-1] == "Query", messages  # the COMMIT
    finally:
        await engine.dispose()
