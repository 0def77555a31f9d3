"""Reading the fields billing needs out of Stripe-shaped subscription objects, across API
versions (the period end moved onto subscription items in 2025)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any


def from_epoch(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value else None


def price_id(subscription: dict[str, Any]) -> str:
    items = (subscription.get("items") or {}).get("data") or []
    if not items:
        raise ValueError(f"subscription {subscription.get('id')} has no items")
    price = items[0].get("price") or {}
    return str(price.get("id") if isinstance(price, dict) else price)


def current_period_end(subscription: dict[str, Any]) -> datetime | None:
    if subscription.get("current_period_end"):
        return from_epoch(subscription["current_period_end"])
    items = (subscription.get("items") or {}).get("data") or []
    return from_epoch(items[0].get("current_period_end")) if items else None


def metadata_user(obj: dict[str, Any]) -> uuid.UUID | None:
    raw = (obj.get("metadata") or {}).get("user_id") or obj.get("client_reference_id")
    try:
        return uuid.UUID(str(raw)) if raw else None
    except ValueError:
        return None


def invoice_subscription_id(invoice: dict[str, Any]) -> str | None:
    direct = invoice.get("subscription")
    if isinstance(direct, str):
        return direct
    details = ((invoice.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    return str(details) if details else None
