"""persona.generated (from the profiler's stream) becomes open suggestions; one request adopts
one as a goal or a habit; a newer persona supersedes the open ones; a redelivery adds nothing."""

from __future__ import annotations

import uuid
from typing import Any

from contracts.profiler import PersonaGenerated
from servicekit.testing import eventually, problem


def _persona(goals: list[str], habits: list[str]) -> PersonaGenerated:
    return PersonaGenerated(
        persona_id=uuid.uuid4(),
        session_id=uuid.uuid4(),
        name="The Curious Builder",
        mission_tags=["robotics"],
        suggested_goals=goals,
        suggested_habits=habits,
        provider="offline",
        fallback=False,
    )


async def test_suggestions_are_kept_offered_and_adopted(coach: Any, worker: Any, publish: Any, admin_sql: Any) -> None:
    ada = coach("suggested")
    persona = _persona(["Build a line-following robot", "Read 5 books on AI"], ["Code for 30 minutes every morning"])
    await publish(persona, ada.user_id)
    await publish(persona, ada.user_id)  # another delivery of the same content, new event id

    async def offered() -> dict[str, Any] | None:
        body = (await ada.call("GET", "/suggestions")).json()
        return body if len(body["goals"]) == 2 and body["habits"] else None

    shown = await eventually(offered)
    assert [g["text"] for g in shown["goals"]] == ["Build a line-following robot", "Read 5 books on AI"]
    assert admin_sql("SELECT count(*) FROM coaching.suggestions WHERE persona_id = %s", persona.persona_id) == [(3,)]

    goal = await ada.goal(from_persona_suggestion=shown["goals"][0]["id"])
    assert (goal["title"], goal["kind"], goal["suggestion_id"]) == (
        "Build a line-following robot",
        "checklist",
        shown["goals"][0]["id"],
    )
    habit = await ada.habit(name=None, from_persona_suggestion=shown["habits"][0]["id"])
    assert habit["name"] == "Code for 30 minutes every morning"
    again = problem(await ada.call("POST", "/goals", json={"from_persona_suggestion": shown["goals"][0]["id"]}), 409)
    assert "already adopted" in again["detail"]
    wrong_kind = problem(
        await ada.call("POST", "/habits", json={"from_persona_suggestion": shown["goals"][1]["id"]}), 422
    )
    assert wrong_kind["errors"][0]["field"] == "from_persona_suggestion"
    left = (await ada.call("GET", "/suggestions")).json()
    assert ([g["text"] for g in left["goals"]], left["habits"]) == (["Read 5 books on AI"], [])

    newer = _persona(["Enter a science fair"], [])
    await publish(newer, ada.user_id)

    async def replaced() -> dict[str, Any] | None:
        body = (await ada.call("GET", "/suggestions")).json()
        return body if [g["text"] for g in body["goals"]] == ["Enter a science fair"] else None

    await eventually(replaced)
    # Another student sees none of Ada's suggestions, nor can adopt them.
    bob = coach("bob")
    assert (await bob.call("GET", "/suggestions")).json() == {"goals": [], "habits": []}
    problem(await bob.call("POST", "/goals", json={"from_persona_suggestion": shown["goals"][1]["id"]}), 422)
