"""Profiler consumers: the persona job (a work-queue consumer of persona.requested)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from entitlements.tier_cache import tier_cache_subscription
from profiler import SCHEMA
from profiler.personas import service as personas_service
from profiler.personas.sweeper import run_sweeper
from profiler.settings import ProfilerSettings
from servicekit.ai import build_provider
from servicekit.events.consumer import Subscription


def subscriptions(settings: ProfilerSettings) -> list[Subscription]:
    return [
        tier_cache_subscription(SCHEMA),
        personas_service.persona_job.subscription(build_provider(settings), daily_budget=settings.ai_daily_budget),
    ]


def background(settings: ProfilerSettings) -> list[Callable[[], Coroutine[Any, Any, None]]]:
    return [lambda: run_sweeper(settings)]
