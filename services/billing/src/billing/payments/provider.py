"""What billing needs from a payment provider: Stripe in production, a local stand-in
without keys. Both hand back Stripe-shaped objects (plain dicts).

No method takes a database session: a provider call is slow (the network, for Stripe), so it is
made with no transaction open. The local provider keeps its records through its own repository,
in short transactions of its own. `user_id` is the user the caller knows the object belongs to:
the local provider reads its records as that user (RLS); Stripe ignores it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

StripeObject = dict[str, Any]


@dataclass(frozen=True)
class CheckoutLink:
    id: str
    url: str


class PaymentProvider(Protocol):
    name: str

    async def create_customer(self, user_id: uuid.UUID) -> str: ...

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
        """A checkout for the plan. One payable checkout per student: the open checkouts of an
        earlier `attempt` expire, and so does this one if a later attempt is already open."""
        ...

    async def expire_checkout(self, checkout_id: str, *, user_id: uuid.UUID) -> None:
        """No longer payable (a no-op for one completed or expired already)."""
        ...

    async def portal_url(self, *, user_id: uuid.UUID, customer_id: str) -> str: ...

    async def retrieve_subscription(self, subscription_id: str, *, user_id: uuid.UUID | None) -> StripeObject: ...

    async def retrieve_customer(self, customer_id: str, *, user_id: uuid.UUID | None) -> StripeObject: ...

    async def set_cancel_at_period_end(
        self, subscription_id: str, cancel: bool, *, user_id: uuid.UUID
    ) -> StripeObject: ...

    async def cancel_subscription(self, subscription_id: str, *, user_id: uuid.UUID) -> StripeObject:
        """End it now, crediting the unused time (proration); the canceled subscription."""
        ...
