from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from coaching.models import Suggestion


async def get_for_update(db: AsyncSession, suggestion_id: uuid.UUID) -> Suggestion | None:
    query = select(Suggestion).where(Suggestion.id == suggestion_id).with_for_update()
    return (await db.exec(query)).first()


async def open_ones(db: AsyncSession) -> list[Suggestion]:
    query = (
        select(Suggestion)
        .where(Suggestion.status == "open")
        .order_by(col(Suggestion.kind), col(Suggestion.position), col(Suggestion.created_at))
    )
    return list((await db.exec(query)).all())


async def supersede_others(db: AsyncSession, persona_id: uuid.UUID) -> None:
    """Open suggestions of older personas give way to the new persona's."""
    statement = (
        update(Suggestion)
        .where(col(Suggestion.status) == "open", col(Suggestion.persona_id) != persona_id)
        .values(status="superseded")
    )
    await db.exec(statement)


async def insert_many(db: AsyncSession, rows: list[Suggestion]) -> int:
    """Insert, skipping any already stored (a persona event delivered twice); how many were new."""
    if not rows:
        return 0
    values = [row.model_dump(exclude={"created_at"}) for row in rows]
    statement = (
        insert(Suggestion).values(values).on_conflict_do_nothing(index_elements=["persona_id", "kind", "position"])
    )
    result = await db.exec(statement)
    return int(result.rowcount or 0)


async def mark_adopted(db: AsyncSession, suggestion: Suggestion, adopted_id: uuid.UUID) -> None:
    suggestion.status = "adopted"
    suggestion.adopted_id = adopted_id
    db.add(suggestion)
    await db.flush()
