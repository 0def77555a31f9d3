"""The student's local date: an IANA time zone (from the profile) decides which day a check-in
or a reflection counts for."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

DEFAULT_TIME_ZONE = "UTC"


@cache
def _known() -> frozenset[str]:
    return frozenset(available_timezones())


def is_iana_zone(name: str) -> bool:
    """Whether `name` is an IANA zone of the system's database (`Europe/Berlin`, `UTC`); a file
    path, an abbreviation like `CEST` or an offset like `+02:00` is not."""
    return name in _known()


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_date(instant: datetime, time_zone: str) -> date:
    """The calendar date at `instant` (aware) in `time_zone`."""
    return instant.astimezone(zone(time_zone)).date()


def local_today(time_zone: str, now: datetime | None = None) -> date:
    return local_date(now or datetime.now(UTC), time_zone)
