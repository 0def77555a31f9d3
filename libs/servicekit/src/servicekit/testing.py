"""Test helpers shared by every service's tests (servers come from the root conftest)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TypeVar

import httpx
from fastapi import FastAPI

from servicekit.auth import dev_user_id, mint_dev_token
from servicekit.events.consumer import Subscription
from servicekit.settings import ServiceSettings
from servicekit.worker import Worker

T = TypeVar("T")


@asynccontextmanager
async def app_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on the ASGI app with its lifespan running (engine opened and closed)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@asynccontextmanager
async def running_worker(
    settings: ServiceSettings, schema: str, subscriptions: Sequence[Subscription]
) -> AsyncIterator[Worker]:
    """A service's worker in the test's event loop: relay and consumers against real NATS."""
    worker = Worker(settings, schema, subscriptions)
    await worker.start()
    try:
        yield worker
    finally:
        await worker.stop()


class Users:
    """Fresh user names per test, so tests never see each other's rows."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings

    def new(self, label: str = "user") -> str:
        return f"{label}-{uuid.uuid4().hex[:10]}"

    def headers(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint_dev_token(self.settings, name)}"}

    def id(self, name: str) -> uuid.UUID:
        return dev_user_id(name)


async def eventually(check: Callable[[], Awaitable[T | None]], *, within: float = 10.0, interval: float = 0.1) -> T:
    """Poll `check` until it returns something truthy; fail with the last value otherwise."""
    deadline = time.monotonic() + within
    last: T | None = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {within}s (last value: {last!r})")
