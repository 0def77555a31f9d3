"""The sentiment job through the real `openai` SDK against a local OpenAI-compatible server:
a plus student's reflection is scored by the model (label, score, themes, one sentence); a
malformed answer is retried, then scored offline, marked; a free student never reaches it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from pydantic import SecretStr

from coaching.reflections import service as reflections_service
from coaching.settings import CoachingSettings
from contracts.coaching import ReflectionCreated
from servicekit.ai import OpenAIProvider
from servicekit.db import create_engine, user_transaction
from servicekit.events import new_event
from servicekit.testing import FakeOpenAI

GOOD = {
    "label": "positive",
    "score": 0.8,
    "themes": ["exams", "friends"],
    "supportive_sentence": "You prepared well and it showed: enjoy it.",
}


@pytest.fixture(scope="module")
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(answer=json.dumps(GOOD)) as fake:
        yield fake


async def _score(settings: CoachingSettings, fake: FakeOpenAI, user_id: uuid.UUID, reflection_id: str) -> None:
    """The job's two halves as the sentiment consumer runs them, with the OpenAI provider."""
    configured = settings.model_copy(
        update={
            "ai_provider": "openai",
            "openai_base_url": fake.url,
            "openai_api_key": SecretStr("sk-test"),
            "ai_max_attempts": 2,
        }
    )
    engine = create_engine(configured.worker_dsn, pool_size=1)
    try:
        job = reflections_service.sentiment_job.subscription(OpenAIProvider(configured), daily_budget=5)
        created = ReflectionCreated(
            reflection_id=uuid.UUID(reflection_id),
            local_date=date(2026, 1, 1),
            mood=None,
            prompt_id=None,
            habit_id=None,
            goal_id=None,
            length=1,
        )
        event = new_event(ReflectionCreated.SUBJECT, user_id=user_id, data=created.model_dump(mode="json"))
        assert job.prepare is not None
        store = await job.prepare(engine, event)
        if store is not None:
            async with user_transaction(engine, user_id) as db:
                await store(db, event)
    finally:
        await engine.dispose()


async def _pending(coach: Any, admin_sql: Any, tier: str, text: str) -> tuple[Any, str]:
    student = coach("ai", tier=tier)
    # Stored as the API stores it, without its event, so the session's worker leaves it to this test.
    reflection_id = str(uuid.uuid4())
    admin_sql(
        "INSERT INTO coaching.reflections (id, user_id, text, local_date) VALUES (%s, %s, %s, current_date)",
        reflection_id,
        student.user_id,
        text,
    )
    assert (await student.call("GET", f"/reflections/{reflection_id}")).json()["sentiment"]["status"] == "pending"
    return student, reflection_id


async def test_a_plus_students_reflection_is_scored_by_the_model(
    coach: Any, admin_sql: Any, settings: CoachingSettings, fake_openai: FakeOpenAI
) -> None:
    fake_openai.answer, fake_openai.requests[:] = json.dumps(GOOD), []
    student, reflection_id = await _pending(coach, admin_sql, "plus", "Passed my exam and celebrated with friends")
    await _score(settings, fake_openai, student.user_id, reflection_id)
    shown = (await student.call("GET", f"/reflections/{reflection_id}")).json()["sentiment"]
    assert (shown["provider"], shown["fallback"], shown["label"], shown["score"]) == ("openai", False, "positive", 0.8)
    assert shown["themes"] == ["exams", "friends"]
    assert shown["supportive_sentence"] == GOOD["supportive_sentence"]
    (sent,) = fake_openai.bodies
    assert sent["response_format"]["type"] == "json_schema"
    assert "Passed my exam" in sent["messages"][1]["content"]


async def test_a_malformed_answer_is_retried_then_scored_offline(
    coach: Any, admin_sql: Any, settings: CoachingSettings, fake_openai: FakeOpenAI
) -> None:
    fake_openai.answer, fake_openai.requests[:] = '{"label": "ecstatic", "score": 7}', []
    student, reflection_id = await _pending(coach, admin_sql, "pro", "This is a wonderful, happy day")
    await _score(settings, fake_openai, student.user_id, reflection_id)
    shown = (await student.call("GET", f"/reflections/{reflection_id}")).json()["sentiment"]
    assert len(fake_openai.requests) == 2
    assert (shown["provider"], shown["fallback"], shown["label"]) == ("offline", True, "positive")


async def test_a_free_student_is_scored_offline_without_calling_the_model(
    coach: Any, admin_sql: Any, settings: CoachingSettings, fake_openai: FakeOpenAI
) -> None:
    fake_openai.requests[:] = []
    student, reflection_id = await _pending(coach, admin_sql, "free", "Awful, horrible, sad day")
    await _score(settings, fake_openai, student.user_id, reflection_id)
    shown = (await student.call("GET", f"/reflections/{reflection_id}")).json()["sentiment"]
    assert fake_openai.requests == []
    assert (shown["provider"], shown["fallback"], shown["label"]) == ("offline", False, "negative")
