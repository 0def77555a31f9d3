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
