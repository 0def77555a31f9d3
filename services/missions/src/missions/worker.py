"""Missions consumers: the tier cache, persona and coaching facts for recommendations, the
review job; and the sweep of files a crash left without a row."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from entitlements.tier_cache import tier_cache_subscription
from missions import SCHEMA
from missions.files.deps import storage_for
from missions.files.sweeper import run_sweeper
from missions.recommendations import facts
from missions.reviews.service import review_job
from missions.settings import MissionsSettings
from servicekit.ai import build_provider
from servicekit.events.consumer import Subscription


def subscriptions(settings: MissionsSettings) -> list[Subscription]:
    job = review_job(storage_for(settings), max_submissions=settings.max_submissions_per_enrollment)
    return [
        tier_cache_subscription(SCHEMA),
        job.subscription(build_provider(settings), daily_budget=settings.ai_daily_budget),
        *facts.subscriptions(),
    ]


def background(settings: MissionsSettings) -> list[Callable[[], Coroutine[Any, Any, None]]]:
    return [lambda: run_sweeper(settings)]
