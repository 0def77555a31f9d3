"""Coaching consumers: the tier cache, the sentiment job (a work-queue consumer of
reflection.created) and the persona suggestions (from profiler's persona.generated)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from coaching import SCHEMA
from coaching.reflections import service as reflections_service
from coaching.settings import CoachingSettings
from coaching.suggestions import service as suggestions_service
from contracts.profiler import PersonaGenerated
from entitlements.tier_cache import tier_cache_subscription
from servicekit.ai import build_provider
from servicekit.events import on
from servicekit.events.consumer import Subscription


def subscriptions(settings: CoachingSettings) -> list[Subscription]:
    return [
        tier_cache_subscription(SCHEMA),
        reflections_service.sentiment_job.subscription(build_provider(settings), daily_budget=settings.ai_daily_budget),
        on(PersonaGenerated, suggestions_service.store_persona_suggestions, durable="coaching-persona-suggestions"),
    ]


def background(_settings: CoachingSettings) -> list[Callable[[], Coroutine[Any, Any, None]]]:
    return []
