"""Personas through the API: pending, then ready; the newest is current."""

from __future__ import annotations

from typing import Any

import httpx

from servicekit.testing import Users, eventually, problem
from servicekit.worker import Worker

B = "/api/v1/profiler"


async def test_persona_is_pending_then_ready(
    client: httpx.AsyncClient, users: Users, questionnaire: Any, worker: Worker
) -> None:
    headers = users.headers(users.new())
    problem(await client.get(f"{B}/personas/current", headers=headers), 404)
    session_id = await questionnaire.start(headers)
    problem(await client.get(f"{B}/sessions/{session_id}/persona", headers=headers), 404)
    await questionnaire.answer_required(headers, session_id, career_dream="teaching kids to code")
    completed = await questionnaire.complete(headers, session_id)
    assert completed.status_code == 202
    assert completed.headers["location"] == f"{B}/sessions/{session_id}/persona"
    assert completed.json()["status"] == "pending"

    async def ready() -> dict[str, Any] | None:
        response = await client.get(f"{B}/sessions/{session_id}/persona", headers=headers)
        if response.status_code == 202:
            assert response.headers["retry-after"] == "1"
            assert response.json()["status"] == "pending"
            return None
        assert response.status_code == 200, response.text
        return dict(response.json())

    persona = await eventually(ready)
    assert persona["status"] == "ready"
    assert persona["provider"] == "offline"
    assert persona["fallback"] is False
    assert "teaching kids to code" in persona["content"]["letter"]
    current = await client.get(f"{B}/personas/current", headers=headers)
    assert current.status_code == 200
    assert current.json()["id"] == persona["id"]


async def test_current_persona_is_the_newest(
    client: httpx.AsyncClient, users: Users, questionnaire: Any, worker: Worker, set_tier: Any
) -> None:
    name = users.new()
    set_tier(users.id(name), "pro")
    headers = users.headers(name)
    for dream in ("first dream", "second dream"):
        session_id = await questionnaire.completed_session(headers, career_dream=dream)

        async def generated(sid: str = session_id) -> bool:
            return (await client.get(f"{B}/sessions/{sid}/persona", headers=headers)).status_code == 200

        await eventually(generated)
    current = (await client.get(f"{B}/personas/current", headers=headers)).json()
    assert "second dream" in current["content"]["summary"]
