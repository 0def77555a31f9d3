from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, status
from fastapi.responses import JSONResponse

from missions.enrollments import service
from missions.enrollments.schemas import EnrollmentPublic
from servicekit.auth import CurrentPrincipal
from servicekit.deps import DbSession
from servicekit.idempotency import IdempotencyKey, idempotent
from servicekit.openapi import SHARED_ID, problem_responses

router = APIRouter(tags=["enrollments"])

# A catalogue id: the same for every student, so not a secret (marked for the security walk).
MissionId = Annotated[
    str, Path(min_length=3, max_length=80, pattern=r"^[a-z0-9-]+$", json_schema_extra={SHARED_ID: True})
]


@router.post(
    "/catalog/{mission_id}/start",
    status_code=status.HTTP_201_CREATED,
    response_model=EnrollmentPublic,
    responses=problem_responses(
        (402, "over the tier's missions_per_month or active_missions limit"),
        (404, "no live mission with this id"),
        (409, "the mission is already in progress, or this Idempotency-Key is in flight"),
        (422, "this Idempotency-Key was used for a different request"),
    ),
)
async def start_mission(
    mission_id: MissionId,
    db: DbSession,
    principal: CurrentPrincipal,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Enroll in the mission's live version (retry-safe with an Idempotency-Key)."""
    max_submissions = request.app.state.settings.max_submissions_per_enrollment

    async def start() -> EnrollmentPublic:
        enrollment, mission = await service.start(db, principal.user_id, mission_id)
        return service.public(enrollment, mission, max_submissions)

    return await idempotent(db, request, idempotency_key, start, status_code=status.HTTP_201_CREATED)
