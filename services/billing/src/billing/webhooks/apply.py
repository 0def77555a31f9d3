"""The billing worker's job: apply one stored Stripe event, exactly once."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from billing.models import StripeEventRecord
from billing.payments.provider import PaymentProvider
from billing.settings import BillingSettings
from billing.subscriptions import one_paid
from billing.subscriptions import repository as subscriptions_repository
from billing.subscriptions import service as subscriptions_service
from billing.subscriptions.stripe_objects import invoice_subscription_id, metadata_user
from servicekit.db import set_rls_user
from servicekit.logging import get_logger

log = get_logger(__name__)

SUBSCRIPTION_EVENTS = {
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.trial_will_end",
    "customer.subscription.paused",
    "customer.subscription.resumed",
}
INVOICE_EVENTS = {"invoice.paid", "invoice.payment_failed", "invoice.payment_succeeded"}


async def _user_of(db: AsyncSession, provider: PaymentProvider, subscription: dict[str, Any]) -> uuid.UUID:
    """We put the user id in the metadata of every customer and subscription we create; when
    it is missing, a row we already hold names the user (read across users by the narrow
    SECURITY DEFINER lookups), and last the provider's customer metadata."""
    user_id = metadata_user(subscription) or await subscriptions_repository.owner_of_subscription(
        db, str(subscription.get("id"))
    )
    customer = subscription.get("customer")
    if user_id is None and customer:
        user_id = await subscriptions_repository.owner_of_customer(db, str(customer))
        if user_id is None:
            user_id = metadata_user(await provider.retrieve_customer(db, str(customer)))
    if user_id is None:
        raise LookupError(f"subscription {subscription.get('id')} names no Journey user")
    return user_id


def _fetched_at(event_created: int) -> int:
    """A re-fetched subscription is the state as of the fetch, not as of the event that made
    us fetch it: an older event delivered later must not override it. Never below the event's
    own time, in case our clock runs behind Stripe's."""
    return max(int(time.time()), event_created)


async def _known_owner(db: AsyncSession, subscription_id: str, customer_id: Any) -> uuid.UUID | None:
    """The user of rows we already hold, before the provider is asked (the local provider
    reads its own rows, which RLS hides until the user is set)."""
    user_id = await subscriptions_repository.owner_of_subscription(db, subscription_id)
    if user_id is None and isinstance(customer_id, str):
        user_id = await subscriptions_repository.owner_of_customer(db, customer_id)
    return user_id


async def _apply(
    db: AsyncSession,
    provider: PaymentProvider,
    user_id: uuid.UUID,
    subscription: dict[str, Any],
    stamp: int,
    settings: BillingSettings,
) -> None:
    await subscriptions_service.apply_subscription(db, user_id, subscription, stamp, settings)
    # Money may have moved twice (two checkouts paid within seconds): settle it here.
    await one_paid.keep_newest(db, provider, user_id, settings)


async def apply_stripe_event(
    db: AsyncSession, provider: PaymentProvider, settings: BillingSettings, stripe_event_id: str
) -> None:
    record = await db.get(StripeEventRecord, stripe_event_id, with_for_update=True)
    if record is None:
        raise LookupError(f"stripe event {stripe_event_id} is not stored")
    if record.processed_at is not None:
        return
    event = record.payload
    kind, obj, created = event["type"], event["data"]["object"], int(event["created"])

    if kind == "checkout.session.completed":
        user_id = metadata_user(obj)
        if user_id is None:
            raise LookupError(f"checkout session {obj.get('id')} has no client_reference_id")
        await set_rls_user(db, user_id)
        if obj.get("customer"):
            await subscriptions_repository.ensure_customer(db, user_id, str(obj["customer"]))
        if obj.get("subscription"):
            subscription = await provider.retrieve_subscription(db, str(obj["subscription"]))
            await _apply(db, provider, user_id, subscription, _fetched_at(created), settings)
    elif kind in SUBSCRIPTION_EVENTS:
        user_id = await _user_of(db, provider, obj)
        await set_rls_user(db, user_id)
        await _apply(db, provider, user_id, obj, created, settings)
    elif kind in INVOICE_EVENTS:
        subscription_id = invoice_subscription_id(obj)
        if subscription_id:
            known = await _known_owner(db, subscription_id, obj.get("customer"))
            if known is not None:
                await set_rls_user(db, known)
            # An invoice carries no subscription state: take Stripe's current one.
            subscription = await provider.retrieve_subscription(db, subscription_id)
            user_id = await _user_of(db, provider, subscription)
            if known is not None and user_id != known:
                raise LookupError(f"subscription {subscription_id} is held for another user than its metadata names")
            await set_rls_user(db, user_id)
            await _apply(db, provider, user_id, subscription, _fetched_at(created), settings)
    else:
        log.info("stripe_event_ignored", type=kind)

    record.processed_at = datetime.now(UTC)
    record.attempts += 1
    record.error = None
    db.add(record)
    await db.flush()
