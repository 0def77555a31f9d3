"""Which local date an instant belongs to: midnight in the student's zone, and a DST change."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from coaching.habits.schedule import Schedule
from coaching.habits.stats import streaks
from coaching.profile.local_time import is_iana_zone, local_date


def test_midnight_is_the_students_not_utcs() -> None:
    # 04:59 UTC on 1 January is still New Year's Eve in New York, 23:59 local.
    assert local_date(datetime(2027, 1, 1, 4, 59, tzinfo=UTC), "America/New_York") == date(2026, 12, 31)
    assert local_date(datetime(2027, 1, 1, 5, 0, tzinfo=UTC), "America/New_York") == date(2027, 1, 1)
    # 23:30 UTC is already tomorrow in Tokyo and in Kiritimati (UTC+14).
    assert local_date(datetime(2026, 6, 1, 23, 30, tzinfo=UTC), "Asia/Tokyo") == date(2026, 6, 2)
    assert local_date(datetime(2026, 6, 1, 10, 30, tzinfo=UTC), "Pacific/Kiritimati") == date(2026, 6, 2)


def test_a_dst_change_keeps_one_check_in_per_local_day() -> None:
    """Europe/Berlin springs forward on 29 March 2026 (a 23-hour day) and falls back on 25
    October (25 hours). A check-in every evening at 21:30 local lands on consecutive dates."""
    berlin = ZoneInfo("Europe/Berlin")
    for first in (date(2026, 3, 26), date(2026, 10, 22)):
        evenings = [
            datetime(first.year, first.month, first.day, 21, 30, tzinfo=berlin) + timedelta(days=i) for i in range(6)
        ]
        days = [local_date(moment.astimezone(UTC), "Europe/Berlin") for moment in evenings]
        assert days == [first + timedelta(days=i) for i in range(6)]
        assert streaks(Schedule("daily"), first, days[-1], dict.fromkeys(days, 1.0)) == (6, 6)
    # Just after the spring-forward gap: 01:30 UTC is 03:30 CEST, still the 29th.
    assert local_date(datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "Europe/Berlin") == date(2026, 3, 29)
    # 22:30 UTC on the 28th is 23:30 CET: the 28th, not the 29th.
    assert local_date(datetime(2026, 3, 28, 22, 30, tzinfo=UTC), "Europe/Berlin") == date(2026, 3, 28)


def test_only_iana_names_are_time_zones() -> None:
    assert is_iana_zone("Europe/Berlin")
    assert is_iana_zone("UTC")
    for bad in ("CEST", "+02:00", "Europe/Atlantis", "../../etc/passwd", "", "europe/berlin", "Europe/Berlin\x00"):
        assert not is_iana_zone(bad), bad
