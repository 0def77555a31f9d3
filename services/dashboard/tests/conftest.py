from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import nats
import pytest

from contracts.payload import EventPayload
from dashboard.main import service
from dashboard.refresh.scheduler import RefreshScheduler
from dashboard.testing import envelope
from servicekit.events.envelope import Event
from servicekit.events.streams import ensure_stream, stream_name
from servicekit.testing import service_fixtures

fixtures = service_fixtures(service)
settings, client, worker, users = fixtures.settings, fixtures.client, fixtures.worker, fixtures.users


@pytest.fixture(scope="session")
def settings_overrides() -> dict[str, Any]:
    return {"sse_heartbeat_seconds": 0.5, "refresh_interval_seconds": 2.0, "lag_interval_seconds": 0.2}


Publish = Callable[..., Awaitable[Event]]


@pytest.fixture(scope="session")
async def publish(infra: Any) -> Any:
    """Publish an event to its producer's stream, as that producer's relay would."""
    nc = await nats.connect(infra.nats_url)
    js = nc.jetstream()
    for producer in ("profiler", "billing", "missions", "coaching"):
        await ensure_stream(js, producer)

    async def _publish(
        payload: EventPayload | None,
        user_id: uuid.UUID,
        *,
        event: Event | None = None,
        msg_id: str | None = None,
        payload_service: str | None = None,
        **kw: Any,
    ) -> Event:
        if event is None:
            assert payload is not None
            event = envelope(payload, user_id, **kw)
        producer = payload_service or (payload.service() if payload else event.source)
        await js.publish(
            event.type,
            event.model_dump_json().encode(),
            stream=stream_name(producer),
            headers={"Nats-Msg-Id": msg_id or str(event.id)},
        )
        return event

    yield _publish
    await nc.close()


@pytest.fixture(scope="session")
async def scheduler(settings: Any, worker: Any) -> Any:
    """The refresh scheduler as the worker runs it (a background job), in the test's loop."""
    import asyncio

    running = RefreshScheduler(settings)
    task = asyncio.create_task(running.run())
    yield running
    task.cancel()


@pytest.fixture(scope="session")
async def live_server(settings: Any) -> Any:
    """The API on a real port (streams need a real server: the ASGI test transport buffers)."""
    import asyncio

    import uvicorn

    from journey_local.procs import free_port

    app = service.app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event for it)
        await asyncio.sleep(0.05)
    yield app, f"http://127.0.0.1:{port}"
    app.state.draining.set()
    server.should_exit = True
    await asyncio.wait_for(task, 10)
