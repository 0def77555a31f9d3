from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from missions.recommendations import service
from missions.recommendations.schemas import Recommendations
from servicekit.auth import CurrentPrincipal
from servicekit.deps import DbSession

router = APIRouter(tags=["recommendations"])


@router.get("/recommendations")
async def get_recommendations(
    db: DbSession, principal: CurrentPrincipal, limit: Annotated[int, Query(ge=1, le=10)] = 5
) -> Recommendations:
    """Missions ranked for the caller from their persona, goals, habits and history, each with why."""
    return await service.recommendations(db, principal.user_id, limit)
