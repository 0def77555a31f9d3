"""Slow provider calls never hold a transaction or a lock: while the (fake) Stripe API is
answering, no billing connection sits idle in a transaction, the user's lock is free and the
stored event is not row-locked. What the provider call no longer serialises is re-checked
where the result is recorded: racing checkouts leave one payable session, a subscription that
went live meanwhile makes the new checkout 409 (and expires it), and a second subscription
applied between the worker's two phases is settled on the retry."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import psycopg

from billing.payments.factory import build_payment_provider
from billing.settings import BillingSettings
from billing.subscriptions.one_paid import SecondPaidSubscriptionMeanwhile
from billing.webhooks.apply import apply_stripe_event, prepare_stripe_event
from servicekit.db import create_engine, user_transaction
from servicekit.testing import Users
from servicekit.worker import Worker

B = "/api/v1/billing"
BILLING_ROLES = ("billing_app", "billing_worker")


def held_by_billing(admin_dsn: str, user_id: uuid.UUID, stripe_event_id: str | None = None) -> list[str]:
    """What billing holds right now for this user, sampled for 150 ms: a transaction held across
    the call is idle in the same transaction in every sample (a passing one is not)."""
    held: list[str] = []
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        samples = []
        for _ in range(4):
            rows = conn.execute(
                "SELECT pid, xact_start FROM pg_stat_activity "
                "WHERE usename = ANY(%s) AND state LIKE 'idle in transaction%%'",
                (list(BILLING_ROLES),),
            ).fetchall()
            samples.append(set(rows))
            time.sleep(0.05)
        if set.intersection(*samples):
            held.append("a billing connection is idle in a transaction")
        with conn.transaction():
            free = conn.execute("SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))", (str(user_id),))
            if not free.fetchone()[0]:  # type: ignore[index]
                held.append("lock_user is held")
        if stripe_event_id is not None:
            try:
                with conn.transaction():
                    conn.execute(
                        "SELECT 1 FROM billing.stripe_events WHERE id = %s FOR UPDATE NOWAIT", (stripe_event_id,)
                    )
            except psycopg.errors.LockNotAvailable:
                held.append("the stored event is row-locked")
    return held


@contextmanager
def probing(fake_stripe: Any, admin_dsn: str, user_id: uuid.UUID, event: dict[str, Any]) -> Iterator[list[str]]:
    """Every request reaching the fake Stripe is held until the database has been looked at;
    yields the findings, `METHOD path: what was held`, and the requests seen (`METHOD path: ok`)."""
    seen: list[str] = []

    def look(method: str, path: str) -> None:
        held = held_by_billing(admin_dsn, user_id, event.get("id"))
        seen.append(f"{method} {path}: {', '.join(held) or 'ok'}")

    fake_stripe.before = look
    try:
        yield seen
    finally:
        fake_stripe.before = None


async def test_the_api_holds_nothing_while_stripe_answers(
    billing_client: httpx.AsyncClient,
    users: Users,
    fake_stripe: Any,
    stripe_kit: Any,
    infra: Any,
    billing_worker: Worker,
    wait_processed: Any,
) -> None:
    name = users.new("holds-nothing")
    user = users.id(name)
    headers = users.headers(name)
    with probing(fake_stripe, infra.admin_dsn, user, {}) as seen:
        for plan, key in (("plus_monthly", "h1"), ("pro_monthly", "h2")):  # the second expires the first
            answer = await billing_client.post(
                f"{B}/checkout", json={"plan_id": plan}, headers={**headers, "Idempotency-Key": key}
            )
            assert answer.status_code == 200, answer.text
        assert (await billing_client.post(f"{B}/portal", headers=headers)).status_code == 200
    sub = stripe_kit.subscription(user)
    fake_stripe.subscriptions[sub["id"]] = sub
    created = stripe_kit.event("customer.subscription.created", sub)
    await stripe_kit.deliver(created)
    await wait_processed(created["id"])
    with probing(fake_stripe, infra.admin_dsn, user, {}) as changes:
        for action in ("cancel", "resume"):
            answer = await billing_client.post(f"{B}/subscription/{action}", headers=headers)
            assert answer.status_code == 200, answer.text
    calls = seen + changes
    paths = {call.split(":")[0] for call in calls}
    assert {"POST /v1/customers", "POST /v1/checkout/sessions", "GET /v1/checkout/sessions"} <= paths
    assert {"POST /v1/billing_portal/sessions", f"POST /v1/subscriptions/{sub['id']}"} <= paths
    assert any(p.endswith("/expire") for p in paths)
    assert [call for call in calls if not call.endswith(": ok")] == []


async def test_the_worker_holds_nothing_while_stripe_answers(
    stripe_kit: Any, fake_stripe: Any, users: Users, infra: Any, billing_worker: Worker, wait_processed: Any
) -> None:
    """A re-fetch (checkout.session.completed) and the settlement of a second paid subscription
    (re-fetch both, cancel the older one) happen before the consumer's transaction opens."""
    user = users.id(users.new("worker-holds-nothing"))
    now = int(time.time())
    older = stripe_kit.subscription(user, price="price_test_plus_m", created=now - 100)
    newer = stripe_kit.subscription(user, price="price_test_pro_m", created=now - 10)
    newer["customer"] = older["customer"]
    for sub in (older, newer):
        fake_stripe.subscriptions[sub["id"]] = dict(sub)
    first = stripe_kit.event("checkout.session.completed", stripe_kit.checkout_session(user, older))
    second = stripe_kit.event("customer.subscription.created", newer)
    calls: list[str] = []
    for event in (first, second):
        with probing(fake_stripe, infra.admin_dsn, user, event) as seen:
            assert (await stripe_kit.deliver(event)).status_code == 200
            await wait_processed(event["id"])
        calls += seen
    paths = {call.split(":")[0] for call in calls}
    assert {f"GET /v1/subscriptions/{older['id']}", f"DELETE /v1/subscriptions/{older['id']}"} <= paths
    # Only this user's calls are judged: the shared worker may be calling Stripe for another
    # test's leftover event while this user's event is (rightly) in its own transaction.
    ours = (older["id"], newer["id"], older["customer"], "/v1/checkout/sessions")
    assert [call for call in calls if any(key in call for key in ours) and not call.endswith(": ok")] == []
    assert stripe_kit.tier(user) == "pro"


async def test_racing_checkouts_leave_the_later_attempt_payable(
    billing_client: httpx.AsyncClient, users: Users, fake_stripe: Any
) -> None:
    """Two checkouts of one user meet at Stripe (nothing serialises them any more): both create a
    session, then both list the open ones at once. Whatever the interleaving, exactly one
    session is left open, the later attempt's; the other is expired."""
    name = users.new("racing")
    headers = users.headers(name)
    warmup = await billing_client.post(
        f"{B}/checkout", json={"plan_id": "plus_monthly"}, headers={**headers, "Idempotency-Key": "r0"}
    )
    assert warmup.status_code == 200  # the customer exists: both racers use it
    both_listing = threading.Barrier(2, timeout=5)
    broken: list[str] = []

    def meet(method: str, path: str) -> None:
        if (method, path) == ("GET", "/v1/checkout/sessions"):
            try:
                both_listing.wait()
            except threading.BrokenBarrierError:
                broken.append("the two checkouts never reached Stripe at the same time")

    fake_stripe.before = meet
    try:
        answers = await asyncio.gather(
            *(
                billing_client.post(
                    f"{B}/checkout", json={"plan_id": plan}, headers={**headers, "Idempotency-Key": key}
                )
                for plan, key in (("plus_monthly", "r1"), ("pro_monthly", "r2"))
            )
        )
    finally:
        fake_stripe.before = None
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert broken == []
    sessions = [fake_stripe.sessions[a.json()["checkout_session_id"]] for a in answers]
    assert fake_stripe.sessions[warmup.json()["checkout_session_id"]]["status"] == "expired"
    assert sorted(s["status"] for s in sessions) == ["expired", "open"]
    payable = next(s for s in sessions if s["status"] == "open")
    attempts = [int(s["metadata"]["checkout_attempt"]) for s in sessions]
    assert int(payable["metadata"]["checkout_attempt"]) == max(attempts)


async def test_a_subscription_live_by_the_time_stripe_answers_refuses_the_checkout(
    billing_client: httpx.AsyncClient, users: Users, fake_stripe: Any, infra: Any
) -> None:
    """The checks run before the provider call; what happened during it is re-checked when the
    answer is recorded: 409, and the session Stripe just made is expired, never payable."""
    name = users.new("live-meanwhile")
    user = users.id(name)

    def paid_elsewhere(method: str, path: str) -> None:
        if (method, path) == ("POST", "/v1/checkout/sessions"):
            with psycopg.connect(infra.admin_dsn) as conn:
                conn.execute(
                    "INSERT INTO billing.subscriptions (id, user_id, stripe_subscription_id, stripe_customer_id, "
                    "plan_id, status, stripe_timestamp) VALUES (%s, %s, %s, 'cus_x', 'plus_monthly', 'active', 1)",
                    (uuid.uuid4(), user, f"sub_meanwhile_{uuid.uuid4().hex[:8]}"),
                )

    fake_stripe.before = paid_elsewhere
    try:
        refused = await billing_client.post(
            f"{B}/checkout", json={"plan_id": "pro_monthly"}, headers={**users.headers(name), "Idempotency-Key": "m"}
        )
    finally:
        fake_stripe.before = None
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    made = [s for s in fake_stripe.sessions.values() if s["client_reference_id"] == str(user)]
    assert [s["status"] for s in made] == ["expired"]


async def test_checkout_idempotency_key_replays_refuses_another_body_and_is_409_in_flight(
    billing_client: httpx.AsyncClient, users: Users, fake_stripe: Any
) -> None:
    name = users.new("idempotent-checkout")
    headers = {**users.headers(name), "Idempotency-Key": "same"}
    entered, release = threading.Event(), threading.Event()

    def hold(method: str, path: str) -> None:
        if (method, path) == ("POST", "/v1/checkout/sessions"):
            entered.set()
            release.wait(10)

    fake_stripe.before = hold
    try:
        first = asyncio.create_task(
            billing_client.post(f"{B}/checkout", json={"plan_id": "plus_monthly"}, headers=headers)
        )
        assert await asyncio.to_thread(entered.wait, 10)
        in_flight = await billing_client.post(f"{B}/checkout", json={"plan_id": "plus_monthly"}, headers=headers)
        assert in_flight.status_code == 409, in_flight.text
        assert in_flight.headers["content-type"] == "application/problem+json"
    finally:
        release.set()
        fake_stripe.before = None
    answer = await first
    assert answer.status_code == 200, answer.text
    again = await billing_client.post(f"{B}/checkout", json={"plan_id": "plus_monthly"}, headers=headers)
    assert (again.status_code, again.json()) == (200, answer.json())
    assert again.headers["idempotent-replayed"] == "true"
    other = await billing_client.post(f"{B}/checkout", json={"plan_id": "pro_monthly"}, headers=headers)
    assert other.status_code == 422, other.text
    assert other.headers["content-type"] == "application/problem+json"
    creates = [
        r
        for r in fake_stripe.posts("/v1/checkout/sessions")
        if r["params"]["client_reference_id"] == str(users.id(name))
    ]
    assert len(creates) == 1  # the replay and the refusals never reached Stripe
    assert creates[0]["idempotency_key"] == f"journey-checkout-{users.id(name)}-same"  # Stripe dedupes too


async def test_a_second_subscription_applied_between_the_two_phases_is_settled_on_retry(
    stripe_kit: Any, fake_stripe: Any, users: Users, billing_settings: BillingSettings, infra: Any
) -> None:
    """The worker prepares an event (no second subscription yet), another event for the same user
    is applied meanwhile, then the first one's transaction re-checks: it fails and is retried,
    and the retry settles the pair by the rule (the newer kept, the older canceled)."""
    user = users.id(users.new("between-phases"))
    now = int(time.time())
    older = stripe_kit.subscription(user, price="price_test_plus_m", created=now - 100)
    newer = stripe_kit.subscription(user, price="price_test_pro_m", created=now - 10)
    newer["customer"] = older["customer"]
    for sub in (older, newer):
        fake_stripe.subscriptions[sub["id"]] = dict(sub)
    events = {
        "older": stripe_kit.event("customer.subscription.created", older, created=now - 100),
        "newer": stripe_kit.event("customer.subscription.created", newer, created=now - 10),
    }
    with psycopg.connect(infra.admin_dsn) as conn:
        for event in events.values():
            conn.execute(
                "INSERT INTO billing.stripe_events (id, type, payload) VALUES (%s, %s, %s)",
                (event["id"], event["type"], json.dumps(event)),
            )
    engine = create_engine(billing_settings.worker_dsn, pool_size=2)
    provider = build_payment_provider(billing_settings, engine)
    try:
        step = await prepare_stripe_event(engine, provider, billing_settings, events["newer"]["id"])
        assert step is not None
        await apply_stripe_event(engine, provider, billing_settings, events["older"]["id"])
        try:
            async with user_transaction(engine, None) as db:
                await step(db)
            raise AssertionError("the stale step applied a second live paid subscription")
        except SecondPaidSubscriptionMeanwhile:
            pass
        assert not stripe_kit.processed(events["newer"]["id"])
        await apply_stripe_event(engine, provider, billing_settings, events["newer"]["id"])  # the retry
    finally:
        await engine.dispose()
    statuses = dict(
        stripe_kit.rows("SELECT stripe_subscription_id, status FROM billing.subscriptions WHERE user_id = %s", user)
    )
    assert statuses == {older["id"]: "canceled", newer["id"]: "active"}
    assert stripe_kit.tier(user) == "pro"
    assert stripe_kit.processed(events["newer"]["id"])
