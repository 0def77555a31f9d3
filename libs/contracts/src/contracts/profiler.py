"""Profiler events (the catalogue in docs/events.md is generated from these classes)."""

from __future__ import annotations

import uuid

from contracts.payload import EventPayload


class SessionCompleted(EventPayload):
    """A student finished the questionnaire."""

    SUBJECT = "journey.profiler.session.completed"

    session_id: uuid.UUID
    bank_version: int
    answered: int


class PersonaRequested(EventPayload):
    """Work for the persona writer: write persona `persona_id` from session `session_id`."""

    SUBJECT = "journey.profiler.persona.requested"

    persona_id: uuid.UUID
    session_id: uuid.UUID


class PersonaGenerated(EventPayload):
    """A persona is ready; `fallback` marks an offline persona written after the model failed."""

    SUBJECT = "journey.profiler.persona.generated"

    persona_id: uuid.UUID
    session_id: uuid.UUID
    name: str
    mission_tags: list[str]
    suggested_goals: list[str]
    suggested_habits: list[str]
    provider: str
    fallback: bool


# Subjects as constants, for call sites not yet on emit()/on().
SESSION_COMPLETED = SessionCompleted.SUBJECT
PERSONA_REQUESTED = PersonaRequested.SUBJECT
PERSONA_GENERATED = PersonaGenerated.SUBJECT
