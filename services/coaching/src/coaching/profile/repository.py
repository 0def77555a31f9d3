from __future__ import annotations

import uuid

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from coaching.models import Profile


async def get(db: AsyncSession) -> Profile | None:
    """The caller's profile (RLS shows only theirs)."""
    return (await db.exec(select(Profile))).first()


async def upsert(db: AsyncSession, user_id: uuid.UUID, time_zone: str) -> Profile:
    statement = insert(Profile).values(user_id=user_id, time_zone=time_zone)
    statement = statement.on_conflict_do_update(
        index_elements=["user_id"], set_={"time_zone": time_zone, "updated_at": func.now()}
    )
    await db.exec(statement)
    row = (await db.exec(select(Profile).execution_options(populate_existing=True))).one()
    return row
