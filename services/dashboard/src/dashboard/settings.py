from __future__ import annotations

from servicekit.settings import ServiceSettings


class DashboardSettings(ServiceSettings):
    service_name: str = "dashboard"
    # POST /me/refresh: one per user per this many seconds (429 with Retry-After otherwise).
    refresh_interval_seconds: float = 10.0
    # Bursts for one user coalesce: after a snapshot write, the next waits this long by class.
    coalesce_activity_seconds: float = 0.2
    coalesce_bulk_seconds: float = 2.0
    # A consumer writes a refresh due now itself (the leading edge of a burst) instead of
    # leaving it to the scheduler: one hop less between an event and its snapshot.
    inline_refresh: bool = True
    refresh_batch: int = 50
    # How often the scheduler looks for snapshots whose "today" is over in the student's zone
    # (re-rendered at bulk priority: a day turns over without an event).
    rollover_check_seconds: float = 60.0
    # GET /me/stream
    sse_heartbeat_seconds: float = 15.0  # under every proxy timeout on the way (Traefik's idle is 120 s)
    sse_queue_size: int = 8  # versions held for a slow client before it is told to resync
    sse_streams_per_user: int = 5
    lag_interval_seconds: float = 1.0
    # GET /me's per-process cache, validated by announced versions (0 turns it off): a lost
    # announcement leaves a reader at most this far behind.
    me_cache_seconds: float = 1.0
    me_cache_size: int = 10_000
