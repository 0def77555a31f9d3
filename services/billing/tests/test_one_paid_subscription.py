"""One paid subscription per student where money moves, with Stripe (the real SDK against the
local fake): older open checkouts expire, and a second live subscription that still arrives
is settled by the documented rule, keep the newest and cancel the other with proration."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from servicekit.testing import Users, eventually
from servicekit.worker import Worker

B = "/api/v1/billing"


async def _checkout(client: httpx.AsyncClient, users: Users, name: str, plan_id: str, key: str) -> str:
    response = await client.post(
        f"{B}/checkout", json={"plan_id": plan_id}, headers={**users.headers(name), "Idempotency-Key": key}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["checkout_session_id"])


async def test_a_new_checkout_expires_the_older_open_ones(
    billing_client: httpx.AsyncClient, users: Users, fake_stripe: Any
) -> None:
    name = users.new("two-tabs")
    plus = await _checkout(billing_client, users, name, "plus_monthly", "tab-1")
    assert fake_stripe.sessions[plus]["status"] == "open"
    pro = await _checkout(billing_client, users, name, "pro_monthly", "tab-2")
    assert (fake_stripe.sessions[plus]["status"], fake_stripe.sessions[pro]["status"]) == ("expired", "open")
    assert [r["path"] for r in fake_stripe.posts(f"/v1/checkout/sessions/{plus}/expire")] != []
    # A retried (replayed) older request must not expire the newer session.
    assert await _checkout(billing_client, users, name, "plus_monthly", "tab-1") == plus
    assert fake_stripe.sessions[pro]["status"] == "open"


@pytest.mark.parametrize("arrival", ["older first", "newer first"])
async def test_a_second_live_subscription_keeps_the_newest_and_cancels_the_other_prorated(
    arrival: str, stripe_kit: Any, fake_stripe: Any, users: Users, billing_worker: Worker, wait_processed: Any
) -> None:
    user = users.id(users.new("double"))
    now = int(time.time())
    older = stripe_kit.subscription(user, price="price_test_plus_m", created=now - 100)
    newer = stripe_kit.subscription(user, price="price_test_pro_m", created=now - 10)
    newer["customer"] = older["customer"]
    for sub in (older, newer):
        fake_stripe.subscriptions[sub["id"]] = dict(sub)
    events = [
        stripe_kit.event("customer.subscription.created", older, created=now - 100),
        stripe_kit.event("checkout.session.completed", stripe_kit.checkout_session(user, newer), created=now - 10),
    ]
    for event in events if arrival == "older first" else reversed(events):
        assert (await stripe_kit.deliver(event)).status_code == 200
        await wait_processed(event["id"])

    cancels = [r for r in fake_stripe.requests if r["method"] == "DELETE"]
    assert [(r["path"], r["params"]) for r in cancels if r["path"].endswith(older["id"])] == [
        (f"/v1/subscriptions/{older['id']}", {"prorate": "true", "invoice_now": "true"})
    ]
    assert not [r for r in cancels if r["path"].endswith(newer["id"])]
    statuses = dict(
        stripe_kit.rows("SELECT stripe_subscription_id, status FROM billing.subscriptions WHERE user_id = %s", user)
    )
    assert statuses == {older["id"]: "canceled", newer["id"]: "active"}
    assert stripe_kit.tier(user) == "pro"

    # Stripe's own deletion webhook for the canceled one follows and changes nothing.
    deleted = stripe_kit.event("customer.subscription.deleted", fake_stripe.subscriptions[older["id"]])
    await stripe_kit.deliver(deleted)
    await wait_processed(deleted["id"])

    async def settled() -> list[str]:
        return [c["new_tier"] for c in stripe_kit.tier_events(user)]

    changes = await eventually(settled)
    assert changes in (["plus", "pro"], ["pro"])  # plus first only when the older one arrived first
    assert changes == (["plus", "pro"] if arrival == "older first" else ["pro"])


async def test_a_retry_after_a_failed_listing_still_leaves_one_session_open(
    billing_client: httpx.AsyncClient, users: Users, fake_stripe: Any
) -> None:
    """Stripe made the session but the listing failed (503): both sessions are open. The retry
    gets the same session back (replayed by Stripe) and still expires the older one."""
    name = users.new("retry-listing")
    older = await _checkout(billing_client, users, name, "plus_monthly", "first")

    def listing_fails(method: str, path: str) -> None:
        if (method, path) == ("GET", "/v1/checkout/sessions"):
            raise ConnectionAbortedError("the listing never answers")

    fake_stripe.before = listing_fails
    try:
        failed = await billing_client.post(
            f"{B}/checkout",
            json={"plan_id": "pro_monthly"},
            headers={**users.headers(name), "Idempotency-Key": "second"},
        )
    finally:
        fake_stripe.before = None
    assert failed.status_code == 503, failed.text
    assert fake_stripe.sessions[older]["status"] == "open"
    newer = await _checkout(billing_client, users, name, "pro_monthly", "second")
    assert (fake_stripe.sessions[older]["status"], fake_stripe.sessions[newer]["status"]) == ("expired", "open")
