"""Webhook intake: verify with Stripe's own check, store by event id, queue for the worker.

The local payment provider hands its events to `store_event` too, so a local purchase
takes the same path as a verified Stripe webhook from there on."""

from __future__ import annotations

import json
from typing import Any

import stripe
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from billing import SCHEMA
from billing.settings import BillingSettings
from billing.subscriptions.stripe_objects import metadata_user
from contracts import billing as events
from servicekit.errors import ProblemError
from servicekit.events import new_event
from servicekit.events.outbox import add_event


class BadWebhook(ProblemError):
    status = 400


def verify(payload: bytes, signature: str | None, settings: BillingSettings) -> dict[str, Any]:
    """The event as a dict, or 400: missing/bad signature, stale timestamp, or not an event."""
    if not signature:
        raise BadWebhook("missing Stripe-Signature header")
    try:
        stripe.Webhook.construct_event(
            payload,
            signature,
            settings.stripe_webhook_secret.get_secret_value(),
            tolerance=settings.stripe_webhook_tolerance_seconds,
        )
        event = json.loads(payload)
    except stripe.SignatureVerificationError as exc:
        raise BadWebhook(f"signature verification failed: {exc.user_message or exc}") from exc
    except ValueError as exc:
        raise BadWebhook("body is not a JSON Stripe event") from exc
    if not (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and isinstance(event.get("type"), str)
        and isinstance(event.get("created"), int)
        and isinstance((event.get("data") or {}).get("object"), dict)
    ):
        raise BadWebhook("body is not a Stripe event (id, type, created, data.object)")
    return event


async def store_event(db: AsyncSession, event: dict[str, Any]) -> bool:
    """Store once by Stripe event id and queue it; False for a repeat (nothing changes)."""
    result = await db.exec(  # type: ignore[call-overload]
        text(
            f"INSERT INTO {SCHEMA}.stripe_events (id, type, payload, livemode) "
            "VALUES (:id, :type, CAST(:payload AS jsonb), :livemode) ON CONFLICT (id) DO NOTHING"
        ),
        params={
            "id": event["id"],
            "type": event["type"],
            "payload": json.dumps(event),
            "livemode": bool(event.get("livemode")),
        },
    )
    if result.rowcount == 0:
        return False
    received = events.StripeEventReceived(stripe_event_id=event["id"], type=event["type"])
    user_id = metadata_user(event["data"]["object"])
    await add_event(db, SCHEMA, new_event(events.STRIPE_EVENT_RECEIVED, user_id=user_id, data=received.model_dump()))
    return True
