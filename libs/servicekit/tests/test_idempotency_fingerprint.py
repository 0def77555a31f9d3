"""Idempotency-Key for a handler that streams its body itself (an upload): the fingerprint it
computed while reading stands for the request, so the body is never buffered a second time."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Request

from servicekit.app import create_app
from servicekit.deps import DbSession
from servicekit.idempotency import IdempotencyKey, idempotent
from servicekit.settings import ServiceSettings
from servicekit.testing import Users, app_client

SCHEMA = "kitfingerprint"
router = APIRouter()
produced: list[str] = []


@router.post("/uploads", status_code=201)
async def upload(db: DbSession, request: Request, key: IdempotencyKey = None) -> Any:
    digest = hashlib.sha256()
    size = 0
    async for chunk in request.stream():  # read once, never held whole
        digest.update(chunk)
        size += len(chunk)
    fingerprint = hashlib.sha256(f"POST {request.url.path} {digest.hexdigest()}".encode()).hexdigest()

    async def produce() -> dict[str, Any]:
        produced.append(digest.hexdigest())
        return {"id": str(uuid.uuid4()), "size": size}

    return await idempotent(db, request, key, produce, status_code=201, fingerprint=fingerprint)


@pytest.fixture(scope="module")
def settings(scratch_settings: Callable[[str, list[str]], ServiceSettings]) -> ServiceSettings:
    return scratch_settings(SCHEMA, [])


@pytest.fixture(scope="module")
async def client(settings: ServiceSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(create_app(settings, [router])) as c:
        yield c


async def test_a_streamed_body_replays_by_its_own_fingerprint(
    client: httpx.AsyncClient, settings: ServiceSettings
) -> None:
    users = Users(settings)
    ada = users.headers(users.new("fp"))
    key = {"Idempotency-Key": f"k-{uuid.uuid4()}", "Content-Type": "application/octet-stream"}
    path = f"/api/v1/{SCHEMA}/uploads"
    produced.clear()
    first = await client.post(path, content=b"x" * 5000, headers={**ada, **key})
    again = await client.post(path, content=b"x" * 5000, headers={**ada, **key})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert len(produced) == 1
    other = await client.post(path, content=b"y" * 5000, headers={**ada, **key})
    assert other.status_code == 422
    assert len(produced) == 1
