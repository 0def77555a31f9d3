"""The per-process fan-out hub (the API's lifespan resource): one NATS subscription per user
with open streams, each new version put on every listener's bounded queue.

A listener whose queue is full is not given more: its queue is replaced by one `RESYNC` marker,
and its stream reads the snapshot afresh. Memory per connection is therefore bounded whatever
the client's speed. Shutdown puts `CLOSE` on every queue so each stream ends cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription as NatsSubscription

from dashboard.live.announce import LAG_SUBJECT, SNAPSHOT_SUBJECT_PREFIX, decode, snapshot_subject
from dashboard.metrics import SSE_STREAMS
from dashboard.settings import DashboardSettings
from servicekit.events.streams import connect
from servicekit.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class Version:
    version: int
    document: dict[str, Any]
    traceparent: str | None = None  # of the span that wrote it (the announcement's header), when tracing


class Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


RESYNC = Marker("RESYNC")
CLOSE = Marker("CLOSE")
Item = Version | Marker


@dataclass(eq=False)
class Listener:
    user_id: uuid.UUID
    queue: asyncio.Queue[Item]
    dropped: int = 0

    def offer(self, item: Item) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            # Too slow: drop what it has not read and tell it to read the newest afresh.
            self.dropped += 1
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(RESYNC if item is not CLOSE else CLOSE)


class StreamCapReached(Exception):
    pass


class SnapshotCache:
    """`GET /me`'s per-process cache of stored documents, validated by the versions the worker
    announces: an announcement drops the user's entry, and a read older than an announced version
    is not kept. An announcement is at most once, so entries also expire after `ttl` seconds: a
    lost one leaves a user at most `ttl` behind. Bounded (least recently stored leaves first)."""

    def __init__(self, size: int, ttl: float) -> None:
        self.size, self.ttl = size, ttl
        self.entries: OrderedDict[uuid.UUID, tuple[int, str, float]] = OrderedDict()
        self.announced: OrderedDict[uuid.UUID, int] = OrderedDict()

    def get(self, user_id: uuid.UUID) -> tuple[int, str] | None:
        entry = self.entries.get(user_id)
        if entry is None or entry[2] < time.monotonic():
            return None
        return entry[0], entry[1]

    def put(self, user_id: uuid.UUID, version: int, document: str) -> None:
        if self.ttl <= 0 or version < self.announced.get(user_id, -1):
            return
        self.entries[user_id] = (version, document, time.monotonic() + self.ttl)
        self.entries.move_to_end(user_id)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)

    def announce(self, user_id: uuid.UUID, version: int) -> None:
        self.entries.pop(user_id, None)
        self.announced[user_id] = max(version, self.announced.get(user_id, -1))
        self.announced.move_to_end(user_id)
        while len(self.announced) > self.size:
            self.announced.popitem(last=False)


@dataclass(eq=False)  # hashable by identity: the process keeps its running hubs in a set
class Hub:
    queue_size: int
    streams_per_user: int
    nc: NATS | None = None
    listeners: dict[uuid.UUID, set[Listener]] = field(default_factory=lambda: defaultdict(set))
    subscriptions: dict[uuid.UUID, NatsSubscription] = field(default_factory=dict)
    lag: dict[str, Any] = field(default_factory=dict)
    lag_json: str = "{}"  # `lag` as JSON, made once per report rather than once per `GET /me`
    closing: bool = False
    cache: SnapshotCache = field(default_factory=lambda: SnapshotCache(0, 0.0))

    async def start(self, nats_url: str) -> None:
        self.nc = await connect(nats_url, "dashboard-api")
        await self.nc.subscribe(LAG_SUBJECT, cb=self._on_lag)
        # Every version of every user, for the cache: only the subject and the version are read.
        await self.nc.subscribe(f"{SNAPSHOT_SUBJECT_PREFIX}.*", cb=self._on_any_snapshot)

    async def _on_any_snapshot(self, msg: Msg) -> None:
        try:
            user_id = uuid.UUID(msg.subject.rsplit(".", 1)[1])
            head = msg.data[:40].decode(errors="replace")  # {"version":N,"snapshot":...}
            version = int(head.split(",", 1)[0].split(":", 1)[1])
        except (ValueError, IndexError):
            return
        self.cache.announce(user_id, version)

    async def _on_lag(self, msg: Msg) -> None:
        with contextlib.suppress(ValueError):
            lag = json.loads(msg.data)
            if isinstance(lag, dict):
                self.lag, self.lag_json = lag, json.dumps(lag, separators=(",", ":"))

    def _deliver(self, user_id: uuid.UUID, item: Item) -> None:
        for listener in list(self.listeners.get(user_id, ())):
            listener.offer(item)

    async def _on_snapshot(self, msg: Msg) -> None:
        try:
            version, document = decode(msg.data)
            user_id = uuid.UUID(str(document["user_id"]))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("snapshot_announcement_unreadable", error=repr(exc))
            return
        if msg.subject != snapshot_subject(user_id):  # never hand one user's data to another
            log.warning("snapshot_announcement_misrouted", subject=msg.subject)
            return
        traceparent = (msg.headers or {}).get("traceparent")
        self._deliver(user_id, Version(version, document, traceparent))

    @asynccontextmanager
    async def listen(self, user_id: uuid.UUID) -> AsyncIterator[Listener]:
        """A listener for `user_id`'s versions; StreamCapReached over the per-user cap."""
        if len(self.listeners.get(user_id, ())) >= self.streams_per_user:
            raise StreamCapReached(user_id)
        listener = Listener(user_id, asyncio.Queue(maxsize=self.queue_size))
        self.listeners[user_id].add(listener)
        try:
            if user_id not in self.subscriptions and self.nc is not None:
                self.subscriptions[user_id] = await self.nc.subscribe(snapshot_subject(user_id), cb=self._on_snapshot)
            if self.closing:
                listener.offer(CLOSE)
            yield listener
        finally:
            mine = self.listeners.get(user_id)
            if mine is not None:
                mine.discard(listener)
                if not mine:
                    del self.listeners[user_id]
                    subscription = self.subscriptions.pop(user_id, None)
                    if subscription is not None:
                        with contextlib.suppress(Exception):
                            await subscription.unsubscribe()

    def open_streams(self, user_id: uuid.UUID) -> int:
        return len(self.listeners.get(user_id, ()))

    def streams(self) -> int:
        """Every open stream of this hub (the `journey_dashboard_sse_streams` gauge)."""
        return sum(len(listeners) for listeners in self.listeners.values())

    def close_all(self) -> None:
        """Tell every stream to end (the server is shutting down)."""
        self.closing = True
        for user_id in list(self.listeners):
            self._deliver(user_id, CLOSE)

    async def stop(self) -> None:
        self.close_all()
        if self.nc is not None:
            with contextlib.suppress(Exception):
                await self.nc.close()


# Every running hub of the process (one per app: several only in tests), read by the gauge.
_HUBS: set[Hub] = set()
SSE_STREAMS.set_function(lambda: sum(hub.streams() for hub in list(_HUBS)))


def hub_of(app: FastAPI) -> Hub:
    hub: Hub = app.state.hub
    return hub


@asynccontextmanager
async def hub_lifespan(app: FastAPI, settings: DashboardSettings) -> AsyncIterator[None]:
    """`ServiceDefinition.lifespan`: the hub lives as long as the API process."""
    hub = Hub(
        queue_size=settings.sse_queue_size,
        streams_per_user=settings.sse_streams_per_user,
        cache=SnapshotCache(settings.me_cache_size, settings.me_cache_seconds),
    )
    app.state.hub = hub
    _HUBS.add(hub)
    try:
        await hub.start(settings.nats_url)
    except Exception as exc:  # the API still serves GET /me; streams get versions once NATS is back
        log.warning("hub_nats_unavailable", error=repr(exc))
    draining = getattr(app.state, "draining", None)
    watcher = asyncio.create_task(_close_on_drain(hub, draining)) if draining is not None else None
    try:
        yield
    finally:
        if watcher is not None:
            watcher.cancel()
        await hub.stop()
        _HUBS.discard(hub)


async def _close_on_drain(hub: Hub, draining: asyncio.Event) -> None:
    await draining.wait()
    hub.close_all()
