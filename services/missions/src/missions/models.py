"""Missions tables (DDL in migrations/; these map them for queries)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from missions import SCHEMA
from servicekit.db import timestamp_field


class Mission(SQLModel, table=True):
    """One version of a catalogue mission (reference data, seeded)."""

    __tablename__ = "missions"
    __table_args__ = {"schema": SCHEMA}

    id: str = Field(primary_key=True)
    version: int = Field(primary_key=True)
    title: str
    brief: str
    steps: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    difficulty: int
    estimated_minutes: int
    skill: str
    tags: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    traits: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    deliverables: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    min_words: int
    rubric: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    published_at: datetime = timestamp_field(nullable=False)
    retired_at: datetime | None = timestamp_field()


class Enrollment(SQLModel, table=True):
    __tablename__ = "enrollments"
    __table_args__ = {"schema": SCHEMA}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID
    mission_id: str
    mission_version: int
    # active -> completed (a review passed) | closed (resubmissions used up without a pass)
    status: str = "active"
    submissions_count: int = 0
    created_at: datetime = timestamp_field(nullable=False)
    updated_at: datetime = timestamp_field(nullable=False)
    ended_at: datetime | None = timestamp_field()


class Submission(SQLModel, table=True):
    __tablename__ = "submissions"
    __table_args__ = {"schema": SCHEMA}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID
    enrollment_id: uuid.UUID
    attempt: int
    text: str
    status: str = "pending"  # pending -> scored
    overall_score: float | None = None
    verdict: str | None = None
    review: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    provider: str | None = None
    fallback: bool = False
    fallback_reason: str | None = None
    created_at: datetime = timestamp_field(nullable=False)
    reviewed_at: datetime | None = timestamp_field()


class SubmissionFile(SQLModel, table=True):
    __tablename__ = "submission_files"
    __table_args__ = {"schema": SCHEMA}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID
    submission_id: uuid.UUID
    position: int
    filename: str  # the client's name, cleaned, for display only: never a path
    content_type: str  # the detected type, never the declared one
    size_bytes: int = Field(sa_column=Column(BigInteger, nullable=False))
    sha256: str
    storage_key: str
    created_at: datetime = timestamp_field(nullable=False)


class PersonaFacts(SQLModel, table=True):
    """The newest persona of a user, as `persona.generated` told it (for recommendations)."""

    __tablename__ = "persona_facts"
    __table_args__ = {"schema": SCHEMA}

    user_id: uuid.UUID = Field(primary_key=True)
    persona_id: uuid.UUID
    name: str
    mission_tags: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    suggested_goals: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    generated_at: datetime = timestamp_field(nullable=False)
    event_id: uuid.UUID


class CoachingFact(SQLModel, table=True):
    """A goal or habit of a user as coaching's events last described it (for recommendations)."""

    __tablename__ = "coaching_facts"
    __table_args__ = {"schema": SCHEMA}

    user_id: uuid.UUID = Field(primary_key=True)
    kind: str = Field(primary_key=True)  # goal | habit
    ref_id: uuid.UUID = Field(primary_key=True)
    title: str
    active: bool
    changed_at: datetime = timestamp_field(nullable=False)
