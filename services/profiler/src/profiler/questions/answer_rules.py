"""Validation of one answer against its question: pure, so it is unit-tested alone."""

from __future__ import annotations

from typing import Any, Protocol

from servicekit.errors import Unprocessable, brief


class QuestionLike(Protocol):
    id: str
    kind: str
    options: list[dict[str, str]] | None
    max_choices: int | None
    scale_min: int | None
    scale_max: int | None
    max_length: int | None


def _invalid(question: QuestionLike, message: str) -> Unprocessable:
    return Unprocessable(
        f"{question.id}: {message}", errors=[{"field": "value", "question_id": question.id, "message": message}]
    )


def normalise_answer(question: QuestionLike, value: Any) -> Any:
    """Return the value to store, or raise 422 naming the field and what is wrong."""
    allowed = {o["value"] for o in question.options or []}
    if question.kind == "single_choice":
        if not isinstance(value, str):
            raise _invalid(question, "expected one option value (a string)")
        if value not in allowed:
            raise _invalid(question, f"{brief(value)} is not an offered option")
        return value
    if question.kind == "multiple_choice":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _invalid(question, "expected a list of option values")
        if not value:
            raise _invalid(question, "choose at least one option")
        if len(set(value)) != len(value):
            raise _invalid(question, "options must not repeat")
        unknown = [v for v in value if v not in allowed]
        if unknown:
            raise _invalid(question, f"not offered: {', '.join(brief(v) for v in unknown[:5])}")
        if question.max_choices is not None and len(value) > question.max_choices:
            raise _invalid(question, f"choose at most {question.max_choices}")
        return value
    if question.kind == "scale":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _invalid(question, "expected a whole number")
        low, high = question.scale_min or 0, question.scale_max or 0
        if not low <= value <= high:
            raise _invalid(question, f"must be between {low} and {high}")
        return value
    if question.kind == "free_text":
        if not isinstance(value, str):
            raise _invalid(question, "expected text")
        text = value.strip()
        if not text:
            raise _invalid(question, "must not be empty")
        if question.max_length is not None and len(text) > question.max_length:
            raise _invalid(question, f"at most {question.max_length} characters")
        return text
    raise _invalid(question, f"unknown question kind {question.kind}")
