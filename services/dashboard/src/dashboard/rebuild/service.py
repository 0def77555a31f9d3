"""`python -m dashboard rebuild`: replay every stream from the start into a fresh generation of
facts while the live one keeps serving, then switch over atomically.

1. Under an advisory lock (one rebuild at a time), a new generation is registered as
   `building`: from that commit on, every consumer writes it as well as the live one.
2. Each stream's last sequence is read *after* that commit (the high-water mark). Every event up
   to it is replayed into the new generation in batches; every event after it reaches a consumer
   after step 1, so the consumers write it. Reducers are idempotent and order-independent, so an
   event both replayed and written by a consumer counts once.
3. One transaction: the new generation becomes live, every user's snapshot is rendered from it
   (a new version only where the content differs), the old generation's facts are deleted.

A run that dies leaves a `building` generation that the next run discards; a second run over
the same streams changes no snapshot."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pydantic import ValidationError

from contracts.payload import EventPayload
from dashboard.facts.reducers import REDUCERS, reduce
from dashboard.facts.service import meta_of
from dashboard.facts.state import UserFacts
from dashboard.rebuild import repository
from dashboard.refresh.scheduler import announce
from dashboard.settings import DashboardSettings
from dashboard.snapshot.service import Written, write_snapshots
from servicekit.db import create_engine, libpq_url, user_transaction
from servicekit.events.envelope import Event
from servicekit.events.streams import connect, stream_name
from servicekit.logging import get_logger

log = get_logger(__name__)
FETCH = 1000
FLUSH_EVENTS = 20_000
SWITCH_BATCH = 500


@dataclass
class RebuildReport:
    generation: int = 0
    events: int = 0
    skipped: int = 0
    users: int = 0
    snapshots_changed: int = 0
    seconds: float = 0.0
    high_water: dict[str, int] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=lambda: {"read": 0.0, "fold": 0.0, "store": 0.0, "switch": 0.0})

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        return (
            f"rebuilt generation {self.generation}: {self.events} events from {len(self.high_water)} streams "
            f"({self.skipped} not for the dashboard) for {self.users} users in {self.seconds:.1f} s "
            f"({self.events_per_second:,.0f} events/s); {self.snapshots_changed} snapshots changed; "
            + "seconds: "
            + ", ".join(f"{name} {spent:.1f}" for name, spent in self.phases.items())
        )


class RebuildRunning(Exception):
    pass


PAYLOADS: dict[str, type[EventPayload]] = {p.SUBJECT: p for p, r in REDUCERS.items() if r.reducer is not None}


def streams() -> list[str]:
    return sorted({stream_name(payload.service()) for payload in REDUCERS})


async def _high_water(js: JetStreamContext) -> dict[str, int]:
    marks = {}
    for stream in streams():
        try:
            marks[stream] = int((await js.stream_info(stream)).state.last_seq)
        except Exception:  # a stream no producer has created yet holds nothing
            marks[stream] = 0
    return marks


async def _replay(js: JetStreamContext, stream: str, high_water: int, fold: Any, phases: dict[str, float]) -> None:
    """Every message of `stream` up to `high_water`, in order, handed to `fold` in batches."""
    if high_water == 0:
        return
    config = ConsumerConfig(
        ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, inactive_threshold=60.0, max_ack_pending=-1
    )
    psub = await js.pull_subscribe(f"journey.{stream.lower()}.>", durable=None, stream=stream, config=config)
    try:
        seen = 0
        while seen < high_water:
            started = time.monotonic()
            msgs = await psub.fetch(FETCH, timeout=5)
            phases["read"] += time.monotonic() - started
            batch = []
            for msg in msgs:
                seq = msg.metadata.sequence.stream
                seen = max(seen, seq)
                if seq <= high_water:
                    batch.append(msg.data)
            await fold(batch)
    finally:
        await psub.unsubscribe()


class Rebuild:
    def __init__(self, settings: DashboardSettings) -> None:
        self.settings = settings
        self.dsn = settings.system_database_url or settings.worker_dsn
        self.engine = create_engine(self.dsn, pool_size=2)
        self.report = RebuildReport()
        self.pending: dict[uuid.UUID, list[tuple[EventPayload, Event]]] = defaultdict(list)
        self.pending_count = 0

    async def _fold_batch(self, raw: list[bytes]) -> None:
        started = time.monotonic()
        for data in raw:
            try:
                event = Event.model_validate_json(data)
                payload_class = PAYLOADS.get(event.type)
                user_id = event.user_id()
                if payload_class is None or user_id is None:
                    self.report.skipped += 1
                    continue
                payload = payload_class.model_validate(event.data)
            except ValidationError as exc:
                log.warning("rebuild_unreadable_event", error=str(exc)[:200])
                self.report.skipped += 1
                continue
            self.pending[user_id].append((payload, event))
            self.pending_count += 1
            self.report.events += 1
        self.report.phases["fold"] += time.monotonic() - started
        if self.pending_count >= FLUSH_EVENTS:
            await self._flush()

    async def _flush(self) -> None:
        """Fold the held events into the new generation: one transaction, one row per user."""
        if not self.pending:
            return
        started = time.monotonic()
        users = sorted(self.pending, key=str)
        async with user_transaction(self.engine, None) as db:
            await repository.lock_users(db, users)  # as the consumers do: a concurrent first row is not lost
            stored = await repository.load_for_update(db, self.report.generation, users)
            states = {}
            for user_id in users:
                raw = stored.get(user_id)
                facts = UserFacts.model_validate(raw) if raw else UserFacts.empty(user_id)
                for payload, event in self.pending[user_id]:
                    facts = reduce(facts, payload, meta_of(event))
                states[user_id] = facts.model_dump(mode="json")
            await repository.store_many(db, self.report.generation, states)
        self.pending.clear()
        self.pending_count = 0
        self.report.phases["store"] += time.monotonic() - started

    async def _switch(self) -> list[Written]:
        started = time.monotonic()
        generation = self.report.generation
        written: list[Written] = []
        async with user_transaction(self.engine, None) as db:
            await repository.lock_projection(db)
            users = await repository.users_of(db, generation)
            now = datetime.now(UTC)
            for start in range(0, len(users), SWITCH_BATCH):
                written += await write_snapshots(db, generation, users[start : start + SWITCH_BATCH], now)
            await repository.switch(db, generation)
        self.report.users = len(users)
        self.report.snapshots_changed = len(written)
        self.report.phases["switch"] = time.monotonic() - started
        return written

    async def run(self) -> RebuildReport:
        started = time.monotonic()
        async with await psycopg.AsyncConnection.connect(libpq_url(self.dsn), autocommit=True) as lock:
            held = await (await lock.execute("SELECT pg_try_advisory_lock(hashtext('dashboard-rebuild'))")).fetchone()
            if not held or not held[0]:
                raise RebuildRunning("another rebuild is running")
            nc = await connect(self.settings.nats_url, "dashboard-rebuild")
            try:
                async with user_transaction(self.engine, None) as db:
                    live, abandoned = await repository.lock_projection(db)
                    self.report.generation = max(live, abandoned or 0) + 1
                    await repository.begin_generation(db, self.report.generation, abandoned)
                js = nc.jetstream()
                self.report.high_water = await _high_water(js)
                for stream, high_water in self.report.high_water.items():
                    await _replay(js, stream, high_water, self._fold_batch, self.report.phases)
                await self._flush()
                written = await self._switch()
                await announce(nc, written)
            finally:
                await nc.close()
                await self.engine.dispose()
        self.report.seconds = time.monotonic() - started
        return self.report


async def rebuild(settings: DashboardSettings) -> RebuildReport:
    return await Rebuild(settings).run()


def rebuild_command(settings: DashboardSettings) -> int:
    """`python -m dashboard rebuild`."""
    try:
        report = asyncio.run(rebuild(settings))
    except RebuildRunning as exc:
        print(f"not rebuilt: {exc}")
        return 1
    print(report.summary())
    return 0
