"""Prometheus metrics of every Journey process, declared once here (docs/operations.md says what
each means and what to do when its alert fires).

Each API and worker process serves them on a port of its own (`METRICS_PORT`,
`WORKER_METRICS_PORT`), never on the service port the gateway routes: `serve_metrics` runs
prometheus_client's server in a daemon thread, so a scrape never waits on the event loop.

Values that live in the database or the broker (outbox backlog, consumer pending) are read when
Prometheus scrapes, not on a timer: a process registers an async sampler with `on_scrape`, and a
scrape runs the samplers on the loop that registered them before the gauges are read."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterable, Sequence

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, disable_created_metrics, start_http_server
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from servicekit.logging import get_logger

log = get_logger(__name__)

Sampler = Callable[[], Awaitable[None]]
SAMPLE_TIMEOUT_SECONDS = 2.0
# A `_created` series beside every counter doubles the scrape for nothing.
disable_created_metrics()  # type: ignore[no-untyped-call]


class _ScrapeSamplers(Collector):
    """Registered before every metric below: the registry collects in registration order, so a
    scrape runs the samplers first and the gauges they set are read fresh."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._samplers: dict[int, tuple[asyncio.AbstractEventLoop, Sampler]] = {}

    def add(self, sampler: Sampler) -> Callable[[], None]:
        """Run `sampler` on the calling event loop at each scrape; returns its remover."""
        loop = asyncio.get_running_loop()
        key = id(sampler)
        with self._lock:
            self._samplers[key] = (loop, sampler)

        def remove() -> None:
            with self._lock:
                self._samplers.pop(key, None)

        return remove

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            entries = list(self._samplers.values())
        by_loop: dict[asyncio.AbstractEventLoop, list[Sampler]] = {}
        for loop, sampler in entries:
            by_loop.setdefault(loop, []).append(sampler)
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        for loop, samplers in by_loop.items():
            if loop is current or not loop.is_running():
                # Waiting on our own loop would deadlock, and a stopped one never answers: the
                # gauges keep their last values.
                continue
            future = asyncio.run_coroutine_threadsafe(_sample_all(samplers), loop)
            try:
                future.result(timeout=SAMPLE_TIMEOUT_SECONDS + 1)
            except Exception as exc:  # a busy loop or a stopped worker: serve the last values
                future.cancel()
                log.warning("metrics_sampling_failed", error=repr(exc))
        return []

    def describe(self) -> Iterable[Metric]:
        return []  # no metric of its own (and registration must not run the samplers)


async def _sample_all(samplers: Sequence[Sampler]) -> None:
    async def one(sampler: Sampler) -> None:
        try:
            await asyncio.wait_for(sampler(), SAMPLE_TIMEOUT_SECONDS)
        except Exception as exc:  # the database or the broker is away: the gauge keeps its last value
            log.warning("metrics_sampler_failed", sampler=getattr(sampler, "__qualname__", "?"), error=repr(exc))

    await asyncio.gather(*(one(sampler) for sampler in samplers))


_SAMPLERS = _ScrapeSamplers()
REGISTRY.register(_SAMPLERS)


def on_scrape(sampler: Sampler) -> Callable[[], None]:
    """Run `sampler` (which sets gauges) on the current event loop whenever Prometheus scrapes
    this process; call the returned function to stop."""
    return _SAMPLERS.add(sampler)


def serve_metrics(port: int, host: str = "127.0.0.1") -> Callable[[], None]:
    """Serve `/metrics` of this process on `port` (a daemon thread); returns its stopper."""
    server, thread = start_http_server(port, addr=host)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    log.info("metrics_serving", url=f"http://{host}:{port}/metrics")
    return stop


def counter(name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
    """A counter in the process's registry (`name` without the `_total` suffix)."""
    return Counter(name, documentation, labels)


def gauge(name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
    return Gauge(name, documentation, labels)


def histogram(
    name: str, documentation: str, labels: Sequence[str] = (), buckets: Sequence[float] = Histogram.DEFAULT_BUCKETS
) -> Histogram:
    return Histogram(name, documentation, labels, buckets=buckets)


LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
SLOW_BUCKETS = (0.05, 0.25, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)

# HTTP (every API process; servicekit.http_metrics)
HTTP_REQUESTS = counter(
    "journey_http_requests", "HTTP requests answered, by route template", ("service", "route", "method", "status")
)
HTTP_DURATION = histogram(
    "journey_http_request_duration_seconds",
    "Time to answer an HTTP request (a stream: until it ends)",
    ("service", "route", "method"),
    LATENCY_BUCKETS,
)

# Outbox and relay (every worker)
OUTBOX_BACKLOG = gauge("journey_outbox_backlog", "Outbox rows committed but not yet published", ("service",))
OUTBOX_OLDEST_AGE = gauge(
    "journey_outbox_oldest_unsent_seconds", "Age of the oldest unpublished outbox row (0 when empty)", ("service",)
)
OUTBOX_PUBLISHED = counter("journey_outbox_published", "Outbox rows published to JetStream", ("service",))
OUTBOX_PUBLISH_FAILURES = counter(
    "journey_outbox_publish_failures", "Relay rounds that failed (broker or database away)", ("service",)
)

# Durable consumers (every worker; servicekit.events.consumer)
CONSUMER_LABELS = ("service", "consumer")
CONSUMER_DELIVERED = counter("journey_consumer_delivered", "Messages delivered to a consumer", CONSUMER_LABELS)
CONSUMER_ACKED = counter("journey_consumer_acked", "Messages handled and acknowledged", CONSUMER_LABELS)
CONSUMER_REDELIVERED = counter(
    "journey_consumer_redelivered", "Deliveries of a message seen before (a retry or a lost ack)", CONSUMER_LABELS
)
CONSUMER_FAILED = counter(
    "journey_consumer_handler_errors", "Handler errors (retried with backoff until max_deliver)", CONSUMER_LABELS
)
CONSUMER_DEAD_LETTERED = counter(
    "journey_consumer_dead_lettered", "Messages given up on and written to dead_letters", CONSUMER_LABELS
)
CONSUMER_HANDLING = histogram(
    "journey_consumer_handling_seconds",
    "Time to handle one message, outages waited out included",
    CONSUMER_LABELS,
    LATENCY_BUCKETS,
)
CONSUMER_PENDING = gauge(
    "journey_consumer_pending_messages", "Messages in the stream not yet delivered to the consumer", CONSUMER_LABELS
)
CONSUMER_ACK_PENDING = gauge(
    "journey_consumer_ack_pending_messages", "Messages delivered but not yet acknowledged", CONSUMER_LABELS
)

# AI calls (workers; servicekit.ai)
AI_CALLS = counter(
    "journey_ai_calls",
    "AI task outcomes by the provider asked: ok, retried (one failed attempt), fallback (offline after "
    "retries), over_budget (offline: the user's daily budget is used)",
    ("task", "provider", "outcome"),
)


def count_ai(task: str, provider: str, outcome: str) -> None:
    AI_CALLS.labels(task, provider, outcome).inc()
