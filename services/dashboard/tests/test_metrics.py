"""The dashboard's own metrics: the refresh queue's depth by priority, read from the table when
Prometheus scrapes, and the projection lag the lag reporter measures."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from prometheus_client import REGISTRY

from dashboard.facts.reducers import Priority
from dashboard.metrics import record_lag


def _depth(priority: int) -> float:
    return REGISTRY.get_sample_value("journey_dashboard_refresh_queue_depth", {"priority": str(priority)}) or 0.0


async def test_the_refresh_queue_depth_is_read_by_priority_at_the_scrape(infra: Any, scheduler: Any) -> None:
    waiting = [uuid.uuid4() for _ in range(7)]
    insert = (
        "INSERT INTO dashboard.refresh_queue (user_id, pending, priority, due_at, requested_at) "
        "SELECT u, true, %s, now() + interval '1 hour', now() FROM unnest(%s::uuid[]) AS u"
    )
    with psycopg.connect(infra.admin_dsn, autocommit=True) as conn:
        conn.execute(insert, (int(Priority.BULK), waiting))  # due in an hour: the scheduler leaves them
    try:
        await scheduler.sample_queue()
        with_them = _depth(Priority.BULK)
        assert with_them >= len(waiting)
    finally:
        with psycopg.connect(infra.admin_dsn, autocommit=True) as conn:
            conn.execute("DELETE FROM dashboard.refresh_queue WHERE user_id = ANY(%s)", (waiting,))
    await scheduler.sample_queue()
    assert _depth(Priority.BULK) <= with_them - len(waiting)


def test_the_projection_lag_is_exported_per_stream() -> None:
    record_lag({"COACHING": {"pending": 12, "seconds_behind": 3.5}, "BILLING": {"pending": 0, "seconds_behind": 0.0}})
    lag = REGISTRY.get_sample_value("journey_dashboard_projection_lag_seconds", {"stream": "COACHING"})
    pending = REGISTRY.get_sample_value("journey_dashboard_projection_pending_events", {"stream": "COACHING"})
    assert (lag, pending) == (3.5, 12)
    assert REGISTRY.get_sample_value("journey_dashboard_projection_lag_seconds", {"stream": "BILLING"}) == 0.0
