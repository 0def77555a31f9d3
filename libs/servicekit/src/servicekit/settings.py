"""Settings base shared by every service: env vars (and `.env`) only."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "journey-development-secret-change-me-0123456789"


class ServiceSettings(BaseSettings):
    """Common settings; a service subclasses it and sets `service_name`."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    service_name: str = "service"
    environment: Literal["development", "test", "production"] = "development"
    log_level: str = "INFO"

    # Application role (API) and worker role connections; both are subject to RLS.
    database_url: str = "postgresql://localhost/journey"
    worker_database_url: str | None = None
    system_database_url: str | None = None  # only services with cross-user system jobs
    db_pool_size: int = 10

    nats_url: str = "nats://127.0.0.1:4222"
    consumer_watchdog_seconds: float = 15.0

    jwt_issuer: str = "journey-dev"
    jwt_audience: str = "journey"
    jwt_algorithm: Literal["HS256", "RS256", "ES256"] = "HS256"
    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    jwks_url: str | None = None

    max_body_bytes: int = 1_048_576

    ai_provider: Literal["offline", "openai"] = "offline"
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    ai_timeout_seconds: float = 30.0
    ai_max_attempts: int = 3
    ai_daily_budget: int = 20

    @model_validator(mode="after")
    def _refuse_dev_secrets_in_production(self) -> ServiceSettings:
        if self.environment == "production":
            if self.jwt_algorithm == "HS256" or not self.jwks_url:
                raise ValueError("production requires RS256/ES256 tokens verified through JWKS_URL")
        return self

    @property
    def worker_dsn(self) -> str:
        return self.worker_database_url or self.database_url
