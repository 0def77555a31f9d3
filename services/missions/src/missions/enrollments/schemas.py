from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class EnrollmentPublic(BaseModel):
    id: uuid.UUID
    mission_id: str
    mission_version: int
    mission_title: str
    status: Literal["active", "completed", "closed"] = Field(
        description="`active`; `completed` when a review passed; `closed` when the submissions ran out without one."
    )
    submissions_count: int
    submissions_left: int
    submissions_url: str = Field(description="Where to POST a submission (multipart).")
    created_at: datetime
    ended_at: datetime | None = None
