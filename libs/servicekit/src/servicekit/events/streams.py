"""JetStream connection and the one stream per producing service."""

from __future__ import annotations

from collections.abc import Callable

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from servicekit.logging import get_logger

log = get_logger(__name__)

DUPLICATE_WINDOW_SECONDS = 15 * 60


def stream_name(service: str) -> str:
    return service.upper()


def service_of_stream(stream: str) -> str:
    return stream.lower()


def stream_subjects(service: str) -> list[str]:
    return [f"journey.{service}.>"]


async def connect(url: str, name: str, *, on_reconnected: Callable[[], None] | None = None) -> NATS:
    """Connect once; afterwards nats-py reconnects forever on its own. `on_reconnected` runs
    each time the broker is back (the worker wakes its relay with it)."""

    client: NATS | None = None

    async def _disconnected() -> None:
        # nats-py calls this on our own close() too: only a lost broker is worth a warning.
        if client is None or not client.is_closed:
            log.warning("nats_disconnected")

    async def _error(exc: Exception) -> None:
        # nats-py's default logs a traceback per failed reconnect attempt (two a second).
        log.warning("nats_error", error=repr(exc))

    async def _reconnected() -> None:
        log.info("nats_reconnected")
        if on_reconnected is not None:
            on_reconnected()

    client = await nats.connect(
        url,
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=2,
        error_cb=_error,
        disconnected_cb=_disconnected,
        reconnected_cb=_reconnected,
    )
    return client


async def ensure_stream(js: JetStreamContext, service: str, *, replicas: int = 1) -> None:
    """Create or update the service's stream: file storage, no age limit (replayable), `replicas`
    copies in a cluster (consumers inherit the stream's replica count)."""
    config = StreamConfig(
        name=stream_name(service),
        subjects=stream_subjects(service),
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=0,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        num_replicas=replicas,
    )
    try:
        await js.stream_info(config.name or "")
        await js.update_stream(config)
    except NotFoundError:
        await js.add_stream(config)
