"""Billing consumers: Stripe events (a work queue), usage from profiler's events, and the
scheduled tier check."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from billing.metrics import STRIPE_FAILED
from billing.payments.factory import build_payment_provider
from billing.payments.provider import PaymentProvider
from billing.settings import BillingSettings
from billing.subscriptions.scheduler import run_tier_checks
from billing.usage import service as usage_service
from billing.webhooks import repository as webhooks_repository
from billing.webhooks.apply import Step, prepare_stripe_event
from contracts import billing as events
from contracts import profiler as profiler_events
from servicekit.db import user_transaction
from servicekit.events import Event, on
from servicekit.events.consumer import Subscription


def subscriptions(settings: BillingSettings) -> list[Subscription]:
    providers: dict[int, PaymentProvider] = {}

    def provider_for(engine: AsyncEngine) -> PaymentProvider:
        # The local provider keeps its records with the worker's engine, known only when it runs.
        if id(engine) not in providers:
            providers[id(engine)] = build_payment_provider(settings, engine)
        return providers[id(engine)]

    async def prepare(engine: AsyncEngine, received: events.StripeEventReceived, _: Event) -> Step | None:
        # Provider calls (re-fetches, a prorated cancel) happen here, with no transaction open.
        return await prepare_stripe_event(engine, provider_for(engine), settings, received.stripe_event_id)

    async def record_failure(
        engine: AsyncEngine, received: events.StripeEventReceived, _: Event, error: str, deliveries: int
    ) -> None:
        # The failed attempt rolled back; keep what went wrong on the stored event.
        STRIPE_FAILED.inc()
        async with user_transaction(engine, None) as db:
            await webhooks_repository.record_failure(db, received.stripe_event_id, error, deliveries)

    async def count_persona(db: AsyncSession, _: profiler_events.PersonaGenerated, event: Event) -> None:
        user_id = event.user_id()
        if user_id is not None:
            await usage_service.record_persona_generated(db, user_id, event.time)

    return [
        on(profiler_events.PersonaGenerated, count_persona, durable="billing-usage-personas"),
        on(
            events.StripeEventReceived,
            durable="billing-stripe-events",
            prepare=prepare,
            on_failure=record_failure,
            max_deliver=8,
            backoff=(1, 5, 30, 120, 600, 1800, 3600),
            ack_wait=settings.stripe_apply_ack_wait_seconds,
            batch=32,
            concurrency=8,  # each apply locks its stored event and its user
        ),
    ]


def background(settings: BillingSettings) -> list[Callable[[], Coroutine[Any, Any, None]]]:
    return [lambda: run_tier_checks(settings)]
