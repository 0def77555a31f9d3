"""What billing needs from a payment provider: Stripe in production, a local stand-in
without keys. Both hand back Stripe-shaped objects (plain dicts)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

StripeObject = dict[str, Any]


@dataclass(frozen=True)
class CheckoutLink:
    id: str
    url: str


class PaymentProvider(Protocol):
    name: str

    async def create_customer(self, db: AsyncSession, user_id: uuid.UUID) -> str: ...

    async def create_checkout(  # also expires the customer's older open checkouts
        self,
        db: AsyncSession,
        *,
        user_id: uuid.UUID,
        customer_id: str,
        plan_id: str,
        price_id: str,
        idempotency_key: str,
    ) -> CheckoutLink: ...

    async def portal_url(self, db: AsyncSession, *, user_id: uuid.UUID, customer_id: str) -> str: ...

    async def retrieve_subscription(self, db: AsyncSession, subscription_id: str) -> StripeObject: ...

    async def retrieve_customer(self, db: AsyncSession, customer_id: str) -> StripeObject: ...

    async def set_cancel_at_period_end(self, db: AsyncSession, subscription_id: str, cancel: bool) -> StripeObject: ...

    async def cancel_subscription(self, db: AsyncSession, subscription_id: str) -> StripeObject:
        """End it now, crediting the unused time (proration); the canceled subscription."""
        ...
