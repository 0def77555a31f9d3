"""The refresh scheduler: a background job of the worker that writes due snapshots, most urgent
first, and announces each new version.

It runs as the system role (it crosses users) and wakes on the queue's NOTIFY (sent at the
commit of the consumer that asked), or when the next coalesced request falls due."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import psycopg
from nats.aio.client import Client as NATS
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from dashboard.facts import repository as facts_repository
from dashboard.facts.reducers import Priority
from dashboard.facts.state import UserFacts
from dashboard.metrics import record_queue
from dashboard.refresh import repository
from dashboard.refresh.announcer import ANNOUNCER, announce
from dashboard.settings import DashboardSettings
from dashboard.snapshot.service import Written, write_snapshots
from servicekit import tracing
from servicekit.db import create_engine, libpq_url, user_transaction
from servicekit.events.streams import connect
from servicekit.logging import get_logger
from servicekit.metrics import on_scrape
from servicekit.tracing import SpanKind

log = get_logger(__name__)
IDLE_POLL_SECONDS = 1.0


# Facts the caller already holds for some of the claimed users, current in the transaction
# given (the rebuild's, from its own fold): not read and validated again.
KnownFacts = Callable[[AsyncSession, int, list[uuid.UUID]], Awaitable[dict[uuid.UUID, UserFacts]]]


async def refresh_due(engine: AsyncEngine, limit: int, known: KnownFacts | None = None) -> tuple[list[Written], int]:
    """One batch: claim the most urgent due users, write their snapshots. Returns what was
    written and how many users were claimed."""
    async with user_transaction(engine, None) as db:
        claimed = await repository.claim_due(db, limit)
        if not claimed:
            return [], 0
        live, _ = await facts_repository.generations(db)
        users = [user for user, _ in claimed]
        held = await known(db, live, users) if known is not None else None
        written = await write_snapshots(db, live, users, datetime.now(UTC), known=held)
    return written, len(claimed)


class RefreshScheduler:
    def __init__(self, settings: DashboardSettings) -> None:
        self.settings = settings
        dsn = settings.system_database_url or settings.worker_dsn
        self.dsn = dsn
        self.engine = create_engine(dsn, pool_size=2)
        self.nc: NATS | None = None
        self._wake = asyncio.Event()
        self.written = 0

    async def _listen(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(libpq_url(self.dsn), autocommit=True) as conn:
                    await conn.execute(f"LISTEN {repository.CHANNEL}")
                    self._wake.set()
                    async for _ in conn.notifies():
                        self._wake.set()
            except (psycopg.Error, OSError) as exc:
                log.warning("refresh_listen_failed", error=str(exc))
                await asyncio.sleep(1)

    async def _next_wait(self) -> float:
        async with user_transaction(self.engine, None) as db:
            due = await repository.seconds_to_next_due(db)
        return IDLE_POLL_SECONDS if due is None else min(due, IDLE_POLL_SECONDS)

    async def run_once(self) -> int:
        """Write every due snapshot now; how many users were claimed."""
        total = 0
        while True:
            written, claimed = await refresh_due(self.engine, self.settings.refresh_batch)
            if written:
                # A coalesced batch has no single origin: its announcement starts a trace of its
                # own (the pushes join it), rather than picking one of the events' traces.
                attributes = {"dashboard.snapshots": len(written)}
                batch = tracing.span(
                    "dashboard.refresh.announce", parent=None, kind=SpanKind.PRODUCER, attributes=attributes
                )
                with batch:
                    await announce(self.nc, written, tracing.current_traceparent())
            self.written += len(written)
            total += claimed
            if claimed < self.settings.refresh_batch:
                return total

    async def queue_rolled_over(self) -> int:
        """Queue, at bulk priority, every user whose snapshot shows a day that is over in their
        time zone: "today" turns over at local midnight though no event arrives. How many."""
        async with user_transaction(self.engine, None) as db:
            users = await repository.rolled_over(db)
            if not users:
                return 0
            await repository.request_many(db, users, Priority.BULK)
        log.info("day_rolled_over", users=len(users))
        return len(users)

    async def sample_queue(self) -> None:
        """The queue's depth by priority, read when Prometheus scrapes the worker."""
        async with user_transaction(self.engine, None) as db:
            record_queue(await repository.pending_by_priority(db))

    async def run(self) -> None:
        listener = asyncio.create_task(self._listen())
        stop_sampling = on_scrape(self.sample_queue)
        try:
            self.nc = await connect(self.settings.nats_url, "dashboard-refresh")
            ANNOUNCER.attach(self.nc)  # the consumers' own writes are announced through it too
            next_rollover = 0.0
            while True:
                self._wake.clear()
                try:
                    if time.monotonic() >= next_rollover:
                        await self.queue_rolled_over()
                        next_rollover = time.monotonic() + self.settings.rollover_check_seconds
                    await self.run_once()
                    wait = await self._next_wait()
                except Exception as exc:  # database or broker away: try again shortly
                    log.warning("refresh_failed", error=repr(exc))
                    wait = IDLE_POLL_SECONDS
                if wait > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=wait)
        finally:
            stop_sampling()
            listener.cancel()
            ANNOUNCER.attach(None)
            if self.nc is not None:
                with contextlib.suppress(Exception):
                    await self.nc.close()
            await self.engine.dispose()


async def run_refresh_scheduler(settings: DashboardSettings, **_: Any) -> None:
    await RefreshScheduler(settings).run()
