"""Helpers of the e2e tests; the stack itself (shared with tests/browser) is in the root conftest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def _example_answer(question: dict[str, Any]) -> Any:
    """A valid answer to any question of the bank, as a client would build it from GET /questions."""
    kind = question["kind"]
    if kind == "single_choice":
        return question["options"][-1]["value"]
    if kind == "multiple_choice":
        return [o["value"] for o in question["options"][:2]]
    if kind == "scale":
        return question["scale_max"]
    return f"my answer to {question['id']}"


@pytest.fixture(scope="session")
def example_answer() -> Callable[[dict[str, Any]], Any]:
    return _example_answer
