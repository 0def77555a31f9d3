from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class RecommendedMission(BaseModel):
    id: str
    title: str
    skill: str
    tags: list[str]
    difficulty: int
    estimated_minutes: int


class RecommendationPublic(BaseModel):
    mission: RecommendedMission
    why: str = Field(description="Why, in words built from the facts that ranked it.")
    reasons: list[str] = Field(description="The facts that scored it, one phrase each.")
    stretch: bool = Field(description="Above the student's current level, on purpose.")
    score: float


class BasedOn(BaseModel):
    persona: str | None = Field(description="The persona's name, or null when there is none yet.")
    interests: list[str]
    goals: list[str]
    habits: list[str]
    missions_completed: int


class Recommendations(BaseModel):
    day: date = Field(description="The UTC day the list is stable for (unless the facts change).")
    items: list[RecommendationPublic]
    based_on: BasedOn
