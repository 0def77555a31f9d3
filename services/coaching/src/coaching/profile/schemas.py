from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from coaching.profile.local_time import is_iana_zone


def _iana(name: str) -> str:
    if not is_iana_zone(name):
        raise ValueError("not an IANA time zone name (e.g. Europe/Berlin, America/New_York, UTC)")
    return name


TimeZoneName = Annotated[
    str,
    Field(min_length=1, max_length=64, examples=["Europe/Berlin"], description="An IANA time zone name."),
    AfterValidator(_iana),
]


class ProfileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    time_zone: TimeZoneName


class ProfilePublic(BaseModel):
    time_zone: str = Field(description="The IANA zone that decides which local date a check-in counts for.")
    is_default: bool = Field(description="True until the student sets one (UTC is assumed meanwhile).")
    local_date: date = Field(description="Today's date in that zone.")
    backfill_days: int = Field(description="How many days back a check-in may still be entered.")
