from __future__ import annotations

from pydantic import BaseModel, Field


class CheckoutIn(BaseModel):
    plan_id: str = Field(min_length=1, max_length=64)


class CheckoutOut(BaseModel):
    checkout_session_id: str
    url: str
    provider: str


class PortalOut(BaseModel):
    url: str
