"""Persona regeneration follows the tier: free gets one persona, plus one refresh a month,
pro any number; over the limit is 402 problem+json naming it."""

from __future__ import annotations

from typing import Any

import pytest

from servicekit.testing import Users, eventually
from servicekit.worker import Worker

B = "/api/v1/profiler"


async def _ready(questionnaire: Any, headers: dict[str, str], session_id: str) -> None:
    async def done() -> bool:
        response = await questionnaire.client.get(f"{B}/sessions/{session_id}/persona", headers=headers)
        return bool(response.status_code == 200)

    await eventually(done)


async def _answered_session(questionnaire: Any, headers: dict[str, str]) -> str:
    session_id: str = await questionnaire.start(headers)
    await questionnaire.answer_required(headers, session_id)
    return session_id


async def test_free_users_get_one_persona(users: Users, questionnaire: Any, worker: Worker) -> None:
    headers = users.headers(users.new("free"))
    await questionnaire.completed_session(headers)
    second = await _answered_session(questionnaire, headers)
    response = await questionnaire.complete(headers, second)
    assert response.status_code == 402
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["limit_name"] == "persona_generations"
    assert body["tier"] == "free"
    assert body["limit"] == 1
    assert body["used"] == 1
    assert body["allowed"] is False
    assert body["lifted_by"] == "plus"
    assert "persona_generations" in body["detail"]
    # Nothing changed: the session is still open, so the same request can succeed later.
    session = (await questionnaire.client.get(f"{B}/sessions/{second}", headers=headers)).json()
    assert session["status"] == "in_progress"


async def test_plus_users_refresh_once_a_month(users: Users, questionnaire: Any, worker: Worker, set_tier: Any) -> None:
    name = users.new("plus")
    set_tier(users.id(name), "plus")
    headers = users.headers(name)
    first = await questionnaire.completed_session(headers)
    await _ready(questionnaire, headers, first)
    await questionnaire.completed_session(headers)  # the month's refresh
    third = await _answered_session(questionnaire, headers)
    body = (await questionnaire.complete(headers, third)).json()
    assert body["status"] == 402
    assert body["limit_name"] == "persona_refreshes"
    assert (body["limit"], body["used"], body["lifted_by"]) == (1, 1, "pro")
    assert body["resets_at"].endswith("T00:00:00+00:00")


@pytest.mark.parametrize("extra", [3])
async def test_pro_users_refresh_any_time(
    extra: int, users: Users, questionnaire: Any, worker: Worker, set_tier: Any
) -> None:
    name = users.new("pro")
    set_tier(users.id(name), "pro")
    headers = users.headers(name)
    for _ in range(1 + extra):
        await questionnaire.completed_session(headers)
