from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
import psycopg
import pytest

from coaching.main import service
from entitlements.testing import set_tier_fixture
from servicekit.testing import service_fixtures

fixtures = service_fixtures(service)
settings, client, worker, users = fixtures.settings, fixtures.client, fixtures.worker, fixtures.users

C = "/api/v1/coaching"


set_tier = set_tier_fixture("coaching")


@pytest.fixture(scope="session")
def admin_sql(infra: Any) -> Callable[..., list[tuple[Any, ...]]]:
    def _sql(query: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(infra.admin_dsn, autocommit=True) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    return _sql


class Coach:
    """A student driving the API: habits, check-ins, goals, reflections."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers
        self.user_id: uuid.UUID | None = None

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.request(
            method, f"{C}{path}", headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs
        )

    async def habit(self, **fields: Any) -> dict[str, Any]:
        response = await self.call("POST", "/habits", json={"name": "Stretch", **fields})
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def log(self, habit_id: str, day: date, **body: Any) -> httpx.Response:
        return await self.call("PUT", f"/habits/{habit_id}/logs/{day.isoformat()}", json=body or None)

    async def stats(self, habit_id: str) -> dict[str, Any]:
        response = await self.call("GET", f"/habits/{habit_id}/stats")
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def goal(self, **fields: Any) -> dict[str, Any]:
        response = await self.call("POST", "/goals", json=fields)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def today(self) -> date:
        return date.fromisoformat((await self.call("GET", "/profile")).json()["local_date"])


@pytest.fixture
def coach(client: httpx.AsyncClient, users: Any, set_tier: Callable[[uuid.UUID, str], None]) -> Callable[..., Coach]:
    """A new student (on `tier`, free by default)."""

    def _new(label: str = "student", tier: str | None = None) -> Coach:
        name = users.new(label)
        if tier is not None:
            set_tier(users.id(name), tier)
        student = Coach(client, users.headers(name))
        student.user_id = users.id(name)
        return student

    return _new


def days_back(today: date, n: int) -> date:
    return today - timedelta(days=n)


@pytest.fixture(scope="session")
async def publish(infra: Any) -> Any:
    """Publish an event to its producer's stream, as that producer's relay would."""
    import nats

    from contracts.payload import EventPayload
    from servicekit.events import new_event
    from servicekit.events.streams import ensure_stream, stream_name

    nc = await nats.connect(infra.nats_url)
    js = nc.jetstream()
    await ensure_stream(js, "profiler")

    async def _publish(payload: EventPayload, user_id: uuid.UUID) -> None:
        event = new_event(
            payload.SUBJECT, user_id=user_id, data=payload.model_dump(mode="json"), version=payload.VERSION
        )
        await js.publish(
            event.type,
            event.model_dump_json().encode(),
            stream=stream_name(payload.service()),
            headers={"Nats-Msg-Id": str(event.id)},
        )

    yield _publish
    await nc.close()
