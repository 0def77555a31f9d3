"""The profiler's API and worker in-process on the session's PostgreSQL and NATS (the kit's
fixtures), driven through a whole questionnaire like a client."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from profiler.main import service
from profiler.questions.examples import EXAMPLE_ANSWERS
from servicekit.testing import Users, eventually, service_fixtures

fixtures = service_fixtures(service)
settings, client, worker, users = fixtures.settings, fixtures.client, fixtures.worker, fixtures.users

B = "/api/v1/profiler"


async def complete_a_session(client: httpx.AsyncClient, users: Users) -> tuple[str, dict[str, str]]:
    """Start, answer and complete a session as a new user; its id and the user's headers, once
    the persona the worker writes is ready."""
    headers = users.headers(users.new("observed"))
    response = await client.post(f"{B}/sessions", headers=headers)
    assert response.status_code == 201, response.text
    session_id = str(response.json()["id"])
    for question_id, value in EXAMPLE_ANSWERS.items():
        answered = await client.put(
            f"{B}/sessions/{session_id}/answers/{question_id}", json={"value": value}, headers=headers
        )
        assert answered.status_code == 200, answered.text
    completed = await client.post(f"{B}/sessions/{session_id}/complete", headers=headers)
    assert completed.status_code == 202, completed.text

    async def persona() -> dict[str, Any] | None:
        found = await client.get(f"{B}/sessions/{session_id}/persona", headers=headers)
        return dict(found.json()) if found.status_code == 200 and found.json()["status"] == "ready" else None

    await eventually(persona, within=20)
    return session_id, headers


@pytest.fixture(scope="session")
def complete() -> Any:
    return complete_a_session
