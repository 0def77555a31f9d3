"""The student's coaching profile: the time zone that decides their local dates."""

from __future__ import annotations

import uuid
from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from coaching.profile import repository
from coaching.profile.local_time import DEFAULT_TIME_ZONE, local_today
from servicekit.errors import Unprocessable


async def time_zone_of(db: AsyncSession) -> str:
    """The caller's IANA zone; UTC until they set one."""
    profile = await repository.get(db)
    return profile.time_zone if profile else DEFAULT_TIME_ZONE


async def today(db: AsyncSession) -> date:
    return local_today(await time_zone_of(db))


async def set_time_zone(db: AsyncSession, user_id: uuid.UUID, time_zone: str) -> tuple[str, bool]:
    """Store the zone; (zone, is_default)."""
    profile = await repository.upsert(db, user_id, time_zone)
    return profile.time_zone, False


async def current(db: AsyncSession) -> tuple[str, bool]:
    profile = await repository.get(db)
    return (profile.time_zone, False) if profile else (DEFAULT_TIME_ZONE, True)


async def adopt_first_time_zone(db: AsyncSession, user_id: uuid.UUID, time_zone: str | None) -> None:
    """A time zone given with a habit sets the profile when none is stored yet; a different one
    than the stored zone is refused (PUT /profile changes it), so no habit silently moves days."""
    if time_zone is None:
        return
    profile = await repository.get(db)
    if profile is None:
        await repository.upsert(db, user_id, time_zone)
    elif profile.time_zone != time_zone:
        raise Unprocessable(
            f"your profile's time zone is {profile.time_zone}; change it with PUT /profile",
            errors=[{"field": "time_zone", "message": f"differs from the profile's {profile.time_zone}"}],
        )
