from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from billing.subscriptions.tier_rules import SubscriptionState, best_tier, effective_tier

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
GRACE = timedelta(days=3)


def state(status: str, **kw: object) -> SubscriptionState:
    values: dict[str, object] = {
        "plan_tier": "plus",
        "current_period_end": NOW + timedelta(days=10),
        "cancel_at_period_end": False,
        "past_due_since": None,
    }
    values.update(kw)
    return SubscriptionState(status=status, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("sub", "tier"),
    [
        (state("active"), "plus"),
        (state("trialing", plan_tier="pro"), "pro"),
        (state("active", current_period_end=NOW - timedelta(days=1)), "plus"),  # renewal is Stripe's call
        (state("active", cancel_at_period_end=True), "plus"),
        (state("active", cancel_at_period_end=True, current_period_end=NOW), "free"),
        (state("past_due", past_due_since=NOW - timedelta(days=2)), "plus"),
        (state("past_due", past_due_since=NOW - GRACE), "free"),
        (state("canceled"), "free"),
        (state("unpaid"), "free"),
        (state("incomplete"), "free"),
        (state("incomplete_expired"), "free"),
    ],
)
def test_effective_tier(sub: SubscriptionState, tier: str) -> None:
    assert effective_tier(sub, NOW, GRACE)[0] == tier


def test_the_best_subscription_wins() -> None:
    assert best_tier([], NOW, GRACE) == ("free", "no subscription")
    tier, reason = best_tier([state("canceled", plan_tier="pro"), state("active"), state("past_due")], NOW, GRACE)
    assert (tier, reason) == ("plus", "subscription active")
