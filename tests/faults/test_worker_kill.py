"""A worker killed (SIGKILL) under load: the events it held come back after the short
ack_wait, every persona is written, and none twice."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from journey_local.procs import spawn, stop
from journey_local.services import service_env
from servicekit.testing import eventually


async def test_a_worker_killed_mid_load_writes_every_persona_once(faults: Any, students: Any) -> None:
    from journey_local.services import SERVICES

    profiler = next(spec for spec in SERVICES if spec.name == "profiler")
    env = service_env(
        profiler, faults.admin_dsn, faults.nats_url, {"ENVIRONMENT": "test", "CONSUMER_WATCHDOG_SECONDS": "2"}
    )
    log = faults.root / "logs" / "profiler-worker.log"

    def start_worker() -> Any:
        return spawn([sys.executable, "-m", "profiler", "worker"], log=log, env=env)

    dead_before = len(faults.dead_letters("profiler-persona-writer"))
    worker = start_worker()
    try:
        first = await students.complete(30, "kill-first")

        async def some_ready() -> bool:
            return bool(faults.persona_statuses(first)["ready"] > 0)

        await eventually(some_ready, within=30)
        # Killed while the second half is still being completed: the worker has events in hand.
        rest = asyncio.create_task(students.complete(30, "kill-rest"))
        await asyncio.sleep(0.5)
        worker.kill()
        worker.wait(10)
        session_ids = first + await rest
        assert faults.persona_statuses(session_ids)["pending"] > 0, "nothing was left for the killed worker"
        worker = start_worker()

        async def all_ready() -> bool:
            return bool(faults.persona_statuses(session_ids) == {"ready": 60})

        await eventually(all_ready, within=60, interval=0.5)
        generated = faults.generated_events(session_ids)
        assert len(generated) == 60
        assert set(generated.values()) == {1}, "a persona was applied twice"
        assert len(faults.dead_letters("profiler-persona-writer")) == dead_before
    finally:
        stop(worker)
