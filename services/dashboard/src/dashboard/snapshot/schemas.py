"""The snapshot: one JSON document per user, the answer of `GET /me` and each event of
`GET /me/stream`. Published in the OpenAPI document; `schema_version` changes when a field
changes meaning or goes away (adding a field keeps it)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SNAPSHOT_SCHEMA_VERSION = 1


class View(BaseModel):
    model_config = ConfigDict(frozen=True)


class PersonaView(View):
    persona_id: uuid.UUID | None = Field(description="The newest ready persona; null while the first is pending.")
    name: str | None = Field(description='Its archetype name, e.g. "The Curious Builder".')
    summary: str | None = Field(description="One-paragraph summary, when the persona event carries it.")
    letter_line: str | None = Field(description="A line of the future-self letter, when the event carries it.")
    mission_tags: list[str] = Field(description="Topic words missions are recommended by.")
    pending: bool = Field(description="A persona is being written (requested, not ready yet).")
    generated_at: datetime | None = Field(description="When the shown persona became ready.")


class UsageView(View):
    limit: str = Field(description="The limit's name in the entitlements matrix, e.g. `active_missions`.")
    description: str = Field(description="What it counts.")
    period: Literal["lifetime", "month"] = Field(description="`month` limits reset at 00:00 UTC on the 1st.")
    used: int | None = Field(description="Usage as the dashboard's events tell it; null when no event counts it yet.")
    allowed: int | None = Field(description="The tier's allowance; null means unlimited.")


class PlanView(View):
    tier: Literal["free", "plus", "pro"] = Field(description="The effective tier (free until billing says otherwise).")
    plan_id: str | None = Field(description="The plan granting a paid tier.")
    status: str | None = Field(description="The subscription's status (`active`, `past_due`...), null on free.")
    since: datetime | None = Field(description="When the tier took effect (billing's `effective_at`).")
    usage: list[UsageView] = Field(description="Usage against each limit of the tier.")


class HabitToday(View):
    habit_id: uuid.UUID
    name: str
    due: bool = Field(description="Due today in the student's local date (see docs/dashboard.md).")
    done: bool = Field(description="Checked in today, meeting the day's target.")
    value: float | None = Field(description="The value logged today; null without a check-in.")
    target: float | None = Field(description="A measurable habit's daily target.")
    unit: str | None
    current_streak: int = Field(description="Periods met in a row, as Coaching counts them.")
    streak_unit: str = Field(description="`day`, `week` or `month`.")
    strength: int = Field(description="Habit strength, 0-100.")


class GoalView(View):
    goal_id: uuid.UUID
    title: str
    status: Literal["active", "achieved", "abandoned"]
    progress: float = Field(description="0-1.")
    current_value: float | None
    target_value: float | None
    pace: Literal["on_track", "behind", "achieved", "no_deadline", "overdue", "unknown"] = Field(
        description="Coaching's pace against the deadline; `unknown` before any progress event."
    )
    behind_by: float | None
    deadline: date | None


class MoodDay(View):
    day: date
    sentiment: float | None = Field(description="Average reflection sentiment of the day, -1..1; null without one.")
    reflections: int


class MoodView(View):
    days: list[MoodDay] = Field(description="The last 7 days in the student's time zone, oldest first.")
    average: float | None = Field(description="Average sentiment over the days that have one.")


class MissionView(View):
    enrollment_id: uuid.UUID
    mission_id: str
    title: str
    skill: str | None
    difficulty: int | None
    started_at: datetime | None
    status: Literal["active", "awaiting_review", "resubmit"] = Field(
        description="`awaiting_review` while a submission is pending, `resubmit` after a review asked for one."
    )
    attempts: int = Field(description="Submissions so far.")


class ReviewView(View):
    submission_id: uuid.UUID
    mission_title: str
    attempt: int
    score: float | None = Field(description="Overall score 0-100; null while the review is pending.")
    verdict: Literal["pass", "resubmit"] | None
    next_step: str | None
    reviewed_at: datetime | None
    received_at: datetime | None


class TimelineEntry(View):
    at: datetime
    kind: str = Field(description="`tier`, `persona`, `questionnaire`, `mission`, `submission`, `review`...")
    text: str = Field(description="The event in words.")


class NextStep(View):
    kind: Literal[
        "start_questionnaire",
        "wait_for_persona",
        "keep_streak",
        "check_in",
        "review_feedback",
        "resubmit",
        "continue_mission",
        "start_mission",
        "all_done",
    ]
    text: str
    ref: str | None = Field(description="The id the step is about (a habit, submission, enrollment), if any.")


class Snapshot(View):
    """The student's dashboard. `version` increases with every change; `as_of` is when it was
    computed; `last_event_at` the newest event it includes."""

    schema_version: Literal[1] = 1  # SNAPSHOT_SCHEMA_VERSION
    user_id: uuid.UUID
    version: int = Field(description="Increases by one with every change; also the ETag and the SSE event id.")
    as_of: datetime
    last_event_at: datetime | None
    today: date = Field(description="The student's local date the habits and mood are shown for.")
    time_zone: str | None = Field(
        default=None,
        description="The IANA zone `today` is in: the student's coaching profile; null before one is known.",
    )
    persona: PersonaView
    plan: PlanView
    habits_today: list[HabitToday]
    goals: list[GoalView]
    mood: MoodView
    missions_in_progress: list[MissionView]
    reviews: list[ReviewView] = Field(description="The latest submissions with their reviews, newest first.")
    timeline: list[TimelineEntry] = Field(description="The last 20 events, newest first.")
    next_step: NextStep = Field(description="The one next best step, chosen by rules (docs/dashboard.md).")


class StreamLag(View):
    pending: int = Field(description="Events of the stream not yet applied by the dashboard.")
    seconds_behind: float = Field(description="Age of the oldest event not yet applied; 0 when caught up.")


class Dashboard(Snapshot):
    """`GET /me`: the snapshot plus how far the dashboard is behind each stream."""

    lag: dict[str, StreamLag] = Field(description="Per stream (`PROFILER`, `BILLING`...); empty until measured.")
