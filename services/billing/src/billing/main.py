"""The billing service, declared once: everything that runs or routes it derives from this."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI

from billing import SCHEMA, worker
from billing.checkout.router import router as checkout_router
from billing.payments.factory import build_payment_provider
from billing.payments.local_router import router as local_router
from billing.plans.router import router as plans_router
from billing.plans.seed import seed_plans
from billing.settings import BillingSettings
from billing.subscriptions.router import router as subscriptions_router
from billing.webhooks.router import router as webhooks_router
from servicekit.service import ServiceDefinition


def _routers(settings: BillingSettings) -> list[APIRouter]:
    routers = [plans_router, subscriptions_router, checkout_router, webhooks_router]
    if not settings.uses_stripe:
        routers.append(local_router)  # the local payment provider's pages (never in production)
    return routers


@asynccontextmanager
async def _lifespan(app: FastAPI, settings: BillingSettings) -> AsyncIterator[None]:
    app.state.payment_provider = build_payment_provider(settings, app.state.engine)
    yield


service = ServiceDefinition(
    name=SCHEMA,
    settings_class=BillingSettings,
    routers=_routers,
    lifespan=_lifespan,
    subscriptions=worker.subscriptions,
    background=worker.background,
    seed=lambda conn, settings: f"seeded {seed_plans(conn, settings)} plans",
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    default_port=8104,
    # Stripe and the browser reach these without a bearer token: plans are public, the webhook
    # is verified by its signature, the local provider's pages are capability URLs.
    public_paths=("/plans", "/webhooks/stripe", "/local/"),
    system_role=True,
    description="plans, Stripe Checkout and portal, verified webhooks, tier changes",
)


def app(settings: BillingSettings | None = None) -> FastAPI:
    return service.app(settings)
