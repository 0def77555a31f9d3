from __future__ import annotations

from pydantic import SecretStr, field_validator, model_validator

from servicekit.settings import ServiceSettings


class BillingSettings(ServiceSettings):
    service_name: str = "billing"

    # Without a secret key billing runs the local payment provider (refused in production).
    stripe_secret_key: SecretStr | None = None
    # Required everywhere: a published development secret would let anyone sign webhooks.
    stripe_webhook_secret: SecretStr = SecretStr("")
    stripe_api_base: str | None = None  # tests point the SDK at a local server
    stripe_webhook_tolerance_seconds: int = 300
    stripe_timeout_seconds: float = 10.0

    stripe_price_plus_monthly: str = "price_journey_plus_monthly"
    stripe_price_plus_yearly: str = "price_journey_plus_yearly"
    stripe_price_pro_monthly: str = "price_journey_pro_monthly"
    stripe_price_pro_yearly: str = "price_journey_pro_yearly"

    public_base_url: str = "http://127.0.0.1:8080"
    # The local provider's capability URLs live as long as Stripe's shortest hosted sessions.
    local_checkout_ttl_seconds: int = 30 * 60
    local_portal_ttl_seconds: int = 5 * 60
    past_due_grace_seconds: int = 7 * 24 * 3600
    tier_check_interval_seconds: float = 60.0
    # Short: in-progress heartbeats keep an event in hand alive, so this only bounds a crash's delay.
    stripe_apply_ack_wait_seconds: float = 10.0

    @field_validator("stripe_secret_key", mode="after")
    @classmethod
    def _blank_key_is_no_key(cls, value: SecretStr | None) -> SecretStr | None:
        # `STRIPE_SECRET_KEY=` in an env file means "no key", not "Stripe with an empty key".
        return value if value is not None and value.get_secret_value().strip() else None

    @property
    def uses_stripe(self) -> bool:
        return self.stripe_secret_key is not None

    @model_validator(mode="after")
    def _no_local_payments_in_production(self) -> BillingSettings:
        if not self.stripe_webhook_secret.get_secret_value().strip():
            raise ValueError("billing needs STRIPE_WEBHOOK_SECRET (`make run` generates a development one)")
        if self.environment == "production":
            if not self.uses_stripe:
                raise ValueError("production billing needs STRIPE_SECRET_KEY; the local provider is for development")
            if not self.system_database_url:
                raise ValueError("production billing needs SYSTEM_DATABASE_URL for period-end downgrades")
        return self
