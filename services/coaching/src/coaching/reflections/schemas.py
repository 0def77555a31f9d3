from __future__ import annotations

import datetime as dt
import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from coaching.reflections.prompts import PROMPTS

PromptId = Annotated[str, StringConstraints(min_length=1, max_length=40)]


class ReflectionCreate(BaseModel):
    """`text` is capped (5,000 characters by default); `prompt_id` comes from GET /reflections/prompts."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "Finished my essay early and went for a run.", "mood": 4}]},
    )

    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    mood: Annotated[int, Field(ge=1, le=5)] | None = Field(default=None, description="1 (low) to 5 (great).")
    prompt_id: PromptId | None = Field(default=None, examples=[next(iter(PROMPTS))])
    habit_id: uuid.UUID | None = None
    goal_id: uuid.UUID | None = None


class Sentiment(BaseModel):
    status: str = Field(description="`pending` until the worker has scored it, then `scored`.")
    label: str | None = None
    score: float | None = Field(default=None, description="-1 (negative) to 1 (positive).")
    themes: list[str] | None = None
    supportive_sentence: str | None = None
    provider: str | None = Field(default=None, description="`offline` (VADER) or `openai`.")
    fallback: bool = False
    scored_at: datetime | None = None


class ReflectionPublic(BaseModel):
    id: uuid.UUID
    text: str
    mood: int | None
    prompt_id: str | None
    prompt: str | None
    habit_id: uuid.UUID | None
    goal_id: uuid.UUID | None
    local_date: date
    sentiment: Sentiment
    created_at: datetime


class ReflectionPage(BaseModel):
    items: list[ReflectionPublic]
    next_cursor: str | None = None


class Prompt(BaseModel):
    id: str
    text: str


class Prompts(BaseModel):
    items: list[Prompt]


class TrendDay(BaseModel):
    date: dt.date
    reflections: int
    mood: float | None = Field(description="Average mood 1-5 that day, or null.")
    sentiment: float | None = Field(description="Average sentiment -1..1 of the scored reflections, or null.")


class HabitCorrelation(BaseModel):
    habit_id: uuid.UUID
    name: str
    days_done: int
    days_not_done: int
    score_when_done: float = Field(description="Average day score (-1..1) on days the habit was done.")
    score_when_not_done: float
    difference: float = Field(description="How much better (positive) the days with it were.")


class Trend(BaseModel):
    days: int
    from_date: date
    to_date: date
    series: list[TrendDay] = Field(description="Days with at least one reflection, oldest first.")
    enough_data: bool = Field(description="Whether there were enough reflection days to compare habits.")
    needed_days: int = Field(description="Reflection days needed before habits are compared.")
    better_days_with: list[HabitCorrelation] = Field(
        description="Habits and how your days went with and without them, largest difference first."
    )
