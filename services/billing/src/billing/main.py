"""Assembles the billing API."""

from __future__ import annotations

from fastapi import FastAPI

from billing.checkout.router import router as checkout_router
from billing.payments.factory import build_payment_provider
from billing.payments.local_router import router as local_router
from billing.plans.router import router as plans_router
from billing.settings import BillingSettings, get_settings
from billing.subscriptions.router import router as subscriptions_router
from billing.webhooks.router import router as webhooks_router
from servicekit.app import create_app


def app(settings: BillingSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    routers = [plans_router, subscriptions_router, checkout_router, webhooks_router]
    if not settings.uses_stripe:
        routers.append(local_router)
    application = create_app(settings, routers)
    application.state.payment_provider = build_payment_provider(settings)
    return application
