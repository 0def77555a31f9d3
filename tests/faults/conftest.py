"""Fault tests: a PostgreSQL and a NATS of their own (free ports, temporary folder), so
stopping, killing and restarting them never disturbs the session-wide `infra` fixture.

Helpers here drive the profiler like a client and count what happened from the database
and the stream, so each test can assert "nothing lost, nothing applied twice"."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import nats
import psycopg
import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from journey_local.nats import EmbeddedNats
from journey_local.postgres import EmbeddedPostgres
from journey_local.procs import free_port
from journey_local.services import SERVICES, prepare, role_dsn
from profiler.main import app as build_app
from profiler.questions.examples import EXAMPLE_ANSWERS
from profiler.settings import ProfilerSettings
from servicekit.auth import mint_dev_token
from servicekit.testing import app_client

PROFILER = next(spec for spec in SERVICES if spec.name == "profiler")
B = "/api/v1/profiler"


@dataclass
class FaultStack:
    postgres: EmbeddedPostgres
    nats: EmbeddedNats
    root: Path
    postgres_up: bool = True

    @property
    def admin_dsn(self) -> str:
        return self.postgres.admin_dsn

    @property
    def nats_url(self) -> str:
        return self.nats.url

    def dsn(self, role: str) -> str:
        return role_dsn(self.admin_dsn, role)

    async def stop_postgres(self) -> None:
        await asyncio.to_thread(self.postgres.stop)
        self.postgres_up = False

    async def start_postgres(self) -> None:
        await asyncio.to_thread(self.postgres.start)
        self.postgres_up = True

    def kill_nats(self) -> None:
        """SIGKILL: no clean shutdown, as a crash would leave it."""
        assert self.nats.proc is not None
        self.nats.proc.kill()
        self.nats.proc.wait(10)
        self.nats.proc = None

    async def start_nats(self) -> None:
        await asyncio.to_thread(self.nats.start)

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def persona_statuses(self, session_ids: list[str]) -> Counter[str]:
        rows = self.sql("SELECT status FROM profiler.personas WHERE session_id::text = ANY(%s)", session_ids)
        return Counter(r[0] for r in rows)

    def generated_events(self, session_ids: list[str]) -> Counter[str]:
        """persona.generated outbox rows per persona: 1 each means applied once."""
        rows = self.sql(
            "SELECT payload->'data'->>'persona_id' FROM profiler.outbox "
            "WHERE subject = 'journey.profiler.persona.generated' AND payload->'data'->>'session_id' = ANY(%s)",
            session_ids,
        )
        return Counter(r[0] for r in rows)

    def queue_outbox_probes(self, count: int) -> list[str]:
        """Rows straight into the outbox, as committed producers leave them, for the relay to
        publish (a subject no consumer reads)."""
        ids = [str(uuid.uuid4()) for _ in range(count)]
        subject = "journey.profiler.drainprobe.queued"
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            with conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO profiler.outbox (id, subject, payload) VALUES (%s, %s, %s::jsonb)",
                    [(i, subject, f'{{"id": "{i}", "type": "{subject}"}}') for i in ids],
                )
            conn.execute("SELECT pg_notify('profiler_outbox', '')")
        return ids

    def unpublished(self) -> int:
        return int(self.sql("SELECT count(*) FROM profiler.outbox WHERE published_at IS NULL")[0][0])

    def dead_letters(self, consumer: str) -> list[tuple[Any, ...]]:
        return self.sql("SELECT event_id, deliveries, error FROM profiler.dead_letters WHERE consumer = %s", consumer)

    async def stream_msg_ids(self, subject: str, stream: str = "PROFILER") -> Counter[str]:
        """Every Nats-Msg-Id stored on `stream` for `subject` (how many copies of each event)."""
        nc = await nats.connect(self.nats_url)
        try:
            js = nc.jetstream()
            durable = f"count-{uuid.uuid4().hex[:8]}"
            config = ConsumerConfig(
                durable_name=durable,
                filter_subject=subject,
                deliver_policy=DeliverPolicy.ALL,
                ack_policy=AckPolicy.NONE,
            )
            await js.add_consumer(stream, config)
            remaining = (await js.consumer_info(stream, durable)).num_pending
            psub = await js.pull_subscribe_bind(durable=durable, stream=stream)
            ids: Counter[str] = Counter()
            while remaining > 0:
                msgs = await psub.fetch(min(remaining, 256), timeout=5)
                for msg in msgs:
                    ids[(msg.headers or {}).get("Nats-Msg-Id", "")] += 1
                remaining -= len(msgs)
            await js.delete_consumer(stream, durable)
            return ids
        finally:
            await nc.close()


@pytest.fixture(scope="session")
def faults() -> Iterator[FaultStack]:
    root = Path(tempfile.mkdtemp(prefix="journey-faults-"))
    stack = FaultStack(EmbeddedPostgres(root / "postgres", free_port()), EmbeddedNats(root / "nats", free_port()), root)
    stack.postgres.start()
    stack.nats.start()
    prepare(PROFILER, stack.admin_dsn)
    try:
        yield stack
    finally:
        stack.nats.stop()
        if stack.postgres_up:
            stack.postgres.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(autouse=True)
async def _servers_back_up(faults: FaultStack) -> AsyncIterator[None]:
    """Whatever a test stopped is running again for the next one, even if it failed."""
    yield
    if not faults.postgres_up:
        await faults.start_postgres()
    if faults.nats.proc is None:
        await faults.start_nats()


@pytest.fixture(scope="session")
def fault_settings(faults: FaultStack) -> ProfilerSettings:
    return ProfilerSettings(
        environment="test",
        database_url=faults.dsn("profiler_app"),
        worker_database_url=faults.dsn("profiler_worker"),
        nats_url=faults.nats_url,
        consumer_watchdog_seconds=2.0,
        persona_retry_after_seconds=1,
    )


@pytest.fixture
async def api(fault_settings: ProfilerSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(build_app(fault_settings)) as client:
        yield client


class Students:
    """Fresh students completing questionnaires through the API, many at once."""

    def __init__(self, client: httpx.AsyncClient, settings: ProfilerSettings) -> None:
        self.client = client
        self.settings = settings

    def headers(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint_dev_token(self.settings, name)}"}

    async def complete_one(self, label: str) -> str:
        headers = self.headers(f"{label}-{uuid.uuid4().hex[:10]}")
        started = await self.client.post(f"{B}/sessions", headers=headers)
        assert started.status_code == 201, started.text
        session_id = str(started.json()["id"])
        for question_id, value in EXAMPLE_ANSWERS.items():
            put = await self.client.put(
                f"{B}/sessions/{session_id}/answers/{question_id}", json={"value": value}, headers=headers
            )
            assert put.status_code == 200, put.text
        completed = await self.client.post(f"{B}/sessions/{session_id}/complete", headers=headers)
        assert completed.status_code == 202, completed.text
        return session_id

    async def complete(self, count: int, label: str, *, parallel: int = 8) -> list[str]:
        limit = asyncio.Semaphore(parallel)

        async def one() -> str:
            async with limit:
                return await self.complete_one(label)

        return list(await asyncio.gather(*(one() for _ in range(count))))


@pytest.fixture
def students(api: httpx.AsyncClient, fault_settings: ProfilerSettings) -> Students:
    return Students(api, fault_settings)
