"""What the dashboard knows about one user: the state its reducers fold events into.

Every part is keyed by the id of the thing it describes (a persona, an enrollment, a
submission) or kept last-writer-wins by the event's own time and id, never by arrival order, so
folding the same events in any order, with any of them repeated, gives the same state. That is
what makes redeliveries harmless and a replay of the streams equal to the live projection."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

TIMELINE_LENGTH = 20
# Check-ins and reflections are kept for this many days back from the newest date seen (the
# snapshot shows today, this week and the last 7 days).
KEEP_DAYS = 14


class Fact(BaseModel):
    model_config = ConfigDict(frozen=True)


class EventMark(Fact):
    """The event a last-writer-wins value came from: later `(at, event_id)` wins."""

    at: datetime
    event_id: uuid.UUID

    def newer_than(self, other: EventMark | None) -> bool:
        # UUIDs compare as their 128-bit values: the same order as their text, without making it.
        return other is None or (self.at, self.event_id) > (other.at, other.event_id)


class TierFact(Fact):
    tier: str
    previous_tier: str
    reason: str
    plan_id: str | None
    subscription_status: str | None
    mark: EventMark


class PersonaFact(Fact):
    persona_id: uuid.UUID
    session_id: uuid.UUID
    name: str
    mission_tags: list[str]
    suggested_goals: list[str]
    suggested_habits: list[str]
    provider: str
    fallback: bool
    summary: str | None = None
    letter_line: str | None = None
    generated_at: datetime


class EnrollmentFact(Fact):
    """Merged from enrollment.started and mission.completed (in either order)."""

    enrollment_id: uuid.UUID
    mission_id: str
    title: str
    skill: str | None = None
    difficulty: int | None = None
    estimated_minutes: int | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    completed_score: float | None = None
    attempts: int | None = None


class SubmissionFact(Fact):
    """Merged from submission.received and submission.reviewed (in either order)."""

    submission_id: uuid.UUID
    enrollment_id: uuid.UUID
    mission_id: str
    mission_title: str
    attempt: int
    received_at: datetime | None = None
    reviewed_at: datetime | None = None
    overall_score: float | None = None
    verdict: str | None = None
    next_step: str | None = None
    strengths: list[str] = Field(default_factory=list)
    resubmissions_left: int | None = None


class HabitFact(Fact):
    """The habit's shape (last writer wins by `mark`), its stats (likewise, by `stats_mark`);
    archiving is a field of the shape, deletion is final."""

    habit_id: uuid.UUID
    name: str
    view: dict[str, Any] | None = None  # contracts.coaching.HabitView as JSON
    mark: EventMark | None = None
    archived: bool = False
    stats: dict[str, Any] | None = None  # contracts.coaching.HabitStatsView as JSON
    stats_mark: EventMark | None = None
    deleted: bool = False


class CheckInFact(Fact):
    """One (habit, local date): logged or undone, last writer wins."""

    value: float | None
    completed: bool
    removed: bool
    mark: EventMark


class GoalFact(Fact):
    goal_id: uuid.UUID
    title: str
    view: dict[str, Any] | None = None  # contracts.coaching.GoalView as JSON
    mark: EventMark | None = None
    progress: dict[str, Any] | None = None  # contracts.coaching.GoalProgressView as JSON
    progress_mark: EventMark | None = None
    status: str = "active"
    status_mark: EventMark | None = None
    deleted: bool = False


class ReflectionFact(Fact):
    reflection_id: uuid.UUID
    local_date: date
    mood: int | None = None
    score: float | None = None
    label: str | None = None


class TimelineFact(Fact):
    event_id: uuid.UUID
    at: datetime
    kind: str
    text: str


class UserFacts(Fact):
    """The reducers' state for one user (stored as one JSONB document per projection generation)."""

    user_id: uuid.UUID
    tier: TierFact | None = None
    personas_requested: dict[str, datetime] = Field(default_factory=dict)  # persona id -> first request
    personas: dict[str, PersonaFact] = Field(default_factory=dict)  # ready personas by id
    sessions_completed: dict[str, datetime] = Field(default_factory=dict)  # session id -> completion event time
    enrollments: dict[str, EnrollmentFact] = Field(default_factory=dict)
    submissions: dict[str, SubmissionFact] = Field(default_factory=dict)
    habits: dict[str, HabitFact] = Field(default_factory=dict)
    check_ins: dict[str, dict[str, CheckInFact]] = Field(default_factory=dict)  # habit id -> ISO date -> check-in
    goals: dict[str, GoalFact] = Field(default_factory=dict)
    reflections: dict[str, ReflectionFact] = Field(default_factory=dict)
    timeline: list[TimelineFact] = Field(default_factory=list)  # newest first, at most TIMELINE_LENGTH
    time_zone: str | None = None  # coaching's profile.updated, last writer wins by `time_zone_mark`
    time_zone_mark: EventMark | None = None
    # Per stream, the newest event time applied (for lag and `last_event_at`).
    streams: dict[str, datetime] = Field(default_factory=dict)

    @classmethod
    def empty(cls, user_id: uuid.UUID) -> UserFacts:
        return cls(user_id=user_id)
