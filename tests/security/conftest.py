"""Every service's ASGI app in-process against the session's PostgreSQL; the security matrices
walk the operations their OpenAPI documents declare (`documented_operations`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest

from journey_local.apps import app_for, documented_operations, settings_for
from journey_local.services import SERVICES, service_env
from servicekit.api_caller import Caller, Request
from servicekit.openapi_walk import Operation
from servicekit.testing import app_client, open_stream

Services = dict[str, httpx.AsyncClient]


@pytest.fixture(scope="session")
async def services(infra: Any) -> AsyncIterator[Services]:
    async with AsyncExitStack() as stack:
        clients = {}
        for spec in SERVICES:
            settings = settings_for(spec, service_env(spec, infra.admin_dsn, infra.nats_url))
            clients[spec.name] = await stack.enter_async_context(app_client(app_for(spec, settings)))
        yield clients


@pytest.fixture(scope="session")
def send(services: Services) -> Callable[[Operation, Request], Awaitable[httpx.Response]]:
    async def _send(op: Operation, request: Request) -> httpx.Response:
        client = services[op.service]
        if op.streams_events:  # an open stream never ends: take its first chunk and hang up
            transport = client._transport
            assert isinstance(transport, httpx.ASGITransport)
            return await open_stream(transport.app, request.method, request.url, request.headers)  # type: ignore[arg-type]
        return await client.request(request.method, request.url, headers=request.headers, content=request.content)

    return _send


@pytest.fixture(scope="session")
def new_caller(send: Callable[[Operation, Request], Awaitable[httpx.Response]]) -> Callable[[str], Awaitable[Caller]]:
    """A fresh user who has called every operation without path parameters once, and knows the ids."""
    operations = documented_operations()
    settings = settings_for(SERVICES[0])

    async def _new(label: str) -> Caller:
        caller = Caller(label, settings, operations)
        await caller.produce(send)
        return caller

    return _new
