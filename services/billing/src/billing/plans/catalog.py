"""The seeded plans; each paid plan maps a Stripe price (from settings) to a tier."""

from __future__ import annotations

from dataclasses import dataclass

from billing.settings import BillingSettings


@dataclass(frozen=True)
class PlanSeed:
    id: str
    tier: str
    name: str
    amount_cents: int
    interval: str | None
    stripe_price_id: str | None


def plan_seeds(settings: BillingSettings) -> list[PlanSeed]:
    return [
        PlanSeed("free", "free", "Free", 0, None, None),
        PlanSeed("plus_monthly", "plus", "Plus (monthly)", 800, "month", settings.stripe_price_plus_monthly),
        PlanSeed("plus_yearly", "plus", "Plus (yearly)", 8000, "year", settings.stripe_price_plus_yearly),
        PlanSeed("pro_monthly", "pro", "Pro (monthly)", 1600, "month", settings.stripe_price_pro_monthly),
        PlanSeed("pro_yearly", "pro", "Pro (yearly)", 16000, "year", settings.stripe_price_pro_yearly),
    ]
