from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, WithJsonSchema

# The shapes a value may take, one per question kind. Which one applies (and the offered options,
# the scale, the length) depends on the question in the path, so the rules answer 422, not the schema;
# the value itself is checked by `answer_rules`, which gives better messages than a union would.
ANSWER_VALUE_SCHEMA: dict[str, Any] = {
    "description": "by the question's kind (see GET /questions); a value that breaks its question's rules is a 422",
    "anyOf": [
        {"type": "string", "title": "single_choice: one offered option value"},
        {
            "type": "array",
            "title": "multiple_choice: distinct offered option values, at most max_choices",
            "items": {"type": "string"},
            "minItems": 1,
            "uniqueItems": True,
        },
        {"type": "integer", "title": "scale: a whole number in [scale_min, scale_max]"},
        {"type": "string", "title": "free_text: text, non-empty after trimming, at most max_length"},
    ],
}


class AnswerIn(BaseModel):
    value: Annotated[Any, WithJsonSchema(ANSWER_VALUE_SCHEMA)] = Field()


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
