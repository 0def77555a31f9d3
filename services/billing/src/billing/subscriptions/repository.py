from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from billing.models import Customer, Subscription, UserTier

LIVE_STATUSES = ("trialing", "active", "past_due", "unpaid", "incomplete", "paused")


async def by_stripe_id(db: AsyncSession, stripe_subscription_id: str) -> Subscription | None:
    query = select(Subscription).where(Subscription.stripe_subscription_id == stripe_subscription_id)
    return (await db.exec(query.with_for_update())).first()


async def for_user(db: AsyncSession) -> list[Subscription]:
    """The RLS user's subscriptions, newest first."""
    # populate_existing: an upsert in this transaction may have changed rows already loaded.
    query = select(Subscription).order_by(col(Subscription.updated_at).desc()).execution_options(populate_existing=True)
    return list((await db.exec(query)).all())


async def upsert(db: AsyncSession, values: dict[str, Any]) -> None:
    statement = insert(Subscription).values(**values)
    updatable = {k: statement.excluded[k] for k in values if k not in ("id", "user_id", "stripe_subscription_id")}
    await db.exec(statement.on_conflict_do_update(index_elements=["stripe_subscription_id"], set_=updatable))


async def user_tier(db: AsyncSession, user_id: uuid.UUID) -> UserTier | None:
    return await db.get(UserTier, user_id)


async def customer(db: AsyncSession, user_id: uuid.UUID) -> Customer | None:
    return await db.get(Customer, user_id)


async def ensure_customer(db: AsyncSession, user_id: uuid.UUID, stripe_customer_id: str) -> None:
    statement = insert(Customer).values(user_id=user_id, stripe_customer_id=stripe_customer_id)
    await db.exec(statement.on_conflict_do_nothing())


async def owner_of_subscription(db: AsyncSession, stripe_subscription_id: str) -> uuid.UUID | None:
    """Whose subscription this is, whatever the RLS user (a SECURITY DEFINER function, 0004)."""
    row = await db.exec(  # type: ignore[call-overload]
        text("SELECT billing.owner_of_subscription(:id)"), params={"id": stripe_subscription_id}
    )
    return row.scalar_one()  # type: ignore[no-any-return]


async def owner_of_customer(db: AsyncSession, stripe_customer_id: str) -> uuid.UUID | None:
    """Whose customer this is, whatever the RLS user (a SECURITY DEFINER function, 0004)."""
    row = await db.exec(  # type: ignore[call-overload]
        text("SELECT billing.owner_of_customer(:id)"), params={"id": stripe_customer_id}
    )
    return row.scalar_one()  # type: ignore[no-any-return]


_DUE = text(
    "SELECT DISTINCT user_id FROM subscriptions "
    "WHERE (status IN ('active', 'trialing') AND cancel_at_period_end AND current_period_end <= :now) "
    "   OR (status = 'past_due' AND past_due_since <= :grace_cutoff)"
)


async def due_users(db: AsyncSession, now: datetime, grace_cutoff: datetime) -> list[uuid.UUID]:
    """Users whose tier may have lapsed by `now`: a cancellation at its period end, or past due
    since before `grace_cutoff`. Across users: only the billing_system role's policy shows them."""
    rows = await db.exec(_DUE, params={"now": now, "grace_cutoff": grace_cutoff})  # type: ignore[call-overload]
    return [row[0] for row in rows]
