"""The real Stripe API through the `stripe` SDK (async methods, explicit timeout, bounded retries)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import stripe

from billing.payments.provider import CheckoutLink, StripeObject
from billing.settings import BillingSettings
from servicekit.errors import Conflict, ProblemError
from servicekit.logging import get_logger

log = get_logger(__name__)


class PaymentProviderUnavailable(ProblemError):
    status = 503


@contextmanager
def stripe_errors() -> Iterator[None]:
    """Stripe's failures as problems a client can act on, never a 500."""
    try:
        yield
    except stripe.IdempotencyError as exc:
        raise Conflict("this Idempotency-Key was already used for a different request") from exc
    except stripe.StripeError as exc:
        problem = PaymentProviderUnavailable(f"the payment provider did not answer: {exc.user_message or exc}")
        problem.headers = {"Retry-After": "5"}
        raise problem from exc


def _plain(obj: Any) -> StripeObject:
    return dict(obj.to_dict())


ATTEMPT = "checkout_attempt"  # session metadata: which checkout attempt made it
STRIPE_KEY_MAX = 255


def _idempotency_key(prefix: str, key: str) -> str:
    """Stripe takes keys up to 255 characters; a client's longer key is sent as its digest."""
    full = f"{prefix}-{key}"
    return full if len(full) <= STRIPE_KEY_MAX else f"{prefix}-sha256-{hashlib.sha256(key.encode()).hexdigest()}"


def _order(session: Any) -> tuple[int, str]:
    """Attempts in the order billing handed them out; sessions from before attempts come first."""
    raw = (_plain(session).get("metadata") or {}).get(ATTEMPT)
    return (int(raw) if isinstance(raw, str) and raw.isdigit() else 0), str(session.id)


class StripeProvider:
    name = "stripe"

    def __init__(self, settings: BillingSettings) -> None:
        assert settings.stripe_secret_key is not None
        base = {"api": settings.stripe_api_base} if settings.stripe_api_base else None
        self.client = stripe.StripeClient(
            settings.stripe_secret_key.get_secret_value(),
            base_addresses=base,  # type: ignore[arg-type]
            max_network_retries=2,  # the SDK retries connection errors and 409/429/5xx with backoff
            http_client=stripe.HTTPXClient(timeout=settings.stripe_timeout_seconds),
        )
        self.settings = settings

    async def create_customer(self, user_id: uuid.UUID) -> str:
        with stripe_errors():
            customer = await self.client.v1.customers.create_async(
                params={"metadata": {"user_id": str(user_id)}},
                options={"idempotency_key": f"journey-customer-{user_id}"},
            )
        return str(customer.id)

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
        base = self.settings.public_base_url
        with stripe_errors():
            session = await self.client.v1.checkout.sessions.create_async(
                params={
                    "mode": "subscription",
                    "customer": customer_id,
                    "client_reference_id": str(user_id),
                    "line_items": [{"price": price_id, "quantity": 1}],
                    "subscription_data": {"metadata": {"user_id": str(user_id), "plan_id": plan_id}},
                    "metadata": {"user_id": str(user_id), "plan_id": plan_id, ATTEMPT: str(attempt)},
                    "success_url": f"{base}/billing/success?session_id={{CHECKOUT_SESSION_ID}}",
                    "cancel_url": f"{base}/billing/canceled",
                },
                options={"idempotency_key": _idempotency_key(f"journey-checkout-{user_id}", idempotency_key)},
            )
        # Also for a replayed (retried) request: its session carries its own, older attempt, so it
        # can never expire a newer one, and a retry after a failed listing still settles them.
        await self._leave_one_open(customer_id, session)
        return CheckoutLink(id=str(session.id), url=str(session.url))

    async def _leave_one_open(self, customer_id: str, mine: stripe.checkout.Session) -> None:
        """One payable checkout per student, the latest attempt's: the customer's open sessions of
        earlier attempts expire, and so does `mine` if a later attempt's is open already. Two
        checkouts racing here each list after creating their own, so whichever lists last sees
        both and the earlier attempt's session expires whatever the interleaving."""
        with stripe_errors():
            open_sessions = await self.client.v1.checkout.sessions.list_async(
                params={"customer": customer_id, "status": "open", "limit": 100}
            )
        others = [s for s in open_sessions.data if s.id != mine.id]
        superseded = [s for s in others if _order(s) < _order(mine)]
        if any(_order(s) > _order(mine) for s in others):
            superseded.append(mine)
        for session in superseded:
            await self.expire_checkout(str(session.id), user_id=None)

    async def expire_checkout(self, checkout_id: str, *, user_id: uuid.UUID | None) -> None:
        with stripe_errors():
            try:
                await self.client.v1.checkout.sessions.expire_async(checkout_id)
            except stripe.InvalidRequestError as exc:  # completed meanwhile: one_paid.settle_second settles it
                log.warning("checkout_expire_refused", session=checkout_id, error=str(exc))

    async def portal_url(self, *, user_id: uuid.UUID, customer_id: str) -> str:
        with stripe_errors():
            portal = await self.client.v1.billing_portal.sessions.create_async(
                params={"customer": customer_id, "return_url": f"{self.settings.public_base_url}/billing"}
            )
        return str(portal.url)

    async def retrieve_subscription(self, subscription_id: str, *, user_id: uuid.UUID | None) -> StripeObject:
        with stripe_errors():
            return _plain(await self.client.v1.subscriptions.retrieve_async(subscription_id))

    async def retrieve_customer(self, customer_id: str, *, user_id: uuid.UUID | None) -> StripeObject:
        with stripe_errors():
            return _plain(await self.client.v1.customers.retrieve_async(customer_id))

    async def cancel_subscription(self, subscription_id: str, *, user_id: uuid.UUID) -> StripeObject:
        try:
            canceled = await self.client.v1.subscriptions.cancel_async(
                subscription_id, params={"prorate": True, "invoice_now": True}
            )
        except stripe.InvalidRequestError:
            # Canceled already (a retried attempt): its current state is the answer.
            current = await self.retrieve_subscription(subscription_id, user_id=user_id)
            if current.get("status") == "canceled":
                return current
            raise
        return _plain(canceled)

    async def set_cancel_at_period_end(self, subscription_id: str, cancel: bool, *, user_id: uuid.UUID) -> StripeObject:
        with stripe_errors():
            updated = await self.client.v1.subscriptions.update_async(
                subscription_id, params={"cancel_at_period_end": cancel}
            )
        return _plain(updated)
