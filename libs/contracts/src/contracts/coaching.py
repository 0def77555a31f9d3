"""Coaching events (the catalogue in docs/events.md is generated from these classes).

Each event carries what a per-user view needs without asking Coaching anything: the habit's or
goal's name and shape on every change, and the statistics as they stand after the change.
Reflection text never leaves Coaching (the streams keep events for a long time); only its
length, mood and scores travel."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from contracts.payload import EventPayload

HabitKind = Literal["boolean", "measurable"]
ScheduleKind = Literal["daily", "weekly", "monthly", "weekdays"]
StreakUnit = Literal["day", "week", "month"]
GoalKind = Literal["target", "checklist"]
GoalStatus = Literal["active", "achieved", "abandoned"]
Pace = Literal["on_track", "behind", "achieved", "no_deadline", "overdue"]
SentimentLabel = Literal["positive", "neutral", "negative"]


class HabitSchedule(BaseModel):
    """When a habit is due."""

    kind: ScheduleKind = Field(
        description="`daily`; `weekly` (`times` per ISO week); `monthly` (`times` per calendar month); "
        "`weekdays` (on the listed `weekdays` only)."
    )
    times: int | None = Field(default=None, description="Check-ins per period for `weekly`/`monthly`; else null.")
    weekdays: list[int] | None = Field(
        default=None, description="ISO weekdays (1 = Monday … 7 = Sunday) for `weekdays`; else null."
    )


class HabitView(BaseModel):
    """A habit as a view shows it."""

    habit_id: uuid.UUID = Field(description="The habit.")
    name: str = Field(description="Its name.")
    kind: HabitKind = Field(description="`boolean` (done / not done) or `measurable` (a number against a target).")
    unit: str | None = Field(description="Unit of a measurable habit's value (e.g. `pages`); null for boolean.")
    target: float | None = Field(description="Daily target of a measurable habit; null for boolean.")
    schedule: HabitSchedule = Field(description="When it is due.")
    colour: str | None = Field(description="`#rrggbb` chosen by the student, or null.")
    icon: str | None = Field(description="A short icon name chosen by the student, or null.")
    goal_id: uuid.UUID | None = Field(description="The goal it serves, or null.")
    archived: bool = Field(description="Archived habits are kept with their history but no longer due.")


class HabitStatsView(BaseModel):
    """A habit's statistics after the change (see docs/coaching.md for the definitions)."""

    current_streak: int = Field(description="Periods met in a row, up to today (today still open does not break it).")
    best_streak: int = Field(description="Longest run of periods met, ever.")
    streak_unit: StreakUnit = Field(
        description="What a streak counts: `day` (daily and given-weekday habits: due days met), "
        "`week` or `month` (N-times habits: periods whose N were met)."
    )
    strength: int = Field(description="0-100: rises with each check-in, decays with misses (exponential smoothing).")
    total_checkins: int = Field(description="Days with a check-in, ever.")


class HabitCreated(EventPayload):
    """Emitted by `POST /habits` (also when adopting a persona suggestion), in the transaction
    that inserts the habit."""

    SUBJECT = "journey.coaching.habit.created"

    habit: HabitView = Field(description="The new habit.")
    start_date: date = Field(description="The first local date it counts from.")
    from_suggestion: uuid.UUID | None = Field(description="The persona suggestion it was adopted from, or null.")


class HabitUpdated(EventPayload):
    """Emitted by `PATCH /habits/{habit_id}` when a field other than `archived` changed (an
    archive emits `habit.archived` instead; unarchiving emits this with `archived` false)."""

    SUBJECT = "journey.coaching.habit.updated"

    habit: HabitView = Field(description="The habit as it now is.")
    changed: list[str] = Field(description="Names of the fields that changed.")
    stats: HabitStatsView = Field(description="Its statistics (a schedule change can change streaks).")


class HabitArchived(EventPayload):
    """Emitted by `PATCH /habits/{habit_id}` with `archived: true` on an active habit. The habit
    and its logs stay; it no longer counts toward the tier's habit limit."""

    SUBJECT = "journey.coaching.habit.archived"

    habit_id: uuid.UUID = Field(description="The archived habit.")
    name: str = Field(description="Its name.")
    archived_at: datetime = Field(description="When it was archived (UTC).")


class HabitDeleted(EventPayload):
    """Emitted by `DELETE /habits/{habit_id}`, in the transaction that deletes the habit and
    every one of its check-ins."""

    SUBJECT = "journey.coaching.habit.deleted"

    habit_id: uuid.UUID = Field(description="The deleted habit.")
    name: str = Field(description="Its name, for a last notice.")
    logs_deleted: int = Field(description="How many check-ins were deleted with it.")


class HabitLogged(EventPayload):
    """Emitted by `PUT /habits/{habit_id}/logs/{date}` when a check-in is new or its value
    changed (a retried PUT with the same value emits nothing), with the statistics after it."""

    SUBJECT = "journey.coaching.habit.logged"

    habit_id: uuid.UUID = Field(description="The habit checked in.")
    name: str = Field(description="Its name.")
    local_date: date = Field(description="The student's local date the check-in counts for.")
    value: float = Field(description="The value logged: 1 for a boolean habit, the amount for a measurable one.")
    target: float | None = Field(description="The daily target of a measurable habit; null for boolean.")
    unit: str | None = Field(description="The unit of a measurable habit; null for boolean.")
    completed: bool = Field(description="Whether the check-in meets the day's target (always true for boolean).")
    stats: HabitStatsView = Field(description="The habit's statistics after this check-in.")


class HabitUnlogged(EventPayload):
    """Emitted by `DELETE /habits/{habit_id}/logs/{date}` when a check-in was removed, with the
    statistics after the undo."""

    SUBJECT = "journey.coaching.habit.unlogged"

    habit_id: uuid.UUID = Field(description="The habit.")
    name: str = Field(description="Its name.")
    local_date: date = Field(description="The local date whose check-in was removed.")
    stats: HabitStatsView = Field(description="The habit's statistics after the undo.")


class GoalView(BaseModel):
    """A goal as a view shows it."""

    goal_id: uuid.UUID = Field(description="The goal.")
    title: str = Field(description="Its title.")
    kind: GoalKind = Field(description="`target` (a number to reach) or `checklist` (milestones to tick).")
    target_value: float | None = Field(description="For `target`: the value to reach; null for a checklist.")
    unit: str | None = Field(description="For `target`: its unit (e.g. `pages`), or null.")
    milestones_total: int | None = Field(description="For `checklist`: how many milestones; null for a target.")
    deadline: date | None = Field(description="The local date it should be reached by, or null.")
    status: GoalStatus = Field(description="`active`, `achieved` or `abandoned`.")
    habit_ids: list[uuid.UUID] = Field(description="Habits linked to it.")


class GoalProgressView(BaseModel):
    """Where a goal stands, and where it should stand by now (a Beeminder-style road)."""

    current_value: float = Field(description="Progress so far: the value reached, or milestones done.")
    target_value: float = Field(description="What counts as reached: the target, or the number of milestones.")
    fraction: float = Field(description="`current_value / target_value` clamped to 0-1 (from the start value).")
    expected_value: float | None = Field(description="Where a steady pace from start to deadline would be today.")
    pace: Pace = Field(description="`on_track`, `behind`, `achieved`, `overdue` or `no_deadline`.")
    behind_by: float | None = Field(description="`expected_value - current_value` when behind, else null.")


class GoalCreated(EventPayload):
    """Emitted by `POST /goals` (also when adopting a persona suggestion)."""

    SUBJECT = "journey.coaching.goal.created"

    goal: GoalView = Field(description="The new goal.")
    progress: GoalProgressView = Field(description="Its progress at creation.")
    from_suggestion: uuid.UUID | None = Field(description="The persona suggestion it was adopted from, or null.")


class GoalUpdated(EventPayload):
    """Emitted by `PATCH /goals/{goal_id}` when a field changed (not for progress: that is
    `goal.progressed`; not for achieving or abandoning: those have their own events), and when a
    habit is linked to or unlinked from it."""

    SUBJECT = "journey.coaching.goal.updated"

    goal: GoalView = Field(description="The goal as it now is.")
    changed: list[str] = Field(description="Names of the fields that changed.")
    progress: GoalProgressView = Field(description="Its progress now.")


class GoalProgressed(EventPayload):
    """Emitted when an active goal's progress changes: `POST /goals/{goal_id}/progress`, or a
    check-in (or its undo) of a measurable habit linked to a goal that counts habit progress."""

    SUBJECT = "journey.coaching.goal.progressed"

    goal_id: uuid.UUID = Field(description="The goal.")
    title: str = Field(description="Its title.")
    source: Literal["manual", "habit", "milestone"] = Field(description="What moved it.")
    progress: GoalProgressView = Field(description="Its progress and pace after the change.")


class GoalAchieved(EventPayload):
    """Emitted once per goal, when it becomes `achieved`: its progress reached the target (or
    every milestone is done), or the student marked it achieved. A goal is never achieved twice."""

    SUBJECT = "journey.coaching.goal.achieved"

    goal_id: uuid.UUID = Field(description="The goal.")
    title: str = Field(description="Its title.")
    achieved_at: datetime = Field(description="When (UTC).")
    deadline: date | None = Field(description="Its deadline, or null.")
    on_time: bool | None = Field(description="Reached on or before the deadline (local date); null without one.")


class GoalAbandoned(EventPayload):
    """Emitted by `PATCH /goals/{goal_id}` with `status: abandoned` on an active goal."""

    SUBJECT = "journey.coaching.goal.abandoned"

    goal_id: uuid.UUID = Field(description="The goal.")
    title: str = Field(description="Its title.")
    abandoned_at: datetime = Field(description="When (UTC).")


class GoalDeleted(EventPayload):
    """Emitted by `DELETE /goals/{goal_id}`; habits linked to it are kept and unlinked."""

    SUBJECT = "journey.coaching.goal.deleted"

    goal_id: uuid.UUID = Field(description="The deleted goal.")
    title: str = Field(description="Its title.")
    habits_unlinked: list[uuid.UUID] = Field(description="Habits that were linked to it (now linked to none).")


class ReflectionCreated(EventPayload):
    """Emitted by `POST /reflections` with the reflection stored `pending`. It is also the work
    of the sentiment job (the coaching worker's `coaching-sentiment` consumer), which scores it
    and emits `reflection.scored`. The text stays in Coaching."""

    SUBJECT = "journey.coaching.reflection.created"

    reflection_id: uuid.UUID = Field(description="The reflection.")
    local_date: date = Field(description="The student's local date it was written on.")
    mood: int | None = Field(description="Mood 1-5 chosen by the student, or null.")
    prompt_id: str | None = Field(description="The prompt answered (see `GET /reflections/prompts`), or null.")
    habit_id: uuid.UUID | None = Field(description="A linked habit, or null.")
    goal_id: uuid.UUID | None = Field(description="A linked goal, or null.")
    length: int = Field(description="Length of the text in characters.")


class ReflectionScored(EventPayload):
    """Emitted by the sentiment job when a reflection's sentiment is stored (once per reflection)."""

    SUBJECT = "journey.coaching.reflection.scored"

    reflection_id: uuid.UUID = Field(description="The reflection.")
    local_date: date = Field(description="The student's local date it was written on.")
    mood: int | None = Field(description="Mood 1-5 chosen by the student, or null.")
    label: SentimentLabel = Field(description="`positive`, `neutral` or `negative`.")
    score: float = Field(description="Sentiment from -1 (negative) to 1 (positive); VADER's compound score offline.")
    themes: list[str] = Field(description="Up to 5 short themes (e.g. `exams`, `sleep`).")
    provider: str = Field(description="`openai` or `offline` (VADER): the path that scored it.")
    fallback: bool = Field(description="`true` when the offline scorer stood in for the model (error or budget).")


class ProfileUpdated(EventPayload):
    """Emitted when the student's time zone is stored or changed: `PUT /profile` with a zone other
    than the stored one, or the first zone given with a new habit. The zone decides which local
    date a check-in counts for, and which day is "today" for the student's views."""

    SUBJECT = "journey.coaching.profile.updated"

    time_zone: str = Field(description="The IANA time zone now stored, e.g. `Europe/Paris`.")
    previous_time_zone: str | None = Field(description="The zone stored before, or null (it was the UTC default).")


# Subjects as constants, for call sites not yet on emit()/on().
HABIT_LOGGED = HabitLogged.SUBJECT
REFLECTION_CREATED = ReflectionCreated.SUBJECT
