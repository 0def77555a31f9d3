"""Consumers across a PostgreSQL outage: an outage never uses up an event's deliveries, so
nothing is stranded however long it lasts, and a dead letter is written before its message
is terminated, never instead of it."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import replace
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from profiler import SCHEMA
from profiler.worker import subscriptions
from servicekit.db import create_engine
from servicekit.events import Event
from servicekit.events.consumer import ConsumerRunner, Subscription
from servicekit.events.streams import connect, ensure_stream
from servicekit.testing import eventually
from servicekit.worker import Worker

# A retry schedule of 1.7 s in all, which the outage outlasts many times over.
SHORT_BACKOFF = (0.2, 0.5, 1.0)
OUTAGE_SECONDS = 15.0


def _thinking(sub: Subscription) -> Subscription:
    """The persona job as a model would run it: a moment per persona, so personas are still in
    flight when PostgreSQL stops (the offline writer alone can finish all 45 first)."""
    if sub.prepare is None:
        return sub
    prepare = sub.prepare

    async def slow_prepare(engine: Any, event: Event) -> Any:
        await asyncio.sleep(0.3)
        return await prepare(engine, event)

    return replace(sub, prepare=slow_prepare)


async def test_a_database_outage_under_load_strands_no_persona(faults: Any, fault_settings: Any, students: Any) -> None:
    subs = [_thinking(replace(sub, backoff=SHORT_BACKOFF, max_deliver=3)) for sub in subscriptions(fault_settings)]
    dead_before = len(faults.dead_letters("profiler-persona-writer"))
    worker = Worker(fault_settings, SCHEMA, subs)
    await worker.start()
    try:
        session_ids = await students.complete(45, "db-outage")
        await asyncio.sleep(0.15)
        in_flight = faults.persona_statuses(session_ids)["pending"]
        await faults.stop_postgres()
        await asyncio.sleep(OUTAGE_SECONDS)
        # Paused on the database is not stalled: the watchdog left the subscriptions alone.
        assert [runner.resubscriptions for runner in worker.runners] == [0] * len(worker.runners)
        await faults.start_postgres()
        back = time.monotonic()
        assert in_flight > 0, "every persona was written before the outage: nothing was tested"

        async def all_ready() -> bool:
            return bool(faults.persona_statuses(session_ids) == {"ready": 45})

        await eventually(all_ready, within=60, interval=0.2)
        print(
            f"database outage: {in_flight} of 45 personas pending when PostgreSQL stopped for {OUTAGE_SECONDS:.0f} s; "
            f"all ready {time.monotonic() - back:.1f} s after it was back"
        )
        generated = faults.generated_events(session_ids)
        assert len(generated) == 45
        assert set(generated.values()) == {1}, "a persona was applied twice"
        assert len(faults.dead_letters("profiler-persona-writer")) == dead_before
    finally:
        await worker.stop()


async def test_a_dead_letter_is_written_before_its_message_is_terminated(faults: Any, fault_settings: Any) -> None:
    topic = f"journey.profiler.probe{uuid.uuid4().hex[:8]}.failed"
    durable = f"probe-{uuid.uuid4().hex[:8]}"
    outage = asyncio.Event()

    async def handler(session: AsyncSession, event: Event) -> None:
        raise RuntimeError("boom")

    async def on_failure(engine: Any, event: Event, error: str, deliveries: int) -> None:
        # The last attempt failed: take the database away before the dead letter is written.
        if deliveries == 2 and not outage.is_set():
            outage.set()
            await faults.stop_postgres()

    sub = Subscription(durable, "PROFILER", topic, handler, max_deliver=2, backoff=(0.1,), on_failure=on_failure)
    nc = await connect(faults.nats_url, "dead-letter-test")
    js = nc.jetstream()
    await ensure_stream(js, "profiler")
    engine = create_engine(fault_settings.worker_dsn, pool_size=2)
    task = asyncio.create_task(ConsumerRunner(js, engine, SCHEMA, sub).run())
    try:
        event = Event(type=topic, source="profiler", subject=str(uuid.uuid4()))
        await js.publish(topic, event.model_dump_json().encode())
        await asyncio.wait_for(outage.wait(), 30)
        await asyncio.sleep(5)
        await faults.start_postgres()

        async def dead_lettered() -> Any:
            return faults.dead_letters(durable)

        rows = await eventually(dead_lettered, within=30, interval=0.5)
        assert rows == [(event.id, 2, "RuntimeError('boom')")]
    finally:
        task.cancel()
        await engine.dispose()
        await nc.close()
