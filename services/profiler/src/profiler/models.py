"""Profiler tables (DDL in migrations/; these map them for queries)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from profiler import SCHEMA
from servicekit.db import timestamp_field


class Question(SQLModel, table=True):
    __tablename__ = "questions"
    __table_args__ = {"schema": SCHEMA}

    bank_version: int = Field(primary_key=True)
    id: str = Field(primary_key=True)
    position: int
    category: str
    kind: str
    prompt: str
    required: bool
    options: list[dict[str, str]] | None = Field(default=None, sa_column=Column(JSONB))
    max_choices: int | None = None
    scale_min: int | None = None
    scale_max: int | None = None
    scale_labels: list[str] | None = Field(default=None, sa_column=Column(JSONB))
    max_length: int | None = None


class ProfilerSession(SQLModel, table=True):
    __tablename__ = "sessions"
    __table_args__ = {"schema": SCHEMA}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID
    bank_version: int
    status: str = "in_progress"
    created_at: datetime = timestamp_field(nullable=False)
    updated_at: datetime = timestamp_field(nullable=False)
    completed_at: datetime | None = timestamp_field()


class ProfilerAnswer(SQLModel, table=True):
    __tablename__ = "answers"
    __table_args__ = {"schema": SCHEMA}

    session_id: uuid.UUID = Field(primary_key=True)
    question_id: str = Field(primary_key=True)
    user_id: uuid.UUID
    value: Any = Field(sa_column=Column(JSONB, nullable=False))
    answered_at: datetime = timestamp_field(nullable=False)


class Persona(SQLModel, table=True):
    __tablename__ = "personas"
    __table_args__ = {"schema": SCHEMA}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID
    session_id: uuid.UUID
    status: str = "pending"
    content: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    provider: str | None = None
    fallback: bool = False
    fallback_reason: str | None = None
    created_at: datetime = timestamp_field(nullable=False)
    generated_at: datetime | None = timestamp_field()
    requested_again_at: datetime | None = timestamp_field()  # the sweeper's one retry (personas.sweeper)
