"""Events by payload class: `emit(db, Payload(...), user_id=...)` on the producing side,
`on(Payload, handler, durable=...)` on the consuming side. Subjects, versions, streams and the
outbox's schema all come from the payload class, never from the call site."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.payload import EventPayload
from servicekit.direct import DirectTransaction
from servicekit.events.consumer import Handler, Subscription
from servicekit.events.envelope import Event, new_event
from servicekit.events.outbox import add_event, add_event_direct
from servicekit.events.streams import stream_name

P = TypeVar("P", bound=EventPayload)
PayloadHandler = Callable[[AsyncSession, P, Event], Awaitable[None]]
PayloadDirectHandler = Callable[[DirectTransaction, P, Event], Awaitable[None]]
# The transaction-free first phase of a slow job; returns what to do in the transaction, or None.
PayloadPreparer = Callable[[AsyncEngine, P, Event], Awaitable[Callable[[AsyncSession], Awaitable[None]] | None]]
# Told of each failed attempt: the error and the deliveries so far.
PayloadFailureHook = Callable[[AsyncEngine, P, Event, str, int], Awaitable[None]]


async def emit(db: AsyncSession, payload: EventPayload, *, user_id: uuid.UUID | None) -> Event:
    """Queue `payload` in its service's outbox, in the caller's transaction (published only if it
    commits). `user_id` None means the producer does not know the user yet (subject "system")."""
    event = new_event(payload.SUBJECT, user_id=user_id, data=payload.model_dump(mode="json"), version=payload.VERSION)
    await add_event(db, payload.service(), event)
    return event


async def emit_direct(tx: DirectTransaction, payload: EventPayload, *, user_id: uuid.UUID | None) -> Event:
    """`emit` on the kit's direct path (servicekit.direct): the same event, in `tx`'s transaction."""
    event = new_event(payload.SUBJECT, user_id=user_id, data=payload.model_dump(mode="json"), version=payload.VERSION)
    await add_event_direct(tx, payload.service(), event)
    return event


def on(
    payload_class: type[P],
    handler: PayloadHandler[P] | None = None,
    *,
    durable: str,
    prepare: PayloadPreparer[P] | None = None,
    direct: PayloadDirectHandler[P] | None = None,
    on_failure: PayloadFailureHook[P] | None = None,
    **options: Any,
) -> Subscription:
    """A durable consumer of one payload class: its handler (and `on_failure` hook) get the
    parsed payload; `direct` is a handler on the kit's direct path instead. `options` are the
    remaining `Subscription` settings (max_deliver, backoff, batch, concurrency...)."""
    if sum(step is not None for step in (handler, prepare, direct)) != 1:
        raise ValueError(f"{durable}: give exactly one of a handler, a prepare phase and a direct handler")
    stream = stream_name(payload_class.service())
    if on_failure is not None:
        typed_failure = on_failure

        async def failed(engine: AsyncEngine, event: Event, error: str, deliveries: int) -> None:
            await typed_failure(engine, payload_class.model_validate(event.data), event, error, deliveries)

        options["on_failure"] = failed
    if handler is not None:
        typed_handler = handler

        async def handle(db: AsyncSession, event: Event) -> None:
            await typed_handler(db, payload_class.model_validate(event.data), event)

        return Subscription(durable, stream, payload_class.SUBJECT, handler=handle, **options)
    if direct is not None:
        typed_direct = direct

        async def handle_direct(tx: DirectTransaction, event: Event) -> None:
            await typed_direct(tx, payload_class.model_validate(event.data), event)

        return Subscription(durable, stream, payload_class.SUBJECT, direct=handle_direct, **options)
    assert prepare is not None
    typed_prepare = prepare

    async def prepared(engine: AsyncEngine, event: Event) -> Handler | None:
        step = await typed_prepare(engine, payload_class.model_validate(event.data), event)
        if step is None:
            return None
        in_transaction = step

        async def apply(db: AsyncSession, _: Event) -> None:
            await in_transaction(db)

        return apply

    return Subscription(durable, stream, payload_class.SUBJECT, prepare=prepared, **options)
