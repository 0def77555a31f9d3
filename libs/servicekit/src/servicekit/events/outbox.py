"""Transactional outbox: event rows written in the caller's transaction."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

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
