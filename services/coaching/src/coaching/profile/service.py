"""The student's coaching profile: the time zone that decides their local dates. Storing a zone
other than the one held emits `profile.updated` (views show "today" in it)."""

from __future__ import annotations

import uuid
from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from coaching.profile import repository
from coaching.profile.local_time import DEFAULT_TIME_ZONE, local_today
from contracts.coaching import ProfileUpdated
from servicekit.db import lock_user
from servicekit.errors import Unprocessable
from servicekit.events import emit


async def time_zone_of(db: AsyncSession) -> str:
    """The caller's IANA zone; UTC until they set one."""
    profile = await repository.get(db)
    return profile.time_zone if profile else DEFAULT_TIME_ZONE


async def today(db: AsyncSession) -> date:
    return local_today(await time_zone_of(db))


async def _store(db: AsyncSession, user_id: uuid.UUID, time_zone: str, previous: str | None) -> str:
    profile = await repository.upsert(db, user_id, time_zone)
    if previous != profile.time_zone:
        await emit(db, ProfileUpdated(time_zone=profile.time_zone, previous_time_zone=previous), user_id=user_id)
    return profile.time_zone


async def set_time_zone(db: AsyncSession, user_id: uuid.UUID, time_zone: str) -> tuple[str, bool]:
    """Store the zone; (zone, is_default). Serialised per user, so the events' order is the
    stores' order."""
    await lock_user(db, user_id)
    before = await repository.get(db)
    return await _store(db, user_id, time_zone, before.time_zone if before else None), False


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
        await _store(db, user_id, time_zone, None)
    elif profile.time_zone != time_zone:
        raise Unprocessable(
            f"your profile's time zone is {profile.time_zone}; change it with PUT /profile",
            errors=[{"field": "time_zone", "message": f"differs from the profile's {profile.time_zone}"}],
        )
