"""Starting a Checkout Session and opening the customer portal.

The payment provider is slow (Stripe over the network) and is never called with a transaction
open or a lock held: a short transaction decides (checks, the customer held, an attempt number),
the provider is called, and a second short transaction re-checks and records the answer."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from billing.checkout import repository
from billing.checkout.schemas import CheckoutOut
from billing.models import Plan
from billing.payments.provider import PaymentProvider
from billing.plans import service as plans_service
from billing.subscriptions import one_paid
from billing.subscriptions import repository as subscriptions_repository
from servicekit.db import lock_user, user_transaction
from servicekit.errors import NotFound, Unprocessable, brief
from servicekit.idempotency import Reservation


async def _buyable(db: AsyncSession, plan_id: str) -> Plan:
    plan = await plans_service.get_plan(db, plan_id)
    if plan.stripe_price_id is None:
        raise Unprocessable(f"plan {brief(plan_id)} is free: there is nothing to buy", errors=[{"field": "plan_id"}])
    return plan


async def _create_customer(engine: AsyncEngine, provider: PaymentProvider, user_id: uuid.UUID) -> str:
    """Create the user's customer once; of two checkouts doing it at once, the one stored first
    wins (Stripe's idempotency key makes both get the same customer anyway)."""
    created = await provider.create_customer(user_id)
    async with user_transaction(engine, user_id) as db:
        await subscriptions_repository.ensure_customer(db, user_id, created)
        held = await subscriptions_repository.customer(db, user_id)
    return held.stripe_customer_id if held else created


async def start_checkout(
    engine: AsyncEngine,
    provider: PaymentProvider,
    user_id: uuid.UUID,
    plan_id: str,
    idempotency_key: str,
    reservation: Reservation,
) -> CheckoutOut:
    async with user_transaction(engine, user_id) as db:
        plan = await _buyable(db, plan_id)
        await lock_user(db, user_id)  # consistent with a local confirm or an apply running now
        await one_paid.refuse_second(db, plan)
        customer = await subscriptions_repository.customer(db, user_id)
        # Orders this checkout against concurrent ones: the provider leaves the latest payable.
        attempt = await repository.next_attempt(db)
    assert plan.stripe_price_id is not None  # _buyable
    customer_id = customer.stripe_customer_id if customer else await _create_customer(engine, provider, user_id)
    link = await provider.create_checkout(
        user_id=user_id,
        customer_id=customer_id,
        plan_id=plan.id,
        price_id=plan.stripe_price_id,
        idempotency_key=idempotency_key,
        attempt=attempt,
    )
    answer = CheckoutOut(checkout_session_id=link.id, url=link.url, provider=provider.name)
    async with user_transaction(engine, user_id) as db:
        await lock_user(db, user_id)
        # A paid subscription may have gone live while the provider was asked.
        refusal = await one_paid.refusal(db, plan)
        if refusal is None:
            await reservation.store(db, answer)  # the retry-safe answer commits here
    if refusal is not None:
        await provider.expire_checkout(link.id, user_id=user_id)  # never payable next to a live one
        raise refusal
    return answer


async def portal(engine: AsyncEngine, provider: PaymentProvider, user_id: uuid.UUID) -> str:
    async with user_transaction(engine, user_id) as db:
        customer = await subscriptions_repository.customer(db, user_id)
    if customer is None:
        raise NotFound("no billing account yet: start a checkout first")
    return await provider.portal_url(user_id=user_id, customer_id=customer.stripe_customer_id)
