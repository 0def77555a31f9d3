"""Queries of the local payment provider's own tables (its stand-in for Stripe's records)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from billing.models import LocalCheckout, LocalPortalSession, LocalSubscription


async def checkout(db: AsyncSession, checkout_id: uuid.UUID) -> LocalCheckout | None:
    return await db.get(LocalCheckout, checkout_id, with_for_update=True)


async def checkout_by_key(db: AsyncSession, user_id: uuid.UUID, idempotency_key: str) -> LocalCheckout | None:
    query = select(LocalCheckout).where(
        LocalCheckout.user_id == user_id, LocalCheckout.idempotency_key == idempotency_key
    )
    return (await db.exec(query)).first()


async def expire_older_open_checkouts(db: AsyncSession, newest: LocalCheckout) -> int:
    """The RLS user's open checkouts created up to `newest`, except it, become expired."""
    statement = (
        update(LocalCheckout)
        .where(
            col(LocalCheckout.status) == "open",
            col(LocalCheckout.id) != newest.id,
            col(LocalCheckout.created_at) <= newest.created_at,
        )
        .values(status="expired")
    )
    result = await db.exec(statement)
    return int(result.rowcount)


async def paying_subscription_ids(db: AsyncSession, statuses: tuple[str, ...]) -> list[str]:
    """The RLS user's local subscriptions in one of `statuses` (written at confirm, before any event)."""
    query = select(LocalSubscription.id).where(col(LocalSubscription.object)["status"].astext.in_(statuses))
    return list((await db.exec(query)).all())


async def portal_session(db: AsyncSession, session_id: uuid.UUID) -> LocalPortalSession | None:
    return await db.get(LocalPortalSession, session_id, with_for_update=True)


async def add_portal_session(
    db: AsyncSession, user_id: uuid.UUID, customer_id: str, expires_at: datetime
) -> LocalPortalSession:
    session = LocalPortalSession(user_id=user_id, stripe_customer_id=customer_id, expires_at=expires_at)
    db.add(session)
    await db.flush()
    return session
