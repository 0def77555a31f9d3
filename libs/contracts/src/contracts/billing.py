"""Billing events (the catalogue in docs/events.md is generated from these classes)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from contracts.payload import EventPayload

TierName = Literal["free", "plus", "pro"]


class TierChanged(EventPayload):
    """A user's effective tier changed; every service keeps a tier cache from these."""

    SUBJECT = "journey.billing.tier.changed"

    previous_tier: TierName
    new_tier: TierName
    reason: str
    effective_at: datetime
    plan_id: str | None = None
    subscription_status: str | None = None


class StripeEventReceived(EventPayload):
    """The webhook stored Stripe event `stripe_event_id`; the billing worker applies it."""

    SUBJECT = "journey.billing.stripe_event.received"

    stripe_event_id: str
    type: str


# Subjects as constants, for call sites not yet on emit()/on().
TIER_CHANGED = TierChanged.SUBJECT
STRIPE_EVENT_RECEIVED = StripeEventReceived.SUBJECT
