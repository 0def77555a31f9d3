"""The local payment provider: Stripe's shapes without Stripe, for `make run` without keys.

Checkout returns a page served through the gateway; confirming it creates a Stripe-shaped
subscription and hands Stripe-shaped events to the webhook intake, so the purchase is applied
by the same worker code a verified Stripe webhook reaches. Refused in production (settings)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from billing.models import Customer, LocalCheckout, LocalSubscription, Plan
from billing.payments import local_repository
from billing.payments.provider import CheckoutLink, StripeObject
from billing.settings import BillingSettings
from billing.subscriptions import one_paid
from billing.subscriptions import repository as subscriptions_repository
from billing.webhooks.intake import store_event
from servicekit.errors import Conflict, NotFound, ProblemError

DAY = 24 * 3600


class LinkExpired(ProblemError):
    status = 410


class LocalProvider:
    name = "local"

    def __init__(self, settings: BillingSettings) -> None:
        self.settings = settings

    def _url(self, path: str) -> str:
        return f"{self.settings.public_base_url}/api/v1/billing/local/{path}"

    async def create_customer(self, db: AsyncSession, user_id: uuid.UUID) -> str:
        return f"cus_local_{uuid.uuid4().hex}"

    async def create_checkout(
        self,
        db: AsyncSession,
        *,
        user_id: uuid.UUID,
        customer_id: str,
        plan_id: str,
        price_id: str,
        idempotency_key: str,
    ) -> CheckoutLink:
        checkout = await local_repository.checkout_by_key(db, user_id, idempotency_key)
        if checkout is not None and checkout.plan_id != plan_id:
            raise Conflict("this Idempotency-Key was already used for a different plan")
        if checkout is None:
            now = datetime.now(UTC)
            checkout = LocalCheckout(
                user_id=user_id,
                plan_id=plan_id,
                stripe_customer_id=customer_id,
                idempotency_key=idempotency_key,
                created_at=now,
                expires_at=now + timedelta(seconds=self.settings.local_checkout_ttl_seconds),
            )
            db.add(checkout)
            await db.flush()
        # One payable checkout per student, as with Stripe: older open ones expire.
        await local_repository.expire_older_open_checkouts(db, checkout)
        return CheckoutLink(id=f"cs_local_{checkout.id.hex}", url=self._url(f"checkout/{user_id}/{checkout.id}"))

    async def portal_url(self, db: AsyncSession, *, user_id: uuid.UUID, customer_id: str) -> str:
        """A fresh single-use, short-lived session, never the long-lived customer id."""
        expires_at = datetime.now(UTC) + timedelta(seconds=self.settings.local_portal_ttl_seconds)
        session = await local_repository.add_portal_session(db, user_id, customer_id, expires_at)
        return self._url(f"portal/{user_id}/{session.id}")

    async def retrieve_subscription(self, db: AsyncSession, subscription_id: str) -> StripeObject:
        row = await db.get(LocalSubscription, subscription_id)
        if row is None:
            raise LookupError(f"no local subscription {subscription_id}")
        return dict(row.object)

    async def retrieve_customer(self, db: AsyncSession, customer_id: str) -> StripeObject:
        row = (await db.exec(select(Customer).where(Customer.stripe_customer_id == customer_id))).first()
        if row is None:
            raise LookupError(f"no local customer {customer_id}")
        return {"id": customer_id, "object": "customer", "metadata": {"user_id": str(row.user_id)}}

    async def set_cancel_at_period_end(self, db: AsyncSession, subscription_id: str, cancel: bool) -> StripeObject:
        row = await db.get(LocalSubscription, subscription_id, with_for_update=True)
        if row is None:
            raise NotFound(f"no subscription {subscription_id}")
        updated = {**row.object, "cancel_at_period_end": cancel, "canceled_at": int(time.time()) if cancel else None}
        row.object = updated
        db.add(row)
        await db.flush()
        await self._deliver(db, "customer.subscription.updated", updated)
        return updated

    async def confirm_checkout(self, db: AsyncSession, checkout: LocalCheckout, plan: Plan) -> StripeObject:
        """What paying on Stripe's page does: a subscription, then the webhooks Stripe would send.
        Single use, until it expires, and never a second paid subscription."""
        if checkout.status == "completed":
            raise Conflict("this checkout is already completed")
        if checkout.status == "expired" or checkout.expires_at <= datetime.now(UTC):
            raise LinkExpired("this checkout has expired: start a new one")
        await subscriptions_repository.lock_user(db, checkout.user_id)  # one confirm at a time per user
        await one_paid.refuse_second(db, plan)
        if await local_repository.paying_subscription_ids(db, one_paid.PAID_LIVE):
            # Paid a moment ago and not applied yet: the provider's own record says so.
            raise Conflict("you already have a paid subscription: change plans in the billing portal")
        now = int(time.time())
        period_end = now + (365 if plan.interval == "year" else 30) * DAY
        subscription: dict[str, Any] = {
            "id": f"sub_local_{uuid.uuid4().hex}",
            "object": "subscription",
            "customer": checkout.stripe_customer_id,
            "status": "active",
            "cancel_at_period_end": False,
            "canceled_at": None,
            "trial_end": None,
            "created": now,
            "current_period_end": period_end,
            "metadata": {"user_id": str(checkout.user_id), "plan_id": plan.id},
            "items": {
                "object": "list",
                "data": [{"price": {"id": plan.stripe_price_id}, "current_period_end": period_end}],
            },
        }
        db.add(LocalSubscription(id=subscription["id"], user_id=checkout.user_id, object=subscription))
        checkout.status = "completed"
        checkout.completed_at = datetime.now(UTC)
        db.add(checkout)
        await db.flush()
        session = {
            "id": f"cs_local_{checkout.id.hex}",
            "object": "checkout.session",
            "mode": "subscription",
            "client_reference_id": str(checkout.user_id),
            "customer": checkout.stripe_customer_id,
            "subscription": subscription["id"],
            "metadata": {"user_id": str(checkout.user_id), "plan_id": plan.id},
        }
        await self._deliver(db, "checkout.session.completed", session)
        await self._deliver(db, "customer.subscription.created", subscription)
        return subscription

    async def cancel_subscription(self, db: AsyncSession, subscription_id: str) -> StripeObject:
        row = await db.get(LocalSubscription, subscription_id, with_for_update=True)
        if row is None:
            raise NotFound(f"no subscription {subscription_id}")
        now = int(time.time())
        canceled = {**row.object, "status": "canceled", "canceled_at": now, "ended_at": now}
        row.object = canceled
        db.add(row)
        await db.flush()
        await self._deliver(db, "customer.subscription.deleted", canceled)
        return canceled

    async def _deliver(self, db: AsyncSession, kind: str, obj: dict[str, Any]) -> None:
        event = {
            "id": f"evt_local_{uuid.uuid4().hex}",
            "object": "event",
            "type": kind,
            "created": int(time.time()),
            "livemode": False,
            "api_version": "local",
            "data": {"object": obj},
        }
        await store_event(db, event)
