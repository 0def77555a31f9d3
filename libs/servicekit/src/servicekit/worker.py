"""The worker process: outbox relay plus the service's durable consumers."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from nats.aio.client import Client as NATS

from servicekit.db import create_engine
from servicekit.direct import DirectPool
from servicekit.events.consumer import ConsumerRunner, Subscription
from servicekit.events.relay import OutboxRelay
from servicekit.events.streams import connect, ensure_stream, service_of_stream
from servicekit.logging import configure_logging, get_logger
from servicekit.metrics import on_scrape
from servicekit.observability import observe_process
from servicekit.settings import ServiceSettings
from servicekit.startup import freeze_startup_objects

log = get_logger(__name__)


class Worker:
    """Owns one NATS connection and one engine; `start()` returns once tasks run."""

    def __init__(
        self,
        settings: ServiceSettings,
        schema: str,
        subscriptions: Sequence[Subscription],
        background: Sequence[Callable[[], Coroutine[Any, Any, None]]] = (),
    ) -> None:
        self.settings = settings
        self.background = background
        self.schema = schema
        self.subscriptions = subscriptions
        self.engine = create_engine(settings.worker_dsn, pool_size=8)
        # Consumers on the kit's direct path share a pool as large as the engine's.
        self.direct_pool = DirectPool(settings.worker_dsn, size=16) if any(s.direct for s in subscriptions) else None
        self.nc: NATS | None = None
        self.relay: OutboxRelay | None = None
        self.runners: list[ConsumerRunner] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._stop_sampling: list[Callable[[], None]] = []

    def _broker_back(self) -> None:
        # Drain the outbox now rather than after the relay's backoff, and let each watchdog
        # check its pull subscription at once (they can stall across a server restart).
        if self.relay is not None:
            self.relay.wake()
        for runner in self.runners:
            runner.nudge()

    async def _connect(self) -> NATS:
        while True:
            try:
                name = f"{self.settings.service_name}-worker"
                return await connect(self.settings.nats_url, name, on_reconnected=self._broker_back)
            except Exception as exc:
                log.warning("nats_connect_failed", error=repr(exc))
                await asyncio.sleep(1)

    async def start(self) -> None:
        self.nc = await self._connect()
        js = self.nc.jetstream()
        # Its own stream, and every stream a consumer binds to, must exist whoever starts first.
        for service in sorted({self.schema, *(service_of_stream(sub.stream) for sub in self.subscriptions)}):
            await ensure_stream(js, service, replicas=self.settings.jetstream_replicas)
        self.relay = relay = OutboxRelay(self.settings.worker_dsn, self.schema, js)
        if self.direct_pool is not None:
            await self.direct_pool.open()
        self.runners = [
            ConsumerRunner(
                js,
                self.engine,
                self.schema,
                sub,
                watchdog_interval=self.settings.consumer_watchdog_seconds,
                direct_pool=self.direct_pool,
            )
            for sub in self.subscriptions
        ]
        self._tasks = [asyncio.create_task(relay.run())] + [asyncio.create_task(r.run()) for r in self.runners]
        self._tasks += [asyncio.create_task(job()) for job in self.background]
        if self.settings.worker_heartbeat_file is not None:
            self._tasks.append(asyncio.create_task(self._heartbeat(self.settings.worker_heartbeat_file)))
        # Read from the database and the broker when Prometheus scrapes (servicekit.metrics).
        self._stop_sampling = [on_scrape(lambda: relay.sample(self.engine))]
        self._stop_sampling += [on_scrape(runner.sample_pending) for runner in self.runners]
        log.info("worker_started", consumers=[s.durable for s in self.subscriptions])

    async def _heartbeat(self, path: Path) -> None:
        """Touch `path` while the event loop turns: a loop blocked or wedged stops touching it."""
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        while True:
            await asyncio.to_thread(path.touch)
            await asyncio.sleep(self.settings.worker_heartbeat_seconds)

    async def stop(self) -> None:
        # Every step is bounded: a shutdown must never hang on a stuck connection.
        for stop_sampling in self._stop_sampling:
            stop_sampling()
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _, stuck = await asyncio.wait(self._tasks, timeout=10)
            if stuck:
                log.warning("worker_tasks_did_not_stop", count=len(stuck))
        if self.nc is not None:
            closing = asyncio.ensure_future(self.nc.close())
            await asyncio.wait({closing}, timeout=5)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.engine.dispose(), 10)
        if self.direct_pool is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.direct_pool.close(), 10)
        log.info("worker_stopped")


def run_worker(
    settings: ServiceSettings,
    schema: str,
    subscriptions: Sequence[Subscription],
    background: Sequence[Callable[[], Coroutine[Any, Any, None]]] = (),
) -> None:
    """Run until SIGINT/SIGTERM; in-flight handlers finish or are redelivered."""
    configure_logging(f"{settings.service_name}-worker", settings.log_level)
    stop_metrics = observe_process(settings, worker=True)

    async def main() -> None:
        worker = Worker(settings, schema, subscriptions, background)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await worker.start()
        freeze_startup_objects()
        await stop.wait()
        await worker.stop()

    try:
        asyncio.run(main())
    finally:
        stop_metrics()
