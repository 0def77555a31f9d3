"""What a service process switches on at start: traces (when an OTLP endpoint is configured)
and its Prometheus metrics port. Tests run the apps and workers in-process without it."""

from __future__ import annotations

from collections.abc import Callable

from servicekit import tracing
from servicekit.metrics import serve_metrics
from servicekit.settings import ServiceSettings


def metrics_address(settings: ServiceSettings, *, worker: bool) -> tuple[str, int] | None:
    """Where the API's or the worker's process serves `/metrics` (host, port); None: nowhere."""
    port = settings.worker_metrics_port if worker else settings.metrics_port
    return None if port is None else (settings.metrics_host, port)


def observe_process(settings: ServiceSettings, *, worker: bool) -> Callable[[], None]:
    """Tracing from the environment, and `/metrics` on the API's or the worker's metrics port;
    returns the metrics server's stopper."""
    tracing.configure_from_env(f"{settings.service_name}-worker" if worker else settings.service_name)
    address = metrics_address(settings, worker=worker)
    if address is None:
        return lambda: None
    host, port = address
    return serve_metrics(port, host)
