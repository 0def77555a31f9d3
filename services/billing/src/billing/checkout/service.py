"""Starting a Checkout Session and opening the customer portal."""

from __future__ import annotations

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from billing.checkout.schemas import CheckoutOut
from billing.payments.provider import PaymentProvider
from billing.plans import service as plans_service
from billing.subscriptions import one_paid
from billing.subscriptions import repository as subscriptions_repository
from servicekit.errors import NotFound, Unprocessable, brief


async def customer_id_for(db: AsyncSession, provider: PaymentProvider, user_id: uuid.UUID) -> str:
    """Reuse the user's customer; create it once otherwise."""
    customer = await subscriptions_repository.customer(db, user_id)
    if customer is not None:
        return customer.stripe_customer_id
    created = await provider.create_customer(db, user_id)
    await subscriptions_repository.ensure_customer(db, user_id, created)
    return created


async def start_checkout(
    db: AsyncSession, provider: PaymentProvider, user_id: uuid.UUID, plan_id: str, idempotency_key: str
) -> CheckoutOut:
    plan = await plans_service.get_plan(db, plan_id)
    if plan.stripe_price_id is None:
        raise Unprocessable(f"plan {brief(plan_id)} is free: there is nothing to buy", errors=[{"field": "plan_id"}])
    # Concurrent checkouts of one user in turn, so each sees (and expires) the ones before it.
    await subscriptions_repository.lock_user(db, user_id)
    await one_paid.refuse_second(db, plan)
    customer_id = await customer_id_for(db, provider, user_id)
    link = await provider.create_checkout(
        db,
        user_id=user_id,
        customer_id=customer_id,
        plan_id=plan.id,
        price_id=plan.stripe_price_id,
        idempotency_key=idempotency_key,
    )
    return CheckoutOut(checkout_session_id=link.id, url=link.url, provider=provider.name)


async def portal(db: AsyncSession, provider: PaymentProvider, user_id: uuid.UUID) -> str:
    customer = await subscriptions_repository.customer(db, user_id)
    if customer is None:
        raise NotFound("no billing account yet: start a checkout first")
    return await provider.portal_url(db, user_id=user_id, customer_id=customer.stripe_customer_id)
