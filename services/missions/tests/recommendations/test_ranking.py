"""The ranking is a pure function: these tests need no database."""

from __future__ import annotations

import uuid
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from missions.catalog.content import CATALOG
from missions.recommendations.ranking import MissionCard, PastMission, StudentFacts, rank, target_level

CARDS = [
    MissionCard(m.id, m.title, m.brief, m.skill, tuple(m.tags), m.difficulty, m.estimated_minutes) for m in CATALOG
]
SKILL = {m.id: m.skill for m in CATALOG}
ADA = uuid.UUID(int=1)
DAY = date(2026, 11, 27)


def test_a_student_we_know_nothing_about_gets_short_easy_starters_across_skills() -> None:
    items = rank(CARDS, StudentFacts(), user_id=ADA, day=DAY)
    assert len(items) == 5
    assert sum(1 for r in items if not r.stretch) == 4
    assert all(r.mission.difficulty <= 2 for r in items if not r.stretch)
    assert len({r.mission.skill for r in items}) >= 3
    assert all(r.why.startswith("A good first mission") or r.stretch for r in items)


def test_interests_and_goals_rank_first_and_say_so() -> None:
    facts = StudentFacts(
        interests=("science", "technology"), persona_name="The Curious Builder", goals=("publish a blog",)
    )
    items = rank(CARDS, facts, user_id=ADA, day=DAY)
    top = items[0]
    assert "your goal 'publish a blog'" in top.why
    assert top.mission.id == "writing-first-blog-post"
    science = [r for r in items if "science" in r.mission.tags]
    assert science
    assert all("atches your interest in science" in r.why for r in science)


def test_habits_are_explained_too() -> None:
    items = rank(CARDS, StudentFacts(habits=("Sleep before 23:00",)), user_id=ADA, day=DAY)
    assert any("builds on your habit 'sleep before 23:00'" in r.why.lower() for r in items)


def test_in_progress_and_done_missions_are_excluded_but_closed_ones_may_return() -> None:
    history = (
        PastMission("writing-first-blog-post", "writing", "completed", 81.0),
        PastMission("research-myth-check", "research", "active"),
        PastMission("wellbeing-gratitude-week", "wellbeing", "closed", 40.0),
    )
    facts = StudentFacts(goals=("publish a blog",), history=history)
    ids = [r.mission.id for r in rank(CARDS, facts, user_id=ADA, day=DAY, limit=10)]
    assert "writing-first-blog-post" not in ids
    assert "research-myth-check" not in ids
    continued = [r for r in rank(CARDS, facts, user_id=ADA, day=DAY, limit=10) if r.mission.skill == "writing"]
    assert any("continues your writing missions (best score 81)" in r.why.lower() for r in continued)


def test_one_stretch_mission_above_the_level() -> None:
    facts = StudentFacts(interests=("arts",))
    items = rank(CARDS, facts, user_id=ADA, day=DAY)
    stretches = [r for r in items if r.stretch]
    assert len(stretches) >= 1
    assert all(r.mission.difficulty > target_level(facts) for r in stretches)
    assert any("a stretch: difficulty" in r.why.lower() for r in stretches)


def test_the_level_rises_with_passed_missions() -> None:
    passed = tuple(PastMission(f"m{i}", "writing", "completed", 70.0) for i in range(4))
    assert target_level(StudentFacts()) == 1
    assert target_level(StudentFacts(interests=("arts",))) == 2
    assert target_level(StudentFacts(history=passed)) == 4


def test_stable_for_the_day_unless_the_inputs_change() -> None:
    facts = StudentFacts(interests=("business",))
    today = [r.mission.id for r in rank(CARDS, facts, user_id=ADA, day=DAY)]
    assert today == [r.mission.id for r in rank(CARDS, facts, user_id=ADA, day=DAY)]
    changed = StudentFacts(interests=("business",), goals=("write a short story",))
    assert [r.mission.id for r in rank(CARDS, changed, user_id=ADA, day=DAY)] != today


@settings(max_examples=200, deadline=None)
@given(
    interests=st.lists(st.sampled_from(sorted({t for c in CARDS for t in c.tags})), max_size=4, unique=True),
    goals=st.lists(st.text(alphabet="abcdefghij klmnop", min_size=1, max_size=30), max_size=3),
    taken=st.lists(st.sampled_from([c.id for c in CARDS]), max_size=8, unique=True),
    limit=st.integers(min_value=1, max_value=10),
    day=st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31)),
)
def test_properties_of_any_ranking(
    interests: list[str], goals: list[str], taken: list[str], limit: int, day: date
) -> None:
    history = tuple(PastMission(m, SKILL[m], "active") for m in taken)
    facts = StudentFacts(interests=tuple(interests), goals=tuple(goals), history=history)
    items = rank(CARDS, facts, user_id=ADA, day=day, limit=limit)
    ids = [r.mission.id for r in items]
    assert len(ids) == len(set(ids)) <= limit
    assert not set(ids) & set(taken)
    assert all(r.why and r.why.endswith(".") for r in items)
    assert ids == [r.mission.id for r in rank(CARDS, facts, user_id=ADA, day=day, limit=limit)]
    assert len(items) == min(limit, len(CARDS) - len(taken)) or len(items) >= min(limit, 5)
