"""The local payment provider: Stripe's shapes without Stripe, for `make run` without keys.

Checkout returns a page served through the gateway; confirming it creates a Stripe-shaped
subscription and hands Stripe-shaped events to the webhook intake, so the purchase is applied
by the same worker code a verified Stripe webhook reaches. Refused in production (settings).

Like Stripe, it keeps its own records: through `local_repository`, each call in a short
transaction of its own on the engine it was built with, as the user it is told of (RLS)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from billing.models import LocalCheckout, LocalPortalSession, Plan
from billing.payments import local_repository
from billing.payments.provider import CheckoutLink, StripeObject
from billing.plans import service as plans_service
from billing.settings import BillingSettings
from billing.subscriptions import one_paid
from billing.webhooks.intake import store_event
from servicekit.db import lock_user, user_transaction
from servicekit.errors import Conflict, NotFound, ProblemError

DAY = 24 * 3600
CHECKOUT_PREFIX = "cs_local_"


class LinkExpired(ProblemError):
    status = 410


def _order(checkout: LocalCheckout) -> tuple[int, str]:
    """Attempts in the order billing handed them out; checkouts from before attempts come first."""
    return checkout.attempt or 0, str(checkout.id)


class LocalProvider:
    name = "local"

    def __init__(self, settings: BillingSettings, engine: AsyncEngine) -> None:
        self.settings = settings
        self.engine = engine

    def _url(self, path: str) -> str:
        return f"{self.settings.public_base_url}/api/v1/billing/local/{path}"

    async def create_customer(self, user_id: uuid.UUID) -> str:
        return f"cus_local_{uuid.uuid4().hex}"

    async def create_checkout(
        self,
        *,
        user_id: uuid.UUID,
        customer_id: str,
        plan_id: str,
        price_id: str,
        idempotency_key: str,
        attempt: int,
    ) -> CheckoutLink:
        async with user_transaction(self.engine, user_id) as db:
            await lock_user(db, user_id)  # this provider's own records, one checkout at a time
            checkout = await local_repository.checkout_by_key(db, user_id, idempotency_key)
            if checkout is not None:
                if checkout.plan_id != plan_id:
                    raise Conflict("this Idempotency-Key was already used for a different plan")
                # A retry gets its checkout as it is, as Stripe replays a session.
                return self._link(checkout)
            now = datetime.now(UTC)
            checkout = await local_repository.add_checkout(
                db,
                LocalCheckout(
                    user_id=user_id,
                    plan_id=plan_id,
                    stripe_customer_id=customer_id,
                    idempotency_key=idempotency_key,
                    attempt=attempt,
                    created_at=now,
                    expires_at=now + timedelta(seconds=self.settings.local_checkout_ttl_seconds),
                ),
            )
            # One payable checkout per student, as with Stripe: the latest attempt's.
            others = [c for c in await local_repository.open_checkouts(db) if c.id != checkout.id]
            superseded = [c.id for c in others if _order(c) < _order(checkout)]
            if any(_order(c) > _order(checkout) for c in others):
                superseded.append(checkout.id)
            await local_repository.expire_checkouts(db, superseded)
            return self._link(checkout)

    def _link(self, checkout: LocalCheckout) -> CheckoutLink:
        return CheckoutLink(
            id=f"{CHECKOUT_PREFIX}{checkout.id.hex}", url=self._url(f"checkout/{checkout.user_id}/{checkout.id}")
        )

    async def expire_checkout(self, checkout_id: str, *, user_id: uuid.UUID) -> None:
        async with user_transaction(self.engine, user_id) as db:
            await local_repository.expire_checkouts(db, [uuid.UUID(hex=checkout_id.removeprefix(CHECKOUT_PREFIX))])

    async def portal_url(self, *, user_id: uuid.UUID, customer_id: str) -> str:
        """A fresh single-use, short-lived session, never the long-lived customer id."""
        expires_at = datetime.now(UTC) + timedelta(seconds=self.settings.local_portal_ttl_seconds)
        async with user_transaction(self.engine, user_id) as db:
            session = await local_repository.add_portal_session(db, user_id, customer_id, expires_at)
        return self._url(f"portal/{user_id}/{session.id}")

    async def retrieve_subscription(self, subscription_id: str, *, user_id: uuid.UUID | None) -> StripeObject:
        async with user_transaction(self.engine, user_id) as db:
            row = await local_repository.subscription(db, subscription_id)
        if row is None:
            raise LookupError(f"no local subscription {subscription_id}")
        return dict(row.object)

    async def retrieve_customer(self, customer_id: str, *, user_id: uuid.UUID | None) -> StripeObject:
        async with user_transaction(self.engine, user_id) as db:
            row = await local_repository.customer_by_stripe_id(db, customer_id)
        if row is None:
            raise LookupError(f"no local customer {customer_id}")
        return {"id": customer_id, "object": "customer", "metadata": {"user_id": str(row.user_id)}}

    async def set_cancel_at_period_end(self, subscription_id: str, cancel: bool, *, user_id: uuid.UUID) -> StripeObject:
        changes = {"cancel_at_period_end": cancel, "canceled_at": int(time.time()) if cancel else None}
        return await self._change(subscription_id, user_id, changes, "customer.subscription.updated")

    async def cancel_subscription(self, subscription_id: str, *, user_id: uuid.UUID) -> StripeObject:
        now = int(time.time())
        changes = {"status": "canceled", "canceled_at": now, "ended_at": now}
        return await self._change(subscription_id, user_id, changes, "customer.subscription.deleted")

    async def _change(
        self, subscription_id: str, user_id: uuid.UUID, changes: dict[str, Any], kind: str
    ) -> StripeObject:
        async with user_transaction(self.engine, user_id) as db:
            row = await local_repository.subscription(db, subscription_id, for_update=True)
            if row is None:
                raise NotFound(f"no subscription {subscription_id}")
            changed = {**row.object, **changes}
            await local_repository.save_subscription(db, row, changed)
            await self._deliver(db, kind, changed)
        return changed

    # --- the local pages: what Stripe's hosted pages do ------------------------------------

    async def checkout_page(self, user_id: uuid.UUID, checkout_id: uuid.UUID) -> tuple[LocalCheckout, Plan]:
        async with user_transaction(self.engine, user_id) as db:
            checkout = await self._checkout(db, checkout_id)
            plan = await plans_service.get_plan(db, checkout.plan_id)
        if checkout.status == "expired" or (checkout.status == "open" and checkout.expires_at <= datetime.now(UTC)):
            raise LinkExpired("this checkout has expired: start a new one")
        return checkout, plan

    async def confirm_checkout(self, user_id: uuid.UUID, checkout_id: uuid.UUID) -> tuple[StripeObject, Plan]:
        """What paying on Stripe's page does: a subscription, then the webhooks Stripe would send.
        Single use, until it expires, and never a second paid subscription."""
        async with user_transaction(self.engine, user_id) as db:
            checkout = await self._checkout(db, checkout_id)
            plan = await plans_service.get_plan(db, checkout.plan_id)
            return await self._pay(db, checkout, plan), plan

    @staticmethod
    async def _checkout(db: AsyncSession, checkout_id: uuid.UUID) -> LocalCheckout:
        checkout = await local_repository.checkout(db, checkout_id)
        if checkout is None:
            raise NotFound("no such checkout")
        return checkout

    async def _pay(self, db: AsyncSession, checkout: LocalCheckout, plan: Plan) -> StripeObject:
        if checkout.status == "completed":
            raise Conflict("this checkout is already completed")
        if checkout.status == "expired" or checkout.expires_at <= datetime.now(UTC):
            raise LinkExpired("this checkout has expired: start a new one")
        await lock_user(db, checkout.user_id)  # one confirm at a time per user
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
        await local_repository.add_subscription(db, checkout.user_id, subscription)
        checkout.status = "completed"
        checkout.completed_at = datetime.now(UTC)
        await local_repository.add_checkout(db, checkout)
        session = {
            "id": f"{CHECKOUT_PREFIX}{checkout.id.hex}",
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

    async def open_portal_session(self, user_id: uuid.UUID, session_id: uuid.UUID) -> None:
        """410 unless the portal session can still be used."""
        async with user_transaction(self.engine, user_id) as db:
            await self._portal_session(db, session_id)

    async def spend_portal_session(self, user_id: uuid.UUID, session_id: uuid.UUID) -> None:
        """Single use: spent before its action runs, so two clicks cannot both act."""
        async with user_transaction(self.engine, user_id) as db:
            session = await self._portal_session(db, session_id)
            await local_repository.set_portal_session_used(db, session, datetime.now(UTC))

    async def restore_portal_session(self, user_id: uuid.UUID, session_id: uuid.UUID) -> None:
        """Its action was refused (nothing changed): the link works again."""
        async with user_transaction(self.engine, user_id) as db:
            session = await local_repository.portal_session(db, session_id)
            if session is not None:
                await local_repository.set_portal_session_used(db, session, None)

    @staticmethod
    async def _portal_session(db: AsyncSession, session_id: uuid.UUID) -> LocalPortalSession:
        session = await local_repository.portal_session(db, session_id)
        if session is None:
            raise NotFound("no such billing portal session")
        if session.used_at is not None or session.expires_at <= datetime.now(UTC):
            raise LinkExpired("this billing portal link is used or expired: open the portal again")
        return session

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
