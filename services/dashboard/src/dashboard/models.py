"""Dashboard tables (DDL in migrations/; these map them for queries)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, SmallInteger
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from dashboard import SCHEMA
from servicekit.db import timestamp_field


class Projection(SQLModel, table=True):
    __tablename__ = "projection"
    __table_args__ = {"schema": SCHEMA}

    id: int = Field(primary_key=True, sa_type=SmallInteger)
    live_generation: int
    building_generation: int | None = None
    switched_at: datetime | None = timestamp_field()


class Facts(SQLModel, table=True):
    __tablename__ = "facts"
    __table_args__ = {"schema": SCHEMA}

    generation: int = Field(primary_key=True)
    user_id: uuid.UUID = Field(primary_key=True)
    state: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    updated_at: datetime | None = timestamp_field(nullable=False, defaults_to_now=True)


class SnapshotRow(SQLModel, table=True):
    __tablename__ = "snapshots"
    __table_args__ = {"schema": SCHEMA}

    user_id: uuid.UUID = Field(primary_key=True)
    version: int = Field(sa_column=Column(BigInteger, nullable=False))
    as_of: datetime = timestamp_field(nullable=False)
    content_hash: str
    document: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))


class RefreshRequest(SQLModel, table=True):
    __tablename__ = "refresh_queue"
    __table_args__ = {"schema": SCHEMA}

    user_id: uuid.UUID = Field(primary_key=True)
    pending: bool
    priority: int = Field(sa_type=SmallInteger)
    due_at: datetime = timestamp_field(nullable=False)
    requested_at: datetime = timestamp_field(nullable=False)
    rendered_at: datetime | None = timestamp_field()
    manual_at: datetime | None = timestamp_field()
