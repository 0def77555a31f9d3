"""Stranded personas: one still `pending` past a deadline (its request was dead-lettered after
the handler kept failing, or lost with the broker's data) is requested again, once. The
consumer's inbox and the persona's own `pending` check keep a late original from writing it
twice."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy.ext.asyncio import AsyncEngine

from contracts import profiler as events
from profiler.personas import repository
from profiler.settings import ProfilerSettings
from servicekit.db import create_engine, user_transaction
from servicekit.events import emit
from servicekit.logging import get_logger

log = get_logger(__name__)


async def request_stranded_again(engine: AsyncEngine, *, older_than: float, limit: int = 100) -> list[uuid.UUID]:
    """Emit persona.requested again for personas pending longer than `older_than` seconds that
    were never requested again; returns their ids. Each is marked in the same transaction as
    its event, so a second sweep (or a second worker) never requests it a third time."""
    async with user_transaction(engine, None) as db:  # no user: the sweep policy applies
        stranded = await repository.stranded(db, older_than=older_than, limit=limit)
    requested = []
    for persona_id, user_id in stranded:
        async with user_transaction(engine, user_id) as db:
            session_id = await repository.mark_requested_again(db, persona_id)
            if session_id is None:
                continue  # written or swept meanwhile
            await emit(db, events.PersonaRequested(persona_id=persona_id, session_id=session_id), user_id=user_id)
        log.warning("persona_requested_again", persona_id=str(persona_id), pending_over_seconds=older_than)
        requested.append(persona_id)
    return requested


async def run_sweeper(settings: ProfilerSettings) -> None:
    """Background job of the profiler worker: one sweep every `persona_sweep_interval_seconds`."""
    engine = create_engine(settings.worker_dsn, pool_size=1)
    try:
        while True:
            await asyncio.sleep(settings.persona_sweep_interval_seconds)
            try:
                await request_stranded_again(engine, older_than=settings.persona_sweep_after_seconds)
            except Exception as exc:  # the database away: the next round tries again
                log.warning("persona_sweep_failed", error=repr(exc))
    finally:
        await engine.dispose()
