from __future__ import annotations

from collections.abc import Callable
from typing import Any

from servicekit.testing import problem

MISSIONS = [
    "writing-letter-to-future-self",
    "wellbeing-gratitude-week",
    "career-skills-inventory",
    "design-room-makeover-plan",
    "wellbeing-sleep-experiment",
    "research-myth-check",
]


async def test_start_creates_an_active_enrollment_and_replays_by_key(student: Callable[..., Any]) -> None:
    ada = student()
    key = {"Idempotency-Key": "ada-start-1"}
    first = await ada.start(MISSIONS[0], **key)
    again = await ada.start(MISSIONS[0], **key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    body = first.json()
    assert body["status"] == "active"
    assert body["mission_title"] == "A letter to yourself in five years"
    assert body["submissions_left"] == 3
    assert body["submissions_url"].endswith(f"/enrollments/{body['id']}/submissions")


async def test_unknown_mission_is_404_and_a_bad_id_is_422(student: Callable[..., Any]) -> None:
    ada = student()
    problem(await ada.start("no-such-mission"), 404)
    body = problem(await ada.start("Bad Id!"), 422)
    assert "mission_id" in body["detail"]


async def test_the_free_tier_runs_one_mission_at_a_time(student: Callable[..., Any]) -> None:
    ada = student()
    await ada.enrolled(MISSIONS[0])
    body = problem(await ada.start(MISSIONS[1]), 402)
    assert body["limit_name"] == "active_missions"
    assert body["used"] == 1
    assert body["limit"] == 1
    assert body["lifted_by"] == "plus"
    assert body["tier"] == "free"


async def test_the_same_mission_twice_at_once_is_409(
    student: Callable[..., Any], set_tier: Callable[..., None]
) -> None:
    ada = student()
    set_tier(ada.id, "plus")
    await ada.enrolled(MISSIONS[0])
    problem(await ada.start(MISSIONS[0]), 409)


async def test_three_starts_a_month_on_free_then_402_with_the_reset(
    student: Callable[..., Any], admin_sql: Callable[..., Any]
) -> None:
    ada = student()
    for mission in MISSIONS[:3]:
        enrollment = await ada.enrolled(mission)
        admin_sql(
            "UPDATE missions.enrollments SET status = 'completed', ended_at = now() WHERE id = %s", enrollment["id"]
        )
    body = problem(await ada.start(MISSIONS[3]), 402)
    assert body["limit_name"] == "missions_per_month"
    assert body["used"] == 3
    assert body["lifted_by"] == "plus"
    assert body["resets_at"].endswith("-01T00:00:00+00:00")


async def test_plus_runs_five_at_once_and_pro_is_unlimited(
    student: Callable[..., Any], set_tier: Callable[..., None]
) -> None:
    ada = student()
    set_tier(ada.id, "plus")
    for mission in MISSIONS[:5]:
        await ada.enrolled(mission)
    body = problem(await ada.start(MISSIONS[5]), 402)
    assert body["limit_name"] == "active_missions"
    assert body["lifted_by"] == "pro"
    set_tier(ada.id, "pro")
    await ada.enrolled(MISSIONS[5])


async def test_starts_emit_enrollment_started(student: Callable[..., Any], admin_sql: Callable[..., Any]) -> None:
    ada = student()
    enrollment = await ada.enrolled(MISSIONS[2])
    rows = admin_sql(
        "SELECT payload FROM missions.outbox WHERE subject = 'journey.missions.enrollment.started' "
        "AND payload->'data'->>'enrollment_id' = %s",
        enrollment["id"],
    )
    assert len(rows) == 1
    data = rows[0][0]["data"]
    assert data["mission_title"] == "Take stock of your skills"
    assert data["skill"] == "career"
    assert data["difficulty"] == 1
