from __future__ import annotations

import datetime as dt
import re
import uuid
from datetime import date, datetime, time
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from coaching.profile.schemas import TimeZoneName
from servicekit.errors import Unprocessable
from servicekit.text_guard import Visible


def invalid(field: str, message: str) -> Unprocessable:
    """422 naming the field, for a rule that spans fields (pydantic would name none)."""
    return Unprocessable(f"{field}: {message}", errors=[{"field": field, "message": message}])


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Visible]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]
Unit = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30), Visible]
Colour = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]
Icon = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,32}$")]
Amount = Annotated[float, Field(gt=0, le=1_000_000, allow_inf_nan=False)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


_HH_MM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def _hh_mm(value: object) -> object:
    if isinstance(value, str) and not _HH_MM.fullmatch(value):
        raise ValueError("a local time of day as HH:MM (24 h) in your time zone, without seconds or an offset")
    return value


# A reminder is wall-clock time in the student's zone: no offset, minutes precision, "07:30".
LocalTime = Annotated[
    time,
    BeforeValidator(_hh_mm),
    PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str),
    WithJsonSchema({"type": "string", "pattern": _HH_MM.pattern, "examples": ["07:30"]}),
]


class ScheduleIn(BaseModel):
    """`daily`; `weekly` with `times` (1-7 per ISO week); `monthly` with `times` (1-31 per
    calendar month); `weekdays` with `weekdays` (ISO 1 = Monday … 7 = Sunday)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["daily", "weekly", "monthly", "weekdays"] = "daily"
    times: int | None = Field(default=None, ge=1, le=31)
    weekdays: list[Annotated[int, Field(ge=1, le=7)]] | None = Field(default=None, min_length=1, max_length=7)

    @model_validator(mode="after")
    def _fits_kind(self) -> ScheduleIn:
        if self.kind in ("weekly", "monthly"):
            most = 7 if self.kind == "weekly" else 31
            if self.times is None or self.times > most:
                raise ValueError(f"a {self.kind} schedule needs times between 1 and {most}")
            if self.weekdays is not None:
                raise ValueError(f"a {self.kind} schedule takes no weekdays")
        elif self.kind == "weekdays":
            if not self.weekdays:
                raise ValueError("a weekdays schedule needs weekdays (1 = Monday … 7 = Sunday)")
            if len(set(self.weekdays)) != len(self.weekdays):
                raise ValueError("weekdays must not repeat")
            if self.times is not None:
                raise ValueError("a weekdays schedule takes no times")
        elif self.times is not None or self.weekdays is not None:
            raise ValueError("a daily schedule takes neither times nor weekdays")
        return self


class SchedulePublic(BaseModel):
    kind: str
    times: int | None
    weekdays: list[int] | None
    text: str = Field(description='In words, e.g. "3 times a week".')


class HabitCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "Read", "kind": "measurable", "unit": "pages", "target": 20, "schedule": {"kind": "daily"}}
            ]
        },
    )

    name: Name | None = Field(
        default=None, description="Required, unless adopting a suggestion (its text is the default)."
    )
    description: Description | None = None
    kind: Literal["boolean", "measurable"] = "boolean"
    unit: Unit | None = Field(default=None, description="Measurable habits only (e.g. `pages`).")
    target: Amount | None = Field(default=None, description="Measurable habits only: the daily target.")
    schedule: ScheduleIn = Field(default_factory=ScheduleIn)
    start_date: date | None = Field(
        default=None, description="First local date it counts from; today (in your time zone) when omitted."
    )
    reminder_time: LocalTime | None = Field(default=None, description="Local time of day (HH:MM); stored, not sent.")
    colour: Colour | None = None
    icon: Icon | None = None
    goal_id: uuid.UUID | None = Field(default=None, description="A goal of yours this habit serves.")
    time_zone: TimeZoneName | None = Field(
        default=None, description="Sets your profile's time zone if none is set yet (see PUT /profile)."
    )
    from_persona_suggestion: uuid.UUID | None = Field(
        default=None, description="A habit suggestion from GET /suggestions being adopted."
    )

    def check(self) -> None:
        """Rules across fields, each a 422 naming its field."""
        if self.kind == "measurable":
            for name in ("unit", "target"):
                if getattr(self, name) is None:
                    raise invalid(name, "a measurable habit needs a unit and a daily target")
        else:
            for name in ("unit", "target"):
                if getattr(self, name) is not None:
                    raise invalid(name, "a boolean habit takes no unit or target")


class HabitUpdate(BaseModel):
    """Only the fields given change; `null` clears an optional one. The kind cannot change
    (its check-ins would change meaning): archive the habit and create another."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "Read before bed"}]})

    name: Name | None = None
    description: Description | None = None
    unit: Unit | None = None
    target: Amount | None = None
    schedule: ScheduleIn | None = None
    start_date: date | None = None
    reminder_time: LocalTime | None = None
    colour: Colour | None = None
    icon: Icon | None = None
    goal_id: uuid.UUID | None = None
    archived: bool | None = None

    def check(self) -> None:
        for name in ("name", "schedule", "start_date", "archived"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise invalid(name, "cannot be null")


class TodayState(BaseModel):
    date: dt.date = Field(description="Today's local date.")
    due: bool = Field(description="Whether the habit still asks for a check-in today.")
    done: bool = Field(description="Checked in today, meeting the target.")
    value: float | None = Field(description="Today's logged value, or null.")
    period_done: int = Field(description="Check-ins meeting the target in the current period (day, week, month).")
    period_needed: int = Field(description="How many the current period asks for.")


class HabitPublic(BaseModel):
    id: uuid.UUID
    name: str
    description: str | None
    kind: str
    unit: str | None
    target: float | None
    schedule: SchedulePublic
    start_date: date
    reminder_time: LocalTime | None
    colour: str | None
    icon: str | None
    archived: bool
    archived_at: datetime | None
    goal_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    today: TodayState | None = Field(default=None, description="Today's state (archived habits: null).")


class HabitPage(BaseModel):
    items: list[HabitPublic]
    next_cursor: str | None = None


class CompletionRates(BaseModel):
    last_7_days: float | None
    last_30_days: float | None
    last_90_days: float | None


class HabitStatsPublic(BaseModel):
    habit_id: uuid.UUID
    as_of: date = Field(description="The local date the statistics are computed for.")
    current_streak: int
    best_streak: int
    streak_unit: Literal["day", "week", "month"]
    strength: int = Field(description="0-100 (see docs/coaching.md).")
    total_checkins: int = Field(description="Days with a check-in.")
    completed_checkins: int = Field(description="Days whose check-in met the target.")
    completion_rate: CompletionRates = Field(description="Share of what was due that was done (0-1), or null.")


class LogIn(BaseModel):
    """A boolean habit takes no value (or 1); a measurable one needs its value."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"note": "before breakfast"}]})

    value: Amount | None = None
    note: Note | None = None


class LogPublic(BaseModel):
    habit_id: uuid.UUID
    date: dt.date
    value: float
    completed: bool
    note: str | None
    logged_at: datetime


class CheckinResult(BaseModel):
    log: LogPublic
    stats: HabitStatsPublic


class LogList(BaseModel):
    habit_id: uuid.UUID
    from_date: date
    to_date: date
    items: list[LogPublic]
