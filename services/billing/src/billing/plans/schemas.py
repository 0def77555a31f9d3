from __future__ import annotations

from pydantic import BaseModel


class LimitPublic(BaseModel):
    name: str
    description: str
    period: str
    limit: int | None
    used: int | None = None


class PlanPublic(BaseModel):
    id: str
    tier: str
    name: str
    amount_cents: int
    currency: str
    interval: str | None
    features: list[str]
    limits: list[LimitPublic]


class PlanList(BaseModel):
    items: list[PlanPublic]
