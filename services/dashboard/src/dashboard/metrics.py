"""The dashboard's Prometheus metrics (servicekit.metrics): how far the projection is behind each
stream, the refresh queue by priority, and the open live streams."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from servicekit.metrics import gauge

PROJECTION_LAG = gauge(
    "journey_dashboard_projection_lag_seconds",
    "Age of the oldest event of a stream the projection has not applied yet (0 when caught up)",
    ("stream",),
)
PROJECTION_PENDING = gauge(
    "journey_dashboard_projection_pending_events", "Events of a stream not yet applied to the projection", ("stream",)
)
REFRESH_QUEUE_DEPTH = gauge(
    "journey_dashboard_refresh_queue_depth",
    "Users waiting for their snapshot to be written, by priority",
    ("priority",),
)
SSE_STREAMS = gauge("journey_dashboard_sse_streams", "Server-Sent Events streams open in this API process")

_seen_priorities: set[int] = set()


def record_lag(lag: Mapping[str, Mapping[str, Any]]) -> None:
    """The lag reporter's measure (dashboard.live.lag), per stream."""
    for stream, entry in lag.items():
        PROJECTION_LAG.labels(stream).set(float(entry.get("seconds_behind", 0.0)))
        PROJECTION_PENDING.labels(stream).set(int(entry.get("pending", 0)))


def record_queue(depths: Iterable[tuple[int, int]]) -> None:
    """Pending users per priority; a priority seen before and now empty reads 0."""
    current = dict(depths)
    _seen_priorities.update(current)
    for priority in _seen_priorities:
        REFRESH_QUEUE_DEPTH.labels(str(priority)).set(current.get(priority, 0))
