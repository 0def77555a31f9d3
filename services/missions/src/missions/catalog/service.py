"""The catalogue: live missions, filtered and paginated; a mission by slug."""

from __future__ import annotations

import base64
import binascii
import re

from sqlmodel.ext.asyncio.session import AsyncSession

from missions.catalog import repository
from missions.catalog.rubrics import Rubric
from missions.catalog.schemas import CatalogPage, MissionPublic
from missions.models import Mission
from servicekit.errors import NotFound, ProblemError

_SLUG = re.compile(r"^[a-z0-9-]{3,80}$")


def public(mission: Mission) -> MissionPublic:
    return MissionPublic.model_validate(
        {**mission.model_dump(), "rubric": Rubric.model_validate(mission.rubric)}, from_attributes=False
    )


def _encode(slug: str) -> str:
    return base64.urlsafe_b64encode(slug.encode()).decode()


def _decode(cursor: str) -> str:
    try:
        slug = base64.b64decode(cursor.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise ProblemError("cursor is not valid", status=400) from exc
    if not _SLUG.match(slug):
        raise ProblemError("cursor is not valid", status=400)
    return slug


async def page(
    db: AsyncSession,
    *,
    limit: int,
    cursor: str | None,
    tag: str | None = None,
    skill: str | None = None,
    difficulty_min: int | None = None,
    difficulty_max: int | None = None,
    max_minutes: int | None = None,
) -> CatalogPage:
    rows = await repository.live_page(
        db,
        limit=limit,
        after=_decode(cursor) if cursor else None,
        tag=tag,
        skill=skill,
        difficulty_min=difficulty_min,
        difficulty_max=difficulty_max,
        max_minutes=max_minutes,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return CatalogPage(items=[public(m) for m in rows], next_cursor=_encode(rows[-1].id) if more and rows else None)


async def live_mission(db: AsyncSession, mission_id: str) -> Mission:
    mission = await repository.live_by_id(db, mission_id)
    if mission is None:
        raise NotFound(f"mission {mission_id!r} is not in the catalogue")
    return mission
