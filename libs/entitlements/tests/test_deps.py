"""require_tier / require_feature on a small app reading a real tier cache (the profiler
schema's) under RLS, as every service does."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import psycopg
import pytest
from fastapi import APIRouter, Depends

from entitlements.deps import Entitlement, require_feature, require_tier
from entitlements.guard import quota_guard
from entitlements.quota import QuotaCheck
from servicekit.app import create_app
from servicekit.settings import ServiceSettings
from servicekit.testing import Users, app_client

router = APIRouter()


@router.get("/review")
async def review(entitlement: Annotated[Entitlement, Depends(require_feature("ai_review"))]) -> dict[str, str]:
    return {"tier": entitlement.tier}


@router.get("/priority")
async def priority(entitlement: Annotated[Entitlement, Depends(require_tier("pro"))]) -> dict[str, str]:
    return {"tier": entitlement.tier}


used_so_far: dict[str, int] = {"habits": 0}


async def count_habits(_db: Any, since: Any) -> int:
    assert since is None  # a lifetime limit counts everything
    return used_so_far["habits"]


@router.post("/habits", status_code=201)
async def add_habit(check: Annotated[QuotaCheck, Depends(quota_guard("habits", count_habits))]) -> dict[str, int]:
    return {"used": check.used}


@pytest.fixture(scope="module")
async def client(infra: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Users]]:
    settings = ServiceSettings(service_name="profiler", environment="test", database_url=infra.dsn("profiler_app"))
    async with app_client(create_app(settings, [router])) as c:
        yield c, Users(settings)


def _set_tier(infra: Any, user_id: uuid.UUID, tier: str) -> None:
    with psycopg.connect(infra.admin_dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO profiler.tier_cache (user_id, tier, changed_at, event_id) VALUES (%s, %s, now(), %s)",
            (user_id, tier, uuid.uuid4()),
        )


async def test_a_user_without_a_record_is_free_and_gets_402(client: tuple[httpx.AsyncClient, Users]) -> None:
    http, users = client
    response = await http.get("/api/v1/profiler/review", headers=users.headers(users.new()))
    assert response.status_code == 402
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["feature"], body["tier"], body["lifted_by"]) == ("ai_review", "free", "plus")


async def test_the_cached_tier_decides(client: tuple[httpx.AsyncClient, Users], infra: Any) -> None:
    http, users = client
    name = users.new()
    _set_tier(infra, users.id(name), "plus")
    headers = users.headers(name)
    assert (await http.get("/api/v1/profiler/review", headers=headers)).json() == {"tier": "plus"}
    refused = await http.get("/api/v1/profiler/priority", headers=headers)
    assert refused.status_code == 402
    assert refused.json()["lifted_by"] == "pro"
    # Another user's paid tier does not leak through the cache.
    assert (await http.get("/api/v1/profiler/review", headers=users.headers(users.new()))).status_code == 402


async def test_the_quota_guard_counts_and_names_the_tier_that_lifts_it(
    client: tuple[httpx.AsyncClient, Users], infra: Any
) -> None:
    http, users = client
    name = users.new()
    headers = users.headers(name)
    used_so_far["habits"] = 2
    assert (await http.post("/api/v1/profiler/habits", headers=headers)).json() == {"used": 2}
    used_so_far["habits"] = 3
    refused = await http.post("/api/v1/profiler/habits", headers=headers)
    assert refused.status_code == 402
    body = refused.json()
    assert (body["limit_name"], body["tier"], body["limit"], body["used"], body["lifted_by"]) == (
        "habits",
        "free",
        3,
        3,
        "plus",
    )
    _set_tier(infra, users.id(name), "plus")
    assert (await http.post("/api/v1/profiler/habits", headers=headers)).status_code == 201
