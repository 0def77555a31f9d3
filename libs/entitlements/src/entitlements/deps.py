"""FastAPI dependencies: require_tier(...) and require_feature(...), read from the tier cache
in the request's own RLS transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from entitlements.matrix import Tier, has_feature, lowest_tier_with, tier_rank
from entitlements.quota import PaymentRequired
from entitlements.tier_cache import current_tier
from servicekit.deps import DbSession


@dataclass(frozen=True)
class Entitlement:
    tier: Tier

    def has(self, feature: str) -> bool:
        return has_feature(self.tier, feature)


async def entitlement(db: DbSession) -> Entitlement:
    return Entitlement(await current_tier(db))


CurrentEntitlement = Annotated[Entitlement, Depends(entitlement)]


def require_tier(minimum: Tier) -> Callable[..., Awaitable[Entitlement]]:
    async def dependency(current: CurrentEntitlement) -> Entitlement:
        if tier_rank(current.tier) < tier_rank(minimum):
            raise PaymentRequired(
                f"this needs the {minimum} tier; you are on {current.tier}", tier=current.tier, lifted_by=minimum
            )
        return current

    return dependency


def require_feature(feature: str) -> Callable[..., Awaitable[Entitlement]]:
    async def dependency(current: CurrentEntitlement) -> Entitlement:
        if not current.has(feature):
            lifted_by = lowest_tier_with(feature=feature)
            raise PaymentRequired(
                f"{feature} is not part of the {current.tier} tier"
                + (f"; the {lifted_by} tier includes it" if lifted_by else ""),
                feature=feature,
                tier=current.tier,
                lifted_by=lifted_by,
            )
        return current

    return dependency
