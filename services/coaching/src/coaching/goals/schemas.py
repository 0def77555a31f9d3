from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from coaching.habits.schemas import invalid
from servicekit.text_guard import Visible

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), Visible]
Why = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Unit = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30), Visible]
Milestone = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), Visible]
Amount = Annotated[float, Field(ge=0, le=1_000_000_000, allow_inf_nan=False)]
HabitIds = Annotated[list[uuid.UUID], Field(max_length=20)]


class GoalCreate(BaseModel):
    """A `target` goal has `target_value` (and a unit); a `checklist` goal has `milestones`.
    Adopting a persona suggestion (`from_persona_suggestion`) needs nothing else: its text is
    the title and, without a target, the goal is a one-milestone checklist."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"title": "Read 12 books this term", "kind": "target", "target_value": 12, "unit": "books"}]
        },
    )

    title: Title | None = None
    why: Why | None = None
    kind: Literal["target", "checklist"] | None = Field(
        default=None, description="Defaults to `target` with a target_value, else `checklist`."
    )
    target_value: Amount | None = None
    start_value: Amount = 0.0
    unit: Unit | None = None
    milestones: list[Milestone] | None = Field(default=None, min_length=1, max_length=50)
    deadline: date | None = Field(default=None, description="Local date; after today.")
    habit_ids: HabitIds = Field(default_factory=list, description="Your habits that serve this goal.")
    progress_from_habits: bool = Field(
        default=False, description="Target goals: values logged by linked measurable habits count as progress."
    )
    from_persona_suggestion: uuid.UUID | None = None

    def check(self) -> Literal["target", "checklist"]:
        """Rules across fields (each a 422 naming its field); the goal's kind."""
        kind = self.kind or ("target" if self.target_value is not None else "checklist")
        if kind == "target":
            if self.target_value is None:
                raise invalid("target_value", "a target goal needs one")
            if self.target_value <= self.start_value:
                raise invalid("target_value", "must be above start_value")
            if self.milestones is not None:
                raise invalid("milestones", "a target goal takes none")
        else:
            for name in ("target_value", "unit"):
                if getattr(self, name) is not None:
                    raise invalid(name, "a checklist goal takes none")
            if self.progress_from_habits:
                raise invalid("progress_from_habits", "needs a target goal")
            if self.milestones is None and self.from_persona_suggestion is None:
                raise invalid("milestones", "a checklist goal needs them")
        if len(set(self.habit_ids)) != len(self.habit_ids):
            raise invalid("habit_ids", "must not repeat")
        return kind


class GoalUpdate(BaseModel):
    """Only the fields given change. `status`: `abandoned` gives up an active goal, `active`
    takes an abandoned one up again, `achieved` marks it reached; an achieved goal stays so."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"why": "So I can enjoy the summer."}]})

    title: Title | None = None
    why: Why | None = None
    target_value: Amount | None = None
    unit: Unit | None = None
    deadline: date | None = None
    status: Literal["active", "achieved", "abandoned"] | None = None
    habit_ids: HabitIds | None = None
    progress_from_habits: bool | None = None

    def check(self) -> None:
        for name in ("title", "status", "habit_ids", "progress_from_habits", "target_value"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise invalid(name, "cannot be null")
        if self.habit_ids is not None and len(set(self.habit_ids)) != len(self.habit_ids):
            raise invalid("habit_ids", "must not repeat")


class ProgressIn(BaseModel):
    """One of: `delta` (add to a target goal; negative corrects), `value` (set a target goal's
    current value), or `milestone` (index from 0) with `done` (checklist goals)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"delta": 1}]})

    delta: Annotated[float, Field(ge=-1_000_000_000, le=1_000_000_000, allow_inf_nan=False)] | None = None
    value: Amount | None = None
    milestone: Annotated[int, Field(ge=0, le=49)] | None = None
    done: bool | None = None

    def check(self) -> None:
        given = [name for name in ("delta", "value", "milestone") if getattr(self, name) is not None]
        if len(given) != 1:
            raise invalid(given[1] if given else "delta", "give exactly one of delta, value or milestone")
        if (self.milestone is None) != (self.done is None):
            raise invalid("done" if self.done is None else "milestone", "milestone and done go together")


class MilestonePublic(BaseModel):
    index: int
    title: str
    done: bool
    done_at: datetime | None


class GoalProgressPublic(BaseModel):
    current_value: float
    target_value: float
    fraction: float = Field(description="0-1 of the way from the start value to the target.")
    expected_value: float | None = Field(description="Where a steady pace to the deadline would be today.")
    pace: Literal["on_track", "behind", "achieved", "no_deadline", "overdue"]
    behind_by: float | None
    text: str = Field(description='E.g. "on track", "behind by 3 books", "2 days overdue".')


class GoalPublic(BaseModel):
    id: uuid.UUID
    title: str
    why: str | None
    kind: str
    target_value: float | None
    start_value: float
    unit: str | None
    milestones: list[MilestonePublic] | None
    start_date: date
    deadline: date | None
    status: str
    achieved_at: datetime | None
    abandoned_at: datetime | None
    progress_from_habits: bool
    habit_ids: list[uuid.UUID]
    suggestion_id: uuid.UUID | None
    progress: GoalProgressPublic
    created_at: datetime
    updated_at: datetime


class GoalPage(BaseModel):
    items: list[GoalPublic]
    next_cursor: str | None = None
