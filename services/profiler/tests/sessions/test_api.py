"""Questionnaire sessions through the API: start, answer, complete, retry."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from servicekit.testing import Users, problem

B = "/api/v1/profiler"


async def test_start_and_read_a_session(client: httpx.AsyncClient, users: Users) -> None:
    headers = users.headers(users.new())
    created = await client.post(f"{B}/sessions", headers=headers)
    assert created.status_code == 201
    session = created.json()
    assert session["status"] == "in_progress"
    assert session["progress"]["answered"] == 0
    assert "career_dream" in session["progress"]["required_missing"]
    read = await client.get(f"{B}/sessions/{session['id']}", headers=headers)
    assert read.status_code == 200
    assert read.json()["id"] == session["id"]


async def test_idempotency_key_returns_the_same_session(client: httpx.AsyncClient, users: Users) -> None:
    headers = {**users.headers(users.new()), "Idempotency-Key": "start-1"}
    first = await client.post(f"{B}/sessions", headers=headers)
    second = await client.post(f"{B}/sessions", headers=headers)
    other = await client.post(f"{B}/sessions", headers={**headers, "Idempotency-Key": "start-2"})
    assert first.json()["id"] == second.json()["id"]
    assert other.json()["id"] != first.json()["id"]


async def test_unknown_session_and_question_are_404(
    client: httpx.AsyncClient, users: Users, questionnaire: Any
) -> None:
    headers = users.headers(users.new())
    problem(await client.get(f"{B}/sessions/{uuid.uuid4()}", headers=headers), 404)
    session_id = await questionnaire.start(headers)
    body = problem(await questionnaire.answer(headers, session_id, "no_such_question", "x"), 404)
    assert "no_such_question" in body["detail"]
    problem(await questionnaire.answer(headers, str(uuid.uuid4()), "values_core", ["curiosity"]), 404)


async def test_malformed_ids_and_bodies_are_422(client: httpx.AsyncClient, users: Users, questionnaire: Any) -> None:
    headers = users.headers(users.new())
    body = problem(await client.get(f"{B}/sessions/not-a-uuid", headers=headers), 422)
    assert body["errors"][0]["field"] == "path.session_id"
    session_id = await questionnaire.start(headers)
    url = f"{B}/sessions/{session_id}/answers/values_core"
    problem(await client.put(url, content=b"{not json", headers={**headers, "Content-Type": "application/json"}), 422)
    body = problem(await client.put(url, json={"answer": 1}, headers=headers), 422)
    assert body["errors"][0]["field"] == "value"


@pytest.mark.parametrize(
    ("question_id", "value", "detail"),
    [
        ("values_core", "curiosity", "expected a list"),
        ("values_core", ["curiosity", "telepathy"], "not offered"),
        ("values_core", ["curiosity", "kindness", "justice", "adventure"], "at most 3"),
        ("interests_free_time", "sleeping", "not an offered option"),
        ("strengths_confidence", 6, "between 1 and 5"),
        ("strengths_confidence", "4", "whole number"),
        ("career_dream", "x" * 501, "at most 500 characters"),
        ("career_dream", 12, "expected text"),
    ],
)
async def test_wrong_answers_are_422_naming_the_field(
    question_id: str, value: Any, detail: str, users: Users, questionnaire: Any
) -> None:
    headers = users.headers(users.new())
    session_id = await questionnaire.start(headers)
    body = problem(await questionnaire.answer(headers, session_id, question_id, value), 422)
    assert question_id in body["detail"]
    assert detail in body["detail"]
    assert body["errors"][0]["field"] == "value"


async def test_put_is_idempotent_and_replaces(users: Users, questionnaire: Any) -> None:
    headers = users.headers(users.new())
    session_id = await questionnaire.start(headers)
    first = await questionnaire.answer(headers, session_id, "study_focus", 4)
    again = await questionnaire.answer(headers, session_id, "study_focus", 4)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    changed = await questionnaire.answer(headers, session_id, "study_focus", 8)
    assert changed.json()["value"] == 8
    session = (await questionnaire.client.get(f"{B}/sessions/{session_id}", headers=headers)).json()
    assert [a["value"] for a in session["answers"] if a["question_id"] == "study_focus"] == [8]
    assert session["progress"]["answered"] == 1


async def test_complete_requires_every_required_answer(users: Users, questionnaire: Any) -> None:
    headers = users.headers(users.new())
    session_id = await questionnaire.start(headers)
    await questionnaire.answer(headers, session_id, "values_core", ["kindness"])
    body = problem(await questionnaire.complete(headers, session_id), 422)
    missing = {e["field"] for e in body["errors"]}
    assert "career_dream" in missing
    assert "values_core" not in missing
    assert "values_proud_moment" not in missing  # optional


async def test_completed_session_is_closed(users: Users, questionnaire: Any) -> None:
    headers = users.headers(users.new())
    session_id = await questionnaire.completed_session(headers)
    problem(await questionnaire.complete(headers, session_id), 409)
    problem(await questionnaire.answer(headers, session_id, "study_focus", 2), 409)
    session = (await questionnaire.client.get(f"{B}/sessions/{session_id}", headers=headers)).json()
    assert session["status"] == "completed"
    assert session["persona_url"].endswith(f"/sessions/{session_id}/persona")


async def test_a_retried_complete_with_its_key_is_answered_again(users: Users, questionnaire: Any) -> None:
    headers = users.headers(users.new())
    session_id = await questionnaire.start(headers)
    await questionnaire.answer_required(headers, session_id)
    url = f"{B}/sessions/{session_id}/complete"
    first = await questionnaire.client.post(url, headers={**headers, "Idempotency-Key": "done-1"})
    again = await questionnaire.client.post(url, headers={**headers, "Idempotency-Key": "done-1"})
    assert first.status_code == again.status_code == 202
    assert first.json()["persona_id"] == again.json()["persona_id"]
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    problem(await questionnaire.client.post(url, headers={**headers, "Idempotency-Key": "done-2"}), 409)
    # The same key on another session's completion is a different request: 422, as the draft says.
    other = await questionnaire.start(headers)
    reused = await questionnaire.client.post(
        f"{B}/sessions/{other}/complete", headers={**headers, "Idempotency-Key": "done-1"}
    )
    problem(reused, 422)


async def test_an_answer_is_stored_once_and_a_repeat_keeps_its_time(
    client: httpx.AsyncClient, users: Users, questionnaire: Any
) -> None:
    headers = users.headers(users.new())
    session_id = await questionnaire.start(headers)
    started = (await client.get(f"{B}/sessions/{session_id}", headers=headers)).json()

    first = await questionnaire.answer(headers, session_id, "study_focus", 3)
    assert first.status_code == 200, first.text
    assert first.json()["value"] == 3
    repeat = await questionnaire.answer(headers, session_id, "study_focus", 3)
    assert repeat.json() == first.json()  # the same value: nothing rewritten, the time stands
    changed = await questionnaire.answer(headers, session_id, "study_focus", 4)
    assert changed.json()["value"] == 4
    assert changed.json()["answered_at"] >= first.json()["answered_at"]

    session = (await client.get(f"{B}/sessions/{session_id}", headers=headers)).json()
    assert [(a["question_id"], a["value"]) for a in session["answers"]] == [("study_focus", 4)]
    assert session["updated_at"] > started["updated_at"]  # each answer touches its session
