"""The web app's settings: environment variables only, failing closed like the services'.

Unset ENVIRONMENT means production, and production needs OpenID Connect, a session secret and
an HTTPS public URL (so the session cookie is Secure); the name-picking development sign-in
exists only with ENVIRONMENT=development or test and the stack's JWT secret."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from servicekit.settings import MIN_SECRET_LENGTH


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "production"
    log_level: str = "INFO"
    # Where the APIs are: the gateway. The app is a client of /api/v1/... like any other.
    gateway_url: str = "http://127.0.0.1:8080"
    # What the browser sees (cookies are Secure when it is https).
    public_base_url: str = "http://127.0.0.1:8080"
    # Encrypts the session cookie, which holds the student's bearer token (Fernet).
    web_session_secret: SecretStr | None = None
    session_max_age_seconds: int = 12 * 3600

    # Development sign-in: tokens signed like `make token` does (development and test only).
    jwt_secret: SecretStr | None = None
    jwt_issuer: str = "journey-dev"
    jwt_audience: str = "journey"

    # Production sign-in: OpenID Connect authorization code with PKCE.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_scope: str = "openid profile email"

    # A submission's files and text as the browser sends them; missions caps each part itself.
    max_upload_bytes: int = 16 * 1024 * 1024
    api_timeout_seconds: float = 15.0

    @model_validator(mode="after")
    def _fail_closed(self) -> WebSettings:
        secret = self.web_session_secret.get_secret_value() if self.web_session_secret else ""
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"WEB_SESSION_SECRET of at least {MIN_SECRET_LENGTH} characters is required")
        if self.environment == "production":
            if not (self.oidc_issuer and self.oidc_client_id):
                raise ValueError("production signs in through OpenID Connect: set OIDC_ISSUER and OIDC_CLIENT_ID")
            if not self.public_base_url.startswith("https://"):
                raise ValueError("production serves the app over HTTPS: PUBLIC_BASE_URL must start with https://")
        return self

    @property
    def dev_sign_in(self) -> bool:
        """The name-picking sign-in: never in production, and only with the stack's secret."""
        return self.environment != "production" and self.jwt_secret is not None

    @property
    def secure_cookies(self) -> bool:
        return self.public_base_url.startswith("https://")
