"""Catalogue queries (reference table: no RLS, read-only for the service's roles)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from missions.models import Mission


async def live_page(
    db: AsyncSession,
    *,
    limit: int,
    after: str | None,
    tag: str | None,
    skill: str | None,
    difficulty_min: int | None,
    difficulty_max: int | None,
    max_minutes: int | None,
) -> list[Mission]:
    """Live missions ordered by slug, `limit + 1` rows from after `after` (keyset)."""
    query = select(Mission).where(col(Mission.retired_at).is_(None))
    if tag is not None:
        query = query.where(col(Mission.tags).contains([tag]))
    if skill is not None:
        query = query.where(Mission.skill == skill)
    if difficulty_min is not None:
        query = query.where(Mission.difficulty >= difficulty_min)
    if difficulty_max is not None:
        query = query.where(Mission.difficulty <= difficulty_max)
    if max_minutes is not None:
        query = query.where(Mission.estimated_minutes <= max_minutes)
    if after is not None:
        query = query.where(Mission.id > after)
    return list((await db.exec(query.order_by(col(Mission.id)).limit(limit + 1))).all())


async def live(db: AsyncSession) -> Sequence[Mission]:
    return (await db.exec(select(Mission).where(col(Mission.retired_at).is_(None)).order_by(col(Mission.id)))).all()


async def live_by_id(db: AsyncSession, mission_id: str) -> Mission | None:
    query = select(Mission).where(Mission.id == mission_id, col(Mission.retired_at).is_(None))
    return (await db.exec(query)).first()


async def version(db: AsyncSession, mission_id: str, mission_version: int) -> Mission | None:
    return await db.get(Mission, (mission_id, mission_version))


async def versions(db: AsyncSession, keys: set[tuple[str, int]]) -> dict[tuple[str, int], Mission]:
    """The given mission versions (retired ones too), by (id, version)."""
    if not keys:
        return {}
    ids = {mission_id for mission_id, _ in keys}
    rows = (await db.exec(select(Mission).where(col(Mission.id).in_(ids)))).all()
    return {(m.id, m.version): m for m in rows if (m.id, m.version) in keys}
