"""Verified tokens are remembered only until their own expiry, and only when they verified."""

from __future__ import annotations

import time

import jwt
import pytest
from pydantic import SecretStr

from servicekit import auth
from servicekit.auth import TokenVerifier, mint_dev_token
from servicekit.errors import Unauthorized
from servicekit.settings import ServiceSettings

SETTINGS = ServiceSettings(service_name="authcache", environment="test", jwt_secret=SecretStr("c" * 40))


def test_a_remembered_token_is_refused_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    verifier = TokenVerifier(SETTINGS)
    token = mint_dev_token(SETTINGS, "ada", ttl_seconds=60)
    first = verifier.verify(token)
    assert verifier.verify(token) is first  # the second check is the remembered one
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    monkeypatch.setattr(jwt.api_jwt, "datetime", _frozen_datetime(later))
    with pytest.raises(Unauthorized):
        verifier.verify(token)


def test_a_refused_token_is_not_remembered_and_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    verifier = TokenVerifier(SETTINGS)
    forged = mint_dev_token(SETTINGS.model_copy(update={"jwt_secret": SecretStr("x" * 40)}), "mallory")
    for _ in range(2):
        with pytest.raises(Unauthorized):
            verifier.verify(forged)
    monkeypatch.setattr(auth, "VERIFIED_CACHE_SIZE", 3)
    tokens = [mint_dev_token(SETTINGS, f"user-{i}") for i in range(5)]
    for token in tokens:
        verifier.verify(token)
    assert len(verifier._verified) == 3
    assert set(verifier._verified) == set(tokens[2:])  # the oldest went first


def _frozen_datetime(at: float) -> type:
    """PyJWT reads the clock through `datetime.now(tz=...)`."""
    import datetime as real

    class Frozen(real.datetime):
        @classmethod
        def now(cls, tz: real.tzinfo | None = None) -> real.datetime:  # type: ignore[override]
            return real.datetime.fromtimestamp(at, tz=tz)

    return Frozen
