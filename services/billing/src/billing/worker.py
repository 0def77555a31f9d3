"""Billing consumers: Stripe events (a work queue) and the scheduled tier check."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from billing import SCHEMA
from billing.payments.factory import build_payment_provider
from billing.settings import BillingSettings
from billing.subscriptions.scheduler import run_tier_checks
from billing.usage import service as usage_service
from billing.webhooks.apply import apply_stripe_event
from contracts import billing as events
from contracts import profiler as profiler_events
from servicekit.db import user_transaction
from servicekit.events import Event
from servicekit.events.consumer import Subscription
from servicekit.events.streams import stream_name


def subscriptions(settings: BillingSettings) -> list[Subscription]:
    provider = build_payment_provider(settings)

    async def apply(db: AsyncSession, event: Event) -> None:
        received = events.StripeEventReceived.model_validate(event.data)
        await apply_stripe_event(db, provider, settings, received.stripe_event_id)

    async def record_failure(engine: AsyncEngine, event: Event, error: str, deliveries: int) -> None:
        # The failed attempt rolled back; keep what went wrong on the stored event.
        received = events.StripeEventReceived.model_validate(event.data)
        async with user_transaction(engine, None) as db:
            await db.exec(  # type: ignore[call-overload]
                text(f"UPDATE {SCHEMA}.stripe_events SET error = :error, attempts = :n WHERE id = :id"),
                params={"error": error[:2000], "n": deliveries, "id": received.stripe_event_id},
            )

    async def count_persona(db: AsyncSession, event: Event) -> None:
        user_id = event.user_id()
        if user_id is not None:
            await usage_service.record_persona_generated(db, user_id, event.time)

    return [
        Subscription(
            durable="billing-usage-personas",
            stream=stream_name("profiler"),
            filter_subject=profiler_events.PERSONA_GENERATED,
            handler=count_persona,
        ),
        Subscription(
            durable="billing-stripe-events",
            stream=stream_name("billing"),
            filter_subject=events.STRIPE_EVENT_RECEIVED,
            handler=apply,
            max_deliver=8,
            backoff=(1, 5, 30, 120, 600, 1800, 3600),
            ack_wait=settings.stripe_apply_ack_wait_seconds,
            batch=32,
            concurrency=8,  # apply_stripe_event locks per user and per subscription
            on_failure=record_failure,
        ),
    ]


def background(settings: BillingSettings) -> list[Callable[[], Coroutine[Any, Any, None]]]:
    return [lambda: run_tier_checks(settings)]
