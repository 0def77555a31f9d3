"""Dashboard consumers (one durable per event type, by priority class) and the refresh scheduler."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from dashboard.settings import DashboardSettings
from servicekit.events.consumer import Subscription


def subscriptions(settings: DashboardSettings) -> list[Subscription]:
    return []


def background(settings: DashboardSettings) -> list[Callable[[], Coroutine[Any, Any, None]]]:
    return []
