from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from billing.payments.local_provider import LocalProvider
from billing.payments.provider import PaymentProvider
from billing.payments.stripe_provider import StripeProvider
from billing.settings import BillingSettings


def build_payment_provider(settings: BillingSettings, engine: AsyncEngine) -> PaymentProvider:
    """Stripe when a secret key is configured; the local provider otherwise (never in production),
    keeping its records with `engine` (the API's or the worker's)."""
    return StripeProvider(settings) if settings.uses_stripe else LocalProvider(settings, engine)
