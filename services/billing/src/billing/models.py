"""Billing tables (DDL in migrations/; these map them for queries)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from billing import SCHEMA
from servicekit.db import timestamp_field


class Plan(SQLModel, table=True):
    __tablename__ = "plans"
    __table_args__ = {"schema": SCHEMA}

    id: str = Field(primary_key=True)
    tier: str
    name: str
    amount_cents: int
    currency: str
    interval: str | None
    stripe_price_id: str | None
    position: int


class Customer(SQLModel, table=True):
    __tablename__ = "customers"
    __table_args__ = {"schema": SCHEMA}

    user_id: uuid.UUID = Field(primary_key=True)
    stripe_customer_id: str
    created_at: datetime | None = timestamp_field(nullable=False, defaults_to_now=True)


class Subscription(SQLModel, table=True):
    __tablename__ = "subscriptions"
    __table_args__ = {"schema": SCHEMA}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID
    stripe_subscription_id: str
    stripe_customer_id: str
    plan_id: str
    status: str
    current_period_end: datetime | None = timestamp_field()
    cancel_at_period_end: bool = False
    trial_end: datetime | None = timestamp_field()
    canceled_at: datetime | None = timestamp_field()
    past_due_since: datetime | None = timestamp_field()
    # Stripe's `created` of the state stored (seconds, or a fetch time): bigint in the table.
    stripe_timestamp: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_at: datetime | None = timestamp_field(nullable=False, defaults_to_now=True)


class UserTier(SQLModel, table=True):
    __tablename__ = "user_tiers"
    __table_args__ = {"schema": SCHEMA}

    user_id: uuid.UUID = Field(primary_key=True)
    tier: str
    plan_id: str | None = None
    reason: str
    changed_at: datetime = timestamp_field(nullable=False)


class StripeEventRecord(SQLModel, table=True):
    __tablename__ = "stripe_events"
    __table_args__ = {"schema": SCHEMA}

    id: str = Field(primary_key=True)
    type: str
    payload: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    livemode: bool = False
    received_at: datetime | None = timestamp_field(nullable=False, defaults_to_now=True)
    processed_at: datetime | None = timestamp_field()
    error: str | None = None
    attempts: int = 0


class LocalCheckout(SQLModel, table=True):
    __tablename__ = "local_checkouts"
    __table_args__ = {"schema": SCHEMA}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID
    plan_id: str
    stripe_customer_id: str
    idempotency_key: str
    # From billing.checkout_attempts: of two open checkouts the later attempt's stays payable.
    attempt: int | None = Field(default=None, sa_column=Column(BigInteger))
    status: str = "open"  # open, completed, or expired (timed out or superseded)
    created_at: datetime | None = timestamp_field(nullable=False, defaults_to_now=True)
    expires_at: datetime = timestamp_field(nullable=False)
    completed_at: datetime | None = timestamp_field()


class LocalSubscription(SQLModel, table=True):
    __tablename__ = "local_subscriptions"
    __table_args__ = {"schema": SCHEMA}

    id: str = Field(primary_key=True)
    user_id: uuid.UUID
    object: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    updated_at: datetime | None = timestamp_field(nullable=False, defaults_to_now=True)


class LocalPortalSession(SQLModel, table=True):
    __tablename__ = "local_portal_sessions"
    __table_args__ = {"schema": SCHEMA}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID
    stripe_customer_id: str
    created_at: datetime | None = timestamp_field(nullable=False, defaults_to_now=True)
    expires_at: datetime = timestamp_field(nullable=False)
    used_at: datetime | None = timestamp_field()
