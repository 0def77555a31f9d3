from __future__ import annotations

from functools import lru_cache

from servicekit.settings import ServiceSettings


class ProfilerSettings(ServiceSettings):
    service_name: str = "profiler"
    persona_retry_after_seconds: int = 2


@lru_cache
def get_settings() -> ProfilerSettings:
    return ProfilerSettings()
