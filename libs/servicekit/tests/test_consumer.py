"""The consumer runner: an event redelivered is applied once; one that keeps failing is
dead-lettered after max_deliver."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from servicekit.db import create_engine
from servicekit.direct import DirectPool, DirectTransaction, Statement
from servicekit.events import Event
from servicekit.events.consumer import ConsumerRunner, Subscription
from servicekit.settings import ServiceSettings
from servicekit.testing import eventually

# The kit's scratch table (conftest: kitevents.results, user-owned with RLS).
_ADD_RESULT = Statement(text("INSERT INTO kitevents.results VALUES (:id, :user_id, :provider, false, '{}'::jsonb)"))


def _dead_letters(infra: Any, durable: str) -> Callable[[], Awaitable[list[tuple[Any, ...]]]]:
    """The consumer's dead letters (event id, deliveries, error), for `eventually`."""

    async def rows() -> list[tuple[Any, ...]]:
        with psycopg.connect(infra.admin_dsn) as conn:
            return conn.execute(
                "SELECT event_id, deliveries, error FROM kitevents.dead_letters WHERE consumer = %s", (durable,)
            ).fetchall()

    return rows


async def _run(runner: ConsumerRunner) -> asyncio.Task[None]:
    return asyncio.create_task(runner.run())


async def test_a_redelivered_event_is_applied_once(kit_settings: ServiceSettings, nats_js: Any) -> None:
    topic = f"journey.kitevents.probe{uuid.uuid4().hex[:8]}.happened"
    applied: list[uuid.UUID] = []

    async def handler(session: AsyncSession, event: Event) -> None:
        applied.append(event.id)

    engine = create_engine(kit_settings.worker_dsn, pool_size=2)
    runner = ConsumerRunner(
        nats_js, engine, "kitevents", Subscription(f"probe-{uuid.uuid4().hex[:8]}", "KITEVENTS", topic, handler)
    )
    task = await _run(runner)
    try:
        event = Event(type=topic, source="kitevents", subject=str(uuid.uuid4()), data={"n": 1})
        # Two copies with distinct Msg-Ids get past JetStream's de-duplication, as a
        # redelivery after the duplicate window would; the inbox must still apply it once.
        for copy in ("a", "b"):
            await nats_js.publish(
                topic, event.model_dump_json().encode(), headers={"Nats-Msg-Id": f"{event.id}-{copy}"}
            )
        other = Event(type=topic, source="kitevents", subject=str(uuid.uuid4()))
        await nats_js.publish(topic, other.model_dump_json().encode())

        async def both_seen() -> bool:
            return other.id in applied

        await eventually(both_seen)
        await asyncio.sleep(0.5)
        assert applied.count(event.id) == 1
    finally:
        task.cancel()
        await engine.dispose()


async def test_a_failing_event_is_retried_then_dead_lettered(
    kit_settings: ServiceSettings, nats_js: Any, infra: Any
) -> None:
    topic = f"journey.kitevents.probe{uuid.uuid4().hex[:8]}.failed"
    attempts: list[int] = []

    async def handler(session: AsyncSession, event: Event) -> None:
        attempts.append(1)
        raise RuntimeError("boom")

    durable = f"probe-{uuid.uuid4().hex[:8]}"
    engine = create_engine(kit_settings.worker_dsn, pool_size=2)
    sub = Subscription(durable, "KITEVENTS", topic, handler, max_deliver=3, backoff=(0.1, 0.1))
    task = await _run(ConsumerRunner(nats_js, engine, "kitevents", sub))
    try:
        event = Event(type=topic, source="kitevents", subject=str(uuid.uuid4()))
        await nats_js.publish(topic, event.model_dump_json().encode())

        rows = await eventually(_dead_letters(infra, durable))
        assert rows == [(event.id, 3, "RuntimeError('boom')")]
        assert len(attempts) == 3
        # Nothing was recorded in the inbox: a failed handler rolls back its claim.
        with psycopg.connect(infra.admin_dsn) as conn:
            claimed = conn.execute("SELECT count(*) FROM kitevents.inbox WHERE consumer = %s", (durable,)).fetchone()
        assert claimed == (0,)
    finally:
        task.cancel()
        await engine.dispose()


async def test_an_unparsable_message_is_dead_lettered(kit_settings: ServiceSettings, nats_js: Any, infra: Any) -> None:
    topic = f"journey.kitevents.probe{uuid.uuid4().hex[:8]}.garbage"
    durable = f"probe-{uuid.uuid4().hex[:8]}"

    async def handler(session: AsyncSession, event: Event) -> None:
        raise AssertionError("never called")

    engine = create_engine(kit_settings.worker_dsn, pool_size=2)
    task = await _run(ConsumerRunner(nats_js, engine, "kitevents", Subscription(durable, "KITEVENTS", topic, handler)))
    try:
        await nats_js.publish(topic, b"{not an envelope")

        rows = await eventually(_dead_letters(infra, durable))
        assert rows[0][2].startswith("unparsable envelope")
    finally:
        task.cancel()
        await engine.dispose()


async def test_prepared_work_runs_before_the_transaction_and_once_per_event(
    kit_settings: ServiceSettings, nats_js: Any
) -> None:
    topic = f"journey.kitevents.probe{uuid.uuid4().hex[:8]}.prepared"
    prepared: list[uuid.UUID] = []
    applied: list[uuid.UUID] = []

    async def prepare(engine: Any, event: Event) -> Any:
        prepared.append(event.id)

        async def apply(session: AsyncSession, event: Event) -> None:
            applied.append(event.id)

        return apply

    engine = create_engine(kit_settings.worker_dsn, pool_size=2)
    sub = Subscription(f"probe-{uuid.uuid4().hex[:8]}", "KITEVENTS", topic, prepare=prepare)
    task = await _run(ConsumerRunner(nats_js, engine, "kitevents", sub))
    try:
        event = Event(type=topic, source="kitevents", subject=str(uuid.uuid4()))
        await nats_js.publish(topic, event.model_dump_json().encode(), headers={"Nats-Msg-Id": f"{event.id}-a"})

        async def applied_once() -> bool:
            return event.id in applied

        await eventually(applied_once)
        # A redelivery after it was applied skips the (slow) preparation altogether.
        await nats_js.publish(topic, event.model_dump_json().encode(), headers={"Nats-Msg-Id": f"{event.id}-b"})
        await asyncio.sleep(1.0)
        assert (prepared, applied) == ([event.id], [event.id])
    finally:
        task.cancel()
        await engine.dispose()


def test_a_subscription_needs_exactly_one_of_handler_and_prepare() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Subscription("x", "KITEVENTS", "journey.kitevents.x.y")


async def test_messages_in_hand_are_kept_alive_past_ack_wait(kit_settings: ServiceSettings, nats_js: Any) -> None:
    """A slow preparation, and the message queued behind it in the same batch, are not
    redelivered while the worker still holds them: ack_wait can be short."""
    topic = f"journey.kitevents.probe{uuid.uuid4().hex[:8]}.slow"
    durable = f"probe-{uuid.uuid4().hex[:8]}"
    applied: list[uuid.UUID] = []

    async def prepare(engine: Any, event: Event) -> Any:
        await asyncio.sleep(2.5)  # well past ack_wait

        async def apply(session: AsyncSession, event: Event) -> None:
            applied.append(event.id)

        return apply

    engine = create_engine(kit_settings.worker_dsn, pool_size=2)
    sub = Subscription(durable, "KITEVENTS", topic, prepare=prepare, ack_wait=1.0)
    task = await _run(ConsumerRunner(nats_js, engine, "kitevents", sub))
    try:
        sent = [Event(type=topic, source="kitevents", subject=str(uuid.uuid4())) for _ in range(2)]
        for event in sent:
            await nats_js.publish(topic, event.model_dump_json().encode())

        async def both_applied() -> bool:
            return len(applied) == 2

        await eventually(both_applied, within=20)

        async def settled() -> Any:
            info = await nats_js.consumer_info("KITEVENTS", durable)
            return info if info.num_ack_pending == 0 else None

        info = await eventually(settled)
        # Two messages, two deliveries: neither was sent again while in hand.
        assert (info.delivered.consumer_seq, info.num_redelivered) == (2, 0)
        assert sorted(applied) == sorted(e.id for e in sent)
    finally:
        task.cancel()
        await engine.dispose()


async def test_a_direct_handler_commits_with_its_claim_once_and_dead_letters_like_the_others(
    kit_settings: ServiceSettings, nats_js: Any, infra: Any
) -> None:
    """`Subscription(direct=...)`: the inbox claim and the handler's statements in one
    `DirectTransaction`; a redelivery is skipped, a failure rolls both back and counts."""
    topic = f"journey.kitevents.probe{uuid.uuid4().hex[:8]}.direct"
    durable = f"probe-{uuid.uuid4().hex[:8]}"
    seen: list[uuid.UUID] = []
    committed: list[uuid.UUID] = []

    async def handler(tx: DirectTransaction, event: Event) -> None:
        seen.append(event.id)
        await tx.send(_ADD_RESULT, id=uuid.uuid4(), user_id=event.user_id(), provider=durable)
        if event.data.get("fail"):
            raise RuntimeError("boom")
        tx.after_commit(lambda: committed.append(event.id))

    engine = create_engine(kit_settings.worker_dsn, pool_size=2)
    pool = DirectPool(kit_settings.worker_dsn, size=2)
    await pool.open()
    sub = Subscription(durable, "KITEVENTS", topic, direct=handler, max_deliver=2, backoff=(0.1,))
    task = await _run(ConsumerRunner(nats_js, engine, "kitevents", sub, direct_pool=pool))
    try:
        user = uuid.uuid4()
        good = Event(type=topic, source="kitevents", subject=str(user), data={})
        bad = Event(type=topic, source="kitevents", subject=str(user), data={"fail": True})
        for copy in ("a", "b"):  # two copies past JetStream's de-duplication: applied once
            await nats_js.publish(topic, good.model_dump_json().encode(), headers={"Nats-Msg-Id": f"{good.id}-{copy}"})
        await nats_js.publish(topic, bad.model_dump_json().encode())

        assert await eventually(_dead_letters(infra, durable)) == [(bad.id, 2, "RuntimeError('boom')")]
        await asyncio.sleep(0.3)
        assert committed == [good.id]
        assert seen.count(good.id) == 1
        assert seen.count(bad.id) == 2
        with psycopg.connect(infra.admin_dsn) as conn:
            stored = conn.execute("SELECT count(*) FROM kitevents.results WHERE provider = %s", (durable,)).fetchone()
            claims = conn.execute("SELECT event_id FROM kitevents.inbox WHERE consumer = %s", (durable,)).fetchall()
        assert stored == (1,)  # the failing handler's write rolled back with its claim
        assert claims == [(good.id,)]
    finally:
        task.cancel()
        await engine.dispose()
        await pool.close()


def test_a_direct_subscription_needs_the_workers_direct_pool(nats_js: Any, kit_settings: ServiceSettings) -> None:
    async def handler(tx: DirectTransaction, event: Event) -> None:
        return None

    sub = Subscription("probe", "KITEVENTS", "journey.kitevents.x", direct=handler)
    with pytest.raises(ValueError, match="direct pool"):
        ConsumerRunner(nats_js, create_engine(kit_settings.worker_dsn), "kitevents", sub)
    with pytest.raises(ValueError, match="exactly one"):
        Subscription("probe", "KITEVENTS", "journey.kitevents.x")
