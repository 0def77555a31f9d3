"""Settings fail closed: nothing a development stack relies on is live unless asked for."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from servicekit.auth import mint_dev_token
from servicekit.settings import ServiceSettings


@pytest.fixture
def bare_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ENVIRONMENT or secrets in the process, as on an operator's fresh machine."""
    for name in ("ENVIRONMENT", "JWT_SECRET", "JWT_ALGORITHM", "JWKS_URL", "STRIPE_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("bare_environment")
def test_unset_environment_is_production_and_refuses_hs256() -> None:
    with pytest.raises(ValidationError, match="production requires RS256/ES256"):
        ServiceSettings()


@pytest.mark.usefixtures("bare_environment")
def test_production_with_jwks_is_accepted() -> None:
    settings = ServiceSettings(jwt_algorithm="RS256", jwks_url="https://idp.example/jwks")
    assert settings.environment == "production"
    with pytest.raises(RuntimeError, match="development tokens"):
        mint_dev_token(settings, "mallory")


@pytest.mark.usefixtures("bare_environment")
@pytest.mark.parametrize("environment", ["development", "test"])
def test_development_has_no_built_in_secret(environment: str) -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        ServiceSettings(environment=environment)


@pytest.mark.usefixtures("bare_environment")
def test_short_development_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        ServiceSettings(environment="development", jwt_secret=SecretStr("short"))


@pytest.mark.usefixtures("bare_environment")
def test_development_secret_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "development")
    monkeypatch.setenv("JWT_SECRET", "x" * 40)
    settings = ServiceSettings()
    assert settings.jwt_secret is not None
    assert settings.jwt_secret.get_secret_value() == "x" * 40
