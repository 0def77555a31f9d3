"""Hot paths without the ORM session: one RLS-scoped transaction on the driver's own connection.

An endpoint hit on every page load or keystroke (`GET /personas/current`, `PUT .../answers/...`)
needs none of the unit of work. Measured here, the ORM session's greenlet hops, identity map and
result machinery cost two to five times the CPU of the statements themselves. A
`DirectTransaction` keeps what matters, the same pooled connection from the service's engine and
the same transaction-local `set_config('app.user_id', ...)` as its first statement, and runs
`Statement`s (SQLAlchemy Core, compiled once) straight on psycopg.

    _CURRENT = Statement(select(Persona).where(Persona.user_id == bindparam("user_id")).limit(1))
    row = await tx.one(_CURRENT, user_id=principal.user_id)      # a dict, or None

Parameters go to psycopg as they are: wrap a value for a JSONB column in `psycopg.types.json.Jsonb`.
Everything else stays on the ORM session (`servicekit.deps.DbSession`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import psycopg
from fastapi import Depends, Request
from psycopg.rows import dict_row
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.ext.asyncio import AsyncConnection as SAConnection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Executable

from servicekit.auth import CurrentPrincipal

_DIALECT = PGDialect_psycopg()  # type: ignore[no-untyped-call]
_SET_USER = "SELECT set_config('app.user_id', %s, true)"


class Statement:
    """A Core statement compiled once for psycopg (named `%(param)s` placeholders). Literal values
    in it become default parameters; the caller supplies the `bindparam`s."""

    def __init__(self, statement: Executable) -> None:
        compiled = statement.compile(dialect=_DIALECT)  # type: ignore[attr-defined]
        self.sql = str(compiled)
        self.defaults: dict[str, Any] = dict(compiled.params)

    def params(self, given: dict[str, Any]) -> dict[str, Any]:
        return {**self.defaults, **given}


class DirectTransaction:
    """Statements inside one transaction scoped to a user; rows are dicts keyed by column name."""

    def __init__(self, connection: psycopg.AsyncConnection[Any]) -> None:
        self._conn = connection

    async def one(self, statement: Statement, **params: Any) -> dict[str, Any] | None:
        """The first row (of a SELECT or a RETURNING), or None."""
        async with self._conn.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(statement.sql, statement.params(params))
            return await cursor.fetchone()

    async def all(self, statement: Statement, **params: Any) -> list[dict[str, Any]]:
        async with self._conn.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(statement.sql, statement.params(params))
            return await cursor.fetchall()


def _driver(connection: Any) -> psycopg.AsyncConnection[Any]:
    driver: psycopg.AsyncConnection[Any] = connection.driver_connection
    return driver


async def _begin_as(sa_conn: SAConnection, user_id: uuid.UUID | None) -> psycopg.AsyncConnection[Any]:
    conn = _driver(await sa_conn.get_raw_connection())
    # psycopg begins the transaction before this first statement; it is local to it.
    await conn.execute(_SET_USER, (str(user_id) if user_id else "",))
    return conn


@asynccontextmanager
async def direct_transaction(engine: AsyncEngine, user_id: uuid.UUID | None) -> AsyncIterator[DirectTransaction]:
    """One transaction as `user_id` on a pooled connection: committed at the end, rolled back
    on any error.

    As with `servicekit.db.user_transaction`, a pooled connection found dead at the first
    statement (the server restarted since it was last used) is discarded with every other
    pooled one, and the transaction begun again on a fresh connection: the caller never sees it."""
    for attempt in (1, 2):
        async with engine.connect() as sa_conn:
            try:
                conn = await _begin_as(sa_conn, user_id)
            except psycopg.OperationalError:
                await sa_conn.invalidate()
                if attempt == 2:
                    raise
                await engine.dispose()  # its siblings died with it: replace the whole pool
                continue
            try:
                yield DirectTransaction(conn)
            except BaseException:
                await conn.rollback()
                raise
            await conn.commit()
            return


async def _request_transaction(request: Request, principal: CurrentPrincipal) -> AsyncIterator[DirectTransaction]:
    async with direct_transaction(request.app.state.engine, principal.user_id) as tx:
        yield tx


# The caller's one transaction, committed before the response, for hot routes (`DbSession` otherwise).
DirectTx = Annotated[DirectTransaction, Depends(_request_transaction, scope="function")]
