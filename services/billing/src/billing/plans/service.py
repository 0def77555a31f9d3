from __future__ import annotations

from typing import cast

from sqlmodel.ext.asyncio.session import AsyncSession

from billing.models import Plan
from billing.plans import repository
from billing.plans.schemas import LimitPublic, PlanPublic
from entitlements.matrix import FEATURES, LIMITS, Tier, has_feature
from servicekit.errors import NotFound, brief


def limits_of(tier: Tier) -> list[LimitPublic]:
    return [
        LimitPublic(name=limit.name, description=limit.description, period=limit.period, limit=limit.per_tier[tier])
        for limit in LIMITS.values()
    ]


def public(plan: Plan) -> PlanPublic:
    tier = cast(Tier, plan.tier)
    return PlanPublic(
        **plan.model_dump(include={"id", "tier", "name", "amount_cents", "currency", "interval"}),
        features=[f for f in FEATURES if has_feature(tier, f)],
        limits=limits_of(tier),
    )


async def list_plans(db: AsyncSession) -> list[PlanPublic]:
    return [public(plan) for plan in await repository.all_plans(db)]


async def get_plan(db: AsyncSession, plan_id: str) -> Plan:
    plan = await repository.by_id(db, plan_id)
    if plan is None:
        raise NotFound(f"plan {brief(plan_id)} does not exist")
    return plan
