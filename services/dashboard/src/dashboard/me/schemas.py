"""Answers of the `/me` routes other than the snapshot itself (dashboard.snapshot.schemas)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RefreshAccepted(BaseModel):
    status: str = Field("queued", description="`queued`: the snapshot is recomputed from the stored facts at once.")
    current_version: int = Field(description="The version before the refresh; watch for a higher one.")
