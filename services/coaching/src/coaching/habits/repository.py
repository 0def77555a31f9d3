from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, delete, exists, false, func, or_, true, union_all, update
from sqlalchemy import select as core_select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from coaching.models import Habit, HabitLog, Profile
from servicekit.direct import DirectTransaction, Statement
from servicekit.pagination import Page, PageParams
from servicekit.repository import OwnedRepository

habits = OwnedRepository(Habit, label="habit")


async def count_active(db: AsyncSession, _since: datetime | None = None) -> int:
    """Active (not archived) habits of the caller: what the `habits` limit counts."""
    query = select(func.count()).select_from(Habit).where(col(Habit.archived).is_(False))
    return int((await db.exec(query)).one())


async def page(db: AsyncSession, params: PageParams, *, archived: bool) -> Page[Habit]:
    return await habits.page(db, params, col(Habit.archived).is_(archived))


async def linked_to_goal(db: AsyncSession, goal_id: uuid.UUID) -> list[Habit]:
    query = select(Habit).where(Habit.goal_id == goal_id).order_by(col(Habit.created_at))
    return list((await db.exec(query)).all())


async def unlink_goal(db: AsyncSession, goal_id: uuid.UUID) -> None:
    await db.exec(update(Habit).where(col(Habit.goal_id) == goal_id).values(goal_id=None))


async def logs_between(db: AsyncSession, habit_ids: Sequence[uuid.UUID], first: date, last: date) -> list[HabitLog]:
    if not habit_ids:
        return []
    query = (
        select(HabitLog)
        .where(col(HabitLog.habit_id).in_(habit_ids), HabitLog.local_date >= first, HabitLog.local_date <= last)
        .order_by(col(HabitLog.local_date))
    )
    return list((await db.exec(query)).all())


async def all_logs(db: AsyncSession, habit_id: uuid.UUID) -> list[HabitLog]:
    query = select(HabitLog).where(HabitLog.habit_id == habit_id).order_by(col(HabitLog.local_date))
    return list((await db.exec(query)).all())


async def get_log(db: AsyncSession, habit_id: uuid.UUID, day: date) -> HabitLog | None:
    query = select(HabitLog).where(HabitLog.habit_id == habit_id, HabitLog.local_date == day)
    return (await db.exec(query.execution_options(populate_existing=True))).first()


async def upsert_log(
    db: AsyncSession, user_id: uuid.UUID, habit_id: uuid.UUID, day: date, value: float, note: str | None
) -> tuple[HabitLog, bool]:
    """Store the day's check-in; (the row, whether anything changed). A repeat with the same
    value and note changes nothing and keeps its time."""
    statement = insert(HabitLog).values(habit_id=habit_id, local_date=day, user_id=user_id, value=value, note=note)
    table = HabitLog.__table__.c  # type: ignore[attr-defined]
    upsert = statement.on_conflict_do_update(
        index_elements=["habit_id", "local_date"],
        set_={"value": statement.excluded.value, "note": statement.excluded.note, "logged_at": func.now()},
        where=table.value.is_distinct_from(statement.excluded.value)
        | table.note.is_distinct_from(statement.excluded.note),
    ).returning(table.habit_id)
    changed = (await db.exec(upsert)).first() is not None
    row = await get_log(db, habit_id, day)
    assert row is not None, "the check-in was just written in this transaction"
    return row, changed


async def delete_log(db: AsyncSession, habit_id: uuid.UUID, day: date) -> bool:
    statement = delete(HabitLog).where(col(HabitLog.habit_id) == habit_id, col(HabitLog.local_date) == day)
    result = await db.exec(statement)
    return bool(result.rowcount)


async def count_logs(db: AsyncSession, habit_id: uuid.UUID) -> int:
    query = select(func.count()).select_from(HabitLog).where(HabitLog.habit_id == habit_id)
    return int((await db.exec(query)).one())


async def sum_values_since(db: AsyncSession, habit_ids: Sequence[uuid.UUID], since: date) -> float:
    """Total logged value of these habits from `since` on (a goal's progress from its habits)."""
    if not habit_ids:
        return 0.0
    query = select(func.coalesce(func.sum(HabitLog.value), 0.0)).where(
        col(HabitLog.habit_id).in_(habit_ids), HabitLog.local_date >= since
    )
    return float((await db.exec(query)).one())


async def touch(db: AsyncSession, habit: Habit) -> None:
    habit.updated_at = await db.scalar(select(func.now()))  # type: ignore[assignment]
    db.add(habit)
    await db.flush()


# PUT /habits/{id}/logs/{date} runs on the kit's direct path (servicekit.direct): it is the
# check-in every student makes every day, and the ORM session cost several times its statements.
_habits = Habit.__table__  # type: ignore[attr-defined]
_logs = HabitLog.__table__  # type: ignore[attr-defined]
_profiles = Profile.__table__  # type: ignore[attr-defined]
# The habit, locked as on the ORM path (check-ins of one habit serialise), with the caller's zone.
_HABIT_FOR_CHECK_IN = Statement(
    core_select(_habits, _profiles.c.time_zone)
    .select_from(_habits.outerjoin(_profiles, _profiles.c.user_id == _habits.c.user_id))
    .where(_habits.c.id == bindparam("habit_id"))
    .with_for_update(of=_habits)
)
_new_log = insert(HabitLog).values(
    habit_id=bindparam("habit_id"),
    local_date=bindparam("day"),
    user_id=bindparam("user_id"),
    value=bindparam("value"),
    note=bindparam("note"),
)
_written = _new_log.on_conflict_do_update(
    index_elements=["habit_id", "local_date"],
    set_={"value": _new_log.excluded.value, "note": _new_log.excluded.note, "logged_at": func.now()},
    where=_logs.c.value.is_distinct_from(_new_log.excluded.value)
    | _logs.c.note.is_distinct_from(_new_log.excluded.note),
).returning(_logs.c.local_date, _logs.c.value, _logs.c.note, _logs.c.logged_at)
_written_cte = _written.cte("written")
# The upsert and every check-in of the habit in one statement. The SELECT sees the table as it
# was before the statement, so the day's row comes from the upsert when it wrote one (`written`)
# and from the table when it did not (a repeat with the same value and note).
_CHECK_IN = Statement(
    union_all(
        core_select(
            _written_cte.c.local_date,
            _written_cte.c.value,
            _written_cte.c.note,
            _written_cte.c.logged_at,
            true().label("written"),
        ),
        core_select(_logs.c.local_date, _logs.c.value, _logs.c.note, _logs.c.logged_at, false()).where(
            _logs.c.habit_id == bindparam("habit_id"),
            or_(_logs.c.local_date != bindparam("day"), ~exists(core_select(_written_cte.c.local_date))),
        ),
    )
)


async def habit_for_check_in(tx: DirectTransaction, habit_id: uuid.UUID) -> tuple[Habit, str | None] | None:
    """The caller's habit, locked, and their profile's time zone (None: none set); None if no such habit."""
    row = await tx.one(_HABIT_FOR_CHECK_IN, habit_id=habit_id)
    if row is None:
        return None
    time_zone = row.pop("time_zone")
    return Habit(**row), time_zone


async def write_log(
    tx: DirectTransaction, user_id: uuid.UUID, habit_id: uuid.UUID, day: date, value: float, note: str | None
) -> tuple[list[dict[str, Any]], bool]:
    """Store the day's check-in (`upsert_log`'s rule: a repeat changes nothing and keeps its time);
    (every check-in of the habit, whether the day's changed)."""
    rows = await tx.all(_CHECK_IN, user_id=user_id, habit_id=habit_id, day=day, value=value, note=note)
    return rows, any(row["written"] for row in rows)
