"""Durable pull consumers: explicit ack, bounded redelivery with backoff, dead letters,
an inbox so a redelivered event is applied once, and a watchdog for stalled pulls."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import structlog
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from servicekit.db import user_transaction
from servicekit.events.envelope import Event
from servicekit.logging import get_logger

log = get_logger(__name__)

Handler = Callable[[AsyncSession, Event], Awaitable[None]]
# Slow work (a model call) done before the transaction opens; returns the handler to run in it,
# or None when there is nothing left to do.
Preparer = Callable[[AsyncEngine, Event], Awaitable[Handler | None]]
FailureHook = Callable[[AsyncEngine, Event, str, int], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    """One durable consumer: `handler` runs in a transaction scoped to the event's user. With
    `prepare`, slow work runs first with no transaction open and returns that handler."""

    durable: str
    stream: str
    filter_subject: str
    handler: Handler | None = None
    prepare: Preparer | None = None
    max_deliver: int = 5
    backoff: Sequence[float] = field(default=(1.0, 5.0, 30.0, 120.0))
    ack_wait: float = 60.0
    batch: int = 20
    on_failure: FailureHook | None = None  # told of each failed attempt (error, deliveries so far)
    # Messages of one fetched batch handled at once; only for handlers that are safe to
    # interleave (they lock what they change and tolerate any order).
    concurrency: int = 1

    def __post_init__(self) -> None:
        if (self.handler is None) == (self.prepare is None):
            raise ValueError(f"{self.durable}: give exactly one of handler and prepare")


class ConsumerRunner:
    def __init__(
        self,
        js: JetStreamContext,
        engine: AsyncEngine,
        schema: str,
        sub: Subscription,
        *,
        watchdog_interval: float = 15.0,
    ) -> None:
        self.js = js
        self.engine = engine
        self.schema = schema
        self.sub = sub
        self.watchdog_interval = watchdog_interval
        self._psub: JetStreamContext.PullSubscription | None = None
        self._last_progress = time.monotonic()
        self.resubscriptions = 0

    def _config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.sub.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            filter_subject=self.sub.filter_subject,
            max_deliver=self.sub.max_deliver,
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
        except Exception as exc:  # a change JetStream cannot apply in place: keep the existing durable
            log.warning("consumer_update_refused", consumer=self.sub.durable, error=repr(exc))
        self._psub = await self.js.pull_subscribe_bind(durable=self.sub.durable, stream=self.sub.stream)
        self._last_progress = time.monotonic()

    async def handle(self, msg: Msg) -> None:
        try:
            event = Event.model_validate_json(msg.data)
        except ValidationError as exc:
            await self._dead_letter(None, msg, f"unparsable envelope: {exc}")
            await msg.term()
            return
        # Logs, and events the handler emits, carry the originating request id on.
        structlog.contextvars.bind_contextvars(request_id=event.request_id, event_id=str(event.id))
        try:
            handler = self.sub.handler
            if self.sub.prepare is not None:
                handler = None if await self._processed(event) else await self.sub.prepare(self.engine, event)
            if handler is not None:
                async with user_transaction(self.engine, event.user_id()) as session:
                    if await self._claim(session, event):
                        await handler(session, event)
            await msg.ack()
        except Exception as exc:
            await self._failed(msg, event, exc)
        finally:
            structlog.contextvars.unbind_contextvars("request_id", "event_id")

    async def _failed(self, msg: Msg, event: Event, exc: Exception) -> None:
        delivered = msg.metadata.num_delivered if msg.metadata else 1
        if self.sub.on_failure is not None:
            try:
                await self.sub.on_failure(self.engine, event, repr(exc), delivered)
            except Exception as hook_exc:
                log.warning("failure_hook_failed", consumer=self.sub.durable, error=repr(hook_exc))
        if delivered >= self.sub.max_deliver:
            log.error("event_dead_lettered", consumer=self.sub.durable, event_id=str(event.id), error=repr(exc))
            await self._dead_letter(event, msg, repr(exc))
            await msg.term()
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
            if time.monotonic() - self._last_progress < self.watchdog_interval:
                continue
            try:
                info = await self.js.consumer_info(self.sub.stream, self.sub.durable)
                stalled = info.num_pending > 0
            except Exception as exc:
                log.warning("consumer_info_failed", consumer=self.sub.durable, error=repr(exc))
                stalled = True
            if stalled:
                log.warning("consumer_resubscribe", consumer=self.sub.durable)
                try:
                    await self.subscribe()
                    self.resubscriptions += 1
                except Exception as exc:
                    log.warning("resubscribe_failed", consumer=self.sub.durable, error=repr(exc))

    async def run(self) -> None:
        while True:
            try:
                await self.subscribe()
                break
            except Exception as exc:
                log.warning("subscribe_failed", consumer=self.sub.durable, error=repr(exc))
                await asyncio.sleep(1)
        watchdog = asyncio.create_task(self._watchdog())
        try:
            while True:
                psub = self._psub
                assert psub is not None
                try:
                    msgs = await psub.fetch(self.sub.batch, timeout=2)
                except (NatsTimeoutError, TimeoutError):
                    continue  # nothing arrived: the watchdog tells idle from stalled
                except Exception as exc:
                    log.warning("fetch_failed", consumer=self.sub.durable, error=repr(exc))
                    await asyncio.sleep(1)
                    continue
                self._last_progress = time.monotonic()
                await self._handle_batch(msgs)
        finally:
            watchdog.cancel()

    async def _handle_batch(self, msgs: list[Msg]) -> None:
        if self.sub.concurrency <= 1:
            for msg in msgs:
                await self._handle_safely(msg)
            return
        limit = asyncio.Semaphore(self.sub.concurrency)

        async def bounded(msg: Msg) -> None:
            async with limit:
                await self._handle_safely(msg)

        await asyncio.gather(*(bounded(msg) for msg in msgs))

    async def _handle_safely(self, msg: Msg) -> None:
        try:
            await self.handle(msg)
        except Exception as exc:  # ack/nak or the dead-letter write failed: redelivered later
            log.warning("message_handling_failed", consumer=self.sub.durable, error=repr(exc))
