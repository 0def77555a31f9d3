"""Habits: create, change, archive, delete; check-ins on local dates; statistics."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from coaching.goals import service as goals_service
from coaching.habits import repository
from coaching.habits.schedule import Schedule
from coaching.habits.schemas import HabitCreate, HabitUpdate, ScheduleIn
from coaching.habits.stats import HabitStats, habit_stats
from coaching.models import Habit, HabitLog
from coaching.profile import service as profile_service
from coaching.profile.local_time import DEFAULT_TIME_ZONE, local_today
from coaching.suggestions import service as suggestions_service
from contracts import coaching as events
from entitlements.guard import guard_quota
from servicekit.direct import DirectTransaction
from servicekit.errors import Conflict, NotFound, Unprocessable
from servicekit.events import emit, emit_direct
from servicekit.pagination import PageParams

# A start date may lie this far ahead at most (a habit planned for next term).
MAX_START_AHEAD = timedelta(days=365)
# Dates a query may name at all (date arithmetic near year 1 or 9999 overflows).
EARLIEST_DATE = date(2000, 1, 1)


def _invalid(field: str, message: str) -> Unprocessable:
    return Unprocessable(f"{field}: {message}", errors=[{"field": field, "message": message}])


def schedule_of(habit: Habit) -> Schedule:
    return Schedule(
        kind=habit.schedule_kind,  # type: ignore[arg-type]
        times=habit.schedule_times or 1,
        weekdays=frozenset(habit.schedule_weekdays or ()),
    )


def share_of_target(habit: Habit, value: float) -> float:
    """A check-in's share of the day's target: 1 for a boolean habit."""
    if habit.kind == "measurable" and habit.target:
        return value / habit.target
    return 1.0


def view(habit: Habit) -> events.HabitView:
    return events.HabitView(
        habit_id=habit.id,
        name=habit.name,
        kind=habit.kind,
        unit=habit.unit,
        target=habit.target,
        schedule=events.HabitSchedule(
            kind=habit.schedule_kind,
            times=habit.schedule_times,
            weekdays=habit.schedule_weekdays,
        ),
        colour=habit.colour,
        icon=habit.icon,
        goal_id=habit.goal_id,
        archived=habit.archived,
    )


def stats_view(stats: HabitStats) -> events.HabitStatsView:
    return events.HabitStatsView(
        current_streak=stats.current_streak,
        best_streak=stats.best_streak,
        streak_unit=stats.streak_unit,
        strength=stats.strength,
        total_checkins=stats.total_checkins,
    )


def _schedule_columns(schedule: ScheduleIn) -> dict[str, Any]:
    return {
        "schedule_kind": schedule.kind,
        "schedule_times": schedule.times,
        "schedule_weekdays": sorted(schedule.weekdays) if schedule.weekdays else None,
    }


def _check_start_date(start: date, today: date, backfill_days: int) -> None:
    earliest = today - timedelta(days=backfill_days)
    if start < earliest:
        raise _invalid("start_date", f"at most {backfill_days} days back (on or after {earliest})")
    if start > today + MAX_START_AHEAD:
        raise _invalid("start_date", f"at most a year ahead (on or before {today + MAX_START_AHEAD})")


def stats_from(habit: Habit, today: date, values: Iterable[tuple[date, float]]) -> HabitStats:
    """The statistics from every check-in's (local date, value)."""
    shares = {day: share_of_target(habit, value) for day, value in values}
    return habit_stats(schedule_of(habit), habit.start_date, today, shares)


async def stats_of(db: AsyncSession, habit: Habit, today: date) -> HabitStats:
    logs = await repository.all_logs(db, habit.id)
    return stats_from(habit, today, ((log.local_date, log.value) for log in logs))


async def create(db: AsyncSession, user_id: uuid.UUID, body: HabitCreate, *, backfill_days: int) -> Habit:
    """A new habit: within the tier's limit of active habits (402 naming it), linked to a goal
    of the caller's if asked, adopted from a persona suggestion if one is named."""
    body.check()
    name = body.name
    if body.from_persona_suggestion is not None:
        name = name or await suggestions_service.text_of(db, body.from_persona_suggestion, kind="habit", limit=100)
    if not name:
        raise _invalid("name", "required (unless adopting a suggestion)")
    await guard_quota(db, user_id, "habits", repository.count_active)
    await profile_service.adopt_first_time_zone(db, user_id, body.time_zone)
    today = await profile_service.today(db)
    start = body.start_date or today
    _check_start_date(start, today, backfill_days)
    if body.goal_id is not None:
        await goals_service.ensure_goal(db, body.goal_id, field="goal_id")
    habit = Habit(
        user_id=user_id,
        name=name,
        description=body.description,
        kind=body.kind,
        unit=body.unit,
        target=body.target,
        start_date=start,
        reminder_time=body.reminder_time,
        colour=body.colour,
        icon=body.icon,
        goal_id=body.goal_id,
        suggestion_id=body.from_persona_suggestion,
        **_schedule_columns(body.schedule),
    )
    habit = await repository.habits.add(db, habit)
    if body.from_persona_suggestion is not None:
        await suggestions_service.adopt(db, body.from_persona_suggestion, kind="habit", adopted_id=habit.id)
    created = events.HabitCreated(habit=view(habit), start_date=start, from_suggestion=body.from_persona_suggestion)
    await emit(db, created, user_id=user_id)
    if habit.goal_id is not None:
        await goals_service.habits_changed(db, user_id, habit.goal_id)
    return habit


async def update(db: AsyncSession, user_id: uuid.UUID, habit: Habit, body: HabitUpdate, *, backfill_days: int) -> Habit:
    body.check()
    given = body.model_fields_set
    changes: dict[str, Any] = {}
    for name in ("name", "description", "reminder_time", "colour", "icon", "unit", "target"):
        if name in given and getattr(body, name) != getattr(habit, name):
            changes[name] = getattr(body, name)
    if habit.kind == "boolean" and (changes.get("unit") is not None or changes.get("target") is not None):
        raise _invalid(
            "unit" if changes.get("unit") is not None else "target", "a boolean habit takes no unit or target"
        )
    if habit.kind == "measurable":
        for name in ("unit", "target"):
            if name in changes and changes[name] is None:
                raise _invalid(name, "a measurable habit needs it")
    if "schedule" in given and body.schedule is not None:
        columns = _schedule_columns(body.schedule)
        if any(getattr(habit, k) != v for k, v in columns.items()):
            changes.update(columns)
    if "start_date" in given and body.start_date is not None and body.start_date != habit.start_date:
        await _check_new_start(db, habit, body.start_date, backfill_days)
        changes["start_date"] = body.start_date
    if "goal_id" in given and body.goal_id != habit.goal_id:
        if body.goal_id is not None:
            await goals_service.ensure_goal(db, body.goal_id, field="goal_id")
        changes["goal_id"] = body.goal_id
    archiving = "archived" in given and body.archived is not None and body.archived != habit.archived
    if archiving and not body.archived:
        # Unarchiving makes it count again: the same limit as creating one.
        await guard_quota(db, user_id, "habits", repository.count_active)
    if archiving:
        changes["archived"] = body.archived
        changes["archived_at"] = datetime.now(UTC) if body.archived else None
    if not changes:
        return habit
    old_goal = habit.goal_id
    habit = await repository.habits.update(db, habit, changes)
    await repository.touch(db, habit)
    if archiving and habit.archived:
        assert habit.archived_at is not None
        await emit(
            db, events.HabitArchived(habit_id=habit.id, name=habit.name, archived_at=habit.archived_at), user_id=user_id
        )
    schedule_columns = ("schedule_kind", "schedule_times", "schedule_weekdays")
    visible = [n for n in changes if n not in ("archived", "archived_at", *schedule_columns)]
    if any(n in changes for n in schedule_columns):
        visible.append("schedule")
    if archiving and not habit.archived:
        visible.append("archived")  # unarchived: an update (archiving has its own event)
    if visible:
        stats = await stats_of(db, habit, await profile_service.today(db))
        updated = events.HabitUpdated(habit=view(habit), changed=sorted(visible), stats=stats_view(stats))
        await emit(db, updated, user_id=user_id)
    for goal_id in {old_goal, habit.goal_id} - {None}:
        if "goal_id" in changes or "target" in changes:
            assert goal_id is not None
            await goals_service.habits_changed(db, user_id, goal_id)
    return habit


async def _check_new_start(db: AsyncSession, habit: Habit, start: date, backfill_days: int) -> None:
    today = await profile_service.today(db)
    if start > today + MAX_START_AHEAD:
        raise _invalid("start_date", "at most a year ahead")
    if start < habit.start_date and start < today - timedelta(days=backfill_days):
        raise _invalid("start_date", f"an earlier start may be at most {backfill_days} days back")
    logs = await repository.all_logs(db, habit.id)
    if logs and logs[0].local_date < start:
        raise _invalid("start_date", f"there are check-ins before it (from {logs[0].local_date}): undo them first")


async def delete(db: AsyncSession, user_id: uuid.UUID, habit: Habit) -> int:
    """Delete the habit and every one of its check-ins; returns how many check-ins went."""
    logs = await repository.count_logs(db, habit.id)
    goal_id, habit_id, name = habit.goal_id, habit.id, habit.name
    await repository.habits.delete(db, habit)
    await emit(db, events.HabitDeleted(habit_id=habit_id, name=name, logs_deleted=logs), user_id=user_id)
    if goal_id is not None:
        await goals_service.habits_changed(db, user_id, goal_id)
    return logs


@dataclass(frozen=True)
class CheckinWindow:
    today: date
    earliest: date
    time_zone: str


async def checkin_window(db: AsyncSession, backfill_days: int) -> CheckinWindow:
    time_zone = await profile_service.time_zone_of(db)
    today = await profile_service.today(db)
    return CheckinWindow(today, today - timedelta(days=backfill_days), time_zone)


def _check_day(habit: Habit, day: date, window: CheckinWindow, backfill_days: int) -> None:
    if day > window.today:
        raise _invalid("date", f"{day} is in the future (today is {window.today} in {window.time_zone})")
    if day < window.earliest:
        raise _invalid(
            "date", f"{day} is outside the backfill window: at most {backfill_days} days back (from {window.earliest})"
        )
    if day < habit.start_date:
        raise _invalid("date", f"{day} is before the habit's start date {habit.start_date}")


def _value_for(habit: Habit, value: float | None) -> float:
    if habit.kind == "boolean":
        if value is not None and value != 1:
            raise _invalid("value", "a boolean habit takes no value (or 1)")
        return 1.0
    if value is None:
        raise _invalid("value", f"required for a measurable habit (in {habit.unit})")
    return value


async def check_in(
    db: AsyncSession,
    user_id: uuid.UUID,
    habit: Habit,
    day: date,
    value: float | None,
    note: str | None,
    *,
    backfill_days: int,
) -> tuple[HabitLog, HabitStats]:
    """Record the check-in for a local date (the same request again changes nothing)."""
    if habit.archived:
        raise Conflict(f"habit {habit.id} is archived: unarchive it to check in")
    window = await checkin_window(db, backfill_days)
    _check_day(habit, day, window, backfill_days)
    amount = _value_for(habit, value)
    log, changed = await repository.upsert_log(db, user_id, habit.id, day, amount, note)
    stats = await stats_of(db, habit, window.today)
    if changed:
        await emit(db, _logged(habit, day, amount, stats), user_id=user_id)
        if habit.goal_id is not None and moves_goal(habit):
            await goals_service.habits_changed(db, user_id, habit.goal_id, source="habit")
    return log, stats


def moves_goal(habit: Habit) -> bool:
    """A measurable habit linked to a goal: its check-ins move the goal's progress."""
    return habit.goal_id is not None and habit.kind == "measurable"


def _logged(habit: Habit, day: date, amount: float, stats: HabitStats) -> events.HabitLogged:
    return events.HabitLogged(
        habit_id=habit.id,
        name=habit.name,
        local_date=day,
        value=amount,
        target=habit.target,
        unit=habit.unit,
        completed=share_of_target(habit, amount) >= 1.0,
        stats=stats_view(stats),
    )


@dataclass(frozen=True)
class CheckIn:
    habit: Habit
    log: HabitLog
    stats: HabitStats
    today: date


async def habit_to_check_in(tx: DirectTransaction, habit_id: uuid.UUID) -> tuple[Habit, str]:
    """The caller's habit, locked, and their time zone (the direct path's first statement)."""
    found = await repository.habit_for_check_in(tx, habit_id)
    if found is None:
        raise NotFound(f"habit {habit_id} does not exist")
    habit, time_zone = found
    return habit, time_zone or DEFAULT_TIME_ZONE


async def check_in_direct(
    tx: DirectTransaction,
    user_id: uuid.UUID,
    habit: Habit,
    time_zone: str,
    day: date,
    value: float | None,
    note: str | None,
    *,
    backfill_days: int,
) -> CheckIn:
    """`check_in` on the kit's direct path, for a habit read by `habit_to_check_in` that does not
    move a goal (`moves_goal`: the goal's progress is the ORM path's, `check_in`). Two statements
    more: write the check-in and read every one back; queue the event (only when something
    changed). The same checks, refusals and event as `check_in`."""
    assert not moves_goal(habit), "a goal-moving check-in takes the ORM path"
    if habit.archived:
        raise Conflict(f"habit {habit.id} is archived: unarchive it to check in")
    today = local_today(time_zone)
    window = CheckinWindow(today, today - timedelta(days=backfill_days), time_zone)
    _check_day(habit, day, window, backfill_days)
    amount = _value_for(habit, value)
    rows, changed = await repository.write_log(tx, user_id, habit.id, day, amount, note)
    stats = stats_from(habit, today, ((row["local_date"], row["value"]) for row in rows))
    if changed:
        await emit_direct(tx, _logged(habit, day, amount, stats), user_id=user_id)
    stored = next(row for row in rows if row["local_date"] == day)
    log = HabitLog(
        habit_id=habit.id,
        local_date=day,
        user_id=user_id,
        value=stored["value"],
        note=stored["note"],
        logged_at=stored["logged_at"],
    )
    return CheckIn(habit, log, stats, today)


async def undo(db: AsyncSession, user_id: uuid.UUID, habit: Habit, day: date, *, backfill_days: int) -> HabitStats:
    window = await checkin_window(db, backfill_days)
    _check_day(habit, day, window, backfill_days)
    if not await repository.delete_log(db, habit.id, day):
        raise NotFound(f"habit {habit.id} has no check-in on {day}")
    stats = await stats_of(db, habit, window.today)
    unlogged = events.HabitUnlogged(habit_id=habit.id, name=habit.name, local_date=day, stats=stats_view(stats))
    await emit(db, unlogged, user_id=user_id)
    if habit.goal_id is not None and moves_goal(habit):
        await goals_service.habits_changed(db, user_id, habit.goal_id, source="habit")
    return stats


MAX_LOG_RANGE_DAYS = 366


async def logs(
    db: AsyncSession, habit: Habit, first: date | None, last: date | None
) -> tuple[date, date, list[HabitLog]]:
    """Check-ins between two local dates (default: the last 30 days), at most a year apart."""
    today = await profile_service.today(db)
    for name, given in (("from", first), ("to", last)):
        if given is not None and not EARLIEST_DATE <= given <= today + MAX_START_AHEAD:
            raise _invalid(name, f"{given} is out of range ({EARLIEST_DATE} to {today + MAX_START_AHEAD})")
    last = last or today
    first = first or last - timedelta(days=29)
    if first > last:
        raise _invalid("from", f"{first} is after to={last}")
    if (last - first).days >= MAX_LOG_RANGE_DAYS:
        raise _invalid("from", f"at most {MAX_LOG_RANGE_DAYS} days at once")
    return first, last, await repository.logs_between(db, [habit.id], first, last)


@dataclass(frozen=True)
class Today:
    date: date
    due: bool
    done: bool
    value: float | None
    period_done: int
    period_needed: int


def today_state(habit: Habit, today: date, logs: Iterable[HabitLog]) -> Today:
    schedule = schedule_of(habit)
    by_day = {log.local_date: log for log in logs}
    todays = by_day.get(today)
    done = todays is not None and share_of_target(habit, todays.value) >= 1.0
    if today < habit.start_date:
        return Today(today, False, False, None, 0, 0)
    period_start = max(schedule.period_start(today), habit.start_date)
    needed = schedule.needed(schedule.period_start(today), habit.start_date)
    period_done = sum(
        1 for d, log in by_day.items() if period_start <= d <= today and share_of_target(habit, log.value) >= 1.0
    )
    if not schedule.is_scheduled(today):
        return Today(today, False, done, todays.value if todays else None, period_done, 0)
    due = not done and period_done < needed
    return Today(today, due, done, todays.value if todays else None, period_done, needed)


async def page_with_today(
    db: AsyncSession, params: PageParams, *, archived: bool
) -> tuple[list[tuple[Habit, Today | None]], str | None]:
    page = await repository.page(db, params, archived=archived)
    today = await profile_service.today(db)
    # One read of the current periods' check-ins for every habit on the page.
    first = min((schedule_of(h).period_start(today) for h in page.items), default=today)
    by_habit: dict[uuid.UUID, list[HabitLog]] = defaultdict(list)
    for log in await repository.logs_between(db, [h.id for h in page.items], first, today):
        by_habit[log.habit_id].append(log)
    items = [(h, None if h.archived else today_state(h, today, by_habit[h.id])) for h in page.items]
    return items, page.next_cursor


async def today_of(db: AsyncSession, habit: Habit) -> Today | None:
    """Today's state of one habit (None when archived)."""
    if habit.archived:
        return None
    today = await profile_service.today(db)
    first = schedule_of(habit).period_start(today)
    return today_state(habit, today, await repository.logs_between(db, [habit.id], first, today))
