"""Durable pull consumers: explicit ack, bounded retries of a handler's own errors with
backoff, dead letters, an inbox so a redelivered event is applied once, and a watchdog for
stalled pulls.

Two kinds of failure are told apart (`servicekit.outage`):
- an **outage** (database or broker unreachable) pauses the consumer: the message stays in
  hand, kept alive with in-progress acks, and the failed step is tried again once the
  dependency answers. It costs no delivery, however long it lasts;
- a **handler error** counts: after `max_deliver` deliveries the event is dead-lettered.

JetStream's own `max_deliver` is unlimited, so the server never gives up on a message by
itself: only this runner ends a message, and only after its dead letter is written."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TypeVar

import structlog
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from opentelemetry.trace import SpanKind
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from servicekit import metrics, tracing
from servicekit.db import user_transaction
from servicekit.direct import DirectPool, DirectTransaction, Statement, direct_transaction
from servicekit.events.envelope import Event
from servicekit.logging import get_logger
from servicekit.outage import is_outage, outage_kind

log = get_logger(__name__)

T = TypeVar("T")
Handler = Callable[[AsyncSession, Event], Awaitable[None]]
# A handler on the kit's direct path (servicekit.direct): no ORM session, its statements pipelined.
DirectHandler = Callable[[DirectTransaction, Event], Awaitable[None]]
# Slow work (a model call) done before the transaction opens; returns the handler to run in it,
# or None when there is nothing left to do.
Preparer = Callable[[AsyncEngine, Event], Awaitable[Handler | None]]
FailureHook = Callable[[AsyncEngine, Event, str, int], Awaitable[None]]

# A message delivered this many times over its `max_deliver` never reached a verdict: the
# worker keeps dying on it (or its acks keep getting lost). It is dead-lettered, not retried
# forever.
UNFINISHED_DELIVERIES_FACTOR = 2
# While messages keep coming, a batch fetch waits at most this long for the batch to fill.
BUSY_FETCH_SECONDS = 0.02


@dataclass(frozen=True)
class Subscription:
    """One durable consumer: `handler` runs in a transaction scoped to the event's user. With
    `prepare`, slow work runs first with no transaction open and returns that handler. A hot
    consumer gives `direct` instead: the same, in a `DirectTransaction` (servicekit.direct).

    `max_deliver` counts deliveries that ended in a handler error (or never ended: a worker
    killed mid-event); outages do not count. `ack_wait` can be short: messages in hand are
    kept alive with in-progress acks, so it only bounds how long a crashed worker delays one."""

    durable: str
    stream: str
    filter_subject: str
    handler: Handler | None = None
    prepare: Preparer | None = None
    direct: DirectHandler | None = None
    max_deliver: int = 5
    backoff: Sequence[float] = field(default=(1.0, 5.0, 30.0, 120.0))
    ack_wait: float = 10.0
    batch: int = 20
    on_failure: FailureHook | None = None  # told of each failed attempt (error, deliveries so far)
    # Messages of one fetched batch handled at once; only for handlers that are safe to
    # interleave (they lock what they change and tolerate any order).
    concurrency: int = 1

    def __post_init__(self) -> None:
        if sum(step is not None for step in (self.handler, self.prepare, self.direct)) != 1:
            raise ValueError(f"{self.durable}: give exactly one of handler, prepare and direct")


class ConsumerRunner:
    def __init__(
        self,
        js: JetStreamContext,
        engine: AsyncEngine,
        schema: str,
        sub: Subscription,
        *,
        watchdog_interval: float = 15.0,
        outage_probe_max: float = 5.0,
        direct_pool: DirectPool | None = None,
    ) -> None:
        if sub.direct is not None and direct_pool is None:
            raise ValueError(f"{sub.durable}: a direct handler needs the worker's direct pool")
        self.js = js
        self.engine = engine
        self.direct_pool = direct_pool
        self.schema = schema
        self.sub = sub
        self.watchdog_interval = watchdog_interval
        self.outage_probe_max = outage_probe_max  # longest wait between two probes of a dependency
        self._psub: JetStreamContext.PullSubscription | None = None
        self._last_progress = time.monotonic()
        self._waiting_out = 0  # handlers paused until a dependency answers again
        self.resubscriptions = 0
        labels = (schema, sub.durable)
        self._delivered = metrics.CONSUMER_DELIVERED.labels(*labels)
        self._redelivered = metrics.CONSUMER_REDELIVERED.labels(*labels)
        self._acked = metrics.CONSUMER_ACKED.labels(*labels)
        self._handler_errors = metrics.CONSUMER_FAILED.labels(*labels)
        self._dead_lettered = metrics.CONSUMER_DEAD_LETTERED.labels(*labels)
        self._handling = metrics.CONSUMER_HANDLING.labels(*labels)
        self._pending = metrics.CONSUMER_PENDING.labels(*labels)
        self._ack_pending = metrics.CONSUMER_ACK_PENDING.labels(*labels)

    def _config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.sub.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            filter_subject=self.sub.filter_subject,
            max_deliver=-1,  # the runner decides when to give up (see the module docstring)
            ack_wait=self.sub.ack_wait,
            max_ack_pending=1000,
        )

    async def subscribe(self) -> None:
        if self._psub is not None:
            try:
                await self._psub.unsubscribe()
            except Exception as exc:  # the old subscription may already be dead
                log.debug("unsubscribe_failed", error=repr(exc))
        try:
            # Create, or update an existing durable to this code's settings (max_deliver, ack_wait...).
            await self.js.add_consumer(self.sub.stream, self._config())
        except NotFoundError:
            raise
        except Exception as exc:
            if is_outage(exc):  # nothing was refused: the broker did not answer; try again later
                log.warning(
                    "consumer_resubscribe_deferred",
                    consumer=self.sub.durable,
                    reason="broker unreachable",
                    error=repr(exc),
                )
                raise
            # A change JetStream cannot apply in place: keep the existing durable.
            log.warning("consumer_update_refused", consumer=self.sub.durable, error=repr(exc))
        self._psub = await self.js.pull_subscribe_bind(durable=self.sub.durable, stream=self.sub.stream)
        self._last_progress = time.monotonic()

    async def handle(self, msg: Msg) -> None:
        """Apply one message and settle it: ack, nak with the next delay, or dead letter + term.
        Returns only once the dependencies it needs have answered (outages are waited out)."""
        self._delivered.inc()
        if msg.metadata and msg.metadata.num_delivered > 1:
            self._redelivered.inc()
        started = time.perf_counter()
        try:
            await self._handle(msg)
        finally:
            self._handling.observe(time.perf_counter() - started)

    async def _handle(self, msg: Msg) -> None:
        try:
            event = Event.model_validate_json(msg.data)
        except ValidationError as exc:
            error = f"unparsable envelope: {exc}"
            await self._until_available(lambda: self._dead_letter(None, msg, error))
            await msg.term()
            self._dead_lettered.inc()
            return
        # Logs, and events the handler emits, carry the originating request id on.
        structlog.contextvars.bind_contextvars(
            request_id=event.request_id, event_id=str(event.id), traceparent=event.traceparent
        )
        # The relay's publish span (message header) or, without one, the span that emitted it.
        parent = (msg.headers or {}).get("traceparent") or event.traceparent
        attributes = {"messaging.system": "nats", "messaging.consumer.group.name": self.sub.durable}
        try:
            with tracing.span(f"process {event.type}", parent=parent, kind=SpanKind.CONSUMER, attributes=attributes):
                await self._settle(msg, event)
        finally:
            structlog.contextvars.unbind_contextvars("request_id", "event_id", "traceparent")

    async def _settle(self, msg: Msg, event: Event) -> None:
        if await self._never_finished(msg, event):
            return
        try:
            await self._apply(event)
        except Exception as exc:  # the handler's own error: outages were waited out in _apply
            await self._failed(msg, event, exc)
            return
        await msg.ack()
        self._acked.inc()

    async def sample_pending(self) -> None:
        """JetStream's count of what this consumer has yet to see and to ack, read when
        Prometheus scrapes (servicekit.metrics.on_scrape)."""
        info = await self.js.consumer_info(self.sub.stream, self.sub.durable)
        self._pending.set(int(info.num_pending or 0))
        self._ack_pending.set(int(info.num_ack_pending or 0))

    async def _apply(self, event: Event) -> None:
        """Prepare (if any), then claim + handle in one transaction. Each step is retried on
        its own after an outage, so a model call that succeeded is not made again because the
        database went away before its result was stored."""
        if self.sub.direct is not None:
            await self._apply_direct(self.sub.direct, event)
            return
        handler = self.sub.handler
        if self.sub.prepare is not None:
            prepare = self.sub.prepare
            if await self._until_available(lambda: self._processed(event)):
                return
            handler = await self._until_available(lambda: prepare(self.engine, event))
        if handler is None:
            return
        run = handler

        async def store() -> None:
            # After an outage at commit the commit may have happened: the inbox claim then
            # finds the event and the handler is not run again.
            async with user_transaction(self.engine, event.user_id()) as session:
                if await self._claim(session, event):
                    await run(session, event)

        await self._until_available(store)

    async def _apply_direct(self, handler: DirectHandler, event: Event) -> None:
        pool = self.direct_pool
        assert pool is not None
        claim = _direct_claim(self.schema)

        async def store() -> None:
            async with direct_transaction(pool, event.user_id()) as tx:
                if await tx.one(claim, c=self.sub.durable, e=event.id):
                    await handler(tx, event)

        await self._until_available(store)

    async def _until_available(self, operation: Callable[[], Awaitable[T]]) -> T:
        """Run `operation`; while it fails because a dependency is unreachable, pause and try
        again once the dependency answers. Any other error is raised."""
        paused_at: float | None = None
        while True:
            try:
                result = await operation()
            except Exception as exc:
                kind = outage_kind(exc)
                if kind is None:
                    raise
                if paused_at is None:
                    paused_at = time.monotonic()
                    log.warning("consumer_paused", consumer=self.sub.durable, dependency=kind, error=repr(exc))
                # Waiting an outage out is not a stalled pull: the watchdog leaves it alone.
                self._waiting_out += 1
                try:
                    await self._wait_for(kind)
                finally:
                    self._waiting_out -= 1
                    self._last_progress = time.monotonic()  # and the retry gets a full interval
                continue
            if paused_at is not None:
                log.info(
                    "consumer_resumed", consumer=self.sub.durable, paused_seconds=round(time.monotonic() - paused_at, 1)
                )
            return result

    async def _wait_for(self, kind: str) -> None:
        """Until the database answers a probe; for the broker, one backoff step (the retried
        operation is the probe)."""
        delay = 0.25
        while True:
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.outage_probe_max)
            if kind != "database":
                return
            try:
                async with self.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
                return
            except Exception as exc:
                if not is_outage(exc):
                    return  # answering, but not happily: let the real operation tell

    async def _never_finished(self, msg: Msg, event: Event) -> bool:
        """Dead-letter a message delivered far more often than its handler failed."""
        delivered = msg.metadata.num_delivered if msg.metadata else 1
        if delivered <= UNFINISHED_DELIVERIES_FACTOR * self.sub.max_deliver:
            return False
        if await self._until_available(lambda: self._processed(event)):
            return False  # applied already; only its ack went missing
        error = f"delivered {delivered} times without finishing (the worker died on it or its acks were lost)"
        log.error("event_dead_lettered", consumer=self.sub.durable, event_id=str(event.id), error=error)
        await self._until_available(lambda: self._dead_letter(event, msg, error))
        await msg.term()
        self._dead_lettered.inc()
        return True

    async def _failed(self, msg: Msg, event: Event, exc: Exception) -> None:
        self._handler_errors.inc()
        delivered = msg.metadata.num_delivered if msg.metadata else 1
        if self.sub.on_failure is not None:
            try:
                await self.sub.on_failure(self.engine, event, repr(exc), delivered)
            except Exception as hook_exc:
                log.warning("failure_hook_failed", consumer=self.sub.durable, error=repr(hook_exc))
        if delivered >= self.sub.max_deliver:
            log.error("event_dead_lettered", consumer=self.sub.durable, event_id=str(event.id), error=repr(exc))
            # Recorded first, terminated after: if the record cannot be written the message
            # stays with us (or comes back), it is never dropped.
            await self._until_available(lambda: self._dead_letter(event, msg, repr(exc)))
            await msg.term()
            self._dead_lettered.inc()
        else:
            delay = self.sub.backoff[min(delivered, len(self.sub.backoff)) - 1]
            log.warning("event_retry", consumer=self.sub.durable, event_id=str(event.id), delay=delay, error=repr(exc))
            await msg.nak(delay=delay)

    async def _processed(self, event: Event) -> bool:
        """A redelivery of an event already applied skips the slow preparation."""
        async with self.engine.connect() as conn:
            row = await conn.execute(
                text(f"SELECT 1 FROM {self.schema}.inbox WHERE consumer = :c AND event_id = :e"),
                {"c": self.sub.durable, "e": event.id},
            )
            return row.first() is not None

    async def _claim(self, session: AsyncSession, event: Event) -> bool:
        result = await session.exec(  # type: ignore[call-overload]
            text(
                f"INSERT INTO {self.schema}.inbox (consumer, event_id) VALUES (:c, :e) ON CONFLICT DO NOTHING"
            ).bindparams(c=self.sub.durable, e=event.id)
        )
        return bool(result.rowcount)

    async def _dead_letter(self, event: Event | None, msg: Msg, error: str) -> None:
        async with user_transaction(self.engine, None) as session:
            await session.exec(  # type: ignore[call-overload]
                text(
                    f"INSERT INTO {self.schema}.dead_letters (consumer, event_id, subject, payload, error, deliveries) "
                    "VALUES (:c, :e, :s, :p, :err, :d)"
                ).bindparams(
                    c=self.sub.durable,
                    e=event.id if event else None,
                    s=msg.subject,
                    p=msg.data.decode(errors="replace"),
                    err=error[:4000],
                    d=msg.metadata.num_delivered if msg.metadata else 1,
                )
            )

    async def _watchdog(self) -> None:
        """nats-py pull subscriptions can stall after a server restart: re-create them
        when messages are pending but nothing has arrived for a while."""
        while True:
            await asyncio.sleep(self.watchdog_interval)
            if self._waiting_out or time.monotonic() - self._last_progress < self.watchdog_interval:
                continue
            try:
                info = await self.js.consumer_info(self.sub.stream, self.sub.durable)
                stalled = info.num_pending > 0
            except Exception as exc:
                if is_outage(exc):
                    # Resubscribing cannot work until the broker is back; the next round will.
                    log.info("consumer_resubscribe_deferred", consumer=self.sub.durable, reason="broker unreachable")
                    continue
                log.warning("consumer_info_failed", consumer=self.sub.durable, error=repr(exc))
                stalled = True
            if stalled:
                log.warning("consumer_resubscribe", consumer=self.sub.durable)
                try:
                    await self.subscribe()
                    self.resubscriptions += 1
                except Exception as exc:
                    log.warning("resubscribe_failed", consumer=self.sub.durable, error=repr(exc))

    def nudge(self) -> None:
        """Let the watchdog check at its next tick (the broker just came back)."""
        self._last_progress = time.monotonic() - self.watchdog_interval

    async def run(self) -> None:
        while True:
            try:
                await self.subscribe()
                break
            except Exception as exc:
                log.warning("subscribe_failed", consumer=self.sub.durable, error=repr(exc))
                await asyncio.sleep(1)
        watchdog = asyncio.create_task(self._watchdog())
        idle = True
        try:
            while True:
                psub = self._psub
                assert psub is not None
                try:
                    # nats-py's fetch(n) returns once n messages arrived or its timeout passed, so a
                    # batch fetch on a quiet stream would hold the first message up to the timeout.
                    # Idle: wait for one message and handle it at once. Busy: take what is there.
                    if idle:
                        msgs = await psub.fetch(1, timeout=2)
                    else:
                        msgs = await psub.fetch(self.sub.batch, timeout=BUSY_FETCH_SECONDS)
                except (NatsTimeoutError, TimeoutError):
                    idle = True
                    continue  # nothing arrived: the watchdog tells idle from stalled
                except Exception as exc:
                    log.warning("fetch_failed", consumer=self.sub.durable, error=repr(exc))
                    await asyncio.sleep(1)
                    continue
                self._last_progress = time.monotonic()
                idle = False
                await self._handle_batch(msgs)
        finally:
            watchdog.cancel()

    async def _handle_batch(self, msgs: list[Msg]) -> None:
        held = {id(msg): msg for msg in msgs}
        keeper = asyncio.create_task(self._keep_alive(held))
        try:
            if self.sub.concurrency <= 1:
                for msg in msgs:
                    await self._handle_safely(msg, held)
                return
            limit = asyncio.Semaphore(self.sub.concurrency)

            async def bounded(msg: Msg) -> None:
                async with limit:
                    await self._handle_safely(msg, held)

            await asyncio.gather(*(bounded(msg) for msg in msgs))
        finally:
            keeper.cancel()

    async def _keep_alive(self, held: dict[int, Msg]) -> None:
        """In-progress acks for every message of the batch still in hand (being handled,
        waiting its turn, or paused by an outage), so none is redelivered meanwhile."""
        interval = max(self.sub.ack_wait / 3, 0.1)
        while True:
            await asyncio.sleep(interval)
            for msg in list(held.values()):
                if msg.is_acked:
                    continue
                try:
                    await msg.in_progress()
                except Exception as exc:  # broker away: it redelivers later, the inbox dedupes
                    log.debug("in_progress_failed", consumer=self.sub.durable, error=repr(exc))

    async def _handle_safely(self, msg: Msg, held: dict[int, Msg]) -> None:
        try:
            await self.handle(msg)
        except Exception as exc:  # ack/nak or a dead-letter write failed: redelivered after ack_wait
            log.warning("message_handling_failed", consumer=self.sub.durable, error=repr(exc))
        finally:
            held.pop(id(msg), None)
            self._last_progress = time.monotonic()  # a batch slow to handle is not a stalled pull


@cache
def _direct_claim(schema: str) -> Statement:
    """The inbox claim on the direct path: a row when the event is new to this consumer."""
    return Statement(
        text(
            f"INSERT INTO {schema}.inbox (consumer, event_id) VALUES (:c, :e) "
            "ON CONFLICT DO NOTHING RETURNING true AS new"
        )
    )
