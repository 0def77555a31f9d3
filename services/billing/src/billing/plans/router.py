from __future__ import annotations

from fastapi import APIRouter

from billing.plans import service
from billing.plans.schemas import PlanList
from servicekit.deps import PublicSession

router = APIRouter(tags=["plans"])


@router.get("/plans")
async def get_plans(db: PublicSession) -> PlanList:
    """Public: every plan with its tier, price, features and limits."""
    return PlanList(items=await service.list_plans(db))
