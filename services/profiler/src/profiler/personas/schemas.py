from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

Item = str


class PersonaContent(BaseModel):
    """The structured Future-You persona; both AI paths must produce exactly this."""

    name: str = Field(min_length=3, max_length=80)
    summary: str = Field(min_length=40, max_length=1500)
    letter: str = Field(min_length=80, max_length=4000)
    strengths: list[Item] = Field(min_length=1, max_length=6)
    growth_areas: list[Item] = Field(min_length=1, max_length=6)
    suggested_goals: list[Item] = Field(min_length=1, max_length=6)
    suggested_habits: list[Item] = Field(min_length=1, max_length=6)
    mission_tags: list[Item] = Field(min_length=1, max_length=10)


class PersonaPublic(BaseModel):
    id: uuid.UUID
    session_id: uuid.UUID
    status: str
    created_at: datetime
    generated_at: datetime | None
    provider: str | None
    fallback: bool
    content: PersonaContent | None


class PersonaPending(BaseModel):
    id: uuid.UUID
    session_id: uuid.UUID
    status: str
    retry_after_seconds: int
