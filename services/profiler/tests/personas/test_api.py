"""Personas through the API: pending, then ready; the newest is current."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg

from contracts.profiler import PersonaGenerated
from profiler.personas.service import letter_line
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


async def test_persona_generated_carries_the_summary_and_a_letter_line(
    client: httpx.AsyncClient, users: Users, questionnaire: Any, worker: Worker, infra: Any
) -> None:
    """Version 2 of the event: what the dashboard shows without asking the profiler."""
    headers = users.headers(users.new())
    session_id = await questionnaire.completed_session(headers)

    async def generated() -> tuple[Any, ...] | None:
        with psycopg.connect(infra.admin_dsn) as conn:
            return conn.execute(
                "SELECT payload->>'version', payload->'data' FROM profiler.outbox "
                "WHERE subject = 'journey.profiler.persona.generated' AND payload->'data'->>'session_id' = %s",
                (session_id,),
            ).fetchone()

    version, data = await eventually(generated)
    persona = (await client.get(f"{B}/sessions/{session_id}/persona", headers=headers)).json()
    assert version == str(PersonaGenerated.VERSION) == "2"
    assert data["summary"] == persona["content"]["summary"]
    assert data["letter_line"] == letter_line(persona["content"]["letter"])
    assert data["letter_line"].startswith("I am writing from ten years ahead.")


def test_the_letter_line_is_the_first_sentence_after_the_greeting() -> None:
    assert letter_line("Dear me,\n\nYou made it. Keep going.\n\nLove, me") == "You made it."
    assert letter_line("Hi future me! It worked out.") == "Hi future me!"
    long = letter_line("Dear me,\n\n" + "word " * 200)
    assert len(long) <= 300
    assert long.endswith("…")
