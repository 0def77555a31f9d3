"""Transactional outbox: a NATS outage delays events and loses none; re-publishing
never duplicates them on the stream (Nats-Msg-Id de-duplication)."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import nats
import psycopg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from contracts import profiler as events
from servicekit.testing import Users, eventually
from servicekit.worker import Worker

B = "/api/v1/profiler"


async def stream_msg_ids(nats_url: str, subject: str) -> Counter[str]:
    """Every Nats-Msg-Id stored on the PROFILER stream for `subject`."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        durable = f"count-{uuid.uuid4().hex[:8]}"
        await js.add_consumer(
            "PROFILER",
            ConsumerConfig(
                durable_name=durable,
                filter_subject=subject,
                deliver_policy=DeliverPolicy.ALL,
                ack_policy=AckPolicy.NONE,
            ),
        )
        info = await js.consumer_info("PROFILER", durable)
        psub = await js.pull_subscribe_bind(durable=durable, stream="PROFILER")
        ids: Counter[str] = Counter()
        remaining = info.num_pending
        while remaining > 0:
            msgs = await psub.fetch(min(remaining, 256), timeout=5)
            for msg in msgs:
                ids[(msg.headers or {}).get("Nats-Msg-Id", "")] += 1
            remaining -= len(msgs)
        await js.delete_consumer("PROFILER", durable)
        return ids
    finally:
        await nc.close()


def outbox_rows(admin_dsn: str, session_ids: list[str]) -> list[tuple[str, str, Any]]:
    with psycopg.connect(admin_dsn) as conn:
        rows = conn.execute(
            "SELECT id::text, subject, published_at FROM profiler.outbox "
            "WHERE payload->'data'->>'session_id' = ANY(%s)",
            (session_ids,),
        ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


async def test_completing_during_a_nats_outage_loses_nothing(
    infra: Any, users: Users, questionnaire: Any, worker: Worker, set_tier: Any
) -> None:
    name = users.new("outage")
    set_tier(users.id(name), "pro")  # several personas for one student
    headers = users.headers(name)
    infra.nats.stop()
    try:
        session_ids = [await questionnaire.completed_session(headers) for _ in range(3)]
        rows = outbox_rows(infra.admin_dsn, session_ids)
        # completed + persona.requested per session, all waiting in the outbox
        assert len(rows) == 6
        assert all(published is None for _, _, published in rows)
    finally:
        infra.nats.start()

    async def all_published() -> bool:
        return all(p is not None for _, _, p in outbox_rows(infra.admin_dsn, session_ids))

    await eventually(all_published, within=40)
    on_stream = await stream_msg_ids(infra.nats_url, events.SessionCompleted.SUBJECT)
    completed_ids = [i for i, subject, _ in rows if subject == events.SessionCompleted.SUBJECT]
    assert [on_stream[i] for i in completed_ids] == [1, 1, 1]

    # The consumers recover after the restart: every persona gets written.
    async def personas_ready() -> bool:
        for sid in session_ids:
            response = await questionnaire.client.get(f"{B}/sessions/{sid}/persona", headers=headers)
            if response.status_code != 200:
                return False
        return True

    await eventually(personas_ready, within=40)


async def test_republishing_the_outbox_does_not_duplicate_events(
    infra: Any, users: Users, questionnaire: Any, worker: Worker, set_tier: Any
) -> None:
    name = users.new("replay")
    set_tier(users.id(name), "pro")
    headers = users.headers(name)
    session_ids = [await questionnaire.completed_session(headers) for _ in range(2)]

    async def published() -> bool:
        return all(p is not None for _, _, p in outbox_rows(infra.admin_dsn, session_ids))

    await eventually(published)
    # As if the relay crashed after publishing but before marking the rows sent.
    with psycopg.connect(infra.admin_dsn, autocommit=True) as conn:
        conn.execute(
            "UPDATE profiler.outbox SET published_at = NULL WHERE payload->'data'->>'session_id' = ANY(%s)",
            (session_ids,),
        )
        conn.execute("SELECT pg_notify('profiler_outbox', '')")
    await eventually(published)
    completed = events.SessionCompleted.SUBJECT
    on_stream = await stream_msg_ids(infra.nats_url, completed)
    ids = [i for i, subject, _ in outbox_rows(infra.admin_dsn, session_ids) if subject == completed]
    assert [on_stream[i] for i in ids] == [1, 1]
