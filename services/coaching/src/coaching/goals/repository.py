from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from coaching.models import Goal, Habit
from servicekit.pagination import Page, PageParams
from servicekit.repository import OwnedRepository

goals = OwnedRepository(Goal, label="goal")


async def page(db: AsyncSession, params: PageParams, *, status: str | None) -> Page[Goal]:
    where = [col(Goal.status) == status] if status else []
    return await goals.page(db, params, *where)


async def habit_ids_by_goal(db: AsyncSession, goal_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    if not goal_ids:
        return {}
    query = select(Habit.goal_id, Habit.id).where(col(Habit.goal_id).in_(goal_ids)).order_by(col(Habit.created_at))
    found: dict[uuid.UUID, list[uuid.UUID]] = {goal_id: [] for goal_id in goal_ids}
    for goal_id, habit_id in (await db.exec(query)).all():
        if goal_id is not None:
            found[goal_id].append(habit_id)
    return found


async def existing_habit_ids(db: AsyncSession, habit_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these are the caller's habits (RLS hides everyone else's)."""
    if not habit_ids:
        return set()
    query = select(Habit.id).where(col(Habit.id).in_(habit_ids))
    return set((await db.exec(query)).all())


async def set_linked_habits(db: AsyncSession, goal_id: uuid.UUID, habit_ids: Sequence[uuid.UUID]) -> None:
    """Exactly these habits serve the goal afterwards."""
    await db.exec(
        update(Habit)
        .where(col(Habit.goal_id) == goal_id, col(Habit.id).not_in(habit_ids))
        .values(goal_id=None, updated_at=func.now())
    )
    if habit_ids:
        await db.exec(update(Habit).where(col(Habit.id).in_(habit_ids)).values(goal_id=goal_id, updated_at=func.now()))


async def touch(db: AsyncSession, goal: Goal) -> None:
    goal.updated_at = await db.scalar(select(func.now()))  # type: ignore[assignment]
    db.add(goal)
    await db.flush()
