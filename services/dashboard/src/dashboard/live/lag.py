"""Seconds behind each stream, measured by the worker from its consumers' state and broadcast
to the API processes (which add it to `GET /me` without a database read)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from nats.js import JetStreamContext

from dashboard.live.announce import LAG_SUBJECT
from dashboard.metrics import record_lag
from dashboard.settings import DashboardSettings
from servicekit.events.consumer import Subscription
from servicekit.events.streams import connect
from servicekit.logging import get_logger

log = get_logger(__name__)


async def measure(js: JetStreamContext, subs: Sequence[Subscription]) -> dict[str, dict[str, Any]]:
    """Per stream: events not yet applied, and the age of the oldest of them."""
    lag: dict[str, dict[str, Any]] = {}
    now = datetime.now(UTC)
    for sub in subs:
        entry = lag.setdefault(sub.stream, {"pending": 0, "seconds_behind": 0.0})
        try:
            info = await js.consumer_info(sub.stream, sub.durable)
        except Exception:  # not created yet (the worker is starting): nothing measured
            continue
        pending = int(info.num_pending or 0) + int(info.num_ack_pending or 0)
        entry["pending"] += pending
        if pending == 0 or info.ack_floor is None:
            continue
        with contextlib.suppress(Exception):
            oldest = await js.get_msg(
                sub.stream, seq=info.ack_floor.stream_seq + 1, subject=sub.filter_subject, next=True
            )
            if oldest.time is not None:
                behind = (now - oldest.time).total_seconds()
                entry["seconds_behind"] = round(max(entry["seconds_behind"], behind, 0.0), 3)
    return lag


async def run_lag_reporter(settings: DashboardSettings, subs: Sequence[Subscription]) -> None:
    nc = await connect(settings.nats_url, "dashboard-lag")
    js = nc.jetstream()
    try:
        while True:
            try:
                lag = await measure(js, subs)
                record_lag(lag)
                await nc.publish(LAG_SUBJECT, json.dumps(lag).encode())
            except Exception as exc:
                log.warning("lag_measure_failed", error=repr(exc))
            await asyncio.sleep(settings.lag_interval_seconds)
    finally:
        with contextlib.suppress(Exception):
            await nc.close()
