"""Row-level security is the isolation boundary: B sees none of A's habits, check-ins, goals,
reflections, suggestions or profile, through the API (404) and through raw queries as the
application role."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from coaching.settings import CoachingSettings

TABLES = ("profiles", "habits", "habit_logs", "goals", "reflections", "suggestions", "idempotency_keys")


async def _ada_with_everything(coach: Any, admin_sql: Any) -> tuple[Any, dict[str, str]]:
    ada = coach("ada")
    await ada.call("PUT", "/profile", json={"time_zone": "Europe/Berlin"})
    habit = await ada.habit(name="Read", kind="measurable", unit="pages", target=10)
    today = await ada.today()
    assert (await ada.log(habit["id"], today, value=12)).status_code == 200
    goal = await ada.goal(title="Finish the book", milestones=["Part 1"])
    reflection = (
        await ada.call(
            "POST", "/reflections", json={"text": "fine", "habit_id": habit["id"]}, headers={"Idempotency-Key": "r1"}
        )
    ).json()
    admin_sql(
        "INSERT INTO coaching.suggestions (id, user_id, persona_id, persona_name, kind, text, position) "
        "VALUES (gen_random_uuid(), %s, gen_random_uuid(), 'P', 'goal', 'Ada only', 0)",
        ada.user_id,
    )
    return ada, {"habit": habit["id"], "goal": goal["id"], "reflection": reflection["id"], "day": today.isoformat()}


async def test_another_students_ids_are_404_everywhere(coach: Any, admin_sql: Any) -> None:
    ada, ids = await _ada_with_everything(coach, admin_sql)
    bob = coach("bob")
    h, g, r, day = ids["habit"], ids["goal"], ids["reflection"], ids["day"]
    for method, path, body in (
        ("GET", f"/habits/{h}", None),
        ("PATCH", f"/habits/{h}", {"name": "mine now"}),
        ("DELETE", f"/habits/{h}", None),
        ("GET", f"/habits/{h}/stats", None),
        ("GET", f"/habits/{h}/logs", None),
        ("PUT", f"/habits/{h}/logs/{day}", {"value": 50}),
        ("DELETE", f"/habits/{h}/logs/{day}", None),
        ("GET", f"/goals/{g}", None),
        ("PATCH", f"/goals/{g}", {"title": "mine"}),
        ("DELETE", f"/goals/{g}", None),
        ("POST", f"/goals/{g}/progress", {"milestone": 0, "done": True}),
        ("GET", f"/reflections/{r}", None),
    ):
        response = await bob.call(method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
        assert set(response.json()) <= {"type", "title", "status", "detail", "instance"}
    # Referencing A's objects from B's own writes finds nothing either.
    assert (await bob.call("POST", "/habits", json={"name": "x", "goal_id": g})).status_code == 422
    assert (await bob.call("POST", "/reflections", json={"text": "x", "habit_id": h})).status_code == 422
    assert (
        await bob.call("POST", "/goals", json={"title": "x", "milestones": ["a"], "habit_ids": [h]})
    ).status_code == 422
    listed = [(await bob.call("GET", p)).json() for p in ("/habits", "/goals", "/reflections", "/suggestions")]
    assert listed[:3] == [{"items": [], "next_cursor": None}] * 3
    assert listed[3] == {"goals": [], "habits": []}
    assert (await bob.call("GET", "/profile")).json()["is_default"] is True
    # Nothing of Ada's changed.
    assert (await ada.stats(h))["total_checkins"] == 1
    assert (await ada.call("GET", f"/goals/{g}")).json()["title"] == "Finish the book"


async def test_raw_queries_as_the_app_role_see_only_the_callers_rows(
    coach: Any, admin_sql: Any, settings: CoachingSettings
) -> None:
    ada, ids = await _ada_with_everything(coach, admin_sql)
    bob_id = uuid.uuid4()
    with psycopg.connect(settings.database_url) as conn:
        for user in (str(bob_id), "", None):
            with conn.transaction():
                if user is not None:
                    conn.execute("SELECT set_config('app.user_id', %s, true)", (user,))
                for table in TABLES:
                    count = conn.execute(f"SELECT count(*) FROM coaching.{table}").fetchone()
                    assert count == (0,), f"{table} leaks rows to user {user!r}"
        with conn.transaction():
            conn.execute("SELECT set_config('app.user_id', %s, true)", (str(ada.user_id),))
            for table in TABLES:
                (count,) = conn.execute(f"SELECT count(*) FROM coaching.{table}").fetchone() or (0,)
                assert count >= 1, f"ada should see her own {table}"
        # Writing a row for someone else is refused by the policy's WITH CHECK; so is a check-in
        # on another user's habit (its composite key names the owner).
        for statement, params in (
            (
                "INSERT INTO coaching.habits (id, user_id, name, kind, schedule_kind, start_date) "
                "VALUES (gen_random_uuid(), %s, 'x', 'boolean', 'daily', current_date)",
                (ada.user_id,),
            ),
            (
                "INSERT INTO coaching.habit_logs (habit_id, local_date, user_id, value) "
                "VALUES (%s, '2001-01-01', %s, 1)",
                (ids["habit"], bob_id),
            ),
        ):
            try:
                with conn.transaction():
                    conn.execute("SELECT set_config('app.user_id', %s, true)", (str(bob_id),))
                    conn.execute(statement, params)
            except (psycopg.errors.InsufficientPrivilege, psycopg.errors.ForeignKeyViolation):
                pass
            else:
                raise AssertionError(f"must fail: {statement}")
