"""Billing has no built-in webhook secret: a published one would let anyone sign events."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from billing.settings import BillingSettings


def test_webhook_secret_is_required_in_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    with pytest.raises(ValidationError, match="STRIPE_WEBHOOK_SECRET"):
        BillingSettings(environment="development", jwt_secret=SecretStr("j" * 40))


def test_local_provider_is_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    with pytest.raises(ValidationError, match="STRIPE_SECRET_KEY"):
        BillingSettings(
            jwt_algorithm="RS256", jwks_url="https://idp.example/jwks", stripe_webhook_secret=SecretStr("whsec_x")
        )


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_stripe_key_is_no_key(blank: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`STRIPE_SECRET_KEY=` (a template's empty line) counted as a key: production started with
    the Stripe provider and an empty key, failing every call at runtime instead of refusing to
    start, and development left its local provider for a Stripe that rejects every request."""
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    with pytest.raises(ValidationError, match="STRIPE_SECRET_KEY"):
        BillingSettings(
            jwt_algorithm="RS256",
            jwks_url="https://idp.example/jwks",
            stripe_secret_key=SecretStr(blank),
            stripe_webhook_secret=SecretStr("whsec_x"),
            system_database_url="postgresql://billing_system@db/journey",
        )
    development = BillingSettings(
        environment="development",
        jwt_secret=SecretStr("j" * 40),
        stripe_secret_key=SecretStr(blank),
        stripe_webhook_secret=SecretStr("whsec_x"),
    )
    assert not development.uses_stripe


def test_a_blank_webhook_secret_is_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK treats a whitespace-only secret as missing and refuses every delivery."""
    with pytest.raises(ValidationError, match="STRIPE_WEBHOOK_SECRET"):
        BillingSettings(
            environment="development", jwt_secret=SecretStr("j" * 40), stripe_webhook_secret=SecretStr("  ")
        )
