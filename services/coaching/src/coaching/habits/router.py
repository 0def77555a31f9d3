from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter, ValidationError

from coaching.habits import service
from coaching.habits.repository import habits
from coaching.habits.schemas import (
    CheckinResult,
    CompletionRates,
    HabitCreate,
    HabitPage,
    HabitPublic,
    HabitStatsPublic,
    HabitUpdate,
    LogIn,
    LogList,
    LogPublic,
    SchedulePublic,
    TodayState,
)
from coaching.habits.stats import HabitStats
from coaching.models import Habit, HabitLog
from coaching.profile import service as profile_service
from servicekit.auth import CurrentPrincipal
from servicekit.db import user_transaction
from servicekit.deps import DbSession
from servicekit.direct import direct_transaction
from servicekit.idempotency import IdempotencyKey, idempotent
from servicekit.openapi import problem_responses
from servicekit.pagination import PageParams, page_params
from servicekit.repository import owned

router = APIRouter(prefix="/habits", tags=["habits"])
OwnedHabit = Annotated[Habit, Depends(owned(habits, param="habit_id"))]
LockedHabit = Annotated[Habit, Depends(owned(habits, param="habit_id", for_update=True))]
LocalDate = Annotated[date, "the student's local date (YYYY-MM-DD)"]
# The check-in's date is read after its habit is found, as the other routes' habit dependency
# orders it: another user's habit is a 404 whatever the date (the document still says a date).
LocalDateText = Annotated[str, Path(json_schema_extra={"format": "date"})]
_DATE = TypeAdapter(date)


def _local_date(raw: str) -> date:
    """The path's date, or FastAPI's own 422 for it."""
    try:
        return _DATE.validate_python(raw)
    except ValidationError as exc:
        raise RequestValidationError([{**error, "loc": ("path", "date")} for error in exc.errors()]) from None


def _backfill(request: Request) -> int:
    days: int = request.app.state.settings.backfill_days
    return days


def public(habit: Habit, today: service.Today | None = None) -> HabitPublic:
    schedule = service.schedule_of(habit)
    return HabitPublic(
        **habit.model_dump(
            exclude={"user_id", "schedule_kind", "schedule_times", "schedule_weekdays", "suggestion_id"}
        ),
        schedule=SchedulePublic(
            kind=habit.schedule_kind,
            times=habit.schedule_times,
            weekdays=habit.schedule_weekdays,
            text=schedule.describe(),
        ),
        today=TodayState(**today.__dict__) if today else None,
    )


def stats_public(habit: Habit, stats: HabitStats, as_of: date) -> HabitStatsPublic:
    rates = stats.completion_rates
    return HabitStatsPublic(
        habit_id=habit.id,
        as_of=as_of,
        current_streak=stats.current_streak,
        best_streak=stats.best_streak,
        streak_unit=stats.streak_unit,
        strength=stats.strength,
        total_checkins=stats.total_checkins,
        completed_checkins=stats.completed_checkins,
        completion_rate=CompletionRates(last_7_days=rates[7], last_30_days=rates[30], last_90_days=rates[90]),
    )


def log_public(habit: Habit, log: HabitLog) -> LogPublic:
    return LogPublic(
        habit_id=log.habit_id,
        date=log.local_date,
        value=log.value,
        completed=service.share_of_target(habit, log.value) >= 1.0,
        note=log.note,
        logged_at=log.logged_at,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=HabitPublic,
    responses=problem_responses(
        (402, "the tier's limit of active habits is reached: the problem names it and the tier that lifts it"),
        (409, "the suggestion is already adopted, or this Idempotency-Key is still in progress"),
        (422, "a field breaks its rule (named), or this Idempotency-Key was used for a different request"),
    ),
)
async def create_habit(
    body: HabitCreate,
    db: DbSession,
    principal: CurrentPrincipal,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Create a habit. Free keeps 3 active habits, plus 10, pro any number; archived ones do not
    count. `time_zone` sets your profile's zone if you have none yet."""

    async def produce() -> HabitPublic:
        habit = await service.create(db, principal.user_id, body, backfill_days=_backfill(request))
        today = await profile_service.today(db)
        return public(habit, service.today_state(habit, today, []))

    return await idempotent(db, request, idempotency_key, produce, status_code=status.HTTP_201_CREATED)


@router.get("")
async def list_habits(
    db: DbSession,
    params: Annotated[PageParams, Depends(page_params)],
    archived: Annotated[bool, Query(description="List archived habits instead of active ones.")] = False,
) -> HabitPage:
    """Your habits, newest first, each with today's state (due, done, value)."""
    items, cursor = await service.page_with_today(db, params, archived=archived)
    return HabitPage(items=[public(h, t) for h, t in items], next_cursor=cursor)


@router.get("/{habit_id}")
async def get_habit(habit: OwnedHabit, db: DbSession) -> HabitPublic:
    return public(habit, await service.today_of(db, habit))


@router.patch(
    "/{habit_id}",
    responses=problem_responses(
        (402, "unarchiving would pass the tier's limit of active habits"),
        (422, "a field breaks its rule (named)"),
    ),
)
async def update_habit(
    habit: LockedHabit, body: HabitUpdate, db: DbSession, principal: CurrentPrincipal, request: Request
) -> HabitPublic:
    """Change fields; `archived: true` archives (history kept, no longer due or counted)."""
    habit = await service.update(db, principal.user_id, habit, body, backfill_days=_backfill(request))
    return await get_habit(habit, db)


@router.delete("/{habit_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_habit(habit: LockedHabit, db: DbSession, principal: CurrentPrincipal) -> Response:
    """Delete the habit **and every check-in it has** (this cannot be undone; archive it to keep
    the history). Reflections that mention it keep their text and lose the link."""
    await service.delete(db, principal.user_id, habit)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put(
    "/{habit_id}/logs/{date}",
    responses=problem_responses(
        (409, "the habit is archived"),
        (422, "the date is in the future, outside the backfill window or before the start date; or a bad value"),
    ),
)
async def put_log(
    habit_id: uuid.UUID,
    date: LocalDateText,
    principal: CurrentPrincipal,
    request: Request,
    body: Annotated[LogIn | None, Body()] = None,
) -> CheckinResult:
    """Check in for a local date (idempotent: the same request again changes nothing). A
    boolean habit takes no value; a measurable one its amount. Future dates are refused, and
    past ones beyond the backfill window (7 days by default; see GET /profile)."""
    given = body or LogIn()
    # The kit's direct path (servicekit.direct): the check-in is the hottest write there is.
    async with direct_transaction(request.app.state.direct_pool, principal.user_id) as tx:
        habit, time_zone = await service.habit_to_check_in(tx, habit_id)
        day = _local_date(date)
        if not service.moves_goal(habit):
            done = await service.check_in_direct(
                tx, principal.user_id, habit, time_zone, day, given.value, given.note, backfill_days=_backfill(request)
            )
            return CheckinResult(
                log=log_public(done.habit, done.log), stats=stats_public(done.habit, done.stats, done.today)
            )
    # A habit that moves a goal: the goal's progress is on the ORM path, in one transaction with it.
    async with user_transaction(request.app.state.engine, principal.user_id) as db:
        habit = await habits.get_or_404(db, habit_id, for_update=True)
        log, habit_stats = await service.check_in(
            db, principal.user_id, habit, day, given.value, given.note, backfill_days=_backfill(request)
        )
        today = await profile_service.today(db)
    return CheckinResult(log=log_public(habit, log), stats=stats_public(habit, habit_stats, today))


@router.delete(
    "/{habit_id}/logs/{date}",
    responses=problem_responses((404, "no such habit, or no check-in on that date"), (422, "the date is out of range")),
)
async def delete_log(
    habit: LockedHabit, date: LocalDate, db: DbSession, principal: CurrentPrincipal, request: Request
) -> HabitStatsPublic:
    """Undo a check-in (within the backfill window); the statistics after the undo."""
    stats = await service.undo(db, principal.user_id, habit, date, backfill_days=_backfill(request))
    return stats_public(habit, stats, await profile_service.today(db))


@router.get("/{habit_id}/logs", responses=problem_responses((422, "from is after to, or the range is over a year")))
async def list_logs(
    habit: OwnedHabit,
    db: DbSession,
    from_date: Annotated[
        date | None, Query(alias="from", description="First local date (default: 29 days before to).")
    ] = None,
    to_date: Annotated[date | None, Query(alias="to", description="Last local date (default: today).")] = None,
) -> LogList:
    """Check-ins between two local dates, oldest first (at most 366 days at once)."""
    first, last, logs = await service.logs(db, habit, from_date, to_date)
    return LogList(habit_id=habit.id, from_date=first, to_date=last, items=[log_public(habit, log) for log in logs])


@router.get("/{habit_id}/stats")
async def habit_stats(habit: OwnedHabit, db: DbSession) -> HabitStatsPublic:
    """Current and best streak (schedule-aware), completion rates over 7/30/90 days, total
    check-ins and strength 0-100 (docs/coaching.md has the definitions)."""
    today = await profile_service.today(db)
    return stats_public(habit, await service.stats_of(db, habit, today), today)
