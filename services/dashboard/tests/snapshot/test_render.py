"""From facts to the snapshot: usage, habits today, mood, next best step, schema."""

from __future__ import annotations

import uuid
from datetime import timedelta

from contracts.payload import all_payloads
from dashboard.facts.reducers import EventMeta, reduce
from dashboard.facts.state import UserFacts
from dashboard.snapshot.render import content, render
from dashboard.snapshot.schemas import SNAPSHOT_SCHEMA_VERSION, Snapshot
from dashboard.testing import (
    T0,
    at,
    enrollment_started,
    habit_created,
    habit_logged,
    mixed_history,
    persona_generated,
    persona_requested,
    profile_updated,
    reflection_scored,
    session_completed,
    submission_received,
    submission_reviewed,
    tier_changed,
)
from entitlements.matrix import limit_for

USER = uuid.UUID("00000000-0000-0000-0000-0000000000b0")
NOW = T0 + timedelta(hours=1)


def fold(*payloads: object) -> UserFacts:
    facts = UserFacts.empty(USER)
    for minute, payload in enumerate(payloads):
        facts = reduce(facts, payload, EventMeta(uuid.uuid4(), at(minute), "TEST"))  # type: ignore[arg-type]
    return facts


def test_a_new_student_is_free_and_asked_to_start() -> None:
    snapshot = render(UserFacts.empty(USER), version=0, now=NOW)
    assert snapshot.schema_version == SNAPSHOT_SCHEMA_VERSION
    assert snapshot.plan.tier == "free"
    assert snapshot.next_step.kind == "start_questionnaire"
    assert snapshot.last_event_at is None
    assert {u.limit: u.allowed for u in snapshot.plan.usage}["persona_generations"] == 1


def test_usage_counts_against_the_tiers_limits() -> None:
    persona, session = uuid.uuid4(), uuid.uuid4()
    facts = fold(
        tier_changed("plus"),
        persona_generated(persona, session),
        enrollment_started(uuid.uuid4(), when=T0),
        habit_created(uuid.uuid4()),
    )
    usage = {u.limit: (u.used, u.allowed) for u in render(facts, version=1, now=NOW).plan.usage}
    assert usage["persona_generations"] == (1, limit_for("persona_generations", "plus"))
    assert usage["active_missions"] == (1, limit_for("active_missions", "plus"))
    assert usage["habits"] == (1, limit_for("habits", "plus"))
    assert usage["persona_refreshes"] == (0, limit_for("persona_refreshes", "plus"))


def test_a_streak_at_risk_comes_first() -> None:
    habit = uuid.uuid4()
    yesterday = NOW.date() - timedelta(days=1)
    facts = fold(habit_created(habit, "Read"), habit_logged(habit, yesterday, streak=4))
    snapshot = render(facts, version=2, now=NOW)
    (today,) = snapshot.habits_today
    assert (today.due, today.done, today.current_streak) == (True, False, 4)
    assert snapshot.next_step.kind == "keep_streak"
    assert snapshot.next_step.text == "Check in Read tonight to keep your 4-day streak"
    done = render(
        reduce(facts, habit_logged(habit, NOW.date(), streak=5), EventMeta(uuid.uuid4(), NOW, "C")), version=3, now=NOW
    )
    assert done.habits_today[0].done
    assert done.next_step.kind != "keep_streak"


def test_a_resubmission_asked_for_beats_a_new_mission() -> None:
    enrollment, submission = uuid.uuid4(), uuid.uuid4()
    facts = fold(
        session_completed(),
        persona_generated(uuid.uuid4(), uuid.uuid4()),
        enrollment_started(enrollment),
        submission_received(submission, enrollment),
        submission_reviewed(submission, enrollment, verdict="resubmit"),
    )
    snapshot = render(facts, version=1, now=NOW)
    assert snapshot.missions_in_progress[0].status == "resubmit"
    assert snapshot.next_step.kind == "resubmit"
    assert snapshot.next_step.text == "Improve “Water quality”: cite two sources"
    assert snapshot.reviews[0].score == 55.0


def test_a_pending_persona_is_shown_as_pending() -> None:
    persona, session = uuid.uuid4(), uuid.uuid4()
    snapshot = render(fold(session_completed(session), persona_requested(persona, session)), version=1, now=NOW)
    assert snapshot.persona.pending
    assert snapshot.next_step.kind == "wait_for_persona"


def test_mood_covers_the_last_seven_days() -> None:
    day = NOW.date()
    facts = fold(
        reflection_scored(uuid.uuid4(), day, 0.5), reflection_scored(uuid.uuid4(), day - timedelta(days=2), -0.1)
    )
    mood = render(facts, version=1, now=NOW).mood
    assert [d.day for d in mood.days] == [day - timedelta(days=n) for n in range(6, -1, -1)]
    assert mood.days[-1].sentiment == 0.5
    assert mood.average == 0.2


def test_content_ignores_version_and_clock() -> None:
    facts = UserFacts.empty(USER)
    for event in mixed_history(USER):
        payload = {c.SUBJECT: c for c in all_payloads()}[event.type].model_validate(event.data)
        facts = reduce(facts, payload, EventMeta(event.id, event.time, event.source.upper()))
    one, two = render(facts, version=1, now=NOW), render(facts, version=9, now=NOW + timedelta(seconds=5))
    assert content(one) == content(two)
    assert Snapshot.model_validate_json(one.model_dump_json()) == one


def test_today_is_the_students_date_in_their_time_zone() -> None:
    """22:30 UTC on 20 November: still the 20th in New York, already the 21st in Tokyo."""
    late = T0.replace(hour=22, minute=30)
    habit = uuid.uuid4()
    for zone, day in (("America/New_York", 20), ("Asia/Tokyo", 21)):
        facts = fold(
            profile_updated(zone), habit_created(habit, "Read"), habit_logged(habit, late.date().replace(day=day))
        )
        snapshot = render(facts, version=1, now=late)
        assert (snapshot.today.day, snapshot.time_zone) == (day, zone)
        assert snapshot.habits_today[0].done  # the check-in counts for the student's today
    assert render(fold(), version=1, now=late).time_zone is None


def test_the_persona_shows_its_summary_and_a_letter_line() -> None:
    persona, session = uuid.uuid4(), uuid.uuid4()
    shown = render(fold(persona_generated(persona, session)), version=1, now=NOW).persona
    assert shown.summary == "A builder who learns by making things work."
    assert shown.letter_line == "I am writing from ten years ahead."
