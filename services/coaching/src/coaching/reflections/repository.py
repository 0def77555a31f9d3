from __future__ import annotations

import uuid
from datetime import date

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from coaching.models import Habit, HabitLog, Reflection
from servicekit.repository import OwnedRepository

reflections = OwnedRepository(Reflection, label="reflection")


async def between(db: AsyncSession, first: date, last: date) -> list[Reflection]:
    query = (
        select(Reflection)
        .where(Reflection.local_date >= first, Reflection.local_date <= last)
        .order_by(col(Reflection.local_date))
    )
    return list((await db.exec(query)).all())


async def active_habits(db: AsyncSession) -> list[Habit]:
    query = select(Habit).where(col(Habit.archived).is_(False)).order_by(col(Habit.created_at))
    return list((await db.exec(query)).all())


async def logs_between(db: AsyncSession, habit_ids: list[uuid.UUID], first: date, last: date) -> list[HabitLog]:
    if not habit_ids:
        return []
    query = select(HabitLog).where(
        col(HabitLog.habit_id).in_(habit_ids), HabitLog.local_date >= first, HabitLog.local_date <= last
    )
    return list((await db.exec(query)).all())
