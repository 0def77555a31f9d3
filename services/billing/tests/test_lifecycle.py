"""Cancel/resume, the grace period and the period-end downgrade under a controlled clock,
a worker crash mid-event, and isolation between users."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg

from billing import SCHEMA
from billing.settings import BillingSettings
from billing.subscriptions.scheduler import downgrade_due
from billing.worker import subscriptions
from contracts import profiler as profiler_events
from servicekit.db import create_engine
from servicekit.events import new_event
from servicekit.events.streams import connect
from servicekit.testing import Users, eventually
from servicekit.worker import Worker

B = "/api/v1/billing"


async def _subscribed(stripe_kit: Any, fake_stripe: Any, wait_processed: Any, user: Any, **kw: Any) -> dict[str, Any]:
    sub = stripe_kit.subscription(user, **kw)
    fake_stripe.subscriptions[sub["id"]] = sub
    event = stripe_kit.event("customer.subscription.created", sub, created=int(time.time()) - 60)
    await stripe_kit.deliver(event)
    await wait_processed(event["id"])
    return dict(sub)


async def test_cancel_at_period_end_then_resume(
    billing_client: httpx.AsyncClient,
    stripe_kit: Any,
    fake_stripe: Any,
    users: Users,
    billing_worker: Worker,
    wait_processed: Any,
) -> None:
    name = users.new("cancel")
    headers = users.headers(name)
    assert (await billing_client.post(f"{B}/subscription/cancel", headers=headers)).status_code == 404
    sub = await _subscribed(stripe_kit, fake_stripe, wait_processed, users.id(name))
    view = (await billing_client.get(f"{B}/subscription", headers=headers)).json()
    assert (view["tier"], view["status"], view["plan"]["id"]) == ("plus", "active", "plus_monthly")
    assert (await billing_client.post(f"{B}/subscription/resume", headers=headers)).status_code == 409

    canceled = await billing_client.post(f"{B}/subscription/cancel", headers=headers)
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["cancel_at_period_end"] is True
    assert canceled.json()["tier"] == "plus"  # kept until the period ends
    updates = [r for r in fake_stripe.posts(f"/v1/subscriptions/{sub['id']}")]
    assert updates[-1]["params"] == {"cancel_at_period_end": "true"}
    assert (await billing_client.post(f"{B}/subscription/cancel", headers=headers)).status_code == 409

    resumed = await billing_client.post(f"{B}/subscription/resume", headers=headers)
    assert resumed.status_code == 200
    assert resumed.json()["cancel_at_period_end"] is False


async def test_period_end_and_grace_period_downgrades(
    stripe_kit: Any,
    fake_stripe: Any,
    users: Users,
    billing_worker: Worker,
    wait_processed: Any,
    billing_settings: BillingSettings,
) -> None:
    now = datetime.now(UTC)
    leaving = users.id(users.new("leaving"))
    late = users.id(users.new("late"))
    await _subscribed(
        stripe_kit,
        fake_stripe,
        wait_processed,
        leaving,
        cancel_at_period_end=True,
        period_end=int((now + timedelta(days=5)).timestamp()),
    )
    await _subscribed(stripe_kit, fake_stripe, wait_processed, late, status="past_due")
    system = create_engine(billing_settings.system_database_url or "", pool_size=1)
    worker = create_engine(billing_settings.worker_dsn, pool_size=1)
    try:
        # Before the boundary nothing moves.
        await downgrade_due(system, worker, billing_settings, now=now + timedelta(days=1))
        assert (stripe_kit.tier(leaving), stripe_kit.tier(late)) == ("plus", "plus")
        # Past the grace period (3 days here) the late payer drops to free...
        await downgrade_due(system, worker, billing_settings, now=now + timedelta(days=3, minutes=1))
        assert (stripe_kit.tier(leaving), stripe_kit.tier(late)) == ("plus", "free")
        # ...and at the period end the cancellation takes effect.
        await downgrade_due(system, worker, billing_settings, now=now + timedelta(days=5, minutes=1))
        assert stripe_kit.tier(leaving) == "free"
        # Running it again announces nothing new.
        await downgrade_due(system, worker, billing_settings, now=now + timedelta(days=6))
    finally:
        await system.dispose()
        await worker.dispose()
    for user in (leaving, late):
        assert [c["new_tier"] for c in stripe_kit.tier_events(user)] == ["plus", "free"]
    reason = stripe_kit.tier_events(late)[-1]["reason"]
    assert reason == "past due beyond grace period"


async def test_a_worker_crash_mid_event_applies_it_once_after_restart(
    stripe_kit: Any,
    fake_stripe: Any,
    users: Users,
    billing_worker: Worker,
    billing_settings: BillingSettings,
    wait_processed: Any,
) -> None:
    # Stop the shared worker so the crashing one is the only consumer.
    await billing_worker.stop()
    user = users.id(users.new("crash"))
    sub = stripe_kit.subscription(user, price="price_test_pro_m")
    fake_stripe.subscriptions[sub["id"]] = sub
    session = stripe_kit.checkout_session(user, sub)
    event = stripe_kit.event("checkout.session.completed", session)
    fake_stripe.block_retrieve.clear()  # the worker will hang inside the handler
    crashing = Worker(billing_settings, SCHEMA, subscriptions(billing_settings))
    try:
        await crashing.start()
        await stripe_kit.deliver(event)

        async def inside_handler() -> bool:
            return any(r["path"] == f"/v1/subscriptions/{sub['id']}" for r in fake_stripe.requests)

        await eventually(inside_handler)
        await crashing.stop()  # the process dies mid-event: its transaction never commits
    finally:
        fake_stripe.block_retrieve.set()
    assert not stripe_kit.processed(event["id"])
    assert stripe_kit.tier(user) is None

    await billing_worker.start()  # after ack_wait (2 s here) JetStream redelivers
    await wait_processed(event["id"])
    await asyncio.sleep(0.5)
    assert stripe_kit.tier(user) == "pro"
    assert len(stripe_kit.tier_events(user)) == 1
    assert stripe_kit.row("SELECT attempts FROM billing.stripe_events WHERE id = %s", event["id"]) == (1,)


async def test_another_users_subscription_is_invisible(
    billing_client: httpx.AsyncClient,
    stripe_kit: Any,
    fake_stripe: Any,
    users: Users,
    billing_worker: Worker,
    wait_processed: Any,
    billing_settings: BillingSettings,
) -> None:
    ada = users.new("ada")
    await _subscribed(stripe_kit, fake_stripe, wait_processed, users.id(ada), price="price_test_pro_m")
    bob = users.new("bob")
    view = (await billing_client.get(f"{B}/subscription", headers=users.headers(bob))).json()
    assert (view["tier"], view["status"]) == ("free", None)
    assert (await billing_client.post(f"{B}/subscription/cancel", headers=users.headers(bob))).status_code == 404
    with psycopg.connect(billing_settings.database_url) as conn, conn.transaction():
        conn.execute("SELECT set_config('app.user_id', %s, true)", (str(users.id(bob)),))
        for table in ("subscriptions", "user_tiers", "customers"):
            assert conn.execute(f"SELECT count(*) FROM billing.{table}").fetchone() == (0,)


async def test_usage_is_counted_from_profiler_events(
    billing_client: httpx.AsyncClient, users: Users, billing_worker: Worker, billing_settings: BillingSettings
) -> None:
    name = users.new("usage")
    headers = users.headers(name)
    nc = await connect(billing_settings.nats_url, "usage-test")
    try:
        js = nc.jetstream()
        for _ in range(2):
            payload = profiler_events.PersonaGenerated(
                persona_id=uuid.uuid4(),
                session_id=uuid.uuid4(),
                name="x",
                mission_tags=[],
                suggested_goals=[],
                suggested_habits=[],
                provider="offline",
                fallback=False,
            )
            generated = new_event(payload.SUBJECT, user_id=users.id(name), data=payload.model_dump(mode="json"))
            await js.publish(
                generated.type, generated.model_dump_json().encode(), headers={"Nats-Msg-Id": str(generated.id)}
            )
    finally:
        await nc.close()

    async def counted() -> dict[str, Any] | None:
        view = (await billing_client.get(f"{B}/subscription", headers=headers)).json()
        limits = {limit["name"]: limit for limit in view["limits"]}
        return limits if limits["persona_generations"]["used"] == 2 else None

    limits = await eventually(counted)
    assert (limits["persona_generations"]["limit"], limits["persona_refreshes"]["used"]) == (1, 1)
    assert limits["habits"]["used"] is None  # not counted by billing yet
