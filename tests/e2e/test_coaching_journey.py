"""Coaching through Traefik: habits checked in on consecutive local days make a streak, the free
tier's fourth active habit is a 402, the local payment provider upgrades, and the fourth habit
is created once tier.changed reaches coaching; a reflection is scored by the coaching worker."""

from __future__ import annotations

import time
from datetime import date, timedelta

import httpx

from journey_local.stack import Stack

C = "/api/v1/coaching"
BILLING = "/api/v1/billing"


def test_habits_streak_limit_upgrade_and_a_scored_reflection(stack: Stack, auth_headers: object) -> None:
    headers = auth_headers(f"e2e-coach-{time.time_ns()}")  # type: ignore[operator]
    with httpx.Client(base_url=stack.gateway_url, headers=headers, timeout=10) as client:
        profile = client.put(f"{C}/profile", json={"time_zone": "America/Sao_Paulo"})
        assert profile.status_code == 200, profile.text
        today = date.fromisoformat(profile.json()["local_date"])
        start = (today - timedelta(days=2)).isoformat()

        habits = []
        for name in ("Read", "Run", "Journal"):
            created = client.post(
                f"{C}/habits", json={"name": name, "start_date": start}, headers={"Idempotency-Key": name}
            )
            assert created.status_code == 201, created.text
            habits.append(created.json())
        for back in (2, 1, 0):
            day = (today - timedelta(days=back)).isoformat()
            logged = client.put(f"{C}/habits/{habits[0]['id']}/logs/{day}")
            assert logged.status_code == 200, logged.text
        stats = client.get(f"{C}/habits/{habits[0]['id']}/stats").json()
        assert (stats["current_streak"], stats["best_streak"], stats["total_checkins"]) == (3, 3, 3)
        future = client.put(f"{C}/habits/{habits[0]['id']}/logs/{(today + timedelta(days=1)).isoformat()}")
        assert future.status_code == 422
        assert future.headers["content-type"] == "application/problem+json"

        refused = client.post(f"{C}/habits", json={"name": "Stretch"})
        assert refused.status_code == 402
        problem = refused.json()
        assert (problem["limit_name"], problem["tier"], problem["lifted_by"]) == ("habits", "free", "plus")

        checkout = client.post(
            f"{BILLING}/checkout", json={"plan_id": "plus_monthly"}, headers={"Idempotency-Key": "c-1"}
        )
        assert checkout.status_code == 200, checkout.text
        assert httpx.post(f"{checkout.json()['url']}/confirm").status_code == 200
        upgraded_at = time.monotonic()
        while True:
            fourth = client.post(f"{C}/habits", json={"name": "Stretch"})
            if fourth.status_code == 201 or time.monotonic() - upgraded_at > 5.0:
                break
            assert fourth.status_code == 402, fourth.text
            time.sleep(0.1)
        assert fourth.status_code == 201, f"still {fourth.status_code} 5 s after the upgrade"

        reflection = client.post(f"{C}/reflections", json={"text": "Three days in a row, I feel great!", "mood": 5})
        assert reflection.status_code == 201
        assert reflection.json()["sentiment"]["status"] == "pending"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            shown = client.get(f"{C}/reflections/{reflection.json()['id']}").json()
            if shown["sentiment"]["status"] == "scored":
                break
            time.sleep(0.2)
        assert (shown["sentiment"]["status"], shown["sentiment"]["label"]) == ("scored", "positive")
