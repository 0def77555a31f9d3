"""Settings base shared by every service: env vars (and `.env`) only."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_SECRET_LENGTH = 32


class ServiceSettings(BaseSettings):
    """Common settings; a service subclasses it and sets `service_name`."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    service_name: str = "service"
    # Unset means production: development shortcuts (HS256 tokens, the local payment provider,
    # open API docs) must be asked for, never fallen into.
    environment: Literal["development", "test", "production"] = "production"
    log_level: str = "INFO"

    # Application role (API) and worker role connections; both are subject to RLS.
    database_url: str = "postgresql://localhost/journey"
    worker_database_url: str | None = None
    system_database_url: str | None = None  # only services with cross-user system jobs
    db_pool_size: int = 10

    nats_url: str = "nats://127.0.0.1:4222"

    # Prometheus metrics of the API and of the worker process, each on a port of its own that the
    # gateway never routes (servicekit.metrics); unset, the process serves none.
    metrics_port: int | None = None
    worker_metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    consumer_watchdog_seconds: float = 15.0
    # Copies of each stream (and of its consumers) the JetStream cluster keeps: 1 for a single
    # server, 3 for a 3-node cluster (deploy/k8s prod), so a node lost loses no acknowledged event.
    jetstream_replicas: int = Field(default=1, ge=1, le=5)
    # The worker touches this file every few seconds from its event loop; the container
    # healthcheck (`python -m servicekit.healthcheck`) calls a worker whose file went stale stuck.
    worker_heartbeat_file: Path | None = None
    worker_heartbeat_seconds: float = Field(default=5.0, gt=0)

    jwt_issuer: str = "journey-dev"
    jwt_audience: str = "journey"
    jwt_algorithm: Literal["HS256", "RS256", "ES256"] = "HS256"
    jwt_secret: SecretStr | None = None  # HS256 outside production only; `make run` generates one
    jwks_url: str | None = None

    max_body_bytes: int = 1_048_576
    # The OpenAPI documents and Swagger UI map the whole API for anyone: unset, they are served
    # outside production only.
    api_docs_enabled: bool | None = None

    ai_provider: Literal["offline", "openai"] = "offline"
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    ai_timeout_seconds: float = 30.0
    ai_max_attempts: int = 3
    ai_daily_budget: int = 20

    @model_validator(mode="after")
    def _fail_closed(self) -> ServiceSettings:
        if self.environment == "production":
            if self.jwt_algorithm == "HS256" or not self.jwks_url:
                raise ValueError(
                    "production requires RS256/ES256 tokens verified through JWKS_URL "
                    "(set ENVIRONMENT=development for a local stack)"
                )
        elif self.jwt_algorithm == "HS256":
            secret = self.jwt_secret.get_secret_value() if self.jwt_secret else ""
            if len(secret) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"HS256 tokens need JWT_SECRET of at least {MIN_SECRET_LENGTH} characters "
                    "(`make run` generates one in .data/dev-secrets.env)"
                )
        return self

    @property
    def serves_api_docs(self) -> bool:
        return self.environment != "production" if self.api_docs_enabled is None else self.api_docs_enabled

    @property
    def worker_dsn(self) -> str:
        return self.worker_database_url or self.database_url
