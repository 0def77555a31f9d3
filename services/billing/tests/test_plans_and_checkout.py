from __future__ import annotations

from typing import Any

import httpx

from servicekit.testing import Users

B = "/api/v1/billing"


async def test_plans_are_public(billing_client: httpx.AsyncClient) -> None:
    response = await billing_client.get(f"{B}/plans")
    assert response.status_code == 200
    plans = {p["id"]: p for p in response.json()["items"]}
    assert set(plans) == {"free", "plus_monthly", "plus_yearly", "pro_monthly", "pro_yearly"}
    assert plans["free"]["amount_cents"] == 0
    assert plans["pro_monthly"]["tier"] == "pro"
    assert "priority_review" in plans["pro_monthly"]["features"]
    habits = next(limit for limit in plans["free"]["limits"] if limit["name"] == "habits")
    assert habits["limit"] == 3
    assert "stripe_price_id" not in plans["plus_monthly"]


async def test_checkout_creates_a_session_and_reuses_the_customer(
    billing_client: httpx.AsyncClient, users: Users, fake_stripe: Any
) -> None:
    name = users.new("buyer")
    headers = users.headers(name)
    before = len(fake_stripe.posts("/v1/customers"))
    first = await billing_client.post(
        f"{B}/checkout", json={"plan_id": "plus_monthly"}, headers={**headers, "Idempotency-Key": "k1"}
    )
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["provider"] == "stripe"
    assert body["url"].startswith("https://checkout.stripe.test/")
    retry = await billing_client.post(
        f"{B}/checkout", json={"plan_id": "plus_monthly"}, headers={**headers, "Idempotency-Key": "k1"}
    )
    assert retry.json()["checkout_session_id"] == body["checkout_session_id"]
    other = await billing_client.post(
        f"{B}/checkout", json={"plan_id": "pro_yearly"}, headers={**headers, "Idempotency-Key": "k2"}
    )
    assert other.status_code == 200
    assert len(fake_stripe.posts("/v1/customers")) == before + 1

    sessions = [
        r
        for r in fake_stripe.posts("/v1/checkout/sessions")
        if r["params"]["client_reference_id"] == str(users.id(name))
    ]
    sent = sessions[0]
    assert sent["params"]["mode"] == "subscription"
    assert sent["params"]["line_items"]["0"]["price"] == "price_test_plus_m"
    assert sent["params"]["subscription_data"]["metadata"]["user_id"] == str(users.id(name))
    assert sent["idempotency_key"].endswith("-k1")
    assert {s["params"]["customer"] for s in sessions} == {sessions[0]["params"]["customer"]}


async def test_checkout_bad_input(billing_client: httpx.AsyncClient, users: Users) -> None:
    headers = {**users.headers(users.new()), "Idempotency-Key": "x"}
    missing_key = await billing_client.post(
        f"{B}/checkout", json={"plan_id": "plus_monthly"}, headers=users.headers(users.new())
    )
    assert missing_key.status_code == 422
    assert "Idempotency-Key" in missing_key.json()["detail"]
    unknown = await billing_client.post(f"{B}/checkout", json={"plan_id": "gold"}, headers=headers)
    assert unknown.status_code == 404
    free = await billing_client.post(f"{B}/checkout", json={"plan_id": "free"}, headers=headers)
    assert free.status_code == 422
    no_auth = await billing_client.post(
        f"{B}/checkout", json={"plan_id": "plus_monthly"}, headers={"Idempotency-Key": "x"}
    )
    assert no_auth.status_code == 401


async def test_portal_needs_a_customer(billing_client: httpx.AsyncClient, users: Users) -> None:
    headers = users.headers(users.new())
    assert (await billing_client.post(f"{B}/portal", headers=headers)).status_code == 404
    await billing_client.post(
        f"{B}/checkout", json={"plan_id": "plus_monthly"}, headers={**headers, "Idempotency-Key": "p"}
    )
    portal = await billing_client.post(f"{B}/portal", headers=headers)
    assert portal.status_code == 200
    assert portal.json()["url"].startswith("https://billing.stripe.test/")


async def test_a_new_user_is_free(billing_client: httpx.AsyncClient, users: Users) -> None:
    view = (await billing_client.get(f"{B}/subscription", headers=users.headers(users.new()))).json()
    assert view["tier"] == "free"
    assert view["plan"]["id"] == "free"
    assert view["status"] is None
