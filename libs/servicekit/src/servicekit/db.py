"""Async engine on psycopg 3 and the RLS-scoped transaction every request runs in."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Column, DateTime, func, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext import asyncio as sa_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Field
from sqlmodel.ext.asyncio.session import AsyncSession


def sqlalchemy_url(dsn: str) -> str:
    """Accept plain libpq URLs and point SQLAlchemy at psycopg 3."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if dsn.startswith(prefix):
            return "postgresql+psycopg://" + dsn[len(prefix) :]
    raise ValueError("DATABASE_URL must be a postgresql:// URL")


def libpq_url(dsn: str) -> str:
    return dsn.replace("postgresql+psycopg://", "postgresql://", 1)


CONNECT_TIMEOUT_SECONDS = 5


def create_engine(dsn: str, *, pool_size: int = 10) -> AsyncEngine:
    """A pooled engine of up to `2 * pool_size` connections, opened as needed and then kept:
    SQLAlchemy closes an "overflow" connection as soon as it is given back, so under a load
    above `pool_size` every request paid for a new PostgreSQL backend (seen in the profile).

    No ping per checkout: a connection that died while pooled is replaced by `user_transaction`
    when its first statement fails (SQLAlchemy then invalidates the pool's older connections
    too). A server that does not answer fails within the timeout. (The factory is looked up at
    call time: with tracing on, its instrumentation wraps it.)"""
    return sa_asyncio.create_async_engine(
        sqlalchemy_url(dsn),
        pool_size=2 * pool_size,
        max_overflow=0,
        pool_recycle=1800,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
    )


_SET_USER = text("SELECT set_config('app.user_id', :uid, true)")


async def set_rls_user(session: AsyncSession, user_id: uuid.UUID | None) -> None:
    """Scope the current transaction to one user (transaction-local, bound parameter)."""
    await session.exec(_SET_USER, params={"uid": str(user_id) if user_id else ""})  # type: ignore[call-overload]


async def _begin_as(engine: AsyncEngine, user_id: uuid.UUID | None) -> AsyncSession:
    """A session whose transaction has begun as `user_id`.

    `set_config` is the transaction's first statement, so if it fails because the pooled
    connection died (the server restarted since it was last used), nothing has been done yet
    and the transaction is begun once more on a fresh connection: the caller never sees it."""
    for attempt in (1, 2):
        session = AsyncSession(engine, expire_on_commit=False)
        try:
            await set_rls_user(session, user_id)  # autobegins the transaction
            return session
        except DBAPIError as exc:
            await session.close()
            if attempt == 2 or not exc.connection_invalidated:
                raise
        except BaseException:
            await session.close()
            raise
    raise AssertionError("unreachable")


@asynccontextmanager
async def user_transaction(engine: AsyncEngine, user_id: uuid.UUID | None) -> AsyncIterator[AsyncSession]:
    """One transaction as `user_id`: commits on success, rolls back on any error."""
    session = await _begin_as(engine, user_id)
    async with session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


async def lock_user(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Serialise this transaction with every other that locks the same user (quota checks,
    one paid subscription): a transaction-scoped advisory lock, released at commit."""
    await session.exec(LOCK_USER, params={"uid": str(user_id)})  # type: ignore[call-overload]


LOCK_USER = text("SELECT pg_advisory_xact_lock(hashtextextended(:uid, 0))")


def timestamp_field(*, nullable: bool = True, defaults_to_now: bool = False) -> Any:
    """A `timestamptz` model field; `defaults_to_now` leaves the value to the column's now()."""
    column = Column(DateTime(timezone=True), nullable=nullable, server_default=func.now() if defaults_to_now else None)
    return Field(default=None, sa_column=column)
