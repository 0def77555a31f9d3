"""Goals and habits the student's persona suggested, kept from `persona.generated` so
`GET /suggestions` can offer them and one request adopts one."""

from __future__ import annotations

import uuid
from typing import Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from coaching.models import Suggestion
from coaching.suggestions import repository
from contracts.profiler import PersonaGenerated
from servicekit.errors import Conflict, Unprocessable
from servicekit.events import Event
from servicekit.logging import get_logger

log = get_logger(__name__)
Kind = Literal["goal", "habit"]
FIELD = "from_persona_suggestion"
MAX_TEXT = 500


def _invalid(message: str) -> Unprocessable:
    return Unprocessable(f"{FIELD}: {message}", errors=[{"field": FIELD, "message": message}])


async def _open_suggestion(db: AsyncSession, suggestion_id: uuid.UUID, kind: Kind) -> Suggestion:
    suggestion = await repository.get_for_update(db, suggestion_id)
    if suggestion is None:
        raise _invalid(f"no suggestion {suggestion_id} (see GET /suggestions)")
    if suggestion.kind != kind:
        raise _invalid(f"suggestion {suggestion_id} is a {suggestion.kind}, not a {kind}")
    if suggestion.status == "adopted":
        raise Conflict(f"suggestion {suggestion_id} is already adopted (as {suggestion.adopted_id})")
    return suggestion


async def text_of(db: AsyncSession, suggestion_id: uuid.UUID, *, kind: Kind, limit: int) -> str:
    """The suggestion's text, cut to `limit` characters (a default name or title)."""
    text = (await _open_suggestion(db, suggestion_id, kind)).text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


async def adopt(db: AsyncSession, suggestion_id: uuid.UUID, *, kind: Kind, adopted_id: uuid.UUID) -> None:
    await repository.mark_adopted(db, await _open_suggestion(db, suggestion_id, kind), adopted_id)


async def open_suggestions(db: AsyncSession) -> list[Suggestion]:
    return await repository.open_ones(db)


async def store_persona_suggestions(db: AsyncSession, persona: PersonaGenerated, event: Event) -> None:
    """The `coaching-persona-suggestions` consumer: keep the new persona's suggestions (open),
    retire the open ones of older personas. A redelivered event inserts nothing twice."""
    user_id = event.user_id()
    if user_id is None:
        log.warning("persona_without_user", persona_id=str(persona.persona_id))
        return
    rows = [
        Suggestion(
            user_id=user_id,
            persona_id=persona.persona_id,
            persona_name=persona.name[:200],
            kind=kind,
            text=text.strip()[:MAX_TEXT],
            position=position,
        )
        for kind, texts in (("goal", persona.suggested_goals), ("habit", persona.suggested_habits))
        for position, text in enumerate(texts)
        if text.strip()
    ]
    await repository.supersede_others(db, persona.persona_id)
    added = await repository.insert_many(db, rows)
    log.info("persona_suggestions_stored", persona_id=str(persona.persona_id), added=added)
