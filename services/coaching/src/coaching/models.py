"""Coaching tables (DDL in migrations/; these map them for queries)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Column, Double, Integer
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from coaching import SCHEMA
from servicekit.db import timestamp_field


class Profile(SQLModel, table=True):
    __tablename__ = "profiles"
    __table_args__ = {"schema": SCHEMA}

    user_id: uuid.UUID = Field(primary_key=True)
    time_zone: str
    created_at: datetime = timestamp_field(nullable=False, defaults_to_now=True)
    updated_at: datetime = timestamp_field(nullable=False, defaults_to_now=True)


class Habit(SQLModel, table=True):
    __tablename__ = "habits"
    __table_args__ = {"schema": SCHEMA}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID
    name: str
    description: str | None = None
    kind: str  # boolean | measurable
    unit: str | None = None
    target: float | None = Field(default=None, sa_column=Column(Double))
    schedule_kind: str  # daily | weekly | monthly | weekdays
    schedule_times: int | None = None
    schedule_weekdays: list[int] | None = Field(default=None, sa_column=Column(ARRAY(Integer)))
    start_date: date
    reminder_time: time | None = None
    colour: str | None = None
    icon: str | None = None
    archived: bool = False
    archived_at: datetime | None = timestamp_field()
    goal_id: uuid.UUID | None = None
    suggestion_id: uuid.UUID | None = None
    created_at: datetime = timestamp_field(nullable=False, defaults_to_now=True)
    updated_at: datetime = timestamp_field(nullable=False, defaults_to_now=True)


class HabitLog(SQLModel, table=True):
    __tablename__ = "habit_logs"
    __table_args__ = {"schema": SCHEMA}

    habit_id: uuid.UUID = Field(primary_key=True)
    local_date: date = Field(primary_key=True)
    user_id: uuid.UUID
    value: float = Field(sa_column=Column(Double, nullable=False))
    note: str | None = None
    logged_at: datetime = timestamp_field(nullable=False, defaults_to_now=True)


class Goal(SQLModel, table=True):
    __tablename__ = "goals"
    __table_args__ = {"schema": SCHEMA}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID
    title: str
    why: str | None = None
    kind: str  # target | checklist
    target_value: float | None = Field(default=None, sa_column=Column(Double))
    unit: str | None = None
    start_value: float = Field(default=0.0, sa_column=Column(Double, nullable=False))
    manual_value: float = Field(default=0.0, sa_column=Column(Double, nullable=False))  # sum of manual updates
    progress_from_habits: bool = False
    milestones: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSONB(none_as_null=True)))
    start_date: date
    deadline: date | None = None
    status: str = "active"  # active | achieved | abandoned
    achieved_at: datetime | None = timestamp_field()
    abandoned_at: datetime | None = timestamp_field()
    suggestion_id: uuid.UUID | None = None
    created_at: datetime = timestamp_field(nullable=False, defaults_to_now=True)
    updated_at: datetime = timestamp_field(nullable=False, defaults_to_now=True)


class Reflection(SQLModel, table=True):
    __tablename__ = "reflections"
    __table_args__ = {"schema": SCHEMA}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID
    text: str
    mood: int | None = None
    prompt_id: str | None = None
    habit_id: uuid.UUID | None = None
    goal_id: uuid.UUID | None = None
    local_date: date
    sentiment_status: str = "pending"  # pending | scored
    sentiment_label: str | None = None
    sentiment_score: float | None = Field(default=None, sa_column=Column(Double))
    themes: list[str] | None = Field(default=None, sa_column=Column(JSONB(none_as_null=True)))
    supportive_sentence: str | None = None
    provider: str | None = None
    fallback: bool = False
    fallback_reason: str | None = None
    scored_at: datetime | None = timestamp_field()
    created_at: datetime = timestamp_field(nullable=False, defaults_to_now=True)


class Suggestion(SQLModel, table=True):
    __tablename__ = "suggestions"
    __table_args__ = {"schema": SCHEMA}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID
    persona_id: uuid.UUID
    persona_name: str
    kind: str  # goal | habit
    text: str
    position: int
    status: str = "open"  # open | adopted | superseded
    adopted_id: uuid.UUID | None = None
    created_at: datetime = timestamp_field(nullable=False, defaults_to_now=True)
