"""rebuild == live: a mixed history with redeliveries and out-of-order deliveries is applied by
the live consumers; the rebuilt facts equal the live ones by value and the snapshots rendered
from them equal the live snapshots field by field, for every user. One student's projection is
broken on purpose first: the rebuild repairs exactly that one."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime
from typing import Any

import nats
import psycopg
from psycopg.types.json import Jsonb

from dashboard.facts.state import UserFacts
from dashboard.rebuild.service import rebuild
from dashboard.snapshot.render import render
from dashboard.testing import mixed_history
from dashboard.worker import subscriptions
from servicekit.testing import eventually


async def quiet(infra: Any, settings: Any) -> bool:
    """Every dashboard consumer caught up and no refresh pending."""
    nc = await nats.connect(infra.nats_url)
    try:
        js = nc.jetstream()
        for sub in subscriptions(settings):
            info = await js.consumer_info(sub.stream, sub.durable)
            if info.num_pending or info.num_ack_pending:
                return False
    finally:
        await nc.close()
    with psycopg.connect(infra.admin_dsn) as conn:
        pending = conn.execute("SELECT count(*) FROM dashboard.refresh_queue WHERE pending").fetchone()
    return pending is not None and pending[0] == 0


def ours(by_user: dict[uuid.UUID, Any], students: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
    """This test's students only: the session's other dashboard tests share the projection."""
    return {user: value for user, value in by_user.items() if user in students}


def snapshots(infra: Any) -> dict[uuid.UUID, tuple[int, dict[str, Any]]]:
    with psycopg.connect(infra.admin_dsn) as conn:
        rows = conn.execute("SELECT user_id, version, document FROM dashboard.snapshots").fetchall()
    return {row[0]: (row[1], row[2]) for row in rows}


def live_facts(infra: Any) -> dict[uuid.UUID, dict[str, Any]]:
    with psycopg.connect(infra.admin_dsn) as conn:
        rows = conn.execute(
            "SELECT user_id, state FROM dashboard.facts JOIN dashboard.projection ON generation = live_generation"
        ).fetchall()
    return {row[0]: row[1] for row in rows}


def comparable(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in ("version", "as_of")}


async def test_rebuild_equals_live(infra: Any, settings: Any, publish: Any, worker: Any, scheduler: Any) -> None:
    rng = random.Random(11)
    students = [uuid.uuid4() for _ in range(12)]
    deliveries = []
    for student in students:
        history = mixed_history(student)
        redelivered = [(e, f"again-{e.id}") for e in rng.sample(history, 4)]  # same event, new message id
        deliveries += [(e, None) for e in history] + redelivered
    rng.shuffle(deliveries)  # out of order, across streams and within each
    for event, msg_id in deliveries:
        await publish(None, uuid.UUID(event.subject), event=event, msg_id=msg_id, payload_service=event.source)

    await eventually(lambda: quiet(infra, settings), within=60, interval=0.5)
    live = snapshots(infra)
    facts = live_facts(infra)
    assert set(students) <= set(live)
    for student in students:
        assert live[student][1]["plan"]["tier"] == "pro"

    # One student's projection gone wrong: their facts lost, their snapshot stale.
    broken = students[0]
    with psycopg.connect(infra.admin_dsn) as conn:
        empty = Jsonb(UserFacts.empty(broken).model_dump(mode="json"))
        conn.execute("UPDATE dashboard.facts SET state = %s WHERE user_id = %s", (empty, broken))
        conn.execute(
            "UPDATE dashboard.snapshots SET content_hash = 'stale', document = document || '{\"timeline\": []}' "
            "WHERE user_id = %s",
            (broken,),
        )

    report = await rebuild(settings)
    assert report.events >= len(students) * 20
    # The broken student, and no other of this test's students: their rebuilt facts equal the live
    # ones by value. (The session's other dashboard tests share the projection; their users count
    # too when a test of theirs changed a projection by hand.)
    assert report.refreshes_queued >= 1
    assert ours(live_facts(infra), students) == ours(facts, students)
    await eventually(lambda: quiet(infra, settings), within=30, interval=0.2)
    rebuilt = snapshots(infra)
    assert set(rebuilt) == set(live)
    now = datetime.now(UTC)
    for user_id in students:
        version, document = live[user_id]
        new_version, new_document = rebuilt[user_id]
        assert comparable(new_document) == comparable(document), user_id
        assert new_version == version + (1 if user_id == broken else 0)  # same content: no new version
        held = UserFacts.model_validate(facts[user_id]) if user_id in facts else UserFacts.empty(user_id)
        rendered = render(held, version=0, now=now).model_dump(mode="json")
        assert comparable(rendered) == comparable(document), user_id

    again = await rebuild(settings)  # a second run is harmless
    assert again.refreshes_queued == 0
    assert again.snapshots_changed == 0
    assert again.generation == report.generation + 1
    assert snapshots(infra) == rebuilt
    assert ours(live_facts(infra), students) == ours(facts, students)

    with psycopg.connect(infra.admin_dsn) as conn:
        generations = conn.execute("SELECT DISTINCT generation FROM dashboard.facts").fetchall()
        projection = conn.execute("SELECT live_generation, building_generation FROM dashboard.projection").fetchone()
    assert generations == [(again.generation,)]
    assert projection == (again.generation, None)
