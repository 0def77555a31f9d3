"""Stripe delivers late and in any order. Every order of a realistic lifecycle must end in
Stripe's current state, with the tier changes the ordering rule allows and no invented ones:
an event applies when it is not older than the held state, and a re-fetched subscription is
the state as of the fetch."""

from __future__ import annotations

import json
import random
import time
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg

from billing.payments.factory import build_payment_provider
from billing.settings import BillingSettings
from billing.webhooks.apply import apply_stripe_event
from servicekit.db import create_engine
from servicekit.testing import Users
from servicekit.worker import Worker

ORDERS = 200
FETCHED = 10**12  # a re-fetch is as of now: newer than any event in the lifecycle
RANK = {"free": 0, "plus": 1, "pro": 2}


@dataclass(frozen=True)
class Step:
    event: dict[str, Any]
    stamp: int  # what the ordering rule compares
    tier: str | None  # the tier the applied state gives; None when the event carries no state


def _lifecycle(stripe_kit: Any, user: uuid.UUID, base: int) -> tuple[dict[str, Any], list[Step]]:
    """Subscribe to plus through Checkout, pay, upgrade to pro in the portal, pay the proration,
    change the card. Stripe's current state is the last one: pro, active."""
    plus = stripe_kit.subscription(user, price="price_test_plus_m")
    sub_id, customer = plus["id"], plus["customer"]
    pro = {**plus, "items": {"object": "list", "data": [{"price": {"id": "price_test_pro_m"}}]}}
    pro["items"]["data"][0]["current_period_end"] = plus["items"]["data"][0]["current_period_end"]

    def invoice(n: int) -> dict[str, Any]:
        return {"id": f"in_{n}_{sub_id}", "object": "invoice", "customer": customer, "subscription": sub_id}

    def at(kind: str, obj: dict[str, Any], offset: int, stamp: int, tier: str | None) -> Step:
        return Step(stripe_kit.event(kind, obj, created=base + offset), stamp, tier)

    steps = [
        at("customer.subscription.created", {**plus, "status": "incomplete"}, 1, base + 1, "free"),
        at("checkout.session.completed", stripe_kit.checkout_session(user, plus), 2, FETCHED, "pro"),
        at("invoice.paid", invoice(1), 2, FETCHED, "pro"),
        at("customer.subscription.updated", plus, 3, base + 3, "plus"),
        at("invoice.created", invoice(2), 500, 0, None),
        at("customer.subscription.updated", pro, 500, base + 500, "pro"),
        at("invoice.paid", invoice(2), 501, FETCHED, "pro"),
        at("invoice.payment_succeeded", invoice(2), 501, FETCHED, "pro"),
        at("customer.subscription.updated", {**pro, "default_payment_method": "pm_new"}, 900, base + 900, "pro"),
    ]
    return pro, steps


def _expected_changes(steps: list[Step]) -> list[str]:
    """The ordering rule as a model: newest state wins, equal stamps apply, fetched is newest."""
    held_stamp, tier, changes = -1, "free", []
    for step in steps:
        if step.tier is None or step.stamp < held_stamp:
            continue
        held_stamp = step.stamp
        if step.tier != tier:
            tier = step.tier
            changes.append(tier)
    return changes


async def test_every_delivery_order_ends_in_stripes_current_state(
    stripe_kit: Any, fake_stripe: Any, users: Users, billing_settings: BillingSettings, infra: Any
) -> None:
    engine = create_engine(billing_settings.worker_dsn, pool_size=1)
    provider = build_payment_provider(billing_settings, engine)
    rng = random.Random(20261126)
    base = int(time.time()) - 3600
    orders: list[tuple[uuid.UUID, str, list[Step]]] = []
    for n in range(ORDERS):
        user = users.id(users.new(f"order{n}"))
        current, steps = _lifecycle(stripe_kit, user, base)
        fake_stripe.subscriptions[current["id"]] = current
        rng.shuffle(steps)
        orders.append((user, current["id"], steps))
    with psycopg.connect(infra.admin_dsn) as conn:  # what the intake stores; applied below, in order
        conn.cursor().executemany(
            "INSERT INTO billing.stripe_events (id, type, payload) VALUES (%s, %s, %s)",
            [(s.event["id"], s.event["type"], json.dumps(s.event)) for _, _, steps in orders for s in steps],
        )
    started = time.monotonic()
    try:
        for _, _, steps in orders:
            for step in steps:  # prepared, then applied as the consumer runs it (subject `system`)
                await apply_stripe_event(engine, provider, billing_settings, step.event["id"])
    finally:
        await engine.dispose()
    elapsed = time.monotonic() - started

    with psycopg.connect(infra.admin_dsn) as conn:
        changes: dict[str, list[str]] = {}
        for subject, tier in conn.execute(
            "SELECT payload->>'subject', payload->'data'->>'new_tier' FROM billing.outbox "
            "WHERE subject = 'journey.billing.tier.changed' AND payload->>'subject' = ANY(%s) ORDER BY created_at",
            ([str(user) for user, _, _ in orders],),
        ):
            changes.setdefault(subject, []).append(tier)
        held: dict[str, tuple[str, str, str]] = dict(
            conn.execute(
                "SELECT s.stripe_subscription_id, (s.plan_id, s.status, t.tier) FROM billing.subscriptions s "
                "JOIN billing.user_tiers t USING (user_id) WHERE s.stripe_subscription_id = ANY(%s)",
                ([sub_id for _, sub_id, _ in orders],),
            ).fetchall()
        )
    for user, sub_id, steps in orders:
        order = [f"{s.event['type']}@{s.event['created'] - base}" for s in steps]
        seen = changes.get(str(user), [])
        assert seen == _expected_changes(steps), order
        assert all(RANK[a] < RANK[b] for a, b in zip(["free", *seen], seen, strict=False)), order
        assert held[sub_id] == ("pro_monthly", "active", "pro"), order
    print(f"{ORDERS} delivery orders applied in {elapsed:.1f} s")  # a figure to watch, not a timed assertion


async def test_a_late_invoice_then_older_updates_never_downgrade_a_paying_user(
    stripe_kit: Any, fake_stripe: Any, users: Users, billing_worker: Worker, wait_processed: Any
) -> None:
    """The reported order, through the webhook and the real worker: Stripe says pro/active."""
    user = users.id(users.new("late"))
    base = int(time.time()) - 600
    plus = stripe_kit.subscription(user, price="price_test_plus_m")
    pro = {**plus, "items": {"object": "list", "data": [{"price": {"id": "price_test_pro_m"}}]}}
    fake_stripe.subscriptions[plus["id"]] = pro
    invoice = {"id": "in_late", "object": "invoice", "customer": plus["customer"], "subscription": plus["id"]}
    for event in (
        stripe_kit.event("invoice.paid", invoice, created=base + 2),
        stripe_kit.event("customer.subscription.created", pro, created=base + 1),
        stripe_kit.event("customer.subscription.updated", plus, created=base + 3),
        stripe_kit.event("checkout.session.completed", stripe_kit.checkout_session(user, plus), created=base + 4),
        stripe_kit.event("customer.subscription.updated", pro, created=base + 10),
    ):
        assert (await stripe_kit.deliver(event)).status_code == 200
        await wait_processed(event["id"])
    assert stripe_kit.tier(user) == "pro"
    assert [(c["previous_tier"], c["new_tier"]) for c in stripe_kit.tier_events(user)] == [("free", "pro")]
