"""A habit's statistics from its check-ins: streaks (schedule-aware), completion rates and
strength. Pure functions of (schedule, start date, today, check-ins): the order check-ins
arrived in cannot matter, and undoing one gives back the statistics from before it.

`docs/coaching.md` states each definition and the strength formula's constants."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from coaching.habits.schedule import Schedule, StreakUnit

# Strength (Loop Habit Tracker's exponential smoothing): each day the score moves toward that
# day's value by (1 - m), with m = 0.5 ** (sqrt(frequency) / HALF_LIFE_DAYS). A daily habit
# missed for 13 days in a row loses half its strength; a less frequent one decays more slowly.
HALF_LIFE_DAYS = 13.0
RATE_WINDOWS = (7, 30, 90)


@dataclass(frozen=True)
class HabitStats:
    current_streak: int
    best_streak: int
    streak_unit: StreakUnit
    strength: int  # 0-100
    strength_exact: float  # 0-1, unrounded
    total_checkins: int
    completed_checkins: int
    completion_rates: dict[int, float | None]  # window in days -> share 0-1, None with nothing due yet


def smoothing_multiplier(frequency: float) -> float:
    return float(0.5 ** (math.sqrt(frequency) / HALF_LIFE_DAYS))


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _fractions(logs: Mapping[date, float], start: date, today: date) -> dict[date, float]:
    """Each check-in's share of its day's target (0-1), within [start, today]."""
    return {d: max(0.0, min(1.0, f)) for d, f in logs.items() if start <= d <= today and f > 0}


def streaks(schedule: Schedule, start: date, today: date, logs: Mapping[date, float]) -> tuple[int, int]:
    """(current, best): periods met in a row. A period is a due day (daily, weekdays) or a
    week / month (N times). The period holding today is still open: met, it counts; not yet
    met, it neither counts nor breaks the run."""
    done = {d for d, f in _fractions(logs, start, today).items() if f >= 1.0}
    run = best = 0
    if schedule.per_period:
        period = schedule.period_start(start)
        while period <= today:
            end = schedule.period_end(period)
            met = sum(1 for d in done if period <= d <= end) >= schedule.needed(period, start)
            if met:
                run += 1
            elif end < today:
                run = 0
            best = max(best, run)
            period = end + timedelta(days=1)
        return run, best
    for day in _days(start, today):
        if not schedule.is_scheduled(day):
            continue
        if day in done:
            run += 1
        elif day < today:
            run = 0
        best = max(best, run)
    return run, best


def strength(schedule: Schedule, start: date, today: date, logs: Mapping[date, float]) -> float:
    """0-1. Every day from the start moves the score toward that day's value: for a daily or
    given-weekdays habit, the day's share of its target (weekdays: due days only); for an
    N-times habit, the check-ins of the last 7 (30) days over N, at most 1. Today counts only
    once checked in: an open day is not a miss."""
    fractions = _fractions(logs, start, today)
    multiplier = smoothing_multiplier(schedule.frequency)
    window = schedule.window_days
    score = rolling = 0.0
    for day in _days(start, today):
        rolling += fractions.get(day, 0.0)
        rolling -= fractions.get(day - timedelta(days=window), 0.0)
        if not schedule.is_scheduled(day):
            continue
        if day == today and day not in fractions:
            break
        value = min(1.0, rolling / schedule.times) if schedule.per_period else fractions.get(day, 0.0)
        score = score * multiplier + value * (1 - multiplier)
    return score


def completion_rate(
    schedule: Schedule, start: date, today: date, logs: Mapping[date, float], days: int
) -> float | None:
    """Share of what was due in the last `days` days (today included once checked in) that was
    done. Due days for daily / weekdays; for N-times habits, check-ins over N per 7 (30) days,
    at most 1. None when nothing was due yet in the window."""
    fractions = _fractions(logs, start, today)
    first = max(start, today - timedelta(days=days - 1))
    last = today if fractions.get(today, 0.0) >= 1.0 else today - timedelta(days=1)
    if last < first:
        return None
    completed = [d for d in _days(first, last) if fractions.get(d, 0.0) >= 1.0]
    if schedule.per_period:
        active = (last - first).days + 1
        expected = schedule.times * active / schedule.window_days
        return round(min(1.0, len(completed) / expected), 3)
    due = [d for d in _days(first, last) if schedule.is_scheduled(d)]
    if not due:
        return None
    return round(sum(1 for d in completed if schedule.is_scheduled(d)) / len(due), 3)


def habit_stats(schedule: Schedule, start: date, today: date, logs: Mapping[date, float]) -> HabitStats:
    """Every statistic of a habit; `logs` maps a local date to its check-in's share of the
    target (1.0 for a boolean check-in, value / target for a measurable one)."""
    current, best = streaks(schedule, start, today, logs)
    score = strength(schedule, start, today, logs)
    fractions = _fractions(logs, start, today)
    return HabitStats(
        current_streak=current,
        best_streak=best,
        streak_unit=schedule.streak_unit,
        strength=round(score * 100),
        strength_exact=score,
        total_checkins=len(fractions),
        completed_checkins=sum(1 for f in fractions.values() if f >= 1.0),
        completion_rates={days: completion_rate(schedule, start, today, logs, days) for days in RATE_WINDOWS},
    )
