"""Profiler events (see docs/events.md)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel

SESSION_COMPLETED = "journey.profiler.session.completed"
PERSONA_REQUESTED = "journey.profiler.persona.requested"
PERSONA_GENERATED = "journey.profiler.persona.generated"


class SessionCompleted(BaseModel):
    session_id: uuid.UUID
    bank_version: int
    answered: int


class PersonaRequested(BaseModel):
    persona_id: uuid.UUID
    session_id: uuid.UUID


class PersonaGenerated(BaseModel):
    persona_id: uuid.UUID
    session_id: uuid.UUID
    name: str
    mission_tags: list[str]
    suggested_goals: list[str]
    suggested_habits: list[str]
    provider: str
    fallback: bool
