"""Billing's dependency aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from billing.payments.provider import PaymentProvider
from billing.settings import BillingSettings
from servicekit.deps import Engine

__all__ = ["Engine", "Provider", "Settings"]


async def _provider(request: Request) -> PaymentProvider:
    provider: PaymentProvider = request.app.state.payment_provider
    return provider


async def _settings(request: Request) -> BillingSettings:
    settings: BillingSettings = request.app.state.settings
    return settings


# async although nothing awaits: FastAPI runs a plain-def dependency in its threadpool, a thread
# hop per request (it showed in the webhook's profile under load).
Provider = Annotated[PaymentProvider, Depends(_provider)]
Settings = Annotated[BillingSettings, Depends(_settings)]
