"""The billing worker's job: apply one stored Stripe event, exactly once, in two phases.

`prepare_stripe_event` runs with no transaction open: it reads the stored event, finds the user,
asks the provider for what the event does not carry (the subscription of a completed checkout or
an invoice, a customer's metadata) and settles a second paid subscription at the provider. It
returns the step the consumer runs in its transaction with the inbox claim: lock the stored
event, apply the states, re-check one paid subscription, mark it processed."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from billing.metrics import STRIPE_APPLIED, STRIPE_LAG
from billing.payments.provider import PaymentProvider, StripeObject
from billing.settings import BillingSettings
from billing.subscriptions import one_paid
from billing.subscriptions import repository as subscriptions_repository
from billing.subscriptions import service as subscriptions_service
from billing.subscriptions.stripe_objects import invoice_subscription_id, metadata_user
from billing.webhooks import repository
from servicekit.db import set_rls_user, user_transaction
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
Step = Callable[[AsyncSession], Awaitable[None]]


@dataclass
class Resolved:
    """What applying one event means, worked out before the transaction."""

    user_id: uuid.UUID | None = None
    customer_id: str | None = None  # ensured for the user (a completed checkout)
    states: list[tuple[StripeObject, int]] = field(default_factory=list)  # (subscription, stamp), in order


async def _owners(engine: AsyncEngine, subscription_id: str, customer_id: Any) -> uuid.UUID | None:
    """The user of rows we already hold, read across users by the narrow SECURITY DEFINER lookups."""
    async with user_transaction(engine, None) as db:
        user_id = await subscriptions_repository.owner_of_subscription(db, subscription_id)
        if user_id is None and isinstance(customer_id, str):
            user_id = await subscriptions_repository.owner_of_customer(db, customer_id)
    return user_id


async def _user_of(
    engine: AsyncEngine, provider: PaymentProvider, subscription: dict[str, Any], known: uuid.UUID | None = None
) -> uuid.UUID:
    """We put the user id in the metadata of every customer and subscription we create; when
    it is missing, a row we already hold names the user, and last the provider's customer
    metadata (the local provider reads it as `known`, the owner already found, if any)."""
    user_id = metadata_user(subscription) or await _owners(
        engine, str(subscription.get("id")), subscription.get("customer")
    )
    customer = subscription.get("customer")
    if user_id is None and customer:
        user_id = metadata_user(await provider.retrieve_customer(str(customer), user_id=known))
    if user_id is None:
        raise LookupError(f"subscription {subscription.get('id')} names no Journey user")
    return user_id


def _fetched_at(event_created: int) -> int:
    """A re-fetched subscription is the state as of the fetch, not as of the event that made
    us fetch it: an older event delivered later must not override it. Never below the event's
    own time, in case our clock runs behind Stripe's."""
    return max(int(time.time()), event_created)


async def _resolve(engine: AsyncEngine, provider: PaymentProvider, event: dict[str, Any]) -> Resolved:
    kind, obj, created = event["type"], event["data"]["object"], int(event["created"])
    if kind == "checkout.session.completed":
        user_id = metadata_user(obj)
        if user_id is None:
            raise LookupError(f"checkout session {obj.get('id')} has no client_reference_id")
        resolved = Resolved(user_id, str(obj["customer"]) if obj.get("customer") else None)
        if obj.get("subscription"):
            subscription = await provider.retrieve_subscription(str(obj["subscription"]), user_id=user_id)
            resolved.states.append((subscription, _fetched_at(created)))
        return resolved
    if kind in SUBSCRIPTION_EVENTS:  # the object carries the state
        return Resolved(await _user_of(engine, provider, obj), states=[(obj, created)])
    if kind in INVOICE_EVENTS:
        subscription_id = invoice_subscription_id(obj)
        if not subscription_id:
            return Resolved()
        # The local provider reads its own rows as their user, so the owner we know goes first.
        known = await _owners(engine, subscription_id, obj.get("customer"))
        # An invoice carries no subscription state: take Stripe's current one.
        subscription = await provider.retrieve_subscription(subscription_id, user_id=known)
        user_id = await _user_of(engine, provider, subscription, known)
        if known is not None and user_id != known:
            raise LookupError(f"subscription {subscription_id} is held for another user than its metadata names")
        return Resolved(user_id, states=[(subscription, _fetched_at(created))])
    log.info("stripe_event_ignored", type=kind)
    return Resolved()


async def prepare_stripe_event(
    engine: AsyncEngine, provider: PaymentProvider, settings: BillingSettings, stripe_event_id: str
) -> Step | None:
    """Phase one, with no transaction open; None when the event was applied already."""
    async with user_transaction(engine, None) as db:
        record = await repository.get(db, stripe_event_id)
    if record is None:
        raise LookupError(f"stripe event {stripe_event_id} is not stored")
    if record.processed_at is not None:
        return None
    resolved = await _resolve(engine, provider, record.payload)
    if resolved.user_id is not None and resolved.states:
        # Money may have moved twice (two checkouts paid within seconds): settle it here.
        incoming = [state for state, _ in resolved.states]
        resolved.states += await one_paid.settle_second(engine, provider, resolved.user_id, incoming)

    async def apply(db: AsyncSession) -> None:
        await _apply(db, settings, stripe_event_id, resolved)

    return apply


async def _apply(db: AsyncSession, settings: BillingSettings, stripe_event_id: str, resolved: Resolved) -> None:
    record = await repository.get(db, stripe_event_id, for_update=True)
    if record is None:
        raise LookupError(f"stripe event {stripe_event_id} is not stored")
    if record.processed_at is not None:
        return  # another delivery applied it while this one prepared
    user_id = resolved.user_id
    if user_id is not None:
        # The envelope may say "system" (invoices): from here on, the transaction is the user's.
        await set_rls_user(db, user_id)
        if resolved.customer_id:
            await subscriptions_repository.ensure_customer(db, user_id, resolved.customer_id)
        for subscription, stamp in resolved.states:
            await subscriptions_service.apply_subscription(db, user_id, subscription, stamp, settings)
        if resolved.states:
            await one_paid.ensure_single(db, user_id)
    await repository.mark_processed(db, record)
    STRIPE_APPLIED.labels(str(record.payload["type"])).inc()
    STRIPE_LAG.observe(max(0.0, time.time() - int(record.payload["created"])))


async def apply_stripe_event(
    engine: AsyncEngine, provider: PaymentProvider, settings: BillingSettings, stripe_event_id: str
) -> None:
    """Both phases outside the consumer (tools, tests): prepare, then apply in one transaction."""
    step = await prepare_stripe_event(engine, provider, settings, stripe_event_id)
    if step is not None:
        async with user_transaction(engine, None) as db:
            await step(db)
