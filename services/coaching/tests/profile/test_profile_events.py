"""A stored time zone is an event (views show "today" in it): once per change, never for the
same zone again, and the first zone given with a habit counts as a change from the default."""

from __future__ import annotations

from typing import Any


def _updates(admin_sql: Any, user_id: Any) -> list[tuple[Any, ...]]:
    return list(
        admin_sql(
            "SELECT payload->'data'->>'time_zone', payload->'data'->>'previous_time_zone' FROM coaching.outbox "
            "WHERE subject = 'journey.coaching.profile.updated' AND payload->>'subject' = %s ORDER BY created_at",
            str(user_id),
        )
    )


async def test_a_time_zone_change_is_announced_once(coach: Any, admin_sql: Any) -> None:
    ada = coach("zones")
    assert (await ada.call("PUT", "/profile", json={"time_zone": "Europe/Paris"})).status_code == 200
    assert (await ada.call("PUT", "/profile", json={"time_zone": "Europe/Paris"})).status_code == 200
    assert (await ada.call("PUT", "/profile", json={"time_zone": "Asia/Tokyo"})).status_code == 200
    assert _updates(admin_sql, ada.user_id) == [("Europe/Paris", None), ("Asia/Tokyo", "Europe/Paris")]


async def test_the_first_zone_given_with_a_habit_is_announced(coach: Any, admin_sql: Any) -> None:
    bob = coach("habit-zone")
    await bob.habit(name="Read", time_zone="America/New_York")
    await bob.habit(name="Run", time_zone="America/New_York")
    assert _updates(admin_sql, bob.user_id) == [("America/New_York", None)]
