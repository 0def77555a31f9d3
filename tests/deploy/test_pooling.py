"""Why PgBouncer in transaction mode is safe in front of the services: the kit scopes each
transaction to its user with a transaction-local `set_config`, so a server connection handed
to the next client's transaction carries nothing of the last one (docs/deploy.md)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text

from servicekit.db import create_engine, user_transaction

STATE = text("SELECT pg_backend_pid(), current_setting('app.user_id', true)")


async def test_a_users_scope_ends_with_its_transaction_on_the_same_server_connection(infra: Any) -> None:
    engine = create_engine(infra.admin_dsn, pool_size=1)  # one server connection, as a pooler reuses it
    user = uuid.uuid4()
    try:
        async with user_transaction(engine, user) as session:
            pid, scoped = (await session.execute(STATE)).one()
        assert scoped == str(user)
        with pytest.raises(RuntimeError, match="rolled back"):
            await _scoped_then_failing(engine)
        async with engine.connect() as conn:  # the next client's transaction
            next_pid, left_over = (await conn.execute(STATE)).one()
        assert next_pid == pid
        assert left_over in ("", None)
    finally:
        await engine.dispose()


async def _scoped_then_failing(engine: Any) -> None:
    async with user_transaction(engine, uuid.uuid4()) as session:
        await session.execute(STATE)
        raise RuntimeError("rolled back")
