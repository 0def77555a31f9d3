"""Hot paths without the ORM session: RLS-scoped statements pipelined on psycopg's own pool.

An endpoint hit on every page load or keystroke (`GET /personas/current`, `PUT .../answers/...`)
needs none of the unit of work. Measured here, the ORM session's greenlet hops, identity map and
result machinery cost two to five times the CPU of the statements themselves, and each round
trip to PostgreSQL costs more CPU than the statement's own work. So this path keeps what matters,
the same transaction-local `set_config('app.user_id', ...)` before any statement, and runs
`Statement`s (SQLAlchemy Core, compiled once) in psycopg's pipeline mode on a pool of its own
(`DirectPool`, `app.state.direct_pool`):

- a transaction (`DirectTransaction`) costs one round trip per result awaited, plus the Sync
  that commits it: what comes before a Sync is one implicit transaction, so no BEGIN or COMMIT;
- a statement in a transaction of its own (`set_config` and the statement before one Sync, which
  PostgreSQL runs as one implicit transaction) is one round trip (`DirectReader`), where the
  naive form (BEGIN, set_config, the statement, COMMIT) takes four.

    _CURRENT = Statement(select(Persona).where(Persona.user_id == bindparam("user_id")).limit(1))
    row = await reader.one(_CURRENT, user_id=principal.user_id)      # a dict, or None

Parameters go to psycopg as they are: wrap a value for a JSONB column in `psycopg.types.json.Jsonb`.
`servicekit.events.emit_direct(tx, payload, user_id=...)` queues an event in one statement.
Everything else stays on the ORM session (`servicekit.deps.DbSession`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from typing import Annotated, Any, Protocol, TypeVar

import psycopg
from fastapi import Depends, Request
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.sql import Executable

from servicekit.auth import CurrentPrincipal
from servicekit.db import CONNECT_TIMEOUT_SECONDS, LOCK_USER, libpq_url, sqlalchemy_url

_DIALECT = PGDialect_psycopg()  # type: ignore[no-untyped-call]
_SET_USER = "SELECT set_config('app.user_id', %s, true)"
_T = TypeVar("_T")
_Cursor = psycopg.AsyncCursor[DictRow]
_Fetch = Callable[[_Cursor], Awaitable[_T]]


class Statement:
    """A Core statement compiled once for psycopg (named `%(param)s` placeholders). Literal values
    in it become default parameters; the caller supplies the `bindparam`s."""

    def __init__(self, statement: Executable) -> None:
        compiled = statement.compile(dialect=_DIALECT)  # type: ignore[attr-defined]
        self.sql = str(compiled)
        self.defaults: dict[str, Any] = dict(compiled.params)

    def params(self, given: dict[str, Any]) -> dict[str, Any]:
        return {**self.defaults, **given}


# `servicekit.db.lock_user` on the direct path: `tx.queue(USER_LOCK, uid=str(user_id))` before
# the statements it serialises (a pipeline runs them in order).
USER_LOCK = Statement(LOCK_USER)


class DirectQueries(Protocol):
    """What a repository needs: `DirectTransaction` and `DirectReader` both answer it."""

    async def one(self, statement: Statement, /, **params: Any) -> dict[str, Any] | None: ...

    async def all(self, statement: Statement, /, **params: Any) -> list[dict[str, Any]]: ...


class DirectPool:
    """Autocommit psycopg connections for the direct path (its transactions are the implicit
    ones a Sync ends). Opened with the app; a connection is made when first needed and then
    kept. Waiting for one is bounded by the connect timeout: an unreachable database is a 503
    within it (the ORM path's is at once, its connect being refused)."""

    def __init__(self, dsn: str, *, size: int) -> None:
        self._pool = AsyncConnectionPool(
            libpq_url(sqlalchemy_url(dsn)),
            min_size=1,
            max_size=size,
            open=False,
            timeout=CONNECT_TIMEOUT_SECONDS,
            # The pool reconnects in the background, each try further apart (1, 2, 4 ... s) until
            # this timeout: at its default (5 min) the next try came long after the database was
            # back, and the direct routes stayed 503. Given up this soon, the next request starts
            # a new try at once; meanwhile the tries are at most 2 s apart, within `timeout`.
            reconnect_timeout=CONNECT_TIMEOUT_SECONDS,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_SECONDS},
            name="direct",
        )

    async def open(self) -> None:
        await self._pool.open(wait=False)  # a database still starting must not stop the app

    async def close(self) -> None:
        await self._pool.close()

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        conn: psycopg.AsyncConnection[Any] = await self._pool.getconn()
        return conn

    async def _give_back(self, conn: psycopg.AsyncConnection[Any]) -> None:
        await self._pool.putconn(conn)

    async def _after_dead_connection(self) -> None:
        """A pooled connection was found dead (the server restarted since it was last used): its
        idle siblings died with it, so test them all before the next try."""
        await self._pool.check()


async def _discard_if_lost(conn: psycopg.AsyncConnection[Any], exc: psycopg.OperationalError) -> bool:
    """Whether the connection is gone (not a statement's fault): broken, or the server said so as
    it went (08 connection exception, 57P shutdown or crash). A lost one is closed, so the pool
    discards it when it comes back."""
    lost = conn.broken or exc.sqlstate is None or exc.sqlstate.startswith(("08", "57P"))
    if lost:
        await conn.close()
    return lost


class DirectTransaction:
    """Statements inside one transaction scoped to a user; rows are dicts keyed by column name.

    No BEGIN or COMMIT: in pipeline mode, everything before the Sync is one implicit transaction
    (fetching rows midway sends a Flush, which does not end it). Each `one`/`all` sends its
    statement and waits for its rows; the Sync at the end commits. A pooled connection found
    dead by the first of them is replaced unseen: nothing was done on it yet."""

    def __init__(self, pool: DirectPool, user_id: uuid.UUID | None) -> None:
        self._pool = pool
        self._user = str(user_id) if user_id else ""
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._pipeline: AbstractAsyncContextManager[psycopg.AsyncPipeline] | None = None
        self._answered = False  # once the server has answered, a failure is the caller's
        self._after_commit: list[Callable[[], None]] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once this transaction has committed (never if it rolls back)."""
        self._after_commit.append(callback)

    async def one(self, statement: Statement, /, **params: Any) -> dict[str, Any] | None:
        """The first row (of a SELECT or a RETURNING), or None."""
        return await self._run(statement, params, _fetch_one)

    async def all(self, statement: Statement, /, **params: Any) -> list[dict[str, Any]]:
        return await self._run(statement, params, _fetch_all)

    async def queue(self, statement: Statement, /, **params: Any) -> Queued:
        """Send a statement now and read its rows later (`await queued.one()`): statements queued
        one after another travel together, and the first read brings every answer back in one
        round trip. The transaction's first statement is answered at once instead (see `send`)."""
        if not self._answered:
            rows = await self._run(statement, params, _fetch_all)
            return Queued(rows=rows)
        assert self._conn is not None, "the transaction is not open"
        cursor = self._conn.cursor(row_factory=dict_row)
        await cursor.execute(statement.sql, statement.params(params))
        return Queued(cursor=cursor)

    async def send(self, statement: Statement, /, **params: Any) -> None:
        """A statement whose rows nobody reads: queued to travel with the next statement or the
        Sync that commits, its error (if any) raised there. The transaction's first statement is awaited
        instead, so that a dead pooled connection is still replaced unseen."""
        if not self._answered:
            await self._run(statement, params, _fetch_one)
            return
        assert self._conn is not None, "the transaction is not open"
        await self._conn.execute(statement.sql, statement.params(params))

    async def _begin(self) -> None:
        """Take a connection and send `set_config`, the start of the implicit transaction. psycopg
        may already find a dead connection here, reading what the server said last."""
        for attempt in (1, 2):
            conn = self._conn = await self._pool._connection()
            pipeline = self._pipeline = conn.pipeline()
            try:
                await pipeline.__aenter__()
                await conn.execute(_SET_USER, (self._user,))
                return
            except psycopg.OperationalError as exc:
                lost = await _discard_if_lost(conn, exc)
                await self._end(commit=False)
                if not lost or attempt == 2:
                    raise
                await self._pool._after_dead_connection()

    async def _run(self, statement: Statement, params: dict[str, Any], fetch: _Fetch[_T]) -> _T:
        for attempt in (1, 2):
            conn = self._conn
            assert conn is not None, "the transaction is not open"
            try:
                cursor = conn.cursor(row_factory=dict_row)
                await cursor.execute(statement.sql, statement.params(params))
                result = await fetch(cursor)
            except psycopg.OperationalError as exc:
                lost = await _discard_if_lost(conn, exc)
                if self._answered or not lost or attempt == 2:
                    raise
                await self._end(commit=False)
                await self._pool._after_dead_connection()
                await self._begin()
                continue
            self._answered = True
            return result
        raise AssertionError("unreachable")

    async def _end(self, *, commit: bool) -> None:
        """The Sync that ends the implicit transaction, committing it (raising what failed) or,
        after a queued ROLLBACK or a failed statement, rolling it back; then the connection goes
        back to the pool, idle either way."""
        conn, pipeline = self._conn, self._pipeline
        if conn is None or pipeline is None:
            return
        self._conn = self._pipeline = None
        try:
            if commit:
                await pipeline.__aexit__(None, None, None)
                return
            with suppress(psycopg.Error):  # the error that brought us here is the one to raise
                # PostgreSQL warns "there is no transaction in progress" (there is no BEGIN) and
                # aborts the implicit one, as a test of the kit checks.
                await conn.execute("ROLLBACK")
            with suppress(psycopg.Error):
                await pipeline.__aexit__(None, None, None)
        finally:
            await self._pool._give_back(conn)


class Queued:
    """The rows of a statement `DirectTransaction.queue` sent, read when needed."""

    def __init__(self, *, cursor: _Cursor | None = None, rows: list[dict[str, Any]] | None = None) -> None:
        self._cursor = cursor
        self._rows = rows

    async def all(self) -> list[dict[str, Any]]:
        if self._rows is None:
            assert self._cursor is not None
            self._rows = list(await self._cursor.fetchall())
        return self._rows

    async def one(self) -> dict[str, Any] | None:
        rows = await self.all()
        return rows[0] if rows else None


async def _fetch_one(cursor: _Cursor) -> dict[str, Any] | None:
    return await cursor.fetchone()


async def _fetch_all(cursor: _Cursor) -> list[dict[str, Any]]:
    return list(await cursor.fetchall())


@asynccontextmanager
async def direct_transaction(pool: DirectPool, user_id: uuid.UUID | None) -> AsyncIterator[DirectTransaction]:
    """One transaction as `user_id` on a pooled connection: committed at the end, rolled back
    on any error."""
    tx = DirectTransaction(pool, user_id)
    await tx._begin()
    try:
        yield tx
    except BaseException:
        await tx._end(commit=False)
        raise
    await tx._end(commit=True)
    for callback in tx._after_commit:
        callback()


class DirectReader:
    """Each statement in a transaction of its own as the user: one round trip. A pooled
    connection found dead is replaced and the statement sent again, so use it for reads (a
    statement that must not run twice belongs in a `DirectTransaction`)."""

    def __init__(self, pool: DirectPool, user_id: uuid.UUID | None) -> None:
        self._pool = pool
        self._user = str(user_id) if user_id else ""

    async def one(self, statement: Statement, /, **params: Any) -> dict[str, Any] | None:
        return await self._run(statement, params, _fetch_one)

    async def all(self, statement: Statement, /, **params: Any) -> list[dict[str, Any]]:
        return await self._run(statement, params, _fetch_all)

    async def _run(self, statement: Statement, params: dict[str, Any], fetch: _Fetch[_T]) -> _T:
        for attempt in (1, 2):
            conn = await self._pool._connection()
            try:
                cursor = conn.cursor(row_factory=dict_row)
                # No BEGIN/COMMIT: what comes before a Sync (the pipeline's exit) is one implicit
                # transaction, committed there, or rolled back if anything in it failed.
                async with conn.pipeline():
                    await conn.execute(_SET_USER, (self._user,))
                    await cursor.execute(statement.sql, statement.params(params))
                return await fetch(cursor)
            except psycopg.OperationalError as exc:
                lost = await _discard_if_lost(conn, exc)
                if not lost or attempt == 2:
                    raise
            finally:
                await self._pool._give_back(conn)
            await self._pool._after_dead_connection()
        raise AssertionError("unreachable")


def _pool_of(request: Request) -> DirectPool:
    pool: DirectPool = request.app.state.direct_pool
    return pool


async def _request_transaction(request: Request, principal: CurrentPrincipal) -> AsyncIterator[DirectTransaction]:
    async with direct_transaction(_pool_of(request), principal.user_id) as tx:
        yield tx


async def _public_pool(request: Request) -> DirectPool:
    return _pool_of(request)


async def _request_reader(request: Request, principal: CurrentPrincipal) -> DirectReader:
    return DirectReader(_pool_of(request), principal.user_id)


# The caller's one transaction, committed before the response, for hot routes (`DbSession` otherwise).
DirectTx = Annotated[DirectTransaction, Depends(_request_transaction, scope="function")]
# The caller's statements, each its own transaction and round trip: for hot reads.
DirectRead = Annotated[DirectReader, Depends(_request_reader)]
# The pool itself, for a public hot route (no principal) that opens `direct_transaction(pool, None)`
# after its own checks, so a refused request takes no connection (the Stripe webhook).
PublicDirectPool = Annotated[DirectPool, Depends(_public_pool)]
