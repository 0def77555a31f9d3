from __future__ import annotations

from pydantic import Field

from servicekit.settings import ServiceSettings


class CoachingSettings(ServiceSettings):
    service_name: str = "coaching"
    # How many days back a check-in may be entered (today's local date minus this, inclusive).
    backfill_days: int = Field(default=7, ge=0, le=365)
    reflection_max_chars: int = Field(default=5000, ge=1, le=100_000)
    # GET /reflections/trend shows habit correlations only with at least this many reflection days,
    # and this many of them with the habit done and not done.
    trend_min_days: int = Field(default=7, ge=2)
    trend_min_each: int = Field(default=3, ge=1)
    sentiment_retry_after_seconds: int = 2
