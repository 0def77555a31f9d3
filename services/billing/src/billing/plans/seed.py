"""Upsert the plans: price ids follow the settings of the environment being seeded."""

from __future__ import annotations

import psycopg

from billing.plans.catalog import plan_seeds
from billing.settings import BillingSettings
from servicekit.db import libpq_url


def seed_plans(admin_dsn: str, settings: BillingSettings | None = None) -> int:
    seeds = plan_seeds(settings or BillingSettings())
    with psycopg.connect(libpq_url(admin_dsn)) as conn:
        conn.execute('SET ROLE "billing_owner"')
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
