from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from missions.reviews.schemas import Review


class FilePublic(BaseModel):
    id: uuid.UUID
    filename: str = Field(description="The name the client gave, for display (never used as a path).")
    content_type: str = Field(description="The type detected from the file's bytes; what downloads are served as.")
    size_bytes: int
    sha256: str
    url: str


class ReviewPublic(Review):
    provider: str = Field(description="`openai` or `offline`.")
    fallback: bool = Field(description="The offline reviewer stood in for the model.")


class SubmissionPublic(BaseModel):
    id: uuid.UUID
    enrollment_id: uuid.UUID
    mission_id: str
    mission_title: str
    attempt: int
    text: str
    status: Literal["pending", "scored"] = Field(description="`pending` until the review job stores its review.")
    files: list[FilePublic]
    review: ReviewPublic | None = None
    created_at: datetime
    reviewed_at: datetime | None = None


class SubmissionSummary(BaseModel):
    id: uuid.UUID
    enrollment_id: uuid.UUID
    mission_id: str
    mission_title: str
    attempt: int
    status: Literal["pending", "scored"]
    overall_score: float | None = None
    verdict: Literal["pass", "resubmit"] | None = None
    file_count: int
    created_at: datetime
    reviewed_at: datetime | None = None


class SubmissionsPage(BaseModel):
    items: list[SubmissionSummary]
    next_cursor: str | None = None
