"""Reading personas (API) and generating them (worker)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from contracts import profiler as events
from entitlements.guard import model_ai_allowed
from profiler.models import Persona
from profiler.personas import repository
from profiler.personas.offline_writer import write_persona
from profiler.personas.schemas import PersonaContent
from profiler.questions import service as questions_service
from profiler.sessions import service as sessions_service
from servicekit.ai import AIResult, StructuredTask
from servicekit.ai_job import AIJob
from servicekit.direct import DirectQueries
from servicekit.errors import NotFound
from servicekit.events import Event, emit
from servicekit.logging import get_logger

log = get_logger(__name__)

INSTRUCTIONS = (
    "You write a student's 'Future-You' persona from their questionnaire answers. "
    "Be warm, concrete and honest; quote the student's own words where it helps. "
    "Answer only with JSON matching the given schema: a short archetype name, a one-paragraph summary, "
    "a letter from their self ten years ahead, strengths, growth areas, suggested goals, suggested habits "
    "and mission tags (lowercase topic words)."
)


async def for_session(db: AsyncSession, session_id: uuid.UUID) -> Persona:
    await sessions_service.owned(db, session_id)
    persona = await repository.by_session(db, session_id)
    if persona is None:
        raise NotFound(f"session {session_id} has no persona yet: complete it first")
    return persona


async def current(db: DirectQueries, user_id: uuid.UUID) -> dict[str, Any]:
    """The newest ready persona's row (the hot read: no ORM object is built)."""
    persona = await repository.newest_ready(db, user_id)
    if persona is None:
        raise NotFound("no persona yet: complete a questionnaire session first")
    return persona


async def persona_task(db: AsyncSession, session_id: uuid.UUID) -> StructuredTask[PersonaContent]:
    row = await sessions_service.owned(db, session_id)
    questions = {q.id: q for q in await questions_service.questions_for(db, row.bank_version)}
    answers = {a.question_id: a.value for a in await sessions_service.answers_of(db, session_id)}
    labels = {qid: {o["value"]: o["label"] for o in q.options or []} for qid, q in questions.items()}
    model_input = {
        "answers": [
            {"question": questions[qid].prompt, "category": questions[qid].category, "answer": value}
            for qid, value in answers.items()
            if qid in questions
        ]
    }
    return StructuredTask(
        name="future_you_persona",
        instructions=INSTRUCTIONS,
        input=model_input,
        schema=PersonaContent,
        offline=lambda: write_persona(answers, labels),
    )


async def load_task(
    db: AsyncSession, request: events.PersonaRequested, _event: Event
) -> StructuredTask[PersonaContent] | None:
    """The persona job's first step (servicekit.ai_job): what the model needs, or None when the
    persona is gone or already written."""
    persona = await repository.by_id(db, request.persona_id)
    if persona is None or persona.status != "pending":
        log.info("persona_skip", persona_id=str(request.persona_id), reason="missing or already generated")
        return None
    return await persona_task(db, persona.session_id)


async def store_result(
    db: AsyncSession, request: events.PersonaRequested, event: Event, result: AIResult[PersonaContent]
) -> None:
    """The persona job's last step: fill the pending persona and announce it, in one transaction."""
    persona = await repository.by_id_for_update(db, request.persona_id)
    if persona is None or persona.status != "pending":
        return
    persona.status = "ready"
    persona.content = result.value.model_dump()
    persona.provider = result.provider
    persona.fallback = result.fallback
    persona.fallback_reason = result.reason
    persona.generated_at = datetime.now(UTC)
    db.add(persona)
    await db.flush()
    generated = events.PersonaGenerated(
        persona_id=persona.id,
        session_id=persona.session_id,
        name=result.value.name,
        mission_tags=result.value.mission_tags,
        suggested_goals=result.value.suggested_goals,
        suggested_habits=result.value.suggested_habits,
        provider=result.provider,
        fallback=result.fallback,
        summary=result.value.summary,
        letter_line=letter_line(result.value.letter),
    )
    await emit(db, generated, user_id=event.user_id())


LETTER_LINE_MAX = 300
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def letter_line(letter: str) -> str:
    """The line of the future-self letter other views show: its first sentence after the
    greeting ("Dear me,"), at most LETTER_LINE_MAX characters (cut at a word, with an ellipsis)."""
    lines = [line.strip() for line in letter.splitlines() if line.strip()]
    body = [line for line in lines if not (len(line) <= 40 and line.endswith(","))] or lines
    sentence = _SENTENCE_END.split(body[0], maxsplit=1)[0] if body else ""
    if len(sentence) <= LETTER_LINE_MAX:
        return sentence
    return sentence[: LETTER_LINE_MAX - 1].rsplit(" ", 1)[0] + "…"


# Work-queue consumer of persona.requested; the default short ack_wait holds, as the consumer
# keeps the message alive with in-progress acks while the model thinks.
persona_job = AIJob(
    payload=events.PersonaRequested,
    durable="profiler-persona-writer",
    load=load_task,
    store=store_result,
    allows_model=model_ai_allowed,
)
