"""The outbox relay and the AI job on the kit's scratch service: what is emitted in a committed
transaction reaches the stream once (rolled back: never); the AI job calls the model with no
transaction open, honours the tier policy and the daily budget, and stores once."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import psycopg
import pytest
from pydantic import BaseModel
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.payload import EventPayload
from servicekit.ai import AIProvider, AIResult, StructuredTask
from servicekit.ai_job import AIJob
from servicekit.db import create_engine, user_transaction
from servicekit.events import Event, emit, new_event
from servicekit.events.relay import OutboxRelay
from servicekit.settings import ServiceSettings


class NoteWritten(EventPayload):
    SUBJECT = "journey.kitevents.note.written"

    text: str


class Verdict(BaseModel):
    mood: str


class ReviewRequested(EventPayload):
    SUBJECT = "journey.kitevents.review.requested"

    note: str


async def _published(js: Any, subject: str) -> list[tuple[str, str]]:
    """(event id, text) of every message on `subject` in the stream."""
    sub = await js.pull_subscribe(subject, durable=None, stream="KITEVENTS")
    seen: list[tuple[str, str]] = []
    try:
        while True:
            for msg in await sub.fetch(50, timeout=1):
                envelope = json.loads(msg.data)
                seen.append((envelope["id"], envelope["data"]["text"]))
                await msg.ack()
    except TimeoutError:
        return seen
    except Exception as exc:  # nats-py's own timeout class
        if "Timeout" in type(exc).__name__:
            return seen
        raise
    finally:
        await sub.unsubscribe()


async def _emit_then_fail(engine: Any, user: uuid.UUID, payload: EventPayload) -> None:
    async with user_transaction(engine, user) as db:
        await emit(db, payload, user_id=user)
        raise RuntimeError("the write failed after the event was queued")


async def test_committed_events_are_published_once_and_rolled_back_ones_never(
    kit_settings: ServiceSettings, nats_js: Any
) -> None:
    user = uuid.uuid4()
    engine = create_engine(kit_settings.database_url)
    marker = uuid.uuid4().hex
    try:
        async with user_transaction(engine, user) as db:
            kept = await emit(db, NoteWritten(text=f"kept {marker}"), user_id=user)
        with pytest.raises(RuntimeError):
            await _emit_then_fail(engine, user, NoteWritten(text=f"lost {marker}"))
    finally:
        await engine.dispose()
    relay = OutboxRelay(kit_settings.worker_dsn, "kitevents", nats_js)
    assert await relay.publish_pending() >= 1
    with psycopg.connect(kit_settings.worker_dsn.replace("kitevents_worker", "postgres")) as conn:
        conn.execute("UPDATE kitevents.outbox SET published_at = NULL WHERE id = %s", (kept.id,))
    await relay.publish_pending()  # a republished row is de-duplicated by its Nats-Msg-Id
    published = await _published(nats_js, NoteWritten.SUBJECT)
    assert [event_id for event_id, _ in published].count(str(kept.id)) == 1
    texts = {body for _, body in published}
    assert f"kept {marker}" in texts
    assert f"lost {marker}" not in texts


class RefusingOne:
    """The stream, except that the publish of one event id fails (as a lost ack would)."""

    def __init__(self, js: Any, refused: str) -> None:
        self.js = js
        self.refused = refused

    async def publish(self, subject: str, payload: bytes, *, headers: dict[str, str], **options: Any) -> Any:
        if headers["Nats-Msg-Id"] == self.refused:
            raise TimeoutError("no ack")
        return await self.js.publish(subject, payload, headers=headers, **options)


async def test_a_failed_publish_in_a_batch_marks_the_acknowledged_rows_and_retries_only_its_own(
    kit_settings: ServiceSettings, nats_js: Any
) -> None:
    relay = OutboxRelay(kit_settings.worker_dsn, "kitevents", nats_js)
    while await relay.publish_pending():  # what earlier tests left
        pass
    user = uuid.uuid4()
    marker = uuid.uuid4().hex
    engine = create_engine(kit_settings.database_url)
    try:
        async with user_transaction(engine, user) as db:
            events = [await emit(db, NoteWritten(text=f"{marker} {i}"), user_id=user) for i in range(5)]
    finally:
        await engine.dispose()
    refused = str(events[1].id)  # a failure early in the batch: the rows after it are in flight too
    failing = OutboxRelay(kit_settings.worker_dsn, "kitevents", RefusingOne(nats_js, refused))  # type: ignore[arg-type]
    with pytest.raises(TimeoutError):
        await failing.publish_pending()
    with psycopg.connect(kit_settings.worker_dsn) as conn:
        pending = conn.execute("SELECT id::text FROM kitevents.outbox WHERE published_at IS NULL").fetchall()
    assert [row[0] for row in pending] == [refused]
    assert await relay.publish_pending() == 1
    published = [event_id for event_id, text in await _published(nats_js, NoteWritten.SUBJECT) if marker in text]
    assert sorted(published) == sorted(str(event.id) for event in events)


class RecordingProvider(AIProvider):
    """Answers like a model would and records whether a transaction was open meanwhile."""

    name = "recording"

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.open_transactions: list[int] = []

    async def generate(self, task: StructuredTask[Any]) -> AIResult[Any]:
        with psycopg.connect(self.dsn) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE usename LIKE 'kitevents_%' "
                "AND state LIKE 'idle in transaction%'"
            ).fetchone()
        self.open_transactions.append(int(row[0]) if row else -1)
        await asyncio.sleep(0)
        return AIResult(Verdict(mood="bright"), provider=self.name)


def _job(allowed: bool) -> AIJob[ReviewRequested, Verdict]:
    async def load(db: AsyncSession, payload: ReviewRequested, event: Event) -> StructuredTask[Verdict] | None:
        return StructuredTask(
            name="mood",
            instructions="judge",
            input={"note": payload.note},
            schema=Verdict,
            offline=lambda: Verdict(mood="offline"),
        )

    async def store(db: AsyncSession, payload: ReviewRequested, event: Event, result: AIResult[Verdict]) -> None:
        await db.exec(  # type: ignore[call-overload]
            text(
                "INSERT INTO results (id, user_id, provider, fallback, body) "
                "VALUES (:id, :uid, :provider, :fallback, CAST(:body AS jsonb))"
            ).bindparams(
                id=event.id,
                uid=event.user_id(),
                provider=result.provider,
                fallback=result.fallback,
                body=result.value.model_dump_json(),
            )
        )

    async def policy(db: AsyncSession) -> bool:
        return allowed

    return AIJob(ReviewRequested, "kit-review", load, store, allows_model=policy)


async def _run_job(
    settings: ServiceSettings, job: AIJob[ReviewRequested, Verdict], provider: AIProvider, budget: int
) -> tuple[str, bool]:
    user = uuid.uuid4()
    payload = ReviewRequested(note="a good day")
    event = new_event(ReviewRequested.SUBJECT, user_id=user, data=payload.model_dump(mode="json"))
    subscription = job.subscription(provider, daily_budget=budget)
    engine = create_engine(settings.worker_dsn)
    try:
        assert subscription.prepare is not None
        step = await subscription.prepare(engine, event)
        assert step is not None
        async with user_transaction(engine, user) as db:
            await step(db, event)
            query = text("SELECT provider, fallback FROM results WHERE id = :id").bindparams(id=event.id)
            row = (await db.exec(query)).one()  # type: ignore[call-overload]
    finally:
        await engine.dispose()
    return row[0], row[1]


async def test_the_ai_job_calls_the_model_with_no_transaction_open(kit_settings: ServiceSettings, infra: Any) -> None:
    provider = RecordingProvider(infra.admin_dsn)
    assert await _run_job(kit_settings, _job(allowed=True), provider, budget=5) == ("recording", False)
    assert provider.open_transactions == [0]


async def test_the_tier_policy_and_the_budget_choose_the_offline_answer(
    kit_settings: ServiceSettings, infra: Any
) -> None:
    provider = RecordingProvider(infra.admin_dsn)
    assert await _run_job(kit_settings, _job(allowed=False), provider, budget=5) == ("offline", False)
    assert await _run_job(kit_settings, _job(allowed=True), provider, budget=0) == ("offline", True)
    assert provider.open_transactions == []  # neither reached the model
