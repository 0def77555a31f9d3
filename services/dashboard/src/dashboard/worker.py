"""Dashboard consumers and background jobs.

One durable consumer per event type (the kit binds one payload class per durable), so each
type keeps its own place in its stream: a backlog of check-ins never holds a `tier.changed`
back. Their handler folds the event into the user's facts and asks for a refresh at the type's
priority; the refresh scheduler writes snapshots most urgent first, coalescing bursts, and
announces each version; the lag reporter tells the API processes how far behind each stream is."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from contracts.payload import EventPayload
from dashboard.facts.reducers import REDUCERS
from dashboard.facts.service import apply_event
from dashboard.live.lag import run_lag_reporter
from dashboard.refresh.scheduler import run_refresh_scheduler
from dashboard.settings import DashboardSettings
from servicekit.direct import DirectTransaction
from servicekit.events import Event, on
from servicekit.events.consumer import Subscription


def durable_for(payload: type[EventPayload]) -> str:
    """`journey.billing.tier.changed` -> `dashboard-billing-tier-changed`."""
    return "dashboard-" + payload.SUBJECT.split(".", 1)[1].replace(".", "-")


def subscriptions(settings: DashboardSettings) -> list[Subscription]:
    async def handle(tx: DirectTransaction, payload: EventPayload, event: Event) -> None:
        await apply_event(tx, payload, event, settings)

    # The handler locks the user and folds in any order, so a batch's events are handled a few
    # at a time (`concurrency`): a burst across students is not one transaction after another.
    return [
        on(payload, direct=handle, durable=durable_for(payload), batch=100, concurrency=4)
        for payload, registration in sorted(REDUCERS.items(), key=lambda item: item[0].SUBJECT)
        if registration.reducer is not None
    ]


def background(settings: DashboardSettings) -> list[Callable[[], Coroutine[Any, Any, None]]]:
    return [
        lambda: run_refresh_scheduler(settings),
        lambda: run_lag_reporter(settings, subscriptions(settings)),
    ]
