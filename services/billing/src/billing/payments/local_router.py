"""Pages of the local payment provider, served through the gateway like Stripe's hosted ones.

The checkout and portal URLs are capabilities (an unguessable id scoped to one user), as
Stripe's are; they carry no bearer token because a browser follows them."""

from __future__ import annotations

import html
import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from billing.deps import Settings
from billing.models import Customer, LocalCheckout
from billing.payments.local_provider import LocalProvider
from billing.plans import service as plans_service
from billing.subscriptions import service as subscriptions_service
from servicekit.db import user_transaction
from servicekit.errors import NotFound
from servicekit.openapi import problem_responses

router = APIRouter(prefix="/local", tags=["local payment provider"])


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}<p><small>Journey local payment provider: "
        "no money moves.</small></p></body></html>"
    )


async def _checkout(db: AsyncSession, checkout_id: uuid.UUID) -> LocalCheckout:
    checkout = await db.get(LocalCheckout, checkout_id, with_for_update=True)
    if checkout is None:
        raise NotFound("no such checkout")
    return checkout


@router.get("/checkout/{user_id}/{checkout_id}", response_class=HTMLResponse)
async def checkout_page(user_id: uuid.UUID, checkout_id: uuid.UUID, request: Request) -> HTMLResponse:
    async with user_transaction(request.app.state.engine, user_id) as db:
        checkout = await _checkout(db, checkout_id)
        plan = await plans_service.get_plan(db, checkout.plan_id)
    price = f"{plan.amount_cents / 100:.2f} {plan.currency.upper()} per {plan.interval}"
    action = f"{request.url.path}/confirm"
    form = (
        f"<p>{html.escape(plan.name)}: {html.escape(price)}</p>"
        f"<form method='post' action='{html.escape(action)}'><button>Pay (locally)</button></form>"
        if checkout.status == "open"
        else "<p>This checkout is completed.</p>"
    )
    return _page("Checkout", form)


@router.post(
    "/checkout/{user_id}/{checkout_id}/confirm", responses=problem_responses((409, "the checkout is already completed"))
)
async def confirm_checkout(user_id: uuid.UUID, checkout_id: uuid.UUID, request: Request) -> dict[str, str]:
    """Completes the purchase: the subscription and Stripe-shaped events, applied by the worker."""
    provider: LocalProvider = request.app.state.payment_provider
    async with user_transaction(request.app.state.engine, user_id) as db:
        checkout = await _checkout(db, checkout_id)
        plan = await plans_service.get_plan(db, checkout.plan_id)
        subscription = await provider.confirm_checkout(db, checkout, plan)
    return {"status": "completed", "subscription_id": subscription["id"], "plan_id": plan.id}


async def _customer(db: AsyncSession, customer_id: str) -> Customer:
    customer = (await db.exec(select(Customer).where(Customer.stripe_customer_id == customer_id))).first()
    if customer is None:
        raise NotFound("no such billing account")
    return customer


@router.get("/portal/{user_id}/{customer_id}", response_class=HTMLResponse)
async def portal_page(user_id: uuid.UUID, customer_id: str, request: Request) -> HTMLResponse:
    async with user_transaction(request.app.state.engine, user_id) as db:
        await _customer(db, customer_id)
        view = await subscriptions_service.view(db, user_id)
    action = "resume" if view.cancel_at_period_end else "cancel"
    summary = (
        f"Plan: {view.plan.name} ({view.tier}), status {view.status}, period ends {view.current_period_end}, "
        f"cancel at period end: {view.cancel_at_period_end}"
    )
    body = (
        f"<p>{html.escape(summary)}</p>"
        f"<form method='post' action='{html.escape(request.url.path)}/{action}'><button>{action}</button></form>"
    )
    return _page("Billing portal", body)


@router.post(
    "/portal/{user_id}/{customer_id}/{action}",
    responses=problem_responses((409, "already set to cancel / not set to cancel / the period has ended")),
)
async def portal_action(
    user_id: uuid.UUID,
    customer_id: str,
    # Documented, not enforced: any other action is a 404, as for an unknown page.
    action: Annotated[str, Path(description="cancel or resume", examples=["cancel", "resume"])],
    request: Request,
    settings: Settings,
) -> dict[str, object]:
    if action not in ("cancel", "resume"):
        raise NotFound(f"no portal action {action!r}")
    async with user_transaction(request.app.state.engine, user_id) as db:
        await _customer(db, customer_id)
        view = await subscriptions_service.set_cancel_at_period_end(
            db, request.app.state.payment_provider, user_id, settings, cancel=action == "cancel"
        )
    return view.model_dump(mode="json")
