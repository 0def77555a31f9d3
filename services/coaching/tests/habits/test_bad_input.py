"""Every habit field's rule, named in a 422 problem; time zones must be IANA names."""

from __future__ import annotations

from typing import Any

import pytest

from servicekit.testing import problem


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "\u200b"}, "name"),
        ({"name": "Read\nmore"}, "name"),  # a label is one line  # only a zero-width space: nothing a student could see
        ({"name": " \u200b\u2060\u202e "}, "name"),
        ({"name": "\u3164"}, "name"),  # the Hangul filler is a letter that draws nothing
        ({"name": "x", "kind": "measurable", "unit": "\u2800", "target": 5}, "unit"),  # the braille blank
        ({"name": "x", "kind": "measurable", "unit": "\u200d", "target": 5}, "unit"),
        ({}, "name"),
        ({"name": "x", "kind": "sometimes"}, "kind"),
        ({"name": "x", "kind": "measurable", "unit": "pages"}, "target"),
        ({"name": "x", "kind": "measurable", "target": 5}, "unit"),
        ({"name": "x", "unit": "pages"}, "unit"),
        ({"name": "x", "kind": "measurable", "unit": "p", "target": 0}, "target"),
        ({"name": "x", "kind": "measurable", "unit": "p", "target": 1e12}, "target"),
        ({"name": "x", "schedule": {"kind": "weekly"}}, "schedule"),
        ({"name": "x", "schedule": {"kind": "weekly", "times": 8}}, "schedule"),
        ({"name": "x", "schedule": {"kind": "weekdays", "weekdays": [0]}}, "schedule.weekdays.0"),
        ({"name": "x", "schedule": {"kind": "weekdays", "weekdays": [1, 1]}}, "schedule"),
        ({"name": "x", "schedule": {"kind": "daily", "times": 2}}, "schedule"),
        ({"name": "x", "colour": "red"}, "colour"),
        ({"name": "x", "icon": "<script>"}, "icon"),
        ({"name": "x", "reminder_time": "25:00"}, "reminder_time"),
        ({"name": "x", "reminder_time": "00:00:00Z"}, "reminder_time"),  # a wall-clock time has no offset
        ({"name": "x", "reminder_time": "7:30"}, "reminder_time"),
        ({"name": "x", "start_date": "2001-01-01"}, "start_date"),
        ({"name": "x", "start_date": "2026-02-30"}, "start_date"),
        ({"name": "x", "time_zone": "Mars/Olympus"}, "time_zone"),
        ({"name": "x", "time_zone": "CEST"}, "time_zone"),
        ({"name": "x", "goal_id": "00000000-0000-0000-0000-000000000001"}, "goal_id"),
        ({"name": "x", "goal_id": "not-a-uuid"}, "goal_id"),
        ({"name": "x", "archived": True}, "archived"),
        ({"name": "x", "from_persona_suggestion": "00000000-0000-0000-0000-000000000001"}, "from_persona_suggestion"),
    ],
)
async def test_bad_habits_are_422_naming_the_field(coach: Any, body: dict[str, Any], field: str) -> None:
    refused = problem(await coach("bad-habit").call("POST", "/habits", json=body), 422)
    assert field in [e["field"] for e in refused["errors"]], refused


async def test_patch_rules(coach: Any) -> None:
    ada = coach("patcher")
    habit = await ada.habit(name="Walk")
    for body, field in (
        ({"name": None}, "name"),
        ({"kind": "measurable"}, "kind"),
        ({"target": 5}, "target"),
        ({"schedule": {"kind": "monthly", "times": 40}}, "schedule"),
    ):
        refused = problem(await ada.call("PATCH", f"/habits/{habit['id']}", json=body), 422)
        assert any(e["field"].startswith(field) for e in refused["errors"]), refused
    changed = await ada.call(
        "PATCH", f"/habits/{habit['id']}", json={"schedule": {"kind": "weekly", "times": 3}, "colour": None}
    )
    assert changed.json()["schedule"]["text"] == "3 times a week"


async def test_the_profile_time_zone_is_an_iana_name(coach: Any) -> None:
    ada = coach("zoned")
    assert (await ada.call("GET", "/profile")).json()["is_default"] is True
    for bad in ("Europe/Atlantis", "+02:00", "../../etc/passwd", "", "x" * 65):
        refused = problem(await ada.call("PUT", "/profile", json={"time_zone": bad}), 422)
        assert refused["errors"][0]["field"] == "time_zone"
    ok = await ada.call("PUT", "/profile", json={"time_zone": "Pacific/Kiritimati"})
    assert (ok.json()["time_zone"], ok.json()["is_default"]) == ("Pacific/Kiritimati", False)


async def test_a_time_zone_on_the_first_habit_sets_the_profile(coach: Any) -> None:
    ada = coach("first-zone")
    await ada.habit(name="Sleep early", time_zone="Asia/Tokyo")
    assert (await ada.call("GET", "/profile")).json()["time_zone"] == "Asia/Tokyo"
    await ada.habit(name="Water", time_zone="Asia/Tokyo")  # the same zone again is fine
    refused = problem(await ada.call("POST", "/habits", json={"name": "x", "time_zone": "Europe/Paris"}), 422)
    assert refused["errors"][0]["field"] == "time_zone"


async def test_the_idempotency_key_replays_a_create(coach: Any) -> None:
    ada = coach("retry")
    key = {"Idempotency-Key": "habit-1"}
    first = await ada.call("POST", "/habits", json={"name": "Yoga"}, headers=key)
    again = await ada.call("POST", "/habits", json={"name": "Yoga"}, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert len((await ada.call("GET", "/habits")).json()["items"]) == 1
    problem(await ada.call("POST", "/habits", json={"name": "Pilates"}, headers=key), 422)
