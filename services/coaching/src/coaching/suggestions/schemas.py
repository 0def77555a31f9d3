from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class SuggestionPublic(BaseModel):
    id: uuid.UUID = Field(description="Pass as `from_persona_suggestion` to POST /goals or POST /habits.")
    kind: str = Field(description="`goal` or `habit`.")
    text: str
    persona_id: uuid.UUID
    persona_name: str
    created_at: datetime


class Suggestions(BaseModel):
    """The open suggestions of the newest persona (adopted ones leave the list)."""

    goals: list[SuggestionPublic]
    habits: list[SuggestionPublic]
