"""The scheduled tier check: a cancellation that reached its period end, or a past-due
subscription past its grace period, downgrades without waiting for another webhook."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from billing.settings import BillingSettings
from billing.subscriptions import repository
from billing.subscriptions.service import recompute_tier
from servicekit.db import create_engine, user_transaction
from servicekit.logging import get_logger

log = get_logger(__name__)


async def due_users(system_engine: AsyncEngine, now: datetime, grace: timedelta) -> list[uuid.UUID]:
    """Runs as the billing_system role, whose own policy lets it see due rows across users."""
    async with user_transaction(system_engine, None) as db:
        return await repository.due_users(db, now, now - grace)


async def downgrade_due(
    system_engine: AsyncEngine, worker_engine: AsyncEngine, settings: BillingSettings, now: datetime | None = None
) -> int:
    """Recompute the tier of every due user (each in its own RLS transaction); returns changes."""
    now = now or datetime.now(UTC)
    changed = 0
    for user_id in await due_users(system_engine, now, timedelta(seconds=settings.past_due_grace_seconds)):
        async with user_transaction(worker_engine, user_id) as db:
            if await recompute_tier(db, user_id, settings, now=now):
                changed += 1
    return changed


async def run_tier_checks(settings: BillingSettings) -> None:
    """The worker's periodic loop."""
    if not settings.system_database_url:
        log.warning("tier_checks_disabled", reason="SYSTEM_DATABASE_URL is not set")
        return
    system_engine = create_engine(settings.system_database_url, pool_size=1)
    worker_engine = create_engine(settings.worker_dsn, pool_size=2)
    try:
        while True:
            try:
                changed = await downgrade_due(system_engine, worker_engine, settings)
                if changed:
                    log.info("scheduled_downgrades", changed=changed)
            except Exception as exc:  # the next round retries
                log.warning("tier_check_failed", error=repr(exc))
            await asyncio.sleep(settings.tier_check_interval_seconds)
    finally:
        await system_engine.dispose()
        await worker_engine.dispose()
