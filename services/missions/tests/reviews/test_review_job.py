"""The review job through the real worker (offline reviewer), and through the OpenAI provider
with the real `openai` SDK against a local OpenAI-compatible server."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from contracts.missions import SubmissionReceived
from missions.files.deps import storage_for
from missions.reviews.service import review_job
from servicekit.ai import OpenAIProvider
from servicekit.db import create_engine, user_transaction
from servicekit.events import new_event
from servicekit.testing import FakeOpenAI, eventually
from servicekit.worker import Worker

B = "/api/v1/missions"
MISSION = "research-local-water-quality"
GOOD_TEXT = """# What I found

I read the supplier's latest quality report and picked three measures: nitrate, hardness and bacteria.
The legal limit for nitrate is 50 mg/l; the report says 12 mg/l, well within it.

## My own test

- I took a sample from the tap and used a test strip to observe nitrate.
- I compared my result with the report; the attached photo shows the strip.

## Summary

My result matches the report. Next I would measure the river upstream to compare sources.
""" + " ".join(["The measure and the source agree with the report."] * 20)


async def _reviewed(client: httpx.AsyncClient, headers: dict[str, str], submission_id: str) -> dict[str, Any]:
    async def scored() -> dict[str, Any] | None:
        body = (await client.get(f"{B}/submissions/{submission_id}", headers=headers)).json()
        return dict(body) if body["status"] == "scored" else None

    return await eventually(scored, within=15)


async def test_a_pass_completes_the_enrollment_and_emits_both_events(
    student: Callable[..., Any],
    samples: SimpleNamespace,
    client: httpx.AsyncClient,
    worker: Worker,
    admin_sql: Callable[..., Any],
) -> None:
    ada = student()
    enrollment = await ada.enrolled(MISSION)
    submitted = (await ada.submit(enrollment["id"], GOOD_TEXT, [("strip.png", samples.png(), "image/png")])).json()
    pending = await client.get(f"{B}/submissions/{submitted['id']}", headers=ada.headers)
    assert pending.json()["status"] in ("pending", "scored")
    review = (await _reviewed(client, ada.headers, submitted["id"]))["review"]
    assert review["verdict"] == "pass"
    assert review["provider"] == "offline"
    assert review["fallback"] is False
    assert len(review["criteria"]) == 4
    assert review["next_step"]
    assert "cannot judge" in review["method"]
    subjects = [
        row[0]
        for row in admin_sql(
            "SELECT subject FROM missions.outbox WHERE payload->'data'->>'enrollment_id' = %s ORDER BY created_at",
            enrollment["id"],
        )
    ]
    assert subjects == [
        "journey.missions.enrollment.started",
        "journey.missions.submission.received",
        "journey.missions.submission.reviewed",
        "journey.missions.mission.completed",
    ]
    status = admin_sql("SELECT status FROM missions.enrollments WHERE id = %s", enrollment["id"])
    assert status == [("completed",)]
    # done: another submission is refused, and the mission is no longer recommended
    assert (await ada.submit(enrollment["id"], GOOD_TEXT)).status_code == 409
    recommended = (await client.get(f"{B}/recommendations", headers=ada.headers, params={"limit": 10})).json()
    assert MISSION not in [r["mission"]["id"] for r in recommended["items"]]
    assert recommended["based_on"]["missions_completed"] == 1


async def test_resubmit_keeps_each_review_and_the_last_try_closes(
    student: Callable[..., Any], client: httpx.AsyncClient, worker: Worker, settings: Any
) -> None:
    ada = student()
    enrollment = await ada.enrolled(MISSION)
    reviews = []
    for attempt in range(1, settings.max_submissions_per_enrollment + 1):
        submitted = (await ada.submit(enrollment["id"], f"Too short, try {attempt}.")).json()
        reviewed = await _reviewed(client, ada.headers, submitted["id"])
        assert reviewed["attempt"] == attempt
        assert reviewed["review"]["verdict"] == "resubmit"
        reviews.append(reviewed["id"])
    refused = await ada.submit(enrollment["id"], GOOD_TEXT)
    assert refused.status_code == 409
    assert "closed" in refused.json()["detail"]
    listed = (await client.get(f"{B}/submissions", headers=ada.headers)).json()["items"]
    assert [s["id"] for s in listed] == list(reversed(reviews))
    assert all(s["verdict"] == "resubmit" for s in listed)
    # closed frees the active slot: a free student can start another mission
    assert (await ada.start("writing-letter-to-future-self")).status_code == 201


@pytest.fixture(scope="module")
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


def _model_answer(levels: int) -> str:
    criteria = [
        {"criterion_id": c, "level": levels, "comment": f"{c} judged"}
        for c in ("evidence", "method", "clarity", "deliverable")
    ]
    return json.dumps({"criteria": criteria, "strengths": ["Careful sampling"], "next_step": "Test the river too."})


async def _review_through_openai(
    settings: Any, fake: FakeOpenAI, user_id: uuid.UUID, submission_id: str, *, budget: int = 5
) -> None:
    """The job's two halves as the consumer runs them, with the OpenAI provider (no running worker
    holds this submission: it was put back to pending)."""
    ai_settings = settings.model_copy(
        update={
            "ai_provider": "openai",
            "openai_base_url": fake.url,
            "openai_api_key": SecretStr("sk-test"),
            "ai_max_attempts": 2,
        }
    )
    engine = create_engine(ai_settings.worker_dsn, pool_size=1)
    try:
        job = review_job(storage_for(ai_settings), max_submissions=3).subscription(
            OpenAIProvider(ai_settings), daily_budget=budget
        )
        received = SubmissionReceived(
            submission_id=uuid.UUID(submission_id),
            enrollment_id=uuid.uuid4(),
            mission_id=MISSION,
            mission_title="t",
            attempt=1,
            text_chars=1,
            file_count=1,
            received_at=time_now(),
        )
        event = new_event(SubmissionReceived.SUBJECT, user_id=user_id, data=received.model_dump(mode="json"))
        assert job.prepare is not None
        store = await job.prepare(engine, event)
        assert store is not None
        async with user_transaction(engine, user_id) as db:
            await store(db, event)
    finally:
        await engine.dispose()


def time_now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


async def test_the_openai_path_scores_from_the_model_levels_and_falls_back_marked(
    student: Callable[..., Any],
    samples: SimpleNamespace,
    client: httpx.AsyncClient,
    worker: Worker,
    settings: Any,
    set_tier: Callable[..., None],
    admin_sql: Callable[..., Any],
    fake_openai: FakeOpenAI,
) -> None:
    ada = student()
    set_tier(ada.id, "plus")  # model_ai is a paid feature
    enrollment = await ada.enrolled(MISSION)
    notes = b"nitrate 12 mg/l from the report; my strip said 10"
    submitted = (
        await ada.submit(
            enrollment["id"], GOOD_TEXT, [("strip.png", samples.png(), "image/png"), ("notes.txt", notes, "text/plain")]
        )
    ).json()
    await _reviewed(client, ada.headers, submitted["id"])  # the running (offline) worker reviewed it first
    reset = "UPDATE missions.submissions SET status = 'pending', review = NULL WHERE id = %s"
    admin_sql(reset, submitted["id"])
    admin_sql("UPDATE missions.enrollments SET status = 'active' WHERE id = %s", enrollment["id"])

    fake_openai.answer = _model_answer(4)
    fake_openai.requests.clear()
    await _review_through_openai(settings, fake_openai, ada.id, submitted["id"])
    review = (await client.get(f"{B}/submissions/{submitted['id']}", headers=ada.headers)).json()["review"]
    assert review["provider"] == "openai"
    assert review["fallback"] is False
    assert review["overall_score"] == 100.0
    assert review["next_step"] == "Test the river too."
    sent = fake_openai.bodies[0]
    assert sent["response_format"]["type"] == "json_schema"
    user_message = json.loads(sent["messages"][1]["content"])
    files = {f["name"]: f for f in user_message["submission"]["files"]}
    assert files["notes.txt"]["text"] == notes.decode()  # text files are read
    assert files["strip.png"]["text"] is None  # images by name and size only
    assert files["strip.png"]["size_bytes"] == len(samples.png())

    # an answer that misses a criterion is retried, then the offline reviewer stands in, marked
    admin_sql(reset, submitted["id"])
    admin_sql("UPDATE missions.enrollments SET status = 'active' WHERE id = %s", enrollment["id"])
    fake_openai.answer = json.dumps(
        {"criteria": [{"criterion_id": "evidence", "level": 3, "comment": "x"}], "strengths": ["a"], "next_step": "b"}
    )
    fake_openai.requests.clear()
    await _review_through_openai(settings, fake_openai, ada.id, submitted["id"])
    assert len(fake_openai.requests) == 2
    row = admin_sql(
        "SELECT provider, fallback, fallback_reason FROM missions.submissions WHERE id = %s", submitted["id"]
    )
    assert row[0][0] == "offline"
    assert row[0][1] is True
    assert "InvalidModelAnswer" in row[0][2]

    # the daily budget: none left means no model call at all
    admin_sql(reset, submitted["id"])
    admin_sql("UPDATE missions.enrollments SET status = 'active' WHERE id = %s", enrollment["id"])
    fake_openai.requests.clear()
    await _review_through_openai(settings, fake_openai, ada.id, submitted["id"], budget=0)
    assert fake_openai.requests == []
    row = admin_sql(
        "SELECT provider, fallback, fallback_reason FROM missions.submissions WHERE id = %s", submitted["id"]
    )
    assert row[0] == ("offline", True, "daily AI budget used")
