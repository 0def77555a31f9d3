from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from missions.catalog.rubrics import Rubric


class MissionPublic(BaseModel):
    id: str = Field(description="Stable slug; `POST /catalog/{id}/start` starts its live version.")
    version: int
    title: str
    brief: str
    steps: list[str]
    difficulty: int = Field(description="1 (starter) to 5 (stretch).")
    estimated_minutes: int
    skill: str
    tags: list[str]
    traits: list[str] = Field(description="Persona traits and values the mission suits.")
    deliverables: list[str] = Field(description="`text`, and `files` when files are expected.")
    min_words: int
    rubric: Rubric
    published_at: datetime
    retired_at: datetime | None = None


class CatalogPage(BaseModel):
    items: list[MissionPublic]
    next_cursor: str | None = None
