"""Enrollment queries, under the caller's RLS."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from missions.models import Enrollment
from servicekit.repository import OwnedRepository

enrollments = OwnedRepository(Enrollment, label="enrollment")


async def count_started(db: AsyncSession, since: datetime | None) -> int:
    query = select(func.count()).select_from(Enrollment)
    if since is not None:
        query = query.where(col(Enrollment.created_at) >= since)
    return int((await db.exec(query)).one())


async def count_active(db: AsyncSession, _since: datetime | None) -> int:
    query = select(func.count()).select_from(Enrollment).where(Enrollment.status == "active")
    return int((await db.exec(query)).one())


async def active_for_mission(db: AsyncSession, mission_id: str) -> Enrollment | None:
    query = select(Enrollment).where(Enrollment.mission_id == mission_id, Enrollment.status == "active")
    return (await db.exec(query)).first()


async def all_of_user(db: AsyncSession) -> Sequence[Enrollment]:
    return (await db.exec(select(Enrollment).order_by(col(Enrollment.created_at)))).all()


async def by_id_for_update(db: AsyncSession, enrollment_id: uuid.UUID) -> Enrollment | None:
    return await enrollments.get(db, enrollment_id, for_update=True)


async def by_ids(db: AsyncSession, ids: set[uuid.UUID]) -> Sequence[Enrollment]:
    if not ids:
        return []
    return (await db.exec(select(Enrollment).where(col(Enrollment.id).in_(ids)))).all()
