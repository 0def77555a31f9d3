from __future__ import annotations

from servicekit.settings import ServiceSettings


class ProfilerSettings(ServiceSettings):
    service_name: str = "profiler"
    persona_retry_after_seconds: int = 2
    # A persona still pending this long is requested again, once (profiler.personas.sweeper);
    # well past the persona writer's whole retry schedule and a slow model.
    persona_sweep_after_seconds: float = 900.0
    persona_sweep_interval_seconds: float = 60.0
