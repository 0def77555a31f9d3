from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from profiler.models import Persona
from servicekit.direct import DirectQueries, Statement


async def by_session(db: AsyncSession, session_id: uuid.UUID) -> Persona | None:
    return (await db.exec(select(Persona).where(Persona.session_id == session_id))).first()


async def by_id(db: AsyncSession, persona_id: uuid.UUID) -> Persona | None:
    return await db.get(Persona, persona_id)


async def by_id_for_update(db: AsyncSession, persona_id: uuid.UUID) -> Persona | None:
    return (await db.exec(select(Persona).where(Persona.id == persona_id).with_for_update())).first()


# GET /personas/current is the hottest read: compiled once, run on the kit's ORM-free read path.
_NEWEST_READY = Statement(
    select(Persona)
    .where(Persona.user_id == bindparam("user_id"), Persona.status == "ready")
    .order_by(col(Persona.generated_at).desc())
    .limit(1)
)


async def newest_ready(db: DirectQueries, user_id: uuid.UUID) -> dict[str, Any] | None:
    return await db.one(_NEWEST_READY, user_id=user_id)


async def generation_counts(db: AsyncSession, since: datetime) -> tuple[int, int]:
    """(personas ever, refreshes since `since`): every persona after the first is a refresh."""
    row = (
        await db.exec(
            text(
                "SELECT count(*), count(*) FILTER (WHERE created_at >= :since AND rank > 1) FROM ("
                "  SELECT created_at, row_number() OVER (ORDER BY created_at, id) AS rank FROM personas"
                ") p"
            ),  # type: ignore[call-overload]
            params={"since": since},
        )
    ).one()
    return int(row[0]), int(row[1])


_STRANDED = text(
    "SELECT id, user_id FROM personas "
    "WHERE status = 'pending' AND requested_again_at IS NULL AND created_at < now() - make_interval(secs => :age) "
    "ORDER BY created_at LIMIT :limit"
)
_MARK_REQUESTED_AGAIN = text(
    "UPDATE personas SET requested_again_at = now() "
    "WHERE id = :id AND status = 'pending' AND requested_again_at IS NULL RETURNING session_id"
)


async def stranded(db: AsyncSession, *, older_than: float, limit: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(persona id, user id) of personas pending longer than `older_than` seconds and never
    requested again (visible to the worker with no user set, through the sweep policy)."""
    rows = (await db.exec(_STRANDED, params={"age": older_than, "limit": limit})).all()  # type: ignore[call-overload]
    return [(row[0], row[1]) for row in rows]


async def mark_requested_again(db: AsyncSession, persona_id: uuid.UUID) -> uuid.UUID | None:
    """Mark a still-pending persona as requested again; its session id, or None when it was
    written or swept meanwhile."""
    session_id: uuid.UUID | None = (
        await db.exec(_MARK_REQUESTED_AGAIN, params={"id": persona_id})  # type: ignore[call-overload]
    ).scalar()
    return session_id
