"""Billing's Prometheus metrics (servicekit.metrics): Stripe events in and applied."""

from __future__ import annotations

from servicekit.metrics import SLOW_BUCKETS, counter, histogram

STRIPE_RECEIVED = counter(
    "journey_stripe_events_received",
    "Verified Stripe events received (webhook or the local provider); repeat=true when already stored",
    ("type", "repeat"),
)
STRIPE_APPLIED = counter("journey_stripe_events_applied", "Stored Stripe events applied by the worker", ("type",))
STRIPE_FAILED = counter(
    "journey_stripe_events_failed", "Failed attempts to apply a stored Stripe event (retried, then dead-lettered)"
)
STRIPE_LAG = histogram(
    "journey_stripe_event_lag_seconds", "From the event's `created` at Stripe to its application here", (), SLOW_BUCKETS
)
