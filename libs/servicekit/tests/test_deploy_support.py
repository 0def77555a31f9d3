"""What a deployment needs from the kit: role passwords from the URLs each process uses,
migrations that queue instead of racing, R3 streams on request, and the image's healthcheck."""

from __future__ import annotations

import asyncio
import http.server
import os
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from nats.js.errors import APIError

from servicekit import healthcheck
from servicekit.events.streams import connect, ensure_stream, stream_name
from servicekit.migrations import ensure_schema_and_roles, role_passwords, schema_lock
from servicekit.settings import ServiceSettings
from servicekit.testing import eventually
from servicekit.worker import Worker


def test_each_role_takes_the_password_of_the_url_it_connects_with() -> None:
    env = {
        "DATABASE_URL": "postgresql://shop_app:app%40pw@db:5432/journey",
        "WORKER_DATABASE_URL": "postgresql://shop_worker:worker-pw@db/journey",
        "SYSTEM_DATABASE_URL": "postgresql://shop_system:system-pw@db/journey",
    }
    assert role_passwords("shop", env, system=True) == {"app": "app@pw", "worker": "worker-pw", "system": "system-pw"}
    # No system role declared: its URL is not read. A URL for another role, or none, sets nothing.
    assert role_passwords("shop", env) == {"app": "app@pw", "worker": "worker-pw"}
    assert role_passwords("shop", {"DATABASE_URL": "postgresql://other_app:x@db/journey"}) == {}
    assert role_passwords("shop", {"DATABASE_URL": "postgresql://shop_app@127.0.0.1:5432/journey"}) == {}


def test_role_passwords_are_set_and_rotated(infra: Any) -> None:
    def verifier() -> str | None:
        with psycopg.connect(infra.admin_dsn) as conn:
            row = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = 'kitdeploy_app'").fetchone()
            return row[0] if row else None

    ensure_schema_and_roles(infra.admin_dsn, "kitdeploy", passwords={"app": "first-pw"})
    first = verifier()
    assert first is not None
    assert first.startswith("SCRAM-SHA-256$")  # stored as a verifier, never as given
    ensure_schema_and_roles(infra.admin_dsn, "kitdeploy", passwords={"app": "second-pw"})
    assert verifier() not in (None, first)


def test_a_second_migration_of_the_same_schema_waits_for_the_first(infra: Any) -> None:
    done = threading.Event()

    def second() -> None:
        with schema_lock(infra.admin_dsn, "kitdeploy"):
            done.set()

    def waiting_for_advisory_lock() -> bool:
        with psycopg.connect(infra.admin_dsn) as conn:
            row = conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").fetchone()
            return bool(row and row[0])

    with schema_lock(infra.admin_dsn, "kitdeploy"):
        thread = threading.Thread(target=second)
        thread.start()
        deadline = time.monotonic() + 10
        while not waiting_for_advisory_lock():
            assert time.monotonic() < deadline, "the second runner never queued on the lock"
            time.sleep(0.05)
        assert not done.is_set()
    thread.join(10)
    assert done.is_set()


async def test_stream_replicas_reach_jetstream(infra: Any) -> None:
    nc = await connect(infra.nats_url, "kit-replicas-test")
    try:
        js = nc.jetstream()
        await ensure_stream(js, "kitreplicas", replicas=1)
        info = await js.stream_info(stream_name("kitreplicas"))
        assert info.config.num_replicas == 1
        # A single server cannot hold three copies: the count is sent, not dropped on the way.
        with pytest.raises(APIError):
            await ensure_stream(js, "kitreplicas3", replicas=3)
    finally:
        await nc.close()


def test_the_healthcheck_reads_the_process_it_guards() -> None:
    assert healthcheck.role_of(["python", "-m", "profiler", "api", "--host", "0.0.0.0", "--port", "8123"]) == (
        "api",
        8123,
    )
    assert healthcheck.role_of(["python", "-m", "profiler", "api"]) == ("api", healthcheck.DEFAULT_PORT)
    assert healthcheck.role_of(["python", "-m", "billing", "worker"]) == ("worker", 0)
    assert healthcheck.role_of(["python", "-m", "billing", "migrate"]) == ("other", 0)


def test_a_worker_is_healthy_while_its_heartbeat_is_fresh(tmp_path: Path) -> None:
    beat = tmp_path / "heartbeat"
    assert not healthcheck.worker_healthy(beat, 5.0)  # never started beating
    beat.touch()
    now = beat.stat().st_mtime
    assert healthcheck.worker_healthy(beat, 5.0, now=now + 29)
    assert not healthcheck.worker_healthy(beat, 5.0, now=now + 31)
    assert healthcheck.worker_healthy(beat, 20.0, now=now + 59)  # three intervals when longer
    env = {"WORKER_HEARTBEAT_FILE": str(beat)}
    os.utime(beat, (now - 3600, now - 3600))
    assert not healthcheck.check(["python", "-m", "x", "worker"], env)


def test_an_api_is_healthy_when_healthz_answers() -> None:
    class Healthz(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Healthz)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        assert healthcheck.check(["python", "-m", "x", "api", "--port", str(port)], {})
    finally:
        server.shutdown()
        server.server_close()
    assert not healthcheck.check(["python", "-m", "x", "api", "--port", str(port)], {})


async def test_the_worker_beats_while_it_runs(kit_settings: ServiceSettings, tmp_path: Path) -> None:
    beat = tmp_path / "run" / "heartbeat"
    settings = kit_settings.model_copy(update={"worker_heartbeat_file": beat, "worker_heartbeat_seconds": 0.1})
    worker = Worker(settings, "kitevents", [])
    await worker.start()
    try:
        await eventually(lambda: _exists(beat))
        first = beat.stat().st_mtime_ns
        await eventually(lambda: _newer(beat, first))
    finally:
        await worker.stop()


async def _exists(path: Path) -> bool:
    return await asyncio.to_thread(path.exists)


async def _newer(path: Path, than: int) -> bool:
    return (await asyncio.to_thread(path.stat)).st_mtime_ns > than
