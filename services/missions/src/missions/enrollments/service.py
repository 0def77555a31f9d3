"""Starting a mission: tier limits, one enrollment per mission in progress, the event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.missions import EnrollmentStarted
from entitlements.guard import guard_quota
from missions.catalog import service as catalog_service
from missions.enrollments import repository
from missions.enrollments.schemas import EnrollmentPublic
from missions.models import Enrollment, Mission
from servicekit.errors import Conflict
from servicekit.events import emit


def public(enrollment: Enrollment, mission: Mission, max_submissions: int) -> EnrollmentPublic:
    left = max(0, max_submissions - enrollment.submissions_count) if enrollment.status == "active" else 0
    return EnrollmentPublic(
        id=enrollment.id,
        mission_id=enrollment.mission_id,
        mission_version=enrollment.mission_version,
        mission_title=mission.title,
        status=enrollment.status,
        submissions_count=enrollment.submissions_count,
        submissions_left=left,
        submissions_url=f"/api/v1/missions/enrollments/{enrollment.id}/submissions",
        created_at=enrollment.created_at,
        ended_at=enrollment.ended_at,
    )


async def start(db: AsyncSession, user_id: uuid.UUID, mission_id: str) -> tuple[Enrollment, Mission]:
    """Enroll the caller in the live version of `mission_id`; 402 over a tier limit."""
    mission = await catalog_service.live_mission(db, mission_id)
    # Both limits are checked under the user's lock (guard_quota), so two starts at once
    # cannot both pass a count.
    await guard_quota(db, user_id, "missions_per_month", repository.count_started)
    await guard_quota(db, user_id, "active_missions", repository.count_active)
    if await repository.active_for_mission(db, mission.id) is not None:
        raise Conflict(f"mission {mission.id!r} is already in progress: submit to its enrollment")
    now = datetime.now(UTC)
    enrollment = await repository.enrollments.add(
        db,
        Enrollment(
            user_id=user_id,
            mission_id=mission.id,
            mission_version=mission.version,
            created_at=now,
            updated_at=now,
        ),
    )
    started = EnrollmentStarted(
        enrollment_id=enrollment.id,
        mission_id=mission.id,
        mission_title=mission.title,
        catalog_version=mission.version,
        skill=mission.skill,
        tags=mission.tags,
        difficulty=mission.difficulty,
        estimated_minutes=mission.estimated_minutes,
        started_at=now,
    )
    await emit(db, started, user_id=user_id)
    return enrollment, mission
