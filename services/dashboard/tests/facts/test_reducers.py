"""Reducers, one event type at a time, then whole histories shuffled and repeated."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.coaching import GoalDeleted, HabitArchived, HabitDeleted
from contracts.payload import EventPayload, all_payloads
from dashboard.facts.reducers import REDUCERS, EventMeta, Priority, reduce
from dashboard.facts.state import KEEP_DAYS, TIMELINE_LENGTH, GoalFact, HabitFact, UserFacts
from dashboard.testing import (
    T0,
    at,
    enrollment_started,
    envelope,
    goal_created,
    goal_progressed,
    habit_created,
    habit_logged,
    habit_unlogged,
    mission_completed,
    mixed_history,
    persona_generated,
    persona_requested,
    profile_updated,
    reflection_created,
    reflection_scored,
    session_completed,
    stripe_event_received,
    submission_received,
    submission_reviewed,
    tier_changed,
)
from servicekit.events.envelope import Event

USER = uuid.UUID("00000000-0000-0000-0000-00000000a11c")


def meta(minutes: float = 0, stream: str = "TEST") -> EventMeta:
    return EventMeta(uuid.uuid4(), at(minutes), stream)


def fold(events: list[Event]) -> UserFacts:
    facts = UserFacts.empty(USER)
    by_subject = {cls.SUBJECT: cls for cls in all_payloads()}
    for event in events:
        payload = by_subject[event.type].model_validate(event.data)
        facts = reduce(facts, payload, EventMeta(event.id, event.time, event.source.upper()))
    return facts


def test_every_contract_has_a_reducer_or_a_reason() -> None:
    missing = [cls.__name__ for cls in all_payloads() if cls not in REDUCERS]
    assert missing == [], f"payloads without a dashboard reducer: {missing}"
    for cls, registration in REDUCERS.items():
        assert issubclass(cls, EventPayload)
        assert registration.reducer is not None or registration.reason, cls


def test_tier_and_persona_changes_are_urgent() -> None:
    urgent = {cls.__name__ for cls, r in REDUCERS.items() if r.priority == Priority.URGENT}
    assert {"TierChanged", "PersonaGenerated"} <= urgent
    assert REDUCERS[type(session_completed())].priority == Priority.ACTIVITY


def test_tier_changed_keeps_the_latest_by_its_own_time() -> None:
    later = reduce(UserFacts.empty(USER), tier_changed("pro", "plus", when=at(10)), meta(10))
    facts = reduce(later, tier_changed("plus", "free", when=at(5)), meta(11))  # older, arrives later
    assert facts.tier is not None
    assert (facts.tier.tier, facts.tier.plan_id) == ("pro", "pro_monthly")
    assert [e.text for e in facts.timeline] == [
        "Upgraded from Plus to Pro (subscription active)",
        "Upgraded from Free to Plus (subscription active)",
    ]


def test_stripe_event_received_is_ignored() -> None:
    facts = UserFacts.empty(USER)
    assert reduce(facts, stripe_event_received(), meta()) == facts


def test_session_completed_is_counted_once() -> None:
    done = session_completed()
    facts = reduce(UserFacts.empty(USER), done, meta(1))
    again = reduce(facts, done, meta(2))  # a redelivery would carry the same id; a new id is a copy
    assert list(again.sessions_completed) == [str(done.session_id)]
    assert again.sessions_completed[str(done.session_id)] == at(1)


def test_persona_requested_then_generated() -> None:
    persona, session = uuid.uuid4(), uuid.uuid4()
    requested = reduce(UserFacts.empty(USER), persona_requested(persona, session), meta(1))
    assert str(persona) in requested.personas_requested
    assert not requested.personas
    assert requested.timeline == []  # session.completed says it already
    ready = reduce(requested, persona_generated(persona, session), meta(2))
    assert ready.personas[str(persona)].name == "The Curious Builder"
    assert ready.timeline[0].text == "Your Future-You persona is ready: The Curious Builder"


def test_a_swept_persona_request_keeps_the_first_time() -> None:
    persona, session = uuid.uuid4(), uuid.uuid4()
    facts = reduce(UserFacts.empty(USER), persona_requested(persona, session), meta(20))
    facts = reduce(facts, persona_requested(persona, session), meta(5))
    assert facts.personas_requested[str(persona)] == at(5)


def test_enrollment_started_and_completed_merge_in_either_order() -> None:
    enrollment, submission = uuid.uuid4(), uuid.uuid4()
    started, completed = (
        enrollment_started(enrollment, when=at(1)),
        mission_completed(enrollment, submission, when=at(9)),
    )
    one = reduce(reduce(UserFacts.empty(USER), started, meta(1)), completed, meta(9))
    other = reduce(reduce(UserFacts.empty(USER), completed, meta(9)), started, meta(1))
    assert one.enrollments == other.enrollments
    fact = one.enrollments[str(enrollment)]
    assert (fact.started_at, fact.completed_at, fact.estimated_minutes, fact.attempts) == (at(1), at(9), 90, 2)


def test_submission_received_and_reviewed_merge_in_either_order() -> None:
    enrollment, submission = uuid.uuid4(), uuid.uuid4()
    received = submission_received(submission, enrollment, when=at(1))
    reviewed = submission_reviewed(submission, enrollment, when=at(2))
    one = reduce(reduce(UserFacts.empty(USER), received, meta(1)), reviewed, meta(2))
    other = reduce(reduce(UserFacts.empty(USER), reviewed, meta(2)), received, meta(1))
    assert one.submissions == other.submissions
    fact = one.submissions[str(submission)]
    assert (fact.received_at, fact.reviewed_at, fact.verdict, fact.next_step) == (
        at(1),
        at(2),
        "resubmit",
        "cite two sources",
    )
    assert one.timeline[0].text == "Review of “Water quality”: 55/100, resubmit"


def test_timeline_keeps_the_newest_twenty_by_event_time() -> None:
    facts = UserFacts.empty(USER)
    for minute in range(30):
        facts = reduce(facts, session_completed(), meta(minute))
    assert len(facts.timeline) == TIMELINE_LENGTH
    assert facts.timeline[0].at == at(29)
    assert facts.timeline[-1].at == at(10)


def test_streams_remember_the_newest_event_time() -> None:
    facts = reduce(UserFacts.empty(USER), session_completed(), meta(5, "PROFILER"))
    facts = reduce(facts, session_completed(), meta(3, "PROFILER"))
    assert facts.streams == {"PROFILER": at(5)}


def test_reducers_are_pure() -> None:
    facts = UserFacts.empty(USER)
    before = facts.model_dump()
    reduce(facts, tier_changed(), meta())
    assert facts.model_dump() == before


@settings(max_examples=200, deadline=None)
@given(st.randoms(use_true_random=False), st.lists(st.integers(min_value=0, max_value=11), max_size=12))
def test_any_order_with_redeliveries_gives_the_same_facts(rng: random.Random, repeats: list[int]) -> None:
    history = mixed_history(USER)
    expected = fold(history)
    shuffled = history + [history[i] for i in repeats]  # redeliveries: the same events again
    rng.shuffle(shuffled)
    assert fold(shuffled) == expected


def test_the_mixed_history_folds_to_the_expected_student() -> None:
    facts = fold(mixed_history(USER))
    assert facts.tier is not None
    assert facts.tier.tier == "pro"
    assert len(facts.personas) == 1
    assert len(facts.enrollments) == 1
    assert len(facts.submissions) == 2
    assert set(facts.streams) == {"PROFILER", "BILLING", "MISSIONS", "COACHING"}
    assert facts.timeline[0].at == at(16)
    assert envelope(session_completed(), USER).time == T0


def test_habit_check_in_and_undo_are_last_writer_wins_per_day() -> None:
    habit = uuid.uuid4()
    day = T0.date()
    facts = reduce(UserFacts.empty(USER), habit_created(habit), meta(0))
    logged, undone = habit_logged(habit, day, streak=3), habit_unlogged(habit, day, streak=2)
    one = reduce(reduce(facts, logged, meta(1)), undone, meta(2))
    other_metas = meta(1), meta(2)
    other = reduce(reduce(facts, undone, other_metas[1]), logged, other_metas[0])
    assert one.check_ins[str(habit)][day.isoformat()].removed
    assert other.check_ins[str(habit)][day.isoformat()].removed
    assert one.habits[str(habit)].stats == {**(one.habits[str(habit)].stats or {}), "current_streak": 2}


def test_check_ins_older_than_two_weeks_are_dropped() -> None:
    habit = uuid.uuid4()
    facts = UserFacts.empty(USER)
    for back in range(20):
        facts = reduce(facts, habit_logged(habit, T0.date() - timedelta(days=back)), meta(-back))
    assert len(facts.check_ins[str(habit)]) == KEEP_DAYS


def test_a_deleted_habit_stays_deleted_whatever_arrives_late() -> None:
    habit = uuid.uuid4()
    facts = reduce(UserFacts.empty(USER), habit_created(habit), meta(0))
    facts = reduce(facts, HabitDeleted(habit_id=habit, name="Read", logs_deleted=1), meta(2))
    facts = reduce(facts, habit_logged(habit, T0.date()), meta(1))
    assert facts.habits[str(habit)].deleted
    assert str(habit) not in facts.check_ins


def test_a_deleted_habit_or_goal_leaves_a_small_tombstone_in_any_order() -> None:
    """A student creating and deleting thousands must not grow the row every event rewrites."""
    habit, goal = uuid.uuid4(), uuid.uuid4()
    events: list[tuple[EventPayload, EventMeta]] = [
        (habit_created(habit), meta(0)),
        (HabitArchived(habit_id=habit, name="Read", archived_at=T0), meta(1)),
        (habit_logged(habit, T0.date()), meta(2)),
        (HabitDeleted(habit_id=habit, name="Read", logs_deleted=1), meta(3)),
        (goal_created(goal), meta(0)),
        (goal_progressed(goal, 0.5), meta(1)),
        (GoalDeleted(goal_id=goal, title="Read 10 books", habits_unlinked=[]), meta(2)),
    ]
    for order in (events, events[::-1]):
        facts = UserFacts.empty(USER)
        for payload, when in order:
            facts = reduce(facts, payload, when)
        assert facts.habits == {str(habit): HabitFact(habit_id=habit, name="", deleted=True)}
        assert facts.goals == {str(goal): GoalFact(goal_id=goal, title="", deleted=True)}
        assert facts.check_ins == {}


def test_goal_progress_keeps_the_newest() -> None:
    goal = uuid.uuid4()
    facts = reduce(UserFacts.empty(USER), goal_created(goal), meta(0))
    facts = reduce(facts, goal_progressed(goal, 0.6), meta(5))
    facts = reduce(facts, goal_progressed(goal, 0.2), meta(3))
    assert (facts.goals[str(goal)].progress or {})["fraction"] == 0.6
    assert facts.timeline[0].text == "Read 10 books: 60% (on track)"


def test_reflection_created_and_scored_merge_in_either_order() -> None:
    reflection, day = uuid.uuid4(), T0.date()
    created, scored = reflection_created(reflection, day), reflection_scored(reflection, day, -0.4)
    one = reduce(reduce(UserFacts.empty(USER), created, meta(1)), scored, meta(2))
    other = reduce(reduce(UserFacts.empty(USER), scored, meta(2)), created, meta(1))
    assert one.reflections == other.reflections
    assert one.reflections[str(reflection)].score == -0.4


def test_persona_generated_version_2_carries_summary_and_letter_line_version_1_reads_as_null() -> None:
    persona, session = uuid.uuid4(), uuid.uuid4()
    facts = reduce(UserFacts.empty(USER), persona_generated(persona, session), meta(1))
    assert facts.personas[str(persona)].summary == "A builder who learns by making things work."
    assert facts.personas[str(persona)].letter_line == "I am writing from ten years ahead."
    v1 = persona_generated(persona, session).model_dump(mode="json", exclude={"summary", "letter_line"})
    old = reduce(UserFacts.empty(USER), type(persona_generated(persona, session)).model_validate(v1), meta(1))
    assert (old.personas[str(persona)].summary, old.personas[str(persona)].letter_line) == (None, None)


def test_the_time_zone_is_the_newest_by_event_time() -> None:
    facts = reduce(UserFacts.empty(USER), profile_updated("Asia/Tokyo"), meta(5))
    facts = reduce(facts, profile_updated("Europe/Paris"), meta(1))  # older, arriving late
    assert facts.time_zone == "Asia/Tokyo"
    assert [e.text for e in facts.timeline] == ["Time zone set to Asia/Tokyo", "Time zone set to Europe/Paris"]


def test_a_name_with_direction_controls_cannot_turn_its_sentence_around() -> None:
    """Found by an attack round: a right-to-left override in a habit's name reversed the rest of
    "Checked in ... for <date>" in a browser. Such a name is isolated (U+2068 ... U+2069)."""
    habit = uuid.uuid4()
    tricky = "\u202eRead"
    created = habit_created(habit)
    created = created.model_copy(update={"habit": created.habit.model_copy(update={"name": tricky})})
    facts = reduce(UserFacts.empty(USER), created, meta(0))
    assert facts.timeline[0].text == f"New habit: \u2068{tricky}\u2069"
    plain = reduce(UserFacts.empty(USER), habit_created(habit), meta(0))
    assert "\u2068" not in plain.timeline[0].text  # ordinary names are left as they are
