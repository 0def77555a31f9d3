from __future__ import annotations

import uuid
from typing import Any, cast

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm.attributes import set_committed_value
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
    """The stored answer, in one round trip when the value is new or changed (RETURNING), two
    when it is the same (the update is skipped, so the row is read)."""
    statement = insert(ProfilerAnswer).values(
        session_id=session_id, question_id=question_id, user_id=user_id, value=value, answered_at=func.now()
    )
    upsert = statement.on_conflict_do_update(
        index_elements=["session_id", "question_id"],
        set_={"value": statement.excluded.value, "answered_at": func.now()},
        # A retried PUT with the same value keeps its original timestamp.
        where=ProfilerAnswer.__table__.c.value.is_distinct_from(statement.excluded.value),  # type: ignore[attr-defined]
    ).returning(*ProfilerAnswer.__table__.c)  # type: ignore[attr-defined]
    fresh = {"populate_existing": True}  # the row may already be loaded in this transaction
    written = select(ProfilerAnswer).from_statement(upsert).execution_options(**fresh)
    answer = cast(ProfilerAnswer | None, (await db.exec(written)).scalars().first())  # type: ignore[call-overload]
    if answer is None:  # the same value: nothing was written, the stored row stands
        unchanged = select(ProfilerAnswer).where(
            ProfilerAnswer.session_id == session_id, ProfilerAnswer.question_id == question_id
        )
        answer = (await db.exec(unchanged.execution_options(**fresh))).one()
    return answer


async def touch(db: AsyncSession, row: ProfilerSession) -> None:
    """`updated_at = now()` in one statement (it was a SELECT now() then an UPDATE)."""
    statement = (
        update(ProfilerSession)
        .where(ProfilerSession.__table__.c.id == row.id)  # type: ignore[attr-defined]
        .values(updated_at=func.now())
        .returning(ProfilerSession.__table__.c.updated_at)  # type: ignore[attr-defined]
        .execution_options(synchronize_session=False)
    )
    set_committed_value(row, "updated_at", (await db.exec(statement)).scalar_one())
