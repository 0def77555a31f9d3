"""The OpenAI path through the real `openai` SDK against a local OpenAI-compatible server."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest
from pydantic import SecretStr

from contracts.profiler import PersonaRequested
from profiler import SCHEMA
from profiler.personas import service as personas_service
from profiler.settings import ProfilerSettings
from servicekit.ai import OpenAIProvider
from servicekit.db import create_engine, user_transaction
from servicekit.events import new_event
from servicekit.testing import FakeOpenAI, Users, eventually
from servicekit.worker import Worker

B = "/api/v1/profiler"

GOOD_PERSONA = {
    "name": "The Patient Engineer",
    "summary": "A student who builds carefully and keeps going when things break, with a clear eye on robots.",
    "letter": "Dear me, you kept going. The robots for farmers started as a sketch in a notebook "
    "and now they plough fields. Keep being patient with yourself.",
    "strengths": ["Persistence"],
    "growth_areas": ["Asking for help"],
    "suggested_goals": ["Build a line-following robot"],
    "suggested_habits": ["Code for 30 minutes every morning"],
    "mission_tags": ["robotics"],
}


@pytest.fixture(scope="module")
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(answer=json.dumps(GOOD_PERSONA)) as fake:
        yield fake


@dataclass
class AIPath:
    """Everything these tests need: a plus student with an offline persona reset to pending,
    regenerated through the OpenAI provider against the local server."""

    client: httpx.AsyncClient
    users: Users
    questionnaire: Any
    admin_dsn: str
    settings: ProfilerSettings
    fake: FakeOpenAI
    set_tier: Any

    async def persona_to_regenerate(self, *, answer: str) -> tuple[str, str]:
        self.fake.answer = answer
        self.fake.requests.clear()
        name = self.users.new("ai")
        self.set_tier(self.users.id(name), "plus")  # the model path is a paid feature
        headers = self.users.headers(name)
        session_id = await self.questionnaire.completed_session(headers)

        async def ready() -> dict[str, Any] | None:
            response = await self.client.get(f"{B}/sessions/{session_id}/persona", headers=headers)
            return dict(response.json()) if response.status_code == 200 else None

        persona = await eventually(ready)
        self.reset(persona["id"])
        return name, str(persona["id"])

    def reset(self, persona_id: str) -> None:
        self.sql("UPDATE profiler.personas SET status = 'pending', content = NULL WHERE id = %s", persona_id)

    def sql(self, query: str, *params: Any) -> tuple[Any, ...] | None:
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchone() if cursor.description else None

    async def generate(self, name: str, persona_id: str, *, budget: int = 5) -> None:
        settings = self.settings.model_copy(
            update={
                "ai_provider": "openai",
                "openai_base_url": self.fake.url,
                "openai_api_key": SecretStr("sk-test"),
                "ai_max_attempts": 3,
            }
        )
        engine = create_engine(settings.worker_dsn, pool_size=1)
        user_id = self.users.id(name)
        try:
            # The job's two halves, as the persona consumer runs them.
            job = personas_service.persona_job.subscription(OpenAIProvider(settings), daily_budget=budget)
            request = PersonaRequested(persona_id=uuid.UUID(persona_id), session_id=uuid.uuid4())
            event = new_event(PersonaRequested.SUBJECT, user_id=user_id, data=request.model_dump(mode="json"))
            assert job.prepare is not None
            store = await job.prepare(engine, event)
            assert store is not None
            async with user_transaction(engine, user_id) as db:
                await store(db, event)
        finally:
            await engine.dispose()

    async def current(self, name: str) -> dict[str, Any]:
        return dict((await self.client.get(f"{B}/personas/current", headers=self.users.headers(name))).json())


@pytest.fixture
def ai(
    client: httpx.AsyncClient,
    users: Users,
    questionnaire: Any,
    worker: Worker,
    infra: Any,
    settings: ProfilerSettings,
    fake_openai: FakeOpenAI,
    set_tier: Any,
) -> AIPath:
    return AIPath(client, users, questionnaire, infra.admin_dsn, settings, fake_openai, set_tier)


async def test_a_good_model_answer_is_stored(ai: AIPath) -> None:
    name, persona_id = await ai.persona_to_regenerate(answer=json.dumps(GOOD_PERSONA))
    await ai.generate(name, persona_id)

    persona = await ai.current(name)
    assert persona["provider"] == "openai"
    assert persona["fallback"] is False
    assert persona["content"] == GOOD_PERSONA
    assert len(ai.fake.requests) == 1
    sent = ai.fake.requests[0]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["auth"] == "Bearer sk-test"
    assert sent["body"]["response_format"]["type"] == "json_schema"
    assert "letter" in sent["body"]["response_format"]["json_schema"]["schema"]["properties"]
    assert "designing robots that help farmers" in sent["body"]["messages"][1]["content"]


async def test_a_malformed_answer_is_retried_then_falls_back_offline(ai: AIPath) -> None:
    name, persona_id = await ai.persona_to_regenerate(answer='{"name": "x", "summary": 3}')
    await ai.generate(name, persona_id)

    persona = await ai.current(name)
    assert len(ai.fake.requests) == 3  # ai_max_attempts
    assert persona["provider"] == "offline"
    assert persona["fallback"] is True
    assert "designing robots that help farmers" in persona["content"]["letter"]
    reason = ai.sql("SELECT fallback_reason FROM profiler.personas WHERE id = %s", persona_id)
    assert reason is not None
    assert "InvalidModelAnswer" in reason[0]


async def test_the_daily_ai_budget_caps_model_calls(ai: AIPath) -> None:
    name, persona_id = await ai.persona_to_regenerate(answer=json.dumps(GOOD_PERSONA))
    await ai.generate(name, persona_id, budget=1)
    ai.reset(persona_id)
    await ai.generate(name, persona_id, budget=1)

    assert len(ai.fake.requests) == 1
    row = ai.sql("SELECT provider, fallback, fallback_reason FROM profiler.personas WHERE id = %s", persona_id)
    assert row == ("offline", True, "daily AI budget used")
    calls = ai.sql(f"SELECT calls FROM {SCHEMA}.ai_usage WHERE user_id = %s", ai.users.id(name))
    assert calls == (1,)
