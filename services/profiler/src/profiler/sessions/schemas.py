from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class AnswerIn(BaseModel):
    value: Any = Field(description="option value, list of option values, whole number, or text, by question kind")


class AnswerPublic(BaseModel):
    question_id: str
    value: Any
    answered_at: datetime


class Progress(BaseModel):
    answered: int
    required_missing: list[str]


class SessionPublic(BaseModel):
    id: uuid.UUID
    status: str
    bank_version: int
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    answers: list[AnswerPublic]
    progress: Progress
    persona_url: str | None = None


class CompletionAccepted(BaseModel):
    session_id: uuid.UUID
    persona_id: uuid.UUID
    status: str
    persona_url: str
