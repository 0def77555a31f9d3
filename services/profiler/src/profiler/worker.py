"""Profiler consumers: the persona job (a work-queue consumer of persona.requested)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts import profiler as events
from entitlements.tier_cache import tier_cache_subscription
from profiler import SCHEMA
from profiler.personas import service as personas_service
from profiler.personas.sweeper import run_sweeper
from profiler.settings import ProfilerSettings
from servicekit.ai import build_provider
from servicekit.events import Event, on
from servicekit.events.consumer import Subscription


def subscriptions(settings: ProfilerSettings) -> list[Subscription]:
    provider = build_provider(settings)

    async def write_persona(
        engine: AsyncEngine, request: events.PersonaRequested, event: Event
    ) -> Callable[[AsyncSession], Awaitable[None]] | None:
        user_id = event.user_id()
        if user_id is None:
            raise ValueError("persona.requested without a user subject")
        result = await personas_service.prepare_generation(
            engine, provider, user_id, request.persona_id, daily_budget=settings.ai_daily_budget
        )
        if result is None:
            return None

        async def store(db: AsyncSession) -> None:
            await personas_service.store_generation(db, user_id, request.persona_id, result)

        return store

    return [
        tier_cache_subscription(SCHEMA),
        # The default short ack_wait: the consumer keeps the message alive with in-progress acks
        # while the model thinks, so only a crashed worker waits it out.
        on(events.PersonaRequested, durable="profiler-persona-writer", prepare=write_persona),
    ]


def background(settings: ProfilerSettings) -> list[Callable[[], Coroutine[Any, Any, None]]]:
    return [lambda: run_sweeper(settings)]
