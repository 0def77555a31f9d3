"""Streaks, completion rates and strength on hand-computed examples, and their properties
(hypothesis): order does not matter, undo restores, rest days do not break N-times streaks,
a check-in never lowers strength."""

from __future__ import annotations

from datetime import date, timedelta
from random import Random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coaching.habits.schedule import Schedule
from coaching.habits.stats import completion_rate, habit_stats, smoothing_multiplier, streaks, strength

DAILY = Schedule("daily")
THREE_A_WEEK = Schedule("weekly", times=3)
MON_WED_FRI = Schedule("weekdays", weekdays=frozenset({1, 3, 5}))
TWICE_A_MONTH = Schedule("monthly", times=2)
MONDAY = date(2026, 3, 2)  # a Monday


def done(*days: date) -> dict[date, float]:
    return dict.fromkeys(days, 1.0)


def test_a_daily_streak_counts_consecutive_days_and_today_open_does_not_break_it() -> None:
    start = MONDAY
    logs = done(*(start + timedelta(days=i) for i in (0, 1, 2, 4, 5)))
    # Monday..Wednesday, Thursday missed, Friday and Saturday; today is Sunday, not yet done.
    assert streaks(DAILY, start, start + timedelta(days=6), logs) == (2, 3)
    # Monday next week: Sunday was missed, so the run is broken.
    assert streaks(DAILY, start, start + timedelta(days=7), logs) == (0, 3)


def test_a_three_a_week_habit_keeps_its_streak_through_rest_days() -> None:
    weeks = [MONDAY + timedelta(weeks=w) for w in range(3)]
    logs = done(*(w + timedelta(days=d) for w in weeks for d in (0, 2, 4)))
    # Sunday of week 3: three weeks met, two rest days in between each check-in.
    assert streaks(THREE_A_WEEK, MONDAY, weeks[2] + timedelta(days=6), logs) == (3, 3)
    # Wednesday of week 4 with nothing yet: the open week neither counts nor breaks.
    assert streaks(THREE_A_WEEK, MONDAY, weeks[2] + timedelta(days=9), logs) == (3, 3)
    # Monday of week 5: week 4 closed with none, broken.
    assert streaks(THREE_A_WEEK, MONDAY, weeks[2] + timedelta(days=14), logs) == (0, 3)


def test_a_habit_started_mid_week_needs_only_the_days_it_had() -> None:
    saturday = MONDAY + timedelta(days=5)
    logs = done(saturday, saturday + timedelta(days=1))
    assert streaks(THREE_A_WEEK, saturday, saturday + timedelta(days=2), logs) == (1, 1)


def test_given_weekdays_ignore_the_days_in_between() -> None:
    logs = done(MONDAY, MONDAY + timedelta(days=2), MONDAY + timedelta(days=4), MONDAY + timedelta(days=7))
    # Monday, Wednesday, Friday, next Monday: Tuesday/Thursday/weekend are not due.
    assert streaks(MON_WED_FRI, MONDAY, MONDAY + timedelta(days=8), logs) == (4, 4)
    # Next Wednesday missed, Thursday's check: broken.
    assert streaks(MON_WED_FRI, MONDAY, MONDAY + timedelta(days=10), logs) == (0, 4)


def test_a_partial_measurable_day_does_not_count_for_the_streak() -> None:
    logs = {MONDAY: 1.0, MONDAY + timedelta(days=1): 0.5, MONDAY + timedelta(days=2): 1.0}
    assert streaks(DAILY, MONDAY, MONDAY + timedelta(days=2), logs) == (1, 1)


def test_strength_follows_the_smoothing_formula() -> None:
    m = 0.5 ** (1 / 13)
    assert smoothing_multiplier(1.0) == pytest.approx(m)
    # Ten daily check-ins from nothing: 1 - m**10.
    logs = done(*(MONDAY + timedelta(days=i) for i in range(10)))
    today = MONDAY + timedelta(days=9)
    assert strength(DAILY, MONDAY, today, logs) == pytest.approx(1 - m**10)
    assert habit_stats(DAILY, MONDAY, today, logs).strength == 41
    # Then 13 days missed (today, the 14th, is still open): half of it is left.
    later = today + timedelta(days=14)
    assert strength(DAILY, MONDAY, later, logs) == pytest.approx((1 - m**10) * m**13)
    assert strength(DAILY, MONDAY, later, logs) == pytest.approx((1 - m**10) / 2)
    # A measurable half-done day moves it half as far.
    assert strength(DAILY, MONDAY, MONDAY, {MONDAY: 0.5}) == pytest.approx(0.5 * (1 - m))


def test_strength_of_a_weekly_habit_uses_the_rolling_week() -> None:
    f = 0.5 ** ((3 / 7) ** 0.5 / 13)
    # Monday done, Tuesday not yet (today): only Monday is scored, at 1/3 of the week's need.
    assert strength(THREE_A_WEEK, MONDAY, MONDAY + timedelta(days=1), done(MONDAY)) == pytest.approx((1 - f) / 3)


def test_completion_rates() -> None:
    today = MONDAY + timedelta(days=12)
    logs = done(*(MONDAY + timedelta(days=i) for i in range(0, 13, 2)))  # every other day, today included
    assert completion_rate(DAILY, MONDAY, today, logs, 7) == pytest.approx(4 / 7, abs=1e-3)
    # The 30-day window holds only the 13 days since the start.
    assert completion_rate(DAILY, MONDAY, today, logs, 30) == pytest.approx(7 / 13, abs=1e-3)
    # Tomorrow, not yet done: the open day is left out (6 days in the window, 3 done).
    assert completion_rate(DAILY, MONDAY, today + timedelta(days=1), logs, 7) == 0.5
    assert completion_rate(THREE_A_WEEK, MONDAY, today, logs, 7) == 1.0  # 4 in 7 days over 3 a week, capped
    assert completion_rate(DAILY, today, today, {}, 7) is None  # nothing due yet: today is still open


def test_monthly_habits_count_calendar_months() -> None:
    start = date(2026, 1, 1)
    logs = done(date(2026, 1, 5), date(2026, 1, 20), date(2026, 2, 3), date(2026, 2, 27))
    assert streaks(TWICE_A_MONTH, start, date(2026, 3, 10), logs) == (2, 2)
    assert habit_stats(TWICE_A_MONTH, start, date(2026, 3, 10), logs).streak_unit == "month"


# --- properties --------------------------------------------------------------------------

SCHEDULES = st.sampled_from([DAILY, THREE_A_WEEK, MON_WED_FRI, TWICE_A_MONTH, Schedule("weekly", times=1)])
SPAN = 120


@st.composite
def history(draw: st.DrawFn) -> tuple[Schedule, date, date, list[tuple[date, float]]]:
    schedule = draw(SCHEDULES)
    start = MONDAY + timedelta(days=draw(st.integers(0, 6)))
    today = start + timedelta(days=draw(st.integers(0, SPAN)))
    offsets = draw(st.lists(st.integers(0, (today - start).days), unique=True, max_size=60))
    shares = draw(st.lists(st.sampled_from([1.0, 1.0, 0.5, 2.0]), min_size=len(offsets), max_size=len(offsets)))
    return schedule, start, today, [(start + timedelta(days=o), s) for o, s in zip(offsets, shares, strict=True)]


@settings(max_examples=200, deadline=None)
@given(history(), st.randoms())
def test_the_order_of_check_ins_does_not_matter(
    case: tuple[Schedule, date, date, list[tuple[date, float]]], rnd: Random
) -> None:
    schedule, start, today, entries = case
    shuffled = list(entries)
    rnd.shuffle(shuffled)
    assert habit_stats(schedule, start, today, dict(entries)) == habit_stats(schedule, start, today, dict(shuffled))


@settings(max_examples=200, deadline=None)
@given(history(), st.data())
def test_undo_restores_the_previous_stats(
    case: tuple[Schedule, date, date, list[tuple[date, float]]], data: st.DataObject
) -> None:
    schedule, start, today, entries = case
    logs = dict(entries)
    before = habit_stats(schedule, start, today, logs)
    day = start + timedelta(days=data.draw(st.integers(0, (today - start).days)))
    if day in logs:
        return
    logs[day] = 1.0
    del logs[day]
    assert habit_stats(schedule, start, today, logs) == before


@settings(max_examples=200, deadline=None)
@given(history(), st.data())
def test_a_check_in_never_lowers_strength_or_the_best_streak(
    case: tuple[Schedule, date, date, list[tuple[date, float]]], data: st.DataObject
) -> None:
    schedule, start, today, entries = case
    logs = dict(entries)
    before = habit_stats(schedule, start, today, logs)
    day = start + timedelta(days=data.draw(st.integers(0, (today - start).days)))
    after = habit_stats(schedule, start, today, {**logs, day: max(1.0, logs.get(day, 0.0))})
    assert after.strength_exact >= before.strength_exact - 1e-12
    assert after.best_streak >= before.best_streak
    assert 0 <= after.strength <= 100


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 7), st.integers(1, 12), st.data())
def test_rest_days_do_not_break_a_weekly_streak(times: int, weeks: int, data: st.DataObject) -> None:
    """Any `times` days of each week, and any day of the following week as today: the streak is
    every week so far, whichever days were rest days."""
    schedule = Schedule("weekly", times=times)
    logs: dict[date, float] = {}
    for week in range(weeks):
        days = data.draw(st.lists(st.integers(0, 6), min_size=times, max_size=times, unique=True))
        logs.update({MONDAY + timedelta(weeks=week, days=d): 1.0 for d in days})
    today = MONDAY + timedelta(weeks=weeks, days=data.draw(st.integers(0, 6)))
    current, best = streaks(schedule, MONDAY, today, logs)
    assert (current, best) == (weeks, weeks)
