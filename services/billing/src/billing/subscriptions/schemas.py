from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from billing.plans.schemas import LimitPublic, PlanPublic


class SubscriptionView(BaseModel):
    tier: str
    plan: PlanPublic
    status: str | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    trial_end: datetime | None
    limits: list[LimitPublic]
