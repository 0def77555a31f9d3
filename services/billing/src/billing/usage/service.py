"""Usage against limits, counted from the events of the services that own the usage.

Billing never reads another service's schema: it keeps its own counters from their events
(today: persona generations), so GET /subscription can show usage without a call."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from billing.usage import repository
from entitlements.matrix import LIMITS
from entitlements.quota import period_start

LIFETIME = date(1970, 1, 1)


def _period(limit_name: str, at: datetime) -> date:
    start = period_start(LIMITS[limit_name].period, at)
    return start.date() if start else LIFETIME


async def _increment(db: AsyncSession, user_id: uuid.UUID, limit_name: str, at: datetime) -> int:
    """Add one use; returns the count before it."""
    return await repository.increment(db, user_id, limit_name, _period(limit_name, at)) - 1


async def record_persona_generated(db: AsyncSession, user_id: uuid.UUID, at: datetime) -> None:
    earlier = await _increment(db, user_id, "persona_generations", at)
    if earlier > 0:  # every persona after the first is a refresh
        await _increment(db, user_id, "persona_refreshes", at)


async def usage(db: AsyncSession, now: datetime) -> dict[str, int]:
    """The RLS user's usage in each limit's current period (limits with no record are absent)."""
    rows = await repository.counters(db)
    return {name: used for name, start, used in rows if name in LIMITS and start == _period(name, now)}
