"""When a habit is due: every day, N times per ISO week, N times per calendar month, or on given
weekdays. Pure functions on dates; the time zone has already turned instants into local dates."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

ScheduleKind = Literal["daily", "weekly", "monthly", "weekdays"]
StreakUnit = Literal["day", "week", "month"]

# Loop Habit Tracker's rolling windows: a weekly habit looks back 7 days, a monthly one 30.
_WINDOW_DAYS = {"daily": 1, "weekdays": 1, "weekly": 7, "monthly": 30}


@dataclass(frozen=True)
class Schedule:
    kind: ScheduleKind
    times: int = 1  # per period for weekly / monthly; 1 otherwise
    weekdays: frozenset[int] = field(default_factory=frozenset)  # ISO 1 = Monday … 7 = Sunday

    @property
    def per_period(self) -> bool:
        """N-times habits: any days of the period will do."""
        return self.kind in ("weekly", "monthly")

    @property
    def streak_unit(self) -> StreakUnit:
        return {"weekly": "week", "monthly": "month"}.get(self.kind, "day")  # type: ignore[return-value]

    @property
    def window_days(self) -> int:
        return _WINDOW_DAYS[self.kind]

    @property
    def frequency(self) -> float:
        """Check-ins expected per day on average (1 for daily; 3/7 for three times a week)."""
        if self.kind == "weekdays":
            return 1.0  # scored on its due days only, each of which expects one check-in
        return self.times / self.window_days

    def is_scheduled(self, day: date) -> bool:
        """Whether `day` is one of the days the habit may be due on (every day but for weekdays)."""
        return self.kind != "weekdays" or day.isoweekday() in self.weekdays

    def period_start(self, day: date) -> date:
        if self.kind == "weekly":
            return day - timedelta(days=day.isoweekday() - 1)
        if self.kind == "monthly":
            return day.replace(day=1)
        return day

    def period_end(self, day: date) -> date:
        if self.kind == "weekly":
            return self.period_start(day) + timedelta(days=6)
        if self.kind == "monthly":
            return day.replace(day=calendar.monthrange(day.year, day.month)[1])
        return day

    def needed(self, period_start: date, habit_start: date) -> int:
        """Check-ins that meet the period starting `period_start`. A habit started mid-period
        needs no more than the days it had: three a week, begun on a Saturday, needs two."""
        if not self.per_period:
            return 1
        available = (self.period_end(period_start) - max(period_start, habit_start)).days + 1
        return max(1, min(self.times, available))

    def describe(self) -> str:
        if self.kind == "daily":
            return "every day"
        if self.kind == "weekdays":
            return "on " + ", ".join(calendar.day_abbr[d - 1] for d in sorted(self.weekdays))
        return f"{self.times} times a {'week' if self.kind == 'weekly' else 'month'}"
