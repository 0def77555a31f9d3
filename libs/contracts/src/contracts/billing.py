"""Billing events (the catalogue in docs/events.md is generated from these classes)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from contracts.payload import EventPayload

TierName = Literal["free", "plus", "pro"]


class TierChanged(EventPayload):
    """Emitted whenever a user's effective tier changes, and only then: by
    `billing.subscriptions.service.recompute_tier`, in the transaction that updates
    `billing.user_tiers`, when the worker applies a Stripe event, on cancel/resume, and from
    the scheduled tier check (period end, grace period). A per-user advisory lock makes each
    change produce exactly one event. Every service keeps a tier cache from these."""

    SUBJECT = "journey.billing.tier.changed"

    previous_tier: TierName = Field(description="The tier held before (`free` if none was recorded).")
    new_tier: TierName = Field(description="The new effective tier.")
    reason: str = Field(
        description="Why, from `tier_rules.py`: e.g. `subscription active`, `canceled at period end`, "
        "`past due beyond grace period`."
    )
    effective_at: datetime = Field(description="When billing computed the change; tier caches order changes by it.")
    plan_id: str | None = Field(default=None, description="The plan that grants a paid `new_tier`; null for free.")
    subscription_status: str | None = Field(
        default=None, description="Status of the subscription whose plan has `new_tier`; null when none does."
    )


class StripeEventReceived(EventPayload):
    """Emitted when a Stripe event is stored for the first time in `billing.stripe_events`: by
    the verified webhook, or by the local payment provider, which hands its Stripe-shaped events
    to the same intake. A duplicate delivery emits nothing. The subject is the user named by the
    Stripe object's metadata, or `system` (invoices name no user). The payload stays in
    `billing.stripe_events`; the event only points at it."""

    SUBJECT = "journey.billing.stripe_event.received"

    stripe_event_id: str = Field(description="The stored event's id (`evt_...`).")
    type: str = Field(description="The Stripe event type, e.g. `customer.subscription.updated`.")
