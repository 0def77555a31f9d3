"""Billing events (see docs/events.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

TIER_CHANGED = "journey.billing.tier.changed"
STRIPE_EVENT_RECEIVED = "journey.billing.stripe_event.received"

TierName = Literal["free", "plus", "pro"]


class TierChanged(BaseModel):
    previous_tier: TierName
    new_tier: TierName
    reason: str
    effective_at: datetime
    plan_id: str | None = None
    subscription_status: str | None = None


class StripeEventReceived(BaseModel):
    """The webhook stored Stripe event `stripe_event_id`; the billing worker applies it."""

    stripe_event_id: str
    type: str
