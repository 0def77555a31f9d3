from __future__ import annotations

from billing.payments.local_provider import LocalProvider
from billing.payments.provider import PaymentProvider
from billing.payments.stripe_provider import StripeProvider
from billing.settings import BillingSettings


def build_payment_provider(settings: BillingSettings) -> PaymentProvider:
    """Stripe when a secret key is configured; the local provider otherwise (never in production)."""
    return StripeProvider(settings) if settings.uses_stripe else LocalProvider(settings)
