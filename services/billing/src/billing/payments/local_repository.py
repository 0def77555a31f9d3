"""Queries of the local payment provider's own tables (its stand-in for Stripe's records)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from billing.models import Customer, LocalCheckout, LocalPortalSession, LocalSubscription


async def checkout(db: AsyncSession, checkout_id: uuid.UUID) -> LocalCheckout | None:
    return await db.get(LocalCheckout, checkout_id, with_for_update=True)


async def checkout_by_key(db: AsyncSession, user_id: uuid.UUID, idempotency_key: str) -> LocalCheckout | None:
    query = select(LocalCheckout).where(
        LocalCheckout.user_id == user_id, LocalCheckout.idempotency_key == idempotency_key
    )
    return (await db.exec(query)).first()


async def add_checkout(db: AsyncSession, checkout: LocalCheckout) -> LocalCheckout:
    db.add(checkout)
    await db.flush()
    return checkout


async def open_checkouts(db: AsyncSession) -> list[LocalCheckout]:
    """The RLS user's open checkouts."""
    return list((await db.exec(select(LocalCheckout).where(col(LocalCheckout.status) == "open"))).all())


async def expire_checkouts(db: AsyncSession, checkout_ids: list[uuid.UUID]) -> int:
    """Those of `checkout_ids` still open become expired."""
    if not checkout_ids:
        return 0
    statement = (
        update(LocalCheckout)
        .where(col(LocalCheckout.id).in_(checkout_ids), col(LocalCheckout.status) == "open")
        .values(status="expired")
    )
    result = await db.exec(statement)
    return int(result.rowcount)


async def paying_subscription_ids(db: AsyncSession, statuses: tuple[str, ...]) -> list[str]:
    """The RLS user's local subscriptions in one of `statuses` (written at confirm, before any event)."""
    query = select(LocalSubscription.id).where(col(LocalSubscription.object)["status"].astext.in_(statuses))
    return list((await db.exec(query)).all())


async def subscription(db: AsyncSession, subscription_id: str, *, for_update: bool = False) -> LocalSubscription | None:
    return await db.get(LocalSubscription, subscription_id, with_for_update=for_update)


async def add_subscription(db: AsyncSession, user_id: uuid.UUID, obj: dict[str, Any]) -> None:
    db.add(LocalSubscription(id=obj["id"], user_id=user_id, object=obj))
    await db.flush()


async def save_subscription(db: AsyncSession, row: LocalSubscription, obj: dict[str, Any]) -> None:
    row.object = obj
    db.add(row)
    await db.flush()


async def customer_by_stripe_id(db: AsyncSession, stripe_customer_id: str) -> Customer | None:
    return (await db.exec(select(Customer).where(Customer.stripe_customer_id == stripe_customer_id))).first()


async def portal_session(db: AsyncSession, session_id: uuid.UUID) -> LocalPortalSession | None:
    return await db.get(LocalPortalSession, session_id, with_for_update=True)


async def add_portal_session(
    db: AsyncSession, user_id: uuid.UUID, customer_id: str, expires_at: datetime
) -> LocalPortalSession:
    session = LocalPortalSession(user_id=user_id, stripe_customer_id=customer_id, expires_at=expires_at)
    db.add(session)
    await db.flush()
    return session


async def set_portal_session_used(db: AsyncSession, session: LocalPortalSession, used_at: datetime | None) -> None:
    session.used_at = used_at
    db.add(session)
    await db.flush()
