"""Stripe webhooks: verified, stored once by event id, applied once by the worker, never
moving a subscription backwards; tier.changed exactly once per change."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from servicekit.testing import Users, eventually
from servicekit.worker import Worker

B = "/api/v1/billing"


async def test_a_webhook_delivered_three_times_changes_the_tier_once(
    stripe_kit: Any, users: Users, billing_worker: Worker, wait_processed: Any, billing_client: httpx.AsyncClient
) -> None:
    user = users.id(users.new("thrice"))
    event = stripe_kit.event("customer.subscription.created", stripe_kit.subscription(user))
    answers = [await stripe_kit.deliver(event) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json()["duplicate"] for a in answers] == [False, True, True]
    await wait_processed(event["id"])
    assert stripe_kit.tier(user) == "plus"
    changes = stripe_kit.tier_events(user)
    assert len(changes) == 1
    assert (changes[0]["previous_tier"], changes[0]["new_tier"]) == ("free", "plus")
    assert stripe_kit.row("SELECT count(*) FROM billing.stripe_events WHERE id = %s", event["id"]) == (1,)

    view = (await billing_client.get(f"{B}/subscription", headers=users.headers(users.new("thrice")))).json()
    assert view["tier"] == "free"  # another user


async def test_updated_before_created_ends_in_the_updated_state(
    stripe_kit: Any, users: Users, billing_worker: Worker, wait_processed: Any
) -> None:
    user = users.id(users.new("order"))
    now = int(time.time())
    created = stripe_kit.subscription(user, price="price_test_plus_m")
    updated = {
        **created,
        "items": {"data": [{"price": {"id": "price_test_pro_m"}, "current_period_end": now + 86400 * 30}]},
    }
    later = stripe_kit.event("customer.subscription.updated", updated, created=now)
    earlier = stripe_kit.event("customer.subscription.created", created, created=now - 10)
    await stripe_kit.deliver(later)
    await wait_processed(later["id"])
    await stripe_kit.deliver(earlier)
    await wait_processed(earlier["id"])
    assert stripe_kit.row(
        "SELECT plan_id FROM billing.subscriptions WHERE stripe_subscription_id = %s", created["id"]
    ) == ("pro_monthly",)
    assert stripe_kit.tier(user) == "pro"
    assert [c["new_tier"] for c in stripe_kit.tier_events(user)] == ["pro"]


async def test_an_older_update_after_deletion_does_not_revive(
    stripe_kit: Any, users: Users, billing_worker: Worker, wait_processed: Any
) -> None:
    user = users.id(users.new("deleted"))
    now = int(time.time())
    sub = stripe_kit.subscription(user)
    for event in (
        stripe_kit.event("customer.subscription.created", sub, created=now - 20),
        stripe_kit.event("customer.subscription.deleted", {**sub, "status": "canceled"}, created=now),
        stripe_kit.event("customer.subscription.updated", {**sub, "status": "active"}, created=now - 5),
    ):
        await stripe_kit.deliver(event)
        await wait_processed(event["id"])
    assert stripe_kit.row("SELECT status FROM billing.subscriptions WHERE stripe_subscription_id = %s", sub["id"]) == (
        "canceled",
    )
    assert stripe_kit.tier(user) == "free"
    assert [(c["previous_tier"], c["new_tier"]) for c in stripe_kit.tier_events(user)] == [
        ("free", "plus"),
        ("plus", "free"),
    ]


async def test_checkout_completed_and_invoices_use_the_subscription_from_stripe(
    stripe_kit: Any, users: Users, billing_worker: Worker, wait_processed: Any, fake_stripe: Any
) -> None:
    user = users.id(users.new("invoice"))
    sub = stripe_kit.subscription(user, price="price_test_pro_m")
    fake_stripe.subscriptions[sub["id"]] = sub
    session = stripe_kit.checkout_session(user, sub)
    completed = stripe_kit.event("checkout.session.completed", session)
    await stripe_kit.deliver(completed)
    await wait_processed(completed["id"])
    assert stripe_kit.tier(user) == "pro"
    assert stripe_kit.row("SELECT stripe_customer_id FROM billing.customers WHERE user_id = %s", user) == (
        sub["customer"],
    )

    fake_stripe.subscriptions[sub["id"]] = {**sub, "status": "past_due"}
    failed = stripe_kit.event(
        "invoice.payment_failed",
        {"id": "in_1", "object": "invoice", "subscription": sub["id"]},
        created=int(time.time()) + 1,
    )
    await stripe_kit.deliver(failed)
    await wait_processed(failed["id"])
    row = stripe_kit.row(
        "SELECT status, past_due_since IS NOT NULL FROM billing.subscriptions WHERE stripe_subscription_id = %s",
        sub["id"],
    )
    assert row == ("past_due", True)
    assert stripe_kit.tier(user) == "pro"  # within the grace period

    fake_stripe.subscriptions[sub["id"]] = {**sub, "status": "active"}
    paid = stripe_kit.event(
        "invoice.paid",
        {"id": "in_2", "object": "invoice", "parent": {"subscription_details": {"subscription": sub["id"]}}},
        created=int(time.time()) + 2,
    )
    await stripe_kit.deliver(paid)
    await wait_processed(paid["id"])
    assert stripe_kit.row(
        "SELECT status, past_due_since FROM billing.subscriptions WHERE stripe_subscription_id = %s", sub["id"]
    ) == ("active", None)
    assert [c["new_tier"] for c in stripe_kit.tier_events(user)] == ["pro"]


@pytest.mark.parametrize(
    "tamper",
    ["bad signature", "stale timestamp", "wrong secret", "malformed json", "missing header", "not an event"],
)
async def test_unverifiable_webhooks_are_400_and_nothing_is_stored(
    tamper: str, stripe_kit: Any, users: Users, billing_client: httpx.AsyncClient
) -> None:
    event = stripe_kit.event("customer.subscription.created", stripe_kit.subscription(users.id(users.new())))
    payload = json.dumps(event)
    headers = {"Content-Type": "application/json", "Stripe-Signature": stripe_kit.sign(payload)}
    if tamper == "bad signature":
        headers["Stripe-Signature"] = headers["Stripe-Signature"][:-4] + "beef"
    elif tamper == "stale timestamp":
        headers["Stripe-Signature"] = stripe_kit.sign(payload, timestamp=int(time.time()) - 301)
    elif tamper == "wrong secret":
        headers["Stripe-Signature"] = stripe_kit.sign(payload, secret="whsec_someone_else")
    elif tamper == "malformed json":
        payload = payload[:-10]
        headers["Stripe-Signature"] = stripe_kit.sign(payload)
    elif tamper == "missing header":
        del headers["Stripe-Signature"]
    else:
        payload = json.dumps({"hello": "world"})
        headers["Stripe-Signature"] = stripe_kit.sign(payload)
    response = await billing_client.post(f"{B}/webhooks/stripe", content=payload, headers=headers)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert stripe_kit.row("SELECT count(*) FROM billing.stripe_events WHERE id = %s", event["id"]) == (0,)


async def test_an_event_for_an_unknown_price_keeps_its_error(
    stripe_kit: Any, users: Users, billing_worker: Worker
) -> None:
    event = stripe_kit.event(
        "customer.subscription.created", stripe_kit.subscription(users.id(users.new()), price="price_nobody")
    )
    await stripe_kit.deliver(event)

    async def recorded() -> tuple[Any, ...] | None:
        row = stripe_kit.row(
            "SELECT error, attempts, processed_at FROM billing.stripe_events WHERE id = %s", event["id"]
        )
        return row if row and row[0] else None

    error, attempts, processed_at = await eventually(recorded)
    assert "no plan has Stripe price price_nobody" in error
    assert attempts >= 1
    assert processed_at is None
