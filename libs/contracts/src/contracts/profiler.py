"""Profiler events (the catalogue in docs/events.md is generated from these classes)."""

from __future__ import annotations

import uuid

from pydantic import Field

from contracts.payload import EventPayload


class SessionCompleted(EventPayload):
    """Emitted by `POST /sessions/{id}/complete`, in the transaction that marks the session
    completed. A completion refused by the persona rule (402) emits nothing."""

    SUBJECT = "journey.profiler.session.completed"

    session_id: uuid.UUID = Field(description="The completed questionnaire session.")
    bank_version: int = Field(description="Question bank version the session was answered on.")
    answered: int = Field(description="Number of questions answered (required and optional).")


class PersonaRequested(EventPayload):
    """Work for the persona job. Emitted in the same transaction as `session.completed`, right
    after the pending persona row is inserted. The profiler worker's sweeper emits it once more,
    with a new event id, for a persona still `pending` past the sweep deadline.

    The job first prepares with no transaction open (reads the persona, spends one call of the
    user's daily AI budget, calls the model, or the offline writer for a tier without
    `model_ai`), then stores the content, marks the persona `ready` and emits
    `persona.generated`, in one transaction with the inbox claim."""

    SUBJECT = "journey.profiler.persona.requested"

    persona_id: uuid.UUID = Field(description="The pending persona row to fill.")
    session_id: uuid.UUID = Field(description="The session whose answers the persona is written from.")


class PersonaGenerated(EventPayload):
    """Emitted by the persona job when a persona becomes `ready`.

    Version 2 added `summary` and `letter_line`; events of version 1 (still in the stream) lack
    them and read as null."""

    SUBJECT = "journey.profiler.persona.generated"
    VERSION = 2

    persona_id: uuid.UUID = Field(description="The persona now `ready`.")
    session_id: uuid.UUID = Field(description="Its session.")
    name: str = Field(description='Archetype name, e.g. "The Curious Builder".')
    mission_tags: list[str] = Field(description="1-10 lowercase topic words for mission recommendations.")
    suggested_goals: list[str] = Field(description="1-6 goal suggestions (for Coaching).")
    suggested_habits: list[str] = Field(description="1-6 habit suggestions (for Coaching).")
    provider: str = Field(
        description="`openai` or `offline`: the path that produced the content (always `offline` for a "
        "tier without the `model_ai` feature)."
    )
    fallback: bool = Field(
        description="`true` when the offline writer stood in for the configured model: its answer was "
        "invalid or failed after retries, or the user's daily AI budget was used up."
    )
    summary: str | None = Field(
        default=None, description="The persona's one-paragraph summary (since version 2; null in version 1)."
    )
    letter_line: str | None = Field(
        default=None,
        description="One line of the letter from the student's future self: its first sentence after the "
        "greeting, at most 300 characters (since version 2; null in version 1).",
    )
