"""Pure reducers `(facts, payload, event) -> facts`, one per event type of `libs/contracts`.

The table `REDUCERS` is keyed by payload class; a test walks `contracts.payload.all_payloads()`
and fails for any payload without an entry, so a new contract cannot be forgotten. A payload the
dashboard deliberately does not show is registered with `ignored(...)` and a reason.

Rules every reducer keeps (tested with shuffled, repeated histories):
- keyed by the id of the thing it describes; merges are field-wise, so events of one thing may
  arrive in any order;
- last-writer-wins values compare the event's own time (then its id), never arrival order;
- no counters: counts are derived from keyed sets when rendering, so a repeat adds nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import IntEnum
from typing import Any, TypeVar

from contracts.billing import StripeEventReceived, TierChanged
from contracts.coaching import (
    GoalAbandoned,
    GoalAchieved,
    GoalCreated,
    GoalDeleted,
    GoalProgressed,
    GoalProgressView,
    GoalUpdated,
    HabitArchived,
    HabitCreated,
    HabitDeleted,
    HabitLogged,
    HabitStatsView,
    HabitUnlogged,
    HabitUpdated,
    HabitView,
    ProfileUpdated,
    ReflectionCreated,
    ReflectionScored,
)
from contracts.coaching import GoalView as CoachingGoalView
from contracts.missions import EnrollmentStarted, MissionCompleted, SubmissionReceived, SubmissionReviewed
from contracts.payload import EventPayload
from contracts.profiler import PersonaGenerated, PersonaRequested, SessionCompleted
from dashboard.facts.state import (
    KEEP_DAYS,
    TIMELINE_LENGTH,
    CheckInFact,
    EnrollmentFact,
    EventMark,
    GoalFact,
    HabitFact,
    PersonaFact,
    ReflectionFact,
    SubmissionFact,
    TierFact,
    TimelineFact,
    UserFacts,
)
from servicekit.text_guard import isolated


class Priority(IntEnum):
    """Refresh classes, most urgent first (`refresh_queue.priority`)."""

    URGENT = 0  # tier and persona changes, a manual refresh
    ACTIVITY = 1  # check-ins, submissions, reviews, missions
    BULK = 2  # replays and day rollovers


@dataclass(frozen=True)
class EventMeta:
    """What a reducer may know about the envelope: its id, own time and stream."""

    id: uuid.UUID
    time: datetime
    stream: str


P = TypeVar("P", bound=EventPayload)
Reducer = Callable[[UserFacts, Any, EventMeta], UserFacts]


@dataclass(frozen=True)
class Registration:
    reducer: Reducer | None  # None: deliberately not shown (see `reason`)
    priority: Priority
    reason: str = ""


REDUCERS: dict[type[EventPayload], Registration] = {}


def reduces(payload: type[P], priority: Priority) -> Callable[[Callable[[UserFacts, P, EventMeta], UserFacts]], Any]:
    def register(fn: Callable[[UserFacts, P, EventMeta], UserFacts]) -> Callable[[UserFacts, P, EventMeta], UserFacts]:
        if payload in REDUCERS:
            raise ValueError(f"{payload.__name__} already has a reducer")
        REDUCERS[payload] = Registration(fn, priority)
        return fn

    return register


def ignored(payload: type[EventPayload], reason: str) -> None:
    REDUCERS[payload] = Registration(None, Priority.BULK, reason)


def reduce(facts: UserFacts, payload: EventPayload, meta: EventMeta) -> UserFacts:
    """Fold one event into `facts` (unchanged for an ignored type)."""
    registration = REDUCERS[type(payload)]
    if registration.reducer is None:
        return facts
    reduced = registration.reducer(facts, payload, meta)
    seen = facts.streams.get(meta.stream)
    if seen is None or meta.time > seen:
        reduced = reduced.model_copy(update={"streams": {**reduced.streams, meta.stream: meta.time}})
    return reduced


def _timeline(facts: UserFacts, meta: EventMeta, kind: str, text: str) -> list[TimelineFact]:
    """The newest TIMELINE_LENGTH entries of the union, newest first by `(at, event id)` (a
    repeat replaces itself). The kept list is in that order, so one scan places the new entry."""
    key = (meta.time, meta.id)
    kept = facts.timeline
    if len(kept) >= TIMELINE_LENGTH and key < (kept[-1].at, kept[-1].event_id):
        return kept  # older than every entry kept (so not one of them): nothing changes
    others = [e for e in kept if e.event_id.int != meta.id.int]
    at = next((i for i, e in enumerate(others) if (e.at, e.event_id) < key), len(others))
    entry = TimelineFact(event_id=meta.id, at=meta.time, kind=kind, text=text)
    return [*others[:at], entry, *others[at:]][:TIMELINE_LENGTH]


def _with(facts: UserFacts, meta: EventMeta, kind: str, text: str, **changes: Any) -> UserFacts:
    return facts.model_copy(update={**changes, "timeline": _timeline(facts, meta, kind, text)})


def _merge(current: Any, owned: dict[str, Any], shared: dict[str, Any]) -> dict[str, Any]:
    """Field-wise merge of one thing described by several events: `owned` fields come from this
    event alone and are set; `shared` ones (a title every event repeats) are filled only where
    unknown, except by the event that owns them, which passes them as `owned`. Either order of
    the events gives the same result."""
    known = current.model_dump() if current is not None else {}
    return {**shared, **known, **owned}


# --- billing ------------------------------------------------------------------------------

ignored(
    StripeEventReceived,
    "a pointer to a stored Stripe object; its effect on the student arrives as tier.changed",
)


@reduces(TierChanged, Priority.URGENT)
def tier_changed(facts: UserFacts, change: TierChanged, meta: EventMeta) -> UserFacts:
    mark = EventMark(at=change.effective_at, event_id=meta.id)
    fact = TierFact(
        tier=change.new_tier,
        previous_tier=change.previous_tier,
        reason=change.reason,
        plan_id=change.plan_id,
        subscription_status=change.subscription_status,
        mark=mark,
    )
    tier = fact if mark.newer_than(facts.tier.mark if facts.tier else None) else facts.tier
    verb = "Upgraded" if _rank(change.new_tier) > _rank(change.previous_tier) else "Moved"
    text = f"{verb} from {change.previous_tier.title()} to {change.new_tier.title()} ({change.reason})"
    return _with(facts, EventMeta(meta.id, change.effective_at, meta.stream), "tier", text, tier=tier)


def _rank(tier: str) -> int:
    return ("free", "plus", "pro").index(tier) if tier in ("free", "plus", "pro") else 0


# --- profiler -----------------------------------------------------------------------------


@reduces(SessionCompleted, Priority.ACTIVITY)
def session_completed(facts: UserFacts, done: SessionCompleted, meta: EventMeta) -> UserFacts:
    key = str(done.session_id)
    first = min(meta.time, facts.sessions_completed.get(key, meta.time))
    text = f"Completed the profiling questionnaire ({done.answered} answers)"
    return _with(facts, meta, "questionnaire", text, sessions_completed={**facts.sessions_completed, key: first})


@reduces(PersonaRequested, Priority.ACTIVITY)
def persona_requested(facts: UserFacts, requested: PersonaRequested, meta: EventMeta) -> UserFacts:
    key = str(requested.persona_id)
    # The sweeper may request the same persona again (a new event id): the first request counts.
    # No timeline entry: session.completed already says it, and one line per request would
    # depend on which request arrived first.
    first = min(meta.time, facts.personas_requested.get(key, meta.time))
    return facts.model_copy(update={"personas_requested": {**facts.personas_requested, key: first}})


@reduces(PersonaGenerated, Priority.URGENT)
def persona_generated(facts: UserFacts, generated: PersonaGenerated, meta: EventMeta) -> UserFacts:
    key = str(generated.persona_id)
    earlier = facts.personas.get(key)
    fact = PersonaFact(
        persona_id=generated.persona_id,
        session_id=generated.session_id,
        name=generated.name,
        mission_tags=list(generated.mission_tags),
        suggested_goals=list(generated.suggested_goals),
        suggested_habits=list(generated.suggested_habits),
        provider=generated.provider,
        fallback=generated.fallback,
        summary=generated.summary,  # null in version 1 events
        letter_line=generated.letter_line,
        generated_at=meta.time if earlier is None else min(earlier.generated_at, meta.time),
    )
    text = f"Your Future-You persona is ready: {isolated(generated.name)}"
    return _with(facts, meta, "persona", text, personas={**facts.personas, key: fact})


# --- missions -----------------------------------------------------------------------------


@reduces(EnrollmentStarted, Priority.ACTIVITY)
def enrollment_started(facts: UserFacts, started: EnrollmentStarted, meta: EventMeta) -> UserFacts:
    key = str(started.enrollment_id)
    owned = {
        "enrollment_id": started.enrollment_id,
        "mission_id": started.mission_id,
        "title": started.mission_title,
        "skill": started.skill,
        "difficulty": started.difficulty,
        "estimated_minutes": started.estimated_minutes,
        "started_at": started.started_at,
    }
    merged = _merge(facts.enrollments.get(key), owned, {})
    enrollments = {**facts.enrollments, key: EnrollmentFact(**merged)}
    at = EventMeta(meta.id, started.started_at, meta.stream)
    return _with(facts, at, "mission", f"Started mission “{started.mission_title}”", enrollments=enrollments)


@reduces(MissionCompleted, Priority.ACTIVITY)
def mission_completed(facts: UserFacts, done: MissionCompleted, meta: EventMeta) -> UserFacts:
    key = str(done.enrollment_id)
    owned = {"completed_at": done.completed_at, "completed_score": done.overall_score, "attempts": done.attempts}
    shared = {
        "enrollment_id": done.enrollment_id,
        "mission_id": done.mission_id,
        "title": done.mission_title,
        "skill": done.skill,
        "difficulty": done.difficulty,
    }
    merged = _merge(facts.enrollments.get(key), owned, shared)
    enrollments = {**facts.enrollments, key: EnrollmentFact(**merged)}
    at = EventMeta(meta.id, done.completed_at, meta.stream)
    text = f"Completed mission “{done.mission_title}” with {done.overall_score:g}/100"
    return _with(facts, at, "mission", text, enrollments=enrollments)


@reduces(SubmissionReceived, Priority.ACTIVITY)
def submission_received(facts: UserFacts, received: SubmissionReceived, meta: EventMeta) -> UserFacts:
    key = str(received.submission_id)
    owned = {
        "submission_id": received.submission_id,
        "enrollment_id": received.enrollment_id,
        "mission_id": received.mission_id,
        "mission_title": received.mission_title,
        "attempt": received.attempt,
        "received_at": received.received_at,
    }
    merged = _merge(facts.submissions.get(key), owned, {})
    submissions = {**facts.submissions, key: SubmissionFact(**merged)}
    at = EventMeta(meta.id, received.received_at, meta.stream)
    text = f"Submitted “{received.mission_title}” (attempt {received.attempt}); review pending"
    return _with(facts, at, "submission", text, submissions=submissions)


@reduces(SubmissionReviewed, Priority.ACTIVITY)
def submission_reviewed(facts: UserFacts, reviewed: SubmissionReviewed, meta: EventMeta) -> UserFacts:
    key = str(reviewed.submission_id)
    owned = {
        "reviewed_at": reviewed.reviewed_at,
        "overall_score": reviewed.overall_score,
        "verdict": reviewed.verdict,
        "next_step": reviewed.next_step,
        "strengths": list(reviewed.strengths),
        "resubmissions_left": reviewed.resubmissions_left,
    }
    shared = {
        "submission_id": reviewed.submission_id,
        "enrollment_id": reviewed.enrollment_id,
        "mission_id": reviewed.mission_id,
        "mission_title": reviewed.mission_title,
        "attempt": reviewed.attempt,
    }
    merged = _merge(facts.submissions.get(key), owned, shared)
    submissions = {**facts.submissions, key: SubmissionFact(**merged)}
    at = EventMeta(meta.id, reviewed.reviewed_at, meta.stream)
    text = f"Review of “{reviewed.mission_title}”: {reviewed.overall_score:g}/100, {reviewed.verdict}"
    return _with(facts, at, "review", text, submissions=submissions)


# --- coaching -----------------------------------------------------------------------------


def _mark(meta: EventMeta, at: datetime | None = None) -> EventMark:
    return EventMark(at=at or meta.time, event_id=meta.id)


def _habit(facts: UserFacts, habit_id: uuid.UUID, name: str) -> HabitFact:
    return facts.habits.get(str(habit_id)) or HabitFact(habit_id=habit_id, name=name)


# A deleted habit or goal leaves only its id and the mark (a tombstone): whatever arrives for it
# late stays out, and a student who creates and deletes thousands keeps a small facts row (every
# event of theirs reads and writes the whole row).
def _habit_tombstone(habit_id: uuid.UUID) -> HabitFact:
    return HabitFact(habit_id=habit_id, name="", deleted=True)


def _goal_tombstone(goal_id: uuid.UUID) -> GoalFact:
    return GoalFact(goal_id=goal_id, title="", deleted=True)


def _habit_shape(facts: UserFacts, view: HabitView, meta: EventMeta, stats: HabitStatsView | None) -> dict[str, Any]:
    habit = _habit(facts, view.habit_id, view.name)
    if habit.deleted:
        return facts.habits
    mark = _mark(meta)
    changes: dict[str, Any] = {}
    if mark.newer_than(habit.mark):
        changes |= {"name": view.name, "view": view.model_dump(mode="json"), "mark": mark, "archived": view.archived}
    if stats is not None and mark.newer_than(habit.stats_mark):
        changes |= {"stats": stats.model_dump(mode="json"), "stats_mark": mark}
    return {**facts.habits, str(view.habit_id): habit.model_copy(update=changes)}


@reduces(HabitCreated, Priority.ACTIVITY)
def habit_created(facts: UserFacts, created: HabitCreated, meta: EventMeta) -> UserFacts:
    habits = _habit_shape(facts, created.habit, meta, None)
    return _with(facts, meta, "habit", f"New habit: {isolated(created.habit.name)}", habits=habits)


@reduces(HabitUpdated, Priority.ACTIVITY)
def habit_updated(facts: UserFacts, updated: HabitUpdated, meta: EventMeta) -> UserFacts:
    habits = _habit_shape(facts, updated.habit, meta, updated.stats)
    text = f"Changed habit {isolated(updated.habit.name)} ({', '.join(updated.changed) or 'no field'})"
    return _with(facts, meta, "habit", text, habits=habits)


@reduces(HabitArchived, Priority.ACTIVITY)
def habit_archived(facts: UserFacts, archived: HabitArchived, meta: EventMeta) -> UserFacts:
    habit = _habit(facts, archived.habit_id, archived.name)
    mark = _mark(meta, archived.archived_at)
    if not habit.deleted and mark.newer_than(habit.mark):
        habit = habit.model_copy(update={"archived": True, "mark": mark})
    at = EventMeta(meta.id, archived.archived_at, meta.stream)
    return _with(
        facts,
        at,
        "habit",
        f"Archived habit {isolated(archived.name)}",
        habits={**facts.habits, str(archived.habit_id): habit},
    )


@reduces(HabitDeleted, Priority.ACTIVITY)
def habit_deleted(facts: UserFacts, deleted: HabitDeleted, meta: EventMeta) -> UserFacts:
    habit = _habit_tombstone(deleted.habit_id)
    check_ins = {k: v for k, v in facts.check_ins.items() if k != str(deleted.habit_id)}
    return _with(
        facts,
        meta,
        "habit",
        f"Deleted habit {isolated(deleted.name)}",
        habits={**facts.habits, str(deleted.habit_id): habit},
        check_ins=check_ins,
    )


def _check_in(
    facts: UserFacts, habit_id: uuid.UUID, name: str, day: date, entry: CheckInFact, stats: HabitStatsView
) -> dict[str, Any]:
    habit = _habit(facts, habit_id, name)
    if habit.deleted:  # the deletion removed every check-in; a late one stays gone
        return {}
    key = str(habit_id)
    days = dict(facts.check_ins.get(key, {}))
    held = days.get(day.isoformat())
    if held is None or entry.mark.newer_than(held.mark):
        days[day.isoformat()] = entry
    newest = max(date.fromisoformat(d) for d in days)
    days = {d: v for d, v in days.items() if (newest - date.fromisoformat(d)).days < KEEP_DAYS}
    if entry.mark.newer_than(habit.stats_mark):
        habit = habit.model_copy(update={"stats": stats.model_dump(mode="json"), "stats_mark": entry.mark})
    return {"check_ins": {**facts.check_ins, key: days}, "habits": {**facts.habits, key: habit}}


@reduces(HabitLogged, Priority.ACTIVITY)
def habit_logged(facts: UserFacts, logged: HabitLogged, meta: EventMeta) -> UserFacts:
    entry = CheckInFact(value=logged.value, completed=logged.completed, removed=False, mark=_mark(meta))
    changes = _check_in(facts, logged.habit_id, logged.name, logged.local_date, entry, logged.stats)
    streak = logged.stats.current_streak
    day, unit = logged.local_date.isoformat(), logged.stats.streak_unit
    text = f"Checked in {isolated(logged.name)} for {day} (streak {streak} {unit})"
    return _with(facts, meta, "check_in", text, **changes)


@reduces(HabitUnlogged, Priority.ACTIVITY)
def habit_unlogged(facts: UserFacts, unlogged: HabitUnlogged, meta: EventMeta) -> UserFacts:
    entry = CheckInFact(value=None, completed=False, removed=True, mark=_mark(meta))
    changes = _check_in(facts, unlogged.habit_id, unlogged.name, unlogged.local_date, entry, unlogged.stats)
    text = f"Undid the check-in of {isolated(unlogged.name)} for {unlogged.local_date.isoformat()}"
    return _with(facts, meta, "check_in", text, **changes)


def _goal(facts: UserFacts, goal_id: uuid.UUID, title: str) -> GoalFact:
    return facts.goals.get(str(goal_id)) or GoalFact(goal_id=goal_id, title=title)


def _goal_changes(
    goal: GoalFact,
    meta: EventMeta,
    *,
    view: CoachingGoalView | None = None,
    progress: GoalProgressView | None = None,
    status: str | None = None,
    at: datetime | None = None,
) -> GoalFact:
    if goal.deleted:
        return goal
    mark = _mark(meta, at)
    changes: dict[str, Any] = {}
    if view is not None and mark.newer_than(goal.mark):
        changes |= {"title": view.title, "view": view.model_dump(mode="json"), "mark": mark}
    if progress is not None and mark.newer_than(goal.progress_mark):
        changes |= {"progress": progress.model_dump(mode="json"), "progress_mark": mark}
    status = status or (view.status if view is not None else None)
    if status is not None and mark.newer_than(goal.status_mark):
        changes |= {"status": status, "status_mark": mark}
    return goal.model_copy(update=changes)


def _goals(facts: UserFacts, goal: GoalFact) -> dict[str, GoalFact]:
    return {**facts.goals, str(goal.goal_id): goal}


@reduces(GoalCreated, Priority.ACTIVITY)
def goal_created(facts: UserFacts, created: GoalCreated, meta: EventMeta) -> UserFacts:
    goal = _goal_changes(
        _goal(facts, created.goal.goal_id, created.goal.title), meta, view=created.goal, progress=created.progress
    )
    return _with(facts, meta, "goal", f"New goal: {isolated(created.goal.title)}", goals=_goals(facts, goal))


@reduces(GoalUpdated, Priority.ACTIVITY)
def goal_updated(facts: UserFacts, updated: GoalUpdated, meta: EventMeta) -> UserFacts:
    goal = _goal_changes(
        _goal(facts, updated.goal.goal_id, updated.goal.title), meta, view=updated.goal, progress=updated.progress
    )
    text = f"Changed goal {isolated(updated.goal.title)} ({', '.join(updated.changed) or 'no field'})"
    return _with(facts, meta, "goal", text, goals=_goals(facts, goal))


@reduces(GoalProgressed, Priority.ACTIVITY)
def goal_progressed(facts: UserFacts, progressed: GoalProgressed, meta: EventMeta) -> UserFacts:
    goal = _goal_changes(_goal(facts, progressed.goal_id, progressed.title), meta, progress=progressed.progress)
    percent = round(progressed.progress.fraction * 100)
    text = f"{isolated(progressed.title)}: {percent}% ({progressed.progress.pace.replace('_', ' ')})"
    return _with(facts, meta, "goal", text, goals=_goals(facts, goal))


@reduces(GoalAchieved, Priority.ACTIVITY)
def goal_achieved(facts: UserFacts, achieved: GoalAchieved, meta: EventMeta) -> UserFacts:
    goal = _goal_changes(
        _goal(facts, achieved.goal_id, achieved.title), meta, status="achieved", at=achieved.achieved_at
    )
    at = EventMeta(meta.id, achieved.achieved_at, meta.stream)
    return _with(facts, at, "goal", f"Achieved goal: {isolated(achieved.title)}", goals=_goals(facts, goal))


@reduces(GoalAbandoned, Priority.ACTIVITY)
def goal_abandoned(facts: UserFacts, abandoned: GoalAbandoned, meta: EventMeta) -> UserFacts:
    goal = _goal_changes(
        _goal(facts, abandoned.goal_id, abandoned.title), meta, status="abandoned", at=abandoned.abandoned_at
    )
    at = EventMeta(meta.id, abandoned.abandoned_at, meta.stream)
    return _with(facts, at, "goal", f"Set aside goal: {isolated(abandoned.title)}", goals=_goals(facts, goal))


@reduces(GoalDeleted, Priority.ACTIVITY)
def goal_deleted(facts: UserFacts, deleted: GoalDeleted, meta: EventMeta) -> UserFacts:
    goal = _goal_tombstone(deleted.goal_id)
    return _with(facts, meta, "goal", f"Deleted goal {isolated(deleted.title)}", goals=_goals(facts, goal))


def _reflections(facts: UserFacts, reflection: ReflectionFact) -> dict[str, ReflectionFact]:
    kept = {**facts.reflections, str(reflection.reflection_id): reflection}
    newest = max(r.local_date for r in kept.values())
    return {k: r for k, r in kept.items() if (newest - r.local_date).days < KEEP_DAYS}


@reduces(ReflectionCreated, Priority.ACTIVITY)
def reflection_created(facts: UserFacts, created: ReflectionCreated, meta: EventMeta) -> UserFacts:
    known = facts.reflections.get(str(created.reflection_id))
    base = {"reflection_id": created.reflection_id, "local_date": created.local_date, "mood": created.mood}
    reflection = ReflectionFact(**{**base, **(known.model_dump(exclude_none=True) if known else {})})
    return _with(facts, meta, "reflection", "Wrote a reflection", reflections=_reflections(facts, reflection))


@reduces(ReflectionScored, Priority.ACTIVITY)
def reflection_scored(facts: UserFacts, scored: ReflectionScored, meta: EventMeta) -> UserFacts:
    known = facts.reflections.get(str(scored.reflection_id))
    reflection = ReflectionFact(
        **{
            **(known.model_dump() if known else {}),
            "reflection_id": scored.reflection_id,
            "local_date": scored.local_date,
            "mood": scored.mood,
            "score": scored.score,
            "label": scored.label,
        }
    )
    text = f"Reflection read as {scored.label}" + (
        f" ({', '.join(isolated(theme) for theme in scored.themes[:3])})" if scored.themes else ""
    )
    return _with(facts, meta, "reflection", text, reflections=_reflections(facts, reflection))


@reduces(ProfileUpdated, Priority.ACTIVITY)
def profile_updated(facts: UserFacts, updated: ProfileUpdated, meta: EventMeta) -> UserFacts:
    mark = _mark(meta)
    text = f"Time zone set to {updated.time_zone}"
    if not mark.newer_than(facts.time_zone_mark):  # an older change arriving late: its line only
        return _with(facts, meta, "profile", text)
    return _with(facts, meta, "profile", text, time_zone=updated.time_zone, time_zone_mark=mark)
