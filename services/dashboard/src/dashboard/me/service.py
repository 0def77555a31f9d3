"""The caller's dashboard: read it, ask for it to be recomputed, watch it."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from dashboard.facts.reducers import Priority
from dashboard.facts.state import UserFacts
from dashboard.live.hub import SnapshotCache
from dashboard.refresh import repository as refresh_repository
from dashboard.snapshot import repository
from dashboard.snapshot.render import render
from servicekit.direct import DirectPool, DirectReader
from servicekit.errors import TooManyRequests


@dataclass(frozen=True)
class Current:
    version: int
    document: str  # JSON text, as stored


def empty(user_id: uuid.UUID) -> Current:
    """Before the first event: version 0, rendered from no facts."""
    snapshot = render(UserFacts.empty(user_id), version=0, now=datetime.now(UTC))
    return Current(0, snapshot.model_dump_json())


async def current(db: AsyncSession, user_id: uuid.UUID) -> Current:
    """The caller's snapshot: one primary-key read under RLS."""
    row = await repository.current(db)
    return Current(*row) if row else empty(user_id)


async def cached(pool: DirectPool, cache: SnapshotCache, user_id: uuid.UUID) -> Current:
    """From the process's cache when it holds the newest announced version, else one read."""
    hit = cache.get(user_id)
    if hit is not None:
        return Current(*hit)
    found = await current_in_own_transaction(pool, user_id)
    if found.version > 0:
        cache.put(user_id, found.version, found.document)
    return found


async def current_in_own_transaction(pool: DirectPool, user_id: uuid.UUID) -> Current:
    """A transaction of its own, one round trip on the kit's direct path (`GET /me` on a cache
    miss, a stream opening or resyncing: a stream must not hold a transaction open)."""
    row = await repository.current_direct(DirectReader(pool, user_id))
    return Current(*row) if row else empty(user_id)


def with_lag(document: str, lag_json: str) -> str:
    """The stored document with the lag object (as JSON) added, without parsing either again."""
    return '{"lag":' + lag_json + "," + document.lstrip()[1:]


def etag(version: int) -> str:
    return f'"{version}"'


def matches(if_none_match: str | None, tag: str) -> bool:
    if not if_none_match:
        return False
    candidates = [c.strip().removeprefix("W/") for c in if_none_match.split(",")]
    return "*" in candidates or tag in candidates


async def request_refresh(db: AsyncSession, user_id: uuid.UUID, interval: float) -> int:
    """Queue a recompute at the most urgent priority; 429 with Retry-After when asked again
    within `interval` seconds. Returns the version before the refresh."""
    wait = await refresh_repository.request_manual(db, user_id, Priority.URGENT, interval)
    if wait is not None:
        retry = max(1, math.ceil(wait))
        error = TooManyRequests(f"the dashboard was refreshed less than {interval:g} s ago; try again in {retry} s")
        error.headers = {"Retry-After": str(retry)}
        raise error
    return (await current(db, user_id)).version
