"""Goals: a target or a checklist, progress by hand and from linked measurable habits, the
pace against the deadline, achieved once; bad input named."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from coaching.goals.service import pace
from servicekit.testing import problem


def test_pace_on_hand_computed_roads() -> None:
    start = date(2026, 9, 1)
    deadline = start + timedelta(days=100)  # 12 books in 100 days
    road: dict[str, Any] = {
        "start_value": 0.0,
        "target": 12.0,
        "start": start,
        "deadline": deadline,
        "achieved": False,
        "unit": "books",
    }
    # Day 50: half-way, 6 expected.
    on_track = pace(current=6.0, today=start + timedelta(days=50), **road)
    assert (on_track.expected_value, on_track.pace, on_track.behind_by, on_track.text) == (
        6.0,
        "on_track",
        None,
        "on track",
    )
    behind = pace(current=3.0, today=start + timedelta(days=75), **road)
    assert (behind.expected_value, behind.pace, behind.behind_by, behind.text) == (
        9.0,
        "behind",
        6.0,
        "behind by 6 books",
    )
    assert behind.fraction == 0.25
    overdue = pace(current=11.0, today=deadline + timedelta(days=2), **road)
    assert (overdue.pace, overdue.text) == ("overdue", "2 days overdue")
    assert pace(current=12.0, today=start, **road).pace == "achieved"
    no_deadline = pace(current=2.0, today=start, **(road | {"deadline": None}))
    assert (no_deadline.pace, no_deadline.text) == ("no_deadline", "10 books to go")
    # A start value moves the whole road: from 40 to 50 kg lifted in 10 days, day 5 expects 45.
    lifted = pace(
        start_value=40.0,
        current=44.0,
        target=50.0,
        start=start,
        deadline=start + timedelta(days=10),
        today=start + timedelta(days=5),
        achieved=False,
        unit="kg",
    )
    assert (lifted.expected_value, lifted.behind_by, lifted.fraction) == (45.0, 1.0, 0.4)


async def test_manual_progress_reaches_the_target_and_achieves_once(coach: Any, admin_sql: Any) -> None:
    ada = coach("goaler")
    today = await ada.today()
    goal = await ada.goal(
        title="Read 3 books", target_value=3, unit="books", deadline=(today + timedelta(days=30)).isoformat()
    )
    assert goal["kind"] == "target"
    assert goal["progress"]["pace"] == "on_track"
    first = await ada.call(
        "POST", f"/goals/{goal['id']}/progress", json={"delta": 2}, headers={"Idempotency-Key": "g-1"}
    )
    assert first.json()["progress"]["current_value"] == 2
    replay = await ada.call(
        "POST", f"/goals/{goal['id']}/progress", json={"delta": 2}, headers={"Idempotency-Key": "g-1"}
    )
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["progress"]["current_value"] == 2
    done = await ada.call("POST", f"/goals/{goal['id']}/progress", json={"value": 3})
    assert (done.json()["status"], done.json()["progress"]["pace"]) == ("achieved", "achieved")
    assert done.json()["achieved_at"] is not None
    problem(await ada.call("POST", f"/goals/{goal['id']}/progress", json={"delta": 1}), 409)
    problem(await ada.call("PATCH", f"/goals/{goal['id']}", json={"status": "active"}), 409)
    achieved = admin_sql(
        "SELECT count(*) FROM coaching.outbox "
        "WHERE subject = 'journey.coaching.goal.achieved' AND payload->'data'->>'goal_id' = %s",
        goal["id"],
    )
    assert achieved == [(1,)]


async def test_a_checklist_goal_moves_by_milestones(coach: Any) -> None:
    ada = coach("checklist")
    goal = await ada.goal(title="Apply to university", milestones=["Pick courses", "Write statement"])
    assert goal["kind"] == "checklist"
    assert [m["title"] for m in goal["milestones"]] == ["Pick courses", "Write statement"]
    ticked = await ada.call("POST", f"/goals/{goal['id']}/progress", json={"milestone": 0, "done": True})
    assert ticked.json()["progress"]["current_value"] == 1
    assert ticked.json()["milestones"][0]["done"] is True
    problem(await ada.call("POST", f"/goals/{goal['id']}/progress", json={"milestone": 5, "done": True}), 422)
    problem(await ada.call("POST", f"/goals/{goal['id']}/progress", json={"delta": 1}), 422)
    last = await ada.call("POST", f"/goals/{goal['id']}/progress", json={"milestone": 1, "done": True})
    assert last.json()["status"] == "achieved"


async def test_linked_measurable_habits_drive_progress(coach: Any) -> None:
    ada = coach("linked")
    today = await ada.today()
    goal = await ada.goal(title="Read 100 pages", target_value=100, unit="pages", progress_from_habits=True)
    habit = await ada.habit(name="Read", kind="measurable", unit="pages", target=20, goal_id=goal["id"])
    await ada.log(habit["id"], today, value=30)
    shown = (await ada.call("GET", f"/goals/{goal['id']}")).json()
    assert shown["habit_ids"] == [habit["id"]]
    assert shown["progress"]["current_value"] == 30
    await ada.call("DELETE", f"/habits/{habit['id']}/logs/{today.isoformat()}")
    assert (await ada.call("GET", f"/goals/{goal['id']}")).json()["progress"]["current_value"] == 0
    await ada.log(habit["id"], today, value=100)
    assert (await ada.call("GET", f"/goals/{goal['id']}")).json()["status"] == "achieved"
    # Deleting the goal keeps the habit, unlinked.
    assert (await ada.call("DELETE", f"/goals/{goal['id']}")).status_code == 204
    assert (await ada.call("GET", f"/habits/{habit['id']}")).json()["goal_id"] is None


async def test_abandon_and_take_up_again(coach: Any) -> None:
    ada = coach("abandon")
    goal = await ada.goal(title="Learn Spanish", milestones=["A1"])
    abandoned = await ada.call("PATCH", f"/goals/{goal['id']}", json={"status": "abandoned"})
    assert (abandoned.json()["status"], abandoned.json()["abandoned_at"] is not None) == ("abandoned", True)
    listed = (await ada.call("GET", "/goals", params={"status": "abandoned"})).json()
    assert [g["id"] for g in listed["items"]] == [goal["id"]]
    again = await ada.call("PATCH", f"/goals/{goal['id']}", json={"status": "active"})
    assert again.json()["status"] == "active"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "x", "target_value": 0}, "target_value"),
        ({"title": "x", "target_value": 5, "milestones": ["a"]}, ""),
        ({"title": "x", "kind": "checklist"}, ""),
        ({"title": "", "milestones": ["a"]}, "title"),
        ({"title": "x" * 201, "milestones": ["a"]}, "title"),
        ({"title": "x", "milestones": ["a"], "deadline": "2001-01-01"}, "deadline"),
        ({"title": "x", "milestones": ["a"], "deadline": "not a date"}, "deadline"),
        ({"title": "x", "milestones": ["a"], "habit_ids": ["00000000-0000-0000-0000-000000000001"]}, "habit_ids"),
        ({"title": "x", "milestones": ["a"], "surprise": 1}, "surprise"),
        ({"milestones": ["a"]}, "title"),
        ({"from_persona_suggestion": "00000000-0000-0000-0000-000000000001"}, "from_persona_suggestion"),
    ],
)
async def test_bad_goals_are_422_naming_the_field(coach: Any, body: dict[str, Any], field: str) -> None:
    refused = problem(await coach("bad-goal").call("POST", "/goals", json=body), 422)
    assert field in " ".join(e["field"] for e in refused["errors"]) + refused["detail"]
