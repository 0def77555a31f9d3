"""Each service's own copy of every user's tier, kept from `journey.billing.tier.changed`,
so no request waits on billing. A user with no record is on the free tier."""

from __future__ import annotations

from typing import cast

from alembic import op
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.billing import TierChanged
from entitlements.matrix import TIERS, Tier
from servicekit.events import Event, on
from servicekit.events.consumer import Subscription
from servicekit.migrations import protect_user_table


def create_tier_cache_table(schema: str) -> None:
    """Migration helper: the cache table, under RLS like every user-owned table."""
    op.execute(
        f"""
        CREATE TABLE "{schema}".tier_cache (
            user_id uuid PRIMARY KEY,
            tier text NOT NULL CHECK (tier IN ('free', 'plus', 'pro')),
            changed_at timestamptz NOT NULL,
            event_id uuid NOT NULL
        )"""
    )
    protect_user_table(schema, "tier_cache", app="SELECT", worker="SELECT, INSERT, UPDATE")


_CURRENT_TIER = text("SELECT tier FROM tier_cache")


async def current_tier(db: AsyncSession) -> Tier:
    """The caller's tier (the RLS user of `db`, in the service's own schema); one primary-key read."""
    row = (await db.exec(_CURRENT_TIER)).first()  # type: ignore[call-overload]
    tier = row[0] if row else "free"
    return cast(Tier, tier) if tier in TIERS else "free"


async def apply_tier_changed(db: AsyncSession, change: TierChanged, event: Event) -> None:
    """Upsert unless a later change is already recorded (events may arrive out of order)."""
    await db.exec(  # type: ignore[call-overload]
        text(
            "INSERT INTO tier_cache AS c (user_id, tier, changed_at, event_id) "
            "VALUES (:user_id, :tier, :changed_at, :event_id) "
            "ON CONFLICT (user_id) DO UPDATE SET tier = excluded.tier, changed_at = excluded.changed_at, "
            "event_id = excluded.event_id WHERE c.changed_at <= excluded.changed_at"
        ).bindparams(user_id=event.user_id(), tier=change.new_tier, changed_at=change.effective_at, event_id=event.id)
    )


def tier_cache_subscription(service: str) -> Subscription:
    """The consumer that keeps `service`'s tier cache (its durable is named for the service)."""
    return on(TierChanged, apply_tier_changed, durable=f"{service}-tier-cache")
