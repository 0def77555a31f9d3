from __future__ import annotations

from servicekit.settings import ServiceSettings


class ProfilerSettings(ServiceSettings):
    service_name: str = "profiler"
    persona_retry_after_seconds: int = 2
