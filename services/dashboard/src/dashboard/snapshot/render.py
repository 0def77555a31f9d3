"""From a user's facts to their snapshot: a pure function of the facts and the clock."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dashboard.facts.state import UserFacts
from dashboard.snapshot.schemas import (
    GoalView,
    HabitToday,
    MissionView,
    MoodDay,
    MoodView,
    NextStep,
    PersonaView,
    PlanView,
    ReviewView,
    Snapshot,
    TimelineEntry,
    UsageView,
)
from entitlements.matrix import LIMITS, TIERS, Tier, limit_for
from servicekit.text_guard import isolated

REVIEWS_SHOWN = 5
FRESH_REVIEW = timedelta(days=2)  # a review this recent is "feedback waiting"


def render(facts: UserFacts, *, version: int, now: datetime) -> Snapshot:
    """The snapshot of `facts` at `now` (as `version`)."""
    tier = _tier(facts)
    today = local_today(facts, now)
    return Snapshot(
        user_id=facts.user_id,
        version=version,
        as_of=now,
        last_event_at=max(facts.streams.values(), default=None),
        today=today,
        time_zone=facts.time_zone,
        persona=_persona(facts),
        plan=PlanView(
            tier=tier,
            plan_id=facts.tier.plan_id if facts.tier else None,
            status=facts.tier.subscription_status if facts.tier else None,
            since=facts.tier.mark.at if facts.tier else None,
            usage=_usage(facts, tier, now),
        ),
        habits_today=habits_today(facts, today),
        goals=_goals(facts),
        mood=_mood(facts, today),
        missions_in_progress=_missions(facts),
        reviews=_reviews(facts),
        timeline=[TimelineEntry(at=e.at, kind=e.kind, text=e.text) for e in facts.timeline],
        next_step=next_best_step(facts, now, today),
    )


UNJUDGED = frozenset({"version", "as_of"})


def content(snapshot: Snapshot) -> dict[str, Any]:
    """What a change is judged by: everything but the version and the clock."""
    return snapshot.model_dump(mode="json", exclude=set(UNJUDGED))


def _tier(facts: UserFacts) -> Tier:
    tier = facts.tier.tier if facts.tier else "free"
    return tier if tier in TIERS else "free"


def _persona(facts: UserFacts) -> PersonaView:
    newest = max(facts.personas.values(), key=lambda p: (p.generated_at, str(p.persona_id)), default=None)
    pending = any(key not in facts.personas for key in facts.personas_requested)
    return PersonaView(
        persona_id=newest.persona_id if newest else None,
        name=newest.name if newest else None,
        summary=newest.summary if newest else None,
        letter_line=newest.letter_line if newest else None,
        mission_tags=newest.mission_tags if newest else [],
        pending=pending,
        generated_at=newest.generated_at if newest else None,
    )


def _month_start(now: datetime) -> datetime:
    now = now.astimezone(UTC)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _usage(facts: UserFacts, tier: Tier, now: datetime) -> list[UsageView]:
    month = _month_start(now)
    ready = sorted(p.generated_at for p in facts.personas.values())
    used: dict[str, int | None] = {
        "habits": sum(1 for h in facts.habits.values() if not h.archived and not h.deleted and h.view is not None),
        "active_missions": sum(1 for e in facts.enrollments.values() if e.completed_at is None),
        "missions_per_month": sum(1 for e in facts.enrollments.values() if e.started_at and e.started_at >= month),
        "persona_generations": len(ready),
        # A refresh is every persona after the first one.
        "persona_refreshes": sum(1 for at in ready[1:] if at >= month),
    }
    return [
        UsageView(
            limit=name,
            description=limit.description,
            period=limit.period,
            used=used.get(name),
            allowed=limit_for(name, tier),
        )
        for name, limit in LIMITS.items()
    ]


def _latest_submission(facts: UserFacts, enrollment_id: str) -> Any:
    mine = [s for s in facts.submissions.values() if str(s.enrollment_id) == enrollment_id]
    return max(mine, key=lambda s: (s.attempt, str(s.submission_id)), default=None)


def _missions(facts: UserFacts) -> list[MissionView]:
    shown = []
    for key, enrollment in facts.enrollments.items():
        if enrollment.completed_at is not None:
            continue
        latest = _latest_submission(facts, key)
        attempts = sum(1 for s in facts.submissions.values() if str(s.enrollment_id) == key)
        status: Any = "active"
        if latest is not None:
            status = "awaiting_review" if latest.reviewed_at is None else "resubmit"
            if latest.verdict == "pass":
                continue  # completed; mission.completed is on its way
        shown.append(
            MissionView(
                enrollment_id=enrollment.enrollment_id,
                mission_id=enrollment.mission_id,
                title=enrollment.title,
                skill=enrollment.skill,
                difficulty=enrollment.difficulty,
                started_at=enrollment.started_at,
                status=status,
                attempts=attempts,
            )
        )
    epoch = datetime.min.replace(tzinfo=UTC)
    return sorted(shown, key=lambda m: (m.started_at or epoch, str(m.enrollment_id)), reverse=True)


def _reviews(facts: UserFacts) -> list[ReviewView]:
    epoch = datetime.min.replace(tzinfo=UTC)

    def newest(s: Any) -> tuple[datetime, str]:
        return (s.reviewed_at or s.received_at or epoch, str(s.submission_id))

    ordered = sorted(facts.submissions.values(), key=newest, reverse=True)[:REVIEWS_SHOWN]
    return [
        ReviewView(
            submission_id=s.submission_id,
            mission_title=s.mission_title,
            attempt=s.attempt,
            score=s.overall_score,
            verdict=s.verdict,
            next_step=s.next_step,
            reviewed_at=s.reviewed_at,
            received_at=s.received_at,
        )
        for s in ordered
    ]


def next_best_step(facts: UserFacts, now: datetime, today: date) -> NextStep:
    """The one step shown first, by rules in this order: a streak to keep alive today, feedback
    to act on (a resubmission asked for, then a fresh review), a habit due today, the
    questionnaire if never done, a persona being written, a mission in progress, a recommended
    mission; otherwise all done."""
    due = [h for h in habits_today(facts, today) if h.due and not h.done]
    at_risk = sorted((h for h in due if h.current_streak > 0), key=lambda h: (-h.current_streak, h.name))
    if at_risk:
        habit = at_risk[0]
        streak = f"{habit.current_streak}-{habit.streak_unit} streak"
        text = f"Check in {isolated(habit.name)} tonight to keep your {streak}"
        return NextStep(kind="keep_streak", text=text, ref=str(habit.habit_id))
    missions = _missions(facts)
    for mission in missions:
        if mission.status == "resubmit":
            latest = _latest_submission(facts, str(mission.enrollment_id))
            hint = f": {latest.next_step}" if latest is not None and latest.next_step else ""
            return NextStep(kind="resubmit", text=f"Improve “{mission.title}”{hint}", ref=str(mission.enrollment_id))
    fresh = [s for s in facts.submissions.values() if s.reviewed_at is not None and now - s.reviewed_at < FRESH_REVIEW]
    if fresh:
        review = max(fresh, key=lambda s: (s.reviewed_at, str(s.submission_id)))
        return NextStep(
            kind="review_feedback",
            text=f"Read the feedback on “{review.mission_title}” ({review.overall_score:g}/100): {review.next_step}",
            ref=str(review.submission_id),
        )
    if due:
        habit = sorted(due, key=lambda h: h.name)[0]
        return NextStep(kind="check_in", text=f"Check in {isolated(habit.name)} today", ref=str(habit.habit_id))
    if not facts.sessions_completed and not facts.personas:
        return NextStep(
            kind="start_questionnaire", text="Answer the profiling questionnaire to meet your Future-You", ref=None
        )
    if not facts.personas:
        return NextStep(kind="wait_for_persona", text="Your Future-You persona is being written", ref=None)
    active = [m for m in missions if m.status == "active"]
    if active:
        return NextStep(kind="continue_mission", text=f"Continue “{active[0].title}”", ref=str(active[0].enrollment_id))
    if not missions:
        persona = _persona(facts)
        topics = ", ".join(persona.mission_tags[:3]) or "what interests you"
        return NextStep(kind="start_mission", text=f"Start a mission about {topics}", ref=None)
    return NextStep(kind="all_done", text="All caught up: your missions are with the reviewers", ref=None)


def local_today(facts: UserFacts, now: datetime) -> date:
    """The student's local date: in their coaching profile's zone (`profile.updated`). Before
    one is known, the UTC date, unless a check-in already counts for the next day (the student
    is east of UTC and past midnight)."""
    if facts.time_zone is not None:
        with contextlib.suppress(ZoneInfoNotFoundError, ValueError):
            return now.astimezone(ZoneInfo(facts.time_zone)).date()
    utc_today = now.astimezone(UTC).date()
    ahead = utc_today + timedelta(days=1)
    seen = {d for days in facts.check_ins.values() for d in days} | {
        r.local_date.isoformat() for r in facts.reflections.values()
    }
    return ahead if ahead.isoformat() in seen else utc_today


def _due(schedule: dict[str, Any], today: date, days: dict[str, Any]) -> bool:
    kind = schedule.get("kind", "daily")
    if kind == "weekdays":
        return today.isoweekday() in (schedule.get("weekdays") or [])
    if kind in ("weekly", "monthly"):
        if kind == "weekly":
            start = today - timedelta(days=today.isoweekday() - 1)
        else:
            start = today.replace(day=1)
        met = sum(
            1 for d, c in days.items() if start <= date.fromisoformat(d) < today and c.completed and not c.removed
        )
        return met < (schedule.get("times") or 1)
    return True


def habits_today(facts: UserFacts, today: date) -> list[HabitToday]:
    shown = []
    for key, habit in facts.habits.items():
        if habit.deleted or habit.archived or habit.view is None:
            continue
        view, stats = habit.view, habit.stats or {}
        days = facts.check_ins.get(key, {})
        entry = days.get(today.isoformat())
        logged = entry is not None and not entry.removed
        shown.append(
            HabitToday(
                habit_id=habit.habit_id,
                name=habit.name,
                due=_due(view.get("schedule") or {}, today, days),
                done=bool(logged and entry is not None and entry.completed),
                value=entry.value if logged and entry is not None else None,
                target=view.get("target"),
                unit=view.get("unit"),
                current_streak=int(stats.get("current_streak", 0)),
                streak_unit=str(stats.get("streak_unit", "day")),
                strength=int(stats.get("strength", 0)),
            )
        )
    return sorted(shown, key=lambda h: (h.name, str(h.habit_id)))


def _goals(facts: UserFacts) -> list[GoalView]:
    shown = []
    for goal in facts.goals.values():
        if goal.deleted or goal.view is None or goal.status == "abandoned":
            continue
        progress = goal.progress or {}
        shown.append(
            GoalView(
                goal_id=goal.goal_id,
                title=goal.title,
                status=goal.status,
                progress=float(progress.get("fraction", 0.0)),
                current_value=progress.get("current_value"),
                target_value=progress.get("target_value"),
                pace=progress.get("pace", "unknown"),
                behind_by=progress.get("behind_by"),
                deadline=goal.view.get("deadline"),
            )
        )
    return sorted(shown, key=lambda g: (g.status != "active", g.title, str(g.goal_id)))


def _mood(facts: UserFacts, today: date) -> MoodView:
    days = []
    for back in range(6, -1, -1):
        day = today - timedelta(days=back)
        mine = [r for r in facts.reflections.values() if r.local_date == day]
        scores = [r.score for r in mine if r.score is not None]
        days.append(
            MoodDay(day=day, sentiment=round(sum(scores) / len(scores), 3) if scores else None, reflections=len(mine))
        )
    known = [d.sentiment for d in days if d.sentiment is not None]
    return MoodView(days=days, average=round(sum(known) / len(known), 3) if known else None)
