from __future__ import annotations

import uuid
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import bindparam, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from profiler.models import ProfilerAnswer, ProfilerSession
from servicekit.direct import DirectTransaction, Statement


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


# PUT /sessions/{id}/answers/{question_id} runs on the kit's direct path (servicekit.direct): it is
# the questionnaire's keystroke-rate write, and the ORM session cost four times its statements.
_sessions = ProfilerSession.__table__.c  # type: ignore[attr-defined]
_answers = ProfilerAnswer.__table__.c  # type: ignore[attr-defined]
# Locks the session row and bumps `updated_at` in one statement; a refusal after it rolls back.
_TOUCH = Statement(
    update(ProfilerSession)
    .where(_sessions.id == bindparam("session_id"))
    .values(updated_at=func.now())
    .returning(_sessions.status, _sessions.bank_version)
)
_new_answer = insert(ProfilerAnswer).values(
    session_id=bindparam("session_id"),
    question_id=bindparam("question_id"),
    user_id=bindparam("user_id"),
    value=bindparam("value"),
    answered_at=func.now(),
)
_written = (
    _new_answer.on_conflict_do_update(
        index_elements=["session_id", "question_id"],
        set_={"value": _new_answer.excluded.value, "answered_at": func.now()},
        # A retried PUT with the same value keeps its original timestamp.
        where=_answers.value.is_distinct_from(_new_answer.excluded.value),
    )
    .returning(_answers.question_id, _answers.value, _answers.answered_at)
    .cte("written")
)
# The upsert's row, or (the same value again: nothing updated) the stored one, in one statement.
_UPSERT_ANSWER = Statement(
    sa_select(_written.c.question_id, _written.c.value, _written.c.answered_at).union_all(
        sa_select(_answers.question_id, _answers.value, _answers.answered_at).where(
            _answers.session_id == bindparam("session_id"),
            _answers.question_id == bindparam("question_id"),
            ~sa_select(_written.c.question_id).exists(),
        )
    )
)
_ANSWER = Statement(
    _new_answer.on_conflict_do_update(
        index_elements=["session_id", "question_id"],
        set_={"value": _new_answer.excluded.value, "answered_at": func.now()},
        # A retried PUT with the same value keeps its original timestamp.
        where=_answers.value.is_distinct_from(_new_answer.excluded.value),
    ).returning(_answers.question_id, _answers.value, _answers.answered_at)
)
_ANSWER = Statement(
    select(_answers.question_id, _answers.value, _answers.answered_at).where(
        _answers.session_id == bindparam("session_id"), _answers.question_id == bindparam("question_id")
    )
)


async def touch_for_answer(tx: DirectTransaction, session_id: uuid.UUID) -> dict[str, Any] | None:
    """The session's `status` and `bank_version`, locked and touched; None if the caller has none."""
    return await tx.one(_TOUCH, session_id=session_id)


async def put_answer(
    tx: DirectTransaction, user_id: uuid.UUID, session_id: uuid.UUID, question_id: str, value: Any
) -> dict[str, Any]:
    """The stored answer (`question_id`, `value`, `answered_at`): one round trip, new value or
    the same again."""
    keys = {"session_id": session_id, "question_id": question_id}
    written = await tx.one(_UPSERT_ANSWER, user_id=user_id, value=Jsonb(value), **keys)
    if written is not None:
        return written
    # The row came from a concurrent PUT committed after this statement's snapshot was taken.
    stored = await tx.one(_ANSWER, **keys)
    assert stored is not None, "the conflicting row exists and is locked by this transaction"
    return stored
