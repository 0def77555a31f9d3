"""One paid subscription per student, enforced wherever money can move:
- a new checkout expires the user's older open checkouts (in each provider);
- checkout and the local provider's confirm refuse while a paid subscription is live;
- a second live subscription that still arrives from Stripe (two tabs paid within seconds)
  is resolved by one rule: keep the newest (by Stripe's `created`), cancel the others at
  once with proration, and log it as an error for a human to look at."""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from billing.models import Plan
from billing.payments.provider import PaymentProvider
from billing.settings import BillingSettings
from billing.subscriptions import repository, service
from servicekit.errors import Conflict
from servicekit.logging import get_logger

log = get_logger(__name__)
PAID_LIVE = ("active", "trialing", "past_due")


async def refuse_second(db: AsyncSession, plan: Plan) -> None:
    """409 while the RLS user holds a live paid subscription."""
    current = await service.current_subscription(db)
    if current is not None and current.status in PAID_LIVE:
        if current.plan_id == plan.id:
            raise Conflict(f"you already have the {plan.name} plan")
        # A plan change goes through the portal, where the provider prorates it.
        raise Conflict(f"you already have the {current.plan_id} plan: change plans in the billing portal")


def _age(subscription: dict[str, Any]) -> tuple[int, str]:
    return int(subscription.get("created") or 0), str(subscription["id"])


async def keep_newest(
    db: AsyncSession, provider: PaymentProvider, user_id: uuid.UUID, settings: BillingSettings
) -> list[str]:
    """Cancel (prorated) every live paid subscription of the user but the newest; their ids."""
    held = [s for s in await repository.for_user(db) if s.status in PAID_LIVE]
    if len(held) < 2:
        return []
    # Decide on the provider's current state, not on what we hold.
    current = [await provider.retrieve_subscription(db, s.stripe_subscription_id) for s in held]
    live = sorted((s for s in current if s.get("status") in PAID_LIVE), key=_age)
    extra = live[:-1]
    if extra:
        log.error(
            "second_paid_subscription",
            user_id=str(user_id),
            kept=live[-1]["id"],
            canceled=[s["id"] for s in extra],
            rule="keep the newest, cancel the others with proration",
        )
    for subscription in current:
        if subscription in extra:
            subscription = await provider.cancel_subscription(db, str(subscription["id"]))
        # Stamped as of now: this is the provider's state after the fetch or the cancel.
        await service.apply_subscription(db, user_id, subscription, int(time.time()), settings)
    return [str(s["id"]) for s in extra]
