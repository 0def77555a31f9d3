"""Subscription state from Stripe objects, the effective tier, and tier.changed."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from billing.models import Subscription, UserTier
from billing.payments.provider import PaymentProvider
from billing.plans import repository as plans_repository
from billing.plans import service as plans_service
from billing.settings import BillingSettings
from billing.subscriptions import repository, stripe_objects
from billing.subscriptions.schemas import SubscriptionView
from billing.subscriptions.tier_rules import SubscriptionState, best_tier
from billing.usage import service as usage_service
from contracts import billing as events
from entitlements.matrix import Tier
from servicekit.db import lock_user, user_transaction
from servicekit.errors import Conflict, NotFound
from servicekit.events import emit
from servicekit.logging import get_logger

log = get_logger(__name__)
TERMINAL = {"canceled", "incomplete_expired"}


async def apply_subscription(
    db: AsyncSession,
    user_id: uuid.UUID,
    subscription: dict[str, Any],
    stripe_timestamp: int,
    settings: BillingSettings,
    *,
    now: datetime | None = None,
) -> None:
    """Store Stripe's view of one subscription unless we already hold a newer one, then
    recompute the user's tier. Out-of-order events can never move it backwards."""
    price = stripe_objects.price_id(subscription)
    plan = await plans_repository.by_price(db, price)
    if plan is None:
        raise ValueError(f"no plan has Stripe price {price}")
    existing = await repository.by_stripe_id(db, subscription["id"])
    status = str(subscription["status"])
    if existing is not None:
        if existing.stripe_timestamp > stripe_timestamp:
            log.info("stripe_state_older", subscription=subscription["id"], held=existing.stripe_timestamp)
            return
        if existing.status in TERMINAL and status not in TERMINAL:
            log.info("stripe_state_after_terminal", subscription=subscription["id"], status=status)
            return
    past_due_since = None
    if status == "past_due":
        past_due_since = (existing.past_due_since if existing else None) or stripe_objects.from_epoch(stripe_timestamp)
    await repository.upsert(
        db,
        {
            "id": existing.id if existing else uuid.uuid4(),
            "user_id": user_id,
            "stripe_subscription_id": subscription["id"],
            "stripe_customer_id": str(subscription.get("customer") or ""),
            "plan_id": plan.id,
            "status": status,
            "current_period_end": stripe_objects.current_period_end(subscription),
            "cancel_at_period_end": bool(subscription.get("cancel_at_period_end")),
            "trial_end": stripe_objects.from_epoch(subscription.get("trial_end")),
            "canceled_at": stripe_objects.from_epoch(subscription.get("canceled_at")),
            "past_due_since": past_due_since,
            "stripe_timestamp": stripe_timestamp,
            "updated_at": datetime.now(UTC),
        },
    )
    await recompute_tier(db, user_id, settings, now=now)


async def _states(db: AsyncSession) -> tuple[list[Subscription], list[SubscriptionState]]:
    subscriptions = await repository.for_user(db)
    tiers = {p.id: p.tier for p in await plans_repository.all_plans(db)}
    states = [
        SubscriptionState(
            status=s.status,
            plan_tier=cast(Tier, tiers[s.plan_id]),
            current_period_end=s.current_period_end,
            cancel_at_period_end=s.cancel_at_period_end,
            past_due_since=s.past_due_since,
        )
        for s in subscriptions
    ]
    return subscriptions, states


async def recompute_tier(
    db: AsyncSession, user_id: uuid.UUID, settings: BillingSettings, *, now: datetime | None = None
) -> events.TierChanged | None:
    """Publish journey.billing.tier.changed (through the outbox) iff the effective tier moved."""
    now = now or datetime.now(UTC)
    await lock_user(db, user_id)  # a change is announced once, whoever recomputes at the same time
    subscriptions, states = await _states(db)
    tier, reason = best_tier(states, now, timedelta(seconds=settings.past_due_grace_seconds))
    held = await repository.user_tier(db, user_id)
    previous = cast(Tier, held.tier if held else "free")
    if tier == previous:
        return None
    paying = next((s for s, st in zip(subscriptions, states, strict=True) if st.plan_tier == tier), None)
    if held is None:
        held = UserTier(user_id=user_id, tier=tier, reason=reason, changed_at=now)
    held.tier, held.reason, held.changed_at = tier, reason, now
    held.plan_id = paying.plan_id if paying and tier != "free" else None
    db.add(held)
    await db.flush()
    change = events.TierChanged(
        previous_tier=previous,
        new_tier=tier,
        reason=reason,
        effective_at=now,
        plan_id=held.plan_id,
        subscription_status=paying.status if paying else None,
    )
    await emit(db, change, user_id=user_id)
    log.info("tier_changed", user_id=str(user_id), previous=previous, new=tier, reason=reason)
    return change


async def current_subscription(db: AsyncSession) -> Subscription | None:
    """The subscription that matters to the user: the newest one that is not over."""
    subscriptions = await repository.for_user(db)
    live = [s for s in subscriptions if s.status not in TERMINAL]
    return live[0] if live else (subscriptions[0] if subscriptions else None)


async def view(db: AsyncSession, user_id: uuid.UUID) -> SubscriptionView:
    held = await repository.user_tier(db, user_id)
    tier = cast(Tier, held.tier if held else "free")
    subscription = await current_subscription(db)
    plan = await plans_service.get_plan(db, subscription.plan_id if subscription else "free")
    used = await usage_service.usage(db, datetime.now(UTC))
    return SubscriptionView(
        tier=tier,
        plan=plans_service.public(plan),
        status=subscription.status if subscription else None,
        current_period_end=subscription.current_period_end if subscription else None,
        cancel_at_period_end=subscription.cancel_at_period_end if subscription else False,
        trial_end=subscription.trial_end if subscription else None,
        limits=[limit.model_copy(update={"used": used.get(limit.name)}) for limit in plans_service.limits_of(tier)],
    )


async def cancellable(db: AsyncSession, *, cancel: bool) -> Subscription:
    subscription = await current_subscription(db)
    if subscription is None or subscription.status in TERMINAL:
        raise NotFound("no active subscription")
    if cancel and subscription.cancel_at_period_end:
        raise Conflict("the subscription is already set to cancel at the end of the period")
    if not cancel:
        if not subscription.cancel_at_period_end:
            raise Conflict("the subscription is not set to cancel")
        if subscription.current_period_end and subscription.current_period_end <= datetime.now(UTC):
            raise Conflict("the period has ended; start a new checkout instead")
    return subscription


async def current_view(engine: AsyncEngine, user_id: uuid.UUID) -> SubscriptionView:
    async with user_transaction(engine, user_id) as db:
        return await view(db, user_id)


async def set_cancel_at_period_end(
    engine: AsyncEngine, provider: PaymentProvider, user_id: uuid.UUID, settings: BillingSettings, *, cancel: bool
) -> SubscriptionView:
    """Cancel at period end (or undo it) at the provider, and hold its answer at once. The
    provider is called between two short transactions, never inside one."""
    async with user_transaction(engine, user_id) as db:
        subscription = await cancellable(db, cancel=cancel)
    updated = await provider.set_cancel_at_period_end(subscription.stripe_subscription_id, cancel, user_id=user_id)
    async with user_transaction(engine, user_id) as db:
        # Stamped as of now: the provider's answer is its state after the change.
        await apply_subscription(db, user_id, updated, int(time.time()), settings)
        return await view(db, user_id)
