"""A 401 says `invalid_token` and nothing about which check failed; the reason goes to the log."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import jwt
import pytest
from fastapi import APIRouter
from pydantic import SecretStr

from servicekit.app import create_app
from servicekit.auth import CurrentPrincipal
from servicekit.settings import ServiceSettings
from servicekit.testing import app_client

SECRET = "s" * 40
router = APIRouter()


@router.get("/me")
async def me(principal: CurrentPrincipal) -> dict[str, str]:
    return {"user_id": str(principal.user_id)}


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    settings = ServiceSettings(service_name="authz", environment="test", jwt_secret=SecretStr(SECRET))
    async with app_client(create_app(settings, [router])) as c:
        yield c


def _claims(**extra: object) -> dict[str, object]:
    now = int(time.time())
    return {
        "sub": "6f1c2d7e-5a8b-4c3d-9e0f-1a2b3c4d5e6f",
        "iss": "journey-dev",
        "aud": "journey",
        "exp": now + 60,
    } | extra


@pytest.mark.parametrize(
    "token",
    [
        jwt.encode(_claims(), "another-secret-of-enough-length-000000", algorithm="HS256"),  # signature
        jwt.encode(_claims(), SECRET, algorithm="HS512"),  # algorithm not allowed
        jwt.encode(_claims(exp=1), SECRET, algorithm="HS256"),  # expired
        jwt.encode(_claims(aud="elsewhere"), SECRET, algorithm="HS256"),  # audience
        "not.a.jwt",
    ],
)
async def test_every_rejection_reads_the_same(client: httpx.AsyncClient, token: str) -> None:
    response = await client.get("/api/v1/authz/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "invalid_token: the bearer token is not valid"
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_a_good_token_passes(client: httpx.AsyncClient) -> None:
    token = jwt.encode(_claims(), SECRET, algorithm="HS256")
    response = await client.get("/api/v1/authz/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


async def test_an_oversized_token_is_refused_before_it_is_decoded(client: httpx.AsyncClient) -> None:
    token = jwt.encode(_claims(padding="x" * 10_000), SECRET, algorithm="HS256")  # well signed, but absurd
    response = await client.get("/api/v1/authz/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["detail"] == "invalid_token: the bearer token is not valid"
