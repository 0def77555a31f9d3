"""One paid subscription per student, enforced wherever money can move:
- a new checkout leaves one payable checkout open, the latest attempt's (in each provider);
- checkout (before and after the provider call) and the local provider's confirm refuse while
  a paid subscription is live;
- a second live subscription that still arrives from Stripe (two tabs paid within seconds)
  is resolved by one rule: keep the newest (by Stripe's `created`), cancel the others at
  once with proration, and log it as an error for a human to look at.

The provider is asked with no transaction open (`settle_second`, in the worker's prepare
phase); the transaction that applies the result re-checks (`ensure_single`)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from billing.models import Plan
from billing.payments.provider import PaymentProvider, StripeObject
from billing.subscriptions import repository, service
from servicekit.db import lock_user, user_transaction
from servicekit.errors import Conflict
from servicekit.logging import get_logger

log = get_logger(__name__)
PAID_LIVE = ("active", "trialing", "past_due")


class SecondPaidSubscriptionMeanwhile(Exception):
    """Another live paid subscription was applied after this event was prepared: its delivery
    fails and is retried, and the next prepare phase settles both."""


async def refusal(db: AsyncSession, plan: Plan) -> Conflict | None:
    """The 409 to answer while the RLS user holds a live paid subscription, else None."""
    current = await service.current_subscription(db)
    if current is None or current.status not in PAID_LIVE:
        return None
    if current.plan_id == plan.id:
        return Conflict(f"you already have the {plan.name} plan")
    # A plan change goes through the portal, where the provider prorates it.
    return Conflict(f"you already have the {current.plan_id} plan: change plans in the billing portal")


async def refuse_second(db: AsyncSession, plan: Plan) -> None:
    refused = await refusal(db, plan)
    if refused is not None:
        raise refused


async def held_live(db: AsyncSession) -> list[str]:
    """The RLS user's live paid subscriptions, as held."""
    return [s.stripe_subscription_id for s in await repository.for_user(db) if s.status in PAID_LIVE]


def _age(subscription: dict[str, Any]) -> tuple[int, str]:
    return int(subscription.get("created") or 0), str(subscription["id"])


async def settle_second(
    engine: AsyncEngine, provider: PaymentProvider, user_id: uuid.UUID, incoming: list[StripeObject]
) -> list[tuple[StripeObject, int]]:
    """With no transaction open: when the user would hold more than one live paid subscription
    (held, or `incoming`), each is fetched from the provider, every live one but the newest is
    canceled with proration, and their current states are returned to be applied (stamped now)."""
    async with user_transaction(engine, user_id) as db:
        held = await held_live(db)
    # Counted generously (an incoming cancellation may not apply): the provider's state decides.
    ids = list(dict.fromkeys([*held, *(str(s["id"]) for s in incoming if s.get("status") in PAID_LIVE)]))
    if len(ids) < 2:
        return []
    current = [await provider.retrieve_subscription(i, user_id=user_id) for i in ids]
    live = sorted((s for s in current if s.get("status") in PAID_LIVE), key=_age)
    extra = {str(s["id"]) for s in live[:-1]}
    if extra:
        log.error(
            "second_paid_subscription",
            user_id=str(user_id),
            kept=live[-1]["id"],
            canceled=sorted(extra),
            rule="keep the newest, cancel the others with proration",
        )
    settled = [
        await provider.cancel_subscription(str(s["id"]), user_id=user_id) if str(s["id"]) in extra else s
        for s in current
    ]
    # Stamped as of now: this is the provider's state after the fetch or the cancel.
    now = int(time.time())
    return [(s, now) for s in settled]


async def ensure_single(db: AsyncSession, user_id: uuid.UUID) -> None:
    """The re-check in the transaction that applied the result: under the user's lock, a
    concurrent apply for the same user has committed, and its rows are seen."""
    await lock_user(db, user_id)
    live = await held_live(db)
    if len(live) > 1:
        raise SecondPaidSubscriptionMeanwhile(
            f"user {user_id} holds {len(live)} live paid subscriptions ({', '.join(live)}): settled on retry"
        )
