"""401 problem+json for every way a bearer token can be wrong."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from profiler.settings import ProfilerSettings
from servicekit.auth import dev_user_id

URL = "/api/v1/profiler/questions"


def _claims(settings: ProfilerSettings, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": str(dev_user_id("auth-test")),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + 300,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _hs(settings: ProfilerSettings, **overrides: Any) -> str:
    assert settings.jwt_secret is not None
    return jwt.encode(_claims(settings, **overrides), settings.jwt_secret.get_secret_value(), algorithm="HS256")


def _alg_none(settings: ProfilerSettings) -> str:
    return jwt.encode(_claims(settings), key=None, algorithm="none")  # type: ignore[arg-type]


def _rs256(settings: ProfilerSettings) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(_claims(settings), key, algorithm="RS256")


CASES: dict[str, Callable[[ProfilerSettings], str]] = {
    "expired": lambda s: _hs(s, exp=int(time.time()) - 10, iat=int(time.time()) - 100),
    "alg none": _alg_none,
    "wrong audience": lambda s: _hs(s, aud="someone-else"),
    "wrong issuer": lambda s: _hs(s, iss="evil"),
    "wrong key": lambda s: jwt.encode(_claims(s), "another-secret-of-sufficient-length-123456", algorithm="HS256"),
    "other algorithm": _rs256,
    "no exp": lambda s: _hs(s, exp=None),
    "sub not a uuid": lambda s: _hs(s, sub="root"),
    "garbage": lambda s: "not.a.jwt",
}


@pytest.mark.parametrize("case", list(CASES))
async def test_bad_tokens_are_401(case: str, client: httpx.AsyncClient, settings: ProfilerSettings) -> None:
    response = await client.get(URL, headers={"Authorization": f"Bearer {CASES[case](settings)}"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", [None, "", "Bearer", "Basic dXNlcjpwYXNz", "Token abc"])
async def test_missing_or_non_bearer_header_is_401(header: str | None, client: httpx.AsyncClient) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = await client.get(URL, headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"] == "missing bearer token"


async def test_good_token_is_accepted(client: httpx.AsyncClient, settings: ProfilerSettings) -> None:
    response = await client.get(URL, headers={"Authorization": f"Bearer {_hs(settings)}"})
    assert response.status_code == 200
