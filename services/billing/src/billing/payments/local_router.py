"""Pages of the local payment provider, served through the gateway like Stripe's hosted ones.

The checkout and portal URLs are capabilities (an unguessable id scoped to one user), as
Stripe's are; they carry no bearer token because a browser follows them. Like Stripe's hosted
sessions they are short-lived and spent by the action they carry out; every id in the path is
a UUID, so anything else is a 422 before a query runs."""

from __future__ import annotations

import html
import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from billing.deps import Engine, Settings
from billing.payments.local_provider import LocalProvider
from billing.subscriptions import service as subscriptions_service
from servicekit.errors import NotFound, ProblemError
from servicekit.openapi import problem_responses

router = APIRouter(prefix="/local", tags=["local payment provider"])


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}<p><small>Journey local payment provider: "
        "no money moves.</small></p></body></html>"
    )


def _from_a_browser(request: Request) -> bool:
    """The page's own form (a browser navigating) rather than an API client: like Stripe's
    hosted pages, it then returns the student to the app (billing's success and portal URLs)."""
    return "text/html" in request.headers.get("accept", "")


def _provider(request: Request) -> LocalProvider:
    provider: LocalProvider = request.app.state.payment_provider
    return provider


@router.get(
    "/checkout/{user_id}/{checkout_id}",
    response_class=HTMLResponse,
    responses=problem_responses((410, "the checkout has expired or a newer one replaced it")),
)
async def checkout_page(user_id: uuid.UUID, checkout_id: uuid.UUID, request: Request) -> HTMLResponse:
    checkout, plan = await _provider(request).checkout_page(user_id, checkout_id)
    if checkout.status == "completed":
        return _page("Checkout", "<p>This checkout is completed.</p>")
    price = f"{plan.amount_cents / 100:.2f} {plan.currency.upper()} per {plan.interval}"
    action = f"{request.url.path}/confirm"
    form = (
        f"<p>{html.escape(plan.name)}: {html.escape(price)}</p>"
        f"<form method='post' action='{html.escape(action)}'><button>Pay (locally)</button></form>"
    )
    return _page("Checkout", form)


@router.post(
    "/checkout/{user_id}/{checkout_id}/confirm",
    response_model=None,  # JSON for an API client, a 303 back to the app for a browser
    responses=problem_responses(
        (409, "the checkout is already completed, or a paid subscription is already live"),
        (410, "the checkout has expired or a newer one replaced it"),
    ),
)
async def confirm_checkout(
    user_id: uuid.UUID, checkout_id: uuid.UUID, request: Request, settings: Settings
) -> dict[str, str] | RedirectResponse:
    """Completes the purchase: the subscription and Stripe-shaped events, applied by the worker.
    A browser is sent back to the app's success page, as Stripe Checkout's `success_url` does."""
    subscription, plan = await _provider(request).confirm_checkout(user_id, checkout_id)
    if _from_a_browser(request):
        return RedirectResponse(f"{settings.public_base_url}/billing/success?session_id={checkout_id}", 303)
    return {"status": "completed", "subscription_id": subscription["id"], "plan_id": plan.id}


@router.get(
    "/portal/{user_id}/{session_id}",
    response_class=HTMLResponse,
    responses=problem_responses((410, "the portal session is used or expired")),
)
async def portal_page(user_id: uuid.UUID, session_id: uuid.UUID, request: Request, engine: Engine) -> HTMLResponse:
    await _provider(request).open_portal_session(user_id, session_id)
    view = await subscriptions_service.current_view(engine, user_id)
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
    "/portal/{user_id}/{session_id}/{action}",
    response_model=None,  # JSON for an API client, a 303 back to the app for a browser
    responses=problem_responses(
        (409, "already set to cancel / not set to cancel / the period has ended"),
        (410, "the portal session is used or expired"),
    ),
)
async def portal_action(
    user_id: uuid.UUID,
    session_id: uuid.UUID,
    # Documented, not enforced: any other action is a 404, as for an unknown page.
    action: Annotated[str, Path(description="cancel or resume", examples=["cancel", "resume"])],
    request: Request,
    engine: Engine,
    settings: Settings,
) -> dict[str, object] | RedirectResponse:
    """Single use: the session is spent by the action it carries out."""
    if action not in ("cancel", "resume"):
        raise NotFound(f"no portal action {action!r}")
    provider = _provider(request)
    await provider.spend_portal_session(user_id, session_id)
    try:
        view = await subscriptions_service.set_cancel_at_period_end(
            engine, provider, user_id, settings, cancel=action == "cancel"
        )
    except ProblemError:
        await provider.restore_portal_session(user_id, session_id)  # refused: nothing was done
        raise
    if _from_a_browser(request):  # back to the app, as Stripe's portal `return_url` does
        return RedirectResponse(f"{settings.public_base_url}/billing", 303)
    return view.model_dump(mode="json")
