"""The one quota guard every metered write goes through: lock the user (two requests at once
must not both pass the count), read the tier, count this period's use, 402 when over."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from entitlements.matrix import LIMITS, has_feature
from entitlements.quota import QuotaCheck, check_quota, enforce_quota, period_start
from entitlements.tier_cache import current_tier
from servicekit.auth import CurrentPrincipal
from servicekit.db import lock_user
from servicekit.deps import DbSession

# Uses so far in the limit's current period (`since` None: ever), counted under the caller's RLS.
UsageCounter = Callable[[AsyncSession, datetime | None], Awaitable[int]]


async def guard_quota(
    db: AsyncSession, user_id: uuid.UUID, limit_name: str, count_used: UsageCounter, now: datetime | None = None
) -> QuotaCheck:
    """Allow one more use of `limit_name` or raise 402; the user stays locked until commit."""
    await lock_user(db, user_id)
    now = now or datetime.now(UTC)
    used = await count_used(db, period_start(LIMITS[limit_name].period, now))
    check = check_quota(limit_name, await current_tier(db), used, now)
    enforce_quota(check)
    return check


async def model_ai_allowed(db: AsyncSession) -> bool:
    """The AI-job policy (servicekit.ai_job): the model for tiers with `model_ai`, offline rules otherwise."""
    return has_feature(await current_tier(db), "model_ai")


def quota_guard(limit_name: str, count_used: UsageCounter) -> Callable[..., Awaitable[QuotaCheck]]:
    """A route dependency: `Depends(quota_guard("missions_started", missions.count_started))`."""

    async def dependency(db: DbSession, principal: CurrentPrincipal) -> QuotaCheck:
        return await guard_quota(db, principal.user_id, limit_name, count_used)

    return dependency
