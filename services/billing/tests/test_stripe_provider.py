from __future__ import annotations

import uuid

import pytest
from pydantic import SecretStr

from billing.payments.stripe_provider import PaymentProviderUnavailable, StripeProvider
from billing.settings import BillingSettings
from journey_local.procs import free_port


async def test_an_unreachable_stripe_is_a_503_problem_not_a_500() -> None:
    settings = BillingSettings(
        stripe_secret_key=SecretStr("sk_test_x"),
        stripe_api_base=f"http://127.0.0.1:{free_port()}",
        stripe_timeout_seconds=1.0,
    )
    provider = StripeProvider(settings)
    with pytest.raises(PaymentProviderUnavailable) as caught:
        await provider.create_customer(uuid.uuid4())
    assert caught.value.status == 503
    assert caught.value.headers == {"Retry-After": "5"}


def test_production_refuses_the_local_provider_and_missing_secrets() -> None:
    with pytest.raises(ValueError, match="STRIPE_SECRET_KEY"):
        BillingSettings(environment="production", jwt_algorithm="RS256", jwks_url="https://idp.example/jwks")
    with pytest.raises(ValueError, match="STRIPE_WEBHOOK_SECRET"):
        BillingSettings(
            environment="production",
            jwt_algorithm="RS256",
            jwks_url="https://idp.example/jwks",
            stripe_secret_key=SecretStr("sk_live_x"),
            stripe_webhook_secret=SecretStr(""),  # as when STRIPE_WEBHOOK_SECRET is unset
        )
