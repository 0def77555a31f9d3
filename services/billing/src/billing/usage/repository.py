"""Billing's own usage counters (`usage_counters`), kept from other services' events."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

_INCREMENT = text(
    "INSERT INTO usage_counters AS u (user_id, limit_name, period_start, used) "
    "VALUES (:user_id, :name, :period, 1) ON CONFLICT (user_id, limit_name, period_start) "
    "DO UPDATE SET used = u.used + 1 RETURNING used"
)
_ALL = text("SELECT limit_name, period_start, used FROM usage_counters")


async def increment(db: AsyncSession, user_id: uuid.UUID, limit_name: str, period: date) -> int:
    """Add one use; returns the count after it."""
    row = (await db.exec(_INCREMENT, params={"user_id": user_id, "name": limit_name, "period": period})).one()  # type: ignore[call-overload]
    return int(row[0])


async def counters(db: AsyncSession) -> list[tuple[str, date, int]]:
    """The RLS user's counters: (limit name, period start, used)."""
    rows = (await db.exec(_ALL)).all()  # type: ignore[call-overload]
    return [(str(name), start, int(used)) for name, start, used in rows]
