"""The local payment provider (`make run` without Stripe keys) through its real worker path:
checkouts, invoices and events that name no user, under row-level security."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from servicekit.testing import Users, eventually
from servicekit.worker import Worker

B = "/api/v1/billing"


async def _buy(client: httpx.AsyncClient, users: Users, name: str, plan_id: str = "plus_monthly") -> dict[str, Any]:
    """Checkout and confirm with the local provider; returns the confirmation."""
    checkout = await client.post(
        f"{B}/checkout", json={"plan_id": plan_id}, headers={**users.headers(name), "Idempotency-Key": plan_id}
    )
    assert checkout.status_code == 200, checkout.text
    assert checkout.json()["provider"] == "local"
    path = checkout.json()["url"].split("127.0.0.1:8080", 1)[1]
    confirmed = await client.post(f"{path}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    return dict(confirmed.json())


async def _all_processed(stripe_kit: Any, user_id: uuid.UUID, count: int) -> None:
    async def done() -> bool:
        events = stripe_kit.events_of(user_id)
        return len(events) >= count and all(processed for _, _, processed, _ in events)

    try:
        await eventually(done)
    except AssertionError as exc:
        raise AssertionError(f"not all applied: {stripe_kit.events_of(user_id)}") from exc


async def test_local_checkout_invoices_and_events_without_a_user_are_applied(
    local_client: httpx.AsyncClient, stripe_kit: Any, users: Users, local_worker: Worker, wait_processed: Any
) -> None:
    name = users.new("local")
    user = users.id(name)
    confirmed = await _buy(local_client, users, name)
    await _all_processed(stripe_kit, user, 2)  # checkout.session.completed, customer.subscription.created
    assert stripe_kit.tier(user) == "plus"
    sub_id = confirmed["subscription_id"]
    customer = stripe_kit.row("SELECT stripe_customer_id FROM billing.customers WHERE user_id = %s", user)[0]

    # Invoices name only the subscription and customer: their envelope subject is `system`.
    now = int(time.time())
    later = [
        stripe_kit.event(
            "invoice.paid",
            {"id": "in_l1", "object": "invoice", "customer": customer, "subscription": sub_id},
            created=now,
        ),
        stripe_kit.event(
            "invoice.payment_failed",
            {"id": "in_l2", "object": "invoice", "customer": customer, "subscription": sub_id},
            created=now + 1,
        ),
    ]
    local_object = stripe_kit.row("SELECT object FROM billing.local_subscriptions WHERE id = %s", sub_id)[0]
    without_user = {**local_object, "metadata": {}, "cancel_at_period_end": True}
    later.append(stripe_kit.event("customer.subscription.updated", without_user, created=now + 2))
    for event in later:
        assert (await stripe_kit.deliver(event)).status_code == 200
        await wait_processed(event["id"])
        row = stripe_kit.row("SELECT error FROM billing.stripe_events WHERE id = %s", event["id"])
        assert row == (None,), row
    assert stripe_kit.row(
        "SELECT status, cancel_at_period_end FROM billing.subscriptions WHERE stripe_subscription_id = %s", sub_id
    ) == ("active", True)
    assert [c["new_tier"] for c in stripe_kit.tier_events(user)] == ["plus"]


def _path(url: str) -> str:
    return url.split("127.0.0.1:8080", 1)[1]


async def _open(client: httpx.AsyncClient, users: Users, name: str, plan_id: str, key: str) -> str:
    response = await client.post(
        f"{B}/checkout", json={"plan_id": plan_id}, headers={**users.headers(name), "Idempotency-Key": key}
    )
    assert response.status_code == 200, response.text
    return _path(response.json()["url"])


async def test_two_local_checkouts_confirmed_make_one_paid_subscription(
    local_client: httpx.AsyncClient, stripe_kit: Any, users: Users
) -> None:
    name = users.new("two-local")
    plus = await _open(local_client, users, name, "plus_monthly", "a")
    pro = await _open(local_client, users, name, "pro_monthly", "b")
    first = await local_client.post(f"{plus}/confirm")
    assert first.status_code == 410, first.text  # superseded by the newer checkout
    assert first.headers["content-type"] == "application/problem+json"
    assert (await local_client.post(f"{pro}/confirm")).status_code == 200
    again = await local_client.post(f"{pro}/confirm")
    assert again.status_code == 409  # single use
    assert stripe_kit.row("SELECT count(*) FROM billing.local_subscriptions WHERE user_id = %s", users.id(name)) == (1,)
    # Not yet applied by any worker: the provider's own record already refuses a third.
    late = await _open(local_client, users, name, "plus_yearly", "c")
    assert (await local_client.post(f"{late}/confirm")).status_code == 409


async def test_confirm_rechecks_a_subscription_that_arrived_meanwhile(
    local_client: httpx.AsyncClient, stripe_kit: Any, users: Users, local_worker: Worker, wait_processed: Any
) -> None:
    name = users.new("meanwhile")
    page = await _open(local_client, users, name, "pro_monthly", "m")
    arrived = stripe_kit.event("customer.subscription.created", stripe_kit.subscription(users.id(name)))
    await stripe_kit.deliver(arrived)
    await wait_processed(arrived["id"])
    refused = await local_client.post(f"{page}/confirm")
    assert refused.status_code == 409, refused.text
    assert "plus_monthly" in refused.json()["detail"]
    assert stripe_kit.row("SELECT count(*) FROM billing.local_subscriptions WHERE user_id = %s", users.id(name)) == (0,)


async def test_local_capability_urls_are_short_lived_and_single_use(
    local_client: httpx.AsyncClient, stripe_kit: Any, users: Users, local_worker: Worker
) -> None:
    name = users.new("capability")
    headers = users.headers(name)
    stale = await _open(local_client, users, name, "plus_monthly", "s")
    stripe_kit.row(
        "UPDATE billing.local_checkouts SET expires_at = now() - interval '1 second' WHERE user_id = %s RETURNING id",
        users.id(name),
    )
    assert (await local_client.get(stale)).status_code == 410
    assert (await local_client.post(f"{stale}/confirm")).status_code == 410

    fresh = await _open(local_client, users, name, "plus_monthly", "t")
    assert (await local_client.get(fresh)).status_code == 200
    assert (await local_client.post(f"{fresh}/confirm")).status_code == 200
    await _all_processed(stripe_kit, users.id(name), 2)

    portal = _path((await local_client.post(f"{B}/portal", headers=headers)).json()["url"])
    customer = stripe_kit.row("SELECT stripe_customer_id FROM billing.customers WHERE user_id = %s", users.id(name))[0]
    assert customer not in portal  # the long-lived customer id is no capability
    assert (await local_client.get(portal)).status_code == 200
    assert (await local_client.post(f"{portal}/cancel")).status_code == 200
    spent = await local_client.post(f"{portal}/resume")
    assert spent.status_code == 410, spent.text
    assert (await local_client.get(portal)).status_code == 410

    later = _path((await local_client.post(f"{B}/portal", headers=headers)).json()["url"])
    stripe_kit.row(
        "UPDATE billing.local_portal_sessions SET expires_at = now() - interval '1 second' "
        "WHERE user_id = %s RETURNING id",
        users.id(name),
    )
    assert (await local_client.get(later)).status_code == 410
    assert (await local_client.post(f"{later}/resume")).status_code == 410
    old_style = await local_client.get(f"{B}/local/portal/{users.id(name)}/{customer}")
    assert old_style.status_code == 422


async def test_a_browser_paying_on_the_local_pages_is_sent_back_to_the_app(
    local_client: httpx.AsyncClient, stripe_kit: Any, users: Users, local_worker: Worker
) -> None:
    """The page's own form (Accept: text/html) returns to the web app, as Stripe's success_url
    and return_url do; an API client still gets the JSON answer (the tests above)."""
    name = users.new("browser")
    browser = {"Accept": "text/html,application/xhtml+xml"}
    page = await _open(local_client, users, name, "plus_monthly", "b")
    paid = await local_client.post(f"{page}/confirm", headers=browser)
    assert paid.status_code == 303, paid.text
    checkout_id = page.rsplit("/", 1)[1]
    assert paid.headers["location"] == f"http://127.0.0.1:8080/billing/success?session_id={checkout_id}"
    await _all_processed(stripe_kit, users.id(name), 2)

    portal = _path((await local_client.post(f"{B}/portal", headers=users.headers(name))).json()["url"])
    cancelled = await local_client.post(f"{portal}/cancel", headers=browser)
    assert cancelled.status_code == 303, cancelled.text
    assert cancelled.headers["location"] == "http://127.0.0.1:8080/billing"
    view = await local_client.get(f"{B}/subscription", headers=users.headers(name))
    assert view.json()["cancel_at_period_end"] is True
