"""Questionnaire sessions: start, answer, complete (which queues the persona job)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from contracts import profiler as events
from entitlements import check_quota, enforce_quota
from entitlements.quota import period_start
from entitlements.tier_cache import current_tier
from profiler.models import Persona, ProfilerAnswer, ProfilerSession
from profiler.personas import repository as personas_repository
from profiler.questions import service as questions_service
from profiler.questions.answer_rules import normalise_answer
from profiler.questions.bank import BANK_VERSION
from profiler.sessions import repository
from servicekit.db import lock_user
from servicekit.direct import DirectTransaction
from servicekit.errors import Conflict, NotFound, Unprocessable
from servicekit.events import emit


async def start(db: AsyncSession, user_id: uuid.UUID) -> ProfilerSession:
    await questions_service.questions_for(db, BANK_VERSION)
    return await repository.insert_session(db, user_id, BANK_VERSION)


async def owned(db: AsyncSession, session_id: uuid.UUID, *, for_update: bool = False) -> ProfilerSession:
    """Load a session of the caller; another user's session is invisible under RLS, so 404."""
    row = await repository.get_session(db, session_id, for_update=for_update)
    if row is None:
        raise NotFound(f"session {session_id} does not exist")
    return row


def _ensure_open(row: ProfilerSession) -> None:
    if row.status == "completed":
        raise Conflict(f"session {row.id} is already completed")


async def answer(
    tx: DirectTransaction, user_id: uuid.UUID, session_id: uuid.UUID, question_id: str, value: Any
) -> dict[str, Any]:
    """Validate and store one answer (the direct path: see sessions.repository)."""
    session = await repository.touch_for_answer(tx, session_id)
    if session is None:
        raise NotFound(f"session {session_id} does not exist")
    if session["status"] == "completed":
        raise Conflict(f"session {session_id} is already completed")
    bank = await questions_service.bank_direct(tx, session["bank_version"])
    question = questions_service.find(bank, question_id)
    return await repository.put_answer(tx, user_id, session_id, question_id, normalise_answer(question, value))


async def answers_of(db: AsyncSession, session_id: uuid.UUID) -> list[ProfilerAnswer]:
    return await repository.list_answers(db, session_id)


async def missing_required(db: AsyncSession, row: ProfilerSession, answers: list[ProfilerAnswer]) -> list[str]:
    answered = {a.question_id for a in answers}
    questions = await questions_service.questions_for(db, row.bank_version)
    return [q.id for q in questions if q.required and q.id not in answered]


async def _enforce_persona_rule(db: AsyncSession, user_id: uuid.UUID) -> None:
    """The first persona is everyone's; after that the tier decides (402 naming the limit)."""
    # Two sessions completed at once must not both pass the count: one user at a time.
    await lock_user(db, user_id)
    tier = await current_tier(db)
    now = datetime.now(UTC)
    month_start = period_start("month", now)
    assert month_start is not None
    total, refreshes = await personas_repository.generation_counts(db, month_start)
    if total == 0:
        return
    enforce_quota(check_quota("persona_generations", tier, total, now))
    enforce_quota(check_quota("persona_refreshes", tier, refreshes, now))


async def complete(db: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID) -> Persona:
    """Close the session and queue the persona job, all in the caller's one transaction.

    A repeat is 409 (a retry with the same Idempotency-Key is answered by the kit before this runs).
    """
    row = await owned(db, session_id, for_update=True)
    _ensure_open(row)
    answers = await repository.list_answers(db, session_id)
    missing = await missing_required(db, row, answers)
    if missing:
        raise Unprocessable(
            f"required questions unanswered: {', '.join(missing)}",
            errors=[{"field": q, "message": "required"} for q in missing],
        )
    await _enforce_persona_rule(db, user_id)
    row.status = "completed"
    row.completed_at = datetime.now(UTC)
    await repository.touch(db, row)
    persona = Persona(user_id=user_id, session_id=session_id, created_at=datetime.now(UTC))
    db.add(persona)
    await db.flush()
    completed = events.SessionCompleted(session_id=session_id, bank_version=row.bank_version, answered=len(answers))
    await emit(db, completed, user_id=user_id)
    await emit(db, events.PersonaRequested(persona_id=persona.id, session_id=session_id), user_id=user_id)
    return persona
