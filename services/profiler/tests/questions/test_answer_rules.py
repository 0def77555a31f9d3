from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from profiler.questions.answer_rules import normalise_answer
from servicekit.errors import Unprocessable

OPTIONS = [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}, {"value": "c", "label": "C"}]


@dataclass
class Q:
    id: str
    kind: str
    options: list[dict[str, str]] | None = None
    max_choices: int | None = None
    scale_min: int | None = None
    scale_max: int | None = None
    max_length: int | None = None


SINGLE = Q("single", "single_choice", OPTIONS)
MULTI = Q("multi", "multiple_choice", OPTIONS, max_choices=2)
SCALE = Q("scale", "scale", scale_min=1, scale_max=5)
TEXT = Q("text", "free_text", max_length=10)


@pytest.mark.parametrize(
    ("question", "value", "stored"),
    [
        (SINGLE, "b", "b"),
        (MULTI, ["a", "c"], ["a", "c"]),
        (SCALE, 1, 1),
        (SCALE, 5, 5),
        (TEXT, "  hello  ", "hello"),
        (TEXT, "x" * 10, "x" * 10),
    ],
)
def test_valid_answers_are_normalised(question: Q, value: Any, stored: Any) -> None:
    assert normalise_answer(question, value) == stored


@pytest.mark.parametrize(
    ("question", "value", "message"),
    [
        (SINGLE, "z", "not an offered option"),
        (SINGLE, ["a"], "expected one option value"),
        (SINGLE, None, "expected one option value"),
        (MULTI, "a", "expected a list"),
        (MULTI, [], "at least one"),
        (MULTI, ["a", "a"], "must not repeat"),
        (MULTI, ["a", "z"], "not offered: 'z'"),
        (MULTI, ["a", "b", "c"], "at most 2"),
        (SCALE, 0, "between 1 and 5"),
        (SCALE, 6, "between 1 and 5"),
        (SCALE, 2.5, "whole number"),
        (SCALE, True, "whole number"),
        (SCALE, "3", "whole number"),
        (TEXT, 42, "expected text"),
        (TEXT, "   ", "must not be empty"),
        (TEXT, "x" * 11, "at most 10 characters"),
    ],
)
def test_invalid_answers_name_the_question_and_the_problem(question: Q, value: Any, message: str) -> None:
    with pytest.raises(Unprocessable) as caught:
        normalise_answer(question, value)
    assert caught.value.status == 422
    assert message in caught.value.detail
    assert caught.value.extra["errors"][0]["question_id"] == question.id


def test_a_huge_rejected_value_is_not_echoed_back() -> None:
    with pytest.raises(Unprocessable) as caught:
        normalise_answer(SINGLE, "x" * 900_000)
    assert len(caught.value.detail) < 100
    assert all(len(str(e)) < 200 for e in caught.value.extra["errors"])


def test_the_example_answers_are_valid_and_cover_every_required_question() -> None:
    from profiler.questions.bank import QUESTIONS
    from profiler.questions.examples import EXAMPLE_ANSWERS

    by_id = {q["id"]: q for q in QUESTIONS}
    assert {q["id"] for q in QUESTIONS if q["required"]} <= set(EXAMPLE_ANSWERS)
    for question_id, value in EXAMPLE_ANSWERS.items():
        q = by_id[question_id]
        normalise_answer(
            Q(
                q["id"],
                q["kind"],
                q.get("options"),
                max_choices=q.get("max_choices"),
                scale_min=q.get("scale_min"),
                scale_max=q.get("scale_max"),
                max_length=q.get("max_length"),
            ),
            value,
        )
