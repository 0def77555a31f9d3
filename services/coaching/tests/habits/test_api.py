"""Habits and check-ins through the API: create, list with today's state, check in on local
dates (idempotent, undo), statistics, the tier limit, and bad input named in a 422."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from servicekit.testing import problem


async def test_a_habit_is_created_listed_and_shown_with_todays_state(coach: Any) -> None:
    ada = coach("ada")
    habit = await ada.habit(name="Read", kind="measurable", unit="pages", target=20, colour="#336699", icon="book")
    assert habit["schedule"] == {"kind": "daily", "times": None, "weekdays": None, "text": "every day"}
    assert habit["today"]["due"] is True
    assert habit["today"]["done"] is False
    today = await ada.today()
    assert habit["start_date"] == today.isoformat()

    logged = await ada.log(habit["id"], today, value=25, note="two chapters")
    assert logged.status_code == 200, logged.text
    body = logged.json()
    assert body["log"]["completed"] is True
    assert (body["stats"]["current_streak"], body["stats"]["total_checkins"]) == (1, 1)

    listed = (await ada.call("GET", "/habits")).json()
    assert [h["id"] for h in listed["items"]] == [habit["id"]]
    assert listed["items"][0]["today"] == {
        "date": today.isoformat(),
        "due": False,
        "done": True,
        "value": 25.0,
        "period_done": 1,
        "period_needed": 1,
    }


async def test_check_ins_on_consecutive_days_make_a_streak_and_undo_restores_it(coach: Any) -> None:
    ada = coach("streaker")
    today = await ada.today()
    habit = await ada.habit(name="Run", start_date=(today - timedelta(days=3)).isoformat())
    for back in (3, 2, 1, 0):
        assert (await ada.log(habit["id"], today - timedelta(days=back))).status_code == 200
    stats = await ada.stats(habit["id"])
    assert (stats["current_streak"], stats["best_streak"], stats["streak_unit"]) == (4, 4, "day")
    # 1 - 0.5 ** (n / 13) after n daily check-ins from nothing
    assert stats["strength"] == round(100 * (1 - 0.5 ** (4 / 13)))

    before = await ada.stats(habit["id"])
    again = await ada.log(habit["id"], today)  # idempotent: the same check-in again
    assert again.json()["stats"] == before
    undone = await ada.call("DELETE", f"/habits/{habit['id']}/logs/{(today - timedelta(days=1)).isoformat()}")
    assert undone.status_code == 200, undone.text
    assert (undone.json()["current_streak"], undone.json()["best_streak"]) == (1, 2)
    assert (await ada.log(habit["id"], today - timedelta(days=1))).status_code == 200
    assert await ada.stats(habit["id"]) == before
    missing = await ada.call("DELETE", f"/habits/{habit['id']}/logs/{(today - timedelta(days=1)).isoformat()}")
    assert missing.status_code == 200
    assert (
        await ada.call("DELETE", f"/habits/{habit['id']}/logs/{(today - timedelta(days=1)).isoformat()}")
    ).status_code == 404


async def test_a_check_in_queues_one_habit_logged_event_and_a_repeat_none(coach: Any, admin_sql: Any) -> None:
    """The check-in's direct path (decision 125): the event and its payload as the ORM path wrote
    them, in the write's transaction, once per change; the 404 of a habit that is not yours."""
    ada = coach("announcer")
    today = await ada.today()
    habit = await ada.habit(name="Read", kind="measurable", unit="pages", target=20)

    def logged() -> list[Any]:
        rows = admin_sql(
            "SELECT payload FROM coaching.outbox WHERE subject = 'journey.coaching.habit.logged' "
            "AND payload->'data'->>'habit_id' = %s ORDER BY created_at",
            habit["id"],
        )
        return [row[0] for row in rows]

    path = f"/habits/{habit['id']}/logs/{today.isoformat()}"
    first = await ada.call("PUT", path, json={"value": 10}, headers={"X-Request-ID": "check-in-1"})
    assert first.status_code == 200, first.text
    assert first.json()["log"] | {"logged_at": None} == {
        "habit_id": habit["id"],
        "date": today.isoformat(),
        "value": 10.0,
        "completed": False,
        "note": None,
        "logged_at": None,
    }
    (event,) = logged()
    assert (event["subject"], event["request_id"]) == (str(ada.user_id), "check-in-1")
    assert event["data"] == {
        "habit_id": habit["id"],
        "name": "Read",
        "local_date": today.isoformat(),
        "value": 10.0,
        "target": 20.0,
        "unit": "pages",
        "completed": False,
        "stats": {
            "current_streak": 0,
            "best_streak": 0,
            "streak_unit": "day",
            "strength": first.json()["stats"]["strength"],
            "total_checkins": 1,
        },
    }
    again = await ada.log(habit["id"], today, value=10)
    assert again.json() == first.json()  # same row, same time: nothing changed
    assert len(logged()) == 1
    more = await ada.log(habit["id"], today, value=20, note="the rest")
    assert (more.json()["log"]["completed"], more.json()["stats"]["current_streak"]) == (True, 1)
    assert [e["data"]["value"] for e in logged()] == [10.0, 20.0]

    other = coach("not-the-owner")
    problem(await other.log(habit["id"], today, value=5), 404)
    assert len(logged()) == 2


async def test_check_ins_in_the_future_or_past_the_backfill_window_are_422_naming_the_rule(coach: Any) -> None:
    ada = coach("dates")
    today = await ada.today()
    habit = await ada.habit(name="Floss", start_date=(today - timedelta(days=7)).isoformat())
    future = problem(await ada.log(habit["id"], today + timedelta(days=1)), 422)
    assert future["errors"][0]["field"] == "date"
    assert "in the future" in future["detail"]
    old = problem(await ada.log(habit["id"], today - timedelta(days=8)), 422)
    assert "backfill window" in old["detail"]
    assert (await ada.log(habit["id"], today - timedelta(days=7))).status_code == 200
    not_a_date = problem(await ada.call("PUT", f"/habits/{habit['id']}/logs/2026-02-30"), 422)
    assert not_a_date["errors"][0]["field"] == "path.date"


async def test_values_follow_the_habits_kind(coach: Any) -> None:
    ada = coach("values")
    today = await ada.today()
    boolean = await ada.habit(name="Meditate")
    measurable = await ada.habit(name="Water", kind="measurable", unit="glasses", target=8)
    assert problem(await ada.log(boolean["id"], today, value=3), 422)["errors"][0]["field"] == "value"
    assert problem(await ada.log(measurable["id"], today), 422)["errors"][0]["field"] == "value"
    assert problem(await ada.log(measurable["id"], today, value=-1), 422)["errors"][0]["field"] == "value"
    partial = await ada.log(measurable["id"], today, value=5)
    assert partial.json()["log"]["completed"] is False
    assert partial.json()["stats"]["current_streak"] == 0


async def test_the_free_tier_keeps_three_active_habits_archived_ones_do_not_count(coach: Any) -> None:
    ada = coach("limited")
    habits = [await ada.habit(name=f"Habit {i}") for i in range(3)]
    refused = problem(await ada.call("POST", "/habits", json={"name": "Fourth"}), 402)
    assert (refused["limit_name"], refused["tier"], refused["limit"], refused["lifted_by"]) == (
        "habits",
        "free",
        3,
        "plus",
    )
    archived = await ada.call("PATCH", f"/habits/{habits[0]['id']}", json={"archived": True})
    assert archived.json()["archived"] is True
    assert archived.json()["today"] is None
    fourth = await ada.call("POST", "/habits", json={"name": "Fourth"})
    assert fourth.status_code == 201
    # Unarchiving would make four active habits.
    problem(await ada.call("PATCH", f"/habits/{habits[0]['id']}", json={"archived": False}), 402)


async def test_plus_keeps_ten_active_habits_and_pro_any_number(coach: Any) -> None:
    ada = coach("plus", tier="plus")
    for i in range(10):
        await ada.habit(name=f"Habit {i}")
    refused = problem(await ada.call("POST", "/habits", json={"name": "Eleventh"}), 402)
    assert (refused["limit"], refused["lifted_by"]) == (10, "pro")
    pro = coach("pro", tier="pro")
    for i in range(11):
        await pro.habit(name=f"Habit {i}")


async def test_deleting_a_habit_deletes_its_check_ins(coach: Any, admin_sql: Any) -> None:
    ada = coach("deleter")
    today = await ada.today()
    habit = await ada.habit(name="Journal")
    await ada.log(habit["id"], today)
    assert (await ada.call("DELETE", f"/habits/{habit['id']}")).status_code == 204
    assert admin_sql("SELECT count(*) FROM coaching.habit_logs WHERE habit_id = %s", habit["id"]) == [(0,)]
    assert (await ada.call("GET", f"/habits/{habit['id']}")).status_code == 404
    assert (await ada.call("GET", f"/habits/{habit['id']}/stats")).status_code == 404


async def test_log_ranges_are_bounded(coach: Any) -> None:
    ada = coach("ranges")
    habit = await ada.habit(name="Draw")
    for query, field in (
        ({"to": "0001-01-01"}, "to"),
        ({"from": "9999-12-31"}, "from"),
        ({"from": "2026-01-10", "to": "2026-01-01"}, "from"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, "from"),
        ({"from": "2026-13-01"}, "query.from"),
    ):
        refused = problem(await ada.call("GET", f"/habits/{habit['id']}/logs", params=query), 422)
        assert refused["errors"][0]["field"] == field, refused
    today = await ada.today()
    await ada.log(habit["id"], today)
    listed = (await ada.call("GET", f"/habits/{habit['id']}/logs")).json()
    assert (listed["to_date"], [log["date"] for log in listed["items"]]) == (today.isoformat(), [today.isoformat()])
