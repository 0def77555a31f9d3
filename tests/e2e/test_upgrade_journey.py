"""The money path through Traefik with the local payment provider: a free student hits the
persona limit, upgrades, and the same request succeeds once tier.changed reaches profiler."""

from __future__ import annotations

import time
from typing import Any

import httpx

from journey_local.stack import Stack

P = "/api/v1/profiler"
BILLING = "/api/v1/billing"


def _answered_session(client: httpx.Client, example_answer: Any) -> str:
    session_id = str(client.post(f"{P}/sessions").json()["id"])
    for question in client.get(f"{P}/questions").json()["items"]:
        if question["required"]:
            response = client.put(
                f"{P}/sessions/{session_id}/answers/{question['id']}", json={"value": example_answer(question)}
            )
            assert response.status_code == 200, response.text
    return session_id


def test_a_free_student_upgrades_and_regenerates(stack: Stack, example_answer: Any, auth_headers: Any) -> None:
    headers = auth_headers(f"e2e-upgrader-{time.time_ns()}")
    with httpx.Client(base_url=stack.gateway_url, headers=headers, timeout=10) as client:
        plans = httpx.get(f"{stack.gateway_url}{BILLING}/plans")  # public
        assert plans.status_code == 200
        assert {p["id"] for p in plans.json()["items"]} >= {"free", "plus_monthly", "pro_monthly"}

        first = _answered_session(client, example_answer)
        assert client.post(f"{P}/sessions/{first}/complete").status_code == 202

        second = _answered_session(client, example_answer)
        refused = client.post(f"{P}/sessions/{second}/complete")
        assert refused.status_code == 402
        assert refused.headers["content-type"] == "application/problem+json"
        problem = refused.json()
        assert (problem["limit_name"], problem["tier"], problem["lifted_by"]) == ("persona_generations", "free", "plus")

        checkout = client.post(
            f"{BILLING}/checkout", json={"plan_id": "plus_monthly"}, headers={"Idempotency-Key": "up-1"}
        )
        assert checkout.status_code == 200, checkout.text
        assert checkout.json()["provider"] == "local"
        url = checkout.json()["url"]
        assert url.startswith(stack.gateway_url)
        page = httpx.get(url)
        assert page.status_code == 200
        assert "Plus (monthly)" in page.text

        confirmed = httpx.post(f"{url}/confirm")
        assert confirmed.status_code == 200, confirmed.text
        upgraded_at = time.monotonic()
        while True:
            retried = client.post(f"{P}/sessions/{second}/complete")
            if retried.status_code == 202 or time.monotonic() - upgraded_at > 2.0:
                break
            assert retried.status_code == 402
            time.sleep(0.05)
        assert retried.status_code == 202, f"still {retried.status_code} 2 s after the upgrade"

        view = client.get(f"{BILLING}/subscription").json()
        assert (view["tier"], view["status"], view["plan"]["id"]) == ("plus", "active", "plus_monthly")
        again = client.post(
            f"{BILLING}/checkout", json={"plan_id": "plus_monthly"}, headers={"Idempotency-Key": "up-2"}
        )
        assert again.status_code == 409

        canceled = client.post(f"{BILLING}/subscription/cancel")
        assert canceled.status_code == 200
        assert (canceled.json()["cancel_at_period_end"], canceled.json()["tier"]) == (True, "plus")
        resumed = client.post(f"{BILLING}/subscription/resume")
        assert resumed.json()["cancel_at_period_end"] is False

        portal = client.post(f"{BILLING}/portal")
        assert portal.status_code == 200
        assert httpx.get(portal.json()["url"]).status_code == 200


def test_webhooks_without_a_valid_signature_are_refused_at_the_gateway_path(stack: Stack) -> None:
    response = httpx.post(
        f"{stack.gateway_url}{BILLING}/webhooks/stripe",
        content=b'{"id": "evt_1", "type": "customer.subscription.created"}',
        headers={"Stripe-Signature": "t=1,v1=deadbeef", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
