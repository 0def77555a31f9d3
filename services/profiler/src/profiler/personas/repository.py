from __future__ import annotations

import uuid

from sqlalchemy import bindparam
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from profiler.models import Persona


async def by_session(db: AsyncSession, session_id: uuid.UUID) -> Persona | None:
    return (await db.exec(select(Persona).where(Persona.session_id == session_id))).first()


async def by_id_for_update(db: AsyncSession, persona_id: uuid.UUID) -> Persona | None:
    return (await db.exec(select(Persona).where(Persona.id == persona_id).with_for_update())).first()


# Built once: GET /personas/current is the hottest read, and statement construction shows up.
_NEWEST_READY = (
    select(Persona)
    .where(Persona.user_id == bindparam("user_id"), Persona.status == "ready")
    .order_by(col(Persona.generated_at).desc())
    .limit(1)
)


async def newest_ready(db: AsyncSession, user_id: uuid.UUID) -> Persona | None:
    return (await db.exec(_NEWEST_READY, params={"user_id": user_id})).first()
