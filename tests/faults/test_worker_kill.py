"""A worker killed (SIGKILL) with a batch of events in hand: they come back after the short
ack_wait, every persona is written, and none twice."""

from __future__ import annotations

import sys
import time
from typing import Any

import nats

from journey_local.procs import spawn, stop
from journey_local.services import SERVICES, service_env
from servicekit.testing import eventually

PERSONAS = 60


async def test_a_worker_killed_mid_batch_writes_every_persona_once(faults: Any, students: Any) -> None:
    profiler = next(spec for spec in SERVICES if spec.name == "profiler")
    env = service_env(
        profiler, faults.admin_dsn, faults.nats_url, {"ENVIRONMENT": "test", "CONSUMER_WATCHDOG_SECONDS": "2"}
    )
    log = faults.root / "logs" / "profiler-worker.log"

    def start_worker() -> Any:
        return spawn([sys.executable, "-m", "profiler", "worker"], log=log, env=env)

    dead_before = len(faults.dead_letters("profiler-persona-writer"))
    # A backlog first, so the worker fetches full batches and holds events when it dies.
    session_ids = await students.complete(PERSONAS, "kill")
    worker = start_worker()
    try:

        async def first_written() -> bool:
            return bool(faults.persona_statuses(session_ids)["ready"] > 0)

        await eventually(first_written, within=30, interval=0.02)
        worker.kill()
        worker.wait(10)
        killed = time.monotonic()
        nc = await nats.connect(faults.nats_url)
        try:
            info = await nc.jetstream().consumer_info("PROFILER", "profiler-persona-writer")
        finally:
            await nc.close()
        assert info.num_ack_pending > 0, "the worker held no event when it died: nothing was tested"
        worker = start_worker()

        async def all_ready() -> bool:
            return bool(faults.persona_statuses(session_ids) == {"ready": PERSONAS})

        await eventually(all_ready, within=60, interval=0.2)
        print(
            f"worker kill: {info.num_ack_pending} events in hand; "
            f"all {PERSONAS} personas ready {time.monotonic() - killed:.1f} s after the SIGKILL"
        )
        generated = faults.generated_events(session_ids)
        assert len(generated) == PERSONAS
        assert set(generated.values()) == {1}, "a persona was applied twice"
        assert len(faults.dead_letters("profiler-persona-writer")) == dead_before
    finally:
        stop(worker)
