"""Outbox relay: publishes committed outbox rows with Nats-Msg-Id, then marks them sent."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

import psycopg
from nats.js import JetStreamContext
from opentelemetry.trace import SpanKind
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from servicekit import tracing
from servicekit.db import libpq_url
from servicekit.events.outbox import notify_channel
from servicekit.logging import get_logger
from servicekit.metrics import OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE, OUTBOX_PUBLISH_FAILURES, OUTBOX_PUBLISHED

log = get_logger(__name__)


class OutboxRelay:
    """Wakes on the outbox NOTIFY (sent at commit), on `wake()` (the broker reconnected) and on
    a timer as a safety net. After a failure it backs off; `wake()` cuts that wait short."""

    def __init__(
        self,
        dsn: str,
        schema: str,
        js: JetStreamContext,
        *,
        interval: float = 1.0,
        batch: int = 200,
        retention_days: int = 7,
        max_backoff: float = 10.0,
    ) -> None:
        self.dsn = libpq_url(dsn)
        self.schema = schema
        self.js = js
        self.interval = interval
        self.batch = batch
        self.retention_days = retention_days
        self.max_backoff = max_backoff
        self._wake = asyncio.Event()
        self._resume = asyncio.Event()  # only wake(): a NOTIFY during an outage keeps the backoff
        self._last_prune = 0.0
        self._conn: psycopg.AsyncConnection[Any] | None = None
        # Exported at 0 from the start: a rate over a series that appears only at the first
        # failure misses that failure.
        self._published = OUTBOX_PUBLISHED.labels(schema)
        self._failures = OUTBOX_PUBLISH_FAILURES.labels(schema)

    def wake(self) -> None:
        """Publish now: called when the broker is back, so the outbox drains at once instead
        of after the rest of a backoff."""
        self._wake.set()
        self._resume.set()

    @staticmethod
    async def _wait(event: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout=seconds)
        event.clear()

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        """One connection for publishing and pruning, opened again only after it broke."""
        if self._conn is None or self._conn.closed:
            self._conn = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)
        return self._conn

    async def _drop_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None

    async def publish_pending(self) -> int:
        """Publish one batch; returns how many rows were sent. Raises if NATS fails."""
        outbox = sql.Identifier(self.schema, "outbox")
        conn = await self._connection()
        async with conn.transaction():
            rows = await (
                await conn.execute(
                    sql.SQL(
                        "SELECT id, subject, payload::text FROM {} WHERE published_at IS NULL "
                        "ORDER BY created_at, id LIMIT %s FOR UPDATE SKIP LOCKED"
                    ).format(outbox),
                    (self.batch,),
                )
            ).fetchall()
            # The whole batch in flight at once: with `sync_interval: always` each ack waits for
            # the server's fsync, and one publish at a time would wait for every one. Sent in row
            # order on the one connection; a row whose ack fails is left for the next pass, after
            # later rows of its batch may be stored (docs/events.md, "Ordering").
            outcomes = await asyncio.gather(
                *(
                    self._publish(subject, payload, {"Nats-Msg-Id": str(event_id)})
                    for event_id, subject, payload in rows
                ),
                return_exceptions=True,
            )
            sent = [
                row[0] for row, outcome in zip(rows, outcomes, strict=True) if not isinstance(outcome, BaseException)
            ]
            if sent:
                await conn.execute(
                    sql.SQL("UPDATE {} SET published_at = now() WHERE id = ANY(%s)").format(outbox), (sent,)
                )
        self._published.inc(len(sent))
        # Raised once the acknowledged rows are committed as sent: raising inside the transaction
        # would roll their marks back and publish them again (de-duplicated, but for nothing).
        failure = next((outcome for outcome in outcomes if isinstance(outcome, BaseException)), None)
        if failure is not None:
            raise failure
        return len(sent)

    async def _publish(self, subject: str, payload: str, headers: dict[str, str]) -> None:
        if not tracing.active():
            await self.js.publish(subject, payload.encode(), headers=headers, timeout=5)
        else:
            await self._publish_traced(subject, payload, headers)

    async def _publish_traced(self, subject: str, payload: str, headers: dict[str, str]) -> None:
        """The publish as a span of the trace that emitted the event; consumers continue from
        the span's context, passed in the message's `traceparent` header."""
        parent = json.loads(payload).get("traceparent")
        attributes = {"messaging.system": "nats", "messaging.destination.name": subject}
        with tracing.span(f"publish {subject}", parent=parent, kind=SpanKind.PRODUCER, attributes=attributes):
            tracing.inject(headers)
            await self.js.publish(subject, payload.encode(), headers=headers, timeout=5)

    async def sample(self, engine: AsyncEngine) -> None:
        """The backlog gauges, read when Prometheus scrapes (servicekit.metrics.on_scrape)."""
        async with engine.connect() as conn:
            count, age = (
                await conn.execute(
                    text(
                        "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0) "
                        f"FROM {self.schema}.outbox WHERE published_at IS NULL"
                    )
                )
            ).one()
        OUTBOX_BACKLOG.labels(self.schema).set(count)
        OUTBOX_OLDEST_AGE.labels(self.schema).set(float(age))

    async def prune(self) -> int:
        """Forget rows published longer ago than the retention (the stream keeps the events)."""
        conn = await self._connection()
        cursor = await conn.execute(
            sql.SQL("DELETE FROM {} WHERE published_at < now() - make_interval(days => %s)").format(
                sql.Identifier(self.schema, "outbox")
            ),
            (self.retention_days,),
        )
        return cursor.rowcount

    async def _listen(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.dsn, autocommit=True) as conn:
                    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(notify_channel(self.schema))))
                    self._wake.set()
                    async for _ in conn.notifies():
                        self._wake.set()
            except (psycopg.Error, OSError) as exc:
                log.warning("outbox_listen_failed", error=str(exc))
                await asyncio.sleep(self.interval)

    async def run(self) -> None:
        listener = asyncio.create_task(self._listen())
        backoff = self.interval
        try:
            while True:
                await self._wait(self._wake, self.interval)
                self._resume.clear()
                try:
                    while await self.publish_pending() == self.batch:
                        pass
                    backoff = self.interval
                    if time.monotonic() - self._last_prune > 3600:
                        self._last_prune = time.monotonic()
                        await self.prune()
                except Exception as exc:  # NATS or PostgreSQL down: keep rows, try again later
                    log.warning("outbox_publish_failed", error=repr(exc))
                    self._failures.inc()
                    if isinstance(exc, psycopg.Error | OSError):
                        await self._drop_connection()
                    await self._wait(self._resume, backoff)
                    backoff = min(backoff * 2, self.max_backoff)
        finally:
            listener.cancel()
            await self._drop_connection()
