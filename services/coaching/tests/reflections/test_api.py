"""Reflections: stored pending, scored offline by the worker (VADER), the trend with habit
comparisons once there is enough data; bad input named."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from coaching.reflections.sentiment import score_offline
from servicekit.testing import eventually, problem


def test_vader_scores_offline() -> None:
    happy = score_offline("I aced my exam and had a wonderful evening with friends!")
    assert happy.label == "positive"
    assert happy.score > 0.5
    assert happy.themes == ["exams", "friends"]
    sad = score_offline("I failed the test, I am exhausted and everything feels terrible.")
    assert (sad.label, sad.score < -0.5) == ("negative", True)
    assert "sleep" in sad.themes
    assert score_offline("I went to class.").label == "neutral"


async def test_a_reflection_is_pending_then_scored_by_the_worker(coach: Any, worker: Any) -> None:
    ada = coach("reflector")
    created = await ada.call(
        "POST", "/reflections", json={"text": "What a great day, I love this!", "mood": 5, "prompt_id": "went_well"}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["sentiment"]["status"] == "pending"
    assert body["prompt"] == "What went well today, and why?"

    async def scored() -> dict[str, Any] | None:
        shown = (await ada.call("GET", f"/reflections/{body['id']}")).json()
        return shown if shown["sentiment"]["status"] == "scored" else None

    shown = await eventually(scored)
    assert (shown["sentiment"]["label"], shown["sentiment"]["provider"], shown["sentiment"]["fallback"]) == (
        "positive",
        "offline",
        False,
    )
    assert shown["sentiment"]["score"] > 0.5
    assert shown["sentiment"]["supportive_sentence"]


async def test_prompts_and_pages(coach: Any) -> None:
    ada = coach("pager")
    prompts = (await ada.call("GET", "/reflections/prompts")).json()["items"]
    assert {"id": "grateful", "text": "Name three things you are grateful for."} in prompts
    for i in range(3):
        await ada.call("POST", "/reflections", json={"text": f"entry {i}"})
    first = (await ada.call("GET", "/reflections", params={"limit": 2})).json()
    second = (await ada.call("GET", "/reflections", params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert [r["text"] for r in first["items"] + second["items"]] == ["entry 2", "entry 1", "entry 0"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "x" * 5001}, "text"),
        ({"text": "ok", "mood": 0}, "mood"),
        ({"text": "ok", "mood": 6}, "mood"),
        ({"text": "ok", "mood": 2.5}, "mood"),
        ({"text": "ok", "prompt_id": "nope"}, "prompt_id"),
        ({"text": "ok", "habit_id": str(uuid.uuid4())}, "habit_id"),
        ({"text": "ok", "goal_id": str(uuid.uuid4())}, "goal_id"),
        ({"mood": 3}, "text"),
    ],
)
async def test_bad_reflections_are_422_naming_the_field(coach: Any, body: dict[str, Any], field: str) -> None:
    refused = problem(await coach("bad-reflection").call("POST", "/reflections", json=body), 422)
    assert field in [e["field"] for e in refused["errors"]], refused


async def test_a_body_over_the_cap_is_413(coach: Any) -> None:
    refused = await coach("huge").call(
        "POST",
        "/reflections",
        content=b'{"text": "' + b"x" * 1_100_000 + b'"}',
        headers={"Content-Type": "application/json"},
    )
    problem(refused, 413)


async def test_trend_compares_days_with_and_without_a_habit_once_there_is_enough_data(
    coach: Any, admin_sql: Any
) -> None:
    ada = coach("trend")
    today = await ada.today()
    habit = await ada.habit(name="Run", start_date=(today - timedelta(days=7)).isoformat())
    thin = (await ada.call("GET", "/reflections/trend", params={"days": 30})).json()
    assert (thin["enough_data"], thin["better_days_with"], thin["series"]) == (False, [], [])
    # Eight days of reflections: runs on the good days (mood 5), none on the bad ones (mood 1).
    for back in range(8):
        day = today - timedelta(days=back)
        ran = back % 2 == 0
        if ran:
            assert (await ada.log(habit["id"], day)).status_code == 200
        created = (await ada.call("POST", "/reflections", json={"text": "a day", "mood": 5 if ran else 1})).json()
        # Dated back, and scored as the job would (a good day 0.5, a bad one -0.5).
        admin_sql(
            "UPDATE coaching.reflections SET local_date = %s, sentiment_status = 'scored', sentiment_score = %s "
            "WHERE id = %s",
            day,
            0.5 if ran else -0.5,
            created["id"],
        )
    trend = (await ada.call("GET", "/reflections/trend", params={"days": 30})).json()
    assert trend["enough_data"] is True
    assert len(trend["series"]) == 8
    assert trend["series"][-1]["mood"] == 5.0
    (run,) = trend["better_days_with"]
    assert (run["name"], run["days_done"], run["days_not_done"]) == ("Run", 4, 4)
    # Day score: the mean of mood mapped onto -1..1 and the sentiment: (1 + 0.5) / 2 and (-1 - 0.5) / 2.
    assert (run["score_when_done"], run["score_when_not_done"], run["difference"]) == (0.75, -0.75, 1.5)
    assert (trend["series"][0]["sentiment"], trend["series"][-1]["sentiment"]) == (-0.5, 0.5)
    problem(await ada.call("GET", "/reflections/trend", params={"days": 0}), 422)
    problem(await ada.call("GET", "/reflections/trend", params={"days": 366}), 422)
