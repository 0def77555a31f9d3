"""The missions worker killed (SIGKILL) mid-review, with submissions in hand: they come back
after the consumer's ack_wait, every review arrives, and none twice (one scored review, one
`submission.reviewed` event per submission)."""

from __future__ import annotations

import struct
import sys
import time
import uuid
import zlib
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest

from journey_local.procs import spawn, stop
from journey_local.services import SERVICES, prepare, service_env
from missions.main import app as build_app
from missions.settings import MissionsSettings
from servicekit.auth import mint_dev_token
from servicekit.testing import app_client, eventually

MISSIONS = next(spec for spec in SERVICES if spec.name == "missions")
M = "/api/v1/missions"
SUBMISSIONS = 40


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00\x80\xff"))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def missions_settings(faults: Any) -> MissionsSettings:
    prepare(MISSIONS, faults.admin_dsn)
    return MissionsSettings(
        environment="test",
        database_url=faults.dsn("missions_app"),
        worker_database_url=faults.dsn("missions_worker"),
        nats_url=faults.nats_url,
        files_dir=faults.root / "missions-files",
    )


@pytest.fixture
async def missions_api(missions_settings: MissionsSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(build_app(missions_settings)) as client:
        yield client


async def _submit_backlog(client: httpx.AsyncClient, settings: MissionsSettings) -> list[str]:
    """One free student per submission (a free student runs one mission at a time)."""
    ids = []
    for _ in range(SUBMISSIONS):
        headers = {"Authorization": f"Bearer {mint_dev_token(settings, f'kill-{uuid.uuid4().hex[:10]}')}"}
        started = await client.post(f"{M}/catalog/research-local-water-quality/start", headers=headers)
        assert started.status_code == 201, started.text
        submitted = await client.post(
            started.json()["submissions_url"],
            files=[("text", (None, b"I measured nitrate with a strip.")), ("files", ("s.png", _png(), "image/png"))],
            headers=headers,
        )
        assert submitted.status_code == 202, submitted.text
        ids.append(str(submitted.json()["id"]))
    return ids


async def test_a_missions_worker_killed_mid_review_reviews_every_submission_once(
    faults: Any, missions_api: httpx.AsyncClient, missions_settings: MissionsSettings
) -> None:
    env = service_env(
        MISSIONS,
        faults.admin_dsn,
        faults.nats_url,
        {"ENVIRONMENT": "test", "CONSUMER_WATCHDOG_SECONDS": "2", "FILES_DIR": str(missions_settings.files_root)},
    )
    log = Path(faults.root) / "logs" / "missions-worker.log"

    def start_worker() -> Any:
        return spawn([sys.executable, "-m", "missions", "worker"], log=log, env=env)

    def statuses(ids: list[str]) -> Counter[str]:
        rows = faults.sql("SELECT status FROM missions.submissions WHERE id::text = ANY(%s)", ids)
        return Counter(r[0] for r in rows)

    # A backlog first, so the worker fetches whole batches and holds some when it dies.
    ids = await _submit_backlog(missions_api, missions_settings)
    worker = start_worker()
    try:

        async def first_scored() -> bool:
            return statuses(ids)["scored"] > 0

        await eventually(first_scored, within=30, interval=0.02)
        worker.kill()
        worker.wait(10)
        killed = time.monotonic()
        nc = await nats.connect(faults.nats_url)
        try:
            info = await nc.jetstream().consumer_info("MISSIONS", "missions-reviewer")
        finally:
            await nc.close()
        assert info.num_ack_pending > 0, "the worker held no submission when it died: nothing was tested"
        assert statuses(ids)["pending"] > 0
        worker = start_worker()

        async def all_scored() -> bool:
            return statuses(ids) == {"scored": SUBMISSIONS}

        await eventually(all_scored, within=60, interval=0.2)
        print(
            f"missions worker kill: {info.num_ack_pending} submissions in hand; "
            f"all {SUBMISSIONS} reviewed {time.monotonic() - killed:.1f} s after the SIGKILL"
        )
        reviewed = Counter(
            r[0]
            for r in faults.sql(
                "SELECT payload->'data'->>'submission_id' FROM missions.outbox "
                "WHERE subject = 'journey.missions.submission.reviewed' "
                "AND payload->'data'->>'submission_id' = ANY(%s)",
                ids,
            )
        )
        assert set(reviewed) == set(ids)
        assert set(reviewed.values()) == {1}, "a submission was reviewed twice"
        assert faults.sql("SELECT count(*) FROM missions.dead_letters WHERE consumer = 'missions-reviewer'")[0][0] == 0
    finally:
        stop(worker)
