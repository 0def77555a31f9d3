"""The stored Stripe events (`stripe_events`): the intake inserts, the worker applies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from billing.models import StripeEventRecord
from servicekit.direct import DirectTransaction, Statement

# RETURNING the id (the one column the API role may read) tells a new event from a repeat.
_INSERT = text(
    "INSERT INTO stripe_events (id, type, payload, livemode) "
    "VALUES (:id, :type, CAST(:payload AS jsonb), :livemode) ON CONFLICT (id) DO NOTHING RETURNING id"
)
# The webhook's intake runs it on the kit's direct path (servicekit.direct): under load the ORM
# session cost the API more CPU than the statements it ran.
_INSERT_DIRECT = Statement(_INSERT)
_RECORD_FAILURE = text("UPDATE stripe_events SET error = :error, attempts = :n WHERE id = :id")


def _params(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": event["id"],
        "type": event["type"],
        "payload": json.dumps(event),
        "livemode": bool(event.get("livemode")),
    }


async def insert(db: AsyncSession, event: dict[str, Any]) -> bool:
    """Store by Stripe event id; False when it was stored already. (The API role may read only
    the id column, so this is plain SQL rather than the mapped model.)"""
    result = await db.exec(_INSERT, params=_params(event))  # type: ignore[call-overload]
    return result.first() is not None


async def insert_direct(tx: DirectTransaction, event: dict[str, Any]) -> bool:
    """`insert` in a transaction of the kit's direct path."""
    return await tx.one(_INSERT_DIRECT, **_params(event)) is not None


async def get(db: AsyncSession, stripe_event_id: str, *, for_update: bool = False) -> StripeEventRecord | None:
    return await db.get(StripeEventRecord, stripe_event_id, with_for_update=for_update)


async def mark_processed(db: AsyncSession, record: StripeEventRecord) -> None:
    record.processed_at = datetime.now(UTC)
    record.attempts += 1
    record.error = None
    db.add(record)
    await db.flush()


async def record_failure(db: AsyncSession, stripe_event_id: str, error: str, deliveries: int) -> None:
    await db.exec(_RECORD_FAILURE, params={"error": error[:2000], "n": deliveries, "id": stripe_event_id})  # type: ignore[call-overload]
