"""From a user's facts to their snapshot: a pure function of the facts and the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dashboard.facts.state import UserFacts
from dashboard.snapshot.schemas import (
    MissionView,
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

REVIEWS_SHOWN = 5
FRESH_REVIEW = timedelta(days=2)  # a review this recent is "feedback waiting"


def render(facts: UserFacts, *, version: int, now: datetime) -> Snapshot:
    """The snapshot of `facts` at `now` (as `version`)."""
    tier = _tier(facts)
    return Snapshot(
        user_id=facts.user_id,
        version=version,
        as_of=now,
        last_event_at=max(facts.streams.values(), default=None),
        persona=_persona(facts),
        plan=PlanView(
            tier=tier,
            plan_id=facts.tier.plan_id if facts.tier else None,
            status=facts.tier.subscription_status if facts.tier else None,
            since=facts.tier.mark.at if facts.tier else None,
            usage=_usage(facts, tier, now),
        ),
        habits_today=[],
        goals=[],
        mood=MoodView(days=[], average=None),
        missions_in_progress=_missions(facts),
        reviews=_reviews(facts),
        timeline=[TimelineEntry(at=e.at, kind=e.kind, text=e.text) for e in facts.timeline],
        next_step=next_best_step(facts, now),
    )


def content(snapshot: Snapshot) -> dict[str, Any]:
    """What a change is judged by: everything but the version and the clock."""
    return snapshot.model_dump(mode="json", exclude={"version", "as_of"})


def _tier(facts: UserFacts) -> Tier:
    tier = facts.tier.tier if facts.tier else "free"
    return tier if tier in TIERS else "free"  # type: ignore[return-value]


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
        "habits": None,  # counted once coaching's events arrive
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
            verdict=s.verdict,  # type: ignore[arg-type]
            next_step=s.next_step,
            reviewed_at=s.reviewed_at,
            received_at=s.received_at,
        )
        for s in ordered
    ]


def next_best_step(facts: UserFacts, now: datetime) -> NextStep:
    """The one step shown first, by rules in this order: feedback to act on (a resubmission asked
    for, then a fresh review), the questionnaire if never done, a persona being written, a mission
    in progress, a recommended mission; otherwise all done. (Habit streaks join first in line once
    coaching's events arrive.)"""
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
    if not facts.sessions_completed and not facts.personas:
        return NextStep(kind="start_questionnaire", text="Answer the profiling questionnaire to meet your Future-You", ref=None)
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
