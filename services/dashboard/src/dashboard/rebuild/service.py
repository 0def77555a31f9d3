"""`python -m dashboard rebuild`: replay every stream from the start into a fresh generation of
facts while the live one keeps serving, then switch over atomically.

1. Under an advisory lock (one rebuild at a time), a new generation is registered as
   `building`: from that commit on, every consumer writes it as well as the live one.
2. Each stream's last sequence is read *after* that commit (the high-water mark). Every event up
   to it is read (big batched pulls, parsed as it arrives) and held in memory grouped by user;
   every event after it reaches a consumer after step 1, so the consumers write it.
3. Each user's events are folded in memory and stored once, in batches of users (one statement
   per batch). A user a consumer has already written into the new generation is folded on top
   of that row, under the consumers' per-user lock. Reducers are idempotent and
   order-independent, so an event both replayed and written by a consumer counts once.
4. One transaction switches over: the new generation becomes live (one row), the users whose
   facts differ from the old generation's are queued for a snapshot at bulk priority, the old
   generation's facts are deleted. No snapshot is rendered in it, so it is short.
5. The queued snapshots are rendered through the refresh path (`refresh_due`, as the worker's
   scheduler does; both may work on them at once), a new version only where the content differs.

A run that dies leaves a `building` generation that the next run discards; a second run over
the same streams finds every user's facts unchanged and queues nothing."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from pydantic import ValidationError, create_model
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.payload import EventPayload
from dashboard.facts.reducers import REDUCERS, EventMeta, Priority, reduce
from dashboard.facts.service import meta_of
from dashboard.facts.state import UserFacts
from dashboard.rebuild import repository
from dashboard.refresh import repository as refresh_repository
from dashboard.refresh.announcer import announce
from dashboard.refresh.scheduler import refresh_due
from dashboard.settings import DashboardSettings
from servicekit.db import create_engine, libpq_url, user_transaction
from servicekit.events.envelope import Event
from servicekit.events.streams import connect, stream_name
from servicekit.logging import get_logger

log = get_logger(__name__)
FETCH = 5000  # messages the replay's subscription may hold unread
STALL_SECONDS = 10.0  # a replay that receives nothing for this long before its mark fails
# Events held in memory before they are stored (a user seen again after a store is folded on top
# of their stored row): bounds memory on very long streams.
HOLD_EVENTS = 250_000
STORE_USERS = 500  # users per store transaction (each holds its advisory lock until commit)
RENDER_BATCH = 200
# Batches stored or rendered at once: one folds or renders while the other waits on PostgreSQL.
IN_FLIGHT = 2
KEEP_FACTS = 50_000  # users whose folded facts are kept for rendering (beyond: read back)


@dataclass
class RebuildReport:
    generation: int = 0
    events: int = 0
    skipped: int = 0
    users: int = 0
    refreshes_queued: int = 0
    snapshots_changed: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process's CPU time: on a shared machine, what the run itself cost
    high_water: dict[str, int] = field(default_factory=dict)
    phases: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(("read", "parse", "fold", "store", "switch", "render"), 0.0)
    )
    # CPU seconds of the run's stages, one after the other: read (parse included), store (fold
    # included), switch, render (database and NATS time is not in them).
    stage_cpu: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(("read", "store", "switch", "render"), 0.0)
    )

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        return (
            f"rebuilt generation {self.generation}: {self.events} events from {len(self.high_water)} streams "
            f"({self.skipped} not for the dashboard) for {self.users} users in {self.seconds:.1f} s "
            f"({self.events_per_second:,.0f} events/s; {self.cpu_seconds:.1f} s CPU); "
            f"{self.refreshes_queued} users' facts changed, "
            f"{self.snapshots_changed} snapshots written by this run; seconds: "
            + ", ".join(f"{name} {spent:.1f}" for name, spent in self.phases.items())
            + "; CPU seconds: "
            + ", ".join(f"{name} {spent:.1f}" for name, spent in self.stage_cpu.items())
        )


class RebuildRunning(Exception):
    pass


PAYLOADS: dict[str, type[EventPayload]] = {p.SUBJECT: p for p, r in REDUCERS.items() if r.reducer is not None}


def _typed(payload: type[EventPayload]) -> type[Event]:
    """The envelope with `data` typed as `payload`: the message's bytes are validated once, in
    pydantic-core, the same checks as `Event` then the payload (no dict in between)."""
    return create_model(f"{payload.__name__}Event", __base__=Event, data=(payload, ...))


ENVELOPES: dict[str, type[Event]] = {subject: _typed(payload) for subject, payload in PAYLOADS.items()}


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


Held = dict[uuid.UUID, list[tuple[EventPayload, EventMeta]]]


class Rebuild:
    def __init__(self, settings: DashboardSettings) -> None:
        self.settings = settings
        self.dsn = settings.system_database_url or settings.worker_dsn
        self.engine = create_engine(self.dsn, pool_size=2)
        self.report = RebuildReport()
        self.held: Held = defaultdict(list)
        self.held_count = 0
        self.users: dict[str, uuid.UUID | None] = {}  # an envelope's subject, parsed once per user
        # Each stored user's facts as folded, with the stamp of the row written (up to KEEP_FACTS
        # users): the snapshots are rendered from these, not read and validated again.
        self.folded: dict[uuid.UUID, tuple[str, UserFacts]] = {}

    def _timed(self, phase: str, started: float) -> None:
        self.report.phases[phase] += time.monotonic() - started

    def _stage(self, stage: str, started: float) -> float:
        now = time.process_time()
        self.report.stage_cpu[stage] += now - started
        return now

    async def _replay(self, js: JetStreamContext, stream: str, high_water: int) -> None:
        """Every message of `stream` up to `high_water`, in order, parsed into `held`. An ordered
        push consumer with flow control: the server streams, the client's one reader task hands
        each message to the callback (a pull `fetch` pays a future and a task per message)."""
        if high_water == 0:
            return
        reached = asyncio.Event()
        last_arrival = [time.monotonic()]

        async def on_message(msg: Msg) -> None:
            last_arrival[0] = time.monotonic()
            if reached.is_set():
                return
            meta = msg.metadata
            if meta.sequence.stream <= high_water:
                self._parse(msg)
            # The mark, or past it (the mark's own message may have been deleted), or the end.
            if meta.sequence.stream >= high_water or meta.num_pending == 0:
                reached.set()
            if self.held_count >= HOLD_EVENTS:
                await self._store()

        started = time.monotonic()
        config = ConsumerConfig(deliver_policy=DeliverPolicy.ALL, inactive_threshold=60.0)
        sub = await js.subscribe(
            f"journey.{stream.lower()}.>",
            stream=stream,
            cb=on_message,
            ordered_consumer=True,
            config=config,
            pending_msgs_limit=4 * FETCH,
        )
        try:
            while not reached.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(reached.wait(), timeout=1)
                if time.monotonic() - last_arrival[0] > STALL_SECONDS:
                    raise RuntimeError(f"{stream}: nothing arrived for {STALL_SECONDS} s before sequence {high_water}")
        finally:
            await sub.unsubscribe()
        self._timed("read", started)  # the whole replay of the stream, parsing included (also in "parse")

    def _parse(self, msg: Msg) -> None:
        """Hold one message's event if it is the dashboard's."""
        started = time.perf_counter()
        envelope = ENVELOPES.get(msg.subject)  # the subject is the event type
        if envelope is None:
            self.report.skipped += 1
            return
        try:
            event = envelope.model_validate_json(msg.data)
            if event.subject in self.users:
                user_id = self.users[event.subject]
            else:
                user_id = self.users[event.subject] = event.user_id()
            payload: EventPayload = event.data  # type: ignore[assignment]  # typed by `envelope`
        except (ValidationError, ValueError) as exc:
            log.warning("rebuild_unreadable_event", error=str(exc)[:200])
            self.report.skipped += 1
            return
        finally:
            self.report.phases["parse"] += time.perf_counter() - started
        if user_id is None:
            self.report.skipped += 1
            return
        self.held[user_id].append((payload, meta_of(event)))
        self.held_count += 1
        self.report.events += 1

    def _fold(
        self, user_id: uuid.UUID, events: list[tuple[EventPayload, EventMeta]], stored: dict[str, Any] | None
    ) -> UserFacts:
        """The user's held events folded onto their stored facts (or empty ones)."""
        facts = UserFacts.model_validate(stored) if stored else UserFacts.empty(user_id)
        for payload, meta in events:
            facts = reduce(facts, payload, meta)
        return facts

    async def _store(self) -> None:
        """Fold and store every held user, once each: one transaction and one statement per batch,
        `IN_FLIGHT` batches at a time."""
        held, self.held, self.held_count = self.held, defaultdict(list), 0
        users = sorted(held, key=str)
        batches = iter([users[start : start + STORE_USERS] for start in range(0, len(users), STORE_USERS)])

        async def storer() -> None:
            for batch in batches:  # shared: each batch is taken by one storer
                await self._store_batch(held, batch)

        await asyncio.gather(*(storer() for _ in range(IN_FLIGHT)))

    async def _store_batch(self, held: Held, batch: list[uuid.UUID]) -> None:
        async with user_transaction(self.engine, None) as db:
            began = time.monotonic()
            await repository.lock_users(db, batch)  # as the consumers do: a concurrent first row is not lost
            stored = await repository.load_for_update(db, self.report.generation, batch)
            self._timed("store", began)
            began = time.monotonic()
            folded = {user_id: self._fold(user_id, held[user_id], stored.get(user_id)) for user_id in batch}
            states = {user_id: facts.model_dump_json() for user_id, facts in folded.items()}
            self._timed("fold", began)
            began = time.monotonic()
            stamps = await repository.store_many(db, self.report.generation, states)
        self._timed("store", began)
        for user_id, facts in folded.items():
            if user_id in self.folded or len(self.folded) < KEEP_FACTS:
                self.folded[user_id] = (stamps[user_id], facts)

    async def _known(self, db: AsyncSession, live: int, users: list[uuid.UUID]) -> dict[uuid.UUID, UserFacts]:
        """The facts this run folded for `users`, where no consumer has written the row since."""
        mine = [user_id for user_id in users if user_id in self.folded]
        if live != self.report.generation or not mine:
            return {}
        current = await repository.stamps(db, live, mine)
        known = {}
        for user_id in mine:
            stamp, facts = self.folded[user_id]
            if current.get(user_id) == stamp:
                known[user_id] = facts
        return known

    async def _switch(self) -> list[uuid.UUID]:
        """Make the new generation live; queue a snapshot for every user whose facts changed."""
        started = time.monotonic()
        generation = self.report.generation
        async with user_transaction(self.engine, None) as db:
            live, _ = await repository.lock_projection(db)
            self.report.users = await repository.count_users(db, generation)
            changed = await repository.changed_users(db, generation, live)
            if changed:
                await refresh_repository.request_many(db, changed, Priority.BULK)
            await repository.switch(db, generation)
        self.report.refreshes_queued = len(changed)
        self._timed("switch", started)
        return changed

    async def _render(self, nc: Any, queued: int) -> None:
        """Write the queued snapshots through the refresh path, `IN_FLIGHT` batches at a time (the
        worker's scheduler may take some of them meanwhile: claims skip each other's rows)."""
        started = time.monotonic()
        claimed = 0

        async def renderer() -> None:
            nonlocal claimed
            while claimed < queued:
                written, count = await refresh_due(self.engine, RENDER_BATCH, self._known)
                await announce(nc, written)
                self.report.snapshots_changed += len(written)
                claimed += count
                if count < RENDER_BATCH:
                    return

        await asyncio.gather(*(renderer() for _ in range(IN_FLIGHT)))
        self._timed("render", started)

    async def run(self) -> RebuildReport:
        started, cpu = time.monotonic(), time.process_time()
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
                stage = time.process_time()
                for stream, high_water in self.report.high_water.items():
                    await self._replay(js, stream, high_water)
                stage = self._stage("read", stage)
                await self._store()
                stage = self._stage("store", stage)
                changed = await self._switch()
                stage = self._stage("switch", stage)
                await self._render(nc, len(changed))
                self._stage("render", stage)
            finally:
                await nc.close()
                await self.engine.dispose()
                # What the run held goes now, by reference counting, not at the next collection.
                self.held, self.folded, self.users = defaultdict(list), {}, {}
        self.report.seconds = time.monotonic() - started
        self.report.cpu_seconds = time.process_time() - cpu
        return self.report


async def rebuild(settings: DashboardSettings) -> RebuildReport:
    with _no_cyclic_gc():
        return await Rebuild(settings).run()


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Without automatic cyclic collection for the run. The run holds every event and then every
    user's facts (millions of objects, all alive until it ends) and makes almost no cyclic
    garbage (~1,400 objects per 100,000 events); CPython's generational collector would scan
    them again and again as they age: 4 of 10 CPU seconds at 100,000 events. Reference counting
    still frees everything else as it goes."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def rebuild_command(settings: DashboardSettings) -> int:
    """`python -m dashboard rebuild`."""
    try:
        report = asyncio.run(rebuild(settings))
    except RebuildRunning as exc:
        print(f"not rebuilt: {exc}")
        return 1
    print(report.summary())
    return 0
