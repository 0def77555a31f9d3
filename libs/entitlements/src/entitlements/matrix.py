"""The one table of what each tier gets. Change it here; docs/entitlements.md mirrors it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Tier = Literal["free", "plus", "pro"]
TIERS: tuple[Tier, ...] = ("free", "plus", "pro")
Period = Literal["lifetime", "month"]
UNLIMITED = None


@dataclass(frozen=True)
class Limit:
    """`per_tier[t]` is the allowance per `period`; None means unlimited."""

    name: str
    description: str
    period: Period
    per_tier: dict[Tier, int | None]


#                         free            plus          pro
LIMITS: dict[str, Limit] = {
    limit.name: limit
    for limit in (
        Limit("habits", "active habits at once", "lifetime", {"free": 3, "plus": 10, "pro": UNLIMITED}),
        Limit("active_missions", "missions in progress at once", "lifetime", {"free": 1, "plus": 5, "pro": UNLIMITED}),
        Limit("missions_per_month", "missions started per month", "month", {"free": 3, "plus": 15, "pro": UNLIMITED}),
        Limit(
            "persona_generations", "Future-You personas", "lifetime", {"free": 1, "plus": UNLIMITED, "pro": UNLIMITED}
        ),
        Limit("persona_refreshes", "persona refreshes per month", "month", {"free": 0, "plus": 1, "pro": UNLIMITED}),
    )
}

FEATURES: dict[str, frozenset[Tier]] = {
    "model_ai": frozenset({"plus", "pro"}),  # free runs on the offline AI only
    "ai_review": frozenset({"plus", "pro"}),
    "priority_review": frozenset({"pro"}),
}


def tier_rank(tier: Tier) -> int:
    return TIERS.index(tier)


def has_feature(tier: Tier, feature: str) -> bool:
    return tier in FEATURES[feature]


def limit_for(name: str, tier: Tier) -> int | None:
    return LIMITS[name].per_tier[tier]


def lowest_tier_with(*, feature: str | None = None, limit: str | None = None, above: int = 0) -> Tier | None:
    """The cheapest tier that has `feature`, or whose `limit` allows more than `above`."""
    for tier in TIERS:
        if feature is not None and has_feature(tier, feature):
            return tier
        if limit is not None:
            allowance = limit_for(limit, tier)
            if allowance is None or allowance > above:
                return tier
    return None
