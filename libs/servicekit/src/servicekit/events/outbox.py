"""Transactional outbox: event rows written in the caller's transaction."""

from __future__ import annotations

from functools import cache

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from servicekit.direct import DirectTransaction, Statement
from servicekit.events.envelope import Event


def notify_channel(schema: str) -> str:
    return f"{schema}_outbox"


async def add_event(session: AsyncSession, schema: str, event: Event) -> None:
    """Queue `event` in `schema.outbox`; it is published only if the transaction commits.

    The NOTIFY is delivered at commit too, waking the relay at once.
    """
    await session.exec(  # type: ignore[call-overload]
        text(
            f"INSERT INTO {schema}.outbox (id, subject, payload) VALUES (:id, :subject, CAST(:payload AS jsonb))"
        ).bindparams(id=event.id, subject=event.type, payload=event.model_dump_json())
    )
    await session.exec(text("SELECT pg_notify(:channel, '')").bindparams(channel=notify_channel(schema)))  # type: ignore[call-overload]


@cache
def _insert_and_notify(schema: str) -> Statement:
    # One round trip for both: a data-modifying WITH runs whether or not the query reads it (and
    # reading it back would need SELECT on the outbox, which the service's role does not have).
    return Statement(
        text(
            f"WITH queued AS (INSERT INTO {schema}.outbox (id, subject, payload) "
            "VALUES (:id, :subject, CAST(:payload AS jsonb))) "
            "SELECT pg_notify(:channel, '')"
        )
    )


async def add_event_direct(tx: DirectTransaction, schema: str, event: Event) -> None:
    """`add_event` on the kit's direct path (servicekit.direct), in one statement that travels
    with the Sync that commits (`DirectTransaction.send`)."""
    await tx.send(
        _insert_and_notify(schema),
        id=event.id,
        subject=event.type,
        payload=event.model_dump_json(),
        channel=notify_channel(schema),
    )
