"""Events as the producers emit them (payload classes from libs/contracts), for tests and the
benchmarks: the dashboard is built only from events, so this is how it is fed without the
other services."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from contracts.billing import StripeEventReceived, TierChanged
from contracts.coaching import (
    GoalCreated,
    GoalProgressed,
    GoalProgressView,
    GoalView,
    HabitCreated,
    HabitLogged,
    HabitSchedule,
    HabitStatsView,
    HabitUnlogged,
    HabitView,
    ProfileUpdated,
    ReflectionCreated,
    ReflectionScored,
)
from contracts.missions import (
    CriterionScore,
    EnrollmentStarted,
    MissionCompleted,
    SubmissionReceived,
    SubmissionReviewed,
)
from contracts.payload import EventPayload
from contracts.profiler import PersonaGenerated, PersonaRequested, SessionCompleted
from servicekit.events.envelope import Event

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def envelope(payload: EventPayload, user_id: uuid.UUID, *, time: datetime | None = None) -> Event:
    return Event(
        type=payload.SUBJECT,
        source=payload.service(),
        subject=str(user_id),
        time=time or T0,
        version=payload.VERSION,
        data=payload.model_dump(mode="json"),
    )


def tier_changed(new: str = "plus", previous: str = "free", *, when: datetime = T0, **extra: Any) -> TierChanged:
    return TierChanged(
        previous_tier=previous,
        new_tier=new,
        reason=extra.pop("reason", "subscription active"),
        effective_at=when,
        plan_id=extra.pop("plan_id", f"{new}_monthly" if new != "free" else None),
        subscription_status=extra.pop("subscription_status", "active" if new != "free" else None),
    )


def session_completed(session_id: uuid.UUID | None = None) -> SessionCompleted:
    return SessionCompleted(session_id=session_id or uuid.uuid4(), bank_version=1, answered=11)


def persona_requested(persona_id: uuid.UUID, session_id: uuid.UUID) -> PersonaRequested:
    return PersonaRequested(persona_id=persona_id, session_id=session_id)


def persona_generated(
    persona_id: uuid.UUID, session_id: uuid.UUID, name: str = "The Curious Builder"
) -> PersonaGenerated:
    return PersonaGenerated(
        persona_id=persona_id,
        session_id=session_id,
        name=name,
        mission_tags=["robots", "farming"],
        suggested_goals=["build a robot"],
        suggested_habits=["read 20 minutes"],
        provider="offline",
        fallback=False,
        summary="A builder who learns by making things work.",
        letter_line="I am writing from ten years ahead.",
    )


def profile_updated(time_zone: str = "Europe/Paris", previous: str | None = None) -> ProfileUpdated:
    return ProfileUpdated(time_zone=time_zone, previous_time_zone=previous)


def enrollment_started(
    enrollment_id: uuid.UUID, *, when: datetime = T0, title: str = "Water quality"
) -> EnrollmentStarted:
    return EnrollmentStarted(
        enrollment_id=enrollment_id,
        mission_id="research-local-water-quality",
        mission_title=title,
        catalog_version=1,
        skill="research",
        tags=["research", "science"],
        difficulty=2,
        estimated_minutes=90,
        started_at=when,
    )


def submission_received(
    submission_id: uuid.UUID, enrollment_id: uuid.UUID, *, attempt: int = 1, when: datetime = T0
) -> SubmissionReceived:
    return SubmissionReceived(
        submission_id=submission_id,
        enrollment_id=enrollment_id,
        mission_id="research-local-water-quality",
        mission_title="Water quality",
        attempt=attempt,
        text_chars=1200,
        file_count=1,
        received_at=when,
    )


def submission_reviewed(
    submission_id: uuid.UUID,
    enrollment_id: uuid.UUID,
    *,
    verdict: str = "resubmit",
    score: float = 55.0,
    attempt: int = 1,
    when: datetime = T0,
) -> SubmissionReviewed:
    return SubmissionReviewed(
        submission_id=submission_id,
        enrollment_id=enrollment_id,
        mission_id="research-local-water-quality",
        mission_title="Water quality",
        attempt=attempt,
        overall_score=score,
        verdict=verdict,
        criteria_scores=[
            CriterionScore(
                criterion_id="evidence",
                name="Evidence",
                weight=1.0,
                level=2,
                max_level=4,
                level_label="some",
                score=50.0,
            )
        ],
        strengths=["clear question"],
        next_step="cite two sources",
        resubmissions_left=0 if verdict == "pass" else 2,
        provider="offline",
        fallback=False,
        reviewed_at=when,
    )


def mission_completed(
    enrollment_id: uuid.UUID, submission_id: uuid.UUID, *, when: datetime = T0, score: float = 81.0
) -> MissionCompleted:
    return MissionCompleted(
        enrollment_id=enrollment_id,
        mission_id="research-local-water-quality",
        mission_title="Water quality",
        skill="research",
        tags=["research"],
        difficulty=2,
        submission_id=submission_id,
        overall_score=score,
        attempts=2,
        completed_at=when,
    )


def stripe_event_received() -> StripeEventReceived:
    return StripeEventReceived(stripe_event_id=f"evt_{uuid.uuid4().hex[:12]}", type="invoice.paid")


def habit_view(habit_id: uuid.UUID, name: str = "Read", **extra: Any) -> HabitView:
    return HabitView(
        habit_id=habit_id,
        name=name,
        kind="boolean",
        unit=None,
        target=None,
        schedule=extra.pop("schedule", HabitSchedule(kind="daily")),
        colour=None,
        icon=None,
        goal_id=None,
        archived=extra.pop("archived", False),
    )


def habit_stats(streak: int = 1, strength: int = 20) -> HabitStatsView:
    return HabitStatsView(
        current_streak=streak, best_streak=streak, streak_unit="day", strength=strength, total_checkins=streak
    )


def habit_created(habit_id: uuid.UUID, name: str = "Read", *, start: date | None = None) -> HabitCreated:
    return HabitCreated(habit=habit_view(habit_id, name), start_date=start or T0.date(), from_suggestion=None)


def habit_logged(
    habit_id: uuid.UUID, day: date, *, name: str = "Read", streak: int = 1, value: float = 1.0
) -> HabitLogged:
    return HabitLogged(
        habit_id=habit_id,
        name=name,
        local_date=day,
        value=value,
        target=None,
        unit=None,
        completed=True,
        stats=habit_stats(streak, 20 * streak),
    )


def habit_unlogged(habit_id: uuid.UUID, day: date, *, name: str = "Read", streak: int = 0) -> HabitUnlogged:
    return HabitUnlogged(habit_id=habit_id, name=name, local_date=day, stats=habit_stats(streak, 10))


def goal_progress(fraction: float, pace: str = "on_track") -> GoalProgressView:
    return GoalProgressView(
        current_value=fraction * 10,
        target_value=10,
        fraction=fraction,
        expected_value=5,
        pace=pace,
        behind_by=None,
    )


def goal_created(goal_id: uuid.UUID, title: str = "Read 10 books") -> GoalCreated:
    view = GoalView(
        goal_id=goal_id,
        title=title,
        kind="target",
        target_value=10,
        unit="books",
        milestones_total=None,
        deadline=date(2026, 12, 31),
        status="active",
        habit_ids=[],
    )
    return GoalCreated(goal=view, progress=goal_progress(0.0), from_suggestion=None)


def goal_progressed(goal_id: uuid.UUID, fraction: float, title: str = "Read 10 books") -> GoalProgressed:
    return GoalProgressed(goal_id=goal_id, title=title, source="manual", progress=goal_progress(fraction))


def reflection_created(reflection_id: uuid.UUID, day: date, mood: int = 4) -> ReflectionCreated:
    return ReflectionCreated(
        reflection_id=reflection_id, local_date=day, mood=mood, prompt_id=None, habit_id=None, goal_id=None, length=120
    )


def reflection_scored(reflection_id: uuid.UUID, day: date, score: float = 0.6) -> ReflectionScored:
    return ReflectionScored(
        reflection_id=reflection_id,
        local_date=day,
        mood=4,
        label="positive" if score > 0.05 else "negative" if score < -0.05 else "neutral",
        score=score,
        themes=["exams"],
        provider="offline",
        fallback=False,
    )


def mixed_history(user_id: uuid.UUID) -> list[Event]:
    """One student's story across three streams, each event at its own time."""
    session, persona, enrollment = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    first, second = uuid.uuid4(), uuid.uuid4()
    habit, goal, reflection = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    day = T0.date()
    steps: list[tuple[EventPayload, datetime]] = [
        (session_completed(session), at(0)),
        (persona_requested(persona, session), at(0)),
        (persona_generated(persona, session), at(1)),
        (tier_changed("plus", "free", when=at(2)), at(2)),
        (enrollment_started(enrollment, when=at(3)), at(3)),
        (submission_received(first, enrollment, when=at(4)), at(4)),
        (submission_reviewed(first, enrollment, when=at(5)), at(5)),
        (submission_received(second, enrollment, attempt=2, when=at(6)), at(6)),
        (submission_reviewed(second, enrollment, verdict="pass", score=81, attempt=2, when=at(7)), at(7)),
        (mission_completed(enrollment, second, when=at(7)), at(7)),
        (tier_changed("pro", "plus", when=at(8)), at(8)),
        (stripe_event_received(), at(8)),
        (profile_updated("Europe/Paris"), at(8.5)),
        (habit_created(habit), at(9)),
        (habit_logged(habit, day - timedelta(days=1), streak=1), at(10)),
        (habit_logged(habit, day, streak=2), at(11)),
        (habit_unlogged(habit, day, streak=1), at(12)),
        (goal_created(goal), at(13)),
        (goal_progressed(goal, 0.3), at(14)),
        (reflection_created(reflection, day), at(15)),
        (reflection_scored(reflection, day, 0.6), at(16)),
    ]
    return [envelope(payload, user_id, time=when) for payload, when in steps]
