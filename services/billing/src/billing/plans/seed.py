"""Upsert the plans: price ids follow the settings of the environment being seeded."""

from __future__ import annotations

from typing import Any

import psycopg

from billing.plans.catalog import plan_seeds
from billing.settings import BillingSettings


def seed_plans(conn: psycopg.Connection[Any], settings: BillingSettings) -> int:
    """Runs as the schema owner (the kit's seed step sets the role)."""
    seeds = plan_seeds(settings)
    for position, plan in enumerate(seeds):
        conn.execute(
            "INSERT INTO billing.plans "
            "(id, tier, name, amount_cents, currency, interval, stripe_price_id, position) "
            "VALUES (%s, %s, %s, %s, 'usd', %s, %s, %s) ON CONFLICT (id) DO UPDATE SET tier = excluded.tier, "
            "name = excluded.name, amount_cents = excluded.amount_cents, interval = excluded.interval, "
            "stripe_price_id = excluded.stripe_price_id, position = excluded.position",
            (plan.id, plan.tier, plan.name, plan.amount_cents, plan.interval, plan.stripe_price_id, position),
        )
    return len(seeds)
