"""SQL for the rebuild (system role): start a generation, store batches of users into it, switch over."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

_LOCK_PROJECTION = text("SELECT live_generation, building_generation FROM projection WHERE id = 1 FOR UPDATE")
_FORGET_GENERATION = text("DELETE FROM facts WHERE generation = :g")
_FORGET_OTHERS = text("DELETE FROM facts WHERE generation <> :g")
_BEGIN = text("UPDATE projection SET building_generation = :g WHERE id = 1")
_SWITCH = text(
    "UPDATE projection SET live_generation = :g, building_generation = NULL, switched_at = now() WHERE id = 1"
)
_COUNT_USERS = text("SELECT count(*) FROM facts WHERE generation = :g")
# Users whose facts differ between the new generation and the live one (jsonb equality: by
# value, not by text), or who exist in only one of them.
_CHANGED = text(
    """
    SELECT coalesce(n.user_id, o.user_id)
    FROM (SELECT user_id, state FROM facts WHERE generation = :g) AS n
    FULL JOIN (SELECT user_id, state FROM facts WHERE generation = :live) AS o ON o.user_id = n.user_id
    WHERE n.state IS DISTINCT FROM o.state
    """
)
_LOAD = text("SELECT user_id, state FROM facts WHERE generation = :g AND user_id = ANY(:users) FOR UPDATE")
# One statement per batch: the rows travel as one JSON array, joined from each user's JSON text
# (a text[] parameter would be escaped element by element on the client, which costs more).
_STORE = text(
    "INSERT INTO facts (generation, user_id, state, updated_at) "
    "SELECT :g, (row->>'u')::uuid, row->'s', now() FROM jsonb_array_elements(CAST(:rows AS jsonb)) AS row "
    "ON CONFLICT (generation, user_id) DO UPDATE SET state = excluded.state, updated_at = now() "
    "RETURNING user_id, xmin::text"
)
# The transaction that last wrote each row (`xmin`): unchanged since the rebuild stored it means
# no consumer has written that user since.
_STAMPS = text("SELECT user_id, xmin::text FROM facts WHERE generation = :g AND user_id = ANY(:users)")
# The consumers' per-user lock (servicekit.db.lock_user), for a whole batch in one statement, in a
# fixed order so two batches cannot deadlock.
_LOCK_USERS = text(
    "SELECT count(pg_advisory_xact_lock(hashtextextended(u::text, 0))) "
    "FROM (SELECT unnest(CAST(:users AS uuid[])) AS u ORDER BY 1) AS ordered"
)


async def lock_projection(db: AsyncSession) -> tuple[int, int | None]:
    row = (await db.exec(_LOCK_PROJECTION)).one()  # type: ignore[call-overload]
    return int(row[0]), (int(row[1]) if row[1] is not None else None)


async def begin_generation(db: AsyncSession, generation: int, abandoned: int | None) -> None:
    """From now on the consumers write `generation` too; an abandoned one (a run that died) goes."""
    if abandoned is not None:
        await db.exec(_FORGET_GENERATION, params={"g": abandoned})  # type: ignore[call-overload]
    await db.exec(_FORGET_GENERATION, params={"g": generation})  # type: ignore[call-overload]
    await db.exec(_BEGIN, params={"g": generation})  # type: ignore[call-overload]


async def load_for_update(db: AsyncSession, generation: int, users: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    rows = (await db.exec(_LOAD, params={"g": generation, "users": users})).all()  # type: ignore[call-overload]
    return {row[0]: row[1] for row in rows}


async def lock_users(db: AsyncSession, users: list[uuid.UUID]) -> None:
    await db.exec(_LOCK_USERS, params={"users": users})  # type: ignore[call-overload]


async def store_many(db: AsyncSession, generation: int, states: dict[uuid.UUID, str]) -> dict[uuid.UUID, str]:
    """`states`: each user's facts as JSON text. Returns each row's stamp (`stamps`)."""
    if not states:
        return {}
    rows = "[" + ",".join(f'{{"u":"{user}","s":{state}}}' for user, state in states.items()) + "]"
    stored = (await db.exec(_STORE, params={"g": generation, "rows": rows})).all()  # type: ignore[call-overload]
    return {row[0]: row[1] for row in stored}


async def stamps(db: AsyncSession, generation: int, users: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    rows = (await db.exec(_STAMPS, params={"g": generation, "users": users})).all()  # type: ignore[call-overload]
    return {row[0]: row[1] for row in rows}


async def count_users(db: AsyncSession, generation: int) -> int:
    return int((await db.exec(_COUNT_USERS, params={"g": generation})).one()[0])  # type: ignore[call-overload]


async def changed_users(db: AsyncSession, generation: int, live: int) -> list[uuid.UUID]:
    rows = (await db.exec(_CHANGED, params={"g": generation, "live": live})).all()  # type: ignore[call-overload]
    return [row[0] for row in rows]


async def switch(db: AsyncSession, generation: int) -> None:
    await db.exec(_SWITCH, params={"g": generation})  # type: ignore[call-overload]
    await db.exec(_FORGET_OTHERS, params={"g": generation})  # type: ignore[call-overload]
