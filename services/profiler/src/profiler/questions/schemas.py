from __future__ import annotations

from pydantic import BaseModel


class Option(BaseModel):
    value: str
    label: str


class QuestionPublic(BaseModel):
    id: str
    category: str
    kind: str
    prompt: str
    required: bool
    options: list[Option] | None = None
    max_choices: int | None = None
    scale_min: int | None = None
    scale_max: int | None = None
    scale_labels: list[str] | None = None
    max_length: int | None = None


class QuestionBankPublic(BaseModel):
    version: int
    items: list[QuestionPublic]
