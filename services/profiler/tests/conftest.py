from __future__ import annotations

from typing import Any

import httpx
import pytest

from entitlements.testing import set_tier_fixture
from profiler.main import service
from profiler.questions.examples import EXAMPLE_ANSWERS
from servicekit.testing import service_fixtures

fixtures = service_fixtures(service)
settings, client, worker, users = fixtures.settings, fixtures.client, fixtures.worker, fixtures.users


@pytest.fixture(scope="session")
def settings_overrides() -> dict[str, Any]:
    return {"persona_retry_after_seconds": 1}


class Questionnaire:
    """Drives a session through the API like a client: start, answer, complete."""

    BASE = "/api/v1/profiler"

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def start(self, headers: dict[str, str]) -> str:
        response = await self.client.post(f"{self.BASE}/sessions", headers=headers)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def answer(self, headers: dict[str, str], session_id: str, question_id: str, value: Any) -> httpx.Response:
        return await self.client.put(
            f"{self.BASE}/sessions/{session_id}/answers/{question_id}", json={"value": value}, headers=headers
        )

    async def answer_required(self, headers: dict[str, str], session_id: str, **overrides: Any) -> None:
        for question_id, value in {**EXAMPLE_ANSWERS, **overrides}.items():
            response = await self.answer(headers, session_id, question_id, value)
            assert response.status_code == 200, response.text

    async def complete(self, headers: dict[str, str], session_id: str) -> httpx.Response:
        return await self.client.post(f"{self.BASE}/sessions/{session_id}/complete", headers=headers)

    async def completed_session(self, headers: dict[str, str], **overrides: Any) -> str:
        session_id = await self.start(headers)
        await self.answer_required(headers, session_id, **overrides)
        response = await self.complete(headers, session_id)
        assert response.status_code == 202, response.text
        return session_id


@pytest.fixture(scope="session")
def questionnaire(client: httpx.AsyncClient) -> Questionnaire:
    return Questionnaire(client)


set_tier = set_tier_fixture("profiler")
