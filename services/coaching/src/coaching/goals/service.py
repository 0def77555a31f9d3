"""Goals: a target value or a checklist, a deadline, progress (manual and/or from linked
measurable habits) and the pace it should have by now, Beeminder-style."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from coaching.goals import repository
from coaching.goals.schemas import GoalCreate, GoalUpdate, ProgressIn
from coaching.habits import repository as habits_repository
from coaching.models import Goal
from coaching.profile import service as profile_service
from coaching.suggestions import service as suggestions_service
from contracts import coaching as events
from servicekit.errors import Conflict, Unprocessable
from servicekit.events import emit
from servicekit.pagination import Page, PageParams

MAX_DEADLINE_AHEAD = timedelta(days=3660)


def _invalid(field: str, message: str) -> Unprocessable:
    return Unprocessable(f"{field}: {message}", errors=[{"field": field, "message": message}])


@dataclass(frozen=True)
class Progress:
    current_value: float
    target_value: float
    fraction: float
    expected_value: float | None
    pace: events.Pace
    behind_by: float | None
    text: str

    def view(self) -> events.GoalProgressView:
        return events.GoalProgressView(
            current_value=self.current_value,
            target_value=self.target_value,
            fraction=self.fraction,
            expected_value=self.expected_value,
            pace=self.pace,
            behind_by=self.behind_by,
        )


def _amount(value: float, unit: str | None) -> str:
    number = f"{value:g}" if value == int(value) else f"{value:.2f}".rstrip("0")
    if unit == "milestones" and value == 1:
        unit = "milestone"
    return f"{number} {unit}" if unit else number


def pace(
    *,
    start_value: float,
    current: float,
    target: float,
    start: date,
    deadline: date | None,
    today: date,
    achieved: bool,
    unit: str | None,
) -> Progress:
    """The road from (start, start_value) to (deadline, target): where the student should be
    today, and whether they are there. Pure, so it is tested on hand-computed examples."""
    span = target - start_value
    fraction = max(0.0, min(1.0, (current - start_value) / span)) if span > 0 else 1.0
    fraction = round(fraction, 4)
    if achieved or current >= target:
        return Progress(current, target, fraction, None, "achieved", None, "achieved")
    if deadline is None:
        return Progress(
            current, target, fraction, None, "no_deadline", None, f"{_amount(target - current, unit)} to go"
        )
    total = max(1, (deadline - start).days)
    elapsed = max(0, min(total, (today - start).days))
    expected = round(start_value + span * elapsed / total, 2)
    if today > deadline:
        days = (today - deadline).days
        return Progress(
            current,
            target,
            fraction,
            target,
            "overdue",
            round(target - current, 2),
            f"{days} day{'s' if days > 1 else ''} overdue",
        )
    if current >= expected:
        return Progress(current, target, fraction, expected, "on_track", None, "on track")
    behind = round(expected - current, 2)
    return Progress(current, target, fraction, expected, "behind", behind, f"behind by {_amount(behind, unit)}")


def milestones_done(goal: Goal) -> int:
    return sum(1 for m in goal.milestones or [] if m.get("done"))


async def current_value(db: AsyncSession, goal: Goal, habit_ids: list[uuid.UUID]) -> float:
    if goal.kind == "checklist":
        return float(milestones_done(goal))
    value = goal.start_value + goal.manual_value
    if goal.progress_from_habits:
        value += await habits_repository.sum_values_since(db, habit_ids, goal.start_date)
    return round(value, 6)


async def progress_of(db: AsyncSession, goal: Goal, habit_ids: list[uuid.UUID], today: date | None = None) -> Progress:
    today = today or await profile_service.today(db)
    checklist = goal.kind == "checklist"
    return pace(
        start_value=0.0 if checklist else goal.start_value,
        current=await current_value(db, goal, habit_ids),
        target=float(len(goal.milestones or [])) if checklist else float(goal.target_value or 0),
        start=goal.start_date,
        deadline=goal.deadline,
        today=today,
        achieved=goal.status == "achieved",
        unit="milestones" if checklist else goal.unit,
    )


def view(goal: Goal, habit_ids: list[uuid.UUID]) -> events.GoalView:
    return events.GoalView(
        goal_id=goal.id,
        title=goal.title,
        kind=goal.kind,
        target_value=goal.target_value,
        unit=goal.unit,
        milestones_total=len(goal.milestones) if goal.milestones is not None else None,
        deadline=goal.deadline,
        status=goal.status,
        habit_ids=habit_ids,
    )


async def ensure_goal(db: AsyncSession, goal_id: uuid.UUID, *, field: str) -> Goal:
    """The caller's goal named in a body, or 422 naming the field."""
    goal = await repository.goals.get(db, goal_id)
    if goal is None:
        raise _invalid(field, f"no goal {goal_id} of yours")
    return goal


async def _check_habits(db: AsyncSession, habit_ids: list[uuid.UUID]) -> None:
    missing = set(habit_ids) - await repository.existing_habit_ids(db, habit_ids)
    if missing:
        raise _invalid("habit_ids", f"no habit {sorted(map(str, missing))[0]} of yours")


def _check_deadline(deadline: date | None, today: date) -> None:
    if deadline is None:
        return
    if deadline <= today:
        raise _invalid("deadline", f"must be after today ({today})")
    if deadline > today + MAX_DEADLINE_AHEAD:
        raise _invalid("deadline", "at most ten years ahead")


async def linked(db: AsyncSession, goal: Goal) -> list[uuid.UUID]:
    return (await repository.habit_ids_by_goal(db, [goal.id]))[goal.id]


async def create(db: AsyncSession, user_id: uuid.UUID, body: GoalCreate) -> Goal:
    kind = body.check()
    today = await profile_service.today(db)
    _check_deadline(body.deadline, today)
    await _check_habits(db, body.habit_ids)
    title = body.title
    if body.from_persona_suggestion is not None:
        title = title or await suggestions_service.text_of(db, body.from_persona_suggestion, kind="goal", limit=200)
    if not title:
        raise _invalid("title", "required (unless adopting a suggestion)")
    milestones = (body.milestones or [title]) if kind == "checklist" else None
    goal = Goal(
        user_id=user_id,
        title=title,
        why=body.why,
        kind=kind,
        target_value=body.target_value,
        start_value=body.start_value if kind == "target" else 0.0,
        unit=body.unit,
        progress_from_habits=body.progress_from_habits,
        milestones=[{"title": m, "done": False, "done_at": None} for m in milestones] if milestones else None,
        start_date=today,
        deadline=body.deadline,
        suggestion_id=body.from_persona_suggestion,
    )
    goal = await repository.goals.add(db, goal)
    await repository.set_linked_habits(db, goal.id, body.habit_ids)
    if body.from_persona_suggestion is not None:
        await suggestions_service.adopt(db, body.from_persona_suggestion, kind="goal", adopted_id=goal.id)
    progress = await progress_of(db, goal, body.habit_ids, today)
    created = events.GoalCreated(
        goal=view(goal, body.habit_ids), progress=progress.view(), from_suggestion=body.from_persona_suggestion
    )
    await emit(db, created, user_id=user_id)
    await _achieve_if_reached(db, user_id, goal, progress, today)
    return goal


async def update(db: AsyncSession, user_id: uuid.UUID, goal: Goal, body: GoalUpdate) -> Goal:
    body.check()
    given = body.model_fields_set
    today = await profile_service.today(db)
    changes: dict[str, Any] = {}
    for name in ("title", "why", "unit", "deadline", "target_value", "progress_from_habits"):
        if name in given and getattr(body, name) != getattr(goal, name):
            changes[name] = getattr(body, name)
    if goal.kind == "checklist" and any(n in changes for n in ("target_value", "unit", "progress_from_habits")):
        name = next(n for n in ("target_value", "unit", "progress_from_habits") if n in changes)
        raise _invalid(name, "a checklist goal has none")
    if "target_value" in changes and changes["target_value"] <= goal.start_value:
        raise _invalid("target_value", f"must be above the start value {goal.start_value:g}")
    if "deadline" in changes:
        _check_deadline(changes["deadline"], today)
    habits_before = await linked(db, goal)
    habit_ids = habits_before
    if body.habit_ids is not None and set(body.habit_ids) != set(habits_before):
        await _check_habits(db, body.habit_ids)
        await repository.set_linked_habits(db, goal.id, body.habit_ids)
        habit_ids = list(body.habit_ids)
        changes["habit_ids"] = habit_ids
    new_status = body.status if body.status is not None and body.status != goal.status else None
    if new_status is not None and goal.status == "achieved":
        raise Conflict(f"goal {goal.id} is achieved; it stays achieved (create a new goal to go further)")
    if new_status is not None and goal.status == "abandoned" and new_status == "achieved":
        raise Conflict(f"goal {goal.id} is abandoned: make it active first")
    fields = {k: v for k, v in changes.items() if k != "habit_ids"}
    if fields:
        goal = await repository.goals.update(db, goal, fields)
    if changes or new_status:
        await repository.touch(db, goal)
    if changes:
        progress = await progress_of(db, goal, habit_ids, today)
        updated = events.GoalUpdated(goal=view(goal, habit_ids), changed=sorted(changes), progress=progress.view())
        await emit(db, updated, user_id=user_id)
    now = datetime.now(UTC)
    if new_status == "abandoned":
        goal = await repository.goals.update(db, goal, {"status": "abandoned", "abandoned_at": now})
        await emit(db, events.GoalAbandoned(goal_id=goal.id, title=goal.title, abandoned_at=now), user_id=user_id)
    elif new_status == "active":
        goal = await repository.goals.update(db, goal, {"status": "active", "abandoned_at": None})
        progress = await progress_of(db, goal, habit_ids, today)
        reopened = events.GoalUpdated(goal=view(goal, habit_ids), changed=["status"], progress=progress.view())
        await emit(db, reopened, user_id=user_id)
    elif new_status == "achieved":
        await _achieve(db, user_id, goal, today)
    if goal.status == "active" and changes:
        await _achieve_if_reached(db, user_id, goal, await progress_of(db, goal, habit_ids, today), today)
    return goal


async def _achieve(db: AsyncSession, user_id: uuid.UUID, goal: Goal, today: date) -> None:
    """active -> achieved, announced once: callers hold the goal's row lock, and an achieved
    goal never goes back."""
    if goal.status != "active":
        return
    now = datetime.now(UTC)
    await repository.goals.update(db, goal, {"status": "achieved", "achieved_at": now})
    on_time = None if goal.deadline is None else today <= goal.deadline
    achieved = events.GoalAchieved(
        goal_id=goal.id, title=goal.title, achieved_at=now, deadline=goal.deadline, on_time=on_time
    )
    await emit(db, achieved, user_id=user_id)


async def _achieve_if_reached(
    db: AsyncSession, user_id: uuid.UUID, goal: Goal, progress: Progress, today: date
) -> None:
    if goal.status == "active" and progress.current_value >= progress.target_value > 0:
        await _achieve(db, user_id, goal, today)


async def record_progress(db: AsyncSession, user_id: uuid.UUID, goal_id: uuid.UUID, body: ProgressIn) -> Goal:
    body.check()
    goal = await repository.goals.get_or_404(db, goal_id, for_update=True)
    if goal.status != "active":
        raise Conflict(f"goal {goal.id} is {goal.status}: progress goes to active goals")
    source: Literal["manual", "milestone"] = "manual"
    if goal.kind == "checklist":
        if body.milestone is None:
            raise _invalid("milestone", "a checklist goal moves by milestone and done")
        milestones = [dict(m) for m in goal.milestones or []]
        if body.milestone >= len(milestones):
            raise _invalid("milestone", f"this goal has milestones 0-{len(milestones) - 1}")
        entry = milestones[body.milestone]
        if bool(entry.get("done")) != body.done:
            entry["done"] = body.done
            entry["done_at"] = datetime.now(UTC).isoformat() if body.done else None
        goal = await repository.goals.update(db, goal, {"milestones": milestones})
        source = "milestone"
    else:
        if body.milestone is not None:
            raise _invalid("milestone", "a target goal moves by delta or value")
        habit_ids = await linked(db, goal)
        if body.delta is not None:
            manual = goal.manual_value + body.delta
        else:
            assert body.value is not None
            manual = body.value - (await current_value(db, goal, habit_ids) - goal.manual_value)
        goal = await repository.goals.update(db, goal, {"manual_value": round(manual, 6)})
    await repository.touch(db, goal)
    await _announce_progress(db, user_id, goal, source)
    return goal


async def _announce_progress(
    db: AsyncSession, user_id: uuid.UUID, goal: Goal, source: Literal["manual", "habit", "milestone"]
) -> None:
    today = await profile_service.today(db)
    habit_ids = await linked(db, goal)
    progress = await progress_of(db, goal, habit_ids, today)
    progressed = events.GoalProgressed(goal_id=goal.id, title=goal.title, source=source, progress=progress.view())
    await emit(db, progressed, user_id=user_id)
    await _achieve_if_reached(db, user_id, goal, progress, today)


async def habits_changed(
    db: AsyncSession, user_id: uuid.UUID, goal_id: uuid.UUID, *, source: Literal["habit"] | None = None
) -> None:
    """A linked habit was checked in (or undone), linked, unlinked or deleted: the goal's
    progress moves when it counts its habits' values."""
    goal = await repository.goals.get(db, goal_id, for_update=True)
    if goal is None or goal.status != "active":
        return
    if source == "habit":
        if goal.progress_from_habits:
            await _announce_progress(db, user_id, goal, "habit")
        return
    habit_ids = await linked(db, goal)
    progress = await progress_of(db, goal, habit_ids)
    updated = events.GoalUpdated(goal=view(goal, habit_ids), changed=["habit_ids"], progress=progress.view())
    await emit(db, updated, user_id=user_id)
    if goal.progress_from_habits:
        await _achieve_if_reached(db, user_id, goal, progress, await profile_service.today(db))


async def delete(db: AsyncSession, user_id: uuid.UUID, goal: Goal) -> None:
    habit_ids = await linked(db, goal)
    await repository.set_linked_habits(db, goal.id, [])
    goal_id, title = goal.id, goal.title
    await repository.goals.delete(db, goal)
    await emit(db, events.GoalDeleted(goal_id=goal_id, title=title, habits_unlinked=habit_ids), user_id=user_id)


async def page(
    db: AsyncSession, params: PageParams, *, status: str | None
) -> tuple[Page[Goal], dict[uuid.UUID, list[uuid.UUID]]]:
    goals = await repository.page(db, params, status=status)
    return goals, await repository.habit_ids_by_goal(db, [g.id for g in goals.items])
