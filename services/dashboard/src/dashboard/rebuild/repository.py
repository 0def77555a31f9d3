"""SQL for the rebuild (system role): start a generation, fold batches into it, switch over."""

from __future__ import annotations

import json
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
_LOAD = text("SELECT user_id, state FROM facts WHERE generation = :g AND user_id = ANY(:users) FOR UPDATE")
# One statement per batch: the rows travel as one JSON array.
_STORE = text(
    "INSERT INTO facts (generation, user_id, state, updated_at) "
    "SELECT :g, (row->>'user_id')::uuid, row->'state', now() FROM jsonb_array_elements(CAST(:rows AS jsonb)) AS row "
    "ON CONFLICT (generation, user_id) DO UPDATE SET state = excluded.state, updated_at = now()"
)
# The consumers' per-user lock (servicekit.db.lock_user), for a whole batch in one statement, in a
# fixed order so two batches cannot deadlock.
_LOCK_USERS = text(
    "SELECT count(pg_advisory_xact_lock(hashtextextended(u::text, 0))) "
    "FROM (SELECT unnest(CAST(:users AS uuid[])) AS u ORDER BY 1) AS ordered"
)
_USERS = text("SELECT user_id FROM facts WHERE generation = :g UNION SELECT user_id FROM snapshots")


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


async def store_many(db: AsyncSession, generation: int, states: dict[uuid.UUID, dict[str, Any]]) -> None:
    if states:
        rows = json.dumps([{"user_id": str(user), "state": state} for user, state in states.items()])
        await db.exec(_STORE, params={"g": generation, "rows": rows})  # type: ignore[call-overload]


async def users_of(db: AsyncSession, generation: int) -> list[uuid.UUID]:
    return [row[0] for row in (await db.exec(_USERS, params={"g": generation})).all()]  # type: ignore[call-overload]


async def switch(db: AsyncSession, generation: int) -> None:
    await db.exec(_SWITCH, params={"g": generation})  # type: ignore[call-overload]
    await db.exec(_FORGET_OTHERS, params={"g": generation})  # type: ignore[call-overload]
