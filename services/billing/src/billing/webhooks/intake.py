"""Webhook intake: verify with Stripe's own signature check, store by event id, queue for the worker.

The webhook stores on the kit's direct path (`receive`, one transaction of three statements
after the checks); the local payment provider hands its events to `store_event`, inside its own
ORM transaction, so a local purchase takes the same path as a verified Stripe webhook from the
stored row on."""

from __future__ import annotations

import json
import time
from typing import Any

import stripe
from sqlmodel.ext.asyncio.session import AsyncSession

from billing.metrics import STRIPE_RECEIVED
from billing.settings import BillingSettings
from billing.subscriptions.stripe_objects import metadata_user
from billing.webhooks import repository
from contracts import billing as events
from servicekit import direct
from servicekit.errors import ProblemError
from servicekit.events import emit, emit_direct
from servicekit.text_guard import find_unstorable, json_depth_exceeds


class BadWebhook(ProblemError):
    status = 400


MAX_DEPTH = 64  # Stripe events nest a handful of levels; the SDK recurses without a bound
MAX_CREATED = 2**53  # `created` is stored as bigint and read as a JSON number
# Stripe's ids and event types are short; the id is a btree key, which PostgreSQL caps at 2,704
# bytes (a longer one was a 500).
MAX_ID_LENGTH = 255


def _signed_at(signature: str) -> int | None:
    """The timestamp the SDK verified: the first item named exactly `t` (no spaces stripped), so
    a future one cannot hide behind an earlier ` t=<now>` that only looks like it."""
    for item in signature.split(","):
        key, _, value = item.partition("=")
        if key == "t":
            return int(value) if value.isascii() and value.isdigit() else None
    return None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON PostgreSQL can store")


def _parse(payload: bytes) -> Any:
    """The body as JSON, refusing what PostgreSQL or the SDK cannot take."""
    try:
        # Very deep input exhausts the recursion of json.loads itself.
        return json.loads(payload, parse_constant=_refuse_constant)
    except RecursionError as exc:
        raise BadWebhook(f"body nests deeper than {MAX_DEPTH} levels") from exc
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError included
        raise BadWebhook("body is not a JSON Stripe event") from exc


def verify(
    payload: bytes, signature: str | None, settings: BillingSettings, *, now: float | None = None
) -> dict[str, Any]:
    """The event as a dict, or 400: missing/bad signature, a timestamp more than the tolerance
    away (either direction), a body that is not a storable JSON object, or not an event."""
    if not signature:
        raise BadWebhook("missing Stripe-Signature header")
    tolerance = settings.stripe_webhook_tolerance_seconds
    try:
        # Only the HMAC and the past bound: the body is not handed to the SDK's parser.
        stripe.WebhookSignature.verify_header(
            payload, signature, settings.stripe_webhook_secret.get_secret_value(), tolerance
        )
    except stripe.SignatureVerificationError as exc:
        raise BadWebhook(f"signature verification failed: {exc.user_message or exc}") from exc
    except ValueError as exc:  # a body that is not UTF-8
        raise BadWebhook("body is not a JSON Stripe event") from exc
    signed_at = _signed_at(signature)
    if signed_at is None or abs((now or time.time()) - signed_at) > tolerance:
        # The SDK only rejects old timestamps; a future one would make a replay window.
        raise BadWebhook(f"signature timestamp is more than {tolerance} s away from now")
    event = _parse(payload)
    if not isinstance(event, dict):
        raise BadWebhook("body is not a JSON object")
    if json_depth_exceeds(event, MAX_DEPTH):
        raise BadWebhook(f"body nests deeper than {MAX_DEPTH} levels")
    unstorable = find_unstorable(event)
    if unstorable is not None:
        path, reason = unstorable
        # The location may hold the offending character itself: escape it for the answer.
        where = ".".join(map(str, path)).encode("ascii", "backslashreplace").decode() or "the top level"
        raise BadWebhook(f"body {reason} at {where}")
    created = event.get("created")
    if not (
        isinstance(event.get("id"), str)
        and isinstance(event.get("type"), str)
        and isinstance(created, int)
        and not isinstance(created, bool)
        and 0 <= created < MAX_CREATED
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    ):
        raise BadWebhook("body is not a Stripe event (id, type, created, data.object)")
    if len(event["id"]) > MAX_ID_LENGTH or len(event["type"]) > MAX_ID_LENGTH:
        raise BadWebhook(f"body's id or type is longer than {MAX_ID_LENGTH} characters")
    if not isinstance(event["data"]["object"].get("metadata") or {}, dict):
        raise BadWebhook("body's data.object.metadata is not an object")
    return event


def _counted(event: dict[str, Any], stored: bool) -> events.StripeEventReceived | None:
    """The event to queue for a newly stored Stripe event, None for a repeat."""
    STRIPE_RECEIVED.labels(event["type"], str(not stored).lower()).inc()
    return events.StripeEventReceived(stripe_event_id=event["id"], type=event["type"]) if stored else None


async def store_event(db: AsyncSession, event: dict[str, Any]) -> bool:
    """Store once by Stripe event id and queue it; False for a repeat (nothing changes)."""
    received = _counted(event, await repository.insert(db, event))
    if received is not None:
        await emit(db, received, user_id=metadata_user(event["data"]["object"]))
    return received is not None


async def receive(pool: direct.DirectPool, event: dict[str, Any]) -> bool:
    """`store_event` in a transaction of its own on the kit's direct path (the webhook's)."""
    async with direct.direct_transaction(pool, None) as tx:
        received = _counted(event, await repository.insert_direct(tx, event))
        if received is not None:
            await emit_direct(tx, received, user_id=metadata_user(event["data"]["object"]))
    return received is not None
