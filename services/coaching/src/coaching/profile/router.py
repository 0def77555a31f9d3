from __future__ import annotations

from fastapi import APIRouter, Request

from coaching.profile import service
from coaching.profile.local_time import local_today
from coaching.profile.schemas import ProfileIn, ProfilePublic
from servicekit.auth import CurrentPrincipal
from servicekit.deps import DbSession
from servicekit.openapi import problem_responses

router = APIRouter(prefix="/profile", tags=["profile"])


def _public(request: Request, time_zone: str, is_default: bool) -> ProfilePublic:
    backfill = request.app.state.settings.backfill_days
    return ProfilePublic(
        time_zone=time_zone, is_default=is_default, local_date=local_today(time_zone), backfill_days=backfill
    )


@router.get("")
async def get_profile(db: DbSession, request: Request) -> ProfilePublic:
    return _public(request, *await service.current(db))


@router.put("", responses=problem_responses((422, "time_zone is not an IANA time zone name")))
async def put_profile(body: ProfileIn, db: DbSession, principal: CurrentPrincipal, request: Request) -> ProfilePublic:
    """Set the time zone (an IANA name). Check-ins already stored keep their local dates."""
    return _public(request, *await service.set_time_zone(db, principal.user_id, body.time_zone))
