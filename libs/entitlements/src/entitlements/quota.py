"""Quota checks: allowed, limit, used, reset time and the tier that lifts the limit."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from entitlements.matrix import LIMITS, Tier, limit_for, lowest_tier_with, tier_rank
from servicekit.errors import ProblemError


class PaymentRequired(ProblemError):
    status = 402
    title = "Payment Required"


@dataclass(frozen=True)
class QuotaCheck:
    limit_name: str
    tier: Tier
    allowed: bool
    limit: int | None
    used: int
    resets_at: datetime | None
    lifted_by: Tier | None

    def problem_fields(self) -> dict[str, Any]:
        fields = asdict(self)
        fields["resets_at"] = self.resets_at.isoformat() if self.resets_at else None
        return fields


def period_start(period: str, now: datetime) -> datetime | None:
    """Start of the current counting window (UTC calendar month), None for lifetime limits."""
    if period == "month":
        return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return None


def next_reset(period: str, now: datetime) -> datetime | None:
    start = period_start(period, now)
    if start is None:
        return None
    return start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)


def check_quota(limit_name: str, tier: Tier, used: int, now: datetime | None = None) -> QuotaCheck:
    """Whether one more use is allowed at `tier`, having used `used` in the current period."""
    now = now or datetime.now(UTC)
    limit = LIMITS[limit_name]
    allowance = limit_for(limit_name, tier)
    allowed = allowance is None or used < allowance
    lifted_by = None
    if not allowed:
        candidate = lowest_tier_with(limit=limit_name, above=used)
        lifted_by = candidate if candidate and tier_rank(candidate) > tier_rank(tier) else None
    return QuotaCheck(limit_name, tier, allowed, allowance, used, next_reset(limit.period, now), lifted_by)


def enforce_quota(check: QuotaCheck) -> None:
    """402 problem+json naming the limit, the usage and the tier that lifts it."""
    if check.allowed:
        return
    limit = LIMITS[check.limit_name]
    upgrade = f"; the {check.lifted_by} tier lifts it" if check.lifted_by else ""
    raise PaymentRequired(
        f"{check.limit_name}: the {check.tier} tier allows {check.limit} {limit.description}"
        f" ({limit.period}), used {check.used}{upgrade}",
        **check.problem_fields(),
    )
