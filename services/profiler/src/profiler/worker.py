"""Profiler consumers: the persona job (a work-queue consumer of persona.requested)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts import profiler as events
from entitlements.tier_cache import tier_cache_subscription
from profiler import SCHEMA
from profiler.personas import service as personas_service
from profiler.settings import ProfilerSettings
from servicekit.ai import build_provider
from servicekit.events import Event
from servicekit.events.consumer import Handler, Subscription
from servicekit.events.streams import stream_name


def subscriptions(settings: ProfilerSettings) -> list[Subscription]:
    provider = build_provider(settings)

    async def write_persona(engine: AsyncEngine, event: Event) -> Handler | None:
        request = events.PersonaRequested.model_validate(event.data)
        user_id = event.user_id()
        if user_id is None:
            raise ValueError("persona.requested without a user subject")
        result = await personas_service.prepare_generation(
            engine, provider, user_id, request.persona_id, daily_budget=settings.ai_daily_budget
        )
        if result is None:
            return None

        async def store(db: AsyncSession, _: Event) -> None:
            await personas_service.store_generation(db, user_id, request.persona_id, result)

        return store

    return [
        tier_cache_subscription(SCHEMA),
        Subscription(
            durable="profiler-persona-writer",
            stream=stream_name("profiler"),
            filter_subject=events.PERSONA_REQUESTED,
            # The default short ack_wait: the consumer keeps the message alive with in-progress acks
            # while the model thinks, so only a crashed worker waits it out.
            prepare=write_persona,
        ),
    ]
