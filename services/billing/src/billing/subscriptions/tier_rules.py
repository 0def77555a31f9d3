"""Which tier a subscription gives right now: pure, so it is tested with a controlled clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from entitlements.matrix import Tier, tier_rank

PAYING = {"trialing", "active"}


@dataclass(frozen=True)
class SubscriptionState:
    status: str
    plan_tier: Tier
    current_period_end: datetime | None
    cancel_at_period_end: bool
    past_due_since: datetime | None


def effective_tier(state: SubscriptionState, now: datetime, grace: timedelta) -> tuple[Tier, str]:
    """(tier, reason). Stripe is the source of truth for renewals: an active subscription keeps
    its tier past the period end until Stripe says otherwise, unless it was set to cancel."""
    if state.status in PAYING:
        if state.cancel_at_period_end and state.current_period_end and now >= state.current_period_end:
            return "free", "canceled at period end"
        return state.plan_tier, f"subscription {state.status}"
    if state.status == "past_due":
        since = state.past_due_since or now
        if now - since < grace:
            return state.plan_tier, "past due, within grace period"
        return "free", "past due beyond grace period"
    return "free", f"subscription {state.status}"


def best_tier(states: list[SubscriptionState], now: datetime, grace: timedelta) -> tuple[Tier, str]:
    """A user with several subscriptions gets the highest tier any of them gives."""
    if not states:
        return "free", "no subscription"
    return max((effective_tier(s, now, grace) for s in states), key=lambda result: tier_rank(result[0]))
