from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from profiler.models import ProfilerAnswer, ProfilerSession


async def get_session(db: AsyncSession, session_id: uuid.UUID, *, for_update: bool = False) -> ProfilerSession | None:
    query = select(ProfilerSession).where(ProfilerSession.id == session_id)
    if for_update:
        query = query.with_for_update()
    return (await db.exec(query)).first()


async def insert_session(db: AsyncSession, user_id: uuid.UUID, bank_version: int) -> ProfilerSession:
    """A new session; its timestamps come from the table's defaults."""
    statement = (
        insert(ProfilerSession)
        .values(id=uuid.uuid4(), user_id=user_id, bank_version=bank_version)
        .returning(ProfilerSession.__table__.c.id)  # type: ignore[attr-defined]
    )
    new_id = (await db.exec(statement)).scalar_one()
    row = await get_session(db, new_id)
    assert row is not None, "the row was just inserted in this transaction"
    return row


async def list_answers(db: AsyncSession, session_id: uuid.UUID) -> list[ProfilerAnswer]:
    return list((await db.exec(select(ProfilerAnswer).where(ProfilerAnswer.session_id == session_id))).all())


async def upsert_answer(
    db: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID, question_id: str, value: Any
) -> ProfilerAnswer:
    statement = insert(ProfilerAnswer).values(
        session_id=session_id, question_id=question_id, user_id=user_id, value=value, answered_at=func.now()
    )
    statement = statement.on_conflict_do_update(
        index_elements=["session_id", "question_id"],
        set_={"value": statement.excluded.value, "answered_at": func.now()},
        # A retried PUT with the same value keeps its original timestamp.
        where=ProfilerAnswer.__table__.c.value.is_distinct_from(statement.excluded.value),  # type: ignore[attr-defined]
    )
    await db.exec(statement)
    answer = (
        await db.exec(
            select(ProfilerAnswer).where(
                ProfilerAnswer.session_id == session_id, ProfilerAnswer.question_id == question_id
            )
        )
    ).one()
    await db.refresh(answer)
    return answer


async def touch(db: AsyncSession, row: ProfilerSession) -> None:
    row.updated_at = await db.scalar(select(func.now()))  # type: ignore[assignment]
    db.add(row)
    await db.flush()
